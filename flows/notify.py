"""Sending what the outbox holds, and the daily digests, as Prefect flows.

``dispatch_notifications`` runs every minute: one task calls :func:`notifications.dispatch.
dispatch`, which claims the due rows in batches, sends each one, and marks it sent, retried
later (a temporary failure, with growing delays kept in the outbox) or failed (a permanent
one). Those per-message retries live in the outbox, not in Prefect: a flow run never waits for
a slow server. Prefect retries the task only when the operation itself fails transiently (a
locked or unreachable database). Two dispatchers at once never send the same message: a row is
claimed in one writer transaction (SQLite) or with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL)
before it is sent.

``send_digests`` runs hourly: :func:`notifications.digest.send_digests` writes the digest of
each person whose local morning has come (their own time zone) and who has none for their local
date yet — at most one a day, whatever the number of runs. The dispatcher sends it. The same
run queues the daily checkpoint e-mail of every auditor
(:func:`notifications.checkpoint_mail.send_checkpoint_mail`), on the same terms.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import (
    RETRIES,
    RETRY_DELAYS,
    counts,
    injected_channel,
    opened_runtime,
    publish,
    retry_transient,
    table,
)
from flows.schedules import DIGESTS, DISPATCH, DISPATCH_SHARD
from flows.shards import from_deployment, in_deployments, in_tasks, slot
from notifications import checkpoint_mail, digest, dispatch
from notifications.channels import Channel
from notifications.settings import load_settings
from tasks import shards as sharding
from tasks.runtime import Runtime


@task(
    name="dispatch-outbox",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def dispatch_task(
    rt: Runtime,
    channel: Channel | None,
    limit: int | None,
    now: datetime | None,
    bucket: tuple[int, int] | None = None,
) -> dispatch.DispatchReport:
    """Send every message whose time has come (at most ``limit``), of one bucket if given."""
    settings = load_settings()  # invalid settings: a permanent error, naming the variable
    return dispatch.dispatch(
        rt, channel=channel, limit=limit, now=now, settings=settings, bucket=bucket
    )


#: Shards of a dispatch unless told otherwise (each a bucket of outbox ids).
SHARDS = 2


@flow(name=DISPATCH_SHARD.flow_name, description=DISPATCH_SHARD.description, persist_result=False)
def dispatch_shard(
    shard: int, shards: int, limit: int | None = None, now: datetime | None = None
) -> dict[str, object]:
    """One bucket of the outbox, on whichever worker took this flow run."""
    with opened_runtime() as rt, slot("dispatch", shard):
        report = dispatch_task(rt, injected_channel(), limit, now, (shard, shards))
    publish(
        DISPATCH_SHARD.flow_name, dispatch_summary(report), f"shard {shard}: {report.sent} sent"
    )
    return report.as_dict()


def dispatch_summary(report: dispatch.DispatchReport) -> str:
    return (
        "# Dispatch\n\n"
        + counts(
            [
                ("claimed", report.claimed),
                ("sent", report.sent),
                ("to retry later (temporary failure)", report.retried),
                ("failed (permanent, or out of attempts)", report.failed),
                ("skipped (recipient disabled, case quiet)", report.skipped),
            ]
        )
        + f"\n## Failures ({len(report.failures)})\n\n"
        + table(
            [{**f, "final": "failed" if f["final"] else "will retry"} for f in report.failures],
            [("id", "message"), ("final", "outcome"), ("error", "error"), ("key", "key")],
        )
    )


@flow(name=DISPATCH.flow_name, description=DISPATCH.description, persist_result=False)
def dispatch_notifications(
    limit: int | None = None, now: datetime | None = None, shards: int = SHARDS
) -> dict[str, object]:
    """Send the messages whose time has come, in ``shards`` buckets of the outbox; the report.

    ``limit`` bounds each bucket."""
    sharding.check_shards(shards)
    with opened_runtime() as rt:
        if from_deployment():
            runs = in_deployments(
                DISPATCH_SHARD.full_name,
                [{"shard": i, "shards": shards, "limit": limit, "now": now} for i in range(shards)],
            )
            # results are not shared between workers: each shard run's artifact has its counts
            names = ", ".join(run.name for run in runs)
            publish(
                DISPATCH.flow_name,
                f"# Dispatch\n\n{len(runs)} shard runs ({names}); the artifact "
                f"`{DISPATCH_SHARD.flow_name}` of each says what it sent.\n",
                f"{len(runs)} shard runs",
            )
            return {"shard_runs": [run.name for run in runs]}
        else:
            channel = injected_channel()
            parts = in_tasks(
                lambda i: dispatch_task.submit(rt, channel, limit, now, (i, shards)), shards
            )
            report = dispatch.DispatchReport.merged(parts)
    publish(
        DISPATCH.flow_name,
        dispatch_summary(report),
        f"{report.sent} sent, {report.retried} to retry, {report.failed} failed",
    )
    if report.failed:
        get_run_logger().warning(
            "%s messages failed: `produzir notify list --status failed`", report.failed
        )
    return report.as_dict()


@task(
    name="write-digests",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def digests_task(rt: Runtime, now: datetime | None) -> digest.DigestReport:
    """Write today's digest of everyone whose morning has come and who has none yet."""
    return digest.send_digests(rt, now=now)


@task(
    name="queue-checkpoint-mail",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def checkpoint_mail_task(rt: Runtime, now: datetime | None) -> checkpoint_mail.CheckpointMailReport:
    """Queue today's checkpoint e-mail of every auditor whose morning has come."""
    return checkpoint_mail.send_checkpoint_mail(rt, now=now)


def digests_summary(
    report: digest.DigestReport, mailed: checkpoint_mail.CheckpointMailReport
) -> str:
    return (
        "# Daily digests\n\n"
        + counts(
            [
                ("digests written", report.digests),
                ("messages they gather", report.items),
                ("reminders skipped (case went quiet)", report.skipped),
                ("people before their morning", report.before_morning),
                ("people who already had today's", report.already_sent),
                ("people with nothing pending", report.nothing_pending),
            ]
        )
        + f"\n## Recipients ({len(report.recipients)})\n\n"
        + table([{"user": name} for name in report.recipients], [("user", "user")])
        + "\n## The audit log's checkpoint, to the auditors\n\n"
        + counts(
            [
                ("checkpoint e-mails queued", mailed.queued),
                ("auditors before their morning", mailed.before_morning),
                ("auditors who already had today's", mailed.already_sent),
                (
                    "entries in the checkpoint",
                    "none yet" if mailed.tree_size is None else mailed.tree_size,
                ),
            ]
        )
    )


@flow(name=DIGESTS.flow_name, description=DIGESTS.description, persist_result=False)
def send_digests(now: datetime | None = None) -> dict[str, object]:
    """Write the daily digests due now; the dispatcher sends them. The report."""
    with opened_runtime() as rt:
        report = digests_task(rt, now)
        mailed = checkpoint_mail_task(rt, now)
    publish(
        DIGESTS.flow_name,
        digests_summary(report, mailed),
        f"{report.digests} digests gathering {report.items} messages; "
        f"{mailed.queued} checkpoint e-mails",
    )
    return {**report.as_dict(), "checkpoint_mail": mailed.as_dict()}
