"""Two writers racing on one case, and many writers on many cases, on SQLite and PostgreSQL.

The threads start together at a barrier and each call the real operation (its own session, its
own pooled connection). Whatever the interleaving, exactly one writer may change a case from a
given version, the loser writes nothing, and the audit chain stays one unbroken line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from states.clock import FixedClock
from states.errors import Conflict, TransitionNotAllowed
from tasks.cases import Transition, add_note, advance
from tasks.runtime import Runtime
from tests.builders import evidence_for, new_case, today_of
from tests.integration.helpers import (
    count_events,
    new_signer,
    ring,
    seqs,
    sign,
    verify,
    version_of,
)

RACES = 10


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = calls[index]()
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer is still blocked after 60 s"
    return results


def _fire(rt: Runtime, clock: FixedClock, case_id: int, event: str, actor: str, **kw: Any):
    evidence = evidence_for(event, today_of(clock))
    return lambda: advance(rt, case_id, event, evidence, actor=actor, **kw)


def test_two_writers_with_the_same_version_one_commits_the_other_gets_conflict(
    any_rt: Runtime, clock: FixedClock
) -> None:
    when = clock.now().isoformat(timespec="seconds")
    for i in range(RACES):
        case_id = new_case(any_rt)
        seen = version_of(any_rt.db, case_id)
        events_before = count_events(any_rt.db, case_id)
        rival = "suspender" if i % 2 else "anotar"
        results = race(
            [
                _fire(any_rt, clock, case_id, "iniciar_analise", "ana", expect_version=seen),
                _fire(any_rt, clock, case_id, rival, "bia", expect_version=seen),
            ]
        )

        done = [r for r in results if isinstance(r, Transition)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert (len(done), len(lost)) == (1, 1), f"race {i}: {results!r}"
        winner = "ana" if isinstance(results[0], Transition) else "bia"
        conflict = lost[0]
        assert conflict.changed_by == winner
        assert (conflict.expected_version, conflict.current_version) == (seen, seen + 1)
        assert f"changed by {winner} at {when}" in str(conflict)

        assert count_events(any_rt.db, case_id) == events_before + 1
        assert version_of(any_rt.db, case_id) == seen + 1 == done[0].version

    check = verify(any_rt.db)
    assert check.ok, check.problem
    assert check.checked == count_events(any_rt.db) == 2 * RACES


def test_two_writers_firing_the_same_event_without_a_version_one_wins(
    any_rt: Runtime, clock: FixedClock
) -> None:
    """Without expect_version the loser is refused by the lifecycle, not by the version check.

    Each writer locks the case before reading it (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT
    ... FOR UPDATE), so the second one reads the case the first one committed, already in
    em_analise, and gets TransitionNotAllowed on both databases. A Conflict here would mean the
    lock was missing and only update_case's version check caught the lost update.
    """
    for i in range(RACES):
        case_id = new_case(any_rt)
        events_before = count_events(any_rt.db, case_id)
        results = race(
            [
                _fire(any_rt, clock, case_id, "iniciar_analise", "ana"),
                _fire(any_rt, clock, case_id, "iniciar_analise", "bia"),
            ]
        )

        done = [r for r in results if isinstance(r, Transition)]
        refused = [r for r in results if isinstance(r, TransitionNotAllowed)]
        assert (len(done), len(refused)) == (1, 1), f"race {i}: {results!r}"
        assert refused[0].state == "em_analise"
        assert "iniciar_analise is not allowed" in str(refused[0])
        assert count_events(any_rt.db, case_id) == events_before + 1
        assert version_of(any_rt.db, case_id) == 2

    check = verify(any_rt.db)
    assert check.ok, check.problem
    assert check.checked == count_events(any_rt.db) == 2 * RACES


def test_many_writers_on_different_cases_all_commit_in_one_unbroken_chain(
    any_rt: Runtime, clock: FixedClock
) -> None:
    writers, steps = 8, ("anotar", "iniciar_analise", "anotar")
    cases = [new_case(any_rt) for _ in range(writers)]
    evidence = {event: evidence_for(event, today_of(clock)) for event in steps}

    def work(case_id: int, actor: str) -> Callable[[], list[Transition]]:
        return lambda: [
            advance(any_rt, case_id, event, evidence[event], actor=actor) for event in steps
        ]

    results = race([work(case_id, f"user{n}") for n, case_id in enumerate(cases)])

    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures
    assert [version_of(any_rt.db, c) for c in cases] == [1 + len(steps)] * writers
    total = writers * (1 + len(steps))
    assert seqs(any_rt.db) == list(range(1, total + 1))
    check = verify(any_rt.db)
    assert check.ok, check.problem
    assert (check.checked, check.tree_size, check.pending) == (total, total, 0)


def test_verification_while_four_writers_write_never_raises_a_false_alarm(
    any_rt: Runtime, clock: FixedClock
) -> None:
    """One snapshot per verification: entries committed meanwhile are simply not in it."""
    cases = [new_case(any_rt) for _ in range(4)]
    signer = new_signer()
    stop = threading.Event()
    written = [0] * len(cases)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            while not stop.is_set():
                add_note(any_rt, cases[n], f"nota {written[n]}", actor=f"user{n}")
                written[n] += 1
        except BaseException as exc:
            errors.append(exc)

    def checkpointer() -> None:
        try:
            while not stop.wait(0.05):
                sign(any_rt.db, signer, clock.now())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(cases))]
    threads.append(threading.Thread(target=checkpointer))
    for thread in threads:
        thread.start()
    results = []
    try:
        for _ in range(20):
            seen = sum(written)
            deadline = time.monotonic() + 10
            while sum(written) < seen + 2 and time.monotonic() < deadline:
                time.sleep(0.005)  # let the writers commit between two verifications
            results.append(verify(any_rt.db, keyring=ring(signer), backstop=False))
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors
    alarms = [r.problem for r in results if not r.ok]
    assert alarms == [], alarms
    assert sum(written) > 20  # the writers did write while it verified
    assert len({r.tree_size for r in results}) > 1  # and the log grew between verifications
    final = verify(any_rt.db, keyring=ring(signer))
    assert final.ok, final.problem
    assert final.tree_size == count_events(any_rt.db)
