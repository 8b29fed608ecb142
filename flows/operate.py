"""What the deployments need on the Prefect server besides themselves: automations and limits.

:func:`set_up` (``produzir deploy automations``, after ``prefect deploy --all``) creates or
replaces, by name:

- **lost heartbeats**: a flow run of ours (tag ``produzir``) that started running or sent a
  heartbeat and then neither a heartbeat nor a final state within :data:`HEARTBEAT_GRACE`
  seconds (``--grace``) is marked
  *Crashed* (its worker or its process died);
- **reschedule**: a flow run of ours that crashes is set back to *Scheduled*, so any worker of
  the pool takes it again; a sweep shard resumes from its cursors, a bulk shard skips what its
  request already changed;
- one global concurrency limit of one slot per sweep shard (:func:`flows.shards.limit_name`,
  shards 0 to :data:`LIMITED_SHARDS` - 1): never two runs of the same shard at once, even when a
  rescheduled parent starts a shard again while the first is still running. The bound on
  dispatchers and "one sweep at a time" are the deployments' ``concurrency_limit`` in
  ``prefect.yaml``.

Flow runs send heartbeats only when ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` is set (seconds) on
the workers; the README says so. Without it every run longer than the grace would be taken
for dead.
"""

from __future__ import annotations

from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

from flows.shards import limit_name

#: Seconds without a heartbeat after which a flow run is taken for dead.
HEARTBEAT_GRACE = 90
#: Sweep shards that get a concurrency limit of their own.
LIMITED_SHARDS = 16
TAG = {"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.produzir"}
FINAL = ["Completed", "Failed", "Cancelled", "Crashed"]


def automations(grace: int = HEARTBEAT_GRACE) -> list[AutomationCore]:
    """The two automations; ``grace``: seconds without a heartbeat before a run is crashed
    (more than ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, which is at least 30)."""
    lost = AutomationCore(
        name="produzir: flow run lost its heartbeats",
        description="Mark a produzir flow run crashed when its heartbeats stop.",
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=TAG,
            # from its first Running state too: a run whose process dies before its first
            # heartbeat is otherwise never noticed
            after={"prefect.flow-run.heartbeat", "prefect.flow-run.Running"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{s}" for s in FINAL)},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=grace),
        ),
        actions=[
            ChangeFlowRunState(state=StateType.CRASHED, message="no heartbeat: its worker is gone")
        ],
    )
    reschedule = AutomationCore(
        name="produzir: reschedule a crashed flow run",
        description="Put a crashed produzir flow run back in the queue for any worker.",
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=TAG,
            expect={"prefect.flow-run.Crashed"},
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.SCHEDULED, message="crashed: scheduled again", force=True
            )
        ],
    )
    return [lost, reschedule]


def set_up(grace: int = HEARTBEAT_GRACE) -> list[str]:
    """Create or replace the automations and limits on the Prefect API; their names."""
    names = []
    with get_client(sync_client=True) as client:
        for automation in automations(grace):
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
            names.append(automation.name)
        for shard in range(LIMITED_SHARDS):
            name = limit_name("sweep", shard)
            client.upsert_global_concurrency_limit_by_name(name, 1)
            names.append(name)
    return names
