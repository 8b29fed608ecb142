"""What every flow shares: the runtime it runs against, the retry rule, its published summary.

**Runtime.** A flow run opens the runtime of the ``PRODUZIR_*`` settings (and closes it at the
end); it refuses a database that is not migrated, a permanent error. Tests and the demo inject
their own runtime (a copy of a database, a fixed clock) and channel with :func:`injected`.

**Retries.** Only transient errors are retried (:func:`is_transient`): a database that is
locked, busy or unreachable, a dropped connection, a timeout, a
:class:`~states.errors.DeliveryFailed` that says ``transient``. A user error (invalid input,
not found, a transition the lifecycle refuses, a conflict) or a bug is not: trying again would
fail the same way. Prefect's retries are on tasks (:data:`RETRIES`, :data:`RETRY_DELAYS`,
``retry_condition_fn=``:func:`retry_transient`), each task wrapping one operation; the
operations are idempotent (outbox keys, claims), so a retried task never sends twice.

**Summary.** Every flow run publishes what it did as a Markdown artifact under a stable key per
flow (:data:`ARTIFACT_KEYS`): counts first, then the refusals and failures, so that an operator
reads the result in Prefect's UI (Artifacts, or the flow run's page) without opening logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import Task
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from notifications.channels import Channel
from states.errors import DeliveryFailed, ProduzirError
from states.origin import use_origin
from tasks.runtime import Runtime

#: Attempts after the first one, for transient errors only, and the waits before each.
RETRIES = 3
RETRY_DELAYS: list[float] = [10, 60, 300]

#: The artifact key of each flow (lowercase letters, digits and dashes, as Prefect wants).
ARTIFACT_KEYS = {
    "sweep-deadlines": "sweep-deadlines",
    "dispatch-notifications": "dispatch-notifications",
    "send-digests": "send-digests",
    "bulk-advance": "bulk-advance",
    "audit-checkpoint": "audit-checkpoint",
    "bulk-advance-shard": "bulk-advance-shard",
    "dispatch-notifications-shard": "dispatch-notifications-shard",
}
#: Rows of a list shown in an artifact; the counts above it count them all.
LISTED = 50

_injected: list[tuple[Runtime, Channel | None]] = []


@contextmanager
def injected(rt: Runtime, *, channel: Channel | None = None) -> Iterator[Runtime]:
    """Run the flows called inside the block (in this process) against ``rt`` and ``channel``."""
    _injected.append((rt, channel))
    try:
        yield rt
    finally:
        _injected.pop()


def injected_channel() -> Channel | None:
    """The channel injected with the runtime, if any (None: the settings' channel)."""
    return _injected[-1][1] if _injected else None


@contextmanager
def opened_runtime() -> Iterator[Runtime]:
    """The injected runtime, or one from the settings, closed at the end of the block; what
    the flow writes inside it is recorded with the origin ``flow``."""
    with use_origin("flow"):
        yield from _opened_runtime()


def _opened_runtime() -> Iterator[Runtime]:
    if _injected:
        yield _injected[-1][0]
        return
    rt = Runtime.open(check_migrated=True)
    try:
        yield rt
    finally:
        rt.db.dispose()


# ------------------------------------------------------------------------------ retries


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same thing again later can succeed."""
    if isinstance(exc, DeliveryFailed):
        return exc.transient
    if isinstance(exc, ProduzirError):
        return False  # the user's input or the lifecycle said no; it will say no again
    if isinstance(exc, OperationalError | PoolTimeout):
        return True  # locked or busy database, lost connection, serialization failure
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(exc, ConnectionError | TimeoutError)


def _exception_of(state: State[Any]) -> BaseException | None:
    if isinstance(state.data, BaseException):
        return state.data
    try:
        result = state.result(raise_on_failure=False)
    except BaseException as exc:  # the stored result is the exception itself
        return exc
    return result if isinstance(result, BaseException) else None


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """``retry_condition_fn`` of every task: retry transient errors only."""
    exc = _exception_of(state)
    return exc is not None and is_transient(exc)


# ------------------------------------------------------------------------------ artifacts


def cell(value: object) -> str:
    """A value as one Markdown table cell (pipes escaped, one line)."""
    text = "-" if value is None else str(value)
    return " ".join(text.split()).replace("|", "\\|")


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A Markdown table of the first :data:`LISTED` rows, saying how many were left out."""
    if not rows:
        return "_none_\n"
    head = "| " + " | ".join(label for _, label in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    lines = [head, rule]
    lines += [
        "| " + " | ".join(cell(row.get(key)) for key, _ in columns) + " |" for row in rows[:LISTED]
    ]
    if len(rows) > LISTED:
        lines.append(f"\n_... and {len(rows) - LISTED} more (the flow run's result lists them)_")
    return "\n".join(lines) + "\n"


def counts(pairs: Iterable[tuple[str, object]]) -> str:
    """A two-column Markdown table of figures."""
    lines = ["| | count |", "|---|---:|"]
    lines += [f"| {cell(label)} | {cell(value)} |" for label, value in pairs]
    return "\n".join(lines) + "\n"


def publish(flow_name: str, markdown: str, description: str) -> None:
    """Publish the run's summary under the flow's artifact key (linked to the flow run)."""
    create_markdown_artifact(
        markdown=markdown, key=ARTIFACT_KEYS[flow_name], description=description
    )
