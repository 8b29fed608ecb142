"""Operations on the audit log: checkpoints, verification, proofs, keys.

- :func:`publish_checkpoint` integrates the backlog, signs the tree in one transaction, then
  (after the commit) appends the checkpoint to the checkpoint file.
- :func:`verify_log` reads one snapshot; incremental by default from the newest checkpoint a
  verification passed before (``full=True`` reads everything); a pass is recorded.
- :func:`prove_case` makes a case's proof bundle, publishing a fresh checkpoint first when the
  case has entries no checkpoint covers yet and the signing key is at hand.
- :func:`backstop` integrates what writers left to the sequencer and signs a checkpoint when
  the newest is older than ``PRODUZIR_AUDIT_CHECKPOINT_MINUTES`` (the checkpoint flow).
- :func:`keygen` writes a new signing key and adds its public key to the trusted keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import audit, audit_proof, checkpoints
from states.audit_verify import Problem, Progress, Verification, verify
from states.errors import InvalidInput, NotFound
from states.models import AuditEvent, AuditVerification, Case
from states.signing import Checkpoint, Keyring, Signer
from states.text import N_
from tasks.runtime import Runtime


def signer(rt: Runtime) -> Signer:
    """The signing key of the settings (``PRODUZIR_AUDIT_KEY_FILE``)."""
    return Signer.load(rt.settings.key_file())


def keyring(rt: Runtime) -> Keyring:
    """The trusted public keys: the trusted-keys file plus the signing key's own, if present."""
    own = Signer.load(rt.settings.key_file()) if rt.settings.key_file().exists() else None
    return Keyring.load(rt.settings.trusted_keys_file(), also=own)


@dataclass(frozen=True)
class Published:
    checkpoint_id: int
    checkpoint: Checkpoint
    file: Path


def publish_checkpoint(rt: Runtime) -> Published:
    """Sign the tree as it is now (after integrating the backlog); store it; append to the file."""
    key = signer(rt)
    with rt.db.write() as session:
        checkpoint_id, checkpoint = checkpoints.make(
            session, key, log=rt.settings.audit_log_id, now=rt.clock.now()
        )
    path = rt.settings.checkpoint_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(checkpoint.line() + "\n")
    return Published(checkpoint_id, checkpoint, path)


@dataclass(frozen=True)
class Backstop:
    integrated: int
    tree_size: int
    published: Published | None


def backstop(rt: Runtime, *, force: bool = False) -> Backstop:
    """Integrate the backlog; sign a checkpoint when the newest is older than the setting."""
    with rt.db.write() as session:
        integrated = audit.integrate_all(session)
        size, _root = audit.tree_state(session)
        latest = checkpoints.latest(session)
    due = force or latest is None
    if latest is not None and not due:
        signed_at = datetime.strptime(latest[1].timestamp + "+0000", "%Y-%m-%dT%H:%M:%S.%fZ%z")
        age = rt.clock.now() - signed_at
        due = age >= timedelta(minutes=rt.settings.audit_checkpoint_minutes)
    published = publish_checkpoint(rt) if due else None
    return Backstop(integrated, published.checkpoint.tree_size if published else size, published)


def ensure_key(rt: Runtime) -> Signer | None:
    """Create the development signing key when none exists (``produzir run`` does this)."""
    path = rt.settings.key_file()
    if path.exists():
        return None
    created = Signer.generate(path)
    Keyring.append_to(rt.settings.trusted_keys_file(), created.public)
    return created


def keygen(rt: Runtime, out: Path) -> Signer:
    """A new signing key in ``out``; its public key joins the trusted keys (rotation)."""
    created = Signer.generate(out)
    Keyring.append_to(rt.settings.trusted_keys_file(), created.public)
    return created


def last_verified(rt: Runtime) -> tuple[int, Checkpoint] | None:
    """The newest checkpoint a passing verification reached."""
    with rt.db.read() as session:
        row = session.execute(
            select(AuditVerification).order_by(AuditVerification.id.desc()).limit(1)
        ).scalar()
        if row is None:
            return None
        found = checkpoints.by_id(session, row.checkpoint_id)
        return None if found is None else (row.checkpoint_id, found)


def verify_log(
    rt: Runtime,
    *,
    actor: str,
    against: list[Checkpoint] | None = None,
    full: bool = False,
    progress: Progress | None = None,
    record: bool = True,
) -> Verification:
    """Verify the log on one snapshot; see :mod:`states.audit_verify`."""
    ring = keyring(rt)
    for number, checkpoint in enumerate(against or [], start=1):
        if checkpoint.log != rt.settings.audit_log_id:
            raise InvalidInput(
                N_(
                    "checkpoint %(number)s is of the log %(log)s, not of this one (%(ours)s)",
                    number=str(number),
                    log=repr(checkpoint.log),
                    ours=repr(rt.settings.audit_log_id),
                ),
                field="against",
            )
        why = ring.check(checkpoint)
        if why is not None:
            raise InvalidInput(
                N_("checkpoint %(number)s is not ours: %(why)s", number=str(number), why=why),
                field="against",
            )
    start = None if full or against else last_verified(rt)

    def columns_in(check: Callable[[Session], Problem | None]) -> Problem | None:
        with rt.db.snapshot() as other:
            return check(other)

    with rt.db.snapshot() as session:
        result = verify(
            session,
            ring,
            against=against or [],
            start=start,
            progress=progress,
            columns_in=columns_in,
        )
    if record and result.ok and result.checkpoint_id is not None:
        with rt.db.write() as session:
            session.add(
                AuditVerification(
                    checkpoint_id=result.checkpoint_id,
                    tree_size=result.tree_size,
                    full=result.full,
                    verified_at=rt.clock.now(),
                    actor=actor,
                )
            )
    return result


def prove_case(rt: Runtime, case_id: int) -> dict[str, Any]:
    """The proof bundle of a case (``produzir audit prove``, the auditor's case page)."""
    with rt.db.read() as session:
        if session.get(Case, case_id) is None:
            raise NotFound("case", case_id)
        newest = session.execute(
            select(AuditEvent.leaf_index, AuditEvent.seq)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).first()
        latest = checkpoints.latest(session)
    covered = (
        latest is not None
        and newest is not None
        and newest.leaf_index is not None
        and newest.leaf_index < latest[1].tree_size
    )
    if not covered and rt.settings.key_file().exists():
        published = publish_checkpoint(rt)
        latest = (published.checkpoint_id, published.checkpoint)
    if latest is None:
        raise InvalidInput(
            N_(
                "no checkpoint has been signed yet, and the signing key is not here "
                "(PRODUZIR_AUDIT_KEY_FILE)"
            ),
            field="checkpoint",
        )
    ring = keyring(rt)
    public = ring.keys.get(latest[1].key_id)
    if public is None:
        raise InvalidInput(
            N_(
                "the newest checkpoint is signed by key %(key)s, which is not among the trusted "
                "keys (PRODUZIR_AUDIT_TRUSTED_KEYS)",
                key=latest[1].key_id,
            ),
            field="checkpoint",
        )
    with rt.db.snapshot() as session:
        return audit_proof.build(session, case_id, latest[1], public)
