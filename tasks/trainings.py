"""Training events: ECC (field training), Oficina de Gestão (business workshop), ECM (multiplier
training). Dates, venue, instructors (staff members of the roster, :mod:`tasks.staff`, by
number), capacity, the cases an event serves, enrolments and daily attendance; a coordinator's
attendance sheet imported from CSV (all rows or none); completing an ECC, which advances every
case it served in one operation; and reading events back (a summary with attendance per day and
per person id, and a filtered list).

Who an event trains follows the programme's source: an ECC or an Oficina de Gestão trains the
community's participants (people of :mod:`tasks.people`); an ECM trains the programme's own
staff and multipliers ("formação, capacitação e nivelamento de recursos humanos, visando
ampliar e aperfeiçoar o quadro de referência do Programa"), members of the roster, never the
community's participants. A participant enrolled in an ECM, or a staff member enrolled in an
ECC or Oficina, is refused with the reason; a staff member instructs those.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import store
from states.bounds import Bounded
from states.config import Thresholds
from states.deadlines import local_date
from states.errors import GuardFailed, InvalidInput, NotAllowed, NotFound, ProduzirError
from states.guards import share_of
from states.models import Case, Municipality
from states.records import (
    Attendance,
    Enrolment,
    EventCase,
    EventInstructor,
    Person,
    StaffAttendance,
    StaffEnrolment,
    StaffMember,
    TrainingEvent,
    session_days,
)
from states.states import CLOSED, State
from states.text import N_, Np_, Text, join
from tasks import cases
from tasks.demands import check_actor
from tasks.people import normalise_cpf
from tasks.records_common import audit_record, get_case, parse_input
from tasks.runtime import Runtime
from tasks.staff import check_active, get_member

EventKind = Literal["ecc", "oficina", "ecm"]
#: ISO weekday numbers: 1 Monday ... 7 Sunday
Weekday = Annotated[int, Field(ge=1, le=7)]


class EventInput(Bounded):
    """A training event as a coordinator plans it."""

    kind: EventKind
    title: str = Field(min_length=1, max_length=200)
    start_on: date
    end_on: date
    venue: str = Field(min_length=1, max_length=200)
    municipality_code: int
    instructor_ids: list[int] = Field(
        min_length=1, max_length=50, description="the staff members who instruct it (roster)"
    )
    capacity: int = Field(ge=1, le=10_000)
    case_ids: list[int] = Field(default_factory=list, description="the cases it serves")
    weekdays: list[Weekday] | None = Field(
        default=None,
        description="the days of the week it meets (ISO: 1 Monday ... 7 Sunday); "
        "without it or session_days, every day from start_on to end_on",
        max_length=7,
    )
    skip_days: list[date] = Field(
        default_factory=list,
        description="exceptions to the weekly pattern: days it does not meet",
        max_length=366,
    )
    session_days: list[date] | None = Field(
        default=None,
        description="the days it meets, listed (instead of a weekly pattern)",
        max_length=366,
    )

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.end_on < self.start_on:
            raise ValueError(f"end_on {self.end_on} is before start_on {self.start_on}")
        if self.session_days is not None and (self.weekdays is not None or self.skip_days):
            raise ValueError("give the session days either as a list or as weekdays and skip days")
        for day in [*self.skip_days, *(self.session_days or [])]:
            if not self.start_on <= day <= self.end_on:
                raise ValueError(f"session day {day} is outside {self.start_on} to {self.end_on}")
        if not self.sessions():
            raise ValueError("the event has no session day")
        return self

    def sessions(self) -> list[date]:
        """The days the event meets."""
        if self.session_days is not None:
            return sorted(set(self.session_days))
        span = [
            self.start_on + timedelta(days=i) for i in range((self.end_on - self.start_on).days + 1)
        ]
        weekdays = set(self.weekdays or range(1, 8))
        skip = set(self.skip_days)
        return [d for d in span if d.isoweekday() in weekdays and d not in skip]

    def recorded_sessions(self) -> list[str] | None:
        """What the record keeps: the session days, or None when it meets every day."""
        if self.session_days is None and self.weekdays is None and not self.skip_days:
            return None
        return [d.isoformat() for d in self.sessions()]


def get_event(session: Session, event_id: int) -> TrainingEvent:
    event = session.get(TrainingEvent, event_id)
    if event is None:
        raise NotFound("event", event_id)
    return event


def _link(session: Session, rt: Runtime, event: TrainingEvent, case_id: int, actor: str) -> None:
    case = get_case(session, case_id)
    if case.state in {s.value for s in CLOSED}:
        raise NotAllowed(
            N_(
                "case %(case_id)s is %(state)s: an event cannot serve it",
                case_id=case_id,
                state=case.state,
            )
        )
    if session.get(EventCase, (event.id, case_id)) is not None:
        raise InvalidInput(
            N_("event %(id)s already serves case %(case_id)s", id=event.id, case_id=case_id),
            field="case_id",
        )
    session.add(EventCase(event_id=event.id, case_id=case_id))
    session.flush()
    audit_record(
        session,
        rt,
        event="evento_vinculado",
        actor=actor,
        record_type="event",
        record_id=event.id,
        case=case,
        evidence={"event_id": event.id, "kind": event.kind},
    )


def create_event(rt: Runtime, raw: EventInput | dict[str, object], *, actor: str) -> int:
    """Plan a training event, linked to the cases it serves; its number."""
    check_actor(actor)
    data = parse_input(EventInput, raw, "event")
    with rt.db.write() as session:
        if store.get_municipality(session, data.municipality_code) is None:
            raise InvalidInput(
                N_(
                    "municipality %(municipality_code)s is not in IBGE's list of municipalities",
                    municipality_code=data.municipality_code,
                ),
                field="municipality_code",
            )
        instructors = check_active(session, data.instructor_ids, field="instructor_ids")
        event = TrainingEvent(
            **data.model_dump(
                exclude={"case_ids", "weekdays", "skip_days", "session_days", "instructor_ids"}
            ),
            session_days=data.recorded_sessions(),
            created_at=rt.clock.now(),
            created_by=actor,
        )
        session.add(event)
        session.flush()
        session.add_all(EventInstructor(event_id=event.id, staff_id=i) for i in instructors)
        session.flush()
        audit_record(
            session,
            rt,
            event="evento_planejado",
            actor=actor,
            record_type="event",
            record_id=event.id,
            case=None,
            # the instructors are people: the history names them by their staff number, their
            # names stay in the roster (corrected or erased there, LGPD)
            evidence=data.model_dump(mode="json", exclude={"instructor_ids"})
            | {"instructor_ids": instructors},
        )
        for case_id in dict.fromkeys(data.case_ids):
            _link(session, rt, event, case_id, actor)
        return event.id


def link_case(rt: Runtime, event_id: int, case_id: int, *, actor: str) -> None:
    """Make an existing event serve one more case."""
    check_actor(actor)
    with rt.db.write() as session:
        _link(session, rt, get_event(session, event_id), case_id, actor)


def enrol_in(
    session: Session,
    rt: Runtime,
    event: TrainingEvent,
    person_id: int,
    *,
    actor: str,
    certification: bool = True,
) -> None:
    """Enrol a person in an event inside the caller's transaction (an ECC or Oficina: an ECM
    trains staff, not the community's participants)."""
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    if event.kind == "ecm":
        raise NotAllowed(
            N_(
                "event %(id)s is an ECM: it trains the programme's staff and multipliers, not "
                "community participants such as person %(person_id)s; enrol staff members of "
                "the roster",
                id=event.id,
                person_id=person_id,
            )
        )
    if session.get(Enrolment, (event.id, person_id)) is not None:
        raise InvalidInput(
            N_(
                "person %(person_id)s is already enrolled in event %(id)s",
                person_id=person_id,
                id=event.id,
            ),
            field="person_id",
        )
    _check_room(session, event)
    session.add(
        Enrolment(
            event_id=event.id,
            person_id=person_id,
            certification=certification,
            enrolled_at=rt.clock.now(),
        )
    )
    session.flush()
    audit_record(
        session,
        rt,
        event="inscricao",
        actor=actor,
        record_type="event",
        record_id=event.id,
        case=None,
        evidence={"person_id": person_id, "certification": certification},
    )


def _check_room(session: Session, event: TrainingEvent) -> None:
    enrolled = (
        session.execute(
            select(func.count()).select_from(Enrolment).where(Enrolment.event_id == event.id)
        ).scalar_one()
        + session.execute(
            select(func.count())
            .select_from(StaffEnrolment)
            .where(StaffEnrolment.event_id == event.id)
        ).scalar_one()
    )
    if enrolled >= event.capacity:
        raise NotAllowed(
            N_(
                "event %(id)s is full: %(enrolled)s of %(capacity)s places taken",
                id=event.id,
                enrolled=enrolled,
                capacity=event.capacity,
            )
        )


def enrol_staff_in(
    session: Session,
    rt: Runtime,
    event: TrainingEvent,
    staff_id: int,
    *,
    actor: str,
    certification: bool = True,
) -> None:
    """Enrol a staff member in an ECM inside the caller's transaction."""
    get_member(session, staff_id)
    if event.kind != "ecm":
        raise NotAllowed(
            N_(
                "event %(id)s is an %(kind)s: it trains community participants; staff member "
                "%(staff_id)s may instruct it, not enrol in it (only an ECM enrols staff)",
                id=event.id,
                kind=event.kind.upper() if event.kind == "ecc" else "Oficina de Gestão",
                staff_id=staff_id,
            )
        )
    check_active(session, [staff_id], field="staff_id")
    if session.get(EventInstructor, (event.id, staff_id)) is not None:
        raise InvalidInput(
            N_(
                "staff member %(staff_id)s instructs event %(id)s: an instructor is not "
                "enrolled in it",
                staff_id=staff_id,
                id=event.id,
            ),
            field="staff_id",
        )
    if session.get(StaffEnrolment, (event.id, staff_id)) is not None:
        raise InvalidInput(
            N_(
                "staff member %(staff_id)s is already enrolled in event %(id)s",
                staff_id=staff_id,
                id=event.id,
            ),
            field="staff_id",
        )
    _check_room(session, event)
    session.add(
        StaffEnrolment(
            event_id=event.id,
            staff_id=staff_id,
            certification=certification,
            enrolled_at=rt.clock.now(),
        )
    )
    session.flush()
    audit_record(
        session,
        rt,
        event="inscricao",
        actor=actor,
        record_type="event",
        record_id=event.id,
        case=None,
        evidence={"staff_id": staff_id, "certification": certification},
    )


def enrol_staff(
    rt: Runtime, event_id: int, staff_ids: Iterable[int], *, actor: str, certification: bool = True
) -> int:
    """Enrol staff members in an ECM (all or none); how many were enrolled."""
    check_actor(actor)
    ids = list(dict.fromkeys(staff_ids))
    with rt.db.write() as session:
        event = get_event(session, event_id)
        for staff_id in ids:
            enrol_staff_in(session, rt, event, staff_id, actor=actor, certification=certification)
        return len(ids)


def enrol(
    rt: Runtime, event_id: int, person_ids: Iterable[int], *, actor: str, certification: bool = True
) -> int:
    """Enrol people in an event (all or none); how many were enrolled."""
    check_actor(actor)
    ids = list(dict.fromkeys(person_ids))
    with rt.db.write() as session:
        event = get_event(session, event_id)
        for person_id in ids:
            enrol_in(session, rt, event, person_id, actor=actor, certification=certification)
        return len(ids)


def _attendance_open(event: TrainingEvent) -> None:
    if event.held_on is not None:
        raise NotAllowed(
            N_(
                "event %(id)s was recorded as held on %(held_on)s: its attendance is closed",
                id=event.id,
                held_on=event.held_on,
            )
        )


def _new_days(
    session: Session, rt: Runtime, event: TrainingEvent, recorded: set[date], days: Iterable[date]
) -> list[date]:
    """The days of ``days`` not yet ``recorded``, each checked: a session day of the event,
    inside its dates, not in the future."""
    municipality = store.get_municipality(session, event.municipality_code)
    assert municipality is not None
    today = local_date(rt.clock.now(), municipality.timezone)
    added: list[date] = []
    sessions = set(session_days(event))
    for day in sorted(set(days)):
        if event.start_on <= day <= event.end_on and day not in sessions:
            raise InvalidInput(
                N_(
                    "%(day)s is not a session day of event %(id)s: attendance is only recorded "
                    "on the days it meets",
                    day=day,
                    id=event.id,
                ),
                field="day",
            )
        if not event.start_on <= day <= event.end_on:
            raise InvalidInput(
                N_(
                    "%(day)s is outside event %(id)s's dates (%(start_on)s to %(end_on)s)",
                    day=day,
                    id=event.id,
                    start_on=event.start_on,
                    end_on=event.end_on,
                ),
                field="day",
            )
        if day > today:
            raise InvalidInput(
                N_("%(day)s is in the future (today is %(today)s)", day=day, today=today),
                field="day",
            )
        if day not in recorded:
            added.append(day)
    return added


def attend_in(
    session: Session,
    rt: Runtime,
    event: TrainingEvent,
    person_id: int,
    days: Iterable[date],
    *,
    actor: str,
) -> int:
    """Record the days a person attended, inside the caller's transaction; days newly recorded."""
    _attendance_open(event)
    if session.get(Enrolment, (event.id, person_id)) is None:
        raise InvalidInput(
            N_(
                "person %(person_id)s is not enrolled in event %(id)s",
                person_id=person_id,
                id=event.id,
            ),
            field="person_id",
        )
    recorded = set(
        session.execute(
            select(Attendance.day).where(
                Attendance.event_id == event.id, Attendance.person_id == person_id
            )
        ).scalars()
    )
    added = _new_days(session, rt, event, recorded, days)
    session.add_all(Attendance(event_id=event.id, person_id=person_id, day=d) for d in added)
    session.flush()
    if added:
        audit_record(
            session,
            rt,
            event="presenca_registrada",
            actor=actor,
            record_type="event",
            record_id=event.id,
            case=None,
            evidence={"person_id": person_id, "days": [d.isoformat() for d in added]},
        )
    return len(added)


def attend_staff_in(
    session: Session,
    rt: Runtime,
    event: TrainingEvent,
    staff_id: int,
    days: Iterable[date],
    *,
    actor: str,
) -> int:
    """Record the days a staff member attended an ECM, inside the caller's transaction; days
    newly recorded."""
    _attendance_open(event)
    if session.get(StaffEnrolment, (event.id, staff_id)) is None:
        raise InvalidInput(
            N_(
                "staff member %(staff_id)s is not enrolled in event %(id)s",
                staff_id=staff_id,
                id=event.id,
            ),
            field="staff_id",
        )
    recorded = set(
        session.execute(
            select(StaffAttendance.day).where(
                StaffAttendance.event_id == event.id, StaffAttendance.staff_id == staff_id
            )
        ).scalars()
    )
    added = _new_days(session, rt, event, recorded, days)
    session.add_all(StaffAttendance(event_id=event.id, staff_id=staff_id, day=d) for d in added)
    session.flush()
    if added:
        audit_record(
            session,
            rt,
            event="presenca_registrada",
            actor=actor,
            record_type="event",
            record_id=event.id,
            case=None,
            evidence={"staff_id": staff_id, "days": [d.isoformat() for d in added]},
        )
    return len(added)


def record_staff_attendance(
    rt: Runtime, event_id: int, staff_id: int, days: Iterable[date], *, actor: str
) -> int:
    """Record the days a staff member attended an ECM; days newly recorded."""
    check_actor(actor)
    with rt.db.write() as session:
        return attend_staff_in(
            session, rt, get_event(session, event_id), staff_id, days, actor=actor
        )


def record_attendance(
    rt: Runtime, event_id: int, person_id: int, days: Iterable[date], *, actor: str
) -> int:
    """Record the days a person attended an event; days newly recorded."""
    check_actor(actor)
    with rt.db.write() as session:
        return attend_in(session, rt, get_event(session, event_id), person_id, days, actor=actor)


def event_days(event: TrainingEvent) -> list[date]:
    """The days the event meets (its session days)."""
    return session_days(event)


@dataclass(frozen=True)
class CaseOutcome:
    case_id: int
    result: str  # moved | refused | skipped
    detail: str
    #: for a refusal by the guard: its sentence alone (``detail`` is the whole error)
    reason: str | None = None


@dataclass
class Completion:
    """What completing an event did, case by case."""

    event_id: int
    held_on: date
    outcomes: list[CaseOutcome] = field(default_factory=list)

    @property
    def moved(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.result == "moved"]

    @property
    def refused(self) -> list[CaseOutcome]:
        return [o for o in self.outcomes if o.result == "refused"]


def complete_event(rt: Runtime, event_id: int, *, actor: str) -> Completion:
    """Record an event as held; for an ECC, advance every case it served that awaits it.

    One transaction marks the event held; then every served case in ``capacitacao`` gets
    ``concluir_capacitacao``, all in one transaction, each case in its own savepoint
    (:func:`tasks.cases.advance_batch`). A case the guard refuses stays where it is (its
    savepoint rolled back), with the reason in the report; the others move regardless.
    """
    check_actor(actor)
    with rt.db.write() as session:
        event = get_event(session, event_id)
        if event.held_on is not None:
            raise NotAllowed(
                N_(
                    "event %(event_id)s was already recorded as held on %(held_on)s",
                    event_id=event_id,
                    held_on=event.held_on,
                )
            )
        municipality = store.get_municipality(session, event.municipality_code)
        assert municipality is not None
        today = local_date(rt.clock.now(), municipality.timezone)
        if event.end_on > today:
            raise NotAllowed(
                N_(
                    "event %(event_id)s ends on %(end_on)s; it cannot be held yet",
                    event_id=event_id,
                    end_on=event.end_on,
                )
            )
        attended = (
            session.execute(
                select(func.count()).select_from(Attendance).where(Attendance.event_id == event_id)
            ).scalar_one()
            + session.execute(
                select(func.count())
                .select_from(StaffAttendance)
                .where(StaffAttendance.event_id == event_id)
            ).scalar_one()
        )
        if attended == 0:
            raise NotAllowed(N_("event %(event_id)s has no attendance recorded", event_id=event_id))
        event.held_on = today
        audit_record(
            session,
            rt,
            event="evento_realizado",
            actor=actor,
            record_type="event",
            record_id=event_id,
            case=None,
            evidence={
                "event_id": event_id,
                "held_on": today.isoformat(),
                "attendance_days": attended,
            },
        )
        served = list(
            session.execute(
                select(EventCase.case_id)
                .where(EventCase.event_id == event_id)
                .order_by(EventCase.case_id)
            ).scalars()
        )
        kind = event.kind
    report = Completion(event_id, today)
    if kind != "ecc":
        report.outcomes = [
            CaseOutcome(case_id, "skipped", f"a {kind} does not end a state") for case_id in served
        ]
        return report
    outcomes: dict[int, CaseOutcome] = {}
    steps: list[cases.Step] = []
    with rt.db.read() as session:  # the served cases' states, in one query
        where = {
            row.id: (row.state, row.lifecycle_version)
            for row in session.execute(
                select(Case.id, Case.state, Case.lifecycle_version).where(Case.id.in_(served))
            )
        }
        for case_id in served:
            state, version = where[case_id]
            try:
                # the state in the ECC's role under the case's own lifecycle version
                role = rt.lifecycle_for(version).role(state)
            except ProduzirError as exc:  # a version not loaded: this case only
                outcomes[case_id] = CaseOutcome(case_id, "refused", str(exc))
                continue
            if role != State.CAPACITACAO.value:
                outcomes[case_id] = CaseOutcome(
                    case_id, "skipped", f"case is in {state}, not capacitacao"
                )
                continue
            steps.append(cases.Step(case_id, "concluir_capacitacao", {"ecc_id": event_id}))
    # the cases it served, in one transaction, each in its own savepoint (a group commit)
    results = cases.advance_batch(rt, steps, actor=actor)
    for step, moved in zip(steps, results, strict=True):
        outcomes[step.case_id] = _outcome(step.case_id, moved)
    report.outcomes = [outcomes[case_id] for case_id in served]
    return report


def _outcome(case_id: int, moved: cases.Transition | Exception) -> CaseOutcome:
    if isinstance(moved, GuardFailed):
        return CaseOutcome(case_id, "refused", str(moved), moved.reason)
    if isinstance(moved, ProduzirError):
        return CaseOutcome(case_id, "refused", str(moved))
    if isinstance(moved, Exception):
        raise moved  # not a refusal: the caller hears of it, as before
    return CaseOutcome(case_id, "moved", f"{moved.from_state} -> {moved.to_state}")


# ------------------------------------------------------------------------ attendance import

_CPF_HEADERS = frozenset({"cpf"})
#: an ECM's sheet names staff members by their number on the roster
_STAFF_HEADERS = frozenset({"staff", "equipe"})
_NAME_HEADERS = frozenset({"nome", "name"})  # a sheet's name column: read past, never stored
_DAY_HEADERS = frozenset({"day", "dia", "date", "data"})
_PRESENT = frozenset({"x", "1", "p"})
_ABSENT = frozenset({"", "0", "f"})
_BATCH = 500


@dataclass(frozen=True)
class AttendanceImport:
    """What an attendance import recorded."""

    event_id: int
    shape: str  # long | wide
    rows: int  # data rows read
    people: int  # people with at least one day present in the file
    added: int  # person-days newly recorded
    already: int  # person-days present in the file that were already recorded


@dataclass(frozen=True)
class _Row:
    line: int
    cpf: str
    #: the days marked present, as written
    days: list[str]
    problems: list[Text]


def _already(staff: bool, long: bool, line: int) -> Text:
    """A sheet row that repeats an earlier one (the same person, and day on a long sheet)."""
    if staff:
        if long:
            return N_("this staff number and day are already on line %(line)s", line=line)
        return N_("this staff number is already on line %(line)s", line=line)
    if long:
        return N_("this CPF and day are already on line %(line)s", line=line)
    return N_("this CPF is already on line %(line)s", line=line)


def _parse_day(text: str) -> date | None:
    """A day written as YYYY-MM-DD or DD/MM/YYYY; None if it is neither."""
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except ValueError:
        return None


def _sheet_rows(csv_text: str) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows of a CSV text (``,`` or ``;``, BOM or not) with their line numbers."""
    from tasks.people import csv_records  # the same bounds as the participants' import

    for start, cells in csv_records(csv_text.removeprefix("\ufeff"), N_("attendance file")):
        yield start, [c.strip() for c in cells]


def _read_sheet(csv_text: str, *, staff: bool = False) -> tuple[str, list[_Row]]:
    """The sheet's shape and rows, each with the problems that need no database to see."""
    rows = _sheet_rows(csv_text)
    header_line, header = next(rows, (0, []))
    if not header:
        raise InvalidInput(N_("the file is empty"), field="file")
    names = [h.lower() for h in header]
    cpf_cols = [i for i, h in enumerate(names) if h in (_STAFF_HEADERS if staff else _CPF_HEADERS)]
    if staff and len(cpf_cols) != 1:
        raise InvalidInput(
            N_(
                "line %(header_line)s: an ECM trains staff: the header needs one `staff` column "
                "(the staff member's number on the roster), then `day` (one row per "
                "person-day) or one column per date (YYYY-MM-DD)",
                header_line=header_line,
            ),
            field="file",
        )
    if len(cpf_cols) != 1:
        raise InvalidInput(
            N_(
                "line %(header_line)s: the header needs one `cpf` column, then `day` (one row per person-day) or one column per date (YYYY-MM-DD)",
                header_line=header_line,
            ),
            field="file",
        )
    day_cols = [i for i, h in enumerate(names) if h in _DAY_HEADERS]
    other = [
        i for i, h in enumerate(names) if i not in cpf_cols + day_cols and h not in _NAME_HEADERS
    ]
    shape = "long" if day_cols else "wide"
    date_cols: list[tuple[int, str]] = []
    problems: list[Text] = []
    if shape == "long":
        if len(day_cols) > 1 or other:
            problems.append(
                N_("a long sheet has the columns `cpf` and `day` only (and optionally `nome`)")
            )
    else:
        seen: dict[date, str] = {}
        for i in other:
            day = _parse_day(header[i])
            if day is None:
                problems.append(
                    N_(
                        "column %(column)s %(heading)s is not a date (YYYY-MM-DD)",
                        column=i + 1,
                        heading=repr(header[i]),
                    )
                )
            elif day in seen:
                problems.append(
                    N_("column %(column)s repeats the date %(day)s", column=i + 1, day=day)
                )
            else:
                seen[day] = header[i]
                date_cols.append((i, day.isoformat()))
        if not date_cols and not problems:
            problems.append(N_("a wide sheet needs one column per date after `cpf`"))
    if problems:
        raise InvalidInput(
            N_("line %(line)s: %(problems)s", line=header_line, problems=join(problems, "; ")),
            field="file",
        )
    parsed: list[_Row] = []
    for line, cells in rows:
        row_problems = [
            N_("column %(column)s %(value)s has no heading", column=i + 1, value=repr(cells[i]))
            for i in range(len(header), len(cells))
            if cells[i]
        ]
        cell = dict(enumerate(cells))
        cpf = cell.get(cpf_cols[0], "")
        days: list[str] = []
        if shape == "long":
            days.append(cell.get(day_cols[0], ""))
        else:
            for i, day_text in date_cols:
                mark = cell.get(i, "").lower()
                if mark in _PRESENT:
                    days.append(day_text)
                elif mark not in _ABSENT:
                    row_problems.append(
                        N_(
                            "column %(column)s: %(value)s is not a mark (x, 1 or P for present; "
                            "empty, 0 or F for absent)",
                            column=day_text,
                            value=repr(cell[i]),
                        )
                    )
        parsed.append(_Row(line, cpf, days, row_problems))
    if not parsed:
        raise InvalidInput(N_("the file has a header but no rows"), field="file")
    return shape, parsed


def _people_by_cpf(session: Session, cpfs: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(cpfs)
    for i in range(0, len(ordered), _BATCH):
        found.update(
            (cpf, person_id)
            for person_id, cpf in session.execute(
                select(Person.id, Person.cpf).where(Person.cpf.in_(ordered[i : i + _BATCH]))
            )
        )
    return found


def import_attendance(rt: Runtime, event_id: int, csv_text: str, *, actor: str) -> AttendanceImport:
    """Record an attendance sheet (CSV), all of it or nothing.

    Two shapes are read: *long* (``cpf,day``: one row per person and day present) and *wide*
    (``cpf`` then one column per date, ``x``/``1``/``P`` present, empty/``0``/``F`` absent).
    ``,`` or ``;`` separate the cells; a UTF-8 BOM is ignored; a ``nome`` column is read past
    and never stored; days are YYYY-MM-DD (or DD/MM/YYYY); a CPF of 9 or 10 bare digits gets
    back the leading zeros a spreadsheet dropped (its check digits still decide). Every row is checked first (a valid,
    registered CPF, the person enrolled in the event, the day inside the event's dates and not
    in the future, no repeated row); if any row is wrong nothing is written and InvalidInput
    lists each bad row as ``line N: reason`` (the header is line 1). Otherwise every row is
    recorded in one transaction. The import adds: an absent mark does not remove a day recorded
    earlier, and a day already recorded is counted as such, not refused.
    """
    check_actor(actor)
    with rt.db.read() as session:
        kind = get_event(session, event_id).kind
    if kind == "ecm":
        return _import_staff_attendance(rt, event_id, csv_text, actor=actor)
    shape, rows = _read_sheet(csv_text)
    with rt.db.write() as session:
        event = get_event(session, event_id)
        valid_cpfs: dict[int, str] = {}
        for row in rows:
            # a spreadsheet that took the CPF for a number dropped its leading zeros
            raw = row.cpf.zfill(11) if row.cpf.isdigit() and len(row.cpf) >= 9 else row.cpf
            try:
                valid_cpfs[row.line] = normalise_cpf(raw)
            except ValueError as exc:
                row.problems.insert(
                    0, N_("%(error)s", error=str(exc)) if row.cpf else N_("the CPF is empty")
                )
        people = _people_by_cpf(session, set(valid_cpfs.values()))
        enrolled = set(
            session.execute(
                select(Enrolment.person_id).where(Enrolment.event_id == event_id)
            ).scalars()
        )
        return _record_sheet(
            session, rt, event, shape, rows, valid_cpfs, people, enrolled, staff=False, actor=actor
        )


def _import_staff_attendance(
    rt: Runtime, event_id: int, csv_text: str, *, actor: str
) -> AttendanceImport:
    """An ECM's sheet: as :func:`import_attendance`, with a ``staff`` column (the staff
    member's number on the roster) instead of the CPF."""
    shape, rows = _read_sheet(csv_text, staff=True)
    with rt.db.write() as session:
        event = get_event(session, event_id)
        numbers: dict[int, str] = {}
        for row in rows:
            if row.cpf.isdigit() and 0 < int(row.cpf) < 2**31:
                numbers[row.line] = str(int(row.cpf))
            else:
                row.problems.insert(
                    0,
                    N_("staff %(value)s is not a staff number", value=repr(row.cpf))
                    if row.cpf
                    else N_("the staff is empty"),
                )
        wanted = sorted({int(n) for n in numbers.values()})
        known = {
            str(i): i
            for i in session.execute(
                select(StaffMember.id).where(StaffMember.id.in_(wanted))
            ).scalars()
        }
        enrolled = set(
            session.execute(
                select(StaffEnrolment.staff_id).where(StaffEnrolment.event_id == event_id)
            ).scalars()
        )
        return _record_sheet(
            session, rt, event, shape, rows, numbers, known, enrolled, staff=True, actor=actor
        )


def _record_sheet(
    session: Session,
    rt: Runtime,
    event: TrainingEvent,
    shape: str,
    rows: list[_Row],
    keys: dict[int, str],
    ids: dict[str, int],
    enrolled: set[int],
    *,
    staff: bool,
    actor: str,
) -> AttendanceImport:
    """Check every row of a sheet (``keys``: each line's CPF or staff number, ``ids``: the
    record each names); record them all, or raise InvalidInput listing each bad row."""
    event_id = event.id
    municipality = store.get_municipality(session, event.municipality_code)
    assert municipality is not None
    today = local_date(rt.clock.now(), municipality.timezone)
    sessions = set(session_days(event))
    plan: dict[int, set[date]] = {}
    first_seen: dict[tuple[str, date | None], int] = {}
    for row in rows:
        cpf = keys.get(row.line)
        person_id = ids.get(cpf) if cpf else None
        if cpf is not None and person_id is None:
            row.problems.insert(
                0,
                N_("staff member %(staff_id)s is not on the roster", staff_id=cpf)
                if staff
                else N_("no person is registered with this CPF"),
            )
        elif person_id is not None and person_id not in enrolled:
            row.problems.insert(
                0,
                N_(
                    "staff member %(staff_id)s is not enrolled in event %(event_id)s",
                    staff_id=person_id,
                    event_id=event_id,
                )
                if staff
                else N_(
                    "person %(person_id)s is not enrolled in event %(event_id)s",
                    person_id=person_id,
                    event_id=event_id,
                ),
            )
        days: set[date] = set()
        for text in row.days:
            day = _parse_day(text)
            if day is None:
                row.problems.append(
                    N_("day %(value)s is not a date (YYYY-MM-DD)", value=repr(text))
                    if text
                    else N_("the day is empty")
                )
            elif not event.start_on <= day <= event.end_on:
                row.problems.append(
                    N_(
                        "%(day)s is outside event %(event_id)s's dates (%(start)s to %(end)s)",
                        day=day,
                        event_id=event_id,
                        start=event.start_on,
                        end=event.end_on,
                    )
                )
            elif day not in sessions:
                row.problems.append(
                    N_(
                        "%(day)s is not a session day of event %(event_id)s",
                        day=day,
                        event_id=event_id,
                    )
                )
            elif day > today:
                row.problems.append(
                    N_("%(day)s is in the future (today is %(today)s)", day=day, today=today)
                )
            else:
                days.add(day)
        if cpf is not None:
            # long: one row per person and day; wide: one row per person
            key = (cpf, min(days) if shape == "long" and days else None)
            if shape == "wide" or days:
                if key in first_seen:
                    row.problems.append(_already(staff, shape == "long", first_seen[key]))
                else:
                    first_seen[key] = row.line
        if person_id is not None and not row.problems:
            plan.setdefault(person_id, set()).update(days)
    bad = [row for row in rows if row.problems]
    if bad:
        lines = [
            N_("line %(line)s: %(reason)s", line=row.line, reason=join(row.problems, "; "))
            for row in bad
        ]
        raise InvalidInput(
            Np_(
                "attendance for event %(event_id)s: %(bad)s of %(n)s row is wrong; nothing was "
                "recorded\n%(lines)s",
                "attendance for event %(event_id)s: %(bad)s of %(n)s rows are wrong; nothing was "
                "recorded\n%(lines)s",
                len(rows),
                event_id=event_id,
                bad=len(bad),
                lines=join(lines, "\n"),
            ),
            field="file",
        )
    added = present = 0
    attend = attend_staff_in if staff else attend_in
    for person_id, days in plan.items():
        present += len(days)
        if days:
            added += attend(session, rt, event, person_id, days, actor=actor)
    result = AttendanceImport(
        event_id=event_id,
        shape=shape,
        rows=len(rows),
        people=sum(1 for days in plan.values() if days),
        added=added,
        already=present - added,
    )
    audit_record(
        session,
        rt,
        event="presenca_importada",
        actor=actor,
        record_type="event",
        record_id=event_id,
        case=None,
        evidence={
            "event_id": event_id,
            "shape": shape,
            "rows": result.rows,
            "people": result.people,
            "days_added": result.added,
            "days_already_recorded": result.already,
        },
    )
    return result


# ------------------------------------------------------------------------ reading events


def _event_dict(event: TrainingEvent, municipality: Municipality | None) -> dict[str, Any]:
    return {
        "event_id": event.id,
        "kind": event.kind,
        "title": event.title,
        "start_on": event.start_on.isoformat(),
        "end_on": event.end_on.isoformat(),
        "days": (event.end_on - event.start_on).days + 1,
        "session_days": len(session_days(event)),
        "venue": event.venue,
        "municipality_code": event.municipality_code,
        "municipality": f"{municipality.name} ({municipality.uf})" if municipality else None,
        "capacity": event.capacity,
        "held_on": event.held_on.isoformat() if event.held_on else None,
    }


def event_summary(
    source: Runtime | Session, event_id: int, *, thresholds: Thresholds | None = None
) -> dict[str, Any]:
    """One event as JSON-ready data: what it is, the cases it serves, enrolments, attendance.

    People appear by their record id only (no names, no CPF). A person is *certified* when
    enrolled for certification and present on at least ``ceil(min_attendance * session_days)``
    of the days the event meets.
    Given a Runtime, the thresholds are its lifecycle's; given a Session, pass ``thresholds``.
    """
    if isinstance(source, Runtime):
        with source.db.read() as session:
            return event_summary(
                session, event_id, thresholds=thresholds or source.lifecycle.config.thresholds
            )
    if thresholds is None:
        raise TypeError("event_summary(session, ...) needs the thresholds")
    session = source
    event = get_event(session, event_id)
    record = _event_dict(event, store.get_municipality(session, event.municipality_code))
    record["instructors"] = instructors_of(session, [event_id])[event_id]
    record["cases"] = [
        {"case_id": case_id, "state": state}
        for case_id, state in session.execute(
            select(Case.id, Case.state)
            .join(EventCase, EventCase.case_id == Case.id)
            .where(EventCase.event_id == event_id)
            .order_by(Case.id)
        )
    ]
    enrolments = dict(
        session.execute(
            select(Enrolment.person_id, Enrolment.certification)
            .where(Enrolment.event_id == event_id)
            .order_by(Enrolment.person_id)
        ).all()
    )
    days_of = dict(
        session.execute(
            select(Attendance.person_id, func.count())
            .where(Attendance.event_id == event_id)
            .group_by(Attendance.person_id)
        ).all()
    )
    per_day = dict(
        session.execute(
            select(Attendance.day, func.count())
            .where(Attendance.event_id == event_id)
            .group_by(Attendance.day)
        ).all()
    )
    staff_enrolments = dict(
        session.execute(
            select(StaffEnrolment.staff_id, StaffEnrolment.certification)
            .where(StaffEnrolment.event_id == event_id)
            .order_by(StaffEnrolment.staff_id)
        ).all()
    )
    staff_days = dict(
        session.execute(
            select(StaffAttendance.staff_id, func.count())
            .where(StaffAttendance.event_id == event_id)
            .group_by(StaffAttendance.staff_id)
        ).all()
    )
    for day, n in session.execute(
        select(StaffAttendance.day, func.count())
        .where(StaffAttendance.event_id == event_id)
        .group_by(StaffAttendance.day)
    ):
        per_day[day] = per_day.get(day, 0) + n
    # the same rule for an ECM's staff as for an ECC's participants: present on at least
    # min_attendance of the days the event meets
    needed = share_of(thresholds.min_attendance, record["session_days"])
    staff = {
        staff_id: {
            "days_attended": int(staff_days.get(staff_id, 0)),
            "certification": certification,
            "certified": certification and staff_days.get(staff_id, 0) >= needed,
        }
        for staff_id, certification in staff_enrolments.items()
    }
    people = {
        person_id: {
            "days_attended": int(days_of.get(person_id, 0)),
            "certification": certification,
            "certified": certification and days_of.get(person_id, 0) >= needed,
        }
        for person_id, certification in enrolments.items()
    }
    everyone = [*people.values(), *staff.values()]
    record.update(
        enrolled=len(everyone),
        enrolled_for_certification=sum(1 for p in everyone if p["certification"]),
        days_needed_for_certificate=needed,
        certified=sum(1 for p in everyone if p["certified"]),
        attendance_by_day={d.isoformat(): int(per_day.get(d, 0)) for d in event_days(event)},
        people=people,
        staff=staff,
    )
    return record


def instructors_of(session: Session, event_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each event's instructors, from the roster: number, name (a user's is the user's), role
    and organisation."""
    from states.directory import User

    found: dict[int, list[dict[str, Any]]] = {i: [] for i in event_ids}
    if not event_ids:
        return found
    for event_id, member, user_name in session.execute(
        select(EventInstructor.event_id, StaffMember, User.name)
        .join(StaffMember, StaffMember.id == EventInstructor.staff_id)
        .outerjoin(User, User.username == StaffMember.username)
        .where(EventInstructor.event_id.in_(event_ids))
        .order_by(EventInstructor.event_id, StaffMember.id)
    ):
        found[event_id].append(
            {
                "staff_id": member.id,
                "name": user_name if member.username else member.name,
                "role": member.role,
                "organisation": member.organisation,
            }
        )
    for listed in found.values():
        for i in listed:
            i["label"] = f"{i['name']} ({i['organisation']})" if i["organisation"] else i["name"]
    return found


@dataclass(frozen=True)
class EventFilter:
    """Filters of the event list; all optional, combined with AND."""

    kind: str | None = None
    case_id: int | None = None
    municipality_code: int | None = None
    #: True: only events recorded as held; False: only those not yet held
    held: bool | None = None

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in get_args(EventKind):
            raise InvalidInput(
                N_(
                    "unknown event kind %(kind)s; kinds are: %(value)s",
                    kind=repr(self.kind),
                    value=", ".join(get_args(EventKind)),
                ),
                field="kind",
            )


def list_events(
    source: Runtime | Session, f: EventFilter | None = None, *, limit: int = 1000
) -> list[dict[str, Any]]:
    """Events matching the filter, newest first, each with its cases and enrolment count."""
    if isinstance(source, Runtime):
        with source.db.read() as session:
            return list_events(session, f, limit=limit)
    session, f = source, f or EventFilter()
    query = select(TrainingEvent, Municipality).join(
        Municipality, Municipality.ibge_code == TrainingEvent.municipality_code
    )
    if f.kind is not None:
        query = query.where(TrainingEvent.kind == f.kind)
    if f.case_id is not None:
        query = query.where(
            TrainingEvent.id.in_(select(EventCase.event_id).where(EventCase.case_id == f.case_id))
        )
    if f.municipality_code is not None:
        query = query.where(TrainingEvent.municipality_code == f.municipality_code)
    if f.held is not None:
        query = query.where(
            TrainingEvent.held_on.is_not(None) if f.held else TrainingEvent.held_on.is_(None)
        )
    query = query.order_by(TrainingEvent.start_on.desc(), TrainingEvent.id.desc()).limit(limit)
    found = [(event, m) for event, m in session.execute(query)]
    ids = [event.id for event, _ in found]
    served: dict[int, list[int]] = {i: [] for i in ids}
    enrolled: dict[int, int] = {}
    instructors = instructors_of(session, ids)
    if ids:
        for event_id, case_id in session.execute(
            select(EventCase.event_id, EventCase.case_id)
            .where(EventCase.event_id.in_(ids))
            .order_by(EventCase.case_id)
        ):
            served[event_id].append(case_id)
        for table in (Enrolment, StaffEnrolment):
            for event_id, n in session.execute(
                select(table.event_id, func.count())
                .where(table.event_id.in_(ids))
                .group_by(table.event_id)
            ):
                enrolled[event_id] = enrolled.get(event_id, 0) + n
    return [
        {
            **_event_dict(event, m),
            "instructors": instructors[event.id],
            "cases": served[event.id],
            "enrolled": int(enrolled.get(event.id, 0)),
        }
        for event, m in found
    ]
