"""``produzir calendar``: the working-day calendar deadlines are counted on.

``calendar add-holiday`` and ``calendar remove-holiday`` keep a municipality's own holidays (the
``holidays`` package knows only national and state ones); ``calendar show`` lists a UF's year
(and, with ``--municipality``, that municipality's holidays too) and the working days per month.
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import By, Json, command_group, parse_date, runtime
from console.output import as_json, echo, table
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
    echo(f"holiday {change.day} ({change.name}) added to municipality {change.municipality_code}")
    if change.cases_due_that_day:
        echo(
            f"note: {change.cases_due_that_day} open case(s) of this municipality are due on "
            f"{change.day}; deadlines already set do not move"
        )


@app.command("remove-holiday")
def remove_holiday(municipality: Municipality, day: Day, by: By) -> None:
    """Remove a municipal holiday (deadlines already set do not move)."""
    change = calendar_ops.remove_holiday(runtime(), municipality, parse_date(day, "date"), actor=by)
    echo(
        f"holiday {change.day} ({change.name}) removed from municipality {change.municipality_code}"
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
    """A year's holidays (national, state, municipal) and working days per month."""
    listing = calendar_ops.calendar_listing(runtime(), uf, year, municipality)
    if as_json_:
        echo(as_json(listing))
        return
    place = listing["municipality"]
    where = f"{place['name']} ({place['code']}), {listing['uf']}" if place else listing["uf"]
    echo(f"calendar of {where}, {listing['year']}\n")
    echo(
        table(
            listing["holidays"],
            [("date", "date"), ("weekday", "day"), ("scope", "scope"), ("name", "holiday")],
        )
    )
    echo("")
    echo(table(listing["months"], [("month", "month"), ("working_days", "working days")]))
    echo(f"{listing['working_days']} working days in {listing['year']}")
