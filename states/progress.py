"""How far sharded work got, kept in the database so that a rerun resumes instead of restarting.

- ``shard_progress``: one row per (run, shard) of a sharded sweep: the case-id range the shard
  owns (fixed when the run first plans its shards, so a rescheduled run splits the same way),
  the last case and obligation it finished (its cursors, written in the same transaction as the
  batch's outbox rows), the instant the run sweeps "as of", whether it finished, and its report
  so far.
- ``bulk_applied``: one row per (request, case) a bulk advance changed, written in the same
  transaction as the change itself; a rerun of the same request finds it and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from states.models import Base


class ShardProgress(Base):
    __tablename__ = "shard_progress"

    run_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(20))
    shards: Mapped[int] = mapped_column(Integer)
    #: the case ids the shard owns, first and last included
    first_id: Mapped[int] = mapped_column(Integer)
    last_id: Mapped[int] = mapped_column(Integer)
    #: the last case (and obligation) whose batch committed; 0 before the first
    case_cursor: Mapped[int] = mapped_column(Integer, default=0)
    obligation_cursor: Mapped[int] = mapped_column(Integer, default=0)
    as_of: Mapped[datetime]
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class BulkApplied(Base):
    __tablename__ = "bulk_applied"

    request_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(BigInteger)
    applied_at: Mapped[datetime]
