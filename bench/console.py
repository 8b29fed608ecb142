"""The web console's latency at scale: p50 and p95 of its pages over HTTP on loopback.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"sizes": [{"cases": 100000, "audit_events": ..., "pages": {"board": {"p50_ms": ...,
     "p95_ms": ..., ...}, ...}, "queries": {...}}, ...], "goal_p95_ms": 50, "met": {...}}

For each size (``--sizes``, cases):

1. **build** (not timed as a page): a fresh migrated SQLite file, the demo users added through
   the operation (:func:`demo.staff.add_demo_users`), then the cases and their audit events
   written with plain SQL inserts in one transaction — going through the operations would take
   hours at a million. Cases are spread over all 5,570 municipalities (from migration 0002) and
   over every state (mostly the active ones; about 10 % past their deadline); each has 5 audit
   events (its registration, the first moves along the main path, notes when the path is
   shorter), numbered so that a case's events lie far apart in the table, as they do when many
   cases move at once. The events are not a valid hash chain (their hashes are unique
   placeholders): nothing measured here verifies the chain. The indexes of the migrations are
   dropped during the load and created again after it, then ``ANALYZE``.
2. **serve**: :func:`console.web.app.create_app` on that file, on a fixed clock (Thursday
   2026-03-12, 13:00 UTC), served by uvicorn in a thread of this process on 127.0.0.1 (given a
   host and a port, as ``produzir web`` does; a port the system picks; no access log).
3. **measure**: one ``httpx`` client per user, logged in once through the login form (the
   session cookie is reused), over one kept-alive connection; for each page a few warm-up
   requests, then ``--requests`` timed requests one after another (the time until the whole
   body is read). Case pages are drawn at random from the cases the user may see.

   - ``board``: ``/`` as ana.coord (CE, PE), 50 rows. The counts per state are kept between
     requests while the audit chain does not move
     (:data:`console.web.pages_queries.FIGURES`): this is the board when nobody writes.
   - ``board_uncached``: the same, with that cache emptied before every request (outside the
     timed window): the board right after any change, which is what a busy day looks like.
   - ``case``: ``/cases/{id}`` as ana.coord: the summary, deadline, records, 50 newest events of
     the history, and the forms of the allowed actions.
   - ``history``: ``/audit/cases/{id}`` as rui.auditor (the audit pages are for auditors,
     managers and administrators; a coordinator gets 403): the case's full history with its
     filters. Any case of the country.
   - ``--extra`` adds the board as gil.manager (every case of the country: no territory), the
     coordinator's board's other common views (overdue only, by deadline, a search by name),
     all with the counts uncached, and ``/due``.

4. **queries**: ``--explain N`` more requests per page with their SQL statements logged, then
   each statement run again on its own connection to its last row, timed, with its query plan:
   a page's SQL time per request and its slowest statements, so a slow page names its query
   (the rest of a page's time is Python: the ORM, the template).

Goal (issue 5): p95 <= 50 ms for the board, a case page and a history page at 1M cases.

Run: ``.venv/bin/python bench/console.py [--sizes 100000,1000000] [--requests N] [--extra]
[--explain N] [--dir D] [--keep]``. The default (100k and 1M, 200 requests a page) takes about
three minutes, one of them building the million cases (2.4 GB of disk, in a temporary folder
removed at the end unless ``--keep``); ``--extra`` adds half a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() not in (HERE, ROOT))]

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import event  # noqa: E402

from states import merkle  # noqa: E402

NOW = datetime(2026, 3, 12, 13, 0, tzinfo=UTC)
TODAY = date(2026, 3, 12)
GOAL_P95_MS = 50.0
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway database
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
EVENTS_PER_CASE = 5
COORDINATOR, AUDITOR, MANAGER = "ana.coord", "rui.auditor", "gil.manager"
#: (state, weight): where the cases are; mostly in progress
STATE_WEIGHTS = (
    ("registrada", 6),
    ("em_analise", 8),
    ("polo_definido", 8),
    ("mobilizacao", 10),
    ("capacitacao", 10),
    ("gestao", 10),
    ("legalizacao", 10),
    ("acompanhamento", 12),
    ("avaliacao", 6),
    ("concluida", 8),
    ("suspensa", 3),
    ("indeferida", 3),
    ("cancelada", 3),
    ("arquivada", 3),
)
MAIN_PATH = (
    ("iniciar_analise", "registrada", "em_analise"),
    ("aprovar_elegibilidade", "em_analise", "polo_definido"),
    ("formalizar_polo", "polo_definido", "mobilizacao"),
    ("concluir_mobilizacao", "mobilizacao", "capacitacao"),
)
CLOSED = frozenset({"concluida", "cancelada", "arquivada", "indeferida"})
ACTIVITIES = ("apicultura", "caprinocultura", "artesanato", "piscicultura", "fruticultura")
_HIDDEN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------ build


def runtime_for(path: Path) -> Any:
    from states.clock import FixedClock
    from states.config import load_config
    from states.db import Database
    from states.lifecycle import Lifecycle
    from tasks.runtime import Runtime

    return Runtime(Database(f"sqlite:///{path}"), Lifecycle(load_config()), FixedClock(NOW))


def build(path: Path, cases: int, seed: int = 2026) -> dict[str, Any]:
    """A migrated SQLite file with the demo users, ``cases`` cases and their audit events."""
    import migrations
    from demo.staff import add_demo_users

    started = time.perf_counter()
    rt = runtime_for(path)
    migrations.upgrade(rt.db.engine)
    add_demo_users(rt, password=PASSWORD)
    version = rt.lifecycle.version
    rt.db.dispose()

    rng = random.Random(seed)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA cache_size = -400000")
    munis = connection.execute("SELECT ibge_code, uf FROM municipalities").fetchall()
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " AND tbl_name IN ('cases', 'audit_events')"
    ).fetchall()
    connection.execute("BEGIN")
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    states, weights = zip(*STATE_WEIGHTS, strict=True)
    plans: list[tuple[int, str, str]] = []  # (case id, state, registered stamp)
    rows: list[tuple[Any, ...]] = []
    overdue = 0
    for case_id in range(1, cases + 1):
        code, uf = munis[rng.randrange(len(munis))]
        state = rng.choices(states, weights)[0]
        registered = NOW - timedelta(days=rng.randint(30, 900), minutes=rng.randint(0, 1440))
        stamp = registered.strftime("%Y-%m-%d %H:%M:%S.%f")
        entered = TODAY - timedelta(days=rng.randint(1, 120))
        due_on: date | None = None
        if state not in CLOSED and state != "suspensa":
            late = rng.random() < 0.10
            overdue += late
            due_on = TODAY + timedelta(days=-rng.randint(1, 60) if late else rng.randint(0, 120))
        coordinator = COORDINATOR if uf in ("CE", "PE") else f"coord.{uf.lower()}"
        rows.append(
            (
                case_id,
                EVENTS_PER_CASE,
                version,
                state,
                code,
                f"Comunidade {case_id}",
                f"Fórum territorial {case_id % 97}",
                (registered.date() - timedelta(days=10)).isoformat(),
                ACTIVITIES[case_id % len(ACTIVITIES)],
                f"Associação {case_id}",
                coordinator,
                stamp,
                "bench",
                entered.isoformat(),
                due_on.isoformat() if due_on else None,
                0,
                stamp,
                "bench",
            )
        )
        plans.append((case_id, state, stamp))
        if len(rows) == 50_000:
            _insert_cases(connection, rows)
            rows.clear()
    _insert_cases(connection, rows)
    events = _insert_events(connection, plans, version)
    for _, sql in indexes:
        connection.execute(sql)
    connection.execute("COMMIT")
    connection.execute("ANALYZE")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return {
        "cases": cases,
        "audit_events": events,
        "overdue_by_construction": overdue,
        "build_seconds": round(time.perf_counter() - started, 1),
        "file_mb": round(path.stat().st_size / 1e6, 1),
    }


def _insert_cases(connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    connection.executemany(
        "INSERT INTO cases (id, version, lifecycle_version, state, municipality_code, community,"
        " forum, forum_held_on, activity, proponent, coordinator, registered_at, registered_by,"
        " entered_on, due_on, extensions_used, updated_at, updated_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _insert_events(
    connection: sqlite3.Connection, plans: list[tuple[int, str, str]], version: str
) -> int:
    """Five events per case, round by round (every case's first, then every case's second...),
    so that a case's history is spread over the table."""
    registration: dict[str, Any] = {
        "activity": "apicultura",
        "community": "Comunidade",
        "forum": "Fórum territorial",
    }
    note: dict[str, Any] = {"text": "Visita técnica realizada com a associação."}
    seq = connection.execute("SELECT coalesce(max(seq), 0) FROM audit_events").fetchone()[0]
    size, blob = connection.execute(
        "SELECT tree_size, frontier FROM audit_log_state WHERE id = 1"
    ).fetchone()
    frontier = merkle.Frontier.from_bytes(size, blob)
    first = seq
    batch: list[tuple[Any, ...]] = []
    for round_ in range(EVENTS_PER_CASE):
        for case_id, state, stamp in plans:
            seq += 1
            if round_ == 0:
                name, source, target, evidence = "registrar", None, "registrada", registration
            elif round_ <= len(MAIN_PATH) and _reaches(state, round_):
                name, source, target = MAIN_PATH[round_ - 1]
                evidence = {}
            else:
                name, source, target, evidence = "anotar", state, state, note
            changes = {"state": target} if source != target else {}
            actor = COORDINATOR if round_ else "bench"
            # the entry in its canonical form: for these values (text, whole numbers, null,
            # objects) sorted keys without spaces is exactly RFC 8785
            entry = json.dumps(
                {
                    "v": 1,
                    "seq": seq,
                    "case_id": case_id,
                    "case_version": round_ + 1,
                    "record_type": None,
                    "record_id": None,
                    "lifecycle_version": version,
                    "event": name,
                    "from_state": source,
                    "to_state": target,
                    "actor": actor,
                    "channel": "system",
                    "os_user": None,
                    "note": None,
                    "evidence": evidence,
                    "changes": changes,
                    "occurred_at": stamp.replace(" ", "T") + "Z",
                },
                sort_keys=True,
                separators=(",", ":"),
                ensure_ascii=False,
            )
            # the tree's state follows the entries (its nodes are not stored: this database is
            # for the console's reads, not for proofs)
            index = frontier.size
            frontier.append(merkle.leaf_hash(entry.encode("utf-8")))
            row = (seq, case_id, round_ + 1, version, name, source, target, actor, "system")
            batch.append((*row, stamp, entry, index))
            if len(batch) == 100_000:
                _flush_events(connection, batch)
                batch.clear()
    _flush_events(connection, batch)
    connection.execute(
        "UPDATE audit_log_state SET tree_size = ?, frontier = ?, root_hash = ? WHERE id = 1",
        (frontier.size, frontier.to_bytes(), frontier.root().hex()),
    )
    return int(seq - first)


_ORDER = [s for _, s, _ in MAIN_PATH] + [MAIN_PATH[-1][2]]


def _reaches(state: str, step: int) -> bool:
    """Whether a case now in ``state`` took the main path's ``step``-th move."""
    if state in _ORDER:
        return _ORDER.index(state) >= step
    return state not in ("registrada", "suspensa", "cancelada")  # further along, or closed later


def _flush_events(connection: sqlite3.Connection, batch: list[tuple[Any, ...]]) -> None:
    connection.executemany(
        "INSERT INTO audit_events (seq, case_id, case_version, lifecycle_version, event,"
        " from_state, to_state, actor, channel, occurred_at, entry, leaf_index)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )


# ------------------------------------------------------------------------------ serve


@contextmanager
def serving(path: Path) -> Iterator[tuple[str, Any]]:
    """The console on ``path`` served by uvicorn in a thread; its URL and runtime."""
    from console.web.app import create_app
    from console.web.settings import WebSettings

    rt = runtime_for(path)
    settings = WebSettings(env="test", secret_key=SECRET)
    app = create_app(rt, settings)
    # host and port, as `produzir web` gives them (uvicorn.run): asyncio then sets TCP_NODELAY
    # on each connection. (A socket made by hand and passed as `sockets=` has proto 0, asyncio
    # leaves Nagle on, and every answer waits ~40 ms for the client's delayed ACK.)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        server_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("the console did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", rt
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        rt.db.dispose()


def logged_in(url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=60)
    form = client.get("/login")
    form.raise_for_status()
    token = _HIDDEN_CSRF.search(form.text[form.text.index('action="/login') :])
    if token is None:
        raise SystemExit("no CSRF token on the login form")
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code != 303:
        raise SystemExit(f"login of {username} failed: {answer.status_code}")
    return client


# ------------------------------------------------------------------------------ measure


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(
    client: httpx.Client, paths: Callable[[int], str], n: int, before: Callable[[], None]
) -> dict[str, Any]:
    times, sizes = [], []
    for i in range(n):
        before()
        path = paths(i)
        started = time.perf_counter()
        answer = client.get(path)
        body = answer.content
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise SystemExit(f"GET {path}: {answer.status_code} {answer.text[:300]}")
        times.append(elapsed * 1000)
        sizes.append(len(body))
    return {
        "requests": n,
        "p50_ms": round(percentile(times, 0.50), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "mean_ms": round(statistics.fmean(times), 1),
        "kb": round(statistics.fmean(sizes) / 1024, 1),
    }


class StatementLog:
    """The SQL statements pages run (while attached to an engine), then each one timed again on
    its own connection, to the last row, with its query plan.

    SQLAlchemy's cursor events would time only ``execute``; SQLite computes a streaming query's
    rows while they are fetched, so that would miss most of a scan. Re-running each statement
    (with the parameters of its first call, on the warm file) measures what it costs.
    """

    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.first: dict[str, tuple[str, Any]] = {}

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        key = " ".join(statement.split())
        self.calls[key] += 1
        self.first.setdefault(key, (statement, parameters))

    @contextmanager
    def on(self, engine: Any) -> Iterator[StatementLog]:
        event.listen(engine, "before_cursor_execute", self.before)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self.before)

    def report(self, path: Path, requests: int, top: int = 4) -> dict[str, Any]:
        timed: list[dict[str, Any]] = []
        with sqlite3.connect(path) as connection:
            for key, calls in self.calls.items():
                statement, parameters = self.first[key]
                if not key.upper().startswith(("SELECT", "WITH")):
                    continue
                runs = []
                for _ in range(3):
                    started = time.perf_counter()
                    connection.execute(statement, parameters).fetchall()
                    runs.append(time.perf_counter() - started)
                plan = connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                each = statistics.median(runs) * 1000
                timed.append(
                    {
                        "ms_per_request": round(each * calls / requests, 2),
                        "ms_per_call": round(each, 2),
                        "calls_per_request": round(calls / requests, 1),
                        "plan": [row[3] for row in plan],
                        "sql": key[:400],
                    }
                )
        timed.sort(key=lambda q: -q["ms_per_request"])
        return {
            "sql_ms_per_request": round(sum(q["ms_per_request"] for q in timed), 1),
            "slowest": timed[:top],
        }


def measure(size: int, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    from console.web.pages_queries import FIGURES

    path = folder / f"console-{size}.db"
    log(f"[{size:,}] building {size:,} cases and {size * EVENTS_PER_CASE:,} audit events...")
    figures = build(path, size)
    log(f"[{size:,}] built in {figures['build_seconds']} s ({figures['file_mb']} MB)")

    rng = random.Random(size)
    with sqlite3.connect(path) as connection:
        mine = [
            r[0]
            for r in connection.execute(
                "SELECT c.id FROM cases c JOIN municipalities m ON m.ibge_code = c.municipality_code"
                " WHERE m.uf IN ('CE', 'PE')"
            )
        ]
        total = connection.execute("SELECT count(*) FROM cases").fetchone()[0]
    figures["cases_in_coordinator_territory"] = len(mine)
    n, warm = args.requests, args.warmup
    case_ids = [rng.choice(mine) for _ in range(n + warm + args.explain + 1)]
    any_ids = [rng.randint(1, total) for _ in range(n + warm + args.explain + 1)]

    def keep() -> None:
        return None

    clear = FIGURES.clear
    pages: dict[str, tuple[str, Callable[[int], str], Callable[[], None]]] = {
        "board": (COORDINATOR, lambda i: "/", keep),
        "board_uncached": (COORDINATOR, lambda i: "/", clear),
        "case": (COORDINATOR, lambda i: f"/cases/{case_ids[i]}", keep),
        "history": (AUDITOR, lambda i: f"/audit/cases/{any_ids[i]}", keep),
    }
    if args.extra:
        pages |= {
            "board_everyone_uncached": (MANAGER, lambda i: "/", clear),
            "board_overdue": (COORDINATOR, lambda i: "/?overdue=true", clear),
            "board_by_deadline": (COORDINATOR, lambda i: "/?order=due", clear),
            "board_search": (COORDINATOR, lambda i: f"/?q=Comunidade+{case_ids[i]}", clear),
            "due": (COORDINATOR, lambda i: "/due", keep),
        }
    results: dict[str, Any] = {}
    queries: dict[str, Any] = {}
    with serving(path) as (url, rt):
        clients = {u: logged_in(url, u) for u in {user for user, _, _ in pages.values()}}
        try:
            for name, (user, paths, before) in pages.items():
                client = clients[user]
                first_started = time.perf_counter()
                FIGURES.clear()
                client.get(paths(n + warm)).raise_for_status()
                first_ms = (time.perf_counter() - first_started) * 1000
                for i in range(warm):
                    client.get(paths(n + i)).raise_for_status()
                results[name] = {"first_ms": round(first_ms, 1), **timed(client, paths, n, before)}
                log(
                    f"[{size:,}] {name:24} p50 {results[name]['p50_ms']:7.1f} ms   "
                    f"p95 {results[name]['p95_ms']:7.1f} ms   (first {first_ms:.0f} ms)"
                )
                if args.explain:
                    with StatementLog().on(rt.db.engine) as statements:
                        for i in range(args.explain):
                            before()
                            client.get(paths(n + warm + i)).raise_for_status()
                    queries[name] = statements.report(path, args.explain)
        finally:
            for client in clients.values():
                client.close()
    if not args.keep:
        path.unlink()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {**figures, "pages": results, **({"queries": queries} if queries else {})}


def verdict(sizes: list[dict[str, Any]]) -> dict[str, Any]:
    largest = max(sizes, key=lambda s: s["cases"])
    return {
        "at_cases": largest["cases"],
        **{
            f"{name}_p95_within_{GOAL_P95_MS:g}_ms": page["p95_ms"] <= GOAL_P95_MS
            for name, page in largest["pages"].items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="cases, comma-separated")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page")
    parser.add_argument("--explain", type=int, default=20, help="requests with SQL timed")
    parser.add_argument("--extra", action="store_true", help="the board's other views, /due")
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args()

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    folder = Path(tempfile.mkdtemp(prefix="bench-console-", dir=args.dir))
    started = time.perf_counter()
    try:
        results = [measure(size, folder, args) for size in sizes]
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            log(f"databases kept in {folder}")
    print(
        json.dumps(
            {
                "sizes": results,
                "goal_p95_ms": GOAL_P95_MS,
                "met": verdict(results),
                "requests_per_page": args.requests,
                "as_of": NOW.isoformat(),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "total_seconds": round(time.perf_counter() - started, 1),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
