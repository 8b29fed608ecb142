"""How a parent flow run spreads its shards, and waits for them.

A flow run started from a deployment (on a work pool) starts one flow run of the shard's
deployment per shard (:func:`prefect.deployments.run_deployment`), so any worker of the pool
takes it: task runs stay in the process of the flow run that submits them, only flow runs of a
deployment travel to other workers. The parent waits for them all and then owns the summary.
A shard run that crashed (its worker died) is waited for, up to
:data:`CRASHED_WAIT_SECONDS`, until the automation has scheduled it again and it ends.
Each shard run's idempotency key is the parent's run id, its attempt and the shard: a parent
that Prefect reschedules finds the shard runs it already started instead of starting them
again; a parent's new attempt starts new runs only for the shards not finished, which resume
from their cursors.

A flow called directly (tests, the demo, ``produzir run``'s first sweep) runs its shards as
task runs submitted to its task runner, concurrently, in its own process.

Each shard publishes a progress artifact (:class:`Progress`) while it runs. ``one sweep at a
time per shard`` is a global concurrency limit per shard (:func:`slot`, named by
:func:`limit_name`), which ``produzir deploy`` creates; without it (a test server) a shard runs
unlimited.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast
from uuid import UUID

from prefect import runtime
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.concurrency.sync import concurrency
from prefect.deployments import run_deployment
from prefect.futures import PrefectFuture, wait

from states.errors import ProduzirError

T = TypeVar("T")
#: Seconds between two looks at the shard runs a parent waits for.
POLL_SECONDS = 2.0
#: How long a shard holds its concurrency slot without renewing it (a dead worker's slot frees).
LEASE_SECONDS = 120.0
#: How long a parent waits for a crashed shard run to be scheduled again (the automation of
#: ``produzir deploy automations`` does it at once) before it counts the shard as not completed.
CRASHED_WAIT_SECONDS = 300.0


def parent_key() -> str:
    """The key of this run's shards: the flow run's id (kept when Prefect reschedules it)."""
    found = runtime.flow_run.id
    return str(found) if found else uuid.uuid4().hex


def from_deployment() -> bool:
    """Whether this flow run was started from a deployment (so its shards can be too)."""
    return runtime.deployment.id is not None


def limit_name(kind: str, shard: int) -> str:
    """The global concurrency limit of one shard of ``kind`` ("sweep", "dispatch")."""
    return f"produzir-{kind}-shard-{shard}"


@contextmanager
def slot(kind: str, shard: int) -> Iterator[None]:
    """Hold the shard's concurrency slot while the block runs (unlimited if none is set up)."""
    with concurrency(limit_name(kind, shard), occupy=1, lease_duration=LEASE_SECONDS):
        yield


class Progress:
    """A shard's progress bar in Prefect's UI (an artifact, updated after each batch)."""

    def __init__(self, key: str, description: str) -> None:
        made = create_progress_artifact(progress=0.0, key=key, description=description)
        self.id = cast(UUID, made)
        self._last = 0.0

    def __call__(self, fraction: float) -> None:
        percent = round(100 * fraction, 1)
        if percent - self._last >= 1 or percent >= 100:
            update_progress_artifact(self.id, percent)
            self._last = percent


def in_deployments(deployment: str, parameters: Sequence[dict[str, Any]]) -> list[FlowRun]:
    """Start one flow run of ``deployment`` per parameter set; wait for all; their results."""
    key, attempt = parent_key(), runtime.flow_run.run_count or 1
    started = [
        cast(
            FlowRun,
            run_deployment(
                deployment,
                parameters=dict(params),
                timeout=0,
                idempotency_key=f"{key}-{attempt}-{index}",
                as_subflow=True,
            ),
        )
        for index, params in enumerate(parameters)
    ]
    pending = {run.id for run in started}
    final: dict[UUID, FlowRun] = {}
    crashed: dict[UUID, float] = {}  # since when a shard run has been crashed
    with get_client(sync_client=True) as client:
        while pending:
            for run_id in list(pending):
                run = client.read_flow_run(run_id)
                if run.state is not None and run.state.is_crashed():
                    # a dead worker's run: the automation schedules it again, wait for that
                    since = crashed.setdefault(run_id, time.monotonic())
                    if time.monotonic() - since < CRASHED_WAIT_SECONDS:
                        continue
                else:
                    crashed.pop(run_id, None)
                if run.state is not None and run.state.is_final():
                    final[run_id] = run
                    pending.discard(run_id)
            if pending:
                time.sleep(POLL_SECONDS)
    failed = [r.name for r in final.values() if r.state is None or not r.state.is_completed()]
    if failed:
        raise ProduzirError(f"shard runs not completed: {', '.join(sorted(failed))}")
    return [final[run.id] for run in started]


def in_tasks(submit: Callable[[int], PrefectFuture[T]], count: int) -> list[T]:
    """Submit ``count`` shard task runs (``submit(index)``); wait for all; their results."""
    futures = [submit(index) for index in range(count)]
    wait(futures)
    return [future.result() for future in futures]
