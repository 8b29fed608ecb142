"""The deadline sweep as a Prefect flow: ONE parent flow run per sweep, its shards, its summary.

The parent plans ``shards`` ranges of case ids (:func:`tasks.shards.plan`, recorded with their
cursors) and runs each shard: as a flow run of the ``sweep-shard`` deployment when the parent
itself came from a deployment (any worker of the pool takes it), as a submitted task run
otherwise (:mod:`flows.shards`). A shard calls :func:`tasks.sweep.sweep_deadlines` on its range,
which pages through the due cases and open obligations in batches (about 1,000 rows a query) in
plain Python, committing the shard's cursors with each batch; one bad case is reported without
stopping the batch. A retried task or a rescheduled run resumes each shard after its last
committed batch. Never a flow run or a task run per case.

Two sweeps at once (a late run and the next one, two workers, on PostgreSQL or SQLite) queue
each reminder once: every outbox row has its unique key, inserted with ``ON CONFLICT DO
NOTHING``, and a time-driven transition checks the case's version. The parent adds up the
shards' recorded reports and publishes the summary.

After the sweep, the audit log's backlog is integrated and a checkpoint signed
(:mod:`flows.audit`), when the signing key is at hand.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.audit import checkpoint_task
from flows.common import (
    RETRIES,
    RETRY_DELAYS,
    counts,
    opened_runtime,
    publish,
    retry_transient,
    table,
)
from flows.schedules import SWEEP, SWEEP_SHARD
from flows.shards import Progress, from_deployment, in_deployments, in_tasks, parent_key, slot
from states.origin import use_origin
from tasks import shards as sharding
from tasks import sweep as sweeping
from tasks.runtime import Runtime

#: Shards of a sweep unless told otherwise: enough to keep a few workers busy.
SHARDS = 4


def sweep_one(rt: Runtime, key: str, shard: int, batch_size: int) -> sweeping.SweepReport:
    """Shard ``shard`` of run ``key``, from its cursors on, with its progress bar."""
    with slot("sweep", shard):  # one sweep at a time per shard
        found = sharding.one(rt, key, shard)  # read after the slot: the cursors are current
        bar = Progress(
            f"sweep-deadlines-shard-{shard}",
            f"cases {found.first_id} to {found.last_id} ({found.label})",
        )
        return sweeping.sweep_deadlines(rt, batch_size=batch_size, shard=found, on_batch=bar)


@task(
    name="sweep-shard",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def sweep_task(rt: Runtime, key: str, shard: int, batch_size: int) -> sweeping.SweepReport:
    """One shard, in this process (a retry resumes from the shard's cursors)."""
    with use_origin("flow"):
        return sweep_one(rt, key, shard, batch_size)


@flow(name=SWEEP_SHARD.flow_name, description=SWEEP_SHARD.description, persist_result=False)
def sweep_shard(run_key: str, shard: int, batch_size: int = 1000) -> dict[str, object]:
    """One shard of the sweep ``run_key``, on whichever worker took this flow run."""
    with opened_runtime() as rt:
        return sweep_task(rt, run_key, shard, batch_size).as_dict()


def summary(report: sweeping.SweepReport) -> str:
    """The sweep's artifact: what it checked and queued, the transitions, refusals, errors."""
    return (
        f"# Deadline sweep as of {report.as_of}\n\n"
        + counts(
            [
                ("cases checked", report.cases_checked),
                ("obligations checked", report.obligations_checked),
                ("batches", report.batches),
                ("messages queued", report.reminders_queued),
                ("already queued", report.already_queued),
                ("opted out (kept, not sent)", report.opted_out),
                ("due with nobody to tell", report.unaddressed),
                ("transitions fired", len(report.transitions)),
                ("transitions refused", report.refused),
                ("cases failed", report.failed),
            ]
        )
        + f"\n## Transitions fired ({len(report.transitions)})\n\n"
        + table(
            report.transitions,
            [("case_id", "case"), ("event", "event"), ("state", "from"), ("to_state", "to")],
        )
        + f"\n## Refused ({report.refused})\n\n"
        + table(
            report.refusals,
            [("case_id", "case"), ("event", "event"), ("state", "state"), ("reason", "why")],
        )
        + f"\n## Failed ({report.failed})\n\n"
        + table(
            report.errors,
            [("case_id", "case"), ("obligation_id", "obligation"), ("reason", "error")],
        )
    )


@flow(name=SWEEP.flow_name, description=SWEEP.description, persist_result=False)
def sweep_deadlines(
    now: datetime | None = None, batch_size: int = 1000, shards: int = SHARDS
) -> dict[str, object]:
    """Sweep the deadlines as of ``now`` (default: the runtime's clock) in ``shards`` ranges of
    case ids; the report of them all."""
    with opened_runtime() as rt:
        key = parent_key()
        plan = sharding.plan(rt, key, "sweep", shards, now or rt.clock.now())
        todo = [s.shard for s in plan if not s.finished]
        if from_deployment():
            in_deployments(
                SWEEP_SHARD.full_name,
                [{"run_key": key, "shard": i, "batch_size": batch_size} for i in todo],
            )
        else:
            in_tasks(lambda i: sweep_task.submit(rt, key, todo[i], batch_size), len(todo))
        report = sweeping.SweepReport.merged([s.report for s in sharding.load(rt, key)])
        # a signed checkpoint after every sweep: what the sweep wrote is then provable
        signed = checkpoint_task(rt, True) if rt.settings.key_file().exists() else None
    if signed is None:
        get_run_logger().warning(
            "no audit signing key at %s: no checkpoint was signed after the sweep",
            rt.settings.key_file(),
        )
    publish(
        SWEEP.flow_name,
        summary(report),
        f"{report.reminders_queued} messages queued, {len(report.transitions)} transitions, "
        f"{report.failed} cases failed",
    )
    if report.failed:
        get_run_logger().warning(
            "%s cases failed (listed in the artifact %r); the others were swept",
            report.failed,
            SWEEP.flow_name,
        )
    return report.as_dict()
