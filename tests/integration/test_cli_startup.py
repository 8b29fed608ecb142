"""The command line starts with what the command needs: ``produzir --help`` lists every
command from :data:`console.cli.COMMANDS` without importing one, a read command imports no
Prefect, FastAPI, Jinja2 or Alembic; ``--version``; shell completion through the lazy groups.

Imports are checked in a fresh interpreter (``sys.modules`` after the command ran), not timed:
``bench/cli.py`` measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import migrations
from console.cli import COMMANDS, app
from tasks.runtime import Runtime
from tests.builders import new_case

#: what no command but the ones that serve, schedule or migrate may import
HEAVY = ("prefect", "fastapi", "starlette", "jinja2", "uvicorn", "alembic")


def imported_by(args: list[str], env: dict[str, str] | None = None) -> tuple[str, set[str]]:
    """The output of ``produzir ARGS`` run in a fresh interpreter, and the modules it imported."""
    script = (
        "import sys, json\n"
        "from console.cli import main\n"
        "sys.argv = ['produzir', *json.loads(sys.argv[1])]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "print('MODULES', json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script, json.dumps(args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    output, _, modules = done.stdout.rpartition("MODULES ")
    return output, set(json.loads(modules))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY}


def test_every_help_line_is_the_commands_own() -> None:
    root = get_command(app)
    for name, entry in COMMANDS.items():
        command = root.get_command(None, name)  # type: ignore[attr-defined]
        assert command is not None, name
        assert (command.name, command.help) == (name, entry.help), name
        assert not command.short_help
        assert not command.hidden
        assert not command.deprecated


def test_help_imports_no_command_and_lists_them_all() -> None:
    output, modules = imported_by(["--help"])
    for name in COMMANDS:
        assert f" {name} " in output
    assert "--version" in output
    assert "--install-completion" in output
    assert not {m for m in modules if m.startswith("console.cli_")}
    assert not heavy(modules)
    assert "sqlalchemy" not in modules
    assert "pydantic" not in modules


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"produzir {version('produzir')}\n")
    output, modules = imported_by(["--version"])
    assert output == f"produzir {version('produzir')}\n"
    assert "sqlalchemy" not in modules


def test_read_commands_import_no_framework(rt: Runtime, tmp_path: Path) -> None:
    case_id = new_case(rt)
    env = {"PRODUZIR_DATABASE_URL": rt.db.url, "PRODUZIR_DATA_DIR": str(tmp_path)}
    for args in (["case", "show", str(case_id)], ["case", "list", "--json"]):
        output, modules = imported_by(args, env)
        assert str(case_id) in output
        assert not heavy(modules), args
        assert "tasks.cases" not in modules, args  # the write path stays unloaded
        assert not {m for m in modules if m.startswith("console.cli_")} - {"console.cli_case"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("produzir ", {"case", "audit", "lifecycle", "deploy", "run"}),
        ("produzir ca", {"case", "calendar"}),
        ("produzir case sh", {"show"}),
        ("produzir lifecycle d", {"diagram"}),
        ("produzir case show 1 --", {"--at", "--json"}),
    ],
)
def test_shell_completion_goes_through_the_lazy_groups(words: str, expected: set[str]) -> None:
    """Bash completion as the script ``produzir --show-completion bash`` installs asks it."""
    env = {
        "_PRODUZIR_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    script = Path(sys.executable).parent / "produzir"  # the name the completion variable has
    done = subprocess.run(  # noqa: S603
        [str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    offered = set(done.stdout.split())
    assert expected <= offered, done.stdout + done.stderr
    if words.endswith(" ca"):
        assert offered == expected


def test_show_completion_prints_the_script() -> None:
    result = CliRunner().invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0
    assert "_PRODUZIR_COMPLETE=complete_bash" in result.stdout


def test_the_head_revision_is_alembics() -> None:
    """The revision files read without Alembic name the head Alembic names."""
    assert migrations.head_revision() == migrations._alembic_head()


def test_a_typo_is_answered_with_the_close_names() -> None:
    """The names suggested come from every command, imported or not."""
    result = CliRunner().invoke(app, ["casee"])
    assert result.exit_code == 2
    assert "No such command 'casee'. Did you mean 'case', 'sweep'?" in result.output
