"""The deployment the scale tests share: built once per module (about two minutes here).

A portfolio of :data:`CASES` cases in a template database, two copies of it (the one the
workers use, and one swept once directly, with no Prefect, for the reference the test compares
against), the Prefect server's own database, the server, the deployments and two workers. The
reference sweep runs while the server starts. Every database is dropped and every process killed
at the end, also when a test fails. PostgreSQL missing: skipped, or failed under ``CI=true``
(the ``postgres_url`` fixture).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests.scale import harness as h

#: Cases in the portfolio (the issue: "about 20,000").
CASES = 20_000
#: Cases per batch of a sweep shard (small enough that a shard commits many batches).
BATCH = 250
WORKERS = ("scale-a", "scale-b")


@dataclass
class Deployed:
    stack: h.Stack
    url: str
    expected_keys: list[str]
    expected_transitions: Counter[tuple[int, str]]
    timings: dict[str, Any]

    def workers_up(self) -> None:
        """Both workers running (a test may have killed one)."""
        for name in WORKERS:
            if name not in self.stack.procs:
                self.stack.start_worker(name)


@pytest.fixture(scope="module")
def deployed(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    base = tmp_path_factory.mktemp("scale")
    with contextlib.ExitStack() as cleanup:
        started = time.perf_counter()
        template = cleanup.enter_context(h.throwaway_database(postgres_url))
        timings: dict[str, Any] = {"build": h.build_portfolio(template, CASES)}
        url = cleanup.enter_context(h.throwaway_database(postgres_url, template=template))
        reference = cleanup.enter_context(h.throwaway_database(postgres_url, template=template))
        prefect_db = cleanup.enter_context(h.throwaway_database(postgres_url, prefix="prefect"))
        stack = cleanup.enter_context(h.stack(base, url, prefect_db))
        with ThreadPoolExecutor(1) as pool:
            expected = pool.submit(h.reference_sweep, reference, BATCH)
            timings["server_start_s"] = round(stack.start_server(), 1)
            stack.deploy()
            for name in WORKERS:
                stack.start_worker(name)
            keys, transitions = expected.result()
        timings["set_up_s"] = round(time.perf_counter() - started, 1)
        h.log(f"deployed: {timings}")
        yield Deployed(stack, url, keys, transitions, timings)
