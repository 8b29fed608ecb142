"""Operations that move a case: advance with evidence, assign, suspend, reopen, annotate.

Every operation is :func:`advance` underneath, so every change takes the same write path, in
one transaction: load the case (locked) -> check the version the caller expects -> ask the
lifecycle whether the state accepts the event -> validate the evidence -> check the guard ->
update the case (version +1) -> append the hash-chained audit event -> commit. Deadlines are
computed on the working-day calendar of the case's municipality, read in the same transaction.
Nothing is sent or printed inside. Errors come in that order, so a caller hears first about what matters most.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from notifications import outbox
from states import audit, bounds, record_views, store
from states.bounds import NOTE_MAX
from states.calendar import calendar_for
from states.deadlines import local_date
from states.effects import changes_for, to_json
from states.errors import InvalidInput, NotAllowed, NotFound
from states.evidence import Assignment, Evidence, HubDecision
from states.guards import Records
from states.lifecycle import Outcome
from states.models import Case, Municipality
from states.progress import BulkApplied
from states.text import N_
from tasks import obligations
from tasks.demands import check_actor, check_assignee
from tasks.runtime import Runtime


@dataclass(frozen=True)
class Transition:
    """What an operation did."""

    case_id: int
    event: str
    from_state: str
    to_state: str
    version: int
    seq: int
    due_on: date | None
    #: True when the request had already changed the case (``request_key``): nothing was done
    replayed: bool = False


def advance(
    rt: Runtime,
    case_id: int,
    event: str,
    evidence: Mapping[str, Any] | Evidence | None = None,
    *,
    actor: str,
    note: str | None = None,
    expect_version: int | None = None,
    request_key: str | None = None,
) -> Transition:
    """Fire ``event`` on the case with its evidence; one transaction, all or nothing.

    With ``request_key`` (a bulk request's idempotency key), the change is recorded under
    (request, case) in the same transaction; when that record already exists the case is left
    as it is and the recorded change is returned (``replayed``): a rerun applies nothing twice.
    """
    check_actor(actor)
    rt.lifecycle.spec(event)  # an unknown event is refused before anything is read
    note = check_note(note)
    now = rt.clock.now()
    with rt.db.write() as session:
        case, municipality = store.load_for_update(session, case_id, postgresql=rt.db.is_postgresql)
        if request_key is not None:
            applied = session.get(BulkApplied, (request_key, case.id))
            if applied is not None:
                return Transition(
                    case.id,
                    applied.event,
                    applied.from_state,
                    applied.to_state,
                    applied.version,
                    applied.seq,
                    case.due_on,
                    replayed=True,
                )
        store.check_version(case, expect_version)
        parsed, records, outcome, today = _decide(
            session, rt, case, municipality, event, evidence, actor=actor, now=now
        )
        changes = changes_for(
            store.clockwork_of(case),
            outcome,
            today=today,
            actor=actor,
            config=rt.lifecycle.config,
            calendar=calendar_for(session, case.municipality_code, municipality.uf),
        )
        previous_coordinator = case.coordinator
        version = store.update_case(session, case, changes, actor=actor, now=now)
        if outcome.to_state != outcome.from_state:
            obligations.after_transition(session, rt, case, outcome.to_state, today)
        # the messages the change causes leave from the outbox after the commit
        outbox.for_transition(
            session,
            case,
            case_version=version,
            event=event,
            from_state=outcome.from_state,
            to_state=outcome.to_state,
            actor=actor,
            now=now,
            note=note,
            previous_coordinator=previous_coordinator,
        )
        row = audit.append(
            session,
            case_id=case.id,
            case_version=version,
            lifecycle_version=case.lifecycle_version,
            event=event,
            from_state=outcome.from_state,
            to_state=outcome.to_state,
            actor=actor,
            note=note,
            evidence=_evidence_record(parsed, records, event),
            changes=to_json(changes),
            occurred_at=now,
            postgresql=rt.db.is_postgresql,
        )
        if request_key is not None:
            session.add(
                BulkApplied(
                    request_key=request_key,
                    case_id=case.id,
                    event=event,
                    from_state=outcome.from_state,
                    to_state=outcome.to_state,
                    version=version,
                    seq=row.seq,
                    applied_at=now,
                )
            )
        return Transition(
            case.id, event, outcome.from_state, outcome.to_state, version, row.seq, case.due_on
        )


def check_note(note: str | None) -> str | None:
    """The note of a change, stripped (None when empty); InvalidInput past NOTE_MAX or with a
    NUL character."""
    note = note.strip() or None if note else None
    if note is None:
        return None
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"note: {len(note)} characters; at most {NOTE_MAX}", field="note")
    found = bounds.problems({"note": note})
    if found:
        raise InvalidInput(found[0], field="note")
    return note


def _decide(
    session: Session,
    rt: Runtime,
    case: Case,
    municipality: Municipality,
    event: str,
    evidence: Mapping[str, Any] | Evidence | None,
    *,
    actor: str,
    now: datetime,
) -> tuple[Evidence, Records, Outcome, date]:
    """Ask the lifecycle: is ``event`` accepted now, is its evidence valid and enough?"""
    rt.lifecycle.check_accepted(case.id, case.state, event)
    parsed = (
        evidence
        if isinstance(evidence, Evidence)
        else rt.lifecycle.parse_evidence(event, dict(evidence or {}))
    )
    if isinstance(parsed, HubDecision) and not store.get_municipality(
        session, parsed.hub_municipality_code
    ):
        raise InvalidInput(
            N_(
                "evidence for %(event)s: hub_municipality_code %(hub_municipality_code)s is not in IBGE's list of municipalities",
                event=event,
                hub_municipality_code=parsed.hub_municipality_code,
            ),
            field="evidence",
        )
    if isinstance(parsed, Assignment):
        check_assignee(session, parsed.coordinator, municipality.uf, field="evidence.coordinator")
    today = local_date(now, municipality.timezone)
    records = record_views.records_for(session, case.id, event, parsed)
    outcome = rt.lifecycle.fire(
        store.facts_of(case, municipality),
        event,
        parsed,
        actor=actor,
        today=today,
        records=records,
    )
    return parsed, records, outcome, today


def refusal(
    rt: Runtime,
    case_id: int,
    event: str,
    evidence: Mapping[str, Any] | Evidence | None = None,
    *,
    actor: str,
) -> str | None:
    """Would ``event`` be refused now? The reason, or None — read only, nothing locked or
    written (the deadline sweep asks before it opens a write transaction)."""
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("case", case_id)
        municipality = store.get_municipality(session, case.municipality_code)
        assert municipality is not None
        try:
            _decide(
                session, rt, case, municipality, event, evidence, actor=actor, now=rt.clock.now()
            )
        except NotAllowed as exc:
            return getattr(exc, "reason", str(exc))
    return None


def _evidence_record(evidence: Evidence, records: Records, event: str) -> dict[str, Any]:
    """The evidence as stored with the audit event, with the records its guard read."""
    stored = evidence.model_dump(mode="json")
    if record_views.needs_records(event):
        stored["records_checked"] = record_views.snapshot(records, event)
    return stored


def assign(
    rt: Runtime, case_id: int, coordinator: str, *, actor: str, expect_version: int | None = None
) -> Transition:
    """Make ``coordinator`` responsible for the case (the deadline is not reset)."""
    return advance(
        rt,
        case_id,
        "atribuir",
        {"coordinator": coordinator},
        actor=actor,
        expect_version=expect_version,
    )


def suspend(
    rt: Runtime,
    case_id: int,
    *,
    reason: str,
    expected_resume_on: date,
    actor: str,
    expect_version: int | None = None,
) -> Transition:
    """Put the case on hold; its deadline clock pauses."""
    return advance(
        rt,
        case_id,
        "suspender",
        {"reason": reason, "expected_resume_on": expected_resume_on},
        actor=actor,
        expect_version=expect_version,
    )


def resume(
    rt: Runtime,
    case_id: int,
    *,
    actor: str,
    note: str | None = None,
    expect_version: int | None = None,
) -> Transition:
    """Return a suspended case to the state it left; its deadline moves by the pause."""
    return advance(
        rt, case_id, "retomar", {}, actor=actor, note=note, expect_version=expect_version
    )


def reject(
    rt: Runtime,
    case_id: int,
    *,
    decided_on: date,
    reasons: str,
    actor: str,
    legal_basis: str | None = None,
    expect_version: int | None = None,
) -> Transition:
    """Reject the demand with a reasoned decision (appealable within the window)."""
    return advance(
        rt,
        case_id,
        "indeferir",
        {"decided_on": decided_on, "reasons": reasons, "legal_basis": legal_basis},
        actor=actor,
        expect_version=expect_version,
    )


def appeal(
    rt: Runtime,
    case_id: int,
    *,
    filed_on: date,
    grounds: str,
    actor: str,
    expect_version: int | None = None,
) -> Transition:
    """Record the proponent's appeal: the case goes back to review."""
    return advance(
        rt,
        case_id,
        "recorrer",
        {"filed_on": filed_on, "grounds": grounds},
        actor=actor,
        expect_version=expect_version,
    )


def cancel(
    rt: Runtime,
    case_id: int,
    *,
    kind: str,
    reason: str,
    actor: str,
    expect_version: int | None = None,
) -> Transition:
    """Close the case: withdrawn by the proponent (desistencia) or impossible (inviabilidade)."""
    return advance(
        rt,
        case_id,
        "cancelar",
        {"kind": kind, "reason": reason},
        actor=actor,
        expect_version=expect_version,
    )


def request_reopening(
    rt: Runtime,
    case_id: int,
    *,
    justification: str,
    actor: str,
    expect_version: int | None = None,
) -> Transition:
    """Ask to reopen a closed case; it stays closed until a second person approves."""
    return advance(
        rt,
        case_id,
        "solicitar_reabertura",
        {"justification": justification},
        actor=actor,
        expect_version=expect_version,
    )


def approve_reopening(
    rt: Runtime,
    case_id: int,
    *,
    actor: str,
    note: str | None = None,
    expect_version: int | None = None,
) -> Transition:
    """A second person approves the reopening: the case returns to the state it left."""
    return advance(
        rt,
        case_id,
        "aprovar_reabertura",
        {},
        actor=actor,
        note=note,
        expect_version=expect_version,
    )


def refuse_reopening(
    rt: Runtime,
    case_id: int,
    *,
    justification: str,
    actor: str,
    expect_version: int | None = None,
) -> Transition:
    """A second person refuses the reopening: the case stays closed."""
    return advance(
        rt,
        case_id,
        "recusar_reabertura",
        {"justification": justification},
        actor=actor,
        expect_version=expect_version,
    )


def add_note(
    rt: Runtime, case_id: int, text: str, *, actor: str, expect_version: int | None = None
) -> Transition:
    """Add a note to the case's history (allowed in every state)."""
    return advance(
        rt, case_id, "anotar", {"text": text}, actor=actor, expect_version=expect_version
    )
