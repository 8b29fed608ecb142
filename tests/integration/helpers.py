"""Small readers shared by the integration tests: row counts, a case's version, the chain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from states import audit, audit_verify, checkpoints
from states.audit_verify import Verification
from states.db import Database
from states.models import AuditEvent, Case
from states.signing import Checkpoint, Keyring, Signer


def count_cases(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(Case)).scalar_one())


def count_events(db: Database, case_id: int | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    with db.read() as session:
        return int(session.execute(query).scalar_one())


def case_row(db: Database, case_id: int) -> Case:
    with db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None, f"case {case_id} does not exist"
        session.expunge(case)  # keep its loaded values after the read session rolls back
        return case


def version_of(db: Database, case_id: int) -> int:
    return case_row(db, case_id).version


def integrate(db: Database) -> int:
    """Run the sequencer's backstop: every entry still waiting gets its leaf."""
    with db.write() as session:
        return audit.integrate_all(session)


def verify(
    db: Database,
    *,
    against: Sequence[Checkpoint] = (),
    keyring: Keyring | None = None,
    backstop: bool = True,
) -> Verification:
    """The whole log verified on one snapshot, after the backstop integrated any backlog."""
    if backstop:
        integrate(db)
    with db.snapshot() as session:
        return audit_verify.verify(session, keyring or Keyring(), against=against)


def seqs(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())


def new_signer() -> Signer:
    """A signing key of the test's own, in memory."""
    return Signer(Ed25519PrivateKey.generate())


def ring(*signers: Signer) -> Keyring:
    """The keyring that trusts these keys."""
    return Keyring({s.key_id: s.public for s in signers})


def sign(db: Database, signer: Signer, at: datetime | None = None) -> Checkpoint:
    """Integrate the backlog and sign a checkpoint, as `produzir audit checkpoint` does."""
    with db.write() as session:
        _, checkpoint = checkpoints.make(
            session, signer, log="produzir", now=at or datetime(2026, 3, 2, tzinfo=UTC)
        )
    return checkpoint
