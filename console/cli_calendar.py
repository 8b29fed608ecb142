"""``produzir calendar``: the working-day calendar deadlines are counted on.

``calendar add-holiday`` and ``calendar remove-holiday`` keep a municipality's own holidays (the
``holidays`` package knows only national and state ones); ``calendar add-closure`` and
``calendar remove-closure`` close or open the offices of a UF or municipality on a day (the
pontos facultativos that close them by default are ``PRODUZIR_OFFICE_CLOSURES``);
``calendar show`` lists a UF's year (and, with ``--municipality``, that municipality's holidays
too), the days the offices close, and the working days per month.
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import By, Json, command_group, out, parse_date, runtime
from console.output import as_json, echo, table
from states.text import N_, Np_
from tasks import calendar_ops

app = command_group("Working-day calendar: national, state and municipal holidays.", "calendar")

Municipality = Annotated[
    int, typer.Option("--municipality", help="IBGE code of the municipality (7 digits).")
]
Day = Annotated[str, typer.Option("--date", help="The holiday's date (YYYY-MM-DD).")]


@app.command("add-holiday")
def add_holiday(
    municipality: Municipality,
    day: Day,
    name: Annotated[str, typer.Option("--name", help="The holiday's name.")],
    by: By,
    as_json_: Json = False,
) -> None:
    """Add a municipal holiday (it counts for deadlines computed from now on)."""
    change = calendar_ops.add_holiday(
        runtime(), municipality, parse_date(day, "date"), name, actor=by
    )
    if as_json_:
        echo(
            as_json(
                {
                    "municipality_code": change.municipality_code,
                    "date": change.day.isoformat(),
                    "name": change.name,
                    "seq": change.seq,
                    "cases_due_that_day": change.cases_due_that_day,
                }
            )
        )
        return
    out(
        N_(
            "holiday %(day)s (%(name)s) added to municipality %(municipality_code)s",
            day=change.day,
            name=change.name,
            municipality_code=change.municipality_code,
        )
    )
    if change.cases_due_that_day:
        out(
            Np_(
                "note: %(n)s open case of this municipality is due on %(day)s; deadlines "
                "already set do not move",
                "note: %(n)s open cases of this municipality are due on %(day)s; deadlines "
                "already set do not move",
                change.cases_due_that_day,
                day=change.day,
            )
        )


@app.command("remove-holiday")
def remove_holiday(municipality: Municipality, day: Day, by: By) -> None:
    """Remove a municipal holiday (deadlines already set do not move)."""
    change = calendar_ops.remove_holiday(runtime(), municipality, parse_date(day, "date"), actor=by)
    out(
        N_(
            "holiday %(day)s (%(name)s) removed from municipality %(municipality_code)s",
            day=change.day,
            name=change.name,
            municipality_code=change.municipality_code,
        )
    )


ClosureUf = Annotated[
    str | None, typer.Option("--uf", help="The state (UF) whose offices it concerns, e.g. CE.")
]
ClosureMunicipality = Annotated[
    int | None,
    typer.Option("--municipality", help="Or the municipality whose offices it concerns (IBGE)."),
]
ClosureDay = Annotated[str, typer.Option("--date", help="The day (YYYY-MM-DD).")]


def _closure_json(change: calendar_ops.ClosureChange) -> str:
    return as_json(
        {
            "date": change.day.isoformat(),
            "scope": change.scope,
            "closed": change.closed,
            "name": change.name,
            "seq": change.seq,
            "cases_due_that_day": change.cases_due_that_day,
        }
    )


@app.command("add-closure")
def add_closure(
    day: ClosureDay,
    name: Annotated[str, typer.Option("--name", help="Why the offices close.")],
    by: By,
    uf: ClosureUf = None,
    municipality: ClosureMunicipality = None,
    as_json_: Json = False,
) -> None:
    """Close the offices of a UF or municipality on a day (e.g. a ponto facultativo adopted
    there): deadlines computed from now on do not end that day."""
    change = calendar_ops.add_closure(
        runtime(), parse_date(day, "date"), name, uf=uf, municipality=municipality, actor=by
    )
    if as_json_:
        echo(_closure_json(change))
        return
    out(
        N_(
            "the offices of %(place)s close on %(day)s (%(name)s)",
            place=change.scope.partition(":")[2],
            day=change.day,
            name=change.name,
        )
    )
    if change.cases_due_that_day:
        out(
            Np_(
                "note: %(n)s open case is due on %(day)s there; deadlines already set do not move",
                "note: %(n)s open cases are due on %(day)s there; deadlines already set do not "
                "move",
                change.cases_due_that_day,
                day=change.day,
            )
        )


@app.command("remove-closure")
def remove_closure(
    day: ClosureDay,
    by: By,
    uf: ClosureUf = None,
    municipality: ClosureMunicipality = None,
    as_json_: Json = False,
) -> None:
    """The offices of a UF or municipality open on a day they were closed (an administrator's
    closure, or a ponto facultativo the configuration closes them on)."""
    change = calendar_ops.remove_closure(
        runtime(), parse_date(day, "date"), uf=uf, municipality=municipality, actor=by
    )
    if as_json_:
        echo(_closure_json(change))
        return
    out(
        N_(
            "the offices of %(place)s open on %(day)s (%(name)s)",
            place=change.scope.partition(":")[2],
            day=change.day,
            name=change.name,
        )
    )


@app.command("show")
def show(
    uf: Annotated[str, typer.Option("--uf", help="The state (UF), e.g. CE.")],
    year: Annotated[int, typer.Option("--year", help="The year, e.g. 2026.")],
    municipality: Annotated[
        int | None,
        typer.Option("--municipality", help="Also this municipality's own holidays (IBGE code)."),
    ] = None,
    as_json_: Json = False,
) -> None:
    """A year's holidays (national, state, municipal), the days the offices close, and working
    days per month."""
    listing = calendar_ops.calendar_listing(runtime(), uf, year, municipality)
    if as_json_:
        echo(as_json(listing))
        return
    place = listing["municipality"]
    where = f"{place['name']} ({place['code']}), {listing['uf']}" if place else listing["uf"]
    out(N_("calendar of %(place)s, %(year)s", place=where, year=listing["year"]))
    echo("")
    echo(
        table(
            listing["holidays"],
            [("date", "date"), ("weekday", "day"), ("scope", "scope"), ("name", "holiday")],
        )
    )
    echo("")
    echo(table(listing["months"], [("month", "month"), ("working_days", "working days")]))
    out(
        Np_(
            "%(n)s working day in %(year)s",
            "%(n)s working days in %(year)s",
            listing["working_days"],
            year=listing["year"],
        )
    )
