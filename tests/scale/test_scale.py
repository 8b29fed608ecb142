"""Past one machine, proven: Produzir deployed on a real Prefect server with two process workers.

The server keeps its database on PostgreSQL; Produzir's database is PostgreSQL too; the flows
are deployed with the shipped ``prefect.yaml`` (``prefect --no-prompt deploy --all``), the
automations with ``produzir deploy automations``; the workers run in folders of their own, not
in the repository, so the flows come from the installed package (no pull step names a folder).
Everything listens on and talks to 127.0.0.1.

1. A sweep of 20,000 due cases in four shards: once both workers run shards, one worker is
   killed (SIGKILL, with its flow-run processes) while a shard of its is half done (a worker
   that does not hold the sweep's parent run, when there is one). Its runs
   stop sending heartbeats, the automation marks them crashed and schedules them again, the
   other worker takes them, the half-done shard resumes after its last committed batch. The
   sweep completes, and what it wrote is exactly what one sweep in one process writes: every
   outbox row once, every transition once, nothing redone, the audit log verifies.
2. A bulk advance of 1,000 cases killed mid-run (the processes of its parent and shard runs,
   SIGKILL; the workers live on and report them crashed), then run again by the operator while
   Prefect reschedules the crashed runs: every case is changed exactly once.

Marked ``scale`` (minutes; ``-m "not scale"`` leaves it out) and ``postgres``.
"""

from __future__ import annotations

import time

import pytest

from tests.scale import harness as h
from tests.scale.conftest import BATCH, Deployed

pytestmark = [pytest.mark.scale, pytest.mark.postgres]


def test_a_sweep_on_two_workers_completes_once_when_one_worker_is_killed_mid_shard(
    deployed: Deployed,
) -> None:
    stack, url = deployed.stack, deployed.url
    deployed.workers_up()

    outcome = h.run_sweep(stack, shards=4, batch_size=BATCH, kill=True, timeout=540)
    h.log(f"sweep with a kill: {outcome.seconds:.0f} s, {outcome.shards_per_worker()}")

    assert outcome.parent["state_type"] == "COMPLETED", stack.errors()
    # the killed runs crashed (no heartbeat), were scheduled again and completed
    assert outcome.killed_runs
    for run_id in outcome.killed_runs:
        history = stack.state_history(run_id)
        assert "CRASHED" in history, history
        assert "SCHEDULED" in history[history.index("CRASHED") :], history
        assert history[-1] == "COMPLETED", history
    # shards ran on both workers; the killed worker's shards finished on the other one
    assert set(outcome.shards_per_worker()) == {"scale-a", "scale-b"}
    survivor = ({"scale-a", "scale-b"} - {outcome.killed}).pop()
    resumed = [r for r in outcome.shards if r["id"] in outcome.killed_runs]
    assert resumed
    assert all(r["workers"][-1] == survivor for r in resumed)
    # one sweep's rows: none lost, none twice
    keys = h.outbox_keys(url)
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(deployed.expected_keys)
    fired = h.system_transitions(url)
    assert fired == deployed.expected_transitions
    assert set(fired.values()) == {1}  # no transition fired twice
    # every shard finished, and the resumed one redid no committed batch
    progress = [p for p in h.shard_rows(url) if p.run_key == outcome.parent["id"]]
    assert [(p.shard, p.finished) for p in progress] == [(i, True) for i in range(4)]
    assert sum(p.report["already_queued"] for p in progress) == 0
    # the outbox: the reminders the shards queued, and one message per transition fired
    assert sum(p.report["reminders_queued"] for p in progress) + len(fired) == len(keys)
    verification = h.verify_log(url, stack.key_file)
    assert verification.ok, verification.problem


def test_a_bulk_advance_killed_mid_run_and_run_again_changes_every_case_exactly_once(
    deployed: Deployed,
) -> None:
    stack, url = deployed.stack, deployed.url
    deployed.workers_up()
    stack.wait_idle(120)
    ids = list(range(1, 1001))

    first = h.run_bulk(stack, ids, shards=2)
    started = time.perf_counter()
    while (done := h.applied(url)) < 100:
        assert time.perf_counter() - started < 300, "the bulk advance did not start"
        assert stack.flow_run(first)["state_type"] not in h.FINAL
        time.sleep(0.5)
    killed = h.kill_running(stack)  # the request's parent run and its shard runs
    h.log(f"bulk advance: killed the runs {killed} after {done} cases")
    assert killed
    assert done < len(ids)

    again = h.run_bulk(stack, ids, shards=2)  # the operator's rerun: the same request
    [final] = stack.wait_final([again], 480).values()
    runs = stack.wait_idle(480)  # and Prefect's own reschedule of the crashed runs

    assert final["state_type"] == "COMPLETED", stack.errors()
    changed = h.events_per_case(url, "anotar")
    assert {case_id: changed[case_id] for case_id in ids} == dict.fromkeys(ids, 1)
    assert sum(changed.values()) == len(ids)
    assert h.applied(url) == len(ids)
    history = stack.state_history(first)
    assert "CRASHED" in history, history  # killed, rescheduled, run again
    assert history[-1] == "COMPLETED", history
    assert all(r["state_type"] == "COMPLETED" for r in runs), stack.errors()
    verification = h.verify_log(url, stack.key_file)
    assert verification.ok, verification.problem
