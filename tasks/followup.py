"""Follow-up (acompanhamento): visits, and the Comitê Local de Ação Integrada (CLAI) and the
Protocol of Integrated Actions of the case's hub, with its dated commitments.

A visit satisfies the open "visit every 90 days" obligation and opens the next one, within the
12-month follow-up period (see :mod:`tasks.obligations`); the CLAI and the Protocol belong to
the hub (:mod:`tasks.hubs`), and each commitment of the Protocol is an obligation of every case
of the hub until done. Nothing is dated in the future or before the case was registered; a
visit to an enterprise is not dated before the enterprise formed. The income a visit reports
to a MEI is checked against the MEI's revenue cap (:func:`tasks.enterprises.check_mei_revenue`).
:func:`list_visits` and
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
from states.errors import InvalidInput, NotFound
from states.evidence import check_username
from states.models import Case
from states.records import Enterprise, Hub, Visit
from states.states import State
from states.text import N_
from tasks import enterprises, hubs, obligations
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


# The CLAI and the Protocol belong to the case's hub (tasks.hubs): these take a case and act on
# its hub, for the commands and callers that start from a case.


def install_clai(
    rt: Runtime, case_id: int, *, installed_on: date, members: list[str], actor: str
) -> None:
    """Record the installation of the CLAI of the case's hub (members: partners of the
    register, by number or name)."""
    check_actor(actor)
    hubs.install_clai(
        rt, _hub(rt, case_id), installed_on=installed_on, members=members, actor=actor
    )


def sign_protocol(
    rt: Runtime, case_id: int, *, signed_on: date, signatories: list[str], actor: str
) -> None:
    """Record the signing of the Protocol of Integrated Actions of the case's hub."""
    check_actor(actor)
    hubs.sign_protocol(
        rt, _hub(rt, case_id), signed_on=signed_on, signatories=signatories, actor=actor
    )


def add_commitment(
    rt: Runtime, case_id: int, *, partner: str, action: str, due_on: date, actor: str
) -> int:
    """Add a partner's commitment to the Protocol of the case's hub; its number."""
    check_actor(actor)
    return hubs.add_commitment(
        rt, _hub(rt, case_id), partner=partner, action=action, due_on=due_on, actor=actor
    )


def fulfil_commitment(rt: Runtime, commitment_id: int, *, done_on: date, actor: str) -> None:
    """Record that a partner kept a commitment."""
    hubs.fulfil_commitment(rt, commitment_id, done_on=done_on, actor=actor)


def _hub(rt: Runtime, case_id: int) -> int:
    with rt.db.read() as session:
        return hubs.hub_of_case(session, case_id)


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
    hub = (
        hubs.hub_detail(session, case.hub_municipality_code, today=today)
        if case.hub_municipality_code is not None
        and session.get(Hub, case.hub_municipality_code) is not None
        else None
    )
    visits = [v["visited_on"] for v in list_visits(session, case_id)]
    in_follow_up = case.state == State.ACOMPANHAMENTO.value
    next_visit = obligations.list_obligations(
        session, today=today, case_id=case_id, kind=obligations.FOLLOW_UP_VISIT
    )
    return {
        "case_id": case_id,
        "state": case.state,
        "hub": case.hub_municipality_code,
        "clai": hub["clai"] if hub else None,
        "meetings": hub["meetings"] if hub else [],
        "protocol": hub["protocol"] if hub else None,
        "commitments": hub["commitments"] if hub else [],
        "follow_up_since": case.entered_on.isoformat() if in_follow_up else None,
        "follow_up_ends": (
            add_months(case.entered_on, follow_up_months).isoformat()
            if in_follow_up and follow_up_months
            else None
        ),
        "visits": visits,
        "next_visit_due": next_visit[0]["due_on"] if next_visit else None,
    }
