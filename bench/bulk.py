"""An ECC's completion: group commit against one transaction per case, in the same run.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"cases": 50, "group_commit_s": ..., "per_case_s": ..., "speedup": ..., "goal_s": 0.5, ...}

Setup (not timed): a migrated SQLite file (the default settings of :class:`states.db.Database`:
WAL, synchronous FULL, BEGIN IMMEDIATE) with ``--cases`` cases driven to ``capacitacao``
through the operations (40 participants each, imported from a CSV sheet and pre-registered, as
the guard needs), and one ECC of 44 days serving all of them: everyone enrolled, everyone
attending 33 days (75 %; an attendance sheet imported per case), two enterprise groups formed
per case. That file is the template.

Each round copies the template twice and runs ``tasks.trainings.complete_event`` on each copy,
timed (the event marked held, then ``concluir_capacitacao`` on every case it served, its guard
reading the ECC's enrolments and daily attendance and the case's enterprises):

- **group**: as the code does it: every case in its own SAVEPOINT, ``tasks.cases.BATCH`` cases
  to a transaction (``tasks.cases.advance_batch``: one COMMIT, one fsync, for the batch);
- **per_case**: the path before issue 14, one ``tasks.cases.advance`` (one transaction, one
  COMMIT) per case, put in place of ``advance_batch`` for the round.

Both must move every case and leave identical rows (cases, audit entries, the Merkle tree and
its state, outbox, obligations): the script stops otherwise. One warm-up round, then
``--rounds`` rounds in alternating order; the figures are the medians. The goal (issue 14): an
ECC serving 50 cases completes in at most 0.5 s.

Run: ``.venv/bin/python bench/bulk.py [--cases N] [--rounds R] [--dir D] [--profile FILE]``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# as bench/transitions.py: the checkout first, bench/ off the path
sys.path[:] = [str(ROOT), *(p for p in sys.path if p and Path(p).resolve() not in (HERE, ROOT))]

from sqlalchemy import select  # noqa: E402

import migrations  # noqa: E402
import tasks.cases  # noqa: E402
from states.clock import FixedClock  # noqa: E402
from states.config import load_config  # noqa: E402
from states.db import Database  # noqa: E402
from states.lifecycle import Lifecycle  # noqa: E402
from states.records import Person  # noqa: E402
from tasks.enterprises import form_enterprise  # noqa: E402
from tasks.people import import_participants  # noqa: E402
from tasks.runtime import Runtime  # noqa: E402
from tasks.trainings import complete_event, create_event, enrol, import_attendance  # noqa: E402
from tests.builders import (  # noqa: E402
    ENTERPRISES,
    PARTICIPANTS,
    QUIXADA,
    cpf_for,
    drive,
    new_case,
    participants_of,
    today_of,
)
from tests.conftest import START  # noqa: E402

GOAL_S = 0.5
TABLES = (
    ("cases", "id"),
    ("audit_events", "seq"),
    ("audit_tree", "level, idx"),
    ("audit_log_state", "id"),
    ("outbox", "id"),
    ("obligations", "id"),
)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build_template(folder: Path, lifecycle: Lifecycle, count: int) -> tuple[Path, int, Any]:
    """The template file, the ECC's id and the instant the completion runs at (built through
    the operations: the participants and the attendance sheet by their CSV imports)."""
    path = folder / "template.db"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db.engine)
    clock = FixedClock(START)
    rt = Runtime(db, lifecycle, clock)
    ids = []
    for n in range(count):
        case_id = new_case(rt)
        drive(rt, clock, case_id, "mobilizacao")
        rows = [
            f"{cpf_for(case_id * 1000 + i)},Participante {case_id * 1000 + i},"
            f"Assentamento Boa Vista,{QUIXADA}"
            for i in range(PARTICIPANTS)
        ]
        sheet = "cpf,name,community,municipality_code\n" + "\n".join(rows)
        import_participants(rt, sheet, case_id=case_id, actor="ana")
        drive(rt, clock, case_id, "capacitacao")
        ids.append(case_id)
        if (n + 1) % 10 == 0:
            log(f"  {n + 1}/{count} cases in capacitacao")
    clock.advance(timedelta(days=44))
    today = today_of(clock)
    start = today - timedelta(days=43)
    people = {case_id: participants_of(rt, case_id) for case_id in ids}
    event_id = create_event(
        rt,
        {
            "kind": "ecc",
            "title": "ECC Sertão Central",
            "start_on": start.isoformat(),
            "end_on": today.isoformat(),
            "venue": "Escola Municipal José de Alencar",
            "municipality_code": QUIXADA,
            "instructors": ["Maria Souza", "João Lima"],
            "capacity": sum(len(p) for p in people.values()),
            "case_ids": ids,
        },
        actor="ana",
    )
    log("  the ECC: enrolments, 33 of 44 days of attendance each, two enterprise groups a case")
    for members in people.values():
        enrol(rt, event_id, members, actor="ana")
    with db.read() as session:
        cpfs = dict(session.execute(select(Person.id, Person.cpf)).all())
    days = [(start + timedelta(days=d)).isoformat() for d in range(33)]
    for members in people.values():  # one sheet per community, as its instructors keep it
        sheet = "cpf,day\n" + "\n".join(f"{cpfs[p]},{day}" for p in members for day in days)
        import_attendance(rt, event_id, sheet, actor="ana")
    for case_id, members in people.items():
        for name, group in zip(ENTERPRISES, (members[:22], members[22:34]), strict=True):
            form_enterprise(
                rt,
                {
                    "case_id": case_id,
                    "name": name,
                    "activity": "apicultura",
                    "formed_on": today.isoformat(),
                    "formed_at_event_id": event_id,
                    "member_ids": group,
                },
                actor="ana",
            )
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path, event_id, clock.now()


def copy_of(template: Path, folder: Path, name: str) -> Path:
    target = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return target


def one_transaction_per_case(
    rt: Runtime,
    steps: Sequence[tasks.cases.Step],
    *,
    actor: str,
    note: str | None = None,
    request_key: str | None = None,
    batch_size: int | None = None,
) -> list[tasks.cases.Transition | Exception]:
    """The path before the group commit: ``advance`` per case, one transaction each."""
    found: list[tasks.cases.Transition | Exception] = []
    for step in steps:
        try:
            found.append(
                tasks.cases.advance(
                    rt,
                    step.case_id,
                    step.event,
                    step.evidence,
                    actor=actor,
                    note=note,
                    expect_version=step.expect_version,
                    request_key=request_key,
                )
            )
        except Exception as exc:
            found.append(exc)
    return found


def run(path: Path, lifecycle: Lifecycle, event_id: int, at: Any, per_case: bool) -> float:
    db = Database(f"sqlite:///{path}")
    rt = Runtime(db, lifecycle, FixedClock(at))
    real = tasks.cases.advance_batch
    if per_case:
        tasks.cases.advance_batch = one_transaction_per_case
    try:
        started = time.perf_counter()
        report = complete_event(rt, event_id, actor="ana")
        elapsed = time.perf_counter() - started
    finally:
        tasks.cases.advance_batch = real
        db.dispose()
    if report.refused or len(report.moved) != len(report.outcomes):
        raise SystemExit(f"not every case moved: {report.outcomes[:3]}")
    return elapsed


def same_rows(a: Path, b: Path) -> None:
    for table, order in TABLES:
        ca, cb = sqlite3.connect(a), sqlite3.connect(b)
        rows_a = ca.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        rows_b = cb.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
        ca.close()
        cb.close()
        if rows_a != rows_b:
            raise SystemExit(f"the two paths left other {table} rows")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50, help="cases the ECC serves (50)")
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    parser.add_argument("--profile", type=Path, help="also write cProfile stats of a group round")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.rounds < 1:
        parser.error("--cases and --rounds must be positive")
    load_start = os.getloadavg()
    began = time.perf_counter()
    lifecycle = Lifecycle(load_config())
    with tempfile.TemporaryDirectory(prefix="produzir-bulk-", dir=args.dir) as tmp:
        folder = Path(tmp)
        log(f"setting up: {args.cases} cases in capacitacao and their ECC (not timed)")
        template, event_id, at = build_template(folder, lifecycle, args.cases)
        setup = time.perf_counter() - began
        log("warm-up round")
        run(copy_of(template, folder, "group"), lifecycle, event_id, at, per_case=False)
        run(copy_of(template, folder, "per_case"), lifecycle, event_id, at, per_case=True)
        same_rows(folder / "group.db", folder / "per_case.db")
        group_s: list[float] = []
        per_case_s: list[float] = []
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for baseline in order:
                name = "per_case" if baseline else "group"
                seconds = run(copy_of(template, folder, name), lifecycle, event_id, at, baseline)
                (per_case_s if baseline else group_s).append(seconds)
            same_rows(folder / "group.db", folder / "per_case.db")
            log(
                f"round {r + 1}/{args.rounds}: group {group_s[-1]:.3f} s, per case {per_case_s[-1]:.3f} s"
            )
        if args.profile:
            log(f"profiled group round -> {args.profile}")
            profiler = cProfile.Profile()
            target = copy_of(template, folder, "profile")
            profiler.enable()
            run(target, lifecycle, event_id, at, per_case=False)
            profiler.disable()
            profiler.dump_stats(str(args.profile))
    group, per_case = statistics.median(group_s), statistics.median(per_case_s)
    result = {
        "cases": args.cases,
        "group_commit_s": round(group, 3),
        "per_case_s": round(per_case, 3),
        "speedup": round(per_case / group, 2),
        "group_cases_per_s": round(args.cases / group, 1),
        "per_case_cases_per_s": round(args.cases / per_case, 1),
        "goal_s": GOAL_S,
        "meets_goal": group <= GOAL_S,
        "batch": tasks.cases.BATCH,
        "rounds": args.rounds,
        "group_seconds": [round(s, 3) for s in group_s],
        "per_case_seconds": [round(s, 3) for s in per_case_s],
        "setup_seconds": round(setup, 1),
        "cpus": os.cpu_count(),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
