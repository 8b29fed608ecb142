"""A write that cannot get SQLite's lock within the busy timeout is 503 busy with Retry-After
(the command line: exit 7), never a 500; nothing is written."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app as cli_app
from console.web.app import create_app
from console.web.settings import WebSettings
from states.db import Database
from states.models import AuditEvent
from tasks.runtime import Runtime
from tests.integration.helpers import version_of
from tests.web.conftest import CE_CASE, PASSWORD, SECRET, TestClient, csrf_of, login_token


@contextmanager
def write_lock_held(path: str) -> Iterator[None]:
    """Another writer holds the database's write lock (a long import, say)."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def events(db: Database) -> int:
    with db.read() as session:
        return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_the_api_answers_503_busy_while_another_writer_holds_the_lock(web_rt: Runtime) -> None:
    path = web_rt.db.engine.url.database
    assert path is not None
    impatient = Runtime(
        Database(web_rt.db.url, busy_timeout_ms=200), web_rt.lifecycle, web_rt.clock
    )
    app = create_app(impatient, WebSettings(env="test", secret_key=SECRET))
    with TestClient(app, follow_redirects=False) as client:
        token = login_token(client)
        client.post(
            "/login", data={"username": "ana.coord", "password": PASSWORD, "csrf_token": token}
        )
        before = events(web_rt.db)
        version = version_of(web_rt.db, CE_CASE)
        csrf = csrf_of(web_rt, client)
        with write_lock_held(path):
            answer = client.post(
                f"/api/v1/cases/{CE_CASE}/advance",
                json={"event": "anotar", "evidence": {"text": "x"}, "expected_version": version},
                headers={"X-CSRF-Token": csrf},
            )
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "2"
        assert answer.json()["error"]["code"] == "busy"
        assert events(web_rt.db) == before
    impatient.db.dispose()


def test_the_command_line_exits_7_while_another_writer_holds_the_lock(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.builders import cli_users, new_case

    cli_users(rt, "ana")
    case_id = new_case(rt)
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("PRODUZIR_SQLITE_BUSY_TIMEOUT_MS", "200")
    path = rt.db.engine.url.database
    assert path is not None
    before = events(rt.db)
    with write_lock_held(path):
        result = CliRunner().invoke(cli_app, ["case", "note", str(case_id), "x", "--by", "ana"])
    assert result.exit_code == 7, (result.stdout, result.stderr)
    assert result.stderr.strip() == (
        "error: the database is busy with another write; try again shortly"
    )
    assert events(rt.db) == before
