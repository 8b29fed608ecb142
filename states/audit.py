"""The audit log: entries appended without a global lock, integrated into a Merkle tree.

Writers never wait for each other (shape (a) of the design in the README):

1. **Append** (:func:`append`), inside the writer's own transaction: the entry is encoded as
   RFC 8785 canonical JSON and inserted with its ``seq`` (a PostgreSQL sequence; on SQLite the
   next number under the write lock the transaction already holds) and no tree position. No
   shared row is read or written.
2. **Integrate** (:func:`integrate`), the sequencer: takes the backlog of entries without a
   position in ``seq`` order, gives each the next leaf index, stores the leaf hash and every
   perfect subtree it completes in ``audit_tree``, and moves ``audit_log_state`` (size,
   frontier, root). Only one sequencer runs at a time: on PostgreSQL it holds a transaction-level
   advisory lock (a writer *tries* it and goes on if someone else has it); on SQLite the write
   transaction is the lock. :meth:`states.db.Database.write` runs it opportunistically just
   before every commit, so a quiet system or SQLite needs no extra process; the checkpoint flow
   is the backstop. A sequencer killed mid-batch rolls back whole: nothing integrated twice,
   nothing lost; the next one does the batch.

Verification and proofs are in :mod:`states.audit_verify` and :mod:`states.audit_proof`;
signed checkpoints in :mod:`states.checkpoints`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import rfc8785
from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.orm import Session, make_transient_to_detached

from states import merkle
from states.errors import InvalidInput
from states.models import AuditEvent, AuditLogState, AuditNode
from states.origin import current as current_origin
from states.text import N_

ENTRY_VERSION = 1
STATE_ID = 1
#: the PostgreSQL advisory lock the sequencer holds (any constant unique to this purpose)
SEQUENCER_LOCK = 0x50524F44  # "PROD"
#: the session.info key that tells the write transaction to run the sequencer before commit
PENDING = "produzir_audit_pending"
#: how many entries a writer that wins the lock integrates on its way (PostgreSQL)
INLINE_BATCH = 2_000
#: the columns of ``audit_events`` that repeat a field of the entry, for the queries (the entry
#: is what is hashed; verification checks every one of these against it)
INDEXED = (
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
    "channel",
    "occurred_at",
)

_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]
_NODES: Table = AuditNode.__table__  # type: ignore[assignment]
_STATE: Table = AuditLogState.__table__  # type: ignore[assignment]
INSERT_EVENT = insert(_EVENTS)
_INSERT_NODES = insert(_NODES)
_SET_LEAF = (
    update(_EVENTS)
    .where(_EVENTS.c.seq == bindparam("s"), _EVENTS.c.leaf_index.is_(None))
    .values(leaf_index=bindparam("i"))
)
_PENDING = (
    select(_EVENTS.c.seq, _EVENTS.c.entry)
    .where(_EVENTS.c.leaf_index.is_(None))
    .order_by(_EVENTS.c.seq)
)
_READ_STATE = select(_STATE.c.tree_size, _STATE.c.frontier).where(_STATE.c.id == STATE_ID)
_MOVE_STATE = (
    update(_STATE)
    .where(_STATE.c.id == STATE_ID)
    .values(
        tree_size=bindparam("size"), frontier=bindparam("frontier"), root_hash=bindparam("root")
    )
)
_NEXT_SEQ_SQLITE = text("SELECT coalesce(max(seq), 0) + 1 FROM audit_events")
#: PostgreSQL: the entry's number and, in the same round trip, a try at the sequencer's lock
#: (held to the end of the transaction, so the integration before COMMIT needs no lock query;
#: the reads that follow take their snapshot after it, as the integration requires)
_NEXT_SEQ_PG = text("SELECT nextval('audit_events_seq'), pg_try_advisory_xact_lock(:k)")
_NEXT_VAL_PG = text("SELECT nextval('audit_events_seq')")
_NEXT_VALS_PG = text("SELECT nextval('audit_events_seq') FROM generate_series(1, :n)")
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)")
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
#: PostgreSQL: the tree's state and the backlog in one query (NULL limit: all of it)
_BACKLOG_PG = text(
    "SELECT s.tree_size, s.frontier, e.seq, e.entry FROM audit_log_state AS s "
    "LEFT JOIN LATERAL (SELECT seq, entry FROM audit_events WHERE leaf_index IS NULL "
    "ORDER BY seq LIMIT :n) AS e ON true WHERE s.id = :state ORDER BY e.seq"
)
#: PostgreSQL: positions, nodes and the new state in one statement; the count of entries placed
_INTEGRATE_PG = text(
    "WITH placed AS (UPDATE audit_events AS e SET leaf_index = p.i "
    "FROM unnest(CAST(:seqs AS bigint[]), CAST(:leaves AS bigint[])) AS p(s, i) "
    "WHERE e.seq = p.s AND e.leaf_index IS NULL RETURNING e.seq), "
    "grown AS (INSERT INTO audit_tree (level, idx, hash) SELECT * FROM unnest("
    "CAST(:levels AS integer[]), CAST(:idxs AS bigint[]), CAST(:hashes AS bytea[])) "
    "RETURNING 1) "
    "UPDATE audit_log_state SET tree_size = :size, frontier = :frontier, root_hash = :root "
    "WHERE id = :state RETURNING (SELECT count(*) FROM placed), (SELECT count(*) FROM grown)"
)
#: the session.info key naming the transaction that holds the sequencer's lock (PostgreSQL)
_LOCKED = "produzir_audit_sequencer"


def iso_utc(value: datetime) -> str:
    """``2026-03-01T12:00:00.000000Z``: the one timestamp form of entries and checkpoints."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    """Evidence and changes as JSON values: dates ISO, decimals as strings, enums by value."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"{type(value).__name__} cannot be written into the audit log")


_SAFE_INT = 2**53 - 1


def _simple(value: Any) -> bool:
    """Whether ``json.dumps`` (sorted keys, no spaces, UTF-8) writes ``value`` exactly as RFC 8785
    does: no floats (their number form differs), whole numbers within 2**53 - 1 (JCS refuses
    more), ASCII keys (JCS sorts keys by UTF-16 code units, Python by code points; the same for
    ASCII). Strings are escaped alike: backslash, quote, the five short escapes and a
    lower-case six-character escape for the other control characters; nothing else."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -_SAFE_INT <= value <= _SAFE_INT
    if isinstance(value, dict):
        return all(k.isascii() and _simple(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_simple(v) for v in value)
    return False  # a float


def canonical_json(value: Any) -> str:
    """RFC 8785 (JCS) canonical JSON text of ``value`` (dates, decimals, enums made plain).

    Values without floats (every entry the lifecycle writes) take the standard library's JSON
    encoder, which gives the same bytes for them (tested against ``rfc8785`` on generated
    values) ten times faster; any other value goes through ``rfc8785``.
    """
    plain = _plain(value)
    if _simple(plain):
        text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 decides
            pass
        else:
            return text
    try:
        return rfc8785.dumps(plain).decode("utf-8")
    except rfc8785.IntegerDomainError as exc:
        raise InvalidInput(
            N_(
                "a number is too large to be recorded (the audit log takes whole numbers up to "
                "2**53 - 1): %(error)s",
                error=str(exc),
            ),
            field="evidence",
        ) from None
    except rfc8785.FloatDomainError as exc:
        raise InvalidInput(
            N_("a number cannot be recorded: %(error)s", error=str(exc)), field="evidence"
        ) from None


def encode_entry(
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
    channel: str,
    os_user: str | None,
    note: str | None,
    evidence: dict[str, Any],
    changes: dict[str, Any],
    occurred_at: datetime,
    extra: dict[str, Any] | None = None,
) -> str:
    """The canonical text of one entry (the README's "Entry" section lists every field)."""
    body: dict[str, Any] = {
        "v": ENTRY_VERSION,
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
        "channel": channel,
        "os_user": os_user,
        "note": note,
        "evidence": evidence,
        "changes": changes,
        "occurred_at": iso_utc(occurred_at),
    }
    if extra:
        body.update(extra)
    return canonical_json(body)


def entry_row(**fields: Any) -> dict[str, Any]:
    """The ``audit_events`` row of one entry: its indexed columns, its text, no position yet.

    ``fields`` are :func:`encode_entry`'s; the row and the entry come from the same values.
    """
    at = fields["occurred_at"].astimezone(UTC)
    fields["occurred_at"] = at
    row = {column: fields[column] for column in INDEXED}
    return {**row, "entry": encode_entry(**fields), "leaf_index": None}


def next_seq(session: Session) -> int:
    """The next entry number: a sequence on PostgreSQL (no lock), max + 1 under SQLite's lock.

    On PostgreSQL the same query tries the sequencer's lock, once per transaction: a writer
    that gets it integrates the backlog before its COMMIT (:func:`before_commit`); one that
    does not leaves its entry to the next sequencer, without waiting.
    """
    if session.get_bind().dialect.name != "postgresql":
        return int(session.execute(_NEXT_SEQ_SQLITE).scalar_one())
    transaction = session.get_transaction()
    if session.info.get(_LOCKED) is transaction:  # this transaction holds the lock already
        return int(session.execute(_NEXT_VAL_PG).scalar_one())
    seq, got = session.execute(_NEXT_SEQ_PG, {"k": SEQUENCER_LOCK}).one()
    session.info[_LOCKED] = transaction if got else False
    return int(seq)


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
    record_type: str | None = None,
    record_id: int | None = None,
) -> AuditEvent:
    """Append one entry inside the caller's transaction; no shared row is touched.

    The entry gets its tree position when the sequencer integrates it, normally just before
    this transaction commits (:meth:`states.db.Database.write`); the dialect comes from the
    session.
    """
    origin = current_origin()
    values = entry_row(
        seq=next_seq(session),
        case_id=case_id,
        case_version=case_version,
        record_type=record_type,
        record_id=record_id,
        lifecycle_version=lifecycle_version,
        event=event,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        channel=origin.channel,
        os_user=origin.os_user,
        note=note,
        evidence=evidence,
        changes=changes,
        occurred_at=occurred_at,
    )
    session.execute(INSERT_EVENT, values)
    session.info[PENDING] = True
    row = AuditEvent(**values)
    make_transient_to_detached(row)  # the row exists now: attach it as loaded, not pending
    session.add(row)
    return row


def append_many(session: Session, entries: Sequence[Mapping[str, Any]]) -> int:
    """Append many entries inside the caller's transaction in a few statements (an import).

    Each item holds :func:`append`'s keyword arguments (``case_id`` ... ``occurred_at``,
    ``record_type``, ``record_id``); the numbers are taken together, the rows inserted in
    batches, and no ORM object is made. The sequencer integrates them before the commit, as for
    :func:`append`.
    """
    if not entries:
        return 0
    origin = current_origin()
    first = next_seq(session)  # on PostgreSQL this also tries the sequencer's lock
    if session.get_bind().dialect.name == "postgresql":
        more = session.execute(_NEXT_VALS_PG, {"n": len(entries) - 1}).scalars()
        seqs = [first, *sorted(int(s) for s in more)]
    else:  # SQLite: the write lock is held, max + 1 onwards is free
        seqs = list(range(first, first + len(entries)))
    rows = [
        entry_row(
            seq=seq,
            case_id=e.get("case_id"),
            case_version=e.get("case_version"),
            record_type=e.get("record_type"),
            record_id=e.get("record_id"),
            lifecycle_version=e["lifecycle_version"],
            event=e["event"],
            from_state=e.get("from_state"),
            to_state=e.get("to_state"),
            actor=e["actor"],
            channel=origin.channel,
            os_user=origin.os_user,
            note=e.get("note"),
            evidence=e.get("evidence") or {},
            changes=e.get("changes") or {},
            occurred_at=e["occurred_at"],
        )
        for seq, e in zip(seqs, entries, strict=True)
    ]
    for start in range(0, len(rows), 5_000):
        session.execute(INSERT_EVENT, rows[start : start + 5_000])
    session.info[PENDING] = True
    return len(rows)


def integrate(session: Session, *, wait: bool = False, limit: int | None = None) -> int:
    """Integrate the backlog into the tree; return how many entries got a position.

    ``wait=False`` (a writer on its way to commit) gives up at once when another sequencer holds
    the lock on PostgreSQL; ``wait=True`` (the backstop, a checkpoint) waits for it. On SQLite
    the caller's write transaction already excludes every other sequencer.
    """
    if session.get_bind().dialect.name == "postgresql":
        return _integrate_pg(session, wait=wait, limit=limit)
    query = _PENDING if limit is None else _PENDING.limit(limit)
    backlog = session.execute(query).all()
    if not backlog:
        return 0
    size, blob = session.execute(_READ_STATE).one()
    frontier = merkle.Frontier.from_bytes(size, blob)
    positions: list[dict[str, int]] = []
    nodes: list[dict[str, Any]] = []
    for seq, entry in backlog:
        positions.append({"s": seq, "i": frontier.size})
        for level, idx, digest in frontier.append(merkle.leaf_hash(entry.encode("utf-8"))):
            nodes.append({"level": level, "idx": idx, "hash": digest})
    result = session.execute(_SET_LEAF, positions)
    if result.rowcount != len(positions):  # type: ignore[attr-defined]
        raise RuntimeError("another sequencer integrated the same entries")
    session.execute(_INSERT_NODES, nodes)
    session.execute(
        _MOVE_STATE,
        {"size": frontier.size, "frontier": frontier.to_bytes(), "root": frontier.root().hex()},
    )
    return len(backlog)


def _integrate_pg(session: Session, *, wait: bool, limit: int | None) -> int:
    """:func:`integrate` on PostgreSQL: the lock, then two round trips whatever the batch."""
    transaction = session.get_transaction()
    held = transaction is not None and session.info.get(_LOCKED) is transaction
    if wait:
        session.execute(_LOCK, {"k": SEQUENCER_LOCK})
    elif not held and not session.execute(_TRY_LOCK, {"k": SEQUENCER_LOCK}).scalar_one():
        return 0
    session.info[_LOCKED] = transaction
    # read after the lock is held: this statement's snapshot sees every earlier sequencer
    rows = session.execute(_BACKLOG_PG, {"n": limit, "state": STATE_ID}).all()
    backlog = [(seq, entry) for _, _, seq, entry in rows if seq is not None]
    if not backlog:
        return 0
    frontier = merkle.Frontier.from_bytes(int(rows[0][0]), bytes(rows[0][1]))
    seqs: list[int] = []
    leaves: list[int] = []
    levels: list[int] = []
    idxs: list[int] = []
    hashes: list[bytes] = []
    for seq, entry in backlog:
        seqs.append(int(seq))
        leaves.append(frontier.size)
        for level, idx, digest in frontier.append(merkle.leaf_hash(entry.encode("utf-8"))):
            levels.append(level)
            idxs.append(idx)
            hashes.append(digest)
    placed, _grown = session.execute(
        _INTEGRATE_PG,
        {
            "seqs": seqs,
            "leaves": leaves,
            "levels": levels,
            "idxs": idxs,
            "hashes": hashes,
            "size": frontier.size,
            "frontier": frontier.to_bytes(),
            "root": frontier.root().hex(),
            "state": STATE_ID,
        },
    ).one()
    if placed != len(seqs):
        raise RuntimeError("another sequencer integrated the same entries")
    return len(backlog)


def integrate_all(session: Session, batch: int = 20_000) -> int:
    """The backstop: integrate the whole backlog, waiting for the lock (one transaction)."""
    total = 0
    while True:
        done = integrate(session, wait=True, limit=batch)
        total += done
        if done < batch:
            return total


def before_commit(session: Session) -> None:
    """Called by the write transaction just before COMMIT: integrate what it appended."""
    if session.info.pop(PENDING, False):
        postgresql = session.get_bind().dialect.name == "postgresql"
        integrate(session, wait=False, limit=INLINE_BATCH if postgresql else None)


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A SAVEPOINT for one change inside a larger write transaction (a group commit).

    If the block raises, everything it wrote is rolled back, its audit entries with it (they
    have no tree position yet: the sequencer integrates what remains before the COMMIT), and
    what this module noted in the session is put back as it was before the block: on
    PostgreSQL a sequencer lock tried inside the savepoint is released with it, so the
    transaction must not believe it holds it. The session's objects are expunged (all of them
    were flushed when the savepoint began or inside it): nothing read or made inside the block
    is trusted afterwards, and an entry number the rolled-back entry had may be taken again.
    """
    kept = {key: session.info[key] for key in (PENDING, _LOCKED) if key in session.info}
    try:
        with session.begin_nested():
            yield
    except BaseException:
        for key in (PENDING, _LOCKED):
            session.info.pop(key, None)
        session.info.update(kept)
        session.expunge_all()
        raise


def tree_state(session: Session) -> tuple[int, str]:
    """The tree's size and root as the sequencer left them."""
    row = session.execute(select(_STATE.c.tree_size, _STATE.c.root_hash)).one()
    return int(row[0]), str(row[1])


def pending_count(session: Session) -> int:
    """How many entries wait for the sequencer."""
    from sqlalchemy import func

    return int(
        session.execute(
            select(func.count()).select_from(_EVENTS).where(_EVENTS.c.leaf_index.is_(None))
        ).scalar_one()
    )


def node_source(session: Session) -> merkle.NodeSource:
    """Stored perfect-subtree hashes, read one at a time (proofs need a handful)."""
    query = select(_NODES.c.hash).where(
        _NODES.c.level == bindparam("level"), _NODES.c.idx == bindparam("idx")
    )

    def node(level: int, idx: int) -> bytes:
        found = session.execute(query, {"level": level, "idx": idx}).scalar()
        if found is None:
            raise LookupError(
                N_("the stored tree has no node (%(level)s, %(idx)s)", level=level, idx=str(idx))
            )
        return bytes(found)

    return node


_NODES_AT = select(_NODES.c.idx, _NODES.c.hash).where(
    _NODES.c.level == bindparam("level"), _NODES.c.idx.in_(bindparam("ids", expanding=True))
)


def fetched_nodes(session: Session, keys: set[tuple[int, int]]) -> merkle.NodeSource:
    """The stored subtrees ``keys``, one query per level (see :func:`states.merkle.nodes_needed`)."""
    found: dict[tuple[int, int], bytes] = {}
    levels: dict[int, list[int]] = {}
    for level, idx in keys:
        levels.setdefault(level, []).append(idx)
    for level, wanted in sorted(levels.items()):  # one indexed lookup per level of the tree
        rows = session.execute(_NODES_AT, {"level": level, "ids": sorted(wanted)})
        for idx, value in rows:
            found[(level, int(idx))] = bytes(value)

    def node(level: int, idx: int) -> bytes:
        value = found.get((level, idx))
        if value is None:
            raise LookupError(
                N_("the stored tree has no node (%(level)s, %(idx)s)", level=level, idx=str(idx))
            )
        return value

    return node
