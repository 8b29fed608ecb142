"""The audit log becomes a Merkle tree with signed checkpoints; the chain head goes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

The events already written are checked against their old hash chain first (the migration
refuses, naming the seq, if that chain is broken), then each becomes an entry of the new form
with the same ``seq`` and two extra fields, ``legacy_hash`` and ``legacy_prev_hash`` (its old
chain link, so an auditor holding an old head hash can tie it to the new log), and they are
integrated in ``seq`` order as the first leaves of the tree. The point-in-time views read the
same changes in the same order as before. Downgrading (for development databases) rebuilds the
old chain from the entries, renumbered from 1, and drops the tree and its checkpoints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import rfc8785
import sqlalchemy as sa
from alembic import op

from states import merkle

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
TS = sa.DateTime(timezone=True)
BATCH = 5_000

SQLITE_GUARDS = [
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       WHEN OLD.leaf_index IS NOT NULL OR NEW.leaf_index IS NULL
         OR NEW.seq IS NOT OLD.seq OR NEW.entry IS NOT OLD.entry
         OR NEW.case_id IS NOT OLD.case_id OR NEW.case_version IS NOT OLD.case_version
         OR NEW.record_type IS NOT OLD.record_type OR NEW.record_id IS NOT OLD.record_id
         OR NEW.lifecycle_version IS NOT OLD.lifecycle_version OR NEW.event IS NOT OLD.event
         OR NEW.from_state IS NOT OLD.from_state OR NEW.to_state IS NOT OLD.to_state
         OR NEW.actor IS NOT OLD.actor OR NEW.channel IS NOT OLD.channel
         OR NEW.occurred_at IS NOT OLD.occurred_at
       BEGIN SELECT RAISE(ABORT,
         'audit_events is append-only: only the sequencer sets a missing leaf_index'); END""",
    """CREATE TRIGGER audit_tree_no_update BEFORE UPDATE ON audit_tree
       BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_tree_no_delete BEFORE DELETE ON audit_tree
       BEGIN SELECT RAISE(ABORT, 'audit_tree is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_log_state_no_delete BEFORE DELETE ON audit_log_state
       BEGIN SELECT RAISE(ABORT, 'audit_log_state cannot be deleted'); END""",
    """CREATE TRIGGER audit_log_state_no_shrink BEFORE UPDATE ON audit_log_state
       WHEN NEW.tree_size < OLD.tree_size
       BEGIN SELECT RAISE(ABORT, 'audit_log_state: the tree never shrinks'); END""",
    """CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
       BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused'); END""",
    """CREATE TRIGGER audit_verifications_no_update BEFORE UPDATE ON audit_verifications
       BEGIN SELECT RAISE(ABORT, 'audit_verifications is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_verifications_no_delete BEFORE DELETE ON audit_verifications
       BEGIN SELECT RAISE(ABORT, 'audit_verifications is append-only: DELETE refused'); END""",
]

POSTGRESQL_GUARDS = [
    # produzir_append_only() exists since revision 0001
    """CREATE FUNCTION produzir_audit_sequenced_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF OLD.leaf_index IS NULL AND NEW.leaf_index IS NOT NULL
            AND (NEW.seq, NEW.entry, NEW.case_id, NEW.case_version, NEW.record_type,
                 NEW.record_id, NEW.lifecycle_version, NEW.event, NEW.from_state, NEW.to_state,
                 NEW.actor, NEW.channel, NEW.occurred_at)
                IS NOT DISTINCT FROM
                (OLD.seq, OLD.entry, OLD.case_id, OLD.case_version, OLD.record_type,
                 OLD.record_id, OLD.lifecycle_version, OLD.event, OLD.from_state, OLD.to_state,
                 OLD.actor, OLD.channel, OLD.occurred_at) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_events is append-only: only the sequencer sets a missing leaf_index'
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE FUNCTION produzir_tree_grows_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.tree_size >= OLD.tree_size THEN RETURN NEW; END IF;
         RAISE EXCEPTION 'audit_log_state: the tree never shrinks'
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER audit_events_sequenced_only BEFORE UPDATE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION produzir_audit_sequenced_only()""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
    """CREATE TRIGGER audit_log_state_grows_only BEFORE UPDATE ON audit_log_state
       FOR EACH ROW EXECUTE FUNCTION produzir_tree_grows_only()""",
    *(
        statement
        for table in ("audit_tree", "audit_checkpoints", "audit_verifications")
        for statement in (
            f"""CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
        )
    ),
    """CREATE TRIGGER audit_log_state_no_delete BEFORE DELETE ON audit_log_state
       FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
    """CREATE TRIGGER audit_log_state_no_truncate BEFORE TRUNCATE ON audit_log_state
       FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
]


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _old_hash(row: Any) -> str:
    """The hash of revision 0006's chain (states/audit.py of that revision)."""
    payload = json.dumps(
        {
            "seq": row.seq,
            "case_id": row.case_id,
            "case_version": row.case_version,
            "record_type": row.record_type,
            "record_id": row.record_id,
            "lifecycle_version": row.lifecycle_version,
            "event": row.event,
            "from_state": row.from_state,
            "to_state": row.to_state,
            "actor": row.actor,
            "note": row.note,
            "evidence": row.evidence,
            "changes": row.changes,
            "occurred_at": _iso(row.occurred_at),
            "prev_hash": row.prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _old_rows(bind: sa.Connection) -> Iterator[Any]:
    old = sa.table(
        "audit_events_0006",
        *(
            sa.column(name)
            for name in [
                "seq",
                "case_id",
                "case_version",
                "record_type",
                "record_id",
                "lifecycle_version",
                "event",
                "from_state",
                "to_state",
                "actor",
                "note",
                "evidence",
                "changes",
                "prev_hash",
                "hash",
            ]
        ),
        sa.column("occurred_at", TS),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(old).where(old.c.seq > last).order_by(old.c.seq).limit(BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    head_seq, head_hash = bind.execute(sa.text("SELECT seq, hash FROM chain_head")).one()

    # keep the old table aside under another name, its indexes and guards out of the way
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS chain_head_no_delete")
        op.execute("DROP INDEX IF EXISTS ix_audit_events_case_id")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS chain_head_no_delete ON chain_head")
        op.execute("DROP TRIGGER IF EXISTS chain_head_no_truncate ON chain_head")
        op.execute("DROP INDEX IF EXISTS ix_audit_events_case_id")
        op.execute("ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_hash_key")
        op.execute("ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_pkey")
        op.execute("ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_case_id_fkey")
    op.rename_table("audit_events", "audit_events_0006")

    seq_type = sa.Integer() if sqlite else sa.BigInteger()
    events = op.create_table(
        "audit_events",
        sa.Column("seq", seq_type, primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("case_version", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.String(20), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("lifecycle_version", sa.String(40), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf_index", sa.BigInteger(), nullable=True, unique=True),
    )
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])
    op.create_index(
        "ix_audit_events_pending",
        "audit_events",
        ["seq"],
        sqlite_where=sa.text("leaf_index IS NULL"),
        postgresql_where=sa.text("leaf_index IS NULL"),
    )
    nodes = op.create_table(
        "audit_tree",
        sa.Column("level", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    state = op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("log", sa.String(64), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.String(32), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
    )
    op.create_index("ix_audit_checkpoints_tree_size", "audit_checkpoints", ["tree_size"])
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "checkpoint_id", sa.Integer(), sa.ForeignKey("audit_checkpoints.id"), nullable=False
        ),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("verified_at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
    )

    # the old chain, checked link by link, becomes the first leaves of the tree
    frontier = merkle.Frontier()
    prev = GENESIS
    expected = 1
    batch: list[dict[str, Any]] = []
    tree: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            bind.execute(events.insert(), batch)
            bind.execute(nodes.insert(), tree)
        batch.clear()
        tree.clear()

    for row in _old_rows(bind):
        if row.seq != expected or row.prev_hash != prev or _old_hash(row) != row.hash:
            raise RuntimeError(
                f"revision 0007 refuses to migrate: the old audit chain is broken at seq "
                f"{expected} (run `produzir audit verify` on revision 0006 to see how)"
            )
        at = row.occurred_at if row.occurred_at.tzinfo else row.occurred_at.replace(tzinfo=UTC)
        entry = rfc8785.dumps(
            {
                "v": 1,
                "seq": row.seq,
                "case_id": row.case_id,
                "case_version": row.case_version,
                "record_type": row.record_type,
                "record_id": row.record_id,
                "lifecycle_version": row.lifecycle_version,
                "event": row.event,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "actor": row.actor,
                "channel": "system" if row.actor == "system" else "cli",
                "os_user": None,
                "note": row.note,
                "evidence": json.loads(row.evidence),
                "changes": json.loads(row.changes),
                "occurred_at": _iso(at),
                "legacy_hash": row.hash,
                "legacy_prev_hash": row.prev_hash,
            }
        )
        index = frontier.size
        for level, idx, digest in frontier.append(merkle.leaf_hash(entry)):
            tree.append({"level": level, "idx": idx, "hash": digest})
        batch.append(
            {
                "seq": row.seq,
                "case_id": row.case_id,
                "case_version": row.case_version,
                "record_type": row.record_type,
                "record_id": row.record_id,
                "lifecycle_version": row.lifecycle_version,
                "event": row.event,
                "from_state": row.from_state,
                "to_state": row.to_state,
                "actor": row.actor,
                "channel": "system" if row.actor == "system" else "cli",
                "occurred_at": at,
                "entry": entry.decode("utf-8"),
                "leaf_index": index,
            }
        )
        if len(batch) >= BATCH:
            flush()
        prev = row.hash
        expected += 1
    flush()
    if expected - 1 != head_seq or prev != head_hash:
        raise RuntimeError(
            f"revision 0007 refuses to migrate: the old chain ends at seq {expected - 1} but "
            f"its head says {head_seq}"
        )
    bind.execute(
        state.insert(),
        [
            {
                "id": 1,
                "tree_size": frontier.size,
                "frontier": frontier.to_bytes(),
                "root_hash": frontier.root().hex(),
            }
        ],
    )
    op.drop_table("audit_events_0006")
    op.drop_table("chain_head")
    if not sqlite:
        op.execute(f"CREATE SEQUENCE audit_events_seq START WITH {int(head_seq) + 1}")
    for statement in SQLITE_GUARDS if sqlite else POSTGRESQL_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    """Rebuild revision 0006's hash chain from the entries (for development databases)."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    rows = bind.execute(sa.text("SELECT entry FROM audit_events ORDER BY seq")).scalars().all()
    if sqlite:
        for trigger in ("audit_events_no_delete", "audit_events_no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for table in ("audit_verifications", "audit_checkpoints", "audit_log_state", "audit_tree"):
        op.execute(f"DROP TABLE {table}" + ("" if sqlite else " CASCADE"))
    op.execute("DROP TABLE audit_events" + ("" if sqlite else " CASCADE"))
    if not sqlite:
        op.execute("DROP SEQUENCE IF EXISTS audit_events_seq")
        op.execute("DROP FUNCTION produzir_audit_sequenced_only()")
        op.execute("DROP FUNCTION produzir_tree_grows_only()")
    events = op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("case_version", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.String(20), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("lifecycle_version", sa.String(40), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])
    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    prev, seq = GENESIS, 0
    old_rows = []
    for text_ in rows:
        e = json.loads(text_)
        seq += 1
        values = {
            "seq": seq,
            "case_id": e["case_id"],
            "case_version": e["case_version"],
            "record_type": e["record_type"],
            "record_id": e["record_id"],
            "lifecycle_version": e["lifecycle_version"],
            "event": e["event"],
            "from_state": e["from_state"],
            "to_state": e["to_state"],
            "actor": e["actor"],
            "note": e["note"],
            "evidence": json.dumps(
                e["evidence"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ),
            "changes": json.dumps(
                e["changes"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ),
            "occurred_at": datetime.strptime(e["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=UTC
            ),
            "prev_hash": prev,
        }
        values["hash"] = _old_hash(_Row(values))
        prev = values["hash"]
        old_rows.append(values)
    if old_rows:
        bind.execute(events.insert(), old_rows)
    bind.execute(head.insert(), [{"id": 1, "seq": seq, "hash": prev}])
    guards = (
        [
            """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
               BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
            """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
               BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
            """CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
               BEGIN SELECT RAISE(ABORT, 'chain_head cannot be deleted'); END""",
        ]
        if sqlite
        else [
            """CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE
               ON audit_events FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
            """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
               FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
            """CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
               FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
            """CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON chain_head
               FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
        ]
    )
    for statement in guards:
        op.execute(statement)


class _Row:
    """Attribute access to a dict, for :func:`_old_hash`."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
