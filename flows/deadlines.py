"""The deadline sweep as a Prefect flow: ONE flow run per sweep, its summary as an artifact.

The flow runs one task, which calls :func:`tasks.sweep.sweep_deadlines` once: the operation
pages through the due cases and open obligations in batches (about 1,000 rows a query) in plain
Python, and one bad case is reported in the summary without stopping the batch. Never a flow
run or a task run per case: a task run costs milliseconds of client time and tens of kilobytes
of Prefect's database, a flow run about a second.

Two sweeps at once (a late run and the next one, two workers, on PostgreSQL or SQLite) queue
each reminder once: every outbox row has its unique key, inserted with ``ON CONFLICT DO
NOTHING``, and a time-driven transition checks the case's version.

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
from flows.schedules import SWEEP
from states.origin import use_origin
from tasks import sweep as sweeping
from tasks.runtime import Runtime


@task(
    name="sweep-due-deadlines",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def sweep_task(rt: Runtime, now: datetime | None, batch_size: int) -> sweeping.SweepReport:
    """One sweep over every due case and open obligation (the operation, in batches)."""
    with use_origin("flow"):
        return sweeping.sweep_deadlines(rt, now=now, batch_size=batch_size)


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
def sweep_deadlines(now: datetime | None = None, batch_size: int = 1000) -> dict[str, object]:
    """Sweep the deadlines as of ``now`` (default: the runtime's clock); the report."""
    with opened_runtime() as rt:
        report = sweep_task(rt, now, batch_size)
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
