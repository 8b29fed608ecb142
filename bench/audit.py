"""The audit log under load: writers of different cases, verification of a large log, proofs.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"pg_writers": {"1": tps, "2": ..., "4": ..., "8": ...}, "sqlite_writers": {...},
     "pg_scaling": {"2": x, "4": x, "8": x}, "shared_row_lock_waits": n, "lock_waits_seen": [...],
     "verify_full_1m_s": s, "verify_incremental_10k_s": s, "prove_case_ms": ms, ...}

1. **writers**: N separate processes (1, 2, 4, 8), each firing ``anotar`` on a case of its own
   through :func:`tasks.cases.advance` (one transaction per call: load the case locked, append
   the audit entry, the sequencer when it can take its lock, commit) for ``--seconds`` each;
   transactions per second summed over the writers. On PostgreSQL (a schema of its own in the
   local service's ``test`` database) a sampler reads ``pg_stat_activity`` every 0.1 s:
   ``shared_row_lock_waits`` counts the samples in which a writer waited on a lock (row,
   tuple or transaction) — with every writer on a case of its own, any such wait is a wait on
   something another case's writer holds. SQLite (WAL) writers queue for its single write lock
   by design; their figures show that the log adds no wait of its own. ``cpu_busy`` gives, per
   run, the share of the machine's CPU that was busy (all processes, from ``/proc/stat``): near
   1.0 the run was bound by the cores, not by a lock.
2. **verify**: a log of ``--log-size`` (1,000,000) entries built on SQLite with the real encoder
   and sequencer (:func:`states.audit.entry_row`, :func:`states.audit.integrate`) in batches,
   signed; then a full verification (:func:`states.audit_verify.verify` from leaf 0, one
   snapshot), then 10,000 more entries, a new checkpoint, and an incremental verification from
   the first checkpoint.
3. **prove**: the proof bundle of one case with 12 entries in that log
   (:func:`states.audit_proof.build`), median of 20.

Goals (issue 8, this 2-core machine): PostgreSQL 2 writers >= 1.6x one writer, 4 writers >=
1.8x; shared_row_lock_waits = 0; full verify of 1M <= 5 s; incremental 10k <= 1 s.

Run: ``.venv/bin/python bench/audit.py [--seconds 15] [--log-size 1000000] [--skip-pg]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() not in (HERE, ROOT))]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import migrations  # noqa: E402
from states import audit, audit_proof, checkpoints  # noqa: E402
from states.audit_verify import verify  # noqa: E402
from states.clock import FixedClock, SystemClock  # noqa: E402
from states.config import load_config  # noqa: E402
from states.db import Database  # noqa: E402
from states.lifecycle import Lifecycle  # noqa: E402
from states.signing import Keyring, Signer  # noqa: E402
from tasks.cases import add_note  # noqa: E402
from tasks.demands import register_demand  # noqa: E402
from tasks.runtime import Runtime  # noqa: E402
from tests.builders import demand  # noqa: E402

POSTGRES = os.environ.get(
    "PRODUZIR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WRITERS = (1, 2, 4, 8)
START = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- writers


def _writer(url: str, case_id: int, seconds: float, ready: Any, go: Any, out: Any) -> None:
    db = Database(url)
    rt = Runtime(db, Lifecycle(load_config()), SystemClock())
    add_note(rt, case_id, "aquecimento", actor="bench")  # connect, warm the caches
    ready.wait()
    go.wait()
    done = 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        add_note(rt, case_id, f"nota {done}", actor="bench")
        done += 1
    out.put(done)
    db.dispose()


def _seed(url: str, cases: int) -> list[int]:
    db = Database(url)
    migrations.upgrade(db.engine)
    rt = Runtime(db, Lifecycle(load_config()), FixedClock(START))
    made = [register_demand(rt, demand(), actor="bench").case_id for _ in range(cases)]
    db.dispose()
    return made


class LockSampler(threading.Thread):
    """Samples pg_stat_activity every 0.1 s: waits on locks by the benchmark's writers."""

    def __init__(self, url: str, schema: str) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(url)
        self.schema = schema
        self.stop = threading.Event()
        self.samples = 0
        self.waiting_samples = 0
        self.seen: dict[str, int] = {}

    def run(self) -> None:
        query = text(
            "SELECT a.wait_event, coalesce(l.locktype, '?'), coalesce(l.relation::regclass::text,"
            " '') FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted"
            " WHERE a.wait_event_type = 'Lock' AND a.datname = current_database()"
            " AND a.application_name = :app"
        )
        with self.engine.connect() as connection:
            while not self.stop.wait(0.1):
                rows = connection.execute(query, {"app": f"bench-{self.schema}"}).all()
                connection.commit()
                self.samples += 1
                if rows:
                    self.waiting_samples += 1
                    for event, kind, relation in rows:
                        key = f"{event}:{kind}:{relation}"
                        self.seen[key] = self.seen.get(key, 0) + 1
        self.engine.dispose()


def _db_kind(url: str) -> str:
    return "pg" if url.startswith("postgresql") else "sqlite"


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine so far (/proc/stat; (0, 0) elsewhere)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


#: per writer count: the share of the machine's CPU busy during the run (all processes)
CPU_BUSY: dict[str, float] = {}


def run_writers(url: str, cases: list[int], n: int, seconds: float) -> float:
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(n + 1)
    go = ctx.Barrier(n + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, cases[i], seconds, ready, go, out)) for i in range(n)
    ]
    for p in procs:
        p.start()
    ready.wait()
    started = time.perf_counter()
    busy_before, all_before = _cpu_ticks()
    go.wait()
    total = sum(out.get() for _ in procs)
    elapsed = time.perf_counter() - started
    busy_after, all_after = _cpu_ticks()
    if all_after > all_before:
        CPU_BUSY[f"{_db_kind(url)}_{n}"] = round(
            (busy_after - busy_before) / (all_after - all_before), 2
        )
    for p in procs:
        p.join()
    return float(total) / max(elapsed, seconds)


def bench_pg(seconds: float) -> dict[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(POSTGRES)
        .update_query_dict(
            {"options": f"-csearch_path={schema}", "application_name": f"bench-{schema}"}
        )
        .render_as_string(hide_password=False)
    )
    try:
        cases = _seed(url, max(WRITERS))
        tps: dict[str, float] = {}
        sampler = LockSampler(url, schema)
        sampler.start()
        for n in WRITERS:
            tps[str(n)] = round(run_writers(url, cases, n, seconds), 1)
            say(f"postgresql: {n} writer(s) {tps[str(n)]} tx/s")
        sampler.stop.set()
        sampler.join()
        db = Database(url)
        with db.write() as session:
            audit.integrate_all(session)
        with db.snapshot() as session:
            check = verify(session, Keyring())
        db.dispose()
        return {
            "pg_writers": tps,
            "pg_scaling": {k: round(v / tps["1"], 2) for k, v in tps.items()},
            "shared_row_lock_waits": sampler.waiting_samples,
            "lock_samples": sampler.samples,
            "lock_waits_seen": sampler.seen,
            "pg_log_verifies": check.ok,
            "pg_entries": check.tree_size,
        }
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bench_sqlite(seconds: float, folder: Path) -> dict[str, Any]:
    url = f"sqlite:///{folder / 'writers.db'}"
    cases = _seed(url, max(WRITERS))
    tps: dict[str, float] = {}
    for n in WRITERS:
        tps[str(n)] = round(run_writers(url, cases, n, seconds), 1)
        say(f"sqlite: {n} writer(s) {tps[str(n)]} tx/s")
    return {"sqlite_writers": tps}


# --------------------------------------------------------------------------- verify


def _append_synthetic(db: Database, start_seq: int, count: int, at: datetime) -> None:
    """``count`` entries written by the real encoder, integrated by the real sequencer."""
    batch = 20_000
    seq = start_seq
    while count > 0:
        n = min(batch, count)
        rows = []
        for _ in range(n):
            when = at + timedelta(seconds=seq)
            # one entry in 4,000 belongs to one of the 12 cases, in turn: about 21 each in a
            # million, beside their own registration (a case's history is tens of entries)
            case_id = 1 + (seq // 4000) % 12 if seq % 4000 == 0 else None
            rows.append(
                audit.entry_row(
                    seq=seq,
                    case_id=case_id,
                    case_version=None,
                    record_type="bench",
                    record_id=seq,
                    lifecycle_version="2026.2",
                    event="anotar",
                    from_state=None,
                    to_state=None,
                    actor="bench",
                    channel="system",
                    os_user=None,
                    note=f"nota {seq}",
                    evidence={"text": f"nota {seq}"},
                    changes={},
                    occurred_at=when,
                )
            )
            seq += 1
        with db.write() as session:
            session.execute(audit.INSERT_EVENT, rows)
            audit.integrate_all(session)
        count -= n


def bench_verify(size: int, folder: Path) -> dict[str, Any]:
    path = folder / "log.db"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db.engine)
    rt = Runtime(db, Lifecycle(load_config()), FixedClock(START))
    for _ in range(12):
        register_demand(rt, demand(), actor="bench")
    signer = Signer(Ed25519PrivateKey.generate())
    ring = Keyring({signer.key_id: signer.public})
    started = time.perf_counter()
    _append_synthetic(db, 13, size - 12, START)
    say(f"built a log of {size:,} entries in {time.perf_counter() - started:.0f} s")
    with db.write() as session:
        first_id, first = checkpoints.make(session, signer, log="produzir", now=START)

    def columns_in(check: Any) -> Any:
        # as tasks.audit_log.verify_log runs it (what produzir audit verify runs): the check of
        # the indexed columns on a second connection, in a thread, beside the stream of leaves
        with db.snapshot() as other:
            return check(other)

    started = time.perf_counter()
    with db.snapshot() as session:
        full = verify(session, ring, columns_in=columns_in)
    full_s = time.perf_counter() - started
    assert full.ok, full
    assert full.checked == size, full
    say(f"full verification: {full.checked:,} entries in {full_s:.2f} s")
    _append_synthetic(db, size + 1, 10_000, START + timedelta(days=30))
    with db.write() as session:
        checkpoints.make(session, signer, log="produzir", now=START + timedelta(days=31))
    started = time.perf_counter()
    with db.snapshot() as session:
        incremental = verify(session, ring, start=(first_id, first), columns_in=columns_in)
    incremental_s = time.perf_counter() - started
    assert incremental.ok, incremental
    assert incremental.checked == 10_000, incremental
    say(f"incremental verification: {incremental.checked:,} entries in {incremental_s:.2f} s")
    times = []
    with db.snapshot() as session:
        latest = checkpoints.latest(session)
        assert latest is not None
        for _ in range(20):
            t0 = time.perf_counter()
            bundle = audit_proof.build(session, 1, latest[1], signer.public)
            times.append(time.perf_counter() - t0)
    assert audit_proof.check(bundle, signer.public).ok
    db.dispose()
    return {
        "log_entries": size + 10_000,
        "verify_full_1m_s": round(full_s, 2),
        "verify_full_us_per_entry": round(full_s / size * 1e6, 2),
        "verify_incremental_10k_s": round(incremental_s, 3),
        "prove_case_ms": round(statistics.median(times) * 1000, 2),
        "prove_case_entries": len(bundle["entries"]),
        "log_db_mb": round(path.stat().st_size / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--log-size", type=int, default=1_000_000)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-writers", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="produzir-bench-audit-") as tmp:
        folder = Path(tmp)
        if not args.skip_writers:
            if not args.skip_pg:
                report.update(bench_pg(args.seconds))
            report.update(bench_sqlite(args.seconds, folder))
        report.update(bench_verify(args.log_size, folder))
    goals = {"pg_2_writers": 1.6, "pg_4_writers": 1.8, "shared_row_lock_waits": 0}
    goals |= {"verify_full_1m_s": 5.0, "verify_incremental_10k_s": 1.0}
    met: dict[str, bool] = {}
    if "pg_scaling" in report:
        met["pg_2_writers"] = report["pg_scaling"]["2"] >= 1.6
        met["pg_4_writers"] = report["pg_scaling"]["4"] >= 1.8
        met["shared_row_lock_waits"] = report["shared_row_lock_waits"] == 0
    met["verify_full_1m_s"] = report["verify_full_1m_s"] <= 5.0 * args.log_size / 1_000_000
    met["verify_incremental_10k_s"] = report["verify_incremental_10k_s"] <= 1.0
    report.update(
        cpu_busy=CPU_BUSY,
        goals=goals,
        met=met,
        seconds_per_run=args.seconds,
        load_average_before=round(load_before, 2),
        load_average_after=round(os.getloadavg()[0], 2),
        cores=os.cpu_count(),
        python=platform.python_version(),
    )
    print(json.dumps(report))


if __name__ == "__main__":
    main()
