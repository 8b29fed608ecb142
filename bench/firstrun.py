"""The first run (issue 14): how long a fresh clone waits, and how much memory ``make run`` holds.

Prints ONE JSON line on stdout (progress goes to stderr):

- ``demo_load_s`` / ``demo_load_cpu_s``: the demo portfolio (``--cases``, default 200) loaded
  by :func:`demo.load_demo` into a fresh, migrated SQLite database, in a process of its own
  (wall clock, and its CPU time: on a shared machine the CPU time says more);
- with ``--baseline``, ``demo_load_old_s`` / ``demo_load_old_cpu_s`` and ``ratio`` (old / new,
  wall and CPU): the same load the way it was before issue 14, in the same run: every commit
  synced (``PRODUZIR_DEMO_SQLITE_SYNCHRONOUS=FULL``) and one argon2 hash per demo user;
- ``first_answer_s``: ``produzir run`` started on a fresh data folder (migrate, demo, first
  sweep, Prefect server, flows, web console) until the web console answers HTTP;
- ``rss_mb`` / ``pss_mb``: the resident memory of ``produzir run``'s whole process tree
  (every process it started, and theirs), summed from /proc, once the console answers and the
  flows have had ``--settle`` seconds to start (the highest of the samples taken meanwhile);
  RSS counts shared pages once per process, PSS shares them out; ``rss_by_process`` names
  each;
- ``baseline_run`` with ``--baseline-tree DIR``: the same for ``produzir run`` from another
  source tree (``git archive main | tar -x -C DIR``), in the same run;
- ``install_s`` with ``--install``: a fresh virtual environment with the project installed as
  ``make`` does (``python -m venv`` + ``pip install -e '.[dev]'``; needs the network or a pip
  cache);
- ``load``: ``os.getloadavg()`` at the start and at the end (quote it with the figures).

Goals (issue 14): ``first_answer_s`` ≤ 90 on a 2-core machine, ``demo_load_s`` ≤ 15,
``rss_mb`` ≤ 500.

    .venv/bin/python bench/firstrun.py                      # ~2-3 min on an idle machine
    .venv/bin/python bench/firstrun.py --baseline --cases 50
    .venv/bin/python bench/firstrun.py --no-run             # only the demo load
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"first_answer_s": 90, "demo_load_s": 15, "rss_mb": 500}


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the demo load, in a child process --------------------------------------------------------


def child_load(data_dir: str, cases: int, old: bool) -> None:
    """(In the child.) Migrate a fresh database, load the demo; print wall and CPU seconds."""
    os.environ["PRODUZIR_DATA_DIR"] = data_dir
    if old:
        os.environ["PRODUZIR_DEMO_SQLITE_SYNCHRONOUS"] = "FULL"
    # bench/console.py and bench/transitions.py are not the packages of those names
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != here]
    import migrations
    from console.common import runtime

    rt = runtime(migrated=False)
    migrations.upgrade(rt.db.engine)
    import demo.staff
    from demo import load_demo

    if old:  # one argon2 hash per user, as before
        demo.staff._hashed = demo.staff.hash_password  # type: ignore[assignment,attr-defined]
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    load_demo(rt, cases=cases)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(json.dumps({"wall": round(wall, 2), "cpu": round(cpu, 2)}))


def demo_load(base: Path, cases: int, *, old: bool) -> dict[str, float]:
    data_dir = base / ("demo-old" if old else "demo")
    argv = [sys.executable, __file__, "--child-load", str(data_dir), "--cases", str(cases)]
    done = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [*argv, *(["--old"] if old else [])],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- produzir run -----------------------------------------------------------------------------


def _tree(root: int) -> list[int]:
    """``root`` and every process under it (from /proc: each process's parent)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += parents.get(pid, [])
    return found


def _memory(pid: int) -> tuple[str, int, int]:
    """A process's command (short), its RSS and PSS in KiB (0 when gone)."""
    base = Path(f"/proc/{pid}")
    try:
        cmd = base.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
        status = base.joinpath("status").read_text()
        rss = next(int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return "", 0, 0
    pss = 0
    try:
        rollup = base.joinpath("smaps_rollup").read_text()
        pss = next(int(ln.split()[1]) for ln in rollup.splitlines() if ln.startswith("Pss:"))
    except (OSError, StopIteration):
        pss = rss
    return cmd, rss, pss


def sample(root: int) -> dict[str, Any]:
    rows = [(pid, *_memory(pid)) for pid in _tree(root)]
    return {
        "rss_mb": round(sum(r[2] for r in rows) / 1024, 1),
        "pss_mb": round(sum(r[3] for r in rows) / 1024, 1),
        "rss_by_process": {f"{pid} {cmd}": round(rss / 1024, 1) for pid, cmd, rss, _ in rows},
    }


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (http://127.0.0.1)
            return True
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except (urllib.error.URLError, OSError):
        return False


def first_run(
    base: Path, cases: int, settle: float, timeout: float, tree: Path | None = None
) -> dict[str, Any]:
    """``produzir run`` on a fresh data folder: seconds to the console's first answer, memory.
    With ``tree``, the code of that source tree (``git archive main | tar -x -C DIR``) runs
    instead of this one, with the same interpreter and packages (``PYTHONPATH``)."""
    data_dir = base / ("run-old" if tree else "run")
    web_port, prefect_port = free_port(), free_port()
    env = dict(
        os.environ,
        PRODUZIR_DATA_DIR=str(data_dir),
        PRODUZIR_MAILBOX_DIR=str(data_dir / "mailbox"),
        PRODUZIR_WEB_PORT=str(web_port),
        PRODUZIR_PREFECT_PORT=str(prefect_port),
    )
    env.pop("PRODUZIR_DATABASE_URL", None)
    if tree is not None:
        env["PYTHONPATH"] = str(tree.resolve())
    produzir = Path(sys.executable).parent / "produzir"
    url = f"http://127.0.0.1:{web_port}/"
    out = (base / f"{data_dir.name}.log").open("wb")
    start = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603  (our own command)
        [str(produzir), "run", "--cases", str(cases)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=tree or ROOT,
    )
    result: dict[str, Any] = {}
    try:
        while not answers(url):
            if process.poll() is not None:
                raise SystemExit(f"produzir run exited with {process.returncode}: see {out.name}")
            if time.perf_counter() - start > timeout:
                raise SystemExit(f"the web console did not answer within {timeout:.0f} s")
            time.sleep(0.25)
        result["first_answer_s"] = round(time.perf_counter() - start, 1)
        log(f"web console answered after {result['first_answer_s']} s; memory for {settle} s")
        best = sample(process.pid)
        until = time.perf_counter() + settle
        while time.perf_counter() < until:
            time.sleep(2)
            now = sample(process.pid)
            if now["rss_mb"] > best["rss_mb"]:
                best = now
        result.update(best)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        out.close()
    return result


def install(base: Path) -> float:
    venv = base / "venv"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)  # noqa: S603
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)  # noqa: S603
    return round(time.perf_counter() - start, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--baseline", action="store_true", help="also the old demo load")
    parser.add_argument("--no-run", action="store_true", help="skip produzir run")
    parser.add_argument("--install", action="store_true", help="time a fresh venv too")
    parser.add_argument("--settle", type=float, default=30.0, help="seconds of memory samples")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary files go")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="also produzir run from this source tree (e.g. main), in the same run",
    )
    parser.add_argument("--child-load", help=argparse.SUPPRESS)
    parser.add_argument("--old", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load:
        child_load(args.child_load, args.cases, args.old)
        return
    figures: dict[str, Any] = {"cases": args.cases, "load": [list(os.getloadavg())]}
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="firstrun-") as tmp:
        base = Path(tmp)
        if args.install:
            log("installing a fresh venv...")
            figures["install_s"] = install(base)
        log(f"loading the demo ({args.cases} cases)...")
        new = demo_load(base, args.cases, old=False)
        figures.update(demo_load_s=new["wall"], demo_load_cpu_s=new["cpu"])
        if args.baseline:
            log("loading the demo the old way (FULL sync, a hash per user)...")
            old = demo_load(base, args.cases, old=True)
            figures.update(demo_load_old_s=old["wall"], demo_load_old_cpu_s=old["cpu"])
            figures["ratio"] = {
                "wall": round(old["wall"] / max(new["wall"], 1e-9), 2),
                "cpu": round(old["cpu"] / max(new["cpu"], 1e-9), 2),
            }
        if not args.no_run:
            log("produzir run on a fresh data folder...")
            figures.update(first_run(base, args.cases, args.settle, args.timeout))
            if args.baseline_tree:
                log(f"produzir run from {args.baseline_tree}, on a fresh data folder...")
                old_run = first_run(
                    base, args.cases, args.settle, args.timeout, tree=args.baseline_tree
                )
                figures["baseline_run"] = old_run
    figures["load"].append(list(os.getloadavg()))
    figures["goals"] = GOALS
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
