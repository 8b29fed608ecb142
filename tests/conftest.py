"""Shared fixtures: a fixed clock, a migrated SQLite database per test, PostgreSQL per test.

PostgreSQL tests use ``PRODUZIR_TEST_POSTGRES_URL`` (default: the local service, database
``test``, user ``postgres``); each test gets a schema of its own, dropped afterwards, so runs
never collide. Under ``CI=true`` an unreachable PostgreSQL is an error; elsewhere its tests are
skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import migrations
from states.clock import FixedClock
from states.config import load_config
from states.db import Database
from states.lifecycle import Lifecycle
from tasks.runtime import Runtime

POSTGRES_URL = os.environ.get(
    "PRODUZIR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test's data folder (signing key, checkpoint file) is its own, never ./var."""
    folder = tmp_path / "data"
    monkeypatch.setenv("PRODUZIR_DATA_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def cli_language(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line speaks pt-BR by default (PRODUZIR_LANG, else the locale); most CLI
    tests read its English, so they ask for it. tests/integration/test_cli_language.py checks
    the Portuguese default (it removes the setting)."""
    monkeypatch.setenv("PRODUZIR_LANG", "en")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(scope="session")
def lifecycle() -> Lifecycle:
    return Lifecycle(load_config())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, made once per session and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "produzir.db"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db.engine)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def sqlite_copy(template: Path, folder: Path) -> Database:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "produzir.db"
    shutil.copyfile(template, target)
    return Database(f"sqlite:///{target}")


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    db = sqlite_copy(sqlite_template, tmp_path / "db")
    yield db
    db.dispose()


def _postgres_available() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


@pytest.fixture(scope="session")
def postgres_url() -> str:
    problem = _postgres_available()
    if problem is not None:
        message = (
            f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()} unreachable: {problem}"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[Database]:
    """A migrated PostgreSQL schema of this test's own."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    db = Database(url.render_as_string(hide_password=False))
    try:
        migrations.upgrade(db.engine)
        yield db
    finally:
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on PostgreSQL."""
    name = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    db: Database = request.getfixturevalue(name)
    return db


@pytest.fixture
def rt(sqlite_db: Database, lifecycle: Lifecycle, clock: FixedClock) -> Runtime:
    return Runtime(sqlite_db, lifecycle, clock)


@pytest.fixture
def any_rt(any_db: Database, lifecycle: Lifecycle, clock: FixedClock) -> Runtime:
    return Runtime(any_db, lifecycle, clock)


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
