"""``produzir demand``: a community's demand, registered as a new case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, read_json_file, runtime
from console.common import out as say
from console.output import as_json, echo
from states.text import N_
from tasks.demands import DemandInput, register_demand

app = command_group("Community demands.", "demand")


@app.command("register")
def demand_register(
    by: By,
    municipality: Annotated[
        int | None, typer.Option(help="IBGE code of the municipality (7 digits).")
    ] = None,
    community: Annotated[str | None, typer.Option(help="The community.")] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            help="Where the demand was raised: forum (the default, preferred), conselho, "
            "associacao, sindicato, movimento_social or outro."
        ),
    ] = None,
    forum: Annotated[
        str | None, typer.Option(help="The development forum, or the other channel's name.")
    ] = None,
    forum_date: Annotated[
        str | None, typer.Option(help="When the forum was held (YYYY-MM-DD).")
    ] = None,
    activity: Annotated[str | None, typer.Option(help="The productive activity.")] = None,
    proponent: Annotated[str | None, typer.Option(help="The proponent organisation.")] = None,
    cnpj: Annotated[str | None, typer.Option(help="The proponent's CNPJ.")] = None,
    description: Annotated[str | None, typer.Option(help="What the community asks.")] = None,
    coordinator: Annotated[str | None, typer.Option(help="Coordinator to assign.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="The demand as a JSON object instead.")
    ] = None,
    as_json_: Json = False,
) -> None:
    """Register a community's demand: a new case in `registrada`."""
    raw: dict[str, Any] = read_json_file(file, "demand file") if file else {}
    given = {
        "municipality_code": municipality,
        "community": community,
        "demand_channel": channel,
        "forum": forum,
        "forum_held_on": forum_date,
        "activity": activity,
        "proponent": proponent,
        "proponent_cnpj": cnpj,
        "description": description,
        "coordinator": coordinator,
    }
    raw.update({k: v for k, v in given.items() if v is not None})
    demand = DemandInput.parse(raw)
    rt = runtime()
    result = register_demand(rt, demand, actor=by)
    if as_json_:
        echo(as_json(result.__dict__))
    else:
        say(
            N_(
                "case %(case_id)s registered: %(state)s, due %(due_on)s",
                case_id=result.case_id,
                state=result.state,
                due_on=result.due_on,
            )
        )
