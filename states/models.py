"""The database tables, as typed SQLAlchemy 2 models.

- ``municipalities``: IBGE reference data (5,570 rows shipped in ``states/data``).
- ``cases``: one row per demand, its current state and deadline, with a ``version`` that every
  change increments (optimistic concurrency).
- ``audit_events``: the append-only history of cases and programme records. Each row holds its
  entry as RFC 8785 canonical JSON (``entry``, the bytes that are hashed) and, once the sequencer
  has integrated it, its position in the Merkle tree (``leaf_index``). The other columns repeat
  fields of the entry so they can be indexed; verification checks that they agree. The database
  refuses DELETE and any UPDATE but setting a NULL ``leaf_index`` (triggers of the migrations).
- ``audit_tree``: the Merkle tree's perfect-subtree hashes by (level, index); level 0 holds the
  leaf hashes. ``audit_log_state``: one row, the tree's size, frontier and root. Both are written
  only by the sequencer (:mod:`states.audit`).
- ``audit_checkpoints``: signed tree heads (:mod:`states.signing`); ``audit_verifications``:
  every verification that passed, so the next one can start from its checkpoint.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        list[str]: JSON,
        dict[str, Any]: JSON,
    }


class Municipality(Base):
    __tablename__ = "municipalities"

    ibge_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(120))
    uf: Mapped[str] = mapped_column(String(2), index=True)
    state_name: Mapped[str] = mapped_column(String(40))
    region: Mapped[str] = mapped_column(String(20))
    mesoregion_code: Mapped[int] = mapped_column(Integer)
    mesoregion: Mapped[str] = mapped_column(String(120))
    microregion_code: Mapped[int] = mapped_column(Integer, index=True)
    microregion: Mapped[str] = mapped_column(String(120))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(40))


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    lifecycle_version: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    previous_state: Mapped[str | None] = mapped_column(String(20))

    # the demand record
    municipality_code: Mapped[int] = mapped_column(ForeignKey("municipalities.ibge_code"))
    community: Mapped[str] = mapped_column(String(200))
    #: the channel of organised civil society the demand came from (a development forum,
    #: preferably: :class:`states.evidence.DemandChannel`); ``forum`` names it
    demand_channel: Mapped[str] = mapped_column(String(30), server_default="forum")
    forum: Mapped[str] = mapped_column(String(200))
    forum_held_on: Mapped[date] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(String(200))
    proponent: Mapped[str] = mapped_column(String(200))
    proponent_cnpj: Mapped[str | None] = mapped_column(String(14))
    description: Mapped[str | None] = mapped_column(Text)

    coordinator: Mapped[str | None] = mapped_column(String(64))
    #: the development hub (polo), set when the hub is formalised
    hub_municipality_code: Mapped[int | None] = mapped_column(
        ForeignKey("municipalities.ibge_code")
    )
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(64))

    # the clock of the current state
    entered_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    extensions_used: Mapped[int] = mapped_column(Integer, default=0)
    suspended_on: Mapped[date | None] = mapped_column(Date)
    paused_due_on: Mapped[date | None] = mapped_column(Date)
    expected_resume_on: Mapped[date | None] = mapped_column(Date)
    rejected_on: Mapped[date | None] = mapped_column(Date)
    reopen_requested_by: Mapped[str | None] = mapped_column(String(64))

    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_cases_state_due", "state", "due_on"),
        Index("ix_cases_municipality_state_due", "municipality_code", "state", "due_on"),
        Index("ix_cases_municipality", "municipality_code"),
        Index("ix_cases_coordinator", "coordinator"),
    )


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # partial on PostgreSQL too (``postgresql_where``, migration 0007); not declared here:
        # the keyword would import SQLAlchemy's PostgreSQL dialect with the models, in every
        # command on SQLite (Alembic does not compare an index's WHERE clause)
        Index(
            "ix_audit_events_pending",
            "seq",
            sqlite_where=text("leaf_index IS NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    #: the case the event belongs to (None for records of no case, e.g. a person registered)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    case_version: Mapped[int | None] = mapped_column(Integer)
    #: the programme record the event changed, if not (only) the case: "person", "event"...
    record_type: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[int | None] = mapped_column(Integer)
    lifecycle_version: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    #: web | api | cli | flow | system (:mod:`states.origin`)
    channel: Mapped[str] = mapped_column(String(10))
    occurred_at: Mapped[datetime]
    #: the entry: RFC 8785 canonical JSON, exactly the bytes its leaf hash covers
    entry: Mapped[str] = mapped_column(Text)
    #: its position in the Merkle tree; NULL until the sequencer integrates it
    leaf_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)

    @property
    def data(self) -> dict[str, Any]:
        """The entry, parsed (every field of the README's entry specification)."""
        cached: dict[str, Any] | None = self.__dict__.get("_data")
        if cached is None:
            cached = json.loads(self.entry)
            self.__dict__["_data"] = cached
        return cached

    @property
    def note(self) -> str | None:
        note: str | None = self.data.get("note")
        return note

    @property
    def evidence(self) -> dict[str, Any]:
        evidence: dict[str, Any] = self.data.get("evidence", {})
        return evidence

    @property
    def changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = self.data.get("changes", {})
        return changes

    @property
    def os_user(self) -> str | None:
        os_user: str | None = self.data.get("os_user")
        return os_user


class AuditNode(Base):
    """A perfect subtree of the Merkle tree: ``2**level`` leaves from ``idx * 2**level``."""

    __tablename__ = "audit_tree"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditLogState(Base):
    """The tree the sequencer has built so far (one row)."""

    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    root_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed tree head, as published (:class:`states.signing.Checkpoint`)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    log: Mapped[str] = mapped_column(String(64))
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(100))


class AuditVerification(Base):
    """A verification that found the log intact up to a checkpoint."""

    __tablename__ = "audit_verifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("audit_checkpoints.id"))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    full: Mapped[bool]
    verified_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
