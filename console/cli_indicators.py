"""``produzir indicators``: the programme's figures per programme, UF, hub or case.

Demands by state, people pre-registered / trained / certified, enterprises formed / legalised /
active at their last visit, members and monthly income, from :mod:`states.indicators` (the same
query layer the web console and the reports use). With ``--timeliness``, the figures of the
audit trail instead: the median days per stage and the deadlines met, missed and overdue now,
for the programme, per UF or per coordinator (:func:`states.indicators.cycle_times`,
:func:`states.indicators.deadline_results`), over the stays ended since ``--since`` (default:
the last twelve months). With ``--outcomes``, the outcomes of the participants' surveys
(:func:`states.outcomes.outcomes`: occupations created, income change, enterprises alive 12
months on, entry against ``--wave``; ``--by`` programme, sex, age_band, uf or module), groups of
fewer than 5 people suppressed. Registered in console/cli.py as the ``indicators`` command.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from console.common import Json, lang, out, parse_date, runtime
from console.output import as_json, echo, table
from notifications.i18n import tr
from states import indicators as figures
from states import outcomes as outcome_figures
from states.states import ALL
from states.surveys import LABELS as SURVEY_LABELS
from states.surveys import MIN_GROUP
from states.text import M_, N_
from tasks.runtime import Runtime

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
        case "module":
            return str(row["module_label"] or "(no module)")
        case "hub":
            if row["hub_municipality_code"] is None:
                return "(no hub yet)"
            return f"{row['hub']} ({row['hub_uf']})"
        case _:
            return f"{row['case_id']} {row['municipality']}/{row['uf']}"


def indicators(
    by: Annotated[
        str, typer.Option("--by", help="Group by: programme, uf, module, hub or case.")
    ] = "programme",
    uf: Annotated[
        str | None, typer.Option("--uf", help="Only the cases of this UF (e.g. CE).")
    ] = None,
    timeliness: Annotated[
        bool,
        typer.Option(
            "--timeliness",
            help="Instead: the median days per stage and the deadlines met, missed and overdue "
            "now (--by programme, uf or coordinator).",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="With --timeliness: the stays ended since this day (YYYY-MM-DD; default: "
            "a year ago).",
        ),
    ] = None,
    outcomes: Annotated[
        bool,
        typer.Option(
            "--outcomes",
            help="Instead: the outcomes of the participants' surveys (--by programme, sex, "
            "age_band, uf or module); groups of fewer than 5 people suppressed.",
        ),
    ] = False,
    wave: Annotated[
        str,
        typer.Option(
            "--wave",
            help="With --outcomes: the wave compared with entry (ecc_end, month_6, month_12).",
        ),
    ] = outcome_figures.DEFAULT_WAVE,
    as_json_: Json = False,
) -> None:
    """The programme's indicators: demands by state, people trained and certified, enterprises
    formed / legalised / active at their last visit, members, monthly income; with
    --timeliness, the time per stage and the deadlines met and missed; with --outcomes, the
    outcomes of the participants' surveys."""
    rt = runtime()
    if outcomes:
        _outcomes(rt, by, uf, wave, as_json_)
        return
    if timeliness:
        _timeliness(rt, by, uf, since, as_json_)
        return
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
    heading = {"programme": "", "uf": "UF", "module": "module", "hub": "hub", "case": "case"}[by]
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


def _timeliness(rt: Runtime, by: str, uf: str | None, since: str | None, as_json_: bool) -> None:
    today = rt.today()
    start = parse_date(since, "since") if since else figures.default_since(today)
    start_at = figures.period_start(start)
    with rt.db.read() as session:
        results = figures.deadline_results(session, by, today=today, uf=uf, since=start_at)
        times = figures.cycle_times(session, uf=uf, since=start_at)
    if as_json_:
        echo(
            as_json(
                {
                    "by": by,
                    "uf": uf.upper() if uf else None,
                    "since": start.isoformat(),
                    "cycle_times": [t.as_dict() for t in times.values()],
                    "deadlines": [r.as_dict() for r in results],
                }
            )
        )
        return
    language = lang()
    out(N_("time per stage: the median days of the stays ended since %(since)s", since=start))
    echo(
        table(
            [
                {"state": t.state, "days": f"{t.median_days:.1f}", "stays": t.stays}
                for t in times.values()
            ],
            [
                ("state", tr(language, "state")),
                ("days", tr(language, "median days")),
                ("stays", tr(language, "stays")),
            ],
        )
    )
    out(
        N_(
            "deadlines: met or missed by the stays ended since %(since)s, overdue now",
            since=start,
        )
    )
    heading = {"programme": "", "uf": "UF", "coordinator": tr(language, "coordinator")}[by]
    nobody = "PRODUZIR" if by == "programme" else tr(language, "no coordinator")
    rows = [{**r.as_dict(), "key": r.key or nobody} for r in results]
    echo(
        table(
            rows,
            [
                ("key", heading),
                ("met", tr(language, "met")),
                ("missed", tr(language, "missed")),
                ("overdue_now", tr(language, "overdue now")),
                ("total", tr(language, "total")),
            ],
        )
    )


#: the outcome table's columns: figure, heading (msgids)
OUTCOME_COLUMNS = [
    ("people", M_("people")),
    ("occupied_at_entry", M_("occupied at entry")),
    ("occupied_at_wave", M_("occupied at the wave")),
    ("occupations_created", M_("occupations created")),
    ("income_up", M_("income up")),
    ("income_same", M_("income same")),
    ("income_down", M_("income down")),
    ("enterprises_12m", M_("enterprises 12 months old")),
    ("enterprises_alive_12m", M_("alive at 12 months")),
]


#: the heading of the outcome rows' first column, by grouping (msgids)
OUTCOME_HEADINGS = {
    "sex": M_("sex"),
    "age_band": M_("age band"),
    "uf": "UF",
    "module": M_("module"),
}


def outcome_label(row: dict[str, Any], language: str) -> str:
    """What an outcome row is about, in ``language``."""
    match row["by"]:
        case "programme":
            return "PRODUZIR"
        case "uf":
            return str(row["uf"])
        case "module":
            return str(row["module_label"] or tr(language, M_("(no module)")))
        case key:
            return tr(language, SURVEY_LABELS.get(str(row[key]), str(row[key])))


def _outcomes(rt: Runtime, by: str, uf: str | None, wave: str, as_json_: bool) -> None:
    with rt.db.read() as session:
        rows = outcome_figures.outcomes(session, by, wave=wave, today=rt.today(), uf=uf)
    data = [row.as_dict() for row in rows]
    if as_json_:
        echo(
            as_json(
                {
                    "by": by,
                    "uf": uf.upper() if uf else None,
                    "wave": wave,
                    "min_group": MIN_GROUP,
                    "rows": data,
                }
            )
        )
        return
    language = lang()
    out(
        N_(
            "outcomes: entry against the %(wave)s survey; groups of fewer than %(min_group)s people suppressed",
            wave=wave,
            min_group=MIN_GROUP,
        )
    )
    hidden = tr(language, M_("suppressed"))
    shown = [
        {
            "label": outcome_label(row, language),
            **{key: (hidden if row["suppressed"] else row[key]) for key, _ in OUTCOME_COLUMNS},
        }
        for row in data
    ]
    heading = tr(language, OUTCOME_HEADINGS[by]) if by in OUTCOME_HEADINGS else ""
    echo(
        table(
            shown,
            [("label", heading), *((k, tr(language, h)) for k, h in OUTCOME_COLUMNS)],
        )
    )
