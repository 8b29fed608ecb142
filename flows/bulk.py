"""One event applied to a list of cases (e.g. every case an ECC served), case by case.

:func:`advance_each` is plain Python: it checks the event, the actor and the evidence once (a
mistake there refuses the whole request before anything is written), then takes each case
through the write path of a coordinator's command, :data:`BATCH` cases to a transaction, each
in its own savepoint (:func:`tasks.cases.advance_batch`: a group commit, one fsync per group;
a refused case rolls back alone, its audit entry and outbox rows with it) — and reports which cases moved and which were refused, with the reason
(the guard's sentence, the state that does not accept the event, a case that does not exist, a
concurrent change). A refused or failed case never stops the others.

Every change is recorded under the request's idempotency key (:func:`request_key_of`: the same
request has the same key), in the savepoint of the change itself; running the request again
(a retried task, a rescheduled run, an operator's rerun after a crash) lists the cases it had
already changed as ``already`` and changes them no second time, so even ``anotar`` (which any
state accepts) is applied once.

:func:`bulk_advance` is the Prefect flow around it: it checks the request once, splits the cases
into up to ``shards`` parts (never a task run per case), runs each as a task run (called
directly) or as a ``bulk-advance-shard`` flow run any worker of the pool takes (from a
deployment, :mod:`flows.shards`), and publishes the merged report as the ``bulk-advance``
artifact. The shard tasks retry transient errors: the key makes a retry safe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from flows.common import (
    RETRIES,
    RETRY_DELAYS,
    counts,
    opened_runtime,
    publish,
    retry_transient,
    table,
)
from flows.schedules import BULK, BULK_SHARD
from flows.shards import Progress, from_deployment, in_deployments, in_tasks
from states.errors import GuardFailed, InvalidInput, ProduzirError
from states.origin import use_origin
from states.progress import BulkApplied
from states.text import N_
from tasks import cases
from tasks import shards as sharding
from tasks.demands import check_actor
from tasks.runtime import Runtime

#: Cases one request may name.
MAX_CASES = 100_000


@dataclass
class BulkReport:
    """What a bulk advance did, case by case."""

    event: str
    actor: str
    requested: int
    request_key: str = ""
    moved: list[dict[str, Any]] = field(default_factory=list)
    #: cases this request had already changed (a rerun): left as they were
    already: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    #: unexpected errors (a database gone away, a bug): the case was left as it was
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def merged(cls, parts: list[BulkReport]) -> BulkReport:
        """The shards' reports as one, in the request's order."""
        first = parts[0]
        total = cls(first.event, first.actor, 0, first.request_key)
        for part in parts:
            total.requested += part.requested
            total.moved += part.moved
            total.already += part.already
            total.refused += part.refused
            total.failed += part.failed
        return total


def request_key_of(
    ids: list[int], event: str, evidence: Mapping[str, Any], actor: str, note: str | None
) -> str:
    """The idempotency key of a request: the same request (cases, event, evidence, actor,
    note) has the same key, so running it again changes no case a second time."""
    body = json.dumps([ids, event, dict(evidence), actor, note], sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def checked_ids(rt: Runtime, case_ids: Iterable[int], event: str, actor: str) -> list[int]:
    """The request's cases, each once in the order given, after checking the actor and event."""
    check_actor(actor)
    rt.lifecycle.spec(event)
    ids = list(dict.fromkeys(case_ids))  # each case once, in the order given
    if not ids:
        raise InvalidInput(N_("no case given"), field="case_ids")
    if len(ids) > MAX_CASES:
        raise InvalidInput(
            N_(
                "%(value)s cases: at most %(MAX_CASES)s a request",
                value=len(ids),
                MAX_CASES=MAX_CASES,
            ),
            field="case_ids",
        )
    return ids


#: Cases one transaction of a bulk advance takes (each in its own savepoint: a group commit).
BATCH = cases.BATCH


def advance_each(
    rt: Runtime,
    case_ids: Iterable[int],
    event: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    actor: str,
    note: str | None = None,
    request_key: str | None = None,
) -> BulkReport:
    """Fire ``event`` with ``evidence`` on each case; the report.

    The cases go in groups of :data:`BATCH`, one transaction per group and a savepoint per
    case (:func:`tasks.cases.advance_batch`): a refused or failing case rolls back alone, the
    group commits once. Each change is recorded under ``request_key`` (default:
    :func:`request_key_of` the request) in the savepoint of the change itself: a case the
    request already changed is listed as ``already`` and left alone.
    """
    ids = checked_ids(rt, case_ids, event, actor)
    parsed = rt.lifecycle.parse_evidence(event, dict(evidence or {}))  # unknown event, bad data
    key = request_key or request_key_of(ids, event, evidence or {}, actor, note)
    report = BulkReport(event=event, actor=actor, requested=len(ids), request_key=key)
    results = cases.advance_batch(
        rt,
        [cases.Step(case_id, event, parsed) for case_id in ids],
        actor=actor,
        note=note,
        request_key=key,
        batch_size=BATCH,
    )
    for case_id, moved in zip(ids, results, strict=True):
        if isinstance(moved, ProduzirError):
            text = moved.reason_text if isinstance(moved, GuardFailed) else moved.text
            report.refused.append(
                {"case_id": case_id, "code": moved.code, "reason": text.english(), "text": text}
            )
        elif isinstance(moved, Exception):  # one bad case never stops the others
            report.failed.append({"case_id": case_id, "error": f"{type(moved).__name__}: {moved}"})
        else:
            done = {
                "case_id": case_id,
                "from_state": moved.from_state,
                "to_state": moved.to_state,
                "version": moved.version,
            }
            (report.already if moved.replayed else report.moved).append(done)
    return report


def applied_report(
    rt: Runtime, key: str, ids: list[int], event: str, actor: str, runs: int
) -> BulkReport:
    """The request's report as the database has it: the cases it changed, and the others."""
    with rt.db.read() as session:  # read inside the session: its rows expire when it ends
        rows = {
            a.case_id: {
                "case_id": a.case_id,
                "from_state": a.from_state,
                "to_state": a.to_state,
                "version": a.version,
            }
            for a in session.execute(
                select(BulkApplied).where(BulkApplied.request_key == key)
            ).scalars()
        }
    report = BulkReport(event=event, actor=actor, requested=len(ids), request_key=key)
    for case_id in ids:
        found = rows.get(case_id)
        if found is None:
            reason = f"not changed: the artifacts of the {runs} shard runs say why"
            report.refused.append({"case_id": case_id, "code": "not_changed", "reason": reason})
        else:
            report.moved.append(found)
    return report


#: Shards of a bulk advance unless told otherwise, and the fewest cases worth a shard.
SHARDS = 4
MIN_PER_SHARD = 100


def shard_one(
    rt: Runtime,
    case_ids: list[int],
    event: str,
    evidence: dict[str, Any],
    actor: str,
    note: str | None,
    request_key: str,
    shard: int,
) -> BulkReport:
    """One shard's cases, with its progress bar (one update per case is too many: per 1 %)."""
    bar = Progress(f"bulk-advance-shard-{shard}", f"{len(case_ids)} cases")
    report = advance_each(
        rt, case_ids, event, evidence, actor=actor, note=note, request_key=request_key
    )
    bar(1.0)
    return report


@task(
    name="advance-shard",
    retries=RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=retry_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def advance_task(
    rt: Runtime,
    case_ids: list[int],
    event: str,
    evidence: dict[str, Any],
    actor: str,
    note: str | None,
    request_key: str,
    shard: int,
) -> BulkReport:
    """One shard's cases, in this process (a retry skips what the request already changed)."""
    with use_origin("flow"):
        return shard_one(rt, case_ids, event, evidence, actor, note, request_key, shard)


@flow(name=BULK_SHARD.flow_name, description=BULK_SHARD.description, persist_result=False)
def bulk_shard(
    case_ids: list[int],
    event: str,
    evidence: dict[str, Any],
    actor: str,
    note: str | None,
    request_key: str,
    shard: int,
) -> dict[str, Any]:
    """One shard of a bulk advance, on whichever worker took this flow run."""
    with opened_runtime() as rt:
        report = advance_task(rt, case_ids, event, evidence, actor, note, request_key, shard)
    publish(BULK_SHARD.flow_name, summary(report), f"shard {shard}: {len(report.moved)} moved")
    return report.as_dict()


def summary(report: BulkReport) -> str:
    return (
        f"# Bulk advance: {report.event} by {report.actor}\n\n"
        + counts(
            [
                ("cases requested", report.requested),
                ("moved", len(report.moved)),
                ("already changed by this request", len(report.already)),
                ("refused", len(report.refused)),
                ("failed", len(report.failed)),
            ]
        )
        + f"\n## Refused ({len(report.refused)})\n\n"
        + table(report.refused, [("case_id", "case"), ("code", "code"), ("reason", "why")])
        + f"\n## Failed ({len(report.failed)})\n\n"
        + table(report.failed, [("case_id", "case"), ("error", "error")])
        + f"\n## Moved ({len(report.moved)})\n\n"
        + table(
            report.moved,
            [("case_id", "case"), ("from_state", "from"), ("to_state", "to"), ("version", "v")],
        )
    )


@flow(name=BULK.flow_name, description=BULK.description, persist_result=False)
def bulk_advance(
    case_ids: list[int],
    event: str,
    evidence: dict[str, Any],
    actor: str,
    note: str | None = None,
    request_key: str | None = None,
    shards: int = SHARDS,
) -> dict[str, Any]:
    """Apply ``event`` with ``evidence`` (``{}`` when it needs none) to every case in
    ``case_ids``, as ``actor`` (the user name the audit trail records), in up to ``shards``
    parts. Running the same request again (or with the same ``request_key``) changes no case
    twice."""
    with opened_runtime() as rt:
        ids = checked_ids(rt, case_ids, event, actor)
        rt.lifecycle.parse_evidence(event, dict(evidence))  # refused before any case is touched
        key = request_key or request_key_of(ids, event, evidence, actor, note)
        parts = sharding.chunks(
            ids, min(sharding.check_shards(shards), -(-len(ids) // MIN_PER_SHARD))
        )
        if from_deployment():
            runs = in_deployments(
                BULK_SHARD.full_name,
                [
                    {
                        "case_ids": part,
                        "event": event,
                        "evidence": evidence,
                        "actor": actor,
                        "note": note,
                        "request_key": key,
                        "shard": i,
                    }
                    for i, part in enumerate(parts)
                ],
            )
            # results are not kept (nothing is shared between workers but the database): what
            # changed is read from the request's records; each shard run's artifact says why
            # the others were refused
            reports = [applied_report(rt, key, ids, event, actor, len(runs))]
        else:
            reports = in_tasks(
                lambda i: advance_task.submit(rt, parts[i], event, evidence, actor, note, key, i),
                len(parts),
            )
        report = BulkReport.merged(reports)
    publish(
        BULK.flow_name,
        summary(report),
        f"{report.event}: {len(report.moved)} moved, {len(report.refused)} refused, "
        f"{len(report.failed)} failed",
    )
    return report.as_dict()
