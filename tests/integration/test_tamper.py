"""An attacker with DBA rights switches off the append-only triggers and edits history by hand.

The Merkle tree and the signed checkpoints are the second line of defence: verification must
name the first entry that no longer holds and say how (changed, missing, reordered, not in the
tree), even when the attacker recomputes every hash the database stores, as long as one signed
checkpoint survives somewhere — in the database or in a file kept elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from states import audit_verify, merkle
from states.clock import FixedClock
from states.config import load_config
from states.db import Database
from states.lifecycle import Lifecycle
from states.signing import Checkpoint, Signer
from tasks.cases import add_note
from tasks.people import preregister, register_person
from tasks.runtime import Runtime
from tests.builders import QUIXADA, cpf_for, drive, new_case
from tests.integration.helpers import count_events, new_signer, ring, sign, verify

AUDIT_TABLES = ("audit_events", "audit_tree", "audit_log_state", "audit_checkpoints")


def sql(db: Database, *statements: str, **params: object) -> None:
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), params)


def disable_guards(db: Database) -> None:
    """What a DBA could do: switch off the triggers that keep the log append-only."""
    with db.engine.begin() as connection:
        if db.is_postgresql:
            for table in AUDIT_TABLES:
                connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        else:
            names = connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                    "('audit_events', 'audit_tree', 'audit_log_state', 'audit_checkpoints')"
                )
            ).scalars()
            for name in list(names):
                connection.execute(text(f"DROP TRIGGER {name}"))


def rebuild_tree(connection: Connection) -> None:
    """The thorough attacker: renumber the leaves and recompute every stored hash."""
    rows = connection.execute(
        text("SELECT seq, entry FROM audit_events WHERE leaf_index IS NOT NULL ORDER BY leaf_index")
    ).all()
    connection.execute(text("DELETE FROM audit_tree"))
    connection.execute(text("UPDATE audit_events SET leaf_index = NULL"))
    frontier = merkle.Frontier()
    for seq, entry in rows:
        connection.execute(
            text("UPDATE audit_events SET leaf_index = :i WHERE seq = :s"),
            {"i": frontier.size, "s": seq},
        )
        for level, idx, digest in frontier.append(merkle.leaf_hash(entry.encode("utf-8"))):
            connection.execute(
                text("INSERT INTO audit_tree (level, idx, hash) VALUES (:l, :i, :h)"),
                {"l": level, "i": idx, "h": digest},
            )
    connection.execute(
        text("UPDATE audit_log_state SET tree_size = :n, frontier = :f, root_hash = :r"),
        {"n": frontier.size, "f": frontier.to_bytes(), "r": frontier.root().hex()},
    )


def leaf_of(db: Database, seq: int) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT leaf_index FROM audit_events WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )


def entry_of(db: Database, seq: int) -> str:
    with db.engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT entry FROM audit_events WHERE seq = :s"), {"s": seq}
            ).scalar_one()
        )


@pytest.fixture
def signer() -> Signer:
    return new_signer()


@pytest.fixture
def kept(any_rt: Runtime, clock: FixedClock, signer: Signer) -> Checkpoint:
    """Three cases with history (9 entries), then a person registered (seq 10, no case) and
    pre-registered in the first case (seq 11); a checkpoint signed over all 11 (also kept
    elsewhere: the fixture's value); the append-only triggers switched off."""
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
    checkpoint = sign(any_rt.db, signer)
    assert checkpoint.tree_size == 11
    disable_guards(any_rt.db)
    return checkpoint


@pytest.fixture
def db(any_rt: Runtime, kept: Checkpoint) -> Database:
    return any_rt.db


def test_an_untampered_log_verifies_and_extends_its_checkpoint(
    db: Database, kept: Checkpoint, signer: Signer
) -> None:
    check = verify(db, keyring=ring(signer), against=[kept])
    assert check.ok, check.problem
    assert check.checked == check.tree_size == count_events(db) == 11
    assert check.checkpoint is not None
    assert check.checkpoint.root_hash == kept.root_hash == check.root_hash


def test_a_changed_entry_is_named(db: Database, signer: Signer) -> None:
    forged = entry_of(db, 4).replace('"actor":"', '"actor":"x', 1)
    sql(db, "UPDATE audit_events SET entry = :e WHERE seq = 4", e=forged)
    problem = verify(db, keyring=ring(signer)).problem
    assert problem is not None
    assert (problem.kind, problem.seq, problem.leaf_index) == ("changed", 4, leaf_of(db, 4))
    assert "does not match its leaf hash" in problem.detail


@pytest.mark.parametrize(
    ("seq", "column", "forged"),
    [
        (4, "actor", "'mallory'"),
        (4, "to_state", "'concluida'"),
        (10, "record_id", "999"),
        (10, "record_type", "'event'"),
        (11, "case_id", "2"),
        (11, "record_id", "NULL"),
        (5, "occurred_at", "'2030-01-01 00:00:00.000000'"),  # a case seen "at a date" lies
    ],
)
def test_a_column_that_disagrees_with_its_entry_is_named(
    db: Database, signer: Signer, seq: int, column: str, forged: str
) -> None:
    if column == "occurred_at" and db.is_postgresql:
        forged = "'2030-01-01 00:00:00+00'"
    sql(db, f"UPDATE audit_events SET {column} = {forged} WHERE seq = {seq}")
    problem = verify(db, keyring=ring(signer)).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("changed", seq), problem
    assert f"column {column} disagrees" in problem.detail


def test_a_deleted_entry_in_the_middle_is_named(db: Database, signer: Signer) -> None:
    leaf = leaf_of(db, 5)
    sql(db, "DELETE FROM audit_events WHERE seq = 5")
    check = verify(db, keyring=ring(signer))
    assert check.problem is not None
    assert (check.problem.kind, check.problem.leaf_index) == ("missing", leaf), check.problem
    assert check.checked == leaf


def test_two_swapped_entries_are_named_as_reordered(db: Database, signer: Signer) -> None:
    three, six = leaf_of(db, 3), leaf_of(db, 6)
    sql(
        db,
        "UPDATE audit_events SET leaf_index = -1 WHERE seq = 3",
        "UPDATE audit_events SET leaf_index = :three WHERE seq = 6",
        "UPDATE audit_events SET leaf_index = :six WHERE seq = 3",
        three=three,
        six=six,
    )
    problem = verify(db, keyring=ring(signer)).problem
    assert problem is not None
    assert (problem.kind, problem.leaf_index, problem.seq) == ("reordered", three, 6), problem
    assert f"integrated as leaf {six}" in problem.detail


def test_the_newest_entry_deleted_with_the_tree_rewound_is_named(
    db: Database, kept: Checkpoint, signer: Signer
) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_events WHERE seq = 11"))
        rebuild_tree(connection)
    # the checkpoint stored in the database catches it ...
    check = verify(db, keyring=ring(signer))
    assert check.problem is not None
    assert (check.problem.kind, check.problem.leaf_index) == ("missing", 10), check.problem
    assert "covers 11 entries but the log holds 10" in check.problem.detail
    # ... and so does the copy kept elsewhere when the stored ones are deleted too
    sql(db, "DELETE FROM audit_checkpoints")
    alone = verify(db, keyring=ring(signer))
    assert alone.ok  # with no checkpoint left, a consistent rewrite cannot be seen ...
    check = verify(db, keyring=ring(signer), against=[kept])
    assert check.problem is not None  # ... which is why auditors keep them elsewhere
    assert (check.problem.kind, check.problem.leaf_index) == ("missing", 10), check.problem


def test_a_rewrite_with_every_hash_recomputed_is_named_against_the_checkpoint(
    db: Database, kept: Checkpoint, signer: Signer
) -> None:
    forged = entry_of(db, 4).replace('"actor":"', '"actor":"x', 1)
    leaf = leaf_of(db, 4)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET entry = :e WHERE seq = 4"), {"e": forged})
        connection.execute(text("UPDATE audit_events SET actor = 'x' || actor WHERE seq = 4"))
        rebuild_tree(connection)
    check = verify(db, keyring=ring(signer))
    assert check.problem is not None
    assert check.problem.kind == "changed", check.problem
    assert "does not extend stored checkpoint #1" in check.problem.detail
    assert check.problem.leaf_index is not None
    assert check.problem.leaf_index <= leaf
    sql(db, "DELETE FROM audit_checkpoints")
    check = verify(db, keyring=ring(signer), against=[kept])
    assert check.problem is not None
    assert "does not extend checkpoint 1 given" in check.problem.detail


def test_a_whole_case_deleted_with_its_entries_is_named(
    db: Database, kept: Checkpoint, signer: Signer
) -> None:
    with db.engine.begin() as connection:
        if db.is_postgresql:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.execute(text("DELETE FROM audit_events WHERE case_id = 2"))
        connection.execute(text("DELETE FROM outbox WHERE case_id = 2"))
        connection.execute(text("DELETE FROM cases WHERE id = 2"))
        rebuild_tree(connection)
    check = verify(db, keyring=ring(signer), against=[kept])
    assert check.problem is not None
    assert check.problem.kind in ("changed", "missing"), check.problem
    assert "checkpoint" in check.problem.detail


def test_a_forged_checkpoint_in_the_database_is_named(db: Database, signer: Signer) -> None:
    sign(db, new_signer(), datetime(2026, 3, 3, tzinfo=UTC))  # another key's checkpoint
    problem = verify(db, keyring=ring(signer)).problem
    assert problem is not None
    assert problem.kind == "unknown_key", problem
    sql(db, "UPDATE audit_checkpoints SET key_id = :k WHERE id = 2", k=signer.key_id)
    problem = verify(db, keyring=ring(signer)).problem
    assert problem is not None
    assert problem.kind == "signature_invalid", problem
    assert "stored checkpoint #2" in problem.detail


def test_a_changed_interior_node_fails_the_consistency_proof_and_the_incremental_start(
    db: Database, kept: Checkpoint, signer: Signer
) -> None:
    add_entries = 5  # a tree that grew after the checkpoint, so a proof has nodes to read
    with db.engine.connect() as connection:
        case_id = connection.execute(text("SELECT min(id) FROM cases")).scalar_one()
    rt = Runtime(db, Lifecycle(load_config()), FixedClock(datetime(2026, 3, 3, tzinfo=UTC)))
    for n in range(add_entries):
        add_note(rt, case_id, f"nota {n}", actor="ana")
    # entries and leaves untouched: only a stored node above them is forged
    sql(db, "UPDATE audit_tree SET hash = :h WHERE level = 3 AND idx = 0", h=bytes(32))
    plain = verify(db, keyring=ring(signer))  # recomputed from the entries: they are intact
    assert plain.ok, plain.problem
    check = verify(db, keyring=ring(signer), against=[kept])
    assert check.problem is not None
    assert check.problem.kind == "changed"
    assert "gives no consistency proof from checkpoint 1 given" in check.problem.detail
    with db.snapshot() as session:
        incremental = audit_verify.verify(session, ring(signer), start=(1, kept))
    assert incremental.problem is not None
    assert "no longer gives the root of checkpoint #1" in incremental.problem.detail
