"""The database itself refuses to rewrite history, whatever client sends the SQL.

Raw statements go straight through the engine, bypassing every line of Produzir's code: the
triggers of migration 0001 (and the foreign key from audit_events to cases) must refuse them,
and the chain must still verify afterwards.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from states.clock import FixedClock
from states.db import Database
from states.lifecycle import Lifecycle
from tasks.runtime import Runtime
from tests.builders import drive, new_case
from tests.integration.helpers import count_cases, count_events, verify


@pytest.fixture
def history(any_rt: Runtime, clock: FixedClock) -> Runtime:
    """Two cases with a few events each."""
    first, second = new_case(any_rt), new_case(any_rt)
    drive(any_rt, clock, first, "mobilizacao")
    drive(any_rt, clock, second, "em_analise")
    return any_rt


def refused(db: Database, sql: str) -> str:
    """Run ``sql`` in a transaction of its own; the database's refusal message."""
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as connection:
        connection.execute(text(sql))
    return str(caught.value.orig)


def test_update_of_an_audit_event_is_refused(history: Runtime) -> None:
    db = history.db
    before = count_events(db)
    for sql in (
        "UPDATE audit_events SET note = 'rewritten' WHERE seq = 2",
        "UPDATE audit_events SET actor = 'mallory'",
        "UPDATE audit_events SET seq = seq + 1000 WHERE seq = 1",
    ):
        message = refused(db, sql)
        assert "append-only" in message, message
        assert "UPDATE" in message, message
    assert count_events(db) == before
    check = verify(db)
    assert check.ok, check.problem
    assert check.checked == before


def test_delete_of_audit_events_is_refused(history: Runtime) -> None:
    db = history.db
    before = count_events(db)
    for sql in ("DELETE FROM audit_events WHERE seq = 3", "DELETE FROM audit_events"):
        message = refused(db, sql)
        assert "append-only" in message, message
        assert "DELETE" in message, message
    assert count_events(db) == before
    check = verify(db)
    assert check.ok, check.problem
    assert check.checked == before


def test_the_chain_head_cannot_be_deleted(history: Runtime) -> None:
    message = refused(history.db, "DELETE FROM chain_head")
    assert "chain_head" in message, message
    check = verify(history.db)
    assert check.ok, check.problem
    assert check.head_seq == count_events(history.db)


def test_a_case_with_history_cannot_be_deleted(history: Runtime) -> None:
    db = history.db
    cases, events = count_cases(db), count_events(db)
    with pytest.raises(IntegrityError) as caught, db.engine.begin() as connection:
        connection.execute(text("DELETE FROM cases WHERE id = 1"))
    assert "foreign key" in str(caught.value.orig).lower()
    assert (count_cases(db), count_events(db)) == (cases, events)


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(
    postgres_db: Database, lifecycle: Lifecycle, clock: FixedClock
) -> None:
    rt = Runtime(postgres_db, lifecycle, clock)
    drive(rt, clock, new_case(rt), "polo_definido")
    before = count_events(postgres_db)
    for table in ("audit_events", "chain_head"):
        message = refused(postgres_db, f"TRUNCATE {table}")
        assert f"{table} is append-only: TRUNCATE refused" in message, message
    # TRUNCATE ... CASCADE from the cases side would take the events with it: refused too.
    message = refused(postgres_db, "TRUNCATE cases CASCADE")
    assert "append-only" in message, message
    assert count_events(postgres_db) == before
    check = verify(postgres_db)
    assert check.ok, check.problem
    assert check.checked == before
