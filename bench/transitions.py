"""Transitions per second: the engine's write path against plain sqlite3 writing the same rows.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"engine_tps": ..., "raw_sqlite_tps": ..., "ratio": ..., ...}

- engine: ``tasks.cases.advance``, one transaction per transition (load the case locked, check
  the version, guard through the shared lifecycle machine, update the case with the version
  check, append the audit entry, integrate it into the Merkle tree, commit), on a fresh migrated SQLite file with the
  default settings of :class:`states.db.Database` (WAL, synchronous FULL, BEGIN IMMEDIATE).
- raw: the same rows written with the stdlib ``sqlite3`` module into an identical database with
  the same pragmas: BEGIN IMMEDIATE; the next entry number; UPDATE the case WHERE id AND
  version; INSERT the audit entry (RFC 8785 canonical JSON) with its leaf index; the Merkle
  tree's new nodes and state (SELECT, INSERT, UPDATE); COMMIT. No guard, no validation, no
  ORM: the floor under the engine.

Each case is driven through a script of 15 transitions that read no programme records but the
PNDR typology in force (``aprovar_elegibilidade``; the setup imports one classifying every
place): the start of the main path (``iniciar_analise``, ``aprovar_elegibilidade``, ``formalizar_polo``) and
its side roads (two assignments, a deadline extension, a rejection with the proponent's ciência,
its appeal and the deciding authority's reconsideration (lifecycle 2026.3), a note, a
suspension and resumption, a cancellation and a reopening asked by the coordinator and approved
by a second person), all cases step by step under a fixed clock, with the evidence of
``tests.builders.evidence_for`` (the minimum that passes each guard, kept in step with the
evidence models by the tests). The events that leave ``mobilizacao`` to ``avaliacao`` are left
out on purpose: their guards read the programme's records (participants, the ECC and its
attendance, enterprises, follow-up visits), which would have to be built, identically, in both
databases first, and their cost grows with those records; this script measures the write path
itself. After every round the two databases are compared row by row: the raw path must have
written exactly what the engine wrote. One warm-up round, then ``--rounds`` measured rounds in
alternating order; the figures are the medians.

- bulk (unless ``--no-bulk``): the same script through ``tasks.cases.advance_batch``, the group
  commit of bulk work (a bulk advance, an ECC's completion, the sweep's time-driven
  transitions): each step over all the cases, a SAVEPOINT per case, ``tasks.cases.BATCH`` cases
  to a transaction. It must write exactly the rows the engine path wrote (compared too).

Run: ``.venv/bin/python bench/transitions.py [--cases N] [--transitions T] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is named like the ``transitions`` library: take bench/ off the path so that the
# library, not this script, is what ``states.lifecycle`` imports. Put the checkout first so the
# figures are this tree's, whatever is installed.
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() not in (HERE, ROOT))]

import sqlalchemy  # noqa: E402
from sqlalchemy import event as sa_event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import migrations  # noqa: E402
import tasks.cases  # noqa: E402
from states import audit, merkle, record_views, store  # noqa: E402
from states import evidence as ev  # noqa: E402
from states.clock import FixedClock  # noqa: E402
from states.config import load_config  # noqa: E402
from states.db import Database  # noqa: E402
from states.deadlines import local_date  # noqa: E402
from states.effects import changes_for  # noqa: E402
from states.evidence import Evidence  # noqa: E402
from states.lifecycle import Lifecycle  # noqa: E402
from tasks import obligations  # noqa: E402
from tasks.demands import DemandInput, register_demand  # noqa: E402
from tasks.runtime import Runtime  # noqa: E402
from tasks.territory import import_typology  # noqa: E402
from tasks.users import add_user  # noqa: E402
from tests.builders import evidence_for  # noqa: E402  (kept in step with the evidence models)

START = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
ACTOR = "ana"
#: who decides the reopening the coordinator asked for (a second person, as the guard wants)
MANAGER = "regina"
GOAL = 0.5
MUNICIPALITIES = 16  # cases are spread over this many municipalities (different microregions)


@dataclass(frozen=True)
class Step:
    """One transition of the script: the event, how far the clock moves before it, by whom,
    and evidence to use instead of ``evidence_for``'s."""

    event: str
    delta: timedelta
    actor: str = ACTOR
    evidence: dict[str, Any] | None = None


#: Each case's script. None of these events reads programme records.
SCRIPT: tuple[Step, ...] = (
    Step("iniciar_analise", timedelta(days=1)),
    Step("atribuir", timedelta(hours=1)),
    Step("prorrogar", timedelta(days=25)),
    Step("indeferir", timedelta(days=10)),
    Step("recorrer", timedelta(days=3)),
    # 2026.3: the appeal goes to the authority that decided, who reconsiders (back to review)
    Step("reconsiderar", timedelta(days=2), actor=MANAGER),
    Step("aprovar_elegibilidade", timedelta(days=5)),
    Step("anotar", timedelta(hours=1)),
    Step("suspender", timedelta(days=2)),
    Step("retomar", timedelta(days=12)),
    Step("formalizar_polo", timedelta(days=3)),
    Step("atribuir", timedelta(hours=1), evidence={"coordinator": "joao"}),
    Step("cancelar", timedelta(days=20)),
    Step("solicitar_reabertura", timedelta(days=15)),
    Step("aprovar_reabertura", timedelta(days=2), actor=MANAGER),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the workload


@dataclass(frozen=True)
class Place:
    """A municipality cases are registered in."""

    code: int
    microregion: int
    timezone: str
    uf: str


@dataclass(frozen=True)
class Workload:
    cases: list[tuple[int, Place]]  # (case id, where)
    transitions: int  # per round and per path


def pick_places(db: Database) -> list[Place]:
    """MUNICIPALITIES municipalities, one per microregion, spread over the country."""
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT min(ibge_code), microregion_code FROM municipalities "
            "GROUP BY microregion_code ORDER BY microregion_code"
        ).all()
        step = max(1, len(rows) // MUNICIPALITIES)
        chosen = rows[::step][:MUNICIPALITIES]
        places = []
        for code, microregion in chosen:
            tz, uf = connection.exec_driver_sql(
                "SELECT timezone, uf FROM municipalities WHERE ibge_code = ?", (code,)
            ).one()
            places.append(Place(code, microregion, tz, uf))
    return places


def build_template(folder: Path, lifecycle: Lifecycle, cases: int) -> tuple[Path, Workload]:
    """A migrated SQLite file with ``cases`` registered cases (the start of every round)."""
    path = folder / "template.db"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db.engine)
    places = pick_places(db)
    rt = Runtime(db, lifecycle, FixedClock(START))
    # the coordinators the script assigns: active users whose territory covers every place
    territories = sorted({place.uf for place in places})
    for name in ("ana", "joao"):
        user = {"username": name, "name": name.title(), "email": f"{name}@example.org"}
        add_user(rt, {**user, "role": "coordinator", "territories": territories}, actor="system")
    registered = []
    for i in range(cases):
        place = places[i % len(places)]
        demand = DemandInput.model_validate(
            {
                "municipality_code": place.code,
                "community": f"Comunidade {i}",
                "forum": "Fórum Territorial",
                "forum_held_on": date(2026, 2, 20),
                "activity": "apicultura",
                "proponent": f"Associação {i}",
                "proponent_cnpj": "12.ABC.345/01DE-35",
            }
        )
        registered.append((register_demand(rt, demand, actor=ACTOR).case_id, place))
    # eligibility reads the PNDR typology in force: a benchmark table classifying every place
    rows = "".join(f"{place.microregion},estagnada\n" for place in places)
    import_typology(
        rt,
        "microregion_code,pndr_class\n" + rows,
        name="PNDR (benchmark)",
        version="bench",
        source="bench/transitions.py",
        illustrative=True,
        actor="system",
    )
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path, Workload(registered, 0)


def copy_of(template: Path, folder: Path, name: str) -> Path:
    target = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return target


# --------------------------------------------------------------------------- the engine path


def run_engine(
    path: Path, lifecycle: Lifecycle, work: Workload, wrap: Callable[[], Any] | None = None
) -> float:
    """Drive the cases through SCRIPT with ``advance``; the seconds spent inside the calls."""
    db = Database(f"sqlite:///{path}")
    clock = FixedClock(START)
    rt = Runtime(db, lifecycle, clock)
    elapsed = 0.0
    left = work.transitions
    context = wrap() if wrap else _nothing()
    with context:
        for index, step in enumerate(SCRIPT):
            if left <= 0:
                break
            clock.advance(step.delta)
            batch = work.cases[:left]
            left -= len(batch)
            version = index + 1
            evidences = {
                place: step.evidence
                or evidence_for(step.event, local_date(clock.now(), place.timezone))
                for place in {p for _, p in batch}
            }
            started = time.perf_counter()
            for case_id, place in batch:
                tasks.cases.advance(
                    rt,
                    case_id,
                    step.event,
                    evidences[place],
                    actor=step.actor,
                    expect_version=version,
                )
            elapsed += time.perf_counter() - started
    db.dispose()
    return elapsed


def run_bulk(path: Path, lifecycle: Lifecycle, work: Workload) -> float:
    """The same script as :func:`run_engine`, each step over all the cases as bulk work does it:
    ``tasks.cases.advance_batch`` (a savepoint per case, ``tasks.cases.BATCH`` cases to a
    transaction, one COMMIT each); the seconds spent inside the calls."""
    db = Database(f"sqlite:///{path}")
    clock = FixedClock(START)
    rt = Runtime(db, lifecycle, clock)
    elapsed = 0.0
    left = work.transitions
    for index, step in enumerate(SCRIPT):
        if left <= 0:
            break
        clock.advance(step.delta)
        batch = work.cases[:left]
        left -= len(batch)
        version = index + 1
        evidences = {
            place: step.evidence
            or evidence_for(step.event, local_date(clock.now(), place.timezone))
            for place in {p for _, p in batch}
        }
        steps = [
            tasks.cases.Step(case_id, step.event, evidences[place], version)
            for case_id, place in batch
        ]
        started = time.perf_counter()
        results = tasks.cases.advance_batch(rt, steps, actor=step.actor)
        elapsed += time.perf_counter() - started
        refused = [r for r in results if isinstance(r, Exception)]
        if refused:
            raise SystemExit(f"bulk path: {len(refused)} refused, first: {refused[0]!r}")
    db.dispose()
    return elapsed


@contextmanager
def _nothing() -> Iterator[None]:
    yield


# --------------------------------------------------------------------------- the raw path


#: Audit columns the raw path computes itself rather than copies from the plan.
COMPUTED = ("seq", "entry", "leaf_index")


@dataclass(frozen=True)
class RawStep:
    """One transition as the raw path receives it: the values, nothing decided."""

    fields: dict[str, Any]  # every other column of the audit event (occurred_at as a datetime)
    note: str | None
    evidence: dict[str, Any]
    changes: dict[str, Any]


def raw_plan(path: Path) -> tuple[list[RawStep], str]:
    """The transitions the engine made (read from its database), as inputs for the raw path.

    Also the raw path's INSERT, over all of the table's columns as the migrations left them.
    """
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    columns = [r["name"] for r in connection.execute("PRAGMA table_info(audit_events)")]
    rows = connection.execute(
        "SELECT * FROM audit_events WHERE case_id IS NOT NULL AND event != 'registrar' ORDER BY seq"
    ).fetchall()
    connection.close()
    plan = []
    for row in rows:
        fields = {c: row[c] for c in columns if c not in COMPUTED}
        fields["occurred_at"] = datetime.fromisoformat(row["occurred_at"]).replace(tzinfo=UTC)
        entry = json.loads(row["entry"])
        plan.append(RawStep(fields, entry["note"], entry["evidence"], entry["changes"]))
    order = (*(c for c in columns if c not in COMPUTED), "seq", "entry", "leaf_index")
    insert = f"INSERT INTO audit_events ({', '.join(order)}) VALUES ({', '.join('?' * len(order))})"
    return plan, insert


def raw_connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout = 10000")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.execute("PRAGMA synchronous = FULL")
    return connection


def _sqlite_datetime(value: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def run_raw(path: Path, plan: list[RawStep], insert: str) -> tuple[float, float]:
    """Write the plan's rows with plain sqlite3; (seconds, of which in COMMIT)."""
    connection = raw_connect(path)
    cursor = connection.cursor()
    updates: dict[tuple[str, ...], str] = {}
    committing = 0.0
    started = time.perf_counter()
    for step in plan:
        fields = step.fields
        case_id, version = fields["case_id"], fields["case_version"]
        cursor.execute("BEGIN IMMEDIATE")
        (seq,) = cursor.execute("SELECT coalesce(max(seq), 0) + 1 FROM audit_events").fetchone()
        columns = tuple(step.changes)
        sql = updates.get(columns)
        if sql is None:
            sets = ", ".join(f"{c} = ?" for c in (*columns, "version", "updated_at", "updated_by"))
            sql = updates[columns] = f"UPDATE cases SET {sets} WHERE id = ? AND version = ?"
        values = [json.dumps(v) if c == "enterprises" else v for c, v in step.changes.items()]
        at = _sqlite_datetime(fields["occurred_at"])
        cursor.execute(sql, (*values, version, at, fields["actor"], case_id, version - 1))
        if cursor.rowcount != 1:
            raise RuntimeError(f"raw: case {case_id} is not at version {version - 1}")
        entry = audit.encode_entry(
            **{k: v for k, v in fields.items() if k != "channel"},
            seq=seq,
            channel=fields["channel"],
            os_user=None,
            note=step.note,
            evidence=step.evidence,
            changes=step.changes,
        )
        size, blob = cursor.execute(
            "SELECT tree_size, frontier FROM audit_log_state WHERE id = 1"
        ).fetchone()
        frontier = merkle.Frontier.from_bytes(size, blob)
        nodes = frontier.append(merkle.leaf_hash(entry.encode("utf-8")))
        stored = {**fields, "occurred_at": at}
        cursor.execute(insert, (*stored.values(), seq, entry, size))
        cursor.executemany("INSERT INTO audit_tree (level, idx, hash) VALUES (?, ?, ?)", nodes)
        cursor.execute(
            "UPDATE audit_log_state SET tree_size = ?, frontier = ?, root_hash = ? WHERE id = 1",
            (frontier.size, frontier.to_bytes(), frontier.root().hex()),
        )
        before_commit = time.perf_counter()
        cursor.execute("COMMIT")
        committing += time.perf_counter() - before_commit
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed, committing


def same_rows(a: Path, b: Path) -> None:
    """Refuse to report figures unless both paths left identical cases, events and head."""
    for table, order in (
        ("cases", "id"),
        ("audit_events", "seq"),
        ("audit_tree", "level, idx"),
        ("audit_log_state", "id"),
    ):
        ca, cb = sqlite3.connect(a), sqlite3.connect(b)
        rows_a = ca.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        rows_b = cb.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        ca.close()
        cb.close()
        if rows_a != rows_b:
            diff = next(i for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=False)) if x != y)
            raise SystemExit(
                f"the raw path wrote other {table} rows than the engine: "
                f"{rows_a[diff]} != {rows_b[diff]}"
            )


# --------------------------------------------------------------------------- the split


@dataclass
class Split:
    """Exclusive time per part of the engine path (a part's time excludes the parts inside)."""

    totals: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    stack: list[tuple[str, float, float]] = field(default_factory=list)  # name, start, nested

    def enter(self, name: str) -> None:
        self.stack.append((name, time.perf_counter(), 0.0))

    def leave(self) -> None:
        name, start, nested = self.stack.pop()
        spent = time.perf_counter() - start
        self.totals[name] += spent - nested
        if self.stack:
            parent, pstart, pnested = self.stack[-1]
            self.stack[-1] = (parent, pstart, pnested + spent)

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.enter(name)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()

        return wrapper


PARTS = {
    "advance": "other (session, transaction, context managers, result)",
    "parse_evidence": "evidence validation (pydantic)",
    "model_dump": "evidence dump (pydantic)",
    "connection": "session: connection checkout, transaction begin",
    "load_for_update": "load case+municipality+calendar generation (ORM select, hydration)",
    "facts": "facts_of / clockwork_of",
    "calendar": "working-day calendar of the municipality (calendar_for)",
    "records": "programme records the guard reads (none for this script's events)",
    "obligations": "dated obligations a transition opens",
    "fire": "lifecycle.judge (transitions machine + guard)",
    "changes_for": "effects.changes_for",
    "update_case": "update_case (versioned UPDATE, object kept in step)",
    "append": "audit.append (entry number, entry insert)",
    "integrate": "audit.integrate (the sequencer: backlog, leaf, nodes, tree state)",
    "hash": "canonical JSON (RFC 8785)",
    "sql": "sqlite3 execute (BEGIN, SELECTs, UPDATEs, INSERT)",
    "commit": "COMMIT (WAL append + fsync)",
}


@contextmanager
def instrumented(lifecycle: Lifecycle, split: Split) -> Iterator[None]:
    """Wrap the parts of the engine path with exclusive timers (a separate, unreported round)."""
    patches: list[tuple[Any, str, Any]] = [
        (tasks.cases, "advance", split.timed("advance", tasks.cases.advance)),
        (ev, "parse", split.timed("parse_evidence", ev.parse)),
        (lifecycle, "judge", split.timed("fire", lifecycle.judge)),
        (Evidence, "model_dump", split.timed("model_dump", Evidence.model_dump)),
        (store, "load_for_change", split.timed("load_for_update", store.load_for_change)),
        (store, "facts_of", split.timed("facts", store.facts_of)),
        (store, "clockwork_of", split.timed("facts", store.clockwork_of)),
        (record_views, "records_for", split.timed("records", record_views.records_for)),
        (
            obligations,
            "after_transition",
            split.timed("obligations", obligations.after_transition),
        ),
        (tasks.cases, "changes_for", split.timed("changes_for", changes_for)),
        (store, "update_case", split.timed("update_case", store.update_case)),
        (audit, "append", split.timed("append", audit.append)),
        (Session, "_connection_for_bind", split.timed("connection", Session._connection_for_bind)),
        (audit, "integrate", split.timed("integrate", audit.integrate)),
        (audit, "canonical_json", split.timed("hash", audit.canonical_json)),
    ]
    if hasattr(tasks.cases, "calendar_for"):  # the working-day calendar, where advance reads it
        timed = split.timed("calendar", tasks.cases.calendar_for)
        patches.append((tasks.cases, "calendar_for", timed))
    saved = [(owner, name, owner.__dict__.get(name)) for owner, name, _ in patches]
    for owner, name, wrapper in patches:
        setattr(owner, name, wrapper)

    def before_execute(*_: Any) -> None:
        split.enter("sql")

    def after_execute(*_: Any) -> None:
        split.leave()

    def before_commit(*_: Any) -> None:
        split.enter("commit")

    def after_commit(*_: Any) -> None:
        if split.stack and split.stack[-1][0] == "commit":
            split.leave()

    sa_event.listen(sqlalchemy.Engine, "before_cursor_execute", before_execute)
    sa_event.listen(sqlalchemy.Engine, "after_cursor_execute", after_execute)
    sa_event.listen(sqlalchemy.Engine, "commit", before_commit)
    sa_event.listen(Session, "after_commit", after_commit)
    try:
        yield
    finally:
        sa_event.remove(sqlalchemy.Engine, "before_cursor_execute", before_execute)
        sa_event.remove(sqlalchemy.Engine, "after_cursor_execute", after_execute)
        sa_event.remove(sqlalchemy.Engine, "commit", before_commit)
        sa_event.remove(Session, "after_commit", after_commit)
        for owner, name, original in saved:
            if original is None:
                delattr(owner, name)  # an instance attribute we added
            else:
                setattr(owner, name, original)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, help="cases driven (default 200)")
    parser.add_argument(
        "--transitions",
        type=int,
        help=f"transitions per round and per path (default: cases x {len(SCRIPT)})",
    )
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    parser.add_argument("--no-split", action="store_true", help="skip the instrumented round")
    parser.add_argument("--no-bulk", action="store_true", help="skip the group-commit (bulk) path")
    parser.add_argument(
        "--profile", type=Path, help="also write cProfile stats of one engine round"
    )
    args = parser.parse_args(argv)
    per_case = len(SCRIPT)
    if args.cases is None:
        args.cases = math.ceil(args.transitions / per_case) if args.transitions else 200
    if args.transitions is None:
        args.transitions = args.cases * per_case
    if args.cases < 1 or args.transitions < 1 or args.rounds < 1:
        parser.error("--cases, --transitions and --rounds must be positive")
    if args.transitions > args.cases * per_case:
        parser.error(f"{args.cases} cases allow at most {args.cases * per_case} transitions")
    return args


def pragmas(path: Path) -> dict[str, Any]:
    """The settings the engine's connections run with, read back from one of them."""
    db = Database(f"sqlite:///{path}")
    with db.engine.connect() as connection:
        values = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    db.dispose()
    raw = raw_connect(path)
    raw_values = {
        name: raw.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }
    raw.close()
    if raw_values != values:
        raise SystemExit(f"engine and raw connections differ: {values} != {raw_values}")
    return {
        **values,
        "synchronous": {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            values["synchronous"], values["synchronous"]
        ),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load_start = os.getloadavg()
    began = time.perf_counter()
    lifecycle = Lifecycle(load_config())
    with tempfile.TemporaryDirectory(prefix="produzir-bench-", dir=args.dir) as tmp:
        folder = Path(tmp)
        log(f"setting up: migrating and registering {args.cases} cases (not timed)")
        template, work = build_template(folder, lifecycle, args.cases)
        work = Workload(work.cases, args.transitions)
        settings = pragmas(copy_of(template, folder, "probe"))
        setup = time.perf_counter() - began

        log("warm-up round")
        first = copy_of(template, folder, "engine")
        run_engine(first, lifecycle, work)
        plan, insert = raw_plan(first)
        assert len(plan) == args.transitions
        run_raw(copy_of(template, folder, "raw"), plan, insert)
        same_rows(first, folder / "raw.db")

        if not args.no_bulk:
            run_bulk(copy_of(template, folder, "bulk"), lifecycle, work)
            same_rows(first, folder / "bulk.db")

        engine_s: list[float] = []
        raw_s: list[float] = []
        bulk_s: list[float] = []
        commit_s: list[float] = []
        paths = ("engine", "raw") if args.no_bulk else ("engine", "raw", "bulk")
        for r in range(args.rounds):
            engine_db = copy_of(template, folder, "engine")
            raw_db = copy_of(template, folder, "raw")
            bulk_db = copy_of(template, folder, "bulk")
            order = paths[r % len(paths) :] + paths[: r % len(paths)]  # each first in turn
            for which in order:
                if which == "engine":
                    engine_s.append(run_engine(engine_db, lifecycle, work))
                elif which == "bulk":
                    bulk_s.append(run_bulk(bulk_db, lifecycle, work))
                else:
                    seconds, committing = run_raw(raw_db, plan, insert)
                    raw_s.append(seconds)
                    commit_s.append(committing)
            same_rows(engine_db, raw_db)
            if bulk_s:
                same_rows(engine_db, bulk_db)
            log(
                f"round {r + 1}/{args.rounds}: engine {args.transitions / engine_s[-1]:.0f}/s, "
                f"raw {args.transitions / raw_s[-1]:.0f}/s"
                + (f", bulk {args.transitions / bulk_s[-1]:.0f}/s" if bulk_s else "")
            )

        split_us: dict[str, float] | None = None
        if not args.no_split:
            log("instrumented round (split per part, not counted in the figures)")
            split = Split()
            run_engine(
                copy_of(template, folder, "split"),
                lifecycle,
                work,
                wrap=lambda: instrumented(lifecycle, split),
            )
            split_us = {
                PARTS[name]: round(split.totals[name] / args.transitions * 1e6, 1) for name in PARTS
            }
            split_us["total (instrumented)"] = round(sum(split_us.values()), 1)

        if args.profile:
            log(f"profiled round -> {args.profile}")
            profiler = cProfile.Profile()
            target = copy_of(template, folder, "profile")
            profiler.enable()
            run_engine(target, lifecycle, work)
            profiler.disable()
            profiler.dump_stats(str(args.profile))

    n = args.transitions
    engine = statistics.median(engine_s)
    raw = statistics.median(raw_s)
    result = {
        "engine_tps": round(n / engine, 1),
        "raw_sqlite_tps": round(n / raw, 1),
        "ratio": round(raw / engine, 3),
        "goal_ratio": GOAL,
        "meets_goal": raw / engine >= GOAL,
        "transitions": n,
        "cases": args.cases,
        "rounds": args.rounds,
        "engine_seconds": [round(s, 3) for s in engine_s],
        "raw_seconds": [round(s, 3) for s in raw_s],
        "engine_us_per_transition": round(engine / n * 1e6, 1),
        "raw_us_per_transition": round(raw / n * 1e6, 1),
        "raw_commit_us_per_transition": round(statistics.median(commit_s) / n * 1e6, 1),
        "engine_overhead_us_per_transition": round((engine - raw) / n * 1e6, 1),
        "engine_split_us_per_transition": split_us,
        "bulk_tps": round(n / statistics.median(bulk_s), 1) if bulk_s else None,
        "bulk_seconds": [round(x, 3) for x in bulk_s],
        "bulk_batch": tasks.cases.BATCH,
        "bulk_speedup_over_engine": (
            round(engine / statistics.median(bulk_s), 2) if bulk_s else None
        ),
        "bulk_ratio_to_raw": round(raw / statistics.median(bulk_s), 3) if bulk_s else None,
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        "event_mix": dict(Counter(step.fields["event"] for step in plan)),
        "setup_seconds": round(setup, 2),
        "total_seconds": round(time.perf_counter() - began, 2),
        "sqlite_version": sqlite3.sqlite_version,
        **settings,
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "platform": platform.platform(),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
