"""The audit chain: append-only, hash-chained events, one chain for the whole database.

Each event's ``hash`` is SHA-256 over the canonical JSON of the row (every column but the hash
itself, ``prev_hash`` included). ``prev_hash`` is the previous event's hash (64 zeros for the
first). Changing a row, deleting one or swapping two breaks the chain at a sequence number that
:func:`verify` names. The ``chain_head`` row holds the newest sequence number and hash, so a
deleted newest event shows too; publish :attr:`Verification.head_hash` somewhere else to anchor
the chain against someone who rewrites the whole table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from states.models import AuditEvent, ChainHead

GENESIS = "0" * 64
HEAD_ID = 1
_LOOKAROUND = 64

# Statements of append, built once.
_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
_HEADS: Table = ChainHead.__table__  # type: ignore[assignment]
_HEAD = select(ChainHead).where(ChainHead.id == HEAD_ID)
_HEAD_LOCKED = _HEAD.with_for_update()
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == HEAD_ID)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def iso_utc(value: datetime) -> str:
    """``2026-03-01T12:00:00.000000Z``: a fixed form, whatever the backend returned."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(
    *,
    seq: int,
    case_id: int | None,
    case_version: int | None,
    record_type: str | None,
    record_id: int | None,
    lifecycle_version: str,
    event: str,
    from_state: str | None,
    to_state: str | None,
    actor: str,
    note: str | None,
    evidence: str,
    changes: str,
    occurred_at: datetime,
    prev_hash: str,
) -> str:
    """The SHA-256 of one event's canonical serialisation."""
    payload = canonical_json(
        {
            "seq": seq,
            "case_id": case_id,
            "case_version": case_version,
            "record_type": record_type,
            "record_id": record_id,
            "lifecycle_version": lifecycle_version,
            "event": event,
            "from_state": from_state,
            "to_state": to_state,
            "actor": actor,
            "note": note,
            "evidence": evidence,
            "changes": changes,
            "occurred_at": iso_utc(occurred_at),
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _hash_of(row: AuditEvent, seq: int | None = None) -> str:
    return row_hash(
        seq=row.seq if seq is None else seq,
        case_id=row.case_id,
        case_version=row.case_version,
        record_type=row.record_type,
        record_id=row.record_id,
        lifecycle_version=row.lifecycle_version,
        event=row.event,
        from_state=row.from_state,
        to_state=row.to_state,
        actor=row.actor,
        note=row.note,
        evidence=row.evidence,
        changes=row.changes,
        occurred_at=row.occurred_at,
        prev_hash=row.prev_hash,
    )


def append(
    session: Session,
    *,
    case_id: int | None,
    case_version: int | None,
    lifecycle_version: str,
    event: str,
    from_state: str | None,
    to_state: str | None,
    actor: str,
    note: str | None,
    evidence: dict[str, Any],
    changes: dict[str, Any],
    occurred_at: datetime,
    postgresql: bool,
    record_type: str | None = None,
    record_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    Locks the chain head (PostgreSQL: ``FOR UPDATE``; SQLite: the write transaction already
    holds the database lock), so concurrent writers link one after the other. The event is
    inserted and the head moved with two Core statements (no unit-of-work flush); the returned
    event and the head stay in the session, persistent and in step with their rows.
    """
    head = session.execute(_HEAD_LOCKED if postgresql else _HEAD).scalar_one()
    row = AuditEvent(
        seq=head.seq + 1,
        case_id=case_id,
        case_version=case_version,
        record_type=record_type,
        record_id=record_id,
        lifecycle_version=lifecycle_version,
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        note=note,
        evidence=canonical_json(evidence),
        changes=canonical_json(changes),
        occurred_at=occurred_at,
        prev_hash=head.hash,
    )
    row.hash = _hash_of(row)
    session.execute(_INSERT_EVENT, {c.key: getattr(row, c.key) for c in _EVENTS.columns})
    session.execute(_MOVE_HEAD, {"new_seq": row.seq, "new_hash": row.hash})
    set_committed_value(head, "seq", row.seq)
    set_committed_value(head, "hash", row.hash)
    make_transient_to_detached(row)  # the row exists now: attach it as loaded, not pending
    session.add(row)
    return row


@dataclass(frozen=True)
class Problem:
    """The first place the chain is broken."""

    seq: int
    kind: str  # changed | missing | reordered | broken_link
    detail: str


@dataclass(frozen=True)
class Verification:
    """The result of checking the whole chain."""

    checked: int
    head_seq: int
    head_hash: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _stream(session: Session, batch: int = 2_000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > last)
                .order_by(AuditEvent.seq)
                .limit(batch)
            ).scalars()
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the whole chain in order; report the first broken sequence number, if any."""
    head = session.get(ChainHead, HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    window: list[AuditEvent] = []
    checked = 0
    expected_seq = 1
    prev_hash = GENESIS
    recent: list[AuditEvent] = []
    stream = _stream(session)

    def fail(problem: Problem) -> Verification:
        return Verification(checked, head_seq, head_hash, problem)

    for row in _lookahead(stream, window):
        if row.seq != expected_seq:
            missing = (
                f"seq {expected_seq}"
                if row.seq == expected_seq + 1
                else f"seq {expected_seq} to {row.seq - 1}"
            )
            return fail(Problem(expected_seq, "missing", f"{missing} missing from the chain"))
        if _hash_of(row) != row.hash:
            original = _recorded_as(row, recent, window)
            if original is not None:
                return fail(
                    Problem(
                        row.seq,
                        "reordered",
                        f"the event at seq {row.seq} was recorded as seq {original}",
                    )
                )
            return fail(
                Problem(
                    row.seq,
                    "changed",
                    f"seq {row.seq} ({row.event}, case {row.case_id}) "
                    "does not match its hash: its content was changed",
                )
            )
        if row.prev_hash != prev_hash:
            return fail(
                Problem(
                    row.seq,
                    "broken_link",
                    f"seq {row.seq} does not follow seq {row.seq - 1}: the previous event was "
                    "replaced or rewritten",
                )
            )
        prev_hash = row.hash
        expected_seq += 1
        checked += 1
        recent = [*recent[-_LOOKAROUND:], row]
    last_seq = expected_seq - 1
    if last_seq != head_seq:
        if last_seq < head_seq:
            missing = f"seq {last_seq + 1}" + (f" to {head_seq}" if head_seq > last_seq + 1 else "")
            return fail(
                Problem(last_seq + 1, "missing", f"{missing} missing: the chain head is {head_seq}")
            )
        return fail(Problem(head_seq + 1, "broken_link", f"events beyond the head {head_seq}"))
    if head_hash != prev_hash:
        return fail(Problem(last_seq, "changed", f"seq {last_seq} does not match the chain head"))
    return Verification(checked, head_seq, head_hash, None)


def _lookahead(stream: Iterable[AuditEvent], window: list[AuditEvent]) -> Iterator[AuditEvent]:
    """Yield rows while keeping up to _LOOKAROUND of the following ones in ``window``."""
    iterator = iter(stream)
    for row in iterator:
        window.append(row)
        if len(window) > _LOOKAROUND:
            yield window.pop(0)
    while window:
        yield window.pop(0)


def _recorded_as(row: AuditEvent, before: list[AuditEvent], after: list[AuditEvent]) -> int | None:
    """The sequence number this row's hash was computed with, if it is a nearby one."""
    candidates = [r.seq for r in (*before, *after)]
    candidates.extend(range(max(1, row.seq - _LOOKAROUND), row.seq + _LOOKAROUND + 1))
    for seq in dict.fromkeys(candidates):
        if seq != row.seq and _hash_of(row, seq) == row.hash:
            return seq
    return None
