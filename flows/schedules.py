"""When each flow runs: the schedules, defined once.

``prefect.yaml`` (deployments on a Prefect server with a work pool) mirrors this table, and a
test checks that the two agree; :mod:`flows.serve` builds the served deployments from it.
Cron expressions are read in the schedule's time zone (Prefect applies daylight saving time,
which Brazil no longer has).

- the deadline sweep: daily at 06:00, Brasília time, before the working day starts in any
  Brazilian time zone (04:00 in Acre);
- dispatch: every minute (the outbox's own retry delays decide when a failed message is tried
  again; two dispatchers never send the same message);
- digests: hourly, so that each person's digest leaves in the first hour after the morning of
  their own time zone (``notifications/policy.toml``, ``[digest] morning``).

- the audit log's backstop: every five minutes; it signs a checkpoint when the newest is older
  than ``PRODUZIR_AUDIT_CHECKPOINT_MINUTES`` (60 by default), so one is made at least that often.

``bulk_advance`` has no schedule: it is deployed so that an operator can run it from Prefect's
UI with its parameters.

This module imports no Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass

BRASILIA = "America/Sao_Paulo"


@dataclass(frozen=True)
class Plan:
    """One deployment: which flow, under which name, and when (``cron`` None: on demand)."""

    flow_name: str
    deployment: str
    entrypoint: str
    description: str
    cron: str | None = None
    timezone: str = BRASILIA

    @property
    def full_name(self) -> str:
        """``flow-name/deployment``, as Prefect's CLI names a deployment."""
        return f"{self.flow_name}/{self.deployment}"


SWEEP = Plan(
    flow_name="sweep-deadlines",
    deployment="daily",
    entrypoint="flows.deadlines.sweep_deadlines",
    description="Queue the reminders and escalations due today; fire time-driven transitions.",
    cron="0 6 * * *",
)
DISPATCH = Plan(
    flow_name="dispatch-notifications",
    deployment="every-minute",
    entrypoint="flows.notify.dispatch_notifications",
    description="Send the messages whose time has come, retrying temporary failures later.",
    cron="* * * * *",
)
DIGESTS = Plan(
    flow_name="send-digests",
    deployment="hourly",
    entrypoint="flows.notify.send_digests",
    description="Write the daily digest of each person whose local morning has come.",
    cron="0 * * * *",
)
BULK = Plan(
    flow_name="bulk-advance",
    deployment="on-demand",
    entrypoint="flows.bulk.bulk_advance",
    description="Apply one event with its evidence to a list of cases; report moved and refused.",
)

CHECKPOINT = Plan(
    flow_name="audit-checkpoint",
    deployment="every-five-minutes",
    entrypoint="flows.audit.audit_checkpoint",
    description="Integrate the audit log's backlog; sign a checkpoint when one is due.",
    cron="*/5 * * * *",
)

# The shards' deployments: no schedule; the parent flow run starts one flow run per shard, so
# that any worker of the pool takes it (flows/shards.py).
SWEEP_SHARD = Plan(
    flow_name="sweep-deadlines-shard",
    deployment="sweep-shard",
    entrypoint="flows.deadlines.sweep_shard",
    description="One shard of a deadline sweep (a range of case ids), started by the sweep.",
)
DISPATCH_SHARD = Plan(
    flow_name="dispatch-notifications-shard",
    deployment="dispatch-shard",
    entrypoint="flows.notify.dispatch_shard",
    description="One shard of a dispatch (a bucket of outbox rows), started by the dispatch.",
)
BULK_SHARD = Plan(
    flow_name="bulk-advance-shard",
    deployment="bulk-shard",
    entrypoint="flows.bulk.bulk_shard",
    description="One shard of a bulk advance (a part of its cases), started by the request.",
)

PLANS: tuple[Plan, ...] = (
    SWEEP,
    DISPATCH,
    DIGESTS,
    CHECKPOINT,
    BULK,
    SWEEP_SHARD,
    DISPATCH_SHARD,
    BULK_SHARD,
)
