"""Fixtures of the flow tests: ONE Prefect test server for the whole session, and staff.

Prefect keeps its home (profiles, local storage) in a temporary folder set before Prefect is
first imported, never in the user's ``~/.prefect``; :func:`prefect` starts Prefect's test
harness (a temporary server on its own SQLite database) once per session, for the tests that
run flows. Flows run against the test's own database and clock, injected with
:func:`flows.common.injected`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from notifications.models import OutboxMessage
from states.clock import FixedClock
from tasks.runtime import Runtime
from tests.integration.test_sweep import set_due, staff  # noqa: F401 - shared helpers

FORTALEZA = ZoneInfo("America/Fortaleza")
_home: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module imports Prefect: its home in a temporary folder, no telemetry."""
    global _home
    _home = Path(tempfile.mkdtemp(prefix="produzir-prefect-home-"))
    os.environ["PREFECT_HOME"] = str(_home)
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _home is not None:
        shutil.rmtree(_home, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """Prefect's test harness, started once for the session."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, PREFECT_HOME, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    assert _home is not None
    # No heartbeat thread: a flow run would wait up to a second for it to stop (its sleep).
    quick = {PREFECT_HOME: _home, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    with temporary_settings(quick), prefect_test_harness(server_startup_timeout=60):
        yield


def at_fortaleza(clock: FixedClock, day: date, hour: int = 9) -> datetime:
    """Set the clock to ``hour``:00 in Fortaleza on ``day``; the instant."""
    clock.set(datetime.combine(day, time(hour), FORTALEZA))
    return clock.now()


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.read() as session:
        found = list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
        session.expunge_all()
        return found
