"""Operations that move a case: advance with evidence, assign, suspend, reopen, annotate.

Every operation is :func:`advance` underneath, so every change takes the same write path, in
one transaction: load the case once (locked) -> check the version the caller expects ->
decide once (:func:`_decide`: does the state accept the event, is the evidence valid, does the
guard find it enough) -> apply the decision in one place (:func:`_apply`: update the case,
version +1; open obligations; queue the messages; append the audit entry) -> commit. What
each event needs and changes comes from its declaration (:mod:`states.events`). Deadlines are
computed on the working-day calendar of the case's municipality, read in the same transaction.
Nothing is sent or printed inside. Errors come in that order, so a caller hears first about what matters most.

:func:`advance_batch` is the group commit of bulk work (a bulk advance, an ECC's completion,
the sweep's time-driven transitions): the same path for each case, each in its own SAVEPOINT,
many cases in one transaction; a refused case rolls back alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from states.errors import InvalidInput, NotAllowed, NotFound, TransitionNotAllowed
from states.events import EventSpec
from states.evidence import Evidence
from states.guards import Records
from states.lifecycle import Lifecycle, Outcome
from states.models import Case, Municipality
from states.progress import BulkApplied
from tasks import hubs, obligations
from tasks.demands import check_actor
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
    rt.event_known(event)  # an unknown event is refused before anything is read
    note = check_note(note)
    domain = rt.notifications.message_id_domain  # the settings, read before the transaction
    now = rt.clock.now()
    with rt.db.write() as session:
        return _advance_in(
            session,
            rt,
            Step(case_id, event, evidence, expect_version),
            actor=actor,
            note=note,
            now=now,
            request_key=request_key,
            domain=domain,
        )


@dataclass(frozen=True)
class Step:
    """One case's change in a batch (:func:`advance_batch`)."""

    case_id: int
    event: str
    evidence: Mapping[str, Any] | Evidence | None = None
    #: the version the caller saw (a Conflict when the case has another), or None
    expect_version: int | None = None


#: Steps one transaction of :func:`advance_batch` takes (the write lock is held that long).
BATCH = 100


def advance_batch(
    rt: Runtime,
    steps: Sequence[Step],
    *,
    actor: str,
    note: str | None = None,
    request_key: str | None = None,
    batch_size: int | None = None,
) -> list[Transition | Exception]:
    """Group commit: each step as :func:`advance` does it, in its own SAVEPOINT, up to
    ``batch_size`` (default :data:`BATCH`) steps in one transaction (one COMMIT, one fsync, for
    all of them).

    A step refused (a :class:`~states.errors.ProduzirError`) or failing (any other error) rolls
    back to its savepoint: that case's update, obligations, outbox rows, audit entry and bulk
    record are undone, the batch's other cases stay. The audit entries that remain are
    integrated into the Merkle tree once, before the COMMIT (a rolled-back entry never gets a
    position). One result per step, in order: the :class:`Transition`, or the exception. When a
    transaction itself fails (the lock not obtained, the COMMIT refused), nothing of its steps
    is written and each of them gets that error. The actor and the note are checked once: a
    mistake there raises before anything is read.
    """
    check_actor(actor)
    note = check_note(note)
    domain = rt.notifications.message_id_domain
    size = max(1, BATCH if batch_size is None else batch_size)
    results: list[Transition | Exception] = []
    for start in range(0, len(steps), size):
        chunk = steps[start : start + size]
        done: list[Transition | Exception] = []
        try:
            with rt.db.write() as session:
                for step in chunk:
                    try:
                        rt.event_known(step.event)
                        with audit.savepoint(session):
                            done.append(
                                _advance_in(
                                    session,
                                    rt,
                                    step,
                                    actor=actor,
                                    note=note,
                                    now=rt.clock.now(),  # each change at its own instant
                                    request_key=request_key,
                                    domain=domain,
                                )
                            )
                    except Exception as exc:  # this case only: its savepoint is rolled back
                        done.append(exc)
        except Exception as exc:  # the transaction itself: none of its steps was written
            done = [exc] * len(chunk)
        results.extend(done)
    return results


def _advance_in(
    session: Session,
    rt: Runtime,
    step: Step,
    *,
    actor: str,
    note: str | None,
    now: datetime,
    request_key: str | None,
    domain: str,
) -> Transition:
    """One change inside the caller's write transaction (:func:`advance`'s whole body)."""
    case, municipality, generation = store.load_for_change(session, step.case_id)
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
    store.check_version(case, step.expect_version)
    lifecycle = rt.lifecycle_for(case.lifecycle_version)  # each case runs under its own
    spec = lifecycle.spec(step.event)
    decision = _decide(
        session, lifecycle, spec, case, municipality, step.evidence, actor=actor, now=now
    )
    return _apply(
        session,
        rt,
        decision,
        case,
        municipality,
        actor=actor,
        note=note,
        now=now,
        request_key=request_key,
        domain=domain,
        generation=generation,
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


@dataclass(frozen=True)
class _Decision:
    """What the lifecycle decided for one event on one case, before anything is written."""

    lifecycle: Lifecycle
    spec: EventSpec
    outcome: Outcome
    records: Records
    today: date


def _decide(
    session: Session,
    lifecycle: Lifecycle,
    spec: EventSpec,
    case: Case,
    municipality: Municipality,
    evidence: Mapping[str, Any] | Evidence | None,
    *,
    actor: str,
    now: datetime,
) -> _Decision:
    """Decide once: does the state accept the event, is its evidence valid (against the
    records too), and does its guard find it enough? Raises the first refusal."""
    lifecycle.check_accepted(case.id, case.state, spec.name)
    parsed = lifecycle.evidence_for(spec, evidence)
    record_views.check_evidence(session, spec.checks, spec.name, parsed, municipality.uf)
    today = local_date(now, municipality.timezone)
    records = record_views.records_for(session, case.id, spec.reads, parsed)
    outcome = lifecycle.judge(
        spec, store.facts_of(case, municipality), parsed, actor=actor, today=today, records=records
    )
    return _Decision(lifecycle, spec, outcome, records, today)


def _apply(
    session: Session,
    rt: Runtime,
    decision: _Decision,
    case: Case,
    municipality: Municipality,
    *,
    actor: str,
    note: str | None,
    now: datetime,
    request_key: str | None,
    domain: str,
    generation: int | None = None,
) -> Transition:
    """Apply a decision in one place: update the case (version +1), open the obligations of
    the state it enters, queue the messages the event declares, append the audit entry (and,
    for a bulk request, record that it was applied)."""
    spec, outcome, today = decision.spec, decision.outcome, decision.today
    changes = changes_for(
        store.clockwork_of(case),
        outcome,
        today=today,
        actor=actor,
        config=decision.lifecycle.config,
        calendar=calendar_for(
            session, case.municipality_code, municipality.uf, generation=generation
        ),
    )
    previous_coordinator = case.coordinator
    version = store.update_case(session, case, changes, actor=actor, now=now)
    if outcome.to_state != outcome.from_state:
        obligations.after_transition(session, rt, case, outcome.to_state, today)
    if changes.get("hub_municipality_code") is not None:  # the hub decision: the case joins it
        decided_on = getattr(outcome.evidence, "decided_on", today)
        hubs.case_joined(session, rt, case, decided_on=decided_on, actor=actor)
    # the messages the change causes leave from the outbox after the commit
    outbox.for_transition(
        session,
        case,
        case_version=version,
        event=spec.name,
        messages=spec.messages,
        from_state=outcome.from_state,
        to_state=outcome.to_state,
        actor=actor,
        now=now,
        note=note,
        previous_coordinator=previous_coordinator,
        municipality=municipality,
        domain=domain,
    )
    stored = outcome.evidence.model_dump(mode="json")
    if spec.reads:  # the records its guard read, as it read them
        stored["records_checked"] = record_views.snapshot(decision.records, spec.reads)
    row = audit.append(
        session,
        case_id=case.id,
        case_version=version,
        lifecycle_version=case.lifecycle_version,
        event=spec.name,
        from_state=outcome.from_state,
        to_state=outcome.to_state,
        actor=actor,
        note=note,
        evidence=stored,
        changes=to_json(changes),
        occurred_at=now,
    )
    if request_key is not None:
        session.add(
            BulkApplied(
                request_key=request_key,
                case_id=case.id,
                event=spec.name,
                from_state=outcome.from_state,
                to_state=outcome.to_state,
                version=version,
                seq=row.seq,
                applied_at=now,
            )
        )
    return Transition(
        case.id, spec.name, outcome.from_state, outcome.to_state, version, row.seq, case.due_on
    )


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
    rt.event_known(event)
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("case", case_id)
        municipality = store.get_municipality(session, case.municipality_code)
        assert municipality is not None
        lifecycle = rt.lifecycle_for(case.lifecycle_version)
        if event not in lifecycle.by_name:  # the case's version has no such event
            allowed = lifecycle.allowed_events(case.state)
            return str(TransitionNotAllowed(case.id, event, case.state, allowed))
        try:
            spec = lifecycle.spec(event)
            _decide(
                session,
                lifecycle,
                spec,
                case,
                municipality,
                evidence,
                actor=actor,
                now=rt.clock.now(),
            )
        except NotAllowed as exc:
            return getattr(exc, "reason", str(exc))
    return None


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
    notified_on: date | None = None,
    means: str | None = None,
    expect_version: int | None = None,
) -> Transition:
    """Reject the demand with a reasoned decision (appealable within the window, which counts
    from the proponent's ciência: ``notified_on`` and ``means``, here or with
    :func:`notify_decision`; lifecycles before 2026.3 take neither)."""
    evidence: dict[str, Any] = {
        "decided_on": decided_on,
        "reasons": reasons,
        "legal_basis": legal_basis,
    }
    if notified_on is not None or means is not None:
        evidence |= {"notified_on": notified_on, "means": means}
    return advance(rt, case_id, "indeferir", evidence, actor=actor, expect_version=expect_version)


def notify_decision(
    rt: Runtime,
    case_id: int,
    *,
    notified_on: date,
    means: str,
    actor: str,
    expect_version: int | None = None,
) -> Transition:
    """Record the proponent's ciência of the rejection: the appeal window starts."""
    return advance(
        rt,
        case_id,
        "notificar_decisao",
        {"notified_on": notified_on, "means": means},
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
    """Record the proponent's appeal: it goes to the authority that decided (2026.3; straight
    back to review before)."""
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
