"""Group commit (issue 14): bulk work takes each case in its own savepoint, many cases to a
transaction; and the working-day calendars are cached until a holiday or closure changes.

A case that is refused or fails inside a batch rolls back alone (its update, its audit entry,
its outbox rows, its bulk record); the other cases of the batch commit, and the audit log
verifies. The calendar cache is per database and municipality: a holiday or closure an
administrator adds, from any process, is seen by the next deadline computed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from flows.bulk import advance_each
from notifications.models import OutboxMessage
from states import audit
from states.clock import FixedClock
from states.db import Database
from states.lifecycle import Lifecycle
from states.models import AuditEvent
from states.progress import BulkApplied
from tasks import calendar_ops, cases
from tasks.runtime import Runtime
from tasks.trainings import complete_event, record_attendance
from tests.builders import (
    cli_users,
    drive,
    hold_ecc,
    new_case,
    participants_of,
    today_of,
)
from tests.integration.helpers import case_row, verify

QUIXADA = 2311306


def entries_of(db: Database, case_id: int) -> list[str]:
    with db.read() as session:
        return list(
            session.execute(
                select(AuditEvent.event)
                .where(AuditEvent.case_id == case_id)
                .order_by(AuditEvent.seq)
            ).scalars()
        )


def outbox_of(db: Database, case_id: int) -> list[str]:
    with db.read() as session:
        return list(
            session.execute(
                select(OutboxMessage.recipient).where(OutboxMessage.case_id == case_id)
            ).scalars()
        )


def entries(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


# --- a batch where one case fails after writing ------------------------------------------------


def test_a_case_failing_inside_a_bulk_batch_rolls_back_alone_and_the_log_verifies(
    any_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = any_rt
    cli_users(rt, "ana", "sofia")
    ids = [new_case(rt) for _ in range(4)]
    victim = ids[2]
    before = case_row(rt.db, victim)
    real = audit.append

    def fails_after_writing(session: Any, **fields: Any) -> Any:
        row = real(session, **fields)  # the case is updated, its outbox row and entry written
        if fields["case_id"] == victim:
            raise RuntimeError("the disk said no")
        return row

    monkeypatch.setattr(audit, "append", fails_after_writing)
    report = advance_each(rt, ids, "atribuir", {"coordinator": "ana"}, actor="sofia")
    monkeypatch.setattr(audit, "append", real)

    assert [m["case_id"] for m in report.moved] == [ids[0], ids[1], ids[3]]
    assert report.failed == [{"case_id": victim, "error": "RuntimeError: the disk said no"}]
    # the failed case is as it was: no change, no entry, no message, no bulk record
    after = case_row(rt.db, victim)
    assert (after.version, after.coordinator) == (before.version, before.coordinator)
    assert entries_of(rt.db, victim) == ["registrar"]
    assert outbox_of(rt.db, victim) == []
    with rt.db.read() as session:
        applied = set(session.execute(select(BulkApplied.case_id)).scalars())
    assert applied == {ids[0], ids[1], ids[3]}
    # the others moved, each with its entry and the message to the new coordinator
    for case_id in (ids[0], ids[1], ids[3]):
        assert case_row(rt.db, case_id).coordinator == "ana"
        assert entries_of(rt.db, case_id) == ["registrar", "atribuir"]
        assert outbox_of(rt.db, case_id) == ["ana"]
    # integrated before the commit: no backlog, and the whole log verifies
    result = verify(rt.db, backstop=False)
    assert result.problem is None
    assert result.pending == 0
    assert result.tree_size == entries(rt.db)

    again = advance_each(rt, ids, "atribuir", {"coordinator": "ana"}, actor="sofia")

    assert [a["case_id"] for a in again.already] == [ids[0], ids[1], ids[3]]
    assert [m["case_id"] for m in again.moved] == [victim]
    assert entries_of(rt.db, victim) == ["registrar", "atribuir"]
    assert verify(rt.db, backstop=False).problem is None


def test_a_batch_whose_first_case_fails_still_integrates_the_others(
    any_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first case of a transaction is the one that takes the sequencer's lock on PostgreSQL;
    rolled back, it gives the lock back, and the others must still be integrated at commit."""
    rt = any_rt
    ids = [new_case(rt) for _ in range(3)]
    real = audit.append

    def first_fails(session: Any, **fields: Any) -> Any:
        row = real(session, **fields)
        if fields["case_id"] == ids[0]:
            raise RuntimeError("first one down")
        return row

    monkeypatch.setattr(audit, "append", first_fails)
    results = cases.advance_batch(
        rt, [cases.Step(case_id, "anotar", {"text": "Visita."}) for case_id in ids], actor="ana"
    )
    monkeypatch.setattr(audit, "append", real)

    assert isinstance(results[0], RuntimeError)
    assert [r.case_id for r in results[1:] if isinstance(r, cases.Transition)] == ids[1:]
    assert entries_of(rt.db, ids[0]) == ["registrar"]
    result = verify(rt.db, backstop=False)
    assert result.problem is None
    assert result.pending == 0
    assert result.tree_size == entries(rt.db)


def test_a_batch_reports_each_refusal_with_its_reason_and_commits_the_rest(rt: Runtime) -> None:
    ids = [new_case(rt) for _ in range(3)]
    cases.advance(rt, ids[1], "iniciar_analise", {}, actor="ana")  # no longer registrada

    results = cases.advance_batch(
        rt,
        [
            cases.Step(ids[0], "iniciar_analise"),
            cases.Step(ids[1], "iniciar_analise"),
            cases.Step(999_999, "iniciar_analise"),
            cases.Step(ids[2], "iniciar_analise", expect_version=7),
        ],
        actor="ana",
    )

    moved, not_allowed, missing, conflict = results
    assert isinstance(moved, cases.Transition)
    assert moved.to_state == "em_analise"
    assert type(not_allowed).__name__ == "TransitionNotAllowed"
    assert type(missing).__name__ == "NotFound"
    assert type(conflict).__name__ == "Conflict"
    assert case_row(rt.db, ids[0]).state == "em_analise"
    assert case_row(rt.db, ids[2]).state == "registrada"
    assert verify(rt.db, backstop=False).problem is None


# --- an ECC's completion: one transaction, a case the guard refuses stays -----------------------


def test_completing_an_ecc_moves_the_cases_that_passed_and_leaves_the_one_short(
    rt: Runtime, clock: FixedClock
) -> None:
    passed, short = new_case(rt), new_case(rt)
    for case_id in (passed, short):
        drive(rt, clock, case_id, "capacitacao")  # pre-registers 40 participants on the way
    event_id = hold_ecc(rt, clock, [passed, short], attended=0, complete=False)
    start = today_of(clock) - timedelta(days=43)
    for case_id, days in ((passed, 33), (short, 20)):  # 33 of 44 days is 75 %
        for person_id in participants_of(rt, case_id):
            record_attendance(
                rt,
                event_id,
                person_id,
                [start + timedelta(days=d) for d in range(days)],
                actor="ana",
            )
    version = case_row(rt.db, short).version

    report = complete_event(rt, event_id, actor="ana")

    assert [(o.case_id, o.result) for o in report.outcomes] == [
        (passed, "moved"),
        (short, "refused"),
    ]
    assert report.outcomes[1].reason == (
        f"ECC {event_id}: 0 of 40 certified participants attended ≥ 75%; 30 needed"
    )
    assert case_row(rt.db, passed).state == "gestao"
    assert (case_row(rt.db, short).state, case_row(rt.db, short).version) == (
        "capacitacao",
        version,
    )
    assert "concluir_capacitacao" in entries_of(rt.db, passed)
    assert "concluir_capacitacao" not in entries_of(rt.db, short)
    assert verify(rt.db, backstop=False).problem is None


# --- the calendar cache ------------------------------------------------------------------------


def test_a_holiday_or_closure_added_in_another_process_is_seen_by_the_next_deadline(
    any_db: Database, lifecycle: Lifecycle, clock: FixedClock
) -> None:
    """The coordinator's process has Quixadá's calendar cached; an administrator, in another
    process (another engine, another cache), adds a holiday, then a closure, then removes the
    holiday: each next deadline computed sees the calendar as it now is."""
    coordinator = Runtime(any_db, lifecycle, clock)
    admin_db = Database(any_db.url)
    admin = Runtime(admin_db, lifecycle, clock)
    try:
        clock.advance(timedelta(days=7))  # Monday 2026-03-09
        nominal = today_of(clock) + timedelta(days=30)  # Wednesday 04-08 (30 continuous days)
        first, second, third, fourth = (new_case(coordinator) for _ in range(4))

        cases.advance(coordinator, first, "iniciar_analise", {}, actor="ana")  # caches Quixadá
        assert case_row(any_db, first).due_on == nominal

        calendar_ops.add_holiday(admin, QUIXADA, nominal, "Feriado municipal", actor="admin")
        cases.advance(coordinator, second, "iniciar_analise", {}, actor="ana")
        assert case_row(any_db, second).due_on == nominal + timedelta(days=1)

        day_after = nominal + timedelta(days=1)
        calendar_ops.add_closure(
            admin, day_after, "Ponto facultativo local", municipality=QUIXADA, actor="admin"
        )
        cases.advance(coordinator, third, "iniciar_analise", {}, actor="ana")
        assert case_row(any_db, third).due_on == nominal + timedelta(days=2)

        calendar_ops.remove_holiday(admin, QUIXADA, nominal, actor="admin")
        cases.advance(coordinator, fourth, "iniciar_analise", {}, actor="ana")
        assert case_row(any_db, fourth).due_on == nominal  # the closure is the day after

        assert case_row(any_db, first).due_on == nominal  # a deadline already set stays
    finally:
        admin_db.dispose()


def test_a_closure_of_the_whole_uf_reaches_a_cached_municipality(
    rt: Runtime, clock: FixedClock
) -> None:
    nominal = today_of(clock) + timedelta(days=30)
    first, second = new_case(rt), new_case(rt)
    cases.advance(rt, first, "iniciar_analise", {}, actor="ana")
    assert case_row(rt.db, first).due_on == nominal

    calendar_ops.add_closure(rt, nominal, "Decreto estadual", uf="CE", actor="admin")
    cases.advance(rt, second, "iniciar_analise", {}, actor="ana")

    assert case_row(rt.db, second).due_on == nominal + timedelta(days=1)
