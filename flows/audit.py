"""The audit log's backstop and its signed checkpoints, as a Prefect flow.

Every five minutes (:data:`flows.schedules.CHECKPOINT`) the flow integrates whatever entries
the writers left to the sequencer (a writer that lost the sequencer's try-lock on PostgreSQL
leaves its entry for the next one) and, when the newest checkpoint is older than
``PRODUZIR_AUDIT_CHECKPOINT_MINUTES``, signs a new one and appends it to the checkpoint file.
The deadline sweep signs one after every sweep (:mod:`flows.deadlines`).
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import RETRIES, RETRY_DELAYS, counts, opened_runtime, publish, retry_transient
from flows.schedules import CHECKPOINT
from tasks import audit_log
from tasks.runtime import Runtime


@task(
    name="audit-checkpoint",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def checkpoint_task(rt: Runtime, force: bool) -> audit_log.Backstop:
    """Integrate the backlog; sign a checkpoint when one is due (or ``force``)."""
    return audit_log.backstop(rt, force=force)


@flow(name=CHECKPOINT.flow_name, description=CHECKPOINT.description, persist_result=False)
def audit_checkpoint(force: bool = False) -> dict[str, object]:
    """The backstop run: entries integrated, and the checkpoint signed, if one was."""
    with opened_runtime() as rt:
        done = checkpoint_task(rt, force)
    cp = done.published.checkpoint if done.published else None
    publish(
        CHECKPOINT.flow_name,
        "# Audit log\n\n"
        + counts(
            [
                ("entries integrated by the backstop", done.integrated),
                ("tree size", done.tree_size),
                ("checkpoint signed", "yes" if cp else "no (the newest one is recent)"),
            ]
        )
        + (f"\nRoot `{cp.root_hash}`, key `{cp.key_id}`, at {cp.timestamp}.\n" if cp else ""),
        f"{done.integrated} integrated; "
        + (f"checkpoint of {cp.tree_size} entries signed" if cp else "no checkpoint due"),
    )
    return {
        "integrated": done.integrated,
        "tree_size": done.tree_size,
        "checkpoint": cp.to_json() if cp else None,
    }
