"""The database itself refuses to rewrite history, whatever client sends the SQL.

Raw statements go straight through the engine, bypassing every line of Produzir's code: the
triggers of migration 0007 (and the foreign key from audit_events to cases) must refuse them,
and the log must still verify afterwards. The only UPDATE the database allows on an entry is
the sequencer's: setting a leaf index that is still NULL, changing nothing else.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from states.clock import FixedClock
from states.db import Database
from states.lifecycle import Lifecycle
from states.models import AuditVerification
from states.signing import Signer
from tasks.runtime import Runtime
from tests.builders import drive, new_case
from tests.integration.helpers import count_cases, count_events, new_signer, ring, sign, verify


@pytest.fixture
def signer() -> Signer:
    return new_signer()


@pytest.fixture
def history(any_rt: Runtime, clock: FixedClock, signer: Signer) -> Runtime:
    """Two cases with a few events each, a signed checkpoint and a verification."""
    first, second = new_case(any_rt), new_case(any_rt)
    drive(any_rt, clock, first, "mobilizacao")
    drive(any_rt, clock, second, "em_analise")
    sign(any_rt.db, signer)
    with any_rt.db.write() as session:  # a verification that passed, recorded
        session.add(
            AuditVerification(
                checkpoint_id=1, tree_size=1, full=True, verified_at=clock.now(), actor="rui"
            )
        )
    return any_rt


def refused(db: Database, sql: str) -> str:
    """Run ``sql`` in a transaction of its own; the database's refusal message."""
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as connection:
        connection.execute(text(sql))
    return str(caught.value.orig)


def test_update_of_an_audit_event_is_refused(history: Runtime, signer: Signer) -> None:
    db = history.db
    before = count_events(db)
    for sql in (
        "UPDATE audit_events SET entry = replace(entry, 'ana', 'eva') WHERE seq = 2",
        "UPDATE audit_events SET actor = 'mallory'",
        "UPDATE audit_events SET seq = seq + 1000 WHERE seq = 1",
        "UPDATE audit_events SET leaf_index = leaf_index + 1000 WHERE seq = 1",
        "UPDATE audit_events SET leaf_index = NULL WHERE seq = 1",
        "UPDATE audit_tree SET hash = hash WHERE level = 0",
        "UPDATE audit_checkpoints SET tree_size = 0",
        "UPDATE audit_log_state SET tree_size = 0",
    ):
        message = refused(db, sql)
        assert "append-only" in message or "never shrinks" in message, message
    assert count_events(db) == before
    check = verify(db, keyring=ring(signer))
    assert check.ok, check.problem
    assert check.checked == before


def test_delete_of_audit_events_is_refused(history: Runtime, signer: Signer) -> None:
    db = history.db
    before = count_events(db)
    for sql in (
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events",
        "DELETE FROM audit_tree WHERE level = 0",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_verifications",
    ):
        message = refused(db, sql)
        assert "append-only" in message, message
    assert count_events(db) == before
    check = verify(db, keyring=ring(signer))
    assert check.ok, check.problem
    assert check.checked == before


def test_the_tree_state_cannot_be_deleted(history: Runtime, signer: Signer) -> None:
    message = refused(history.db, "DELETE FROM audit_log_state")
    assert "audit_log_state" in message, message
    check = verify(history.db, keyring=ring(signer))
    assert check.ok, check.problem
    assert check.tree_size == count_events(history.db)


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
    for table in (
        "audit_events",
        "audit_tree",
        "audit_log_state",
        "audit_checkpoints",
        "audit_verifications",
    ):
        message = refused(postgres_db, f"TRUNCATE {table} CASCADE")
        assert "is append-only: TRUNCATE refused" in message, message
    # TRUNCATE ... CASCADE from the cases side would take the events with it: refused too.
    message = refused(postgres_db, "TRUNCATE cases CASCADE")
    assert "append-only" in message, message
    assert count_events(postgres_db) == before
    check = verify(postgres_db)
    assert check.ok, check.problem
    assert check.checked == before
