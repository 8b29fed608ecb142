"""Sharded work: a sweep split into ranges of case ids, a bulk advance split into parts, and
what survives a crash (the shards' cursors, the bulk request's idempotency key).

The operations are tested directly (a crash is an exception out of the middle of a shard);
the flows under the session's Prefect test harness, where the shards run as task runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from sqlalchemy import func, select

import flows.bulk
import tasks.cases
from flows.bulk import advance_each, applied_report, bulk_advance
from flows.common import injected
from flows.deadlines import sweep_deadlines
from states.clock import FixedClock
from states.errors import InvalidInput
from states.models import AuditEvent
from states.progress import ShardProgress
from tasks import shards
from tasks import sweep as sweeping
from tasks.runtime import Runtime
from tests.builders import evidence_for, new_case
from tests.flows.conftest import at_fortaleza, outbox, set_due, staff

THURSDAY = date(2026, 3, 12)
NOTE = evidence_for("anotar", THURSDAY)


class Crash(BaseException):
    """A worker dying: nothing in the operation catches it."""


@pytest.fixture
def flow_rt(rt: Runtime) -> Iterator[Runtime]:
    with injected(rt):
        yield rt


def late_cases(rt: Runtime, clock: FixedClock, count: int) -> list[int]:
    """``count`` cases two working days late on Thursday 03-12 (two messages each)."""
    staff(rt)
    ids = [new_case(rt, coordinator="ana") for _ in range(count)]
    for case_id in ids:
        set_due(rt, case_id, date(2026, 3, 10))
    at_fortaleza(clock, THURSDAY)
    return ids


def test_the_ranges_cover_every_case_id_once() -> None:
    cut = shards.ranges(1, 10, 3)
    assert cut == [(1, 4), (5, 8), (9, 10)]
    assert all(lo > hi for lo, hi in shards.ranges(1, 2, 4)[2:])  # empty ranges own nothing
    with pytest.raises(InvalidInput, match="shards: 0"):
        shards.check_shards(0)


def test_a_crashed_shard_resumes_after_its_last_committed_batch(
    rt: Runtime, clock: FixedClock
) -> None:
    ids = late_cases(rt, clock, 12)
    [shard] = shards.plan(rt, "run-1", "sweep", 1, clock.now())
    batches: list[float] = []

    def dies_after_two_batches(fraction: float) -> None:
        batches.append(fraction)
        if len(batches) == 2:
            raise Crash

    with pytest.raises(Crash):
        sweeping.sweep_deadlines(rt, batch_size=5, shard=shard, on_batch=dies_after_two_batches)
    [saved] = shards.load(rt, "run-1")
    assert (saved.case_cursor, saved.finished) == (ids[9], False)
    assert len(outbox(rt)) == 20  # two batches of five cases, two messages each

    report = sweeping.sweep_deadlines(rt, batch_size=5, shard=saved)

    assert report.cases_checked == 12  # 10 before the crash + 2 after: none read twice
    assert (report.reminders_queued, report.already_queued) == (24, 0)
    keys = [m.key for m in outbox(rt)]
    assert len(keys) == len(set(keys)) == 24
    [done] = shards.load(rt, "run-1")
    assert done.finished
    again = sweeping.sweep_deadlines(rt, batch_size=5, shard=done)  # a finished shard: nothing
    assert again.cases_checked == 12
    assert len(outbox(rt)) == 24


def test_a_rerun_plans_the_same_shards_as_of_the_same_instant(
    rt: Runtime, clock: FixedClock
) -> None:
    late_cases(rt, clock, 3)
    first = shards.plan(rt, "run-2", "sweep", 2, clock.now())
    clock.advance(timedelta(days=1))
    new_case(rt)
    again = shards.plan(rt, "run-2", "sweep", 5, clock.now())
    assert again == first
    assert len(first) == 2


@pytest.mark.usefixtures("prefect")
def test_a_sharded_sweep_flow_sweeps_each_case_once_with_a_progress_bar_per_shard(
    flow_rt: Runtime, clock: FixedClock
) -> None:
    rt = flow_rt
    ids = late_cases(rt, clock, 9)

    state = sweep_deadlines(shards=3, batch_size=2, return_state=True)

    assert state.is_completed()
    report = state.result()
    assert (report["cases_checked"], report["reminders_queued"]) == (9, 18)
    assert sorted({m.case_id for m in outbox(rt)}) == ids
    with rt.db.read() as session:
        [key] = set(session.execute(select(ShardProgress.run_key)).scalars())
    progress = shards.load(rt, key)
    assert [(p.shard, p.finished) for p in progress] == [(0, True), (1, True), (2, True)]
    assert [p.report["cases_checked"] for p in progress] == [3, 3, 3]
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    bars = sorted(a.key for a in found if a.type == "progress")
    assert bars == [f"sweep-deadlines-shard-{i}" for i in range(3)]
    assert all(a.data == 100 for a in found if a.type == "progress")
    summary = [a for a in found if a.key == "sweep-deadlines"]
    assert len(summary) == 1
    assert "| messages queued | 18 |" in str(summary[0].data)


def annotations(rt: Runtime) -> dict[int, int]:
    with rt.db.read() as session:
        return dict(
            session.execute(
                select(AuditEvent.case_id, func.count())
                .where(AuditEvent.event == "anotar")
                .group_by(AuditEvent.case_id)
            ).all()
        )


def test_a_bulk_advance_rerun_after_a_crash_changes_every_case_exactly_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [new_case(rt) for _ in range(6)]
    real = tasks.cases._advance_in
    calls: list[int] = []

    def dies_at_the_fourth(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2].case_id)
        if len(calls) == 4:
            raise Crash
        return real(*args, **kwargs)

    # two cases a transaction: the worker dies in the second one, which commits nothing
    monkeypatch.setattr(flows.bulk, "BATCH", 2)
    monkeypatch.setattr(tasks.cases, "_advance_in", dies_at_the_fourth)
    with pytest.raises(Crash):
        advance_each(rt, ids, "anotar", NOTE, actor="sofia")
    assert annotations(rt) == {case_id: 1 for case_id in ids[:2]}
    monkeypatch.setattr(tasks.cases, "_advance_in", real)

    report = advance_each(rt, ids, "anotar", NOTE, actor="sofia")  # the same request again

    assert [a["case_id"] for a in report.already] == ids[:2]
    assert [m["case_id"] for m in report.moved] == ids[2:]
    assert annotations(rt) == {case_id: 1 for case_id in ids}
    other = advance_each(rt, ids[:1], "anotar", NOTE, actor="sofia", request_key="second-visit")
    assert len(other.moved) == 1
    assert annotations(rt)[ids[0]] == 2


@pytest.mark.usefixtures("prefect")
def test_a_sharded_bulk_flow_run_twice_annotates_each_case_once(
    flow_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = flow_rt
    monkeypatch.setattr(flows.bulk, "MIN_PER_SHARD", 2)
    ids = [new_case(rt) for _ in range(7)]

    first = bulk_advance(case_ids=ids, event="anotar", evidence=NOTE, actor="sofia", shards=3)
    second = bulk_advance(case_ids=ids, event="anotar", evidence=NOTE, actor="sofia", shards=3)

    assert [m["case_id"] for m in first["moved"]] == ids
    assert (second["moved"], [a["case_id"] for a in second["already"]]) == ([], ids)
    assert annotations(rt) == {case_id: 1 for case_id in ids}


def test_a_request_run_on_workers_reports_what_its_records_say_changed(rt: Runtime) -> None:
    """From a deployment the parent reads the shards' work back from ``bulk_applied``."""
    ids = [new_case(rt) for _ in range(3)]
    done = advance_each(rt, ids[:2], "anotar", NOTE, actor="sofia")

    report = applied_report(rt, done.request_key, ids, "anotar", "sofia", 2)

    assert [(m["case_id"], m["to_state"]) for m in report.moved] == [
        (ids[0], "registrada"),
        (ids[1], "registrada"),
    ]
    assert [(r["case_id"], r["code"]) for r in report.refused] == [(ids[2], "not_changed")]
