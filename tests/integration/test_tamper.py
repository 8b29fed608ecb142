"""An attacker with DBA rights disables the append-only triggers and edits history by hand.

The hash chain is the second line of defence: :func:`states.audit.verify` must name the first
sequence number that no longer holds, and say how it broke (changed, missing, reordered, or a
broken link after a row was rewritten with a freshly computed hash). Events of programme
records (a person registered, pre-registered in a case) are links of the same chain.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from states.audit import row_hash
from states.clock import FixedClock
from states.db import Database
from states.models import AuditEvent
from tasks.people import preregister, register_person
from tasks.runtime import Runtime
from tests.builders import QUIXADA, cpf_for, drive, new_case
from tests.integration.helpers import count_events, verify


def sql(db: Database, *statements: str, **params: object) -> None:
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def disable_guards(db: Database) -> None:
    """What a DBA could do: switch off the triggers that keep audit_events append-only."""
    if db.is_postgresql:
        sql(db, "ALTER TABLE audit_events DISABLE TRIGGER USER")
    else:
        sql(db, "DROP TRIGGER audit_events_no_update", "DROP TRIGGER audit_events_no_delete")


@pytest.fixture
def db(any_rt: Runtime, clock: FixedClock) -> Database:
    """Three cases with history (9 events), then a person registered (seq 10, no case) and
    pre-registered in the first case (seq 11); the append-only triggers switched off."""
    cases = [new_case(any_rt) for _ in range(3)]
    for case_id, target in zip(cases, ("mobilizacao", "em_analise", "polo_definido"), strict=True):
        drive(any_rt, clock, case_id, target)
    assert count_events(any_rt.db) == 9
    person = register_person(
        any_rt,
        {
            "cpf": cpf_for(1),
            "name": "Maria das Dores",
            "community": "Assentamento Boa Vista",
            "municipality_code": QUIXADA,
        },
        actor="ana",
    )
    preregister(any_rt, cases[0], person.person_id, actor="ana")
    assert count_events(any_rt.db) == 11
    disable_guards(any_rt.db)
    return any_rt.db


def test_an_untampered_chain_verifies(db: Database) -> None:
    check = verify(db)
    assert check.ok, check.problem
    assert check.checked == check.head_seq == count_events(db) == 11


@pytest.mark.parametrize(
    ("column", "forged"),
    [("note", "nada a declarar"), ("actor", "mallory"), ("evidence", '{"text":"forjado"}')],
)
def test_a_changed_row_is_named(db: Database, column: str, forged: str) -> None:
    sql(db, f"UPDATE audit_events SET {column} = :forged WHERE seq = 4", forged=forged)
    problem = verify(db).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (4, "changed"), problem
    assert "seq 4" in problem.detail


@pytest.mark.parametrize(
    ("seq", "column", "forged"),
    [
        (10, "record_id", "999"),
        (10, "record_type", "'event'"),
        (11, "case_id", "2"),
        (11, "record_id", "NULL"),
    ],
)
def test_a_changed_record_event_is_named(db: Database, seq: int, column: str, forged: str) -> None:
    with db.read() as session:
        row = session.get(AuditEvent, seq)
        assert row is not None
        assert (row.record_type, row.event) == (
            "person",
            {10: "pessoa_registrada", 11: "participante_pre_inscrito"}[seq],
        )
    sql(db, f"UPDATE audit_events SET {column} = {forged} WHERE seq = {seq}")
    problem = verify(db).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (seq, "changed"), problem


def test_a_deleted_middle_row_is_named(db: Database) -> None:
    sql(db, "DELETE FROM audit_events WHERE seq = 5")
    check = verify(db)
    assert check.problem is not None
    assert (check.problem.seq, check.problem.kind) == (5, "missing"), check.problem
    assert check.checked == 4


def test_a_deleted_newest_row_is_named_by_the_chain_head(db: Database) -> None:
    sql(db, "DELETE FROM audit_events WHERE seq = 11")
    check = verify(db)
    assert check.head_seq == 11
    assert check.problem is not None
    assert (check.problem.seq, check.problem.kind) == (11, "missing"), check.problem
    assert check.checked == 10


def test_two_swapped_rows_are_named_as_reordered(db: Database) -> None:
    sql(
        db,
        "UPDATE audit_events SET seq = -3 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = 6",
        "UPDATE audit_events SET seq = 6 WHERE seq = -3",
    )
    problem = verify(db).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (3, "reordered"), problem
    assert "recorded as seq 6" in problem.detail


def _rewrite_with_fresh_hash(db: Database, seq: int, note: str) -> None:
    """Change a row's note and recompute its hash, as someone who read audit.py would."""
    with db.read() as session:
        row = session.get(AuditEvent, seq)
        assert row is not None
        forged = row_hash(
            seq=row.seq,
            case_id=row.case_id,
            case_version=row.case_version,
            record_type=row.record_type,
            record_id=row.record_id,
            lifecycle_version=row.lifecycle_version,
            event=row.event,
            from_state=row.from_state,
            to_state=row.to_state,
            actor=row.actor,
            note=note,
            evidence=row.evidence,
            changes=row.changes,
            occurred_at=row.occurred_at,
            prev_hash=row.prev_hash,
        )
    sql(
        db,
        "UPDATE audit_events SET note = :note, hash = :hash WHERE seq = :seq",
        note=note,
        hash=forged,
        seq=seq,
    )


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    _rewrite_with_fresh_hash(db, 4, "aprovado sem ressalvas")
    check = verify(db)
    assert check.problem is not None
    assert (check.problem.seq, check.problem.kind) == (5, "broken_link"), check.problem
    assert check.checked == 4  # seq 4 itself is self-consistent now


def test_a_rewritten_newest_row_with_a_recomputed_hash_disagrees_with_the_head(
    db: Database,
) -> None:
    _rewrite_with_fresh_hash(db, 11, "aprovado sem ressalvas")
    problem = verify(db).problem
    assert problem is not None
    assert (problem.seq, problem.kind) == (11, "changed"), problem
    assert "chain head" in problem.detail
