"""``produzir event``: training events (ECC, Oficina de Gestão, ECM).

Plan an event for the cases it serves (its instructors chosen from the staff roster by
number), enrol people (an ECM: staff members, ``enrol-staff``/``attend-staff``), record
attendance by hand or from a coordinator's CSV sheet, and complete it: an ECC's completion advances every case it served
that awaits it, one transaction per case, and prints what happened to each. People appear by
their record id only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, lang, out, parse_date, runtime
from console.output import as_json, echo, fields, table
from console.progress import progress_bar
from notifications.catalog import tr
from states.errors import InvalidInput
from states.text import M_, N_, Np_, Text
from tasks import trainings

app = command_group("Training events: ECC, Oficina de Gestão, ECM.", "event")

EventId = Annotated[int, typer.Argument(help="The event number.")]


@app.command("create")
def event_create(
    by: By,
    kind: Annotated[str, typer.Option(help="ecc, oficina or ecm.")],
    title: Annotated[str, typer.Option(help="The event's title.")],
    start: Annotated[str, typer.Option(help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last day (YYYY-MM-DD).")],
    venue: Annotated[str, typer.Option(help="Where it takes place.")],
    municipality: Annotated[int, typer.Option(help="IBGE code of the venue's municipality.")],
    instructor: Annotated[
        list[int],
        typer.Option(
            "--instructor",
            help="An instructor: a staff member's number on the roster (repeat for each).",
        ),
    ],
    capacity: Annotated[int, typer.Option(help="How many people can enrol.")],
    case: Annotated[
        list[int] | None, typer.Option("--case", help="A case it serves (repeat for each).")
    ] = None,
    weekdays: Annotated[
        str | None,
        typer.Option(
            "--weekdays",
            help="The days of the week it meets: mon-fri, seg-sex, mon,wed,fri or 1-5 "
            "(1 Monday ... 7 Sunday). Without it or --session-day: every day.",
        ),
    ] = None,
    skip: Annotated[
        list[str] | None,
        typer.Option("--skip", help="A day of the pattern it does not meet (repeat for each)."),
    ] = None,
    session_day: Annotated[
        list[str] | None,
        typer.Option(
            "--session-day", help="A day it meets, instead of --weekdays (repeat for each)."
        ),
    ] = None,
    as_json_: Json = False,
) -> None:
    """Plan a training event; prints its number.

    Its session days (the days it meets; attendance is recorded only on them, and an ECC's
    attendance share is of them) are a weekly pattern with exceptions (--weekdays, --skip) or a
    list (--session-day)."""
    event_id = trainings.create_event(
        runtime(),
        {
            "kind": kind,
            "title": title,
            "start_on": parse_date(start, "--start"),
            "end_on": parse_date(end, "--end"),
            "venue": venue,
            "municipality_code": municipality,
            "instructor_ids": instructor,
            "capacity": capacity,
            "case_ids": case or [],
            "weekdays": parse_weekdays(weekdays) if weekdays is not None else None,
            "skip_days": [parse_date(d, "--skip") for d in skip or []],
            "session_days": (
                [parse_date(d, "--session-day") for d in session_day] if session_day else None
            ),
        },
        actor=by,
    )
    if as_json_:
        echo(as_json({"event_id": event_id}))
        return
    params = {
        "event_id": event_id,
        "kind": kind,
        "start": parse_date(start, "--start"),
        "end": parse_date(end, "--end"),
    }
    if case:
        out(
            Np_(
                "event %(event_id)s planned: %(kind)s %(start)s to %(end)s, serves case %(cases)s",
                "event %(event_id)s planned: %(kind)s %(start)s to %(end)s, serves cases %(cases)s",
                len(case),
                cases=", ".join(map(str, case)),
                **params,
            )
        )
    else:
        out(N_("event %(event_id)s planned: %(kind)s %(start)s to %(end)s", **params))


_WEEKDAY_NAMES = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 1)},
    **{name: i for i, name in enumerate(("seg", "ter", "qua", "qui", "sex", "sab", "dom"), 1)},
    "sáb": 6,
}


def _weekday(text: str) -> int:
    name = text.strip().lower()[:3]
    if name.isdigit() and 1 <= int(name) <= 7:
        return int(name)
    if name in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES[name]
    raise InvalidInput(
        N_(
            "--weekdays: %(value)s is not a day of the week (mon ... sun, seg ... dom, 1 ... 7)",
            value=repr(text),
        ),
        field="weekdays",
    )


def parse_weekdays(text: str) -> list[int]:
    """``mon-fri``, ``seg-sex``, ``mon,wed,fri`` or ``1-5`` as ISO weekday numbers."""
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        low = _weekday(first)
        high = _weekday(last) if last else low
        days.extend(range(low, high + 1) if low <= high else [*range(low, 8), *range(1, high + 1)])
    return sorted(set(days))


@app.command("link")
def event_link(
    event_id: EventId,
    case_id: Annotated[int, typer.Argument(help="The case it serves too.")],
    by: By,
) -> None:
    """Make the event serve one more case."""
    trainings.link_case(runtime(), event_id, case_id, actor=by)
    out(N_("event %(event_id)s serves case %(case_id)s", event_id=event_id, case_id=case_id))


@app.command("enrol")
def event_enrol(
    event_id: EventId,
    person_ids: Annotated[list[int], typer.Argument(help="Person numbers.", metavar="PERSON...")],
    by: By,
    no_certification: Annotated[
        bool,
        typer.Option("--no-certification", help="Enrol them without seeking a certificate."),
    ] = False,
) -> None:
    """Enrol people in the event (all of them or none)."""
    certification = not no_certification
    count = trainings.enrol(runtime(), event_id, person_ids, actor=by, certification=certification)
    out(
        Np_(
            "event %(event_id)s: %(n)s enrolled for certification",
            "event %(event_id)s: %(n)s enrolled for certification",
            count,
            event_id=event_id,
        )
        if certification
        else Np_(
            "event %(event_id)s: %(n)s enrolled without certification",
            "event %(event_id)s: %(n)s enrolled without certification",
            count,
            event_id=event_id,
        )
    )


@app.command("enrol-staff")
def event_enrol_staff(
    event_id: EventId,
    staff_ids: Annotated[
        list[int], typer.Argument(help="Staff member numbers.", metavar="STAFF...")
    ],
    by: By,
    no_certification: Annotated[
        bool,
        typer.Option("--no-certification", help="Enrol them without seeking a certificate."),
    ] = False,
) -> None:
    """Enrol staff members in an ECM (all of them or none); an ECM trains the programme's
    staff and multipliers, never the community's participants."""
    certification = not no_certification
    count = trainings.enrol_staff(
        runtime(), event_id, staff_ids, actor=by, certification=certification
    )
    out(
        Np_(
            "event %(event_id)s: %(n)s staff member enrolled",
            "event %(event_id)s: %(n)s staff members enrolled",
            count,
            event_id=event_id,
        )
    )


@app.command("attend-staff")
def event_attend_staff(
    event_id: EventId,
    staff_id: Annotated[int, typer.Argument(help="The staff member's number.", metavar="STAFF")],
    by: By,
    day: Annotated[
        list[str], typer.Option("--day", help="A day present (YYYY-MM-DD); repeat for each.")
    ],
) -> None:
    """Record the days a staff member attended an ECM."""
    days = [parse_date(d, "--day") for d in day]
    added = trainings.record_staff_attendance(runtime(), event_id, staff_id, days, actor=by)
    out(
        Np_(
            "event %(event_id)s: staff member %(staff_id)s: %(n)s day recorded",
            "event %(event_id)s: staff member %(staff_id)s: %(n)s days recorded",
            added,
            event_id=event_id,
            staff_id=staff_id,
        )
    )


@app.command("attend")
def event_attend(
    event_id: EventId,
    person_id: Annotated[int, typer.Argument(help="The person number.", metavar="PERSON")],
    by: By,
    day: Annotated[
        list[str], typer.Option("--day", help="A day present (YYYY-MM-DD); repeat for each.")
    ],
) -> None:
    """Record the days a person attended."""
    days = [parse_date(d, "--day") for d in day]
    added = trainings.record_attendance(runtime(), event_id, person_id, days, actor=by)
    already = len(set(days)) - added
    note = (
        Np_(" (%(n)s already recorded)", " (%(n)s already recorded)", already)
        if already
        else Text("", {})
    )
    out(
        Np_(
            "event %(event_id)s: person %(person_id)s: %(n)s day recorded%(note)s",
            "event %(event_id)s: person %(person_id)s: %(n)s days recorded%(note)s",
            added,
            event_id=event_id,
            person_id=person_id,
            note=note,
        )
    )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            N_("%(path)s: cannot be read (%(strerror)s)", path=path, strerror=exc.strerror),
            field="file",
        ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")  # a spreadsheet saved as "CSV (Windows)"


@app.command("import-attendance")
def event_import_attendance(
    event_id: EventId,
    file: Annotated[Path, typer.Argument(help="The attendance sheet (CSV).")],
    by: By,
    as_json_: Json = False,
) -> None:
    """Record an attendance sheet (CSV): all rows, or none if one is wrong.

    Either `cpf,day` rows, or `cpf` then one column per date (x/1/P present; empty/0/F absent);
    `,` or `;`; each bad row is listed with its line number. An ECM's sheet has a `staff`
    column (the staff member's number) instead of `cpf`."""
    rt, text = runtime(), _read_text(file)
    with progress_bar(N_("importing the attendance sheet")):  # one transaction: no count
        result = trainings.import_attendance(rt, event_id, text, actor=by)
    if as_json_:
        echo(as_json(result.__dict__))
        return
    echo(
        f"event {event_id}: {result.rows} rows ({result.shape} sheet) read from {file.name}: "
        f"{result.people} people, {result.added} person-days recorded"
        f" ({result.already} already recorded)"
    )


@app.command("complete")
def event_complete(event_id: EventId, by: By, as_json_: Json = False) -> None:
    """Record the event as held; an ECC advances every case it served that awaits it.

    Exit 0 when the event is recorded, even if some cases were refused (each is listed with the
    reason); exit 4 when the event itself cannot be completed."""
    report = trainings.complete_event(runtime(), event_id, actor=by)
    if as_json_:
        echo(
            as_json(
                {
                    "event_id": report.event_id,
                    "held_on": report.held_on,
                    "cases": [o.__dict__ for o in report.outcomes],
                }
            )
        )
        return
    out(N_("event %(event_id)s recorded as held on %(day)s", event_id=event_id, day=report.held_on))
    for o in report.outcomes:
        out(
            N_(
                "case %(case_id)s: %(result)s: %(why)s",
                case_id=o.case_id,
                result=tr(lang(), _RESULTS[o.result]),
                why=o.reason or o.detail,
            )
        )
    if report.outcomes:
        counts = {r: sum(1 for o in report.outcomes if o.result == r) for r in _RESULTS}
        out(
            N_(
                "%(moved)s moved, %(refused)s refused, %(skipped)s skipped",
                moved=counts["moved"],
                refused=counts["refused"],
                skipped=counts["skipped"],
            )
        )


#: what happened to each case an event served (the codes of trainings.complete_event)
_RESULTS = {"moved": M_("moved"), "refused": M_("refused"), "skipped": M_("skipped")}


@app.command("show")
def event_show(event_id: EventId, as_json_: Json = False) -> None:
    """The event, the cases it serves, attendance per day and per person (by number)."""
    rt = runtime()
    record = trainings.event_summary(rt, event_id)
    if as_json_:
        echo(as_json(record))
        return
    head = {
        k: v
        for k, v in record.items()
        if k not in ("cases", "attendance_by_day", "people", "staff", "instructors")
    }
    head["cases"] = ", ".join(f"{c['case_id']} ({c['state']})" for c in record["cases"]) or None
    head["instructors"] = "; ".join(
        f"{i['staff_id']} {i['name']}" + (f" ({i['organisation']})" if i["organisation"] else "")
        for i in record["instructors"]
    )
    echo(fields(head))
    echo("")
    out(N_("attendance per day"))
    echo(
        table(
            [{"day": d, "people": n} for d, n in record["attendance_by_day"].items()],
            [("day", "day"), ("people", "people")],
        )
    )
    people: dict[int, dict[str, Any]] = record["people"]
    if people:
        echo("")
        out(N_("per person"))
        echo(
            table(
                [{"person": pid, **p} for pid, p in people.items()],
                [
                    ("person", "person"),
                    ("days_attended", "days"),
                    ("certification", "for certificate"),
                    ("certified", "certified"),
                ],
            )
        )
    staff: dict[int, dict[str, Any]] = record["staff"]
    if staff:
        echo("")
        out(N_("per staff member"))
        echo(
            table(
                [{"staff": sid, **p} for sid, p in staff.items()],
                [
                    ("staff", "staff"),
                    ("days_attended", "days"),
                    ("certification", "for certificate"),
                    ("certified", "certified"),
                ],
            )
        )


@app.command("list")
def event_list(
    kind: Annotated[str | None, typer.Option(help="Only this kind (ecc, oficina, ecm).")] = None,
    case: Annotated[int | None, typer.Option(help="Only events serving this case.")] = None,
    municipality: Annotated[
        int | None, typer.Option(help="Only events in this municipality (IBGE code).")
    ] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only events not yet held.")] = False,
    as_json_: Json = False,
) -> None:
    """List events, newest first."""
    f = trainings.EventFilter(
        kind=kind, case_id=case, municipality_code=municipality, held=False if open_ else None
    )
    rows = trainings.list_events(runtime(), f)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("event_id", "event"),
                ("kind", "kind"),
                ("title", "title"),
                ("start_on", "start"),
                ("end_on", "end"),
                ("municipality", "municipality"),
                ("cases", "cases"),
                ("enrolled", "enrolled"),
                ("capacity", "capacity"),
                ("held_on", "held"),
            ],
        )
    )
    out(Np_("%(n)s event", "%(n)s events", len(rows)))
