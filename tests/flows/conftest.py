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
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from notifications.models import OutboxMessage
from states.clock import FixedClock
from states.models import Case
from tasks.runtime import Runtime
from tasks.users import add_user

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


def staff(rt: Runtime, *, coordinator_delivery: str = "immediate") -> None:
    """ana (coordinator, CE), sofia (supervisor, CE), marcos (manager, reads English)."""
    people: list[dict[str, Any]] = [
        {
            "username": "ana",
            "name": "Ana Souza",
            "email": "ana@example.org",
            "role": "coordinator",
            "territories": ["CE"],
            "timezone": "America/Fortaleza",
            "delivery": coordinator_delivery,
        },
        {
            "username": "sofia",
            "name": "Sofia Lima",
            "email": "sofia@example.org",
            "role": "supervisor",
            "territories": ["CE"],
            "timezone": "America/Fortaleza",
            "delivery": "immediate",
        },
        {
            "username": "marcos",
            "name": "Marcos Reis",
            "email": "marcos@example.org",
            "role": "manager",
            "language": "en",
            "delivery": "immediate",
        },
    ]
    for person in people:
        add_user(rt, person, actor="admin")


def at_fortaleza(clock: FixedClock, day: date, hour: int = 9) -> datetime:
    """Set the clock to ``hour``:00 in Fortaleza on ``day``; the instant."""
    clock.set(datetime.combine(day, time(hour), FORTALEZA))
    return clock.now()


def set_due(rt: Runtime, case_id: int, day: date) -> None:
    with rt.db.write() as session:
        session.execute(update(Case).where(Case.id == case_id).values(due_on=day))


def outbox(rt: Runtime) -> list[OutboxMessage]:
    with rt.db.read() as session:
        found = list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())
        session.expunge_all()
        return found
