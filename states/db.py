"""The database connection: engines, sessions, and the write transaction.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy timeout; a
write transaction starts with ``BEGIN IMMEDIATE`` so that writers queue for the lock up front
instead of failing half-way. PostgreSQL (psycopg 3) runs at READ COMMITTED and writers lock the
case row (``SELECT ... FOR UPDATE``), nothing shared: the audit log takes entries without a lock. Either way a write is one transaction:
all of it commits, or nothing does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from states.errors import Busy
from states.settings import StatesSettings, load

_WRITE = "produzir_write"
#: SQLite's ``PRAGMA synchronous`` levels a :class:`Database` accepts (FULL: the default)
SYNCHRONOUS = ("FULL", "NORMAL", "OFF")


class Database:
    """An engine and the two kinds of session Produzir uses: read and write."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 10_000,
        echo: bool = False,
        synchronous: str = "FULL",
    ) -> None:
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self.synchronous = synchronous
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            # a small statement cache: the sweep's large batch INSERTs must not pile up in it
            kwargs["connect_args"] = {"check_same_thread": False, "cached_statements": 16}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine, busy_timeout_ms, synchronous)
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: StatesSettings | None = None) -> Database:
        settings = settings if settings is not None else load(StatesSettings)
        return cls(
            settings.resolved_database_url(), busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )

    def with_synchronous(self, synchronous: str) -> Database:
        """Another engine on the same database whose SQLite connections use ``PRAGMA
        synchronous = <synchronous>`` (this one's, FULL by default, stays as it is): what is
        written is the same, only when it reaches the disk differs. In WAL mode, NORMAL syncs
        at checkpoints instead of at every commit: an application crash loses nothing, a power
        cut may lose the last commits, never the database. For bulk loads into a new database
        (the demo). This one itself when it already is at that level, or is not an SQLite
        file (PostgreSQL; an in-memory database, which another engine would not see)."""
        database = make_url(self.url).database
        if (
            self.dialect != "sqlite"
            or synchronous == self.synchronous
            or not database
            or database == ":memory:"
            or database.startswith("file:")
        ):
            return self
        return Database(self.url, busy_timeout_ms=self.busy_timeout_ms, synchronous=synchronous)

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; whatever it did is rolled back at the end."""
        with self._reads() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read session on one consistent snapshot for its whole life.

        PostgreSQL: REPEATABLE READ (READ ONLY); SQLite: one read transaction on the WAL, so
        rows committed while it runs are not seen. Verification reads through this.
        """
        with self._reads() as session:
            try:
                if self.is_postgresql:
                    session.connection(
                        execution_options={"isolation_level": "REPEATABLE READ"}
                    ).exec_driver_sql("SET TRANSACTION READ ONLY")
                else:
                    session.connection().exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1")
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        Just before the commit, the audit log's sequencer integrates the entries the
        transaction appended (and any backlog), when it can without waiting. A lock not
        obtained within the busy timeout raises :class:`~states.errors.Busy`.
        """
        from states.audit import before_commit

        try:
            with self._writes() as session, session.begin():
                yield session
                before_commit(session)
        except OperationalError as exc:
            if is_busy(exc):
                raise Busy() from exc
            raise

    def dispose(self) -> None:
        self.engine.dispose()


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means the lock was not obtained in time (SQLite's "database is
    locked" / "busy"; PostgreSQL's lock timeout), so the same request may succeed later."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")  # one of SYNCHRONOUS
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
