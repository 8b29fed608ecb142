"""A sharded sweep on one worker and on two: a real Prefect server, process workers, PostgreSQL.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"cases": 20000, "shards": 4, "shards_per_worker": {"scale-a": 2, "scale-b": 2},
     "sweep_1_worker_s": ..., "sweep_2_workers_s": ..., "ratio": ..., "goal_ratio": 0.6,
     "resume_redone_rows": 0, ...}

It uses the harness of the scale test (:mod:`tests.scale.harness`), so it measures what the
test proves:

1. **build** (not timed): a template database with ``--cases`` cases, all due on Thursday
   2026-03-12 (each gets a reminder and escalations), one in a hundred a rejection to archive;
   a Prefect server on a free port of 127.0.0.1 with its own database on PostgreSQL; the
   deployments of ``prefect.yaml`` (``prefect --no-prompt deploy --all``) and the automations.
2. **one worker**: a fresh copy of the template, one worker (``--limit 2``: the sweep's parent
   run holds one slot, so its shards run one at a time), the sweep started from its deployment
   (``sweep-deadlines/daily`` with ``shards``), timed from the flow run's creation to its
   completed state.
3. **two workers**: the same on another fresh copy with two workers (three shards at once).
   ``shards_per_worker`` counts the shard runs each worker started.
4. **resume** (``--no-resume`` leaves it out): two workers again, one killed (SIGKILL, with its
   flow-run processes) while a shard of its is half done; the automations crash and reschedule
   its runs after ``GRACE`` seconds without a heartbeat. ``resume_redone_rows`` is how many
   outbox rows the resumed shards found already written (work done twice; the goal is 0), and
   ``resume_outbox_rows_match`` whether the outbox holds exactly the rows of the two-worker
   sweep.

``ratio`` is ``sweep_2_workers_s / sweep_1_worker_s`` (goal 0.6). On a 2-core machine the two
workers, their flow-run processes, the Prefect server and PostgreSQL share the same two cores,
so the ratio says how much of a shard's time is waiting (on PostgreSQL, on Prefect's API) rather
than computing; ``load_average`` (before and after) says how busy the machine was.

Run: ``.venv/bin/python bench/scale.py [--cases 20000] [--shards 4] [--batch-size 250]
[--no-resume] [--postgres-url URL]`` (default URL: ``PRODUZIR_TEST_POSTGRES_URL`` or the local
service). About five minutes at 20,000 cases on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() not in (HERE, ROOT))]

from tests.scale import harness as h  # noqa: E402

GOAL_RATIO = 0.6
WORKERS = ("scale-a", "scale-b")


def measured(
    stack: h.Stack, url: str, workers: int, shards: int, batch: int, kill: bool = False
) -> tuple[h.SweepOutcome, dict[str, Any]]:
    """One sweep of ``url`` from its deployment with ``workers`` workers (then stopped)."""
    stack.produzir_url = url
    for name in WORKERS[:workers]:
        stack.start_worker(name)
    try:
        outcome = h.run_sweep(stack, shards=shards, batch_size=batch, kill=kill)
    finally:
        for name in WORKERS:
            stack.stop(name)
    if outcome.parent["state_type"] != "COMPLETED":
        raise h.HarnessError(f"the sweep ended {outcome.parent['state_type']}")
    progress = [p for p in h.shard_rows(url) if p.run_key == outcome.parent["id"]]
    report = {
        "seconds": round(outcome.seconds, 1),
        "outbox_rows": len(h.outbox_keys(url)),
        "already_queued": sum(int(p.report["already_queued"]) for p in progress),
        "shards_finished": sum(p.finished for p in progress),
    }
    h.log(f"{workers} worker(s){' with a kill' if kill else ''}: {report}")
    return outcome, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "PRODUZIR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    base = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    result: dict[str, Any] = {"cases": args.cases, "shards": args.shards}
    try:
        with ExitStack() as cleanup:
            pg = args.postgres_url
            template = cleanup.enter_context(h.throwaway_database(pg))
            result["build"] = h.build_portfolio(template, args.cases)
            prefect_db = cleanup.enter_context(h.throwaway_database(pg, prefix="prefect"))
            stack = cleanup.enter_context(h.stack(base, template, prefect_db))
            result["server_start_s"] = round(stack.start_server(), 1)
            started = time.perf_counter()
            stack.deploy()
            result["deploy_s"] = round(time.perf_counter() - started, 1)

            def copy() -> str:
                return cleanup.enter_context(h.throwaway_database(pg, template=template))

            _, one = measured(stack, copy(), 1, args.shards, args.batch_size)
            two_outcome, two = measured(stack, copy(), 2, args.shards, args.batch_size)
            result |= {
                "shards_per_worker": two_outcome.shards_per_worker(),
                "sweep_1_worker_s": one["seconds"],
                "sweep_2_workers_s": two["seconds"],
                "ratio": round(two["seconds"] / one["seconds"], 3),
                "goal_ratio": GOAL_RATIO,
                "outbox_rows": two["outbox_rows"],
            }
            if not args.no_resume:
                killed, resumed = measured(
                    stack, copy(), 2, args.shards, args.batch_size, kill=True
                )
                result |= {
                    "resume_redone_rows": resumed["already_queued"],
                    "resume_outbox_rows_match": resumed["outbox_rows"] == two["outbox_rows"],
                    "resume_seconds": resumed["seconds"],
                    "resume_killed_runs": len(killed.killed_runs),
                    "resume_grace_s": h.GRACE,
                    "resume_shards_per_worker": killed.shards_per_worker(),
                }
    finally:
        shutil.rmtree(base, ignore_errors=True)
    result |= {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
