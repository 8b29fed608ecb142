"""Work split into shards, and how far each shard got (kept in the database).

A sharded run has a key (:func:`run_key`: the Prefect flow run's id, which stays the same when
Prefect retries or reschedules the run). :func:`plan` splits the case ids into ``shards``
contiguous ranges the first time a run asks, and records them (``shard_progress``); every later
call with the same key returns the same ranges with their cursors, so a rerun resumes where
each shard's last committed batch ended, as of the same instant. :func:`save` moves a shard's
cursors in the caller's transaction: the sweep writes them with the batch's outbox rows, so
what committed is never done again.

:func:`chunks` splits a bulk request's case list the same way (by position, not by id ranges:
the request names its cases).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from states.errors import InvalidInput
from states.models import Case
from states.progress import ShardProgress
from tasks.runtime import Runtime

#: Shards a run may be split into.
MAX_SHARDS = 256
T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """One shard of a run: the case ids it owns and how far it got."""

    run_key: str
    shard: int
    shards: int
    first_id: int
    last_id: int
    case_cursor: int
    obligation_cursor: int
    as_of: datetime
    finished: bool
    report: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.shard + 1}/{self.shards}"


def check_shards(shards: int) -> int:
    if not 1 <= shards <= MAX_SHARDS:
        raise InvalidInput(f"shards: {shards}, expected 1 to {MAX_SHARDS}", field="shards")
    return shards


def run_key(given: str | None = None) -> str:
    """``given``, or a new key (a run outside Prefect that names none)."""
    key = given or uuid.uuid4().hex
    if len(key) > 64:
        raise InvalidInput("run key: at most 64 characters", field="run_key")
    return key


def ranges(first: int, last: int, shards: int) -> list[tuple[int, int]]:
    """``first``..``last`` cut into ``shards`` contiguous ranges (the last ones may be empty)."""
    size = max(1, -(-(last - first + 1) // shards))
    found = []
    for i in range(shards):
        lo = first + i * size
        hi = min(last, lo + size - 1) if i < shards - 1 else max(last, lo - 1)
        found.append((lo, hi))
    return found


def _shard(row: ShardProgress) -> Shard:
    return Shard(
        row.run_key,
        row.shard,
        row.shards,
        row.first_id,
        row.last_id,
        row.case_cursor,
        row.obligation_cursor,
        row.as_of,
        row.finished,
        dict(row.report),
    )


def plan(rt: Runtime, key: str, kind: str, shards: int, as_of: datetime) -> list[Shard]:
    """The shards of run ``key``: those recorded, or ``shards`` new ones over the case ids."""
    check_shards(shards)
    with rt.db.write() as session:
        found = read(session, key)
        if found:
            return found
        first, last = session.execute(select(func.min(Case.id), func.max(Case.id))).one()
        now = rt.clock.now()
        for index, (lo, hi) in enumerate(ranges(first or 1, last or 0, shards)):
            session.add(
                ShardProgress(
                    run_key=key,
                    shard=index,
                    kind=kind,
                    shards=shards,
                    first_id=lo,
                    last_id=hi,
                    case_cursor=0,
                    obligation_cursor=0,
                    as_of=as_of,
                    finished=False,
                    report={},
                    updated_at=now,
                )
            )
        session.flush()
        return read(session, key)


def read(session: Session, key: str) -> list[Shard]:
    rows = session.execute(
        select(ShardProgress).where(ShardProgress.run_key == key).order_by(ShardProgress.shard)
    ).scalars()
    return [_shard(row) for row in rows]


def load(rt: Runtime, key: str) -> list[Shard]:
    with rt.db.read() as session:
        return read(session, key)


def one(rt: Runtime, key: str, shard: int) -> Shard:
    """Shard ``shard`` of run ``key``, as recorded."""
    for found in load(rt, key):
        if found.shard == shard:
            return found
    raise InvalidInput(f"run {key} has no shard {shard}", field="shard")


def save(
    session: Session,
    shard: Shard,
    *,
    case_cursor: int,
    obligation_cursor: int,
    report: dict[str, Any],
    now: datetime,
    finished: bool = False,
) -> None:
    """Move the shard's cursors, in the caller's transaction."""
    session.execute(
        update(ShardProgress)
        .where(ShardProgress.run_key == shard.run_key, ShardProgress.shard == shard.shard)
        .values(
            case_cursor=case_cursor,
            obligation_cursor=obligation_cursor,
            report=report,
            finished=finished,
            updated_at=now,
        )
    )


def chunks(items: Sequence[T], shards: int) -> list[list[T]]:
    """``items`` in ``shards`` consecutive chunks of (nearly) equal size, none empty."""
    check_shards(shards)
    count = min(shards, len(items)) or 1
    size = -(-len(items) // count)
    return [list(items[i : i + size]) for i in range(0, len(items), size)] or [[]]
