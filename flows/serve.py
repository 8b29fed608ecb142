"""The flows served on their schedules: ``python -m flows.serve`` (what ``produzir run`` starts).

:func:`deployments` builds one Prefect deployment per :data:`flows.schedules.PLANS` entry,
with the schedule defined there; :func:`main` serves them all from this process, which polls
the Prefect API (``PREFECT_API_URL``) for scheduled runs and runs each in a subprocess, at most
``PREFECT_RUNNER_PROCESS_LIMIT`` at once (Prefect's setting; ``produzir run`` sets it to 1). The same
flows can instead be deployed to a Prefect server with a work pool and workers:
``prefect deploy --all`` reads ``prefect.yaml``, which mirrors the same schedules.

Invalid notification settings refuse to serve (exit 2, naming the variable). Serving stops on
Ctrl-C or SIGTERM and pauses the schedules it served until it starts again.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from prefect import serve
from prefect.schedules import Cron
from prefect.settings import get_current_settings
from prefect.types.entrypoint import EntrypointType

from flows.audit import audit_checkpoint
from flows.bulk import bulk_advance, bulk_shard
from flows.deadlines import sweep_deadlines, sweep_shard
from flows.notify import dispatch_notifications, dispatch_shard, send_digests
from flows.schedules import PLANS, Plan
from notifications.settings import load_settings
from states.errors import InvalidInput

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

FLOWS: dict[str, Any] = {
    f.name: f
    for f in (
        sweep_deadlines,
        dispatch_notifications,
        send_digests,
        audit_checkpoint,
        bulk_advance,
        sweep_shard,
        dispatch_shard,
        bulk_shard,
    )
}


def deployment(plan: Plan) -> RunnerDeployment:
    """The served deployment of one plan (its flow, its name, its schedule)."""
    schedules = [Cron(plan.cron, timezone=plan.timezone)] if plan.cron else None
    created: RunnerDeployment = FLOWS[plan.flow_name].to_deployment(
        name=plan.deployment,
        schedules=schedules,
        description=plan.description,
        tags=["produzir"],
        # by module (flows.deadlines.sweep_deadlines): runs wherever the package is installed
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return created


def deployments() -> list[RunnerDeployment]:
    return [deployment(plan) for plan in PLANS]


def main() -> None:
    """Serve every deployment until interrupted; refuse invalid notification settings first."""
    try:
        load_settings()
    except InvalidInput as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    # prefect.serve runs without a limit unless given one: take Prefect's own setting
    # (PREFECT_RUNNER_PROCESS_LIMIT; produzir run sets it to 1)
    limit = get_current_settings().runner.process_limit
    serve(*deployments(), print_starting_message=True, limit=limit)


if __name__ == "__main__":
    main()
