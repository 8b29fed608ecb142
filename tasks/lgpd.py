"""The LGPD registers (Lei 13.709/2018): data subjects' requests and security incidents.

- A **request** of a data subject (art. 18) is registered when it is received (date, channel,
  what is asked, the person if they are registered); it is confirmed at once (art. 19 I) and
  the full statement is due within 15 days of it (art. 19 II), counted as Lei 9.784/1999 art. 66
  counts: the day it was received excluded, continuous days, a last day without office hours
  moving to the next working day. Answering records the day the statement was given.
- An **incident** (Resolução CD/ANPD 15/2024) is registered when the controller learns of it,
  with the data and the people affected; its notices to the ANPD and to the people are due
  within 3 working days of that day (arts. 6 and 9) and the entry is kept at least 5 years from
  its registration (art. 10): there is no command that removes it.

Both registers have their own due dates, counted on the working days of the controller's office
(``PRODUZIR_LGPD_OFFICE_MUNICIPALITY``, Brasília by default: its national and state holidays and
the configured office closures, ``PRODUZIR_OFFICE_CLOSURES``); they belong to no case, so they
are not case obligations. :func:`due_items` lists what is open with its days late.

The registers may hold what a data subject wrote; the audit log holds only numbers (request,
incident, person) and codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.outbox import Recipient, default_domain, insert_rows, values_for
from notifications.policy import ESCALATION, Policy, current_policy, due_now
from states import store
from states.audit import iso_utc
from states.calendar import WorkCalendar, calendar_for
from states.deadlines import add_months, local_date
from states.directory import User
from states.errors import InvalidInput, NotAllowed, NotFound
from states.records import Incident, IncidentPerson, Person, SubjectRequest
from states.settings import load
from states.text import N_
from tasks.demands import check_actor
from tasks.records_common import audit_record
from tasks.runtime import Runtime
from tasks.settings import LgpdSettings

#: What a data subject may ask (LGPD art. 18), by code: the item of the article.
REQUEST_KINDS = {
    "confirmation": "I",
    "access": "II",
    "correction": "III",
    "anonymisation": "IV",
    "portability": "V",
    "erasure": "VI",
    "sharing": "VII",
    "consent": "VIII",
    "revocation": "IX",
}
CHANNELS = ("email", "letter", "in_person", "phone", "web")
#: LGPD art. 19 II: the full statement within 15 days of the request
STATEMENT_DAYS = 15
#: Resolução CD/ANPD 15/2024 arts. 6 and 9: the notices within 3 working days
NOTICE_WORKING_DAYS = 3
#: Resolução CD/ANPD 15/2024 art. 10: the register is kept at least 5 years
KEEP_YEARS = 5
MAX_DETAILS = 1000
#: the message of a register's due date (notifications/templates/*/lgpd_deadline.*)
TEMPLATE = "lgpd_deadline"


# ------------------------------------------------------------------------ the office's days


@dataclass(frozen=True)
class Office:
    """The controller's office: its municipality, time zone and working days."""

    municipality_code: int
    timezone: str
    calendar: WorkCalendar


def office(session: Session) -> Office:
    code = load(LgpdSettings).lgpd_office_municipality
    municipality = store.get_municipality(session, code)
    if municipality is None:
        raise InvalidInput(
            N_(
                "PRODUZIR_LGPD_OFFICE_MUNICIPALITY: %(code)s is not in IBGE's list of municipalities",
                code=code,
            ),
            field="lgpd_office_municipality",
        )
    return Office(code, municipality.timezone, calendar_for(session, code, municipality.uf))


def statement_due(calendar: WorkCalendar, received_on: date) -> date:
    """The day the full statement is due: 15 continuous days after the request (the day it was
    received excluded), moved to the next working day if it has no office hours."""
    return calendar.roll_forward(received_on + timedelta(days=STATEMENT_DAYS))


def notice_due(calendar: WorkCalendar, known_on: date) -> date:
    """The day the incident's notices are due: 3 working days after the controller knew."""
    return calendar.add_working_days(known_on, NOTICE_WORKING_DAYS)


# ------------------------------------------------------------------------ checks


def _text(value: str, what: str, limit: int) -> str:
    text = " ".join(value.split())
    if not text:
        raise InvalidInput(N_("%(what)s: empty; say what it is", what=what), field=what)
    if len(text) > limit:
        raise InvalidInput(
            N_(
                "%(what)s: at most %(limit)s characters (%(n)s given)",
                what=what,
                limit=limit,
                n=len(text),
            ),
            field=what,
        )
    return text


def _not_after(day: date, today: date, what: str) -> date:
    if day > today:
        raise InvalidInput(
            N_(
                "%(what)s: %(day)s is in the future (today is %(today)s)",
                what=what,
                day=day.isoformat(),
                today=today.isoformat(),
            ),
            field=what,
        )
    return day


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("person", person_id)
    return person


# ------------------------------------------------------------------------ requests


def add_request(
    rt: Runtime,
    *,
    kind: str,
    channel: str,
    details: str,
    actor: str,
    received_on: date | None = None,
    person_id: int | None = None,
) -> dict[str, Any]:
    """Register a data subject's request; its statement's due date is computed here."""
    check_actor(actor)
    if kind not in REQUEST_KINDS:
        raise InvalidInput(
            N_(
                "unknown request kind %(kind)s; kinds are: %(value)s",
                kind=repr(kind),
                value=", ".join(REQUEST_KINDS),
            ),
            field="kind",
        )
    if channel not in CHANNELS:
        raise InvalidInput(
            N_(
                "unknown channel %(channel)s; channels are: %(value)s",
                channel=repr(channel),
                value=", ".join(CHANNELS),
            ),
            field="channel",
        )
    details = _text(details, "details", MAX_DETAILS)
    with rt.db.write() as session:
        place = office(session)
        today = local_date(rt.clock.now(), place.timezone)
        received = _not_after(received_on or today, today, "received")
        if person_id is not None:
            _person(session, person_id)
        row = SubjectRequest(
            person_id=person_id,
            kind=kind,
            channel=channel,
            received_on=received,
            details=details,
            due_on=statement_due(place.calendar, received),
            created_at=rt.clock.now(),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        audit_record(
            session,
            rt,
            event="pedido_titular_registrado",
            actor=actor,
            record_type="request",
            record_id=row.id,
            case=None,
            evidence={"request_id": row.id, "kind": kind, "person_id": person_id},
        )
        return _request_row(row, today)


def _get_request(session: Session, request_id: int) -> SubjectRequest:
    row = session.get(SubjectRequest, request_id)
    if row is None:
        raise NotFound("request", request_id)
    return row


def confirm_request(rt: Runtime, request_id: int, *, actor: str) -> dict[str, Any]:
    """Record that the request was confirmed to the data subject (art. 19 I: at once)."""
    check_actor(actor)
    with rt.db.write() as session:
        row = _get_request(session, request_id)
        if row.confirmed_at is not None:
            raise NotAllowed(
                N_(
                    "request %(id)s was already confirmed on %(when)s",
                    id=request_id,
                    when=iso_utc(row.confirmed_at),
                )
            )
        row.confirmed_at = rt.clock.now()
        audit_record(
            session,
            rt,
            event="pedido_titular_confirmado",
            actor=actor,
            record_type="request",
            record_id=row.id,
            case=None,
            evidence={"request_id": row.id},
        )
        session.flush()
        return _request_row(row, local_date(rt.clock.now(), office(session).timezone))


def answer_request(
    rt: Runtime, request_id: int, *, answer: str, actor: str, answered_on: date | None = None
) -> dict[str, Any]:
    """Record the full statement given (art. 19 II), and whether it was on time."""
    check_actor(actor)
    answer = _text(answer, "answer", MAX_DETAILS)
    with rt.db.write() as session:
        row = _get_request(session, request_id)
        if row.answered_on is not None:
            raise NotAllowed(
                N_(
                    "request %(id)s was already answered on %(day)s",
                    id=request_id,
                    day=row.answered_on.isoformat(),
                )
            )
        today = local_date(rt.clock.now(), office(session).timezone)
        day = _not_after(answered_on or today, today, "answered")
        if day < row.received_on:
            raise InvalidInput(
                N_(
                    "answered: %(day)s is before the request was received (%(received)s)",
                    day=day.isoformat(),
                    received=row.received_on.isoformat(),
                ),
                field="answered",
            )
        row.answered_on = day
        row.answer = answer
        if row.confirmed_at is None:  # a full statement confirms the request too
            row.confirmed_at = rt.clock.now()
        audit_record(
            session,
            rt,
            event="pedido_titular_respondido",
            actor=actor,
            record_type="request",
            record_id=row.id,
            case=None,
            evidence={
                "request_id": row.id,
                "answered_on": day.isoformat(),
                "days_late": max(0, (day - row.due_on).days),
            },
        )
        session.flush()
        return _request_row(row, today)


def _days_late(due_on: date, done_on: date | None, today: date) -> int:
    return max(0, ((done_on or today) - due_on).days)


def _request_row(row: SubjectRequest, today: date) -> dict[str, Any]:
    return {
        "id": row.id,
        "person_id": row.person_id,
        "kind": row.kind,
        "article": f"18 {REQUEST_KINDS[row.kind]}",
        "channel": row.channel,
        "received_on": row.received_on.isoformat(),
        "details": row.details,
        "due_on": row.due_on.isoformat(),
        "confirmed_at": iso_utc(row.confirmed_at) if row.confirmed_at else None,
        "answered_on": row.answered_on.isoformat() if row.answered_on else None,
        "answer": row.answer,
        "days_late": _days_late(row.due_on, row.answered_on, today),
        "created_by": row.created_by,
    }


def list_requests(
    rt: Runtime, *, open_only: bool = False, overdue: bool = False, person_id: int | None = None
) -> list[dict[str, Any]]:
    """The register, earliest due first; ``overdue``: open ones past their due date."""
    with rt.db.read() as session:
        today = local_date(rt.clock.now(), office(session).timezone)
        query = select(SubjectRequest).order_by(SubjectRequest.due_on, SubjectRequest.id)
        if open_only or overdue:
            query = query.where(SubjectRequest.answered_on.is_(None))
        if overdue:
            query = query.where(SubjectRequest.due_on < today)
        if person_id is not None:
            query = query.where(SubjectRequest.person_id == person_id)
        return [_request_row(r, today) for r in session.execute(query).scalars()]


def requests_of(session: Session, person_id: int) -> list[dict[str, Any]]:
    """A person's requests, for their statement (what they asked, when, when it was answered)."""
    return [
        {
            "request_id": r.id,
            "kind": r.kind,
            "received_on": r.received_on.isoformat(),
            "due_on": r.due_on.isoformat(),
            "answered_on": r.answered_on.isoformat() if r.answered_on else None,
        }
        for r in session.execute(
            select(SubjectRequest)
            .where(SubjectRequest.person_id == person_id)
            .order_by(SubjectRequest.received_on, SubjectRequest.id)
        ).scalars()
    ]


# ------------------------------------------------------------------------ incidents


def add_incident(
    rt: Runtime,
    *,
    description: str,
    data_affected: str,
    actor: str,
    known_on: date | None = None,
    occurred_on: date | None = None,
    person_ids: list[int] | None = None,
    people_count: int | None = None,
) -> dict[str, Any]:
    """Register a security incident; its notices are due 3 working days after ``known_on``.

    ``person_ids``: the registered people affected; ``people_count``: how many people in all
    (at least as many as named; default, the people named).
    """
    check_actor(actor)
    description = _text(description, "description", 2000)
    data_affected = _text(data_affected, "data", 500)
    named = sorted(set(person_ids or []))
    if len(named) != len(person_ids or []):
        raise InvalidInput(N_("person: a person is named twice"), field="person")
    count = len(named) if people_count is None else people_count
    if count < 0:
        raise InvalidInput(N_("people: a number of people, 0 or more"), field="people")
    if count < len(named):
        raise InvalidInput(
            N_(
                "people: %(count)s is fewer than the %(named)s people named",
                count=count,
                named=len(named),
            ),
            field="people",
        )
    with rt.db.write() as session:
        place = office(session)
        today = local_date(rt.clock.now(), place.timezone)
        known = _not_after(known_on or today, today, "known")
        if occurred_on is not None:
            _not_after(occurred_on, known, "occurred")
        for pid in named:
            _person(session, pid)
        row = Incident(
            known_on=known,
            occurred_on=occurred_on,
            description=description,
            data_affected=data_affected,
            people_count=count,
            due_on=notice_due(place.calendar, known),
            keep_until=add_months(today, 12 * KEEP_YEARS),
            created_at=rt.clock.now(),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        session.add_all(IncidentPerson(incident_id=row.id, person_id=pid) for pid in named)
        session.flush()
        audit_record(
            session,
            rt,
            event="incidente_registrado",
            actor=actor,
            record_type="incident",
            record_id=row.id,
            case=None,
            evidence={"incident_id": row.id, "person_ids": named, "people_count": count},
        )
        return _incident_row(session, row, today)


def notify_incident(
    rt: Runtime,
    incident_id: int,
    *,
    actor: str,
    anpd_on: date | None = None,
    people_on: date | None = None,
) -> dict[str, Any]:
    """Record the notice to the ANPD and/or to the people affected, on the days given."""
    check_actor(actor)
    if anpd_on is None and people_on is None:
        raise InvalidInput(
            N_("say which notice was given: --anpd DATE, --people DATE or both"), field="notice"
        )
    with rt.db.write() as session:
        row = session.get(Incident, incident_id)
        if row is None:
            raise NotFound("incident", incident_id)
        today = local_date(rt.clock.now(), office(session).timezone)
        for day, what, current in (
            (anpd_on, "anpd", row.anpd_notified_on),
            (people_on, "people", row.people_notified_on),
        ):
            if day is None:
                continue
            if current is not None:
                raise NotAllowed(
                    N_(
                        "incident %(id)s: the notice to %(what)s was already recorded on %(day)s",
                        id=incident_id,
                        what=what,
                        day=current.isoformat(),
                    )
                )
            _not_after(day, today, what)
            if day < row.known_on:
                raise InvalidInput(
                    N_(
                        "%(what)s: %(day)s is before the incident was known (%(known)s)",
                        what=what,
                        day=day.isoformat(),
                        known=row.known_on.isoformat(),
                    ),
                    field=what,
                )
        if anpd_on is not None:
            row.anpd_notified_on = anpd_on
        if people_on is not None:
            row.people_notified_on = people_on
        audit_record(
            session,
            rt,
            event="incidente_comunicado",
            actor=actor,
            record_type="incident",
            record_id=row.id,
            case=None,
            evidence={
                "incident_id": row.id,
                "anpd_on": anpd_on.isoformat() if anpd_on else None,
                "people_on": people_on.isoformat() if people_on else None,
            },
        )
        session.flush()
        return _incident_row(session, row, today)


def _incident_row(session: Session, row: Incident, today: date) -> dict[str, Any]:
    people = list(
        session.execute(
            select(IncidentPerson.person_id)
            .where(IncidentPerson.incident_id == row.id)
            .order_by(IncidentPerson.person_id)
        ).scalars()
    )
    done = (
        max(row.anpd_notified_on, row.people_notified_on)
        if row.anpd_notified_on and row.people_notified_on
        else None
    )
    return {
        "id": row.id,
        "known_on": row.known_on.isoformat(),
        "occurred_on": row.occurred_on.isoformat() if row.occurred_on else None,
        "description": row.description,
        "data_affected": row.data_affected,
        "people_count": row.people_count,
        "person_ids": people,
        "due_on": row.due_on.isoformat(),
        "anpd_notified_on": row.anpd_notified_on.isoformat() if row.anpd_notified_on else None,
        "people_notified_on": (
            row.people_notified_on.isoformat() if row.people_notified_on else None
        ),
        "days_late": _days_late(row.due_on, done, today),
        "keep_until": row.keep_until.isoformat(),
        "created_by": row.created_by,
    }


def list_incidents(
    rt: Runtime, *, open_only: bool = False, overdue: bool = False
) -> list[dict[str, Any]]:
    """The incident register, earliest due first; ``open_only``: a notice still missing."""
    with rt.db.read() as session:
        today = local_date(rt.clock.now(), office(session).timezone)
        query = select(Incident).order_by(Incident.due_on, Incident.id)
        if open_only or overdue:
            query = query.where(
                Incident.anpd_notified_on.is_(None) | Incident.people_notified_on.is_(None)
            )
        if overdue:
            query = query.where(Incident.due_on < today)
        return [_incident_row(session, r, today) for r in session.execute(query).scalars()]


def incidents_of(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The incidents that affected a person, for their statement."""
    return [
        {
            "incident_id": i.id,
            "known_on": i.known_on.isoformat(),
            "data_affected": i.data_affected,
            "people_notified_on": (
                i.people_notified_on.isoformat() if i.people_notified_on else None
            ),
        }
        for i in session.execute(
            select(Incident)
            .join(IncidentPerson, IncidentPerson.incident_id == Incident.id)
            .where(IncidentPerson.person_id == person_id)
            .order_by(Incident.known_on, Incident.id)
        ).scalars()
    ]


def shared_with(session: Session, person_id: int) -> list[dict[str, Any]]:
    """The partner exports that carried a person (art. 18 VII: with whom it was shared)."""
    from states.records import PartnerExport, PartnerExportPerson

    return [
        {
            "export_id": e.id,
            "at": iso_utc(e.at),
            "recipient": e.recipient,
            "case_id": e.case_id,
            "by": e.actor,
        }
        for e in session.execute(
            select(PartnerExport)
            .join(PartnerExportPerson, PartnerExportPerson.export_id == PartnerExport.id)
            .where(PartnerExportPerson.person_id == person_id)
            .order_by(PartnerExport.at, PartnerExport.id)
        ).scalars()
    ]


# ------------------------------------------------------------------------ reminders


@dataclass
class DeadlineReport:
    """What one pass over the registers' due dates queued."""

    checked: int = 0
    queued: int = 0
    already_queued: int = 0
    unaddressed: int = 0


def queue_deadline_messages(
    rt: Runtime, *, now: datetime, policy: Policy | None = None
) -> DeadlineReport:
    """Queue the reminders and escalations of the open requests and incidents, as the deadline
    sweep does for cases (the same policy steps, counted on the office's working days).

    Reminders (and the supervisor-level escalation) go to the active administrators, the
    management-level escalation to the programme's managers. Every message is sent at once and
    cannot be opted out of (category ``escalation``): a legal deadline of the controller. Each
    row has its key (``lgpd:<register>:<number>:<due>:<step>:<user>``): a second pass queues
    nothing new.
    """
    policy = policy or current_policy()
    report = DeadlineReport()
    with rt.db.read() as session:
        place = office(session)
        today = local_date(now, place.timezone)
        bound = today + timedelta(days=1 + policy.margin_days())
        users = [
            Recipient.of(u)
            for u in session.execute(
                select(User)
                .where(User.active.is_(True), User.role.in_(("admin", "manager")))
                .order_by(User.username)
            ).scalars()
        ]
        items: list[tuple[str, int, date, date]] = [
            ("request", r.id, r.received_on, r.due_on)
            for r in session.execute(
                select(SubjectRequest).where(
                    SubjectRequest.answered_on.is_(None), SubjectRequest.due_on <= bound
                )
            ).scalars()
        ]
        items += [
            ("incident", i.id, i.known_on, i.due_on)
            for i in session.execute(
                select(Incident).where(
                    Incident.anpd_notified_on.is_(None) | Incident.people_notified_on.is_(None),
                    Incident.due_on <= bound,
                )
            ).scalars()
        ]
    admins = [u for u in users if u.role == "admin"]
    managers = [u for u in users if u.role == "manager"]
    domain = default_domain()
    rows = []
    for register, number, since, due_on in items:
        report.checked += 1
        for step in due_now(policy.steps(place.calendar, due_on), today):
            recipients = managers if step.to == "manager" else admins
            if not recipients:
                report.unaddressed += 1
            days = (today - due_on).days
            label = step.name if step.to != "coordinator" else None
            for person in recipients:
                context = {
                    "recipient_name": person.name,
                    "register": register,
                    "number": number,
                    "since": since.isoformat(),
                    "due_on": due_on.isoformat(),
                    "days": abs(days),
                    "step": label or ("before" if days < 0 else "due" if days == 0 else "late"),
                }
                rows.append(
                    values_for(
                        key=f"lgpd:{register}:{number}:{due_on.isoformat()}:{step.name}:"
                        f"{person.username}",
                        case_id=None,
                        category=ESCALATION,
                        template=TEMPLATE,
                        recipient=person,
                        context=context,
                        now=now,
                        domain=domain,
                    )
                )
    if rows:
        with rt.db.write() as session:
            inserted = insert_rows(session, rows)
        report.queued = len(inserted)
        report.already_queued = len(rows) - len(inserted)
    return report
