"""``produzir person``: participants, and what the LGPD asks of their data.

Every command that prints a person's data writes an access record (who, when, which person,
why, through which channel); the export for partners prints pseudonyms instead of CPFs and
names (key from ``PRODUZIR_PSEUDONYM_KEY``). Registered in console/cli.py as the ``person``
group.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from console import csv_cells
from console.common import By, Json, command_group, lang, out, runtime
from console.common import out as say
from console.output import as_json, echo, fields, table
from console.progress import progress_bar
from notifications.i18n import tr
from states.errors import InvalidInput
from states.surveys import PURPOSE as SURVEY_PURPOSE
from states.text import M_, N_, Np_
from tasks import people, person_rights

app = command_group(
    "Participants: register, read (logged), report, import and export (pseudonymised).", "person"
)

Case = Annotated[
    int | None, typer.Option("--case", help="Also pre-register the person in this case.")
]


@app.command("add")
def person_add(
    by: By,
    cpf: Annotated[str, typer.Option(help="The CPF (11 digits, punctuation allowed).")],
    name: Annotated[str, typer.Option(help="Full name.")],
    community: Annotated[str, typer.Option(help="The community the person lives in.")],
    municipality: Annotated[int, typer.Option(help="IBGE code of the municipality (7 digits).")],
    phone: Annotated[str | None, typer.Option(help="A phone number (10 to 13 digits).")] = None,
    email: Annotated[str | None, typer.Option(help="An e-mail address.")] = None,
    case: Case = None,
) -> None:
    """Register a participant (a CPF already registered is refused, naming the person)."""
    raw: dict[str, object] = {
        "cpf": cpf,
        "name": name,
        "community": community,
        "municipality_code": municipality,
        "phone": phone,
        "email": email,
    }
    result = people.register_person(runtime(), raw, actor=by, case_id=case)
    echo(
        f"person {result.person_id} registered"
        + (f" and pre-registered in case {case}" if case is not None else "")
    )


@app.command("show")
def person_show(
    person: Annotated[str, typer.Argument(help="The person's number or CPF.")],
    by: By,
    purpose: Annotated[
        str, typer.Option(help="Why you read this person's data (recorded in the access log).")
    ],
    as_json_: Json = False,
) -> None:
    """A person's data; the access is logged (who, when, purpose)."""
    record = people.read_person(runtime(), person, actor=by, purpose=purpose, channel="cli")
    echo(as_json(record) if as_json_ else fields(record))


@app.command("report")
def person_report(
    cpf: Annotated[str, typer.Argument(help="The CPF of the data subject.")],
    by: By,
    purpose: Annotated[
        str, typer.Option(help="Why the report is made (recorded in the access log).")
    ] = "data-subject request",
    as_json_: Json = False,
) -> None:
    """Everything held on a person and who read it (the LGPD data-subject statement)."""
    report = people.data_subject_report(runtime(), cpf, actor=by, purpose=purpose)
    if as_json_:
        echo(as_json(report))
        return
    language = lang()
    person = report["person"]
    out(N_("Data held on person %(id)s", id=person["id"]))
    out(
        N_(
            "generated %(when)s by %(who)s",
            when=datetime.fromisoformat(report["generated_at"]),
            who=report["generated_by"],
        )
    )
    echo("")
    labelled = {
        translate_label(PERSON_FIELDS.get(k, k), language): (cpf_text(v) if k == "cpf" else v)
        for k, v in person.items()
    }
    echo(fields(labelled))
    for key, title, columns in STATEMENT_SECTIONS:
        rows: list[dict[str, Any]] = report[key]
        echo("\n" + translate_label(title, language))
        headings = [(k, translate_label(h, language)) for k, h in columns]
        echo(table(rows, headings) if rows else "  " + translate_label(M_("(none)"), language))
        if key == "surveys":
            out(SURVEY_PURPOSE)


#: the data-subject statement's fields of the person (msgids)
PERSON_FIELDS = {
    "id": M_("person number"),
    "cpf": M_("CPF"),
    "name": M_("name"),
    "phone": M_("phone"),
    "email": M_("e-mail"),
    "community": M_("community"),
    "municipality_code": M_("municipality (IBGE code)"),
    "municipality": M_("municipality"),
    "uf": M_("UF"),
    "created_at": M_("registered at (UTC)"),
    "created_by": M_("registered by"),
    "anonymised_at": M_("anonymised at (UTC)"),
}
#: its sections: report key, title, (column, heading) — msgids
STATEMENT_SECTIONS: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "cases",
        M_("Cases (pre-registrations)"),
        [
            ("case_id", M_("case")),
            ("state", M_("state")),
            ("community", M_("community")),
            ("municipality", M_("municipality")),
            ("uf", M_("UF")),
            ("registered_on", M_("since")),
            ("registered_by", M_("by")),
        ],
    ),
    (
        "enrolments",
        M_("Training events"),
        [
            ("event_id", M_("event")),
            ("kind", M_("kind")),
            ("title", M_("title")),
            ("start_on", M_("from")),
            ("end_on", M_("to")),
            ("held_on", M_("held")),
            ("certification", M_("certification")),
            ("days_attended", M_("days attended")),
            ("event_days", M_("of")),
        ],
    ),
    (
        "memberships",
        M_("Enterprises"),
        [
            ("enterprise_id", M_("enterprise")),
            ("name", M_("name")),
            ("case_id", M_("case")),
            ("legal_form", M_("legal form")),
            ("left_on", M_("left on")),
        ],
    ),
    (
        "surveys",
        M_("Surveys (baseline and outcomes)"),
        [
            ("case_id", M_("case")),
            ("wave", M_("wave")),
            ("answered_on", M_("answered on")),
            ("work_status", M_("work status")),
            ("income_band", M_("income band")),
            ("sex", M_("sex")),
            ("birth_year", M_("birth year")),
            ("household_size", M_("household")),
        ],
    ),
    (
        "history",
        M_("Changes to the record"),
        [
            ("occurred_at", M_("when (UTC)")),
            ("event", M_("event")),
            ("actor", M_("by")),
            ("case_id", M_("case")),
        ],
    ),
    (
        "shared_with",
        M_("Shared with (exports for partners)"),
        [
            ("export_id", M_("export")),
            ("at", M_("when (UTC)")),
            ("recipient", M_("partner")),
            ("case_id", M_("case")),
            ("by", M_("by")),
        ],
    ),
    (
        "requests",
        M_("Requests of the data subject"),
        [
            ("request_id", M_("request")),
            ("kind", M_("kind")),
            ("received_on", M_("received")),
            ("due_on", M_("due")),
            ("answered_on", M_("answered")),
        ],
    ),
    (
        "incidents",
        M_("Security incidents affecting the data"),
        [
            ("incident_id", M_("incident")),
            ("known_on", M_("known")),
            ("data_affected", M_("data")),
            ("people_notified_on", M_("notified")),
        ],
    ),
    (
        "access_log",
        M_("Who read this person's data"),
        [
            ("at", M_("when (UTC)")),
            ("actor", M_("who")),
            ("purpose", M_("purpose")),
            ("channel", M_("channel")),
        ],
    ),
]


def translate_label(msgid: str, language: str) -> str:
    return tr(language, msgid)


def cpf_text(value: Any) -> str:
    """A CPF formatted and masked, as LGPD practice shows it: ***.456.789-**."""
    digits = "".join(ch for ch in str(value) if ch.isdigit())
    if len(digits) != 11:
        return str(value)
    return f"***.{digits[3:6]}.{digits[6:9]}-**"


@app.command("import")
def person_import(
    file: Annotated[Path, typer.Argument(help="CSV: cpf,name,community,municipality_code[,...]")],
    case: Annotated[int, typer.Option("--case", help="Pre-register everyone in this case.")],
    by: By,
) -> None:
    """Import a participants spreadsheet (CSV, `,` or `;`): all rows or none."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            N_("%(file)s: cannot be read (%(strerror)s)", file=file, strerror=exc.strerror),
            field="file",
        ) from None
    text = people.decode_csv(data, str(file))
    rt = runtime()
    with progress_bar(N_("importing the participants")):  # one transaction: no count
        report = people.import_participants(rt, text, case_id=case, actor=by)
    for warning in report.warnings:
        out(N_("warning: %(warning)s", warning=warning), err=True)
    echo(
        f"case {report.case_id}: {report.created} people created, {report.existing} existing, "
        f"{report.preregistered} pre-registered"
    )


def _cell(value: object) -> object:
    if isinstance(value, list):
        return csv_cells.neutralise(" ".join(str(v) for v in value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return csv_cells.cell(value)


@app.command("export")
def person_export(
    by: By,
    case: Annotated[int | None, typer.Option("--case", help="Only this case's people.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the CSV to this file (default: stdout).")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The partner it is for (recorded with the people it carries, LGPD art. 18 VII).",
        ),
    ] = None,
) -> None:
    """Participants for partners as CSV, CPF and name replaced by a keyed pseudonym
    (PRODUZIR_PSEUDONYM_KEY); lists inside a cell are separated by spaces."""
    if out is not None and not out.parent.is_dir():
        raise InvalidInput(
            N_("%(out)s: folder %(parent)s does not exist", out=out, parent=out.parent), field="out"
        )
    rows = people.export_participants(runtime(), case_id=case, actor=by, recipient=to)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(people.EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in people.EXPORT_COLUMNS])
    if out is None:
        sys.stdout.write(buffer.getvalue())
        return
    try:
        out.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            N_("%(out)s: cannot be written (%(strerror)s)", out=out, strerror=exc.strerror),
            field="out",
        ) from None
    say(
        Np_(
            "%(n)s participant exported to %(file)s",
            "%(n)s participants exported to %(file)s",
            len(rows),
            file=str(out),
        )
    )


@app.command("preregister")
def person_preregister(
    case_id: Annotated[int, typer.Argument(help="The case number.")],
    person_id: Annotated[int, typer.Argument(help="The person's number.")],
    by: By,
) -> None:
    """Pre-register a registered person in a case (mobilisation)."""
    on = people.preregister(runtime(), case_id, person_id, actor=by)
    say(
        N_(
            "person %(person_id)s pre-registered in case %(case_id)s on %(day)s",
            person_id=person_id,
            case_id=case_id,
            day=on,
        )
    )


@app.command("rectify")
def person_rectify(
    person: Annotated[int, typer.Argument(help="The person's number.")],
    by: By,
    cpf: Annotated[str | None, typer.Option(help="The corrected CPF.")] = None,
    name: Annotated[str | None, typer.Option(help="The corrected full name.")] = None,
    phone: Annotated[
        str | None, typer.Option(help="The corrected phone (an empty value removes it).")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="The corrected e-mail (an empty value removes it).")
    ] = None,
    community: Annotated[str | None, typer.Option(help="The corrected community.")] = None,
    municipality: Annotated[
        int | None, typer.Option(help="The corrected IBGE code of the municipality.")
    ] = None,
) -> None:
    """Correct a person's record (LGPD art. 18 III); the history names the fields only."""
    given = {
        "cpf": cpf,
        "name": name,
        "phone": phone,
        "email": email,
        "community": community,
        "municipality_code": municipality,
    }
    raw: dict[str, object] = {k: v for k, v in given.items() if v is not None}
    for contact in ("phone", "email"):
        if raw.get(contact) == "":
            raw[contact] = None
    changed = person_rights.rectify_person(runtime(), person, raw, actor=by)
    out(
        N_(
            "person %(id)s corrected: %(fields)s",
            id=person,
            fields=", ".join(changed),
        )
    )


@app.command("anonymise")
def person_anonymise(
    person: Annotated[int, typer.Argument(help="The person's number.")],
    by: By,
    ground: Annotated[
        str,
        typer.Option(
            help="Why it is lawful (LGPD art. 18): unnecessary (IV: data unnecessary, excessive "
            "or unlawfully processed) or consent_withdrawn (VI: erasure of data processed with "
            "consent)."
        ),
    ],
    request: Annotated[
        int | None, typer.Option(help="The data subject's request it answers.")
    ] = None,
) -> None:
    """Anonymise a person: name, CPF, contact and community removed; the number stays."""
    person_rights.anonymise_person(runtime(), person, ground=ground, request_id=request, actor=by)
    out(N_("person %(id)s anonymised", id=person))
