"""Hubs (polos): the municipality chosen as development hub, the CLAI and the Protocol of
Integrated Actions it holds for the cases of its territory.

A hub is a municipality (its IBGE code is its number). Its cases are those whose hub decision
(``formalizar_polo``) named it: the decision creates the hub when it is the first
(:func:`case_joined`); an administrator or coordinator may also designate one ahead
(:func:`create_hub`). A case is attached only to a hub of its own territory (UF): the check is
the event's (:func:`states.record_views.check_evidence`).

The CLAI (installed once, its members from the register of partners) meets
(:func:`record_meeting`: date, institutions present, decisions). The Protocol (signed once, its
signatories from the register) holds commitments of partners, each with a due date: a
commitment is an obligation (:mod:`tasks.obligations`) of every open case of the hub until done
— overdue, it shows on each case and the deadline sweep escalates it to each case's people; a
case that joins the hub later takes on the open ones. The ``acompanhamento`` guard reads the
hub's CLAI and Protocol (:func:`states.record_views.follow_up_summary`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from states.calendar import calendar_for
from states.deadlines import local_date
from states.errors import InvalidInput, NotAllowed, NotFound
from states.models import Case, Municipality
from states.records import (
    Clai,
    ClaiMeeting,
    ClaiMeetingPartner,
    ClaiMember,
    Commitment,
    Hub,
    Obligation,
    Protocol,
    ProtocolSignatory,
)
from states.states import CLOSED
from states.text import N_
from tasks import obligations, partners
from tasks.demands import check_actor
from tasks.records_common import audit_record
from tasks.runtime import Runtime

_CLOSED = frozenset(s.value for s in CLOSED)
ACTION_MAX = 2000
DECISIONS_MAX = 50


def _municipality(session: Session, code: int, field: str) -> Municipality:
    row = session.get(Municipality, code)
    if row is None:
        raise InvalidInput(
            N_(
                "%(field)s: %(code)s is not in IBGE's list of municipalities",
                field=field,
                code=code,
            ),
            field=field,
        )
    return row


def get_hub(session: Session, code: int) -> Hub:
    hub = session.get(Hub, code)
    if hub is None:
        raise NotFound("hub", code)
    return hub


def _today(session: Session, rt: Runtime, code: int) -> date:
    municipality = session.get(Municipality, code)
    assert municipality is not None
    return local_date(rt.clock.now(), municipality.timezone)


def _dated(session: Session, rt: Runtime, hub: Hub, day: date, what: str) -> None:
    """``day`` is not in the future and not before the hub was designated."""
    today = _today(session, rt, hub.municipality_code)
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
    if day < hub.designated_on:
        raise InvalidInput(
            N_(
                "%(what)s %(day)s is before hub %(hub)s was designated (%(designated_on)s)",
                what=what,
                day=day,
                hub=hub.municipality_code,
                designated_on=hub.designated_on,
            ),
            field=what,
        )


def create_hub(rt: Runtime, municipality_code: int, *, designated_on: date, actor: str) -> int:
    """Designate a municipality as a development hub; its number (the IBGE code)."""
    check_actor(actor)
    with rt.db.write() as session:
        _municipality(session, municipality_code, "municipality")
        if session.get(Hub, municipality_code) is not None:
            raise NotAllowed(N_("municipality %(code)s is already a hub", code=municipality_code))
        today = _today(session, rt, municipality_code)
        if designated_on > today:
            raise InvalidInput(
                N_(
                    "%(what)s %(day)s is in the future (today is %(today)s)",
                    what="designated_on",
                    day=designated_on,
                    today=today,
                ),
                field="designated_on",
            )
        _add_hub(session, rt, municipality_code, designated_on, actor)
        return municipality_code


def _add_hub(
    session: Session,
    rt: Runtime,
    code: int,
    designated_on: date,
    actor: str,
    *,
    audited: bool = True,
) -> Hub:
    hub = Hub(
        municipality_code=code,
        designated_on=designated_on,
        created_at=rt.clock.now(),
        created_by=actor,
    )
    session.add(hub)
    session.flush()
    if not audited:
        return hub
    audit_record(
        session,
        rt,
        event="polo_designado",
        actor=actor,
        record_type="hub",
        record_id=code,
        case=None,
        evidence={"municipality_code": code, "designated_on": designated_on.isoformat()},
    )
    return hub


def case_joined(session: Session, rt: Runtime, case: Case, *, decided_on: date, actor: str) -> None:
    """In the write path of the hub decision (``formalizar_polo``), in its transaction: the
    hub exists from its first decision, and the case takes on the hub's open commitments."""
    code = case.hub_municipality_code
    if code is None:
        return
    if session.get(Hub, code) is None:  # the decision's own audit entry records it
        _add_hub(session, rt, code, decided_on, actor, audited=False)
    for commitment in _open_commitments(session, code):
        _commitment_obligation(session, rt, case.id, commitment)


def _open_commitments(session: Session, code: int) -> list[Commitment]:
    return list(
        session.execute(
            select(Commitment)
            .where(Commitment.hub_code == code, Commitment.done_on.is_(None))
            .order_by(Commitment.id)
        ).scalars()
    )


def _commitment_obligation(
    session: Session, rt: Runtime, case_id: int, commitment: Commitment
) -> None:
    if obligations.open_of(
        session,
        case_id=case_id,
        kind=obligations.PROTOCOL_COMMITMENT,
        record_type="commitment",
        record_id=commitment.id,
    ):
        return
    partner = partners.names_of(session, [commitment.partner_id])[commitment.partner_id]
    obligations.open_obligation(
        session,
        rt,
        case_id=case_id,
        kind=obligations.PROTOCOL_COMMITMENT,
        due_on=commitment.due_on,
        params={"partner": partner, "action": commitment.action},
        record_type="commitment",
        record_id=commitment.id,
    )


def case_ids(session: Session, code: int, *, open_only: bool = False) -> list[int]:
    """The cases of the hub, by number (``open_only``: not concluded or cancelled)."""
    query = select(Case.id).where(Case.hub_municipality_code == code).order_by(Case.id)
    if open_only:
        query = query.where(Case.state.not_in(sorted(_CLOSED)))
    return list(session.execute(query).scalars())


def hub_of_case(session: Session, case_id: int) -> int:
    """The hub of a case; NotAllowed when its hub was not formalised yet."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    if case.hub_municipality_code is None:
        raise NotAllowed(
            N_(
                "case %(case_id)s has no hub yet: the hub decision (formalizar_polo) names it",
                case_id=case_id,
            )
        )
    return case.hub_municipality_code


# ------------------------------------------------------------------------------ the CLAI


def install_clai(
    rt: Runtime,
    hub_code: int,
    *,
    installed_on: date,
    members: list[int | str] | list[str],
    actor: str,
) -> None:
    """Record the installation of the hub's CLAI with its member institutions."""
    check_actor(actor)
    with rt.db.write() as session:
        hub = get_hub(session, hub_code)
        clai = session.get(Clai, hub_code)
        if clai is not None:
            raise NotAllowed(
                N_(
                    "hub %(hub)s already has its CLAI installed (on %(on)s)",
                    hub=hub_code,
                    on=clai.installed_on,
                )
            )
        _dated(session, rt, hub, installed_on, "installed_on")
        ids = partners.resolve_all(session, members, field="members")
        session.add(Clai(hub_code=hub_code, installed_on=installed_on))
        session.flush()
        session.add_all(ClaiMember(hub_code=hub_code, partner_id=pid) for pid in ids)
        session.flush()
        audit_record(
            session,
            rt,
            event="clai_instalado",
            actor=actor,
            record_type="clai",
            record_id=hub_code,
            case=None,
            evidence={"installed_on": installed_on.isoformat(), "members": ids},
        )


def record_meeting(
    rt: Runtime,
    hub_code: int,
    *,
    held_on: date,
    present: list[int | str] | list[str],
    decisions: list[str],
    actor: str,
) -> int:
    """Record a meeting of the hub's CLAI: when, the institutions present, what it decided."""
    check_actor(actor)
    decisions = [d.strip() for d in decisions if d.strip()]
    if not decisions:
        raise InvalidInput(
            N_("decisions: a CLAI meeting records at least one decision"), field="decisions"
        )
    if len(decisions) > DECISIONS_MAX or any(len(d) > ACTION_MAX for d in decisions):
        raise InvalidInput(
            N_(
                "decisions: at most %(n)s decisions of %(max)s characters each",
                n=DECISIONS_MAX,
                max=ACTION_MAX,
            ),
            field="decisions",
        )
    with rt.db.write() as session:
        hub = get_hub(session, hub_code)
        clai = session.get(Clai, hub_code)
        if clai is None:
            raise NotAllowed(
                N_("hub %(hub)s has no CLAI installed: install it first", hub=hub_code)
            )
        _dated(session, rt, hub, held_on, "held_on")
        if held_on < clai.installed_on:
            raise InvalidInput(
                N_(
                    "held_on %(held_on)s is before the CLAI was installed (%(installed_on)s)",
                    held_on=held_on,
                    installed_on=clai.installed_on,
                ),
                field="held_on",
            )
        ids = partners.resolve_all(session, present, field="present")
        meeting = ClaiMeeting(
            hub_code=hub_code,
            held_on=held_on,
            decisions=decisions,
            recorded_at=rt.clock.now(),
            recorded_by=actor,
        )
        session.add(meeting)
        session.flush()
        session.add_all(ClaiMeetingPartner(meeting_id=meeting.id, partner_id=p) for p in ids)
        session.flush()
        audit_record(
            session,
            rt,
            event="reuniao_clai",
            actor=actor,
            record_type="clai_meeting",
            record_id=meeting.id,
            case=None,
            # the decisions are free text: they stay in the meeting's record
            evidence={
                "hub": hub_code,
                "held_on": held_on.isoformat(),
                "present": ids,
                "decisions": len(decisions),
            },
        )
        return meeting.id


# ------------------------------------------------------------------------------ the Protocol


def sign_protocol(
    rt: Runtime,
    hub_code: int,
    *,
    signed_on: date,
    signatories: list[int | str] | list[str],
    actor: str,
) -> None:
    """Record the signing of the hub's Protocol of Integrated Actions."""
    check_actor(actor)
    with rt.db.write() as session:
        hub = get_hub(session, hub_code)
        protocol = session.get(Protocol, hub_code)
        if protocol is not None:
            raise NotAllowed(
                N_(
                    "hub %(hub)s already has its Protocol signed (on %(on)s)",
                    hub=hub_code,
                    on=protocol.signed_on,
                )
            )
        _dated(session, rt, hub, signed_on, "signed_on")
        ids = partners.resolve_all(session, signatories, field="signatories")
        session.add(Protocol(hub_code=hub_code, signed_on=signed_on))
        session.flush()
        session.add_all(ProtocolSignatory(hub_code=hub_code, partner_id=p) for p in ids)
        session.flush()
        audit_record(
            session,
            rt,
            event="protocolo_assinado",
            actor=actor,
            record_type="protocol",
            record_id=hub_code,
            case=None,
            evidence={"signed_on": signed_on.isoformat(), "signatories": ids},
        )


def add_commitment(
    rt: Runtime, hub_code: int, *, partner: int | str, action: str, due_on: date, actor: str
) -> int:
    """Add a partner's commitment to the hub's Protocol; its number. It is an obligation of
    every open case of the hub until done."""
    check_actor(actor)
    action = action.strip()
    if not action:
        raise InvalidInput(N_("action: a commitment needs an action"), field="action")
    if len(action) > ACTION_MAX:
        raise InvalidInput(
            N_("action: more than %(max)s characters", max=ACTION_MAX), field="action"
        )
    with rt.db.write() as session:
        get_hub(session, hub_code)
        protocol = session.get(Protocol, hub_code)
        if protocol is None:
            raise NotAllowed(
                N_("hub %(hub)s has no signed Protocol to add commitments to", hub=hub_code)
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
        who = partners.resolve(session, partner, field="partner")
        row = Commitment(hub_code=hub_code, partner_id=who.id, action=action, due_on=due_on)
        session.add(row)
        session.flush()
        for case_id in case_ids(session, hub_code, open_only=True):
            _commitment_obligation(session, rt, case_id, row)
        audit_record(
            session,
            rt,
            event="compromisso",
            actor=actor,
            record_type="commitment",
            record_id=row.id,
            case=None,
            evidence={
                "hub": hub_code,
                "partner_id": who.id,
                "action": action,
                "due_on": due_on.isoformat(),
            },
        )
        return row.id


def fulfil_commitment(rt: Runtime, commitment_id: int, *, done_on: date, actor: str) -> None:
    """Record that a partner kept a commitment: the obligation of each case is satisfied."""
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
        today = _today(session, rt, row.hub_code)
        if done_on > today:
            raise InvalidInput(
                N_(
                    "%(what)s %(day)s is in the future (today is %(today)s)",
                    what="done_on",
                    day=done_on,
                    today=today,
                ),
                field="done_on",
            )
        protocol = session.get(Protocol, row.hub_code)
        assert protocol is not None
        if done_on < protocol.signed_on:
            raise InvalidInput(
                N_(
                    "done_on %(done_on)s is before the Protocol was signed (%(signed_on)s)",
                    done_on=done_on,
                    signed_on=protocol.signed_on,
                ),
                field="done_on",
            )
        row.done_on = done_on
        for obligation in session.execute(
            select(Obligation).where(
                Obligation.record_type == "commitment",
                Obligation.record_id == commitment_id,
                Obligation.satisfied_on.is_(None),
            )
        ).scalars():
            obligation.satisfied_on = done_on
            obligation.satisfied_by = f"commitment:{commitment_id}"
        session.flush()
        audit_record(
            session,
            rt,
            event="compromisso_cumprido",
            actor=actor,
            record_type="commitment",
            record_id=commitment_id,
            case=None,
            evidence={"hub": row.hub_code, "done_on": done_on.isoformat()},
        )


# ------------------------------------------------------------------------------ reading


def _late(due: date, done: date | None, today: date | None) -> int | None:
    end = done or today
    return max(0, (end - due).days) if end is not None else None


def list_hubs(session: Session, *, ufs: frozenset[str] | None = None) -> list[dict[str, Any]]:
    """The hubs (of the UFs ``ufs``; None: all), by UF and name, with their case counts."""
    query = (
        select(Hub, Municipality.name, Municipality.uf)
        .join(Municipality, Municipality.ibge_code == Hub.municipality_code)
        .order_by(Municipality.uf, Municipality.name)
    )
    if ufs is not None:
        query = query.where(Municipality.uf.in_(sorted(ufs)))
    rows = []
    for hub, name, uf in session.execute(query).all():
        rows.append(
            {
                "hub": hub.municipality_code,
                "name": name,
                "uf": uf,
                "designated_on": hub.designated_on.isoformat(),
                "cases": len(case_ids(session, hub.municipality_code)),
                "clai": session.get(Clai, hub.municipality_code) is not None,
                "protocol": session.get(Protocol, hub.municipality_code) is not None,
            }
        )
    return rows


def hub_detail(session: Session, code: int, *, today: date | None = None) -> dict[str, Any]:
    """The hub: its municipality, cases, CLAI (members, meetings), Protocol (signatories,
    commitments with their days late as of ``today``)."""
    hub = get_hub(session, code)
    municipality = session.get(Municipality, code)
    assert municipality is not None
    cases = session.execute(
        select(Case.id, Case.community, Case.state, Municipality.name)
        .join(Municipality, Municipality.ibge_code == Case.municipality_code)
        .where(Case.hub_municipality_code == code)
        .order_by(Case.id)
    ).all()
    clai = session.get(Clai, code)
    protocol = session.get(Protocol, code)
    members = list(
        session.execute(select(ClaiMember.partner_id).where(ClaiMember.hub_code == code)).scalars()
    )
    signatories = list(
        session.execute(
            select(ProtocolSignatory.partner_id).where(ProtocolSignatory.hub_code == code)
        ).scalars()
    )
    meetings = list(
        session.execute(
            select(ClaiMeeting)
            .where(ClaiMeeting.hub_code == code)
            .order_by(ClaiMeeting.held_on, ClaiMeeting.id)
        ).scalars()
    )
    present: dict[int, list[int]] = {m.id: [] for m in meetings}
    if meetings:
        for mid, pid in session.execute(
            select(ClaiMeetingPartner.meeting_id, ClaiMeetingPartner.partner_id).where(
                ClaiMeetingPartner.meeting_id.in_(list(present))
            )
        ):
            present[mid].append(pid)
    commitments = list(
        session.execute(
            select(Commitment).where(Commitment.hub_code == code).order_by(Commitment.id)
        ).scalars()
    )
    ids = {*members, *signatories, *(c.partner_id for c in commitments)}
    for pids in present.values():
        ids.update(pids)
    names = partners.names_of(session, sorted(ids))
    calendar = calendar_for(session, code, municipality.uf)
    # a due date on a day without office hours moves to the next working day (Lei 9.784 art. 66)
    due = {c.id: calendar.roll_forward(c.due_on) for c in commitments}
    return {
        "hub": code,
        "name": municipality.name,
        "uf": municipality.uf,
        "designated_on": hub.designated_on.isoformat(),
        "cases": [
            {"id": c.id, "community": c.community, "state": c.state, "municipality": c.name}
            for c in cases
        ],
        "clai": (
            {
                "installed_on": clai.installed_on.isoformat(),
                "members": sorted(names[p] for p in members),
            }
            if clai
            else None
        ),
        "meetings": [
            {
                "id": m.id,
                "held_on": m.held_on.isoformat(),
                "present": sorted(names[p] for p in present[m.id]),
                "decisions": list(m.decisions),
            }
            for m in meetings
        ],
        "protocol": (
            {
                "signed_on": protocol.signed_on.isoformat(),
                "signatories": sorted(names[p] for p in signatories),
            }
            if protocol
            else None
        ),
        "commitments": [
            {
                "id": c.id,
                "partner": names[c.partner_id],
                "action": c.action,
                "due_on": c.due_on.isoformat(),
                "done_on": c.done_on.isoformat() if c.done_on else None,
                "days_late": _late(due[c.id], c.done_on, today),
                "overdue": c.done_on is None and today is not None and due[c.id] < today,
            }
            for c in commitments
        ],
    }
