"""What a hostile caller can do to the web console: a login flood and a huge import.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"login_flood_peak_rss_mb": ..., "login_flood_other_user_p95_ms": ...,
     "login_flood_answers": {"401": ..., "429": ...},
     "import_20k_max_lock_hold_s": ..., "import_20k_seconds": ...,
     "import_20k_concurrent_5xx": ..., "import_20k_concurrent_answers": {...},
     "goals": {...}, "met": {...}, "cpus": ..., "load": [...]}

1. **setup**: a fresh migrated SQLite file in a temporary folder, the demo users (one per
   role, their password) and 60 cases in Quixadá (CE), through the operations.
2. **login flood**: ``produzir web`` is started as its own process (the settings' defaults:
   ``PRODUZIR_LOGIN_CONCURRENCY`` = the cores, the rates per address and per user). For
   ``--flood-seconds`` (20) ``--flood-clients`` (40) threads post wrong passwords to
   ``/login`` as fast as the server answers (each its own form token), while one client with
   an API token reads ``/api/v1/me`` one request after another. Peak RSS is the server's
   ``VmHWM`` (Linux, /proc) at the end; p95 is over the authenticated client's requests.
3. **import**: a 20,000-row participants file imported by the operation in this process
   (:func:`tasks.people.import_participants`, what ``produzir person import`` runs) while 50
   clients post notes (``anotar``) to the cases through the API, one after another each, on the
   same database. Every write transaction of the import is timed (the time the SQLite write
   lock is held: from the moment ``BEGIN IMMEDIATE`` returned to the commit); 5xx answers of the writers are
   counted (503 ``busy`` included: the goal is that nobody is turned away).

Goals (issue 9): peak RSS <= 500 MB, other user's p95 <= 100 ms, lock held <= 1 s at a time,
no 5xx. Run: ``.venv/bin/python bench/hostile.py [--flood-seconds 20] [--rows 20000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
# the project first; not this folder (bench/transitions.py would shadow the library)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

import migrations  # noqa: E402
from console.web import auth  # noqa: E402
from demo.staff import add_demo_users  # noqa: E402
from states.config import load_config  # noqa: E402
from states.db import Database  # noqa: E402
from states.lifecycle import Lifecycle  # noqa: E402
from tasks import people  # noqa: E402
from tasks.demands import DemandInput, register_demand  # noqa: E402
from tasks.runtime import Runtime  # noqa: E402

QUIXADA = 2311306
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def cpf(n: int) -> str:
    base = f"{n:09d}"
    digits = [int(c) for c in base]
    for size in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(size, 1, -1), strict=False))
        digits.append((total * 10 % 11) % 10)
    return "".join(map(str, digits))


def setup(folder: Path, cases: int) -> Runtime:
    db = Database(f"sqlite:///{folder / 'produzir.db'}")
    migrations.upgrade(db.engine)
    rt = Runtime(db, Lifecycle(load_config()))
    add_demo_users(rt)
    for i in range(cases):
        register_demand(
            rt,
            DemandInput.model_validate(
                {
                    "municipality_code": QUIXADA,
                    "community": f"Comunidade {i}",
                    "forum": "Fórum Territorial",
                    "forum_held_on": "2026-01-10",
                    "activity": "apicultura",
                    "proponent": "Associação",
                }
            ),
            actor="ana.coord",
        )
    return rt


@contextmanager
def server(folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "PRODUZIR_DATA_DIR": str(folder),
        "PRODUZIR_WEB_PORT": str(port),
        "PRODUZIR_DATABASE_URL": f"sqlite:///{folder / 'produzir.db'}",
    }
    process = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "produzir"), "web"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def flood(base: str, token: str, seconds: float, clients: int) -> tuple[list[float], Counter[str]]:
    stop = time.monotonic() + seconds
    answers: Counter[str] = Counter()
    lock = threading.Lock()

    def attacker(n: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < stop:
                try:
                    page = client.get("/login")
                    found = _TOKEN.search(page.text)
                    status = client.post(
                        "/login",
                        data={
                            "username": "gil.manager" if n % 2 else f"nobody{n}",
                            "password": "wrong password, again",
                            "csrf_token": found.group(1) if found else "",
                        },
                    ).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    answers[str(status)] += 1

    threads = [threading.Thread(target=attacker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    times: list[float] = []
    with httpx.Client(base_url=base, timeout=30) as me:
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < stop:
            started = time.perf_counter()
            answer = me.get("/api/v1/me", headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
    for thread in threads:
        thread.join()
    return times, answers


def timed_writes(rt: Runtime, holds: list[float]) -> None:
    """Time how long each write transaction of ``rt`` holds SQLite's write lock: from the moment
    ``BEGIN IMMEDIATE`` returned (the lock obtained; listeners run in the order they were
    registered, after the one that begins) to the commit or rollback."""
    started: dict[int, float] = {}

    def begun(connection: Any) -> None:
        if connection.get_execution_options().get("produzir_write"):
            started[id(connection)] = time.perf_counter()

    def ended(connection: Any) -> None:
        begin = started.pop(id(connection), None)
        if begin is not None:
            holds.append(time.perf_counter() - begin)

    event.listen(rt.db.engine, "begin", begun)
    event.listen(rt.db.engine, "commit", ended)
    event.listen(rt.db.engine, "rollback", ended)


def import_under_load(
    rt: Runtime, base: str, token: str, rows: int, cases: int
) -> dict[str, object]:
    text = "cpf,name,community,municipality_code\n" + "".join(
        f"{cpf(100_000 + i)},Pessoa {i},Boa Vista,{QUIXADA}\n" for i in range(rows)
    )
    holds: list[float] = []
    timed_writes(rt, holds)
    answers: Counter[str] = Counter()
    done = threading.Event()
    lock = threading.Lock()

    def writer(n: int) -> None:
        case_id = 2 + n % (cases - 1)
        with httpx.Client(base_url=base, timeout=60) as client:
            headers = {"Authorization": f"Bearer {token}"}
            while not done.is_set():
                version = client.get(f"/api/v1/cases/{case_id}", headers=headers).json()["version"]
                status = client.post(
                    f"/api/v1/cases/{case_id}/advance",
                    json={
                        "event": "anotar",
                        "evidence": {"text": f"nota {n}"},
                        "expected_version": version,
                    },
                    headers=headers,
                ).status_code
                with lock:
                    answers[str(status)] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    started = time.perf_counter()
    report = people.import_participants(rt, text, case_id=1, actor="ana.coord")
    seconds = time.perf_counter() - started
    time.sleep(1)
    done.set()
    for thread in threads:
        thread.join()
    assert report.preregistered == rows
    five = sum(n for status, n in answers.items() if status.startswith("5"))
    return {
        "import_20k_max_lock_hold_s": round(max(holds), 3),
        "import_20k_seconds": round(seconds, 2),
        "import_20k_concurrent_5xx": five,
        "import_20k_concurrent_answers": dict(answers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood-seconds", type=float, default=20)
    parser.add_argument("--flood-clients", type=int, default=40)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="produzir-hostile-"))
    cases = 60
    try:
        log("setting up...")
        rt = setup(folder, cases)
        token = auth.create_token(rt, "ana.coord", "bench").token
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with server(folder, port) as process:
            log(f"login flood: {args.flood_clients} clients for {args.flood_seconds} s...")
            times, flood_answers = flood(base, token, args.flood_seconds, args.flood_clients)
            rss = peak_rss_mb(process.pid)
            log(f"import of {args.rows} rows with 50 writers...")
            imported = import_under_load(rt, base, token, args.rows, cases)
        p95 = statistics.quantiles(times, n=100)[94] if len(times) > 1 else times[0]
        result: dict[str, object] = {
            "login_flood_peak_rss_mb": rss,
            "login_flood_other_user_p95_ms": round(p95, 1),
            "login_flood_other_user_requests": len(times),
            "login_flood_answers": dict(flood_answers),
            **imported,
            "cpus": os.cpu_count(),
            "load": [round(x, 2) for x in os.getloadavg()],
        }
        goals = {
            "login_flood_peak_rss_mb": 500,
            "login_flood_other_user_p95_ms": 100,
            "import_20k_max_lock_hold_s": 1,
            "import_20k_concurrent_5xx": 0,
        }
        result["goals"] = goals
        result["met"] = {k: float(result[k]) <= v for k, v in goals.items()}  # type: ignore[arg-type]
        print(json.dumps(result))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
