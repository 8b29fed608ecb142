"""``produzir survey``: the participants' baseline and outcome surveys (:mod:`tasks.surveys`).

``record`` one participant's answers to one wave (``--correct`` replaces a survey already
recorded), ``import`` a spreadsheet (CSV, UTF-8 or Windows-1252, or .xlsx) all or nothing,
``list`` a case's surveys by person number (every person shown is logged, with the purpose).
Each command that enters answers prints the survey's purpose (LGPD art. 6 III). The case's
coordinators (their territory) may run them; auditors read the outcome indicators only
(``produzir indicators --outcomes``). Registered in console/cli.py as the ``survey`` group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.common import By, Json, lang, one_of, out, runtime
from console.common import command_group as _group
from console.output import as_json, echo, table
from notifications.i18n import tr
from states.errors import InvalidInput
from states.surveys import INCOME_BANDS, PURPOSE, SEXES, WAVES, WORK_STATUSES
from states.text import M_, N_, Np_
from tasks import surveys

app = _group(
    "Participants' surveys at entry, the ECC's end, 6 and 12 months: record, import, list.",
    "survey",
)

CaseOption = Annotated[int, typer.Option("--case", help="The case number.")]
Correct = Annotated[
    bool,
    typer.Option(
        "--correct", help="Replace the answers of a survey of this wave already recorded."
    ),
]


@app.command("record")
def survey_record(
    case: CaseOption,
    person: Annotated[str, typer.Option("--person", help="The person's number or CPF.")],
    wave: Annotated[str, typer.Option(help=one_of(WAVES))],
    answered_on: Annotated[
        str, typer.Option("--answered-on", help="The day of the answers (YYYY-MM-DD).")
    ],
    work_status: Annotated[str, typer.Option("--work-status", help=one_of(WORK_STATUSES))],
    income_band: Annotated[
        str,
        typer.Option(
            "--income-band",
            help=one_of(INCOME_BANDS, M_("Monthly income in minimum wages, one of: %(values)s.")),
        ),
    ],
    sex: Annotated[str, typer.Option(help=one_of(SEXES))],
    birth_year: Annotated[str, typer.Option("--birth-year", help="The year of birth.")],
    household_size: Annotated[
        str, typer.Option("--household-size", help="People living in the household.")
    ],
    by: By,
    correct: Correct = False,
) -> None:
    """Record one participant's survey of one wave (the purpose is printed first)."""
    out(PURPOSE)
    result = surveys.record_survey(
        runtime(),
        case,
        person,
        {
            "wave": wave,
            "answered_on": answered_on,
            "work_status": work_status,
            "income_band": income_band,
            "sex": sex,
            "birth_year": birth_year,
            "household_size": household_size,
        },
        actor=by,
        correct=correct,
    )
    params = {
        "survey_id": result.survey_id,
        "person_id": result.person_id,
        "wave": result.wave,
        "case_id": case,
    }
    if result.corrected:
        out(
            N_(
                "survey %(survey_id)s corrected: person %(person_id)s, wave %(wave)s, case %(case_id)s",
                **params,
            )
        )
    else:
        out(
            N_(
                "survey %(survey_id)s recorded: person %(person_id)s, wave %(wave)s, case %(case_id)s",
                **params,
            )
        )


@app.command("import")
def survey_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8 or Windows-1252, `,` or `;`) or .xlsx: cpf (or person_id), wave, "
            "answered_on, work_status, income_band, sex, birth_year, household_size."
        ),
    ],
    case: CaseOption,
    by: By,
    correct: Correct = False,
) -> None:
    """Import a surveys spreadsheet into a case: all rows or none, every bad row named."""
    out(PURPOSE)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            N_("%(file)s: cannot be read (%(strerror)s)", file=file, strerror=exc.strerror),
            field="file",
        ) from None
    report = surveys.import_surveys(runtime(), data, case_id=case, actor=by, correct=correct)
    out(
        Np_(
            "case %(case_id)s: %(n)s survey recorded, %(corrected)s corrected",
            "case %(case_id)s: %(n)s surveys recorded, %(corrected)s corrected",
            report.recorded,
            case_id=case,
            corrected=report.corrected,
        )
    )


#: the list's columns: key, heading (msgids)
_COLUMNS = [
    ("person_id", M_("person")),
    ("wave", M_("wave")),
    ("answered_on", M_("answered on")),
    ("work_status", M_("work status")),
    ("income_band", M_("income band")),
    ("sex", M_("sex")),
    ("birth_year", M_("birth year")),
    ("household_size", M_("household")),
    ("corrected_by", M_("corrected by")),
]


@app.command("list")
def survey_list(
    case: CaseOption,
    by: By,
    purpose: Annotated[
        str, typer.Option(help="Why you read these answers (recorded in the access log).")
    ],
    as_json_: Json = False,
) -> None:
    """A case's surveys by person number; each person shown is logged (who, when, purpose)."""
    rows = surveys.list_surveys(runtime(), case, actor=by, purpose=purpose, channel="cli")
    if as_json_:
        echo(as_json(rows))
        return
    language = lang()
    echo(table(rows, [(key, tr(language, heading)) for key, heading in _COLUMNS]))
