"""Migrations from an empty database to head and back, on SQLite and PostgreSQL.

Also checks that the migrated schema is the one the SQLAlchemy models describe, so a model
changed without a migration (or the reverse) fails here rather than in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, String, create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

import migrations
from states import records  # registers the records' tables in Base.metadata
from states.db import Database
from states.models import Base, Municipality

#: the case engine's tables (0001, 0002) and the programme's records (0003)
ENGINE_TABLES = {"municipalities", "cases", "audit_events", "chain_head"}
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
MUNICIPALITIES = 5_570


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield db
        db.dispose()
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(url.render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


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
    assert tables(empty_db) >= TABLES
    assert municipalities(empty_db) == MUNICIPALITIES


def test_revision_0003_adds_exactly_the_records(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine, "0002")
    assert tables(empty_db) == ENGINE_TABLES

    migrations.upgrade(empty_db.engine, "0003")

    assert tables(empty_db) == TABLES


def test_the_records_models_are_the_record_tables() -> None:
    defined = {
        model.__tablename__
        for model in vars(records).values()
        if isinstance(model, type)
        and issubclass(model, Base)
        and model.__module__ == records.__name__
    }
    assert defined == RECORD_TABLES
    assert set(Base.metadata.tables) >= TABLES


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
    assert tables(empty_db) >= TABLES


def test_downgrade_to_base_and_upgrade_again(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine)

    migrations.downgrade(empty_db.engine, "base")
    assert migrations.current_revision(empty_db.engine) is None
    assert tables(empty_db) == set()

    migrations.upgrade(empty_db.engine)
    assert migrations.current_revision(empty_db.engine) == migrations.head_revision()
    assert municipalities(empty_db) == MUNICIPALITIES
    with empty_db.engine.connect() as connection:
        head = connection.execute(text("SELECT seq, hash FROM chain_head")).one()
    assert tuple(head) == (0, "0" * 64)
    # The guards came back with the tables (on PostgreSQL, the trigger function too).
    with pytest.raises(DBAPIError, match="chain_head"), empty_db.engine.begin() as connection:
        connection.execute(text("DELETE FROM chain_head"))


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
    drifted.tables["audit_events"].c.hash.type = String(65)
    changes = _differences(empty_db, drifted)
    assert [(c[0][0], c[0][2], c[0][3]) for c in changes] == [
        ("modify_type", "audit_events", "hash")
    ]
