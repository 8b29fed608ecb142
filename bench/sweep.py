"""The deadline sweep at scale: seconds and peak memory for one sweep, and Prefect's overhead.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"sizes": [{"open_cases": 100000, "due_cases": ..., "sweep_seconds": ..., "peak_rss_mb": ...,
                "prefect": {"direct_seconds": ..., "flow_seconds": ..., "overhead_ratio": ...}},
               ...], "goals": {...}, "met": {...}}

For each size (``--sizes``, open cases):

1. **build** (not timed as the sweep): a fresh migrated SQLite file, the staff users added
   through the operation (coordinators per UF, a supervisor per UF, two managers), then the
   open cases written with plain SQL inserts — millions of operations would take hours — in
   every open state, over all 5,570 municipalities, with deadlines spread so that about
   ``--due-share`` (10 %) are inside the sweep's window (late by up to 15 days, due today, or
   due within the next days: each gets a reminder or escalations) and the rest due weeks to
   months later.
2. **sweep**, in a fresh process that imports no Prefect: :func:`tasks.sweep.sweep_deadlines`
   once, on a copy of the built file, as of Thursday 2026-03-12 06:00 in Brasília — the SQL
   queries and the outbox rows it writes. Peak RSS is the process's high-water mark
   (``VmHWM`` of ``/proc/self/status``), read before and after the sweep, so the figure is this
   sweep's, per size.
3. **prefect**, in one more process: the same sweep called directly and run as the
   ``sweep-deadlines`` flow (:mod:`flows.deadlines`, one flow run, one task run) against a
   temporary local Prefect server (Prefect's test harness, its own SQLite database), each on a
   fresh copy of the same file, after a warm-up of both on a small database; ``--rounds``
   alternating rounds, medians. Flow runs use Prefect's default settings, heartbeats included.
   The cost of an empty flow run is measured too: it is a fixed cost per run, so the ratio
   falls as the sweep grows.

Goals (issue 4): 1M open cases swept in <= 10 s with peak RSS <= 300 MB and flat from 100k to
1M; Prefect overhead <= 10 %.

Run: ``.venv/bin/python bench/sweep.py [--sizes 100000,1000000] [--rounds R] [--dir D]
[--no-time-transitions] [--no-prefect] [--profile FILE]``. The default (100k, one round) takes
about half a minute; ``--sizes 100000,1000000 --rounds 3`` about six minutes and 2 GB of disk.
``--profile FILE`` writes a cProfile of each size's sweep to ``FILE.<size>`` (the timings it
prints are then inflated by the profiler).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() not in (HERE, ROOT))]

BRASILIA = ZoneInfo("America/Sao_Paulo")
#: The sweep's moment: Thursday 2026-03-12, 06:00 in Brasília (the daily schedule).
NOW = datetime(2026, 3, 12, 6, 0, tzinfo=BRASILIA)
TODAY = NOW.date()
OPEN_STATES = (
    "registrada",
    "em_analise",
    "polo_definido",
    "mobilizacao",
    "capacitacao",
    "gestao",
    "legalizacao",
    "acompanhamento",
    "avaliacao",
)
GOALS = {"sweep_seconds_at_1m": 10.0, "peak_rss_mb": 300.0, "prefect_overhead_ratio": 0.10}
WARM_UP_CASES = 2_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def vm_hwm_mb() -> float:
    """The process's peak resident set size so far (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: ru_maxrss (kB on Linux, bytes on macOS)

    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def runtime_for(path: Path) -> Any:
    from states.clock import FixedClock
    from states.config import load_config
    from states.db import Database
    from states.lifecycle import Lifecycle
    from tasks.runtime import Runtime

    return Runtime(Database(f"sqlite:///{path}"), Lifecycle(load_config()), FixedClock(NOW))


# ------------------------------------------------------------------------------ build


def build(path: Path, cases: int, due_share: float, seed: int = 2026) -> dict[str, Any]:
    """A migrated SQLite file with staff users and ``cases`` open cases."""
    import migrations
    from tasks.users import add_user

    started = time.perf_counter()
    rt = runtime_for(path)
    migrations.upgrade(rt.db.engine)
    with rt.db.read() as session:
        from sqlalchemy import select

        from states.models import Municipality

        munis = session.execute(select(Municipality.ibge_code, Municipality.uf)).all()
    ufs = sorted({uf for _, uf in munis})
    coordinators = {uf: [f"coord.{uf.lower()}.{i}" for i in range(3)] for uf in ufs}
    for uf in ufs:
        for name in coordinators[uf]:
            add_user(rt, _person(name, "coordinator", [uf]), actor="admin")
        add_user(rt, _person(f"superv.{uf.lower()}", "supervisor", [uf]), actor="admin")
    for name in ("gestao.1", "gestao.2"):
        add_user(rt, _person(name, "manager", []), actor="admin")
    version = rt.lifecycle.version
    rt.db.dispose()

    rng = random.Random(seed)
    stamp = datetime(2025, 6, 1, 12, 0, tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as stored
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("BEGIN")
    rows = []
    due = 0
    for case_id in range(1, cases + 1):
        code, uf = munis[rng.randrange(len(munis))]
        if rng.random() < due_share:  # inside the sweep's window
            due_on = TODAY + timedelta(days=rng.randint(-15, 3))
            due += 1
        else:
            due_on = TODAY + timedelta(days=rng.randint(30, 180))  # past the window
        state = OPEN_STATES[case_id % len(OPEN_STATES)]
        entered = due_on - timedelta(days=60)
        rows.append(
            (
                case_id,
                3,
                version,
                state,
                code,
                f"Comunidade {case_id}",
                f"Fórum territorial {case_id % 97}",
                "2025-05-20",
                "apicultura",
                f"Associação {case_id}",
                coordinators[uf][case_id % 3],
                stamp,
                "bench",
                entered.isoformat(),
                due_on.isoformat(),
                0,
                stamp,
                "bench",
            )
        )
        if len(rows) == 50_000:
            _insert_cases(connection, rows)
            rows.clear()
    _insert_cases(connection, rows)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return {
        "open_cases": cases,
        "due_by_construction": due,
        "users": sum(len(c) for c in coordinators.values()) + len(ufs) + 2,
        "build_seconds": round(time.perf_counter() - started, 1),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


def _person(name: str, role: str, territories: list[str]) -> dict[str, Any]:
    return {
        "username": name,
        "name": name.replace(".", " ").title(),
        "email": f"{name}@produzir.example",
        "role": role,
        "territories": territories,
        "delivery": "immediate",
    }


def _insert_cases(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    connection.executemany(
        "INSERT INTO cases (id, version, lifecycle_version, state, municipality_code, community,"
        " forum, forum_held_on, activity, proponent, coordinator, registered_at, registered_by,"
        " entered_on, due_on, extensions_used, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


# ------------------------------------------------------------------------------ children


def child_sweep(path: Path, batch_size: int, profile: str | None) -> dict[str, Any]:
    """One sweep, directly, in this process (no Prefect imported)."""
    from sqlalchemy import func, select

    from notifications.models import OutboxMessage
    from tasks.sweep import sweep_deadlines

    rt = runtime_for(path)
    with rt.db.read() as session:  # connect, read the schema: not part of the sweep
        session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    before = vm_hwm_mb()
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    report = sweep_deadlines(rt, batch_size=batch_size)
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    peak = vm_hwm_mb()
    with rt.db.read() as session:
        rows = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    assert "prefect" not in sys.modules, "the sweep process must not import Prefect"
    return {
        "due_cases": report.cases_checked,
        "obligations_checked": report.obligations_checked,
        "batches": report.batches,
        "outbox_rows_written": report.reminders_queued,
        "outbox_rows_in_db": rows,
        "unaddressed": report.unaddressed,
        "transitions_fired": len(report.transitions),
        "transitions_refused": report.refused,
        "failed": report.failed,
        "sweep_seconds": round(seconds, 3),
        "rss_before_sweep_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "sweep_rss_increase_mb": round(peak - before, 1),
    }


def child_prefect(copies: list[Path], warm: list[Path], batch_size: int) -> dict[str, Any]:
    """Direct calls and flow runs of the same sweep, alternating, in this one process."""
    home = Path(tempfile.mkdtemp(prefix="bench-prefect-home-"))
    os.environ["PREFECT_HOME"] = str(home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect import flow
    from prefect.settings import get_current_settings
    from prefect.testing.utilities import prefect_test_harness

    from flows.common import injected
    from flows.deadlines import sweep_deadlines as sweep_flow
    from tasks.sweep import sweep_deadlines

    @flow(name="empty")
    def empty() -> None:
        return None

    def direct(path: Path) -> float:
        rt = runtime_for(path)
        started = time.perf_counter()
        sweep_deadlines(rt, batch_size=batch_size)
        seconds = time.perf_counter() - started
        rt.db.dispose()
        return seconds

    def as_flow(path: Path) -> float:
        rt = runtime_for(path)
        with injected(rt):
            started = time.perf_counter()
            state = sweep_flow(batch_size=batch_size, return_state=True)
            seconds = time.perf_counter() - started
        assert state.is_completed(), state
        rt.db.dispose()
        return seconds

    try:
        with prefect_test_harness(server_startup_timeout=120):
            direct(warm[0])
            as_flow(warm[1])
            empties = []
            for _ in range(3):
                started = time.perf_counter()
                empty()
                empties.append(time.perf_counter() - started)
            directs, flows = [], []
            for i, (a, b) in enumerate(zip(copies[::2], copies[1::2], strict=True)):
                if i % 2 == 0:
                    directs.append(direct(a))
                    flows.append(as_flow(b))
                else:
                    flows.append(as_flow(b))
                    directs.append(direct(a))
            heartbeat = get_current_settings().flows.heartbeat_frequency
    finally:
        shutil.rmtree(home, ignore_errors=True)
    d, f = statistics.median(directs), statistics.median(flows)
    return {
        "rounds": len(directs),
        "direct_seconds": round(d, 3),
        "flow_seconds": round(f, 3),
        "overhead_seconds": round(f - d, 3),
        "overhead_ratio": round((f - d) / d, 3),
        "empty_flow_run_seconds": round(statistics.median(empties), 3),
        "heartbeat_frequency_seconds": heartbeat,
        "all_direct_seconds": [round(x, 3) for x in directs],
        "all_flow_seconds": [round(x, 3) for x in flows],
    }


def run_child(*args: str) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    done = subprocess.run(  # noqa: S603  (this script, our arguments)
        command, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        log(done.stderr[-4000:])
        raise SystemExit(f"child {args[0]} failed with {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------ parent


def measure(size: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    base = folder / f"cases-{size}.db"
    log(f"[{size:,}] building {size:,} open cases ({args.due_share:.0%} due)...")
    figures = run_child("build", str(base), str(size), str(args.due_share))
    log(f"[{size:,}] built in {figures['build_seconds']} s ({figures['file_mb']} MB)")

    copy = folder / f"sweep-{size}.db"
    shutil.copyfile(base, copy)
    log(f"[{size:,}] one sweep, direct, in a fresh process...")
    profile = f"{args.profile}.{size}" if args.profile else ""
    figures.update(run_child("sweep", str(copy), str(args.batch_size), profile))
    copy.unlink()
    log(
        f"[{size:,}] swept {figures['due_cases']:,} due cases in {figures['sweep_seconds']} s, "
        f"{figures['outbox_rows_written']:,} outbox rows, peak RSS {figures['peak_rss_mb']} MB"
    )

    if not args.no_prefect:
        log(f"[{size:,}] direct vs flow, {args.rounds} round(s)...")
        warm = [folder / "warm-a.db", folder / "warm-b.db"]
        build_warm = folder / "warm.db"
        if not build_warm.exists():
            run_child("build", str(build_warm), str(WARM_UP_CASES), str(args.due_share))
        for target in warm:
            shutil.copyfile(build_warm, target)
        copies = []
        for i in range(args.rounds):
            for side in "ab":
                target = folder / f"round-{i}-{side}-{size}.db"
                shutil.copyfile(base, target)
                copies.append(target)
        figures["prefect"] = run_child(
            "prefect", str(args.batch_size), *map(str, warm), *map(str, copies)
        )
        for target in [*copies, *warm]:
            target.unlink()
        p = figures["prefect"]
        log(
            f"[{size:,}] direct {p['direct_seconds']} s, flow {p['flow_seconds']} s: "
            f"overhead {p['overhead_ratio']:.1%} (empty flow run {p['empty_flow_run_seconds']} s)"
        )
    base.unlink()
    return figures


def verdict(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    by_size = {s["open_cases"]: s for s in sizes}
    met: dict[str, Any] = {}
    if 1_000_000 in by_size:
        met["sweep_1m_within_10_s"] = by_size[1_000_000]["sweep_seconds"] <= 10.0
    met["peak_rss_within_300_mb"] = all(s["peak_rss_mb"] <= 300.0 for s in sizes)
    if len(sizes) > 1:
        low, high = sizes[0]["peak_rss_mb"], sizes[-1]["peak_rss_mb"]
        met["peak_rss_growth_mb"] = round(high - low, 1)
        met["peak_rss_flat"] = high - low <= max(25.0, 0.15 * low)
    with_prefect = [s for s in sizes if "prefect" in s]
    if with_prefect:
        met["prefect_overhead_within_10_percent"] = {
            s["open_cases"]: s["prefect"]["overhead_ratio"] <= 0.10 for s in with_prefect
        }
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="open cases, comma-separated")
    parser.add_argument("--due-share", type=float, default=0.10)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1, help="direct/flow pairs per size")
    parser.add_argument("--no-prefect", action="store_true", help="skip the flow comparison")
    parser.add_argument(
        "--no-time-transitions",
        action="store_true",
        help="sweep with the policy's time-driven transitions switched off (reminders only)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go")
    parser.add_argument("--profile", default=None, help="cProfile the sweep to FILE.<size>")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "build":
            out = build(Path(rest[0]), int(rest[1]), float(rest[2]))
        elif kind == "sweep":
            out = child_sweep(Path(rest[0]), int(rest[1]), rest[2] if len(rest) > 2 else None)
        else:
            paths = [Path(p) for p in rest[1:]]
            out = child_prefect(paths[2:], paths[:2], int(rest[0]))
        print(json.dumps(out))
        return

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-", dir=args.dir))
    started = time.perf_counter()
    if args.no_time_transitions:  # the children read the policy file named here
        policy = folder / "policy.toml"
        text = (ROOT / "notifications" / "policy.toml").read_text(encoding="utf-8")
        policy.write_text(text.replace("enabled = true", "enabled = false"), encoding="utf-8")
        os.environ["PRODUZIR_NOTIFY_POLICY_FILE"] = str(policy)
    try:
        results = [measure(size, folder, args) for size in sizes]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "sizes": results,
                "as_of": NOW.astimezone(UTC).isoformat(),
                "batch_size": args.batch_size,
                "due_share": args.due_share,
                "time_transitions": not args.no_time_transitions,
                "goals": GOALS,
                "met": verdict(results),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "total_seconds": round(time.perf_counter() - started, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
