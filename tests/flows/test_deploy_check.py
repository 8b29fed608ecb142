"""``produzir deploy check`` on a worker: one line per thing wrong with its settings."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

import console.cli_deploy
from console.cli import app
from tasks.runtime import Runtime


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_wrong_setting_is_one_line_and_the_exit_code_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()  # a database nobody migrated
    smtp, prefect = closed_port(), closed_port()
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("PRODUZIR_AUDIT_KEY_FILE", str(tmp_path / "nowhere.pem"))
    monkeypatch.setenv("PRODUZIR_NOTIFY_CHANNEL", "smtp")
    monkeypatch.setenv("PRODUZIR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PRODUZIR_SMTP_PORT", str(smtp))
    monkeypatch.setenv("PRODUZIR_SMTP_SECURITY", "none")
    monkeypatch.setattr(
        console.cli_deploy, "prefect_api_url", lambda: f"http://127.0.0.1:{prefect}/api"
    )

    result = CliRunner().invoke(app, ["deploy", "check"])

    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith("database not migrated: at no revision, the code needs ")
    assert lines[1].startswith("audit signing key missing: ")
    assert "PRODUZIR_AUDIT_KEY_FILE" in lines[1]
    assert lines[2].startswith(f"SMTP server unreachable (127.0.0.1:{smtp}): ")
    assert lines[3].startswith(f"Prefect API unreachable (http://127.0.0.1:{prefect}/api): ")


def test_a_missing_sqlite_file_is_reported_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{tmp_path / 'gone.db'}")
    result = CliRunner().invoke(app, ["deploy", "check"])
    assert result.exit_code == 1
    assert "database unreachable" in result.stdout
    assert "no such file" in result.stdout
    assert not (tmp_path / "gone.db").exists()


@pytest.mark.usefixtures("prefect")
def test_a_worker_with_good_settings_is_told_so(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "signing-key.pem"
    key.write_text("a key\n")
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("PRODUZIR_AUDIT_KEY_FILE", str(key))
    monkeypatch.setenv("PRODUZIR_NOTIFY_CHANNEL", "mailbox")

    result = CliRunner().invoke(app, ["deploy", "check"])  # the test harness's Prefect API

    assert (result.exit_code, result.stdout.strip()) == (0, str(console.cli_deploy.OK))
