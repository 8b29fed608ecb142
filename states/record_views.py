"""What the guards read of the programme records, loaded for one event at a time.

:func:`records_for` loads only what the event's guard needs (nothing for most events), inside
the write transaction, so the guard judges the records as they are when the event commits.
The same summary is stored with the audit event: an auditor sees the numbers the guard saw.
What each event reads (``reads``) and checks (``checks``) is declared with the event
(:mod:`states.events`); :func:`check_evidence` runs the checks of evidence against the records.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session

from states.directory import check_assignee
from states.errors import InvalidInput
from states.evidence import Assignment, Evidence, FieldTraining, HubDecision
from states.guards import EccSummary, EnterpriseSummary, FollowUpSummary, Records
from states.models import Case, Municipality
from states.records import (
    Attendance,
    CaseParticipant,
    Clai,
    Enrolment,
    Enterprise,
    EnterpriseMember,
    EventCase,
    LegalStep,
    Protocol,
    TrainingEvent,
    Visit,
    session_days,
)
from states.territory import TypologyCheck, typology_check
from states.text import N_


def records_for(
    session: Session, case_id: int, reads: frozenset[str], evidence: Evidence
) -> Records:
    """The records a guard that ``reads`` those kinds (:data:`states.events.RECORD_KINDS`)
    reads for the case; nothing is read for an event whose guard reads none."""
    records = Records()
    if "participants" in reads:
        records = dataclasses.replace(records, participants=participant_count(session, case_id))
    if "ecc" in reads:
        assert isinstance(evidence, FieldTraining)
        records = dataclasses.replace(records, ecc=ecc_summary(session, evidence.ecc_id, case_id))
    if "enterprises" in reads:
        records = dataclasses.replace(records, enterprises=enterprise_summaries(session, case_id))
    if "follow_up" in reads:
        records = dataclasses.replace(records, follow_up=follow_up_summary(session, case_id))
    if "typology" in reads:
        records = dataclasses.replace(records, typology=typology_for(session, case_id))
    return records


def snapshot(records: Records, reads: frozenset[str]) -> dict[str, Any]:
    """The part of ``records`` the guard read, as JSON-ready data for the audit event."""
    data = dataclasses.asdict(records)
    return {key: data[key] for key in sorted(reads)}


def check_evidence(
    session: Session, checks: tuple[str, ...], event: str, evidence: Evidence, uf: str
) -> None:
    """Run the event's checks of its evidence against the records
    (:data:`states.events.CHECKS`); InvalidInput naming what is wrong."""
    if "hub_municipality" in checks:
        assert isinstance(evidence, HubDecision)
        if session.get(Municipality, evidence.hub_municipality_code) is None:
            raise InvalidInput(
                N_(
                    "evidence for %(event)s: hub_municipality_code %(hub_municipality_code)s is not in IBGE's list of municipalities",
                    event=event,
                    hub_municipality_code=evidence.hub_municipality_code,
                ),
                field="evidence",
            )
        hub_uf = session.get(Municipality, evidence.hub_municipality_code)
        assert hub_uf is not None
        if hub_uf.uf != uf:
            # a hub serves the communities of its territory: a case joins a hub of its own UF
            raise InvalidInput(
                N_(
                    "evidence for %(event)s: hub_municipality_code %(hub_municipality_code)s is in %(hub_uf)s, outside the case's territory (%(uf)s)",
                    event=event,
                    hub_municipality_code=evidence.hub_municipality_code,
                    hub_uf=hub_uf.uf,
                    uf=uf,
                ),
                field="evidence.hub_municipality_code",
            )
    if "assignee" in checks:
        assert isinstance(evidence, Assignment)
        check_assignee(session, evidence.coordinator, uf, field="evidence.coordinator")


def participant_count(session: Session, case_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(CaseParticipant)
            .where(CaseParticipant.case_id == case_id)
        ).scalar_one()
    )


#: the days each of the case's people enrolled for certification attended the ECC (0 if none)
_CERTIFICATION_DAYS = (
    select(func.count(Attendance.day))
    .select_from(Enrolment)
    .join(
        CaseParticipant,
        and_(
            CaseParticipant.person_id == Enrolment.person_id,
            CaseParticipant.case_id == bindparam("case_id"),
        ),
    )
    .outerjoin(
        Attendance,
        and_(
            Attendance.event_id == Enrolment.event_id, Attendance.person_id == Enrolment.person_id
        ),
    )
    .where(Enrolment.event_id == bindparam("event_id"), Enrolment.certification.is_(True))
    .group_by(Enrolment.person_id)
)


def ecc_summary(session: Session, event_id: int, case_id: int) -> EccSummary | None:
    event = session.get(TrainingEvent, event_id)
    if event is None:
        return None
    serves = (
        session.execute(
            select(EventCase).where(EventCase.event_id == event_id, EventCase.case_id == case_id)
        ).first()
        is not None
    )
    # the case's own people: an ECC serving several communities judges each on its
    # participants (their days only are counted: an ECC of many cases is not read whole per case)
    attended = session.execute(
        _CERTIFICATION_DAYS, {"event_id": event_id, "case_id": case_id}
    ).scalars()
    groups = session.execute(
        select(func.count())
        .select_from(Enterprise)
        .where(Enterprise.case_id == case_id, Enterprise.formed_at_event_id == event_id)
    ).scalar_one()
    return EccSummary(
        event_id=event.id,
        kind=event.kind,
        start_on=event.start_on,
        end_on=event.end_on,
        held_on=event.held_on,
        serves_case=serves,
        session_days=len(session_days(event)),
        certification_attendance=tuple(sorted((int(d) for d in attended), reverse=True)),
        groups=int(groups),
    )


def enterprise_summaries(session: Session, case_id: int) -> tuple[EnterpriseSummary, ...]:
    enterprises = list(
        session.execute(
            select(Enterprise).where(Enterprise.case_id == case_id).order_by(Enterprise.id)
        ).scalars()
    )
    if not enterprises:
        return ()
    ids = [e.id for e in enterprises]
    members = dict(
        session.execute(
            select(EnterpriseMember.enterprise_id, func.count())
            .where(EnterpriseMember.enterprise_id.in_(ids), EnterpriseMember.left_on.is_(None))
            .group_by(EnterpriseMember.enterprise_id)
        ).all()
    )
    steps: dict[int, dict[str, Any]] = {i: {} for i in ids}
    for step in session.execute(
        select(LegalStep).where(LegalStep.enterprise_id.in_(ids))
    ).scalars():
        steps[step.enterprise_id][step.step] = step.done_on
    return tuple(
        EnterpriseSummary(
            enterprise_id=e.id,
            name=e.name,
            legal_form=e.legal_form,
            members=int(members.get(e.id, 0)),
            business_plan=e.business_plan is not None,
            cnpj=e.cnpj,
            no_cnpj_reason=e.no_cnpj_reason,
            steps=steps[e.id],
        )
        for e in enterprises
    )


def follow_up_summary(session: Session, case_id: int) -> FollowUpSummary:
    """The case's visits, and the CLAI and Protocol of its hub (they are territorial: the hub's
    cases share them)."""
    hub = session.execute(
        select(Case.hub_municipality_code).where(Case.id == case_id)
    ).scalar_one_or_none()
    clai = session.get(Clai, hub) if hub is not None else None
    protocol = session.get(Protocol, hub) if hub is not None else None
    visits = session.execute(
        select(Visit.visited_on)
        .where(Visit.case_id == case_id)
        .distinct()
        .order_by(Visit.visited_on)
    ).scalars()
    return FollowUpSummary(
        clai_installed_on=clai.installed_on if clai else None,
        protocol_signed_on=protocol.signed_on if protocol else None,
        visits=tuple(visits),
    )


def typology_for(session: Session, case_id: int) -> TypologyCheck | None:
    """The PNDR typology in force, read for the microregion of the case's municipality."""
    row = session.execute(
        select(Municipality.microregion_code, Municipality.ibge_code)
        .join(Case, Case.municipality_code == Municipality.ibge_code)
        .where(Case.id == case_id)
    ).one()
    return typology_check(session, row.microregion_code, row.ibge_code)
