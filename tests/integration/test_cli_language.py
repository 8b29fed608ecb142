"""The command line speaks pt-BR by default (PRODUZIR_LANG, else the locale), English on
request: its refusals, its help screens and what its commands print come from the same
catalogs as the web console."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from console.cli import app
from notifications.i18n import language_for_cli
from tasks.runtime import Runtime
from tests.builders import cli_users, new_case


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


def every_command() -> list[tuple[str, Any]]:
    """(path, click command) of every command and group of ``produzir``, each imported, the
    commands made from the event declarations included."""
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = [("produzir", root)]
    ctx = root.make_context("produzir", ["case"])  # as `produzir case` parses its root

    def walk(group: Any, ctx: Any, path: str) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            found.append((f"{path} {name}", command))
            if hasattr(command, "list_commands"):
                walk(
                    command,
                    command.make_context(name, [], parent=ctx, resilient_parsing=True),
                    f"{path} {name}",
                )

    walk(root, ctx, "produzir")
    return found


def help_texts(command: Any) -> list[tuple[str, str]]:
    """(what, text) of every help text ``command`` shows: its own and each parameter's."""
    texts = [("help", command.help)] if command.help else []
    texts += [(f"--{p.name}", p.help) for p in command.params if getattr(p, "help", None)]
    return texts


def test_every_help_text_of_every_command_is_in_portuguese_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PRODUZIR_LANG", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    portuguese = {path: help_texts(c) for path, c in every_command()}
    monkeypatch.setenv("PRODUZIR_LANG", "en")
    english = {path: help_texts(c) for path, c in every_command()}
    assert len(portuguese) > 80  # every group and command, the event commands too
    assert portuguese.keys() == english.keys()
    untranslated = [
        f"{path} {what}: {pt!r}"
        for path, texts in portuguese.items()
        for (what, pt), (_, en) in zip(texts, english[path], strict=True)
        if pt == en and not re.fullmatch(r"[\W\d_]*|[a-z_]+\.?", en)  # not only a code
    ]
    assert untranslated == []
    # the same texts in English: the msgids themselves
    assert dict(english["produzir case list"])["help"] == "List cases, most overdue first."
    assert dict(portuguese["produzir case list"])["help"] == (
        "Listar os casos, os mais atrasados primeiro."
    )
    assert dict(portuguese["produzir case reject"])["help"].startswith(
        "Indeferir (indeferir). Condição: indeferimento fundamentado (com pelo menos 20 caracteres)"
    )


def test_a_help_screen_in_portuguese_with_typers_own_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def screen() -> str:
        shown = CliRunner().invoke(app, ["case", "list", "--help"])
        assert shown.exit_code == 0, shown.output
        return re.sub(r"[\s│╭╮╰╯─]+", " ", shown.stdout)  # the words, unwrapped

    monkeypatch.setenv("PRODUZIR_LANG", "pt-BR")
    pt = screen()
    assert "Listar os casos, os mais atrasados primeiro." in pt
    assert "Opções" in pt
    assert "Options" not in pt
    assert "Mostrar esta mensagem e sair." in pt
    assert "Somente os casos com prazo vencido." in pt
    monkeypatch.setenv("PRODUZIR_LANG", "en")  # the same process, another language
    en = screen()
    assert "List cases, most overdue first." in en
    assert "Options" in en
    assert "Show this message and exit." in en


def test_what_a_command_prints_is_in_portuguese_with_plurals_and_dates(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("PRODUZIR_LANG", "pt-BR")
    new_case(rt)
    listed = CliRunner().invoke(app, ["case", "list"])
    assert listed.exit_code == 0, listed.output
    head, *_, last = listed.stdout.splitlines()
    assert head.split()[:3] == ["caso", "estado", "município"]
    assert last == "1 de 1 caso"
    shown = CliRunner().invoke(app, ["calendar", "show", "--uf", "CE", "--year", "2027"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[0] == "calendário de CE, 2027"
    assert "dias úteis em 2027" in shown.stdout.splitlines()[-1]
    monkeypatch.setenv("PRODUZIR_LANG", "en")
    listed = CliRunner().invoke(app, ["case", "list"])
    assert listed.stdout.splitlines()[-1] == "1 of 1 case"


def test_an_import_refusal_names_each_line_in_portuguese(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("PRODUZIR_LANG", "pt-BR")
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt, "ana")
    case_id = new_case(rt)
    sheet = tmp_path / "pessoas.csv"
    sheet.write_text(
        "cpf,nome,comunidade,municipio\n"
        "111.111.111-11,Maria,Boa Vista,2311306\n"
        "529.982.247-25,,Boa Vista,23113\n",
        encoding="utf-8",
    )
    refused = CliRunner().invoke(
        app, ["person", "import", str(sheet), "--case", str(case_id), "--by", "ana"]
    )
    assert refused.exit_code == 2
    assert refused.stderr.splitlines() == [
        "erro: arquivo de participantes: 2 linhas com erro, nada foi importado:",
        "linha 2: CPF inválido '111.111.111-11'",
        "linha 3: falta nome; o município '23113' não é um código IBGE (7 dígitos)",
    ]
