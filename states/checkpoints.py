"""Signed checkpoints in the database: made from the tree the sequencer built, read back.

A checkpoint is made by :func:`make` in a write transaction: the whole backlog is integrated
first (waiting for the sequencer lock), then the tree's size and root are signed and stored.
Appending it to the checkpoint file and mailing it are the callers' business, after the commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import audit
from states.models import AuditCheckpoint
from states.signing import Checkpoint, Signer


def to_checkpoint(row: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(
        log=row.log,
        tree_size=row.tree_size,
        root_hash=row.root_hash,
        timestamp=row.timestamp,
        key_id=row.key_id,
        signature=row.signature,
    )


def make(session: Session, signer: Signer, *, log: str, now: datetime) -> tuple[int, Checkpoint]:
    """Integrate the backlog, sign the tree's size and root, store it; return (id, checkpoint)."""
    audit.integrate_all(session)
    size, root = audit.tree_state(session)
    checkpoint = signer.sign(log, size, root, audit.iso_utc(now))
    row = AuditCheckpoint(
        log=checkpoint.log,
        tree_size=checkpoint.tree_size,
        root_hash=checkpoint.root_hash,
        timestamp=checkpoint.timestamp,
        key_id=checkpoint.key_id,
        signature=checkpoint.signature,
    )
    session.add(row)
    session.flush()
    return row.id, checkpoint


def stored(session: Session) -> list[tuple[int, Checkpoint]]:
    """Every stored checkpoint, oldest first."""
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars()
    return [(row.id, to_checkpoint(row)) for row in rows]


def latest(session: Session) -> tuple[int, Checkpoint] | None:
    row = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).scalar()
    return None if row is None else (row.id, to_checkpoint(row))


def by_id(session: Session, checkpoint_id: int) -> Checkpoint | None:
    row = session.get(AuditCheckpoint, checkpoint_id)
    return None if row is None else to_checkpoint(row)
