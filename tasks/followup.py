"""Follow-up (acompanhamento): visits, the Comitê Local de Ação Integrada (CLAI), and the
Protocol of Integrated Actions with its dated commitments.

A visit satisfies the open "visit every 90 days" obligation and opens the next one, within the
12-month follow-up period (see :mod:`tasks.obligations`); each commitment of the Protocol is an
obligation until done. Nothing is dated in the future or before the case was registered; a
visit to an enterprise is not dated before the enterprise formed. The income a visit reports
to a MEI is checked against the MEI's revenue cap (:func:`tasks.enterprises.check_mei_revenue`). :func:`list_visits` and
:func:`follow_up_detail` read it back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from states import store
from states.audit import iso_utc
from states.bounds import Bounded
from states.deadlines import add_months, local_date
from states.errors import InvalidInput, NotAllowed, NotFound
from states.evidence import check_username
from states.models import Case
from states.records import Clai, Commitment, Enterprise, Protocol, Visit
from states.states import State
from states.text import N_
from tasks import enterprises, obligations
from tasks.demands import check_actor
from tasks.records_common import audit_record, get_case, parse_input
from tasks.runtime import Runtime


class VisitInput(Bounded):
    """What a follow-up visit found."""

    case_id: int
    visited_on: date
    findings: str = Field(min_length=1)
    enterprise_id: int | None = None
    active: bool | None = Field(default=None, description="is the enterprise still active?")
    members: int | None = Field(default=None, ge=0)
    monthly_income: Decimal | None = Field(default=None, ge=0, decimal_places=2)
    visitor: str | None = Field(default=None, description="default: the actor")


def _today(session: Session, rt: Runtime, case: Case) -> date:
    municipality = store.get_municipality(session, case.municipality_code)
    assert municipality is not None
    return local_date(rt.clock.now(), municipality.timezone)


def _not_future(day: date, today: date, what: str) -> None:
    if day > today:
        raise InvalidInput(
            N_(
                "%(what)s %(day)s is in the future (today is %(today)s)",
                what=what,
                day=day,
                today=today,
            ),
            field=what,
        )


def _not_before_case(session: Session, day: date, case: Case, what: str) -> None:
    municipality = store.get_municipality(session, case.municipality_code)
    assert municipality is not None
    registered_on = local_date(case.registered_at, municipality.timezone)
    if day < registered_on:
        raise InvalidInput(
            N_(
                "%(what)s %(day)s is before case %(id)s was registered (%(registered_on)s)",
                what=what,
                day=day,
                id=case.id,
                registered_on=registered_on,
            ),
            field=what,
        )


def record_visit(rt: Runtime, raw: VisitInput | dict[str, object], *, actor: str) -> int:
    """Record a follow-up visit; its number."""
    check_actor(actor)
    data = parse_input(VisitInput, raw, "visit")
    visitor = data.visitor or actor
    try:
        check_username(visitor)
    except ValueError as exc:
        raise InvalidInput(N_("visitor: %(exc)s", exc=exc), field="visitor") from None
    with rt.db.write() as session:
        case = get_case(session, data.case_id)
        _not_future(data.visited_on, _today(session, rt, case), "visited_on")
        _not_before_case(session, data.visited_on, case, "visited_on")
        if data.enterprise_id is not None:
            enterprise = session.get(Enterprise, data.enterprise_id)
            if enterprise is None:
                raise NotFound("enterprise", data.enterprise_id)
            if enterprise.case_id != case.id:
                raise InvalidInput(
                    N_(
                        "enterprise %(id)s belongs to case %(case_id)s, not %(id2)s",
                        id=enterprise.id,
                        case_id=enterprise.case_id,
                        id2=case.id,
                    ),
                    field="enterprise_id",
                )
            if data.visited_on < enterprise.formed_on:
                raise InvalidInput(
                    N_(
                        "visited_on %(visited_on)s is before enterprise %(id)s existed (formed on %(formed_on)s)",
                        visited_on=data.visited_on,
                        id=enterprise.id,
                        formed_on=enterprise.formed_on,
                    ),
                    field="visited_on",
                )
        elif data.active is not None or data.members is not None or data.monthly_income is not None:
            raise InvalidInput(
                N_("active, members and monthly_income describe an enterprise: give enterprise_id"),
                field="enterprise_id",
            )
        visit = Visit(
            **data.model_dump(exclude={"visitor"}),
            visitor=visitor,
            recorded_at=rt.clock.now(),
        )
        session.add(visit)
        session.flush()
        obligations.next_visit(session, rt, case, data.visited_on, visit.id)
        visited = session.get(Enterprise, data.enterprise_id) if data.enterprise_id else None
        if visited is not None and data.monthly_income is not None:
            enterprises.check_mei_revenue(session, rt, visited, data.visited_on)
        audit_record(
            session,
            rt,
            event="visita",
            actor=actor,
            record_type="visit",
            record_id=visit.id,
            case=case,
            # the findings are free text that may name people: they stay in the visit's record
            # (corrected or erased there); the append-only history keeps their length (LGPD)
            evidence=data.model_dump(mode="json", exclude={"visitor", "findings"})
            | {"visitor": visitor, "findings_chars": len(data.findings)},
        )
        return visit.id


def install_clai(
    rt: Runtime, case_id: int, *, installed_on: date, members: list[str], actor: str
) -> None:
    """Record the installation of the case's Comitê Local de Ação Integrada."""
    check_actor(actor)
    members = [m.strip() for m in members if m.strip()]
    if not members:
        raise InvalidInput(N_("the CLAI needs at least one member institution"), field="members")
    with rt.db.write() as session:
        case = get_case(session, case_id)
        _not_future(installed_on, _today(session, rt, case), "installed_on")
        _not_before_case(session, installed_on, case, "installed_on")
        if session.get(Clai, case_id) is not None:
            raise NotAllowed(N_("case %(case_id)s already has its CLAI installed", case_id=case_id))
        session.add(Clai(case_id=case_id, installed_on=installed_on, members=members))
        session.flush()
        audit_record(
            session,
            rt,
            event="clai_instalado",
            actor=actor,
            record_type="clai",
            record_id=case_id,
            case=case,
            evidence={"installed_on": installed_on.isoformat(), "members": members},
        )


def sign_protocol(
    rt: Runtime, case_id: int, *, signed_on: date, signatories: list[str], actor: str
) -> None:
    """Record the signing of the Protocol of Integrated Actions."""
    check_actor(actor)
    signatories = [s.strip() for s in signatories if s.strip()]
    if not signatories:
        raise InvalidInput(N_("the Protocol needs at least one signatory"), field="signatories")
    with rt.db.write() as session:
        case = get_case(session, case_id)
        _not_future(signed_on, _today(session, rt, case), "signed_on")
        _not_before_case(session, signed_on, case, "signed_on")
        if session.get(Protocol, case_id) is not None:
            raise NotAllowed(
                N_("case %(case_id)s already has its Protocol signed", case_id=case_id)
            )
        session.add(Protocol(case_id=case_id, signed_on=signed_on, signatories=signatories))
        session.flush()
        audit_record(
            session,
            rt,
            event="protocolo_assinado",
            actor=actor,
            record_type="protocol",
            record_id=case_id,
            case=case,
            evidence={"signed_on": signed_on.isoformat(), "signatories": signatories},
        )


def add_commitment(
    rt: Runtime, case_id: int, *, partner: str, action: str, due_on: date, actor: str
) -> int:
    """Add a commitment of a partner institution to the Protocol; its number."""
    check_actor(actor)
    partner, action = partner.strip(), action.strip()
    if not partner or not action:
        raise InvalidInput(N_("a commitment needs a partner and an action"), field="partner")
    if len(partner) > 200:
        raise InvalidInput(N_("the partner's name has more than 200 characters"), field="partner")
    with rt.db.write() as session:
        case = get_case(session, case_id)
        protocol = session.get(Protocol, case_id)
        if protocol is None:
            raise NotAllowed(
                N_("case %(case_id)s has no signed Protocol to add commitments to", case_id=case_id)
            )
        if due_on < protocol.signed_on:
            raise InvalidInput(
                N_(
                    "due_on %(due_on)s is before the Protocol was signed (%(signed_on)s)",
                    due_on=due_on,
                    signed_on=protocol.signed_on,
                ),
                field="due_on",
            )
        row = Commitment(case_id=case_id, partner=partner, action=action, due_on=due_on)
        session.add(row)
        session.flush()
        obligations.open_obligation(
            session,
            rt,
            case_id=case_id,
            kind=obligations.PROTOCOL_COMMITMENT,
            due_on=due_on,
            params={"partner": partner, "action": action},
            record_type="commitment",
            record_id=row.id,
        )
        audit_record(
            session,
            rt,
            event="compromisso",
            actor=actor,
            record_type="commitment",
            record_id=row.id,
            case=case,
            evidence={"partner": partner, "action": action, "due_on": due_on.isoformat()},
        )
        return row.id


def fulfil_commitment(rt: Runtime, commitment_id: int, *, done_on: date, actor: str) -> None:
    """Record that a partner kept a commitment."""
    check_actor(actor)
    with rt.db.write() as session:
        row = session.get(Commitment, commitment_id)
        if row is None:
            raise NotFound("commitment", commitment_id)
        if row.done_on is not None:
            raise NotAllowed(
                N_(
                    "commitment %(commitment_id)s was already done on %(done_on)s",
                    commitment_id=commitment_id,
                    done_on=row.done_on,
                )
            )
        case = get_case(session, row.case_id)
        _not_future(done_on, _today(session, rt, case), "done_on")
        protocol = session.get(Protocol, row.case_id)
        if protocol is not None and done_on < protocol.signed_on:
            raise InvalidInput(
                N_(
                    "done_on %(done_on)s is before the Protocol was signed (%(signed_on)s)",
                    done_on=done_on,
                    signed_on=protocol.signed_on,
                ),
                field="done_on",
            )
        row.done_on = done_on
        obligations.satisfy(
            session,
            case_id=row.case_id,
            kind=obligations.PROTOCOL_COMMITMENT,
            on=done_on,
            by=f"commitment:{commitment_id}",
            record_type="commitment",
            record_id=commitment_id,
        )
        audit_record(
            session,
            rt,
            event="compromisso_cumprido",
            actor=actor,
            record_type="commitment",
            record_id=commitment_id,
            case=case,
            evidence={"done_on": done_on.isoformat()},
        )


# ------------------------------------------------------------------------------ reading


def _visit_row(v: Visit) -> dict[str, Any]:
    return {
        "id": v.id,
        "case_id": v.case_id,
        "enterprise_id": v.enterprise_id,
        "visited_on": v.visited_on.isoformat(),
        "visitor": v.visitor,
        "findings": v.findings,
        "active": v.active,
        "members": v.members,
        "monthly_income": str(v.monthly_income) if v.monthly_income is not None else None,
        "recorded_at": iso_utc(v.recorded_at),
    }


def list_visits(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The case's visits, oldest first."""
    get_case(session, case_id)
    return [
        _visit_row(v)
        for v in session.execute(
            select(Visit).where(Visit.case_id == case_id).order_by(Visit.visited_on, Visit.id)
        ).scalars()
    ]


def _days_late(due: date, done: date | None, today: date | None) -> int | None:
    end = done or today
    return max(0, (end - due).days) if end is not None else None


def follow_up_detail(
    session: Session,
    case_id: int,
    *,
    today: date | None = None,
    follow_up_months: int | None = None,
) -> dict[str, Any]:
    """The case's follow-up: CLAI, Protocol with its commitments, visits, the next visit due.

    ``today`` computes the days late; ``follow_up_months`` (the configured period) gives the
    end of the follow-up period of a case in ``acompanhamento``.
    """
    case = get_case(session, case_id)
    clai = session.get(Clai, case_id)
    protocol = session.get(Protocol, case_id)
    commitments = session.execute(
        select(Commitment).where(Commitment.case_id == case_id).order_by(Commitment.id)
    ).scalars()
    visits = [v["visited_on"] for v in list_visits(session, case_id)]
    in_follow_up = case.state == State.ACOMPANHAMENTO.value
    next_visit = obligations.list_obligations(
        session, today=today, case_id=case_id, kind=obligations.FOLLOW_UP_VISIT
    )
    return {
        "case_id": case_id,
        "state": case.state,
        "clai": (
            {"installed_on": clai.installed_on.isoformat(), "members": list(clai.members)}
            if clai
            else None
        ),
        "protocol": (
            {"signed_on": protocol.signed_on.isoformat(), "signatories": list(protocol.signatories)}
            if protocol
            else None
        ),
        "commitments": [
            {
                "id": c.id,
                "partner": c.partner,
                "action": c.action,
                "due_on": c.due_on.isoformat(),
                "done_on": c.done_on.isoformat() if c.done_on else None,
                "days_late": _days_late(c.due_on, c.done_on, today),
            }
            for c in commitments
        ],
        "follow_up_since": case.entered_on.isoformat() if in_follow_up else None,
        "follow_up_ends": (
            add_months(case.entered_on, follow_up_months).isoformat()
            if in_follow_up and follow_up_months
            else None
        ),
        "visits": visits,
        "next_visit_due": next_visit[0]["due_on"] if next_visit else None,
    }
