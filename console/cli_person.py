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
from pathlib import Path
from typing import Annotated, Any

import typer

from console.common import By, Json, _app, runtime
from console.output import as_json, echo, fields, table
from states.errors import InvalidInput
from states.text import N_
from tasks import people

app = _app("Participants: register, read (logged), report, import and export (pseudonymised).")

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
    echo(f"Data held on person {report['person']['id']}")
    echo(f"generated {report['generated_at']} by {report['generated_by']}\n")
    echo(fields(report["person"]))
    sections: list[tuple[str, str, list[tuple[str, str]]]] = [
        (
            "cases",
            "Cases (pre-registrations)",
            [
                ("case_id", "case"),
                ("state", "state"),
                ("community", "community"),
                ("municipality", "municipality"),
                ("uf", "UF"),
                ("registered_on", "since"),
                ("registered_by", "by"),
            ],
        ),
        (
            "enrolments",
            "Training events",
            [
                ("event_id", "event"),
                ("kind", "kind"),
                ("title", "title"),
                ("start_on", "from"),
                ("end_on", "to"),
                ("held_on", "held"),
                ("certification", "certification"),
                ("days_attended", "days attended"),
                ("event_days", "of"),
            ],
        ),
        (
            "memberships",
            "Enterprises",
            [
                ("enterprise_id", "enterprise"),
                ("name", "name"),
                ("case_id", "case"),
                ("legal_form", "legal form"),
            ],
        ),
        (
            "history",
            "Changes to the record",
            [
                ("occurred_at", "when (UTC)"),
                ("event", "event"),
                ("actor", "by"),
                ("case_id", "case"),
            ],
        ),
        (
            "access_log",
            "Who read this person's data",
            [
                ("at", "when (UTC)"),
                ("actor", "who"),
                ("purpose", "purpose"),
                ("channel", "channel"),
            ],
        ),
    ]
    for key, title, columns in sections:
        rows: list[dict[str, Any]] = report[key]
        echo(f"\n{title}")
        echo(table(rows, columns) if rows else "  (none)")


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
    report = people.import_participants(runtime(), text, case_id=case, actor=by)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    echo(
        f"case {report.case_id}: {report.created} people created, {report.existing} existing, "
        f"{report.preregistered} pre-registered"
    )


def _cell(value: object) -> object:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


@app.command("export")
def person_export(
    by: By,
    case: Annotated[int | None, typer.Option("--case", help="Only this case's people.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the CSV to this file (default: stdout).")
    ] = None,
) -> None:
    """Participants for partners as CSV, CPF and name replaced by a keyed pseudonym
    (PRODUZIR_PSEUDONYM_KEY); lists inside a cell are separated by spaces."""
    if out is not None and not out.parent.is_dir():
        raise InvalidInput(
            N_("%(out)s: folder %(parent)s does not exist", out=out, parent=out.parent), field="out"
        )
    rows = people.export_participants(runtime(), case_id=case, actor=by)
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
    echo(f"{len(rows)} participants exported to {out}")


@app.command("preregister")
def person_preregister(
    case_id: Annotated[int, typer.Argument(help="The case number.")],
    person_id: Annotated[int, typer.Argument(help="The person's number.")],
    by: By,
) -> None:
    """Pre-register a registered person in a case (mobilisation)."""
    on = people.preregister(runtime(), case_id, person_id, actor=by)
    echo(f"person {person_id} pre-registered in case {case_id} on {on}")
