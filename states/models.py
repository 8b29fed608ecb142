"""The database tables, as typed SQLAlchemy 2 models.

- ``municipalities``: IBGE reference data (5,570 rows shipped in ``states/data``).
- ``cases``: one row per demand, its current state and deadline, with a ``version`` that every
  change increments (optimistic concurrency).
- ``audit_events``: the append-only, hash-chained history of cases and programme records; the
  database refuses UPDATE and DELETE on it (triggers created by the migrations).
- ``chain_head``: one row, the last sequence number and hash; appending locks it, so the chain
  has exactly one next link even with many writers.
"""

from __future__ import annotations

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
    String,
    Text,
    TypeDecorator,
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

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
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
    note: Mapped[str | None] = mapped_column(Text)
    #: canonical JSON text (kept as text so the hash is reproducible on every backend)
    evidence: Mapped[str] = mapped_column(Text)
    changes: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ChainHead(Base):
    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
