"""Migrations from an empty database to head and back, on SQLite and PostgreSQL.

Also checks that the migrated schema is the one the SQLAlchemy models describe, so a model
changed without a migration (or the reverse) fails here rather than in production.
"""

from __future__ import annotations

import hashlib
from datetime import date
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
#: revision 0014_surveys: the participants' baseline and outcome surveys
SURVEY_TABLES = {"surveys"}
#: revision 0017_hubs: hubs, the register of partners, the hub's CLAI and Protocol, policies reached
HUB_TABLES = {
    "hubs",
    "partners",
    "clai_members",
    "clai_meetings",
    "clai_meeting_partners",
    "protocol_signatories",
    "policy_reaches",
}
#: revision 0018_lgpd: the LGPD registers (requests, partner exports, incidents)
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


def test_revision_0014_surveys_adds_exactly_the_surveys_and_drops_them_again(
    empty_db: Database,
) -> None:
    migrations.upgrade(empty_db.engine, "0013_staff")
    before = tables(empty_db)

    migrations.upgrade(empty_db.engine, "0014_surveys")
    assert tables(empty_db) == before | SURVEY_TABLES

    migrations.downgrade(empty_db.engine, "0013_staff")
    assert tables(empty_db) == before


def test_revision_0017_adds_the_hub_tables_and_drops_them_again(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine, "0016_calendar_generation")
    before = tables(empty_db)

    migrations.upgrade(empty_db.engine, "0017_hubs")
    assert tables(empty_db) == before | HUB_TABLES

    migrations.downgrade(empty_db.engine, "0016_calendar_generation")
    assert tables(empty_db) == before


def test_revision_0018_adds_the_lgpd_registers_and_drops_them_again(empty_db: Database) -> None:
    migrations.upgrade(empty_db.engine, "0017_hubs")
    before = tables(empty_db)

    migrations.upgrade(empty_db.engine, "0018_lgpd")
    assert tables(empty_db) == before | LGPD_TABLES
    columns = {c["name"] for c in inspect(empty_db.engine).get_columns("people")}
    assert "anonymised_at" in columns

    migrations.downgrade(empty_db.engine, "0017_hubs")
    assert tables(empty_db) == before
    columns = {c["name"] for c in inspect(empty_db.engine).get_columns("people")}
    assert "anonymised_at" not in columns


QUIXADA, CHORO = 2311306, 2303931


def _plain(result: Any) -> list[tuple[Any, ...]]:
    """Rows with dates as ISO text (SQLite returns text, PostgreSQL dates)."""
    return [tuple(v.isoformat() if isinstance(v, date) else v for v in r) for r in result]


def _old_case(
    connection: Any, case_id: int, municipality: int, hub: int | None, state: str
) -> None:
    connection.execute(
        text(
            "INSERT INTO cases (id, version, lifecycle_version, state, municipality_code, "
            "community, forum, forum_held_on, activity, proponent, hub_municipality_code, "
            "registered_at, registered_by, entered_on, extensions_used, updated_at, updated_by) "
            "VALUES (:id, 1, '2026.1', :state, :m, 'Comunidade', 'Fórum', '2026-01-10', "
            "'apicultura', 'Associação', :hub, :at, 'ana', '2026-02-01', 0, :at, 'ana')"
        ),
        {
            "id": case_id,
            "m": municipality,
            "hub": hub,
            "state": state,
            "at": f"2026-01-{10 + case_id} 12:00:00",
        },
    )


def test_revision_0017_moves_each_cases_clai_protocol_and_commitments_to_its_hub(
    empty_db: Database,
) -> None:
    """Two cases of the hub of Quixadá each had a CLAI and a Protocol (0003): after the upgrade
    the hub has one CLAI (the earliest installation, the members of both), one Protocol, the
    commitments keep their numbers, and the open one is an obligation of both cases."""
    migrations.upgrade(empty_db.engine, "0012")
    with empty_db.engine.begin() as connection:
        _old_case(connection, 1, QUIXADA, QUIXADA, "acompanhamento")
        _old_case(connection, 2, CHORO, QUIXADA, "acompanhamento")
        _old_case(connection, 3, CHORO, QUIXADA, "cancelada")
        connection.execute(
            text(
                "INSERT INTO clai (case_id, installed_on, members) VALUES "
                "(1, '2026-05-10', '[\"Prefeitura\", \"EMATERCE\"]'), "
                "(2, '2026-04-01', '[\"prefeitura\", \"FAO\"]')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO protocols (case_id, signed_on, signatories) VALUES "
                "(1, '2026-05-20', '[\"Prefeitura\", \"SEBRAE-CE\"]')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO commitments (id, case_id, partner, action, due_on, done_on) VALUES "
                "(7, 1, 'SEBRAE-CE', 'Oficina de vendas', '2026-07-01', NULL), "
                "(8, 1, 'EMATERCE', 'Assistência técnica', '2026-06-01', '2026-05-30')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO obligations (case_id, kind, record_type, record_id, description, "
                "params, due_on, created_at) VALUES (1, 'protocol_commitment', 'commitment', 7, "
                '\'SEBRAE-CE: Oficina de vendas\', \'{"partner": "SEBRAE-CE", "action": '
                "\"Oficina de vendas\"}', '2026-07-01', '2026-05-20 12:00:00')"
            )
        )

    migrations.upgrade(empty_db.engine, "0017_hubs")  # through 0013_staff ... 0016

    with empty_db.engine.connect() as connection:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return _plain(connection.execute(text(sql)))

        assert rows("SELECT municipality_code, designated_on FROM hubs") == [
            (QUIXADA, "2026-01-11")
        ]
        assert rows("SELECT hub_code, installed_on FROM clai") == [(QUIXADA, "2026-04-01")]
        assert sorted(
            rows("SELECT p.name FROM clai_members m JOIN partners p ON p.id = m.partner_id")
        ) == [("EMATERCE",), ("FAO",), ("prefeitura",)]  # one partner, spelt as first met
        assert rows("SELECT hub_code, signed_on FROM protocols") == [(QUIXADA, "2026-05-20")]
        assert rows(
            "SELECT c.id, c.hub_code, p.name, c.done_on FROM commitments c "
            "JOIN partners p ON p.id = c.partner_id ORDER BY c.id"
        ) == [(7, QUIXADA, "SEBRAE-CE", None), (8, QUIXADA, "EMATERCE", "2026-05-30")]
        # the open commitment is an obligation of both open cases (not of the cancelled one)
        assert rows("SELECT case_id, record_id, due_on FROM obligations ORDER BY case_id") == [
            (1, 7, "2026-07-01"),
            (2, 7, "2026-07-01"),
        ]
        assert rows("SELECT count(*), count(sphere) FROM partners") == [(4, 0)]

    migrations.downgrade(empty_db.engine, "0012")
    with empty_db.engine.connect() as connection:

        def old(sql: str) -> list[tuple[Any, ...]]:
            return _plain(connection.execute(text(sql)))

        assert old("SELECT case_id, installed_on FROM clai ORDER BY case_id") == [
            (1, "2026-04-01"),
            (2, "2026-04-01"),
            (3, "2026-04-01"),
        ]
        assert old("SELECT id, case_id, partner FROM commitments ORDER BY id") == [
            (7, 1, "SEBRAE-CE"),
            (8, 1, "EMATERCE"),
        ]
        assert old("SELECT case_id FROM obligations") == [(1,)]


def test_the_records_models_are_the_record_tables() -> None:
    defined = {
        model.__tablename__
        for model in vars(records).values()
        if isinstance(model, type)
        and issubclass(model, Base)
        and model.__module__ == records.__name__
    }
    assert defined == (
        RECORD_TABLES | TERRITORY_TABLES | STAFF_TABLES | SURVEY_TABLES | HUB_TABLES | LGPD_TABLES
    )
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
