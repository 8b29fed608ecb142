"""One declaration per event: a lifecycle with one extra, toy event, declared here and nowhere
else, shows it on the command line, in the JSON API's OpenAPI schema and as a web form, and
fires it through the same write path (its audit entry, its guard's refusal) — without a line
of the application changed.

The lifecycle file names its declarations (``events = "module:attribute"``); this module's
:data:`TOY_EVENTS` is the default table plus the toy event.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import Field
from typer.testing import CliRunner

from console.cli import app as cli_app
from console.web.app import create_app
from console.web.settings import WebSettings
from states import queries
from states.clock import FixedClock
from states.config import DEFAULT_FILE
from states.db import Database
from states.errors import InvalidInput
from states.events import EVENTS, DeclarationError, EventSpec
from states.evidence import Evidence
from states.guards import GuardContext
from states.lifecycle import Lifecycle, load_lifecycle
from states.text import N_, Text
from tasks.lifecycle_migration import migrate
from tasks.runtime import Runtime
from tests.web.conftest import CE_CASE, login


class HiveCount(Evidence):
    """How many beehives the community has ready."""

    hives: int = Field(ge=0, le=10_000)
    apiary: str = ""


def enough_hives(ctx: GuardContext) -> Text | None:
    assert isinstance(ctx.evidence, HiveCount)
    if ctx.evidence.hives < 3:
        return N_("only %(n)s hives counted; at least 3 are needed", n=ctx.evidence.hives)
    return None


TOY = EventSpec(
    "contar_colmeias",
    "Contar colmeias",
    "Count the hives",
    HiveCount,
    enough_hives,
    "at least 3 hives counted",
    ((("registrada",), None),),
    command="hives",
)
TOY_EVENTS = (*EVENTS, TOY)


@pytest.fixture
def toy_file(tmp_path: Path) -> Path:
    """A copy of the shipped lifecycle file that names the toy table."""
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    text = re.sub(
        r'^version = "([^"]+)"',
        f'version = "\\1-toy"\nevents = "{__name__}:TOY_EVENTS"',
        text,
        count=1,
        flags=re.M,
    )
    path = tmp_path / "toy-lifecycle.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def toy_rt(web_rt: Runtime, toy_file: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The web tests' database (users, case 1 in CE) under the toy lifecycle, which new cases
    get; the shipped one stays loaded, and case 1 is migrated to the toy version (its
    version 2). The command line reads the same database and files from the settings."""
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", web_rt.db.url)
    monkeypatch.setenv("PRODUZIR_LIFECYCLE_FILE", str(toy_file))
    monkeypatch.setenv("PRODUZIR_LIFECYCLE_FILES", str(DEFAULT_FILE))
    assert isinstance(web_rt.clock, FixedClock)
    rt = Runtime(
        Database(web_rt.db.url),
        load_lifecycle(toy_file),
        web_rt.clock,
        others=(load_lifecycle(DEFAULT_FILE),),
    )
    moved = migrate(rt, rt.lifecycle.version, {}, actor="adm.admin")
    assert CE_CASE in [p.case_id for p in moved.moved]
    return rt


def test_the_toy_event_is_on_the_command_line(toy_rt: Runtime) -> None:
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["case", "--help"])
    assert listed.exit_code == 0, listed.output
    assert re.search(r"hives\s+Count the hives", listed.output)
    shown = runner.invoke(cli_app, ["lifecycle", "show", "--json"])
    toy = next(e for e in json.loads(shown.stdout)["events"] if e["event"] == "contar_colmeias")
    assert (toy["evidence"], toy["command"]) == (["hives", "apiary"], "case hives")
    offered = runner.invoke(cli_app, ["case", "events", str(CE_CASE), "--json"])
    assert "contar_colmeias" in [e["event"] for e in json.loads(offered.stdout)["events"]]

    refused = runner.invoke(
        cli_app, ["case", "hives", str(CE_CASE), "--hives", "2", "--by", "ana.coord"]
    )
    assert refused.exit_code == 4, refused.output
    assert "only 2 hives counted; at least 3 are needed" in refused.stderr
    done = runner.invoke(
        cli_app,
        ["case", "hives", str(CE_CASE), "--hives", "12", "--apiary", "Sítio", "--by", "ana.coord"],
    )
    assert done.exit_code == 0, done.stderr
    assert f"case {CE_CASE}: contar_colmeias: stays registrada" in done.stdout
    history = json.loads(runner.invoke(cli_app, ["case", "history", str(CE_CASE), "--json"]).stdout)
    last = history[-1]
    assert (last["event"], last["actor"], last["evidence"]) == (
        "contar_colmeias",
        "ana.coord",
        {"hives": 12, "apiary": "Sítio"},
    )
    assert last["lifecycle_version"] == "2026.3-toy"  # it runs under the toy version now
    # an auditor may not fire it: the policy of every event command applies
    denied = runner.invoke(
        cli_app, ["case", "hives", str(CE_CASE), "--hives", "5", "--by", "rui.auditor"]
    )
    assert denied.exit_code == 4
    assert "rui.auditor" in denied.stderr


def test_the_toy_event_is_in_the_openapi_schema(toy_rt: Runtime, web_settings: WebSettings) -> None:
    with TestClient(create_app(toy_rt, web_settings)) as client:
        schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    assert "contar_colmeias" in components["AdvanceIn"]["properties"]["event"]["enum"]
    toy = components["Evidence_contar_colmeias"]
    assert toy["title"] == "Count the hives (contar_colmeias)"
    assert toy["required"] == ["hives"]
    assert toy["properties"]["hives"]["maximum"] == 10_000
    assert (
        "`contar_colmeias`: `Evidence_contar_colmeias`"
        in (components["AdvanceIn"]["properties"]["evidence"]["description"])
    )


def test_the_toy_event_is_a_web_form_that_fires(toy_rt: Runtime, web_settings: WebSettings) -> None:
    with TestClient(create_app(toy_rt, web_settings), follow_redirects=False) as client:
        assert login(client, "ana.coord").status_code == 303
        page = client.get(f"/cases/{CE_CASE}")
        assert page.status_code == 200
        form = page.text[page.text.index('data-event="contar_colmeias"') :]
        form = form[: form.index("</form>")]
        assert 'name="ev.hives" value="" type="number" min="0"' in form
        assert 'name="ev.apiary"' in form
        assert "Contar colmeias" in page.text  # its pt-BR label, from the declaration
        assert 'data-lifecycle-version="2026.3-toy">2026.3-toy<' in page.text  # the case page
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token is not None
        answer = client.post(
            f"/cases/{CE_CASE}/advance",
            data={
                "csrf_token": token.group(1),
                "event": "contar_colmeias",
                "ev.hives": "7",
                "ev.apiary": "",
                "expected_version": "2",
            },
        )
        assert answer.status_code == 303, answer.text
    with toy_rt.db.read() as session:
        last = queries.history(session, CE_CASE)[-1]
    assert (last["event"], last["evidence"]) == ("contar_colmeias", {"hives": 7, "apiary": ""})


def test_a_declaration_that_lacks_a_part_is_refused_at_start(toy_file: Path) -> None:
    config = load_lifecycle(toy_file).config
    without_moves = EventSpec("voar", "Voar", "Fly", HiveCount, enough_hives, "")
    with pytest.raises(DeclarationError, match="event voar: no moves"):
        Lifecycle(config, (*EVENTS, without_moves))
    unknown_state = EventSpec(
        "voar", "Voar", "Fly", HiveCount, enough_hives, "", ((("nuvem",), None),)
    )
    with pytest.raises(DeclarationError, match="event voar: unknown state nuvem"):
        Lifecycle(config, (*EVENTS, unknown_state))
    swept = EventSpec(
        "voar", "Voar", "Fly", HiveCount, enough_hives, "", ((("registrada",), None),), sweep=True
    )
    with pytest.raises(
        DeclarationError, match=r"a sweep fires it, but it needs evidence \(hives\)"
    ):
        Lifecycle(config, (*EVENTS, swept))
    twice = EventSpec(
        "voar",
        "Voar",
        "Fly",
        HiveCount,
        enough_hives,
        "",
        ((("registrada",), None),),
        command="note",
    )
    with pytest.raises(DeclarationError, match="command note declared twice"):
        Lifecycle(config, (*EVENTS, twice))
    no_label = EventSpec("voar", "", "Fly", HiveCount, enough_hives, "", ((("registrada",), None),))
    with pytest.raises(DeclarationError, match="event voar: no label_pt"):
        Lifecycle(config, (*EVENTS, no_label))
    bad_summary = EventSpec(
        "voar",
        "Voar",
        "Fly",
        HiveCount,
        enough_hives,
        "{min_wings} wings",
        ((("registrada",), None),),
    )
    with pytest.raises(DeclarationError, match="event voar: summary"):
        Lifecycle(config, (*EVENTS, bad_summary))
    with pytest.raises(DeclarationError, match="event anotar: declared twice"):
        Lifecycle(config, (*EVENTS, EVENTS[-1]))


def test_a_lifecycle_file_naming_no_declarations_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    path.write_text(text.replace('version = "', 'events = "states.events:NOPE"\nversion = "', 1))
    with pytest.raises(InvalidInput, match=r"states\.events:NOPE cannot be imported"):
        load_lifecycle(path)
