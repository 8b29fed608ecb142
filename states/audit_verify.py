"""Verifying the audit log: every entry against its leaf, the tree against signed checkpoints.

:func:`verify` reads one consistent snapshot (the caller opens it with
:meth:`states.db.Database.snapshot`), so writers committing meanwhile never make it fail: the
tree it checks is the one the snapshot holds, and entries still waiting for the sequencer are
only checked for their columns. It names the first bad entry and what is wrong with it:

- ``changed``: the entry's bytes no longer hash to its leaf, a column disagrees with the entry,
  or the log does not extend a signed checkpoint (its stored hashes were recomputed after a
  rewrite; the entries between the last checkpoint that holds and the first that fails are named);
- ``missing``: a leaf has no entry (deleted), the tree lacks a leaf, or a signed checkpoint
  covers more entries than the log holds (the tail was truncated or the tree rewound);
- ``reordered``: the entry at a leaf is one that was integrated at another leaf;
- ``not_in_tree``: an entry claims a leaf beyond the tree's size;
- ``signature_invalid`` / ``unknown_key``: a stored checkpoint is not signed by a trusted key.

Against a checkpoint given from outside, the RFC 9162 consistency proof from its size to the
tree's is also built from the stored nodes and checked. A full verification starts at leaf 0;
an incremental one starts from a checkpoint verified before: the tree's frontier at that size is read from the stored nodes and must give the
checkpoint's signed root, then only the newer leaves are read.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from states import audit, checkpoints, merkle
from states.signing import Checkpoint, Keyring
from states.text import N_, Text, as_text

CHUNK = 20_000
Progress = Callable[[int, int], None]

#: the leaves and their entries, read through the driver's own cursor (a million rows: the
#: SQLAlchemy row objects alone would cost a second); placeholders per driver
_STREAM = (
    "SELECT t.idx, t.hash, e.seq, e.entry FROM audit_tree t "
    "LEFT JOIN audit_events e ON e.leaf_index = t.idx "
    "WHERE t.level = 0 AND t.idx >= {p} AND t.idx < {p} ORDER BY t.idx"
)
_LEAF_OF_HASH = text("SELECT idx FROM audit_tree WHERE level = 0 AND hash = :h LIMIT 1")
_BEYOND = text(
    "SELECT seq, leaf_index FROM audit_events WHERE leaf_index >= :n ORDER BY leaf_index LIMIT 1"
)
_COLUMNS = audit.INDEXED
_COLUMNS_SQLITE = text(  # built from the constant column names above
    "SELECT seq, leaf_index FROM audit_events "  # noqa: S608
    "WHERE (leaf_index >= :m OR leaf_index IS NULL) AND json_extract(entry, "
    + ", ".join(f"'$.{c}'" for c in _COLUMNS)
    + ") IS NOT json_array("
    + ", ".join(_COLUMNS[:-1])
    + ", substr(occurred_at, 1, 10) || 'T' || substr(occurred_at, 12) || 'Z') "
    "ORDER BY leaf_index IS NULL, leaf_index, seq LIMIT 1"
)
_COLUMNS_PG = text(  # built from the constant column names above
    "SELECT seq, leaf_index FROM audit_events "  # noqa: S608
    "WHERE (leaf_index >= :m OR leaf_index IS NULL) AND NOT (entry::jsonb @> jsonb_build_object("
    + ", ".join(f"'{c}', {c}" for c in _COLUMNS[:-1])
    + ", 'occurred_at', to_char(occurred_at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'))) '
    "ORDER BY leaf_index NULLS LAST, seq LIMIT 1"
)


@dataclass(frozen=True)
class Problem:
    """The first thing wrong with the log: its ``kind`` (a code) and what is wrong, as a
    :class:`~states.text.Text` the edges render in the reader's language."""

    kind: str
    text: Text
    leaf_index: int | None = None
    seq: int | None = None

    @property
    def detail(self) -> str:
        """What is wrong, in English (logs, JSON reports)."""
        return self.text.english()

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "detail": self.detail,
            "leaf_index": self.leaf_index,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class Verification:
    """What a verification checked and found."""

    full: bool
    start: int
    checked: int
    tree_size: int
    root_hash: str
    pending: int
    problem: Problem | None
    #: the newest signed checkpoint the log was shown to extend (None if there is none yet)
    checkpoint: Checkpoint | None = None
    checkpoint_id: int | None = None
    anchors: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class _Anchor:
    checkpoint: Checkpoint
    stored_id: int | None
    where: Text


def _describe(anchor: _Anchor) -> Text:
    cp = anchor.checkpoint
    return N_(
        "%(where)s (size %(size)s, signed %(timestamp)s by key %(key)s)",
        where=anchor.where,
        size=cp.tree_size,
        timestamp=cp.timestamp,
        key=cp.key_id,
    )


def verify(
    session: Session,
    keyring: Keyring,
    *,
    against: Sequence[Checkpoint] = (),
    start: tuple[int, Checkpoint] | None = None,
    progress: Progress | None = None,
    columns_in: Callable[[Callable[[Session], Problem | None]], Problem | None] | None = None,
) -> Verification:
    """Check the log in the session's snapshot; see the module docstring.

    ``columns_in``, when given, runs the check of the indexed columns against their entries
    in a session of its own (:func:`tasks.audit_log.verify_log` runs it on a second connection,
    in a thread, while this one reads the leaves: on two cores the two take the time of one).
    It is sound outside the snapshot: entries of the tree cannot change while the triggers
    stand, and where they were switched off, the change is what it finds.
    """
    size, root = audit.tree_state(session)
    pending = audit.pending_count(session)
    first = start[1].tree_size if start else 0

    column_check: _Background | None = None

    def result(
        problem: Problem | None, checked: int = 0, best: _Anchor | None = None
    ) -> Verification:
        if problem is not None and column_check is not None:
            other = column_check.result()  # the earlier of the two is the first problem
            if other is not None and (
                problem.leaf_index is None
                or (other.leaf_index is not None and other.leaf_index < problem.leaf_index)
            ):
                problem = other
        return Verification(
            full=start is None,
            start=first,
            checked=checked,
            tree_size=size,
            root_hash=root,
            pending=pending,
            problem=problem,
            checkpoint=best.checkpoint if best else None,
            checkpoint_id=best.stored_id if best else None,
            anchors=len(anchors),
        )

    # an incremental run leaves the older checkpoints to the verifications that passed them
    anchors: list[_Anchor] = [
        _Anchor(cp, cid, N_("stored checkpoint #%(id)s", id=cid))
        for cid, cp in checkpoints.stored(session)
        if cp.tree_size >= first
    ]
    anchors += [
        _Anchor(cp, None, N_("checkpoint %(id)s given", id=i)) for i, cp in enumerate(against, 1)
    ]
    for anchor in anchors:
        why = keyring.check(anchor.checkpoint)
        if why is not None:
            kind = "unknown_key" if why.msgid.startswith("unknown key") else "signature_invalid"
            return result(
                Problem(kind, N_("%(checkpoint)s: %(why)s", checkpoint=_describe(anchor), why=why))
            )
    by_size: dict[int, _Anchor] = {}
    for anchor in sorted(anchors, key=lambda a: a.checkpoint.tree_size):
        other = by_size.setdefault(anchor.checkpoint.tree_size, anchor)
        if other.checkpoint.root_hash != anchor.checkpoint.root_hash:
            return result(
                Problem(
                    "changed",
                    N_(
                        "%(one)s and %(other)s are signed for the same size with different "
                        "roots: two histories were signed (is the key compromised?)",
                        one=_describe(other),
                        other=_describe(anchor),
                    ),
                )
            )

    if start is not None and first > size:
        return result(
            _truncated(_Anchor(start[1], start[0], N_("the checkpoint verified before")), size)
        )
    if start is not None:
        try:
            frontier = merkle.Frontier.from_nodes(first, audit.node_source(session))
        except LookupError as exc:
            return result(
                Problem(
                    "missing",
                    N_("%(error)s: run a full verification", error=_lookup_text(exc)),
                    first,
                )
            )
        if frontier.root().hex() != start[1].root_hash:
            return result(
                Problem(
                    "changed",
                    N_(
                        "the stored tree no longer gives the root of checkpoint #%(id)s (size "
                        "%(size)s) verified before: its nodes were changed; run a full "
                        "verification",
                        id=start[0],
                        size=first,
                    ),
                    first,
                )
            )
    else:
        frontier = merkle.Frontier()

    column_check = _Background(columns_in, first) if columns_in else None
    column_problem = None if column_check else _check_columns(session, first)
    targets = sorted(s for s in by_size if first < s <= size)
    best: _Anchor | None = None
    if start is not None:
        best = by_size.get(first) or _Anchor(
            start[1], start[0], N_("the checkpoint verified before")
        )
    last_good = first
    checked = 0
    expected = first
    total = size - first
    stop = size
    if column_problem is not None and column_problem.leaf_index is not None:
        # a problem of the stream up to that leaf is named first (a changed entry is both)
        stop = column_problem.leaf_index + 1
    postgresql = session.get_bind().dialect.name == "postgresql"
    stream_sql = _STREAM.format(p="%s" if postgresql else "?")
    cursor = session.connection().connection.cursor()
    hashes = frontier.hashes
    count = frontier.size
    sha256 = hashlib.sha256
    node_prefix = merkle.NODE_PREFIX
    while expected < stop:
        upper = min(expected + CHUNK, stop)
        cursor.execute(stream_sql, (expected, upper))
        rows = cursor.fetchall()
        for idx, stored_hash, seq, entry in rows:
            if idx != expected:
                return result(
                    Problem(
                        "missing",
                        N_("leaf %(leaf)s is missing from the stored tree", leaf=str(expected)),
                        expected,
                    ),
                    checked,
                    best,
                )
            if entry is None:
                return result(
                    Problem(
                        "missing",
                        N_(
                            "the entry at leaf %(leaf)s is missing: it was deleted from "
                            "audit_events",
                            leaf=str(idx),
                        ),
                        idx,
                    ),
                    checked,
                    best,
                )
            leaf = sha256(b"\x00" + entry.encode("utf-8")).digest()
            if leaf != bytes(stored_hash):
                return result(_mismatch(session, idx, seq, leaf), checked, best)
            # the frontier's append, inlined: this loop runs once per entry of the log
            current = leaf
            n = count
            while n & 1:
                current = sha256(node_prefix + hashes.pop() + current).digest()
                n >>= 1
            hashes.append(current)
            count += 1
            expected += 1
            checked += 1
            if targets and count == targets[0]:
                anchor = by_size[targets.pop(0)]
                frontier.size = count
                if frontier.root().hex() != anchor.checkpoint.root_hash:
                    return result(
                        Problem(
                            "changed",
                            N_(
                                "the log does not extend %(checkpoint)s: an entry among leaves "
                                "%(first)s to %(last)s was rewritten and the stored hashes "
                                "recomputed",
                                checkpoint=_describe(anchor),
                                first=str(last_good),
                                last=str(count - 1),
                            ),
                            last_good,
                        ),
                        checked,
                        best,
                    )
                best, last_good = anchor, count
        if expected < upper:  # the tree's leaves ended early: one is missing
            return result(
                Problem(
                    "missing",
                    N_("leaf %(leaf)s is missing from the stored tree", leaf=str(expected)),
                    expected,
                ),
                checked,
                best,
            )
        if progress is not None:
            progress(checked, total)
    frontier.size = count
    if column_check is not None:
        column_problem = column_check.result()
    if column_problem is not None:
        return result(column_problem, checked, best)
    if frontier.root().hex() != root:
        return result(
            Problem(
                "changed",
                N_(
                    "the stored tree state (size %(size)s, root %(root)s) does not match its "
                    "entries",
                    size=size,
                    root=root,
                ),
            ),
            checked,
            best,
        )
    for anchor in anchors:  # the RFC 9162 consistency proof, from the stored tree
        if anchor.stored_id is None and 0 < anchor.checkpoint.tree_size <= size:
            m = anchor.checkpoint.tree_size
            try:
                proof = merkle.consistency_proof(m, size, audit.node_source(session))
            except LookupError as exc:
                return result(Problem("missing", _lookup_text(exc)), checked, best)
            if not merkle.verify_consistency(
                m, size, bytes.fromhex(anchor.checkpoint.root_hash), bytes.fromhex(root), proof
            ):
                return result(
                    Problem(
                        "changed",
                        N_(
                            "the stored tree gives no consistency proof from %(checkpoint)s to "
                            "the current tree: its nodes were changed",
                            checkpoint=_describe(anchor),
                        ),
                    ),
                    checked,
                    best,
                )
    beyond = session.execute(_BEYOND, {"n": size}).first()
    if beyond is not None:
        return result(
            Problem(
                "not_in_tree",
                N_(
                    "entry seq %(seq)s claims leaf %(leaf)s, but the tree has %(size)s leaves: "
                    "the tree was rewound",
                    seq=beyond.seq,
                    leaf=str(beyond.leaf_index),
                    size=size,
                ),
                int(beyond.leaf_index),
                int(beyond.seq),
            ),
            checked,
            best,
        )
    over = [s for s in by_size if s > size]
    if over:
        return result(_truncated(by_size[max(over)], size), checked, best)
    return result(None, checked, best)


class _Background:
    """The column check, started at once in a thread, its answer taken at the end."""

    def __init__(
        self,
        run_in: Callable[[Callable[[Session], Problem | None]], Problem | None],
        first: int,
    ) -> None:
        self._answer: list[Problem | None] = []
        self._error: list[BaseException] = []

        def work() -> None:
            try:
                self._answer.append(run_in(lambda s: _check_columns(s, first)))
            except BaseException as exc:  # re-raised in the caller's thread
                self._error.append(exc)

        self._thread = threading.Thread(target=work, name="audit-columns", daemon=True)
        self._thread.start()

    def result(self) -> Problem | None:
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._answer[0]


def _truncated(anchor: _Anchor, size: int) -> Problem:
    cp = anchor.checkpoint
    return Problem(
        "missing",
        N_(
            "%(checkpoint)s covers %(covered)s entries but the log holds %(size)s: leaves "
            "%(first)s to %(last)s are missing (the tail was deleted or the tree rewound)",
            checkpoint=_describe(anchor),
            covered=cp.tree_size,
            size=size,
            first=str(size),
            last=str(cp.tree_size - 1),
        ),
        size,
    )


def _mismatch(session: Session, idx: int, seq: int, leaf: bytes) -> Problem:
    other = session.execute(_LEAF_OF_HASH, {"h": leaf}).scalar()
    if other is not None and int(other) != idx:
        return Problem(
            "reordered",
            N_(
                "the entry at leaf %(leaf)s (seq %(seq)s) is the one integrated as leaf %(other)s",
                leaf=str(idx),
                seq=seq,
                other=str(other),
            ),
            idx,
            seq,
        )
    return Problem(
        "changed",
        N_(
            "the entry at leaf %(leaf)s (seq %(seq)s) does not match its leaf hash: its content "
            "was changed",
            leaf=str(idx),
            seq=seq,
        ),
        idx,
        seq,
    )


def _check_columns(session: Session, first: int) -> Problem | None:
    """The first entry (from leaf ``first``, or waiting) whose columns disagree with it."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    found = session.execute(_COLUMNS_PG if postgresql else _COLUMNS_SQLITE, {"m": first}).first()
    if found is None:
        return None
    seq, leaf = int(found.seq), found.leaf_index
    row = (
        session.execute(text("SELECT * FROM audit_events WHERE seq = :s"), {"s": seq})
        .mappings()
        .one()
    )
    data: dict[str, Any] = json.loads(row["entry"])
    differ = [c for c in _COLUMNS if _column_value(row[c], c) != data.get(c)]
    where = (
        N_("leaf %(leaf)s", leaf=str(leaf)) if leaf is not None else N_("waiting for the sequencer")
    )
    return Problem(
        "changed",
        N_(
            "entry seq %(seq)s (%(where)s): column %(columns)s disagrees with the entry: the "
            "row was changed",
            seq=seq,
            where=where,
            columns=", ".join(differ) or "?",
        ),
        None if leaf is None else int(leaf),
        seq,
    )


def _column_value(value: Any, column: str) -> Any:
    if column == "occurred_at" and value is not None:
        if isinstance(value, str):  # SQLite: "YYYY-MM-DD HH:MM:SS.ffffff", UTC
            return value.replace(" ", "T") + "Z"
        return audit.iso_utc(value)
    return value


def _lookup_text(exc: LookupError) -> Text:
    """A stored node that is missing (:func:`states.audit.node_source`), as a Text."""
    found = exc.args[0] if exc.args else None
    return found if isinstance(found, Text) else as_text(str(exc))
