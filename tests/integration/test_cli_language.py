"""The command line speaks pt-BR by default (PRODUZIR_LANG, else the locale), English on
request: its refusals come from the same catalogs as the web console."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from console.cli import app
from notifications.i18n import language_for_cli


def refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    monkeypatch.delenv("PRODUZIR_LANG", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # an empty database: every command that reads cases refuses it, naming what to run
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(app, ["case", "show", "1"])
    assert result.exit_code == 1
    return result.stderr


def test_portuguese_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    err = refusal(tmp_path, monkeypatch)
    assert err.startswith("erro: o banco de dados está na revisão none")
    assert "execute `produzir db upgrade`" in err


def test_english_on_request_and_from_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = refusal(tmp_path, monkeypatch, PRODUZIR_LANG="en")
    assert asked.startswith("error: the database is at revision none")
    from_locale = refusal(tmp_path, monkeypatch, LANG="en_GB.UTF-8")
    assert from_locale.startswith("error: the database is at revision none")
    # PRODUZIR_LANG wins over the locale
    assert refusal(tmp_path, monkeypatch, LANG="en_US.UTF-8", PRODUZIR_LANG="pt-BR").startswith(
        "erro:"
    )


def test_the_language_rules() -> None:
    assert language_for_cli({}) == "pt-BR"
    assert language_for_cli({"LANG": "C.UTF-8"}) == "pt-BR"
    assert language_for_cli({"LANG": "pt_BR.UTF-8"}) == "pt-BR"
    assert language_for_cli({"LC_ALL": "en_US.UTF-8", "LANG": "pt_BR.UTF-8"}) == "en"
    assert language_for_cli({"PRODUZIR_LANG": "en", "LC_ALL": "pt_BR.UTF-8"}) == "en"
