"""Migrations from an empty database to head and back, on SQLite and PostgreSQL.

Also checks that the migrated schema is the one the SQLAlchemy models describe, so a model
changed without a migration (or the reverse) fails here rather than in production.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, String, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

import migrations
from states import records  # registers the records' tables in Base.metadata
from states.db import Database
from states.models import Base, Municipality

#: the case engine's tables (0001, 0002) and the programme's records (0003)
ENGINE_TABLES = {"municipalities", "cases", "audit_events", "chain_head"}
#: revision 0007 replaces the chain head by the Merkle tree and its checkpoints
LOG_TABLES = {"audit_tree", "audit_log_state", "audit_checkpoints", "audit_verifications"}
RECORD_TABLES = {
    "people",
    "case_participants",
    "training_events",
    "event_cases",
    "enrolments",
    "attendance",
    "enterprises",
    "enterprise_members",
    "legal_steps",
    "visits",
    "clai",
    "protocols",
    "commitments",
    "obligations",
    "data_access",
}
TABLES = ENGINE_TABLES | RECORD_TABLES
#: revision 0012: the territory (PNDR typologies and priority areas), records of their own
TERRITORY_TABLES = {
    "typologies",
    "typology_classes",
    "priority_areas",
    "priority_area_municipalities",
}
#: revision 0013: the staff roster, the events' instructors, the staff an ECM trains
STAFF_TABLES = {"staff", "event_instructors", "staff_enrolments", "staff_attendance"}
#: revision 0013_lgpd: the LGPD registers (requests, partner exports, incidents)
LGPD_TABLES = {
    "subject_requests",
    "partner_exports",
    "partner_export_people",
    "incidents",
    "incident_people",
}
MUNICIPALITIES = 5_570


def tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def municipalities(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(Municipality)).scalar_one())


def test_upgrade_from_empty_to_head_loads_the_municipalities(empty_db: Database) -> None:
    assert tables(empty_db) == set()
    assert migrations.current_revision(empty_db.engine) is None

    migrations.upgrade(empty_db.engine)

    assert migrations.head_revision() is not None
    assert migrations.current_revision(empty_db.engine) == migrations.head_revision()
    # later revisions may add tables of their own; these must all be there
    assert tables(empty_db) >= (TABLES - {"chain_head"}) | LOG_TABLES
    assert "chain_head" not in tables(empty_db)
    assert municipalities(empty_db) == MUNICIPALITIES


def test_revision_0003_adds_exactly_the_records(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine, "0002")
    assert tables(empty_db) == ENGINE_TABLES

    migrations.upgrade(empty_db.engine, "0003")

    assert tables(empty_db) == TABLES


def test_revision_0012_adds_exactly_the_territory_and_drops_it_again(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine, "0011")  # after the ECC session days
    before = tables(empty_db)

    migrations.upgrade(empty_db.engine, "0012")
    assert tables(empty_db) == before | TERRITORY_TABLES

    migrations.downgrade(empty_db.engine, "0011")
    assert tables(empty_db) == before


def test_the_records_models_are_the_record_tables() -> None:
    defined = {
        model.__tablename__
        for model in vars(records).values()
        if isinstance(model, type)
        and issubclass(model, Base)
        and model.__module__ == records.__name__
    }
    assert defined == RECORD_TABLES | TERRITORY_TABLES | STAFF_TABLES | LGPD_TABLES
    assert set(Base.metadata.tables) >= (TABLES - {"chain_head"}) | LOG_TABLES


def test_audit_events_name_the_record_they_changed(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine)
    columns = {c["name"]: c for c in inspect(empty_db.engine).get_columns("audit_events")}
    assert {"record_type", "record_id"} <= set(columns)
    # an event of a record that belongs to no case (a person registered) has no case or state
    for name in ("case_id", "case_version", "record_type", "record_id", "to_state"):
        assert columns[name]["nullable"], name


def test_downgrade_to_0002_drops_only_the_records(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine)

    migrations.downgrade(empty_db.engine, "0002")

    assert migrations.current_revision(empty_db.engine) == "0002"
    assert tables(empty_db) == ENGINE_TABLES
    assert municipalities(empty_db) == MUNICIPALITIES
    migrations.upgrade(empty_db.engine)
    assert tables(empty_db) >= LOG_TABLES


def test_downgrade_to_base_and_upgrade_again(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine)

    migrations.downgrade(empty_db.engine, "base")
    assert migrations.current_revision(empty_db.engine) is None
    assert tables(empty_db) == set()

    migrations.upgrade(empty_db.engine)
    assert migrations.current_revision(empty_db.engine) == migrations.head_revision()
    assert municipalities(empty_db) == MUNICIPALITIES
    with empty_db.engine.connect() as connection:
        state = connection.execute(
            text("SELECT tree_size, frontier, root_hash FROM audit_log_state")
        ).one()
    # the empty tree: no leaves, RFC 9162's root of nothing (SHA-256 of the empty string)
    assert tuple(state) == (0, b"", hashlib.sha256(b"").hexdigest())
    # The guards came back with the tables (on PostgreSQL, the trigger functions too).
    with (
        pytest.raises(DBAPIError, match="audit_log_state"),
        empty_db.engine.begin() as connection,
    ):
        connection.execute(text("DELETE FROM audit_log_state"))


def _differences(db: Database, metadata: MetaData) -> list[Any]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))


def test_the_migrated_schema_matches_the_models(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine)

    assert _differences(empty_db, Base.metadata) == []

    # The comparison does see column types (UTCDateTime is compared as its impl,
    # DateTime(timezone=True)): a model drifting from the migration is reported.
    drifted = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["audit_events"].c.channel.type = String(65)
    changes = _differences(empty_db, drifted)
    assert [(c[0][0], c[0][2], c[0][3]) for c in changes] == [
        ("modify_type", "audit_events", "channel")
    ]
