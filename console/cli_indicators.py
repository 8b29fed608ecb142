"""``produzir indicators``: the programme's figures per programme, UF, hub or case.

Demands by state, people pre-registered / trained / certified, enterprises formed / legalised /
active at their last visit, members and monthly income, from :mod:`states.indicators` (the same
query layer the web console and the reports use). Registered in console/cli.py as the
``indicators`` command.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from console.common import Json, runtime
from console.output import as_json, echo, table
from states import indicators as figures
from states.states import ALL

_COLUMNS = [
    ("cases", "cases"),
    ("people_preregistered", "pre-registered"),
    ("people_trained", "trained"),
    ("people_certified", "certified"),
    ("enterprises_formed", "enterprises"),
    ("enterprises_legalised", "with CNPJ"),
    ("enterprises_active", "active"),
    ("enterprises_inactive", "inactive"),
    ("members", "members"),
    ("monthly_income", "income/month (R$)"),
]


def _label(row: dict[str, Any], uf: str | None) -> str:
    match row["level"]:
        case "programme":
            return f"PRODUZIR ({uf.upper()})" if uf else "PRODUZIR"
        case "uf":
            return str(row["uf"])
        case "hub":
            if row["hub_municipality_code"] is None:
                return "(no hub yet)"
            return f"{row['hub']} ({row['hub_uf']})"
        case _:
            return f"{row['case_id']} {row['municipality']}/{row['uf']}"


def indicators(
    by: Annotated[
        str, typer.Option("--by", help="Group by: programme, uf, hub or case.")
    ] = "programme",
    uf: Annotated[
        str | None, typer.Option("--uf", help="Only the cases of this UF (e.g. CE).")
    ] = None,
    as_json_: Json = False,
) -> None:
    """The programme's indicators: demands by state, people trained and certified, enterprises
    formed / legalised / active at their last visit, members, monthly income."""
    rt = runtime()
    with rt.db.read() as session:
        rows = figures.indicators(
            session, by, min_attendance=rt.lifecycle.config.thresholds.min_attendance, uf=uf
        )
    data = [row.as_dict() for row in rows]
    if as_json_:
        echo(as_json({"by": by, "uf": uf.upper() if uf else None, "rows": data}))
        return
    for row in data:
        row["label"] = _label(row, uf)
    heading = {"programme": "", "uf": "UF", "hub": "hub", "case": "case"}[by]
    if by == "case":  # one case a row: its state instead of a count of cases
        columns = [("label", heading), ("state", "state"), *_COLUMNS[1:]]
    else:
        columns = [("label", heading), *_COLUMNS]
    echo(table(data, columns))
    if by != "case":
        totals = {s.value: sum(r["by_state"][s.value] for r in data) for s in ALL}
        echo(
            "demands by state: "
            + (", ".join(f"{state} {n}" for state, n in totals.items() if n) or "none")
        )
