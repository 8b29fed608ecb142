"""How long a person waits for the ``produzir`` command line to answer.

Prints ONE JSON line on stdout (progress goes to stderr)::

    {"rounds": ..., "median_s": {"produzir --help": ..., "produzir --version": ...,
     "produzir case show 1": ..., "produzir case list --json": ...,
     "python -c import sqlalchemy.orm": ...},
     "ratio_to_sqlalchemy_orm": {...}, "goals": {...}, "met": {...},
     "cpus": ..., "load_start": [...], "load_end": [...]}

1. **setup**: a fresh migrated SQLite file in a temporary folder with ``--cases`` (5) cases
   registered through the operations (not timed).
2. **rounds**: each round runs every command once, each in a fresh interpreter (a subprocess,
   as a person's shell starts it: the installed ``produzir`` script of this virtual
   environment), its output thrown away; the order of the commands turns with each round, so
   a burst of load from other work on the machine does not fall on one command only. The
   baseline, ``python -c "import sqlalchemy.orm"``, runs in the same rounds with the same
   interpreter: the floor of any command that reads the database through the ORM; beside it,
   not a goal, ``python -c "import sqlalchemy.orm, typer, typer._adapters"``, the floor of
   any Typer command that does (Typer converts parameters with pydantic). A command that does
   not exit 0 stops the script. The figures are the medians over the rounds (a warm-up round
   first, not counted, so the disk cache holds the files and the bytecode caches are written:
   the children run without ``PYTHONDONTWRITEBYTECODE``, as a person's shell does).

Goals (issue 14): ``produzir --help`` in <= 0.3 s; ``case show`` and ``case list --json``
within 1.5x of the baseline measured in the same run. The load average (``/proc/loadavg``) is
printed at the start and at the end: other work on the machine slows every figure, the
ratios less so. Run: ``.venv/bin/python bench/cli.py [--rounds 15] [--cases 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# the project first; not this folder (bench/transitions.py would shadow the library)
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

BIN = Path(sys.executable).parent
QUIXADA = 2311306
BASELINE = "python -c import sqlalchemy.orm"
#: not a goal: the floor of any Typer command that reads through the ORM (Typer converts the
#: parameters with pydantic), for reading the ratios
FLOOR = "python -c import sqlalchemy.orm, typer, typer._adapters"
HELP_GOAL_S = 0.3
READ_GOAL_RATIO = 1.5


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load() -> list[float]:
    return [float(v) for v in Path("/proc/loadavg").read_text().split()[:3]]


def setup(folder: Path, cases: int) -> None:
    """A migrated SQLite file with ``cases`` registered cases."""
    import migrations
    from states.config import load_config
    from states.db import Database
    from states.lifecycle import Lifecycle
    from tasks.demands import DemandInput, register_demand
    from tasks.runtime import Runtime

    db = Database(f"sqlite:///{folder / 'produzir.db'}")
    migrations.upgrade(db.engine)
    rt = Runtime(db, Lifecycle(load_config()))
    for i in range(cases):
        register_demand(
            rt,
            DemandInput.model_validate(
                {
                    "municipality_code": QUIXADA,
                    "community": f"Comunidade {i}",
                    "forum": "Fórum Territorial do Sertão Central",
                    "forum_held_on": "2026-02-20",
                    "activity": "apicultura",
                    "proponent": "Associação dos Apicultores",
                }
            ),
            actor="ana",
        )
    db.dispose()


def commands() -> dict[str, list[str]]:
    produzir = str(BIN / "produzir")
    return {
        "produzir --help": [produzir, "--help"],
        "produzir --version": [produzir, "--version"],
        "produzir case show 1": [produzir, "case", "show", "1"],
        "produzir case list --json": [produzir, "case", "list", "--json"],
        BASELINE: [sys.executable, "-c", "import sqlalchemy.orm"],
        FLOOR: [sys.executable, "-c", "import sqlalchemy.orm, typer, typer._adapters"],
    }


def run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)  # noqa: S603
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-2000:]}"
        )
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--cases", type=int, default=5)
    args = parser.parse_args()
    load_start = load()
    with tempfile.TemporaryDirectory(prefix="produzir-bench-cli-") as tmp:
        folder = Path(tmp)
        log(f"setup: {args.cases} cases in {folder}")
        setup(folder, args.cases)
        # as a person's shell runs it: no PRODUZIR_* of this shell, bytecode caches written (the
        # warm-up round writes them for this checkout, as an installed package has them)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("PRODUZIR_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        env.update(
            PRODUZIR_DATA_DIR=str(folder),
            PRODUZIR_DATABASE_URL=f"sqlite:///{folder / 'produzir.db'}",
            PRODUZIR_LANG="en",
        )
        named = commands()
        names = list(named)
        times: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.rounds + 1):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                elapsed = run_once(named[name], env)
                if round_:  # the first round warms the disk cache
                    times[name].append(elapsed)
            log(f"round {round_}/{args.rounds}" + (" (warm-up)" if not round_ else ""))
    medians = {name: round(statistics.median(values), 3) for name, values in times.items()}
    floor = medians[BASELINE]
    ratios = {name: round(medians[name] / floor, 2) for name in names if name != BASELINE}
    reads = ("produzir case show 1", "produzir case list --json")
    result: dict[str, Any] = {
        "rounds": args.rounds,
        "median_s": medians,
        "min_s": {name: round(min(values), 3) for name, values in times.items()},
        "ratio_to_sqlalchemy_orm": ratios,
        "goals": {
            "produzir --help": f"<= {HELP_GOAL_S} s",
            **{name: f"<= {READ_GOAL_RATIO}x {BASELINE}" for name in reads},
        },
        "met": {
            "produzir --help": medians["produzir --help"] <= HELP_GOAL_S,
            **{name: ratios[name] <= READ_GOAL_RATIO for name in reads},
        },
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": load(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
