"""Lifecycle versions with cases in flight: a version 2027.1 that renames a state, inserts a new
one between two others and changes a deadline; the demo portfolio, built under 2026.3, is
migrated with ``produzir lifecycle migrate`` (dry run first), the audit log still verifies, and
the case as it was before the migration still shows the old version's state.

2027.1 exists only here: its declarations are this module's :data:`STATES_2027` and
:data:`EVENTS_2027` (made with :func:`states.versions.derive`), its file a copy of the shipped
one with the changes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app as cli_app
from demo import DEMO_START, build_demo
from states import evidence as ev
from states import guards as g
from states import queries
from states.audit import iso_utc
from states.clock import FixedClock
from states.config import DEFAULT_FILE
from states.events import EVENTS, EventSpec
from states.lifecycle import Lifecycle, load_lifecycle
from states.models import AuditEvent, Case
from states.states import STATES
from states.versions import Insert, derive
from tasks import cases as ops
from tasks.runtime import Runtime
from tasks.users import add_user
from tests.conftest import sqlite_copy
from tests.integration.helpers import verify

STATES_2027, EVENTS_2027 = derive(
    STATES,
    EVENTS,
    rename={"capacitacao": ("capacitacao_campo", "Capacitação no campo (ECC)", "Field training")},
    insert=[
        Insert(
            "plano_negocios",
            "Plano de negócios aprovado",
            "Business plan approved",
            after="gestao",
            event=EventSpec(
                "aprovar_plano",
                "Aprovar plano de negócios",
                "Approve the business plan",
                ev.NoEvidence,
                g.plans_for_all,
                "a business plan recorded for each enterprise",
                reads=frozenset({"enterprises"}),
            ),
        )
    ],
)
DEMO_CASES = 40


def version_file(folder: Path) -> Path:
    """2027.1: capacitacao renamed, plano_negocios after gestao (20 days), gestao 30 -> 40 days."""
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    text = text.replace(
        'version = "2026.3"',
        f'version = "2027.1"\nstates = "{__name__}:STATES_2027"\nevents = "{__name__}:EVENTS_2027"',
    )
    text = text.replace("[deadlines.capacitacao]", "[deadlines.capacitacao_campo]")
    text = text.replace("[deadlines.gestao]\ndays = 30", "[deadlines.gestao]\ndays = 40")
    text = text.replace(
        "[deadlines.legalizacao]",
        "[deadlines.plano_negocios]\ndays = 20\n\n[deadlines.legalizacao]",
    )
    assert "days = 40" in text
    assert "plano_negocios" in text
    path = folder / "lifecycle-2027.1.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_template(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The demo portfolio under 2026.3 (built once for the module), plus an administrator."""
    folder = tmp_path_factory.mktemp("versions-demo")
    db = sqlite_copy(sqlite_template, folder)
    clock = FixedClock(DEMO_START)
    rt = Runtime(db, lifecycle, clock)
    build_demo(rt, clock, cases=DEMO_CASES, seed=2026)
    add_user(
        rt,
        {"username": "adm.versions", "name": "Adm", "email": "adm@example.org", "role": "admin"},
        actor="system",
    )
    db.dispose()
    return folder / "produzir.db"


@pytest.fixture
def world(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, Path]]:
    """A copy of the demo, the 2027.1 file, and the settings that load both versions (2026.3
    stays the current one until the operator changes PRODUZIR_LIFECYCLE_FILE)."""
    folder = tmp_path / "db"
    folder.mkdir()
    target = folder / "produzir.db"
    target.write_bytes(demo_template.read_bytes())
    new_version = version_file(tmp_path)
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("PRODUZIR_LIFECYCLE_FILES", str(new_version))
    rt = Runtime.open()
    yield rt, new_version
    rt.db.dispose()


def cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def test_the_version_renames_inserts_and_changes_a_deadline(world: tuple[Runtime, Path]) -> None:
    rt, path = world
    new = rt.lifecycle_for("2027.1")
    assert [s.code for s in new.states][:9] == [
        "registrada",
        "em_analise",
        "polo_definido",
        "mobilizacao",
        "capacitacao_campo",
        "gestao",
        "plano_negocios",
        "legalizacao",
        "acompanhamento",
    ]
    assert new.allowed_events("gestao")[:1] == ["concluir_gestao"]
    assert new.spec("concluir_gestao").moves[0] == (("gestao",), "plano_negocios")
    assert new.spec("aprovar_plano").moves == ((("plano_negocios",), "legalizacao"),)
    assert "plano_negocios" in new.spec("suspender").sources
    assert "plano_negocios" in new.spec("retomar").returns_to
    assert new.role("capacitacao_campo") == "capacitacao"
    assert new.config.deadlines["gestao"].days == 40
    assert "| `plano_negocios` | Plano de negócios aprovado |" in new.markdown_table()
    drawn = new.mermaid("pt-BR")  # the diagram is the version's
    assert 'plano_negocios("Plano de negócios aprovado"):::main' in drawn
    assert 'capacitacao_campo("Capacitação no campo (ECC)"):::main' in drawn
    assert re.search(r"gestao concluir_gestao@-->\|[^|]+\| plano_negocios", drawn)
    assert load_lifecycle(path) is new


def test_migrating_the_demo(world: tuple[Runtime, Path]) -> None:
    rt, _ = world
    with rt.db.read() as session:
        before = Counter(session.execute(select(Case.state)).scalars())
        total = session.execute(select(func.count()).select_from(Case)).scalar_one()
        in_gestao = (
            session.execute(select(Case.id).where(Case.state == "gestao").order_by(Case.id))
            .scalars()
            .first()
        )
    assert before["capacitacao"] > 0, before  # the demo has cases where the version changes
    assert before["gestao"] > 0, before
    before_migration = rt.clock.now()

    planned = json.loads(
        cli("lifecycle", "migrate", "--to", "2027.1", "--dry-run", "--by", "adm.versions", "--json")
    )
    assert len(planned["cases"]) == total
    by_case = {c["case"]: c for c in planned["cases"]}
    with rt.db.read() as session:
        assert session.execute(select(Case.lifecycle_version).distinct()).scalars().all() == [
            "2026.3"
        ]  # the dry run changed nothing
        gestao = session.get(Case, in_gestao)
        assert gestao is not None
        entered = gestao.entered_on
    moved = by_case[in_gestao]
    assert moved["to_state"] == "gestao"
    # gestao's new deadline: 40 days from the day the case entered it (rolled to a working day)
    assert (
        entered + timedelta(days=40)
        <= date.fromisoformat(moved["due_on"])
        <= entered + timedelta(days=43)
    )
    renamed = [c for c in planned["cases"] if c["from_state"] == "capacitacao"]
    assert renamed
    assert {c["to_state"] for c in renamed} == {"capacitacao_campo"}
    assert all(c["cannot_move"] is None for c in planned["cases"])
    refusing = [c for c in planned["cases"] if c["would_refuse"]]
    assert refusing  # e.g. cases in gestao whose enterprises lack a business plan
    assert all(w["reason"] for c in refusing for w in c["would_refuse"])

    done = json.loads(
        cli("lifecycle", "migrate", "--to", "2027.1", "--by", "adm.versions", "--json")
    )
    assert [c["to_state"] for c in done["cases"]] == [c["to_state"] for c in planned["cases"]]
    with rt.db.read() as session:
        after = Counter(session.execute(select(Case.state)).scalars())
        versions = session.execute(select(Case.lifecycle_version).distinct()).scalars().all()
        entries = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.event == "migrar_versao")
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )
        first = entries[0]
        assert (first.evidence["from_version"], first.evidence["to_version"]) == (
            "2026.3",
            "2027.1",
        )
        renamed_entry = next(e for e in entries if e.from_state == "capacitacao")
        assert renamed_entry.to_state == "capacitacao_campo"
        assert renamed_entry.evidence["map"] == {"capacitacao": "capacitacao_campo"}
        assert renamed_entry.lifecycle_version == "2027.1"
        # the case before the migration: the old version's state and version
        renamed_case = renamed_entry.case_id
        old_view = queries.case_at(session, renamed_case, before_migration)
        new_view = queries.case_detail(session, renamed_entry.case_id, today=rt.today())
    assert versions == ["2027.1"]
    assert len(entries) == total
    assert after["capacitacao_campo"] == before["capacitacao"]
    assert "capacitacao" not in after
    assert (old_view["state"], old_view["lifecycle_version"]) == ("capacitacao", "2026.3")
    assert (new_view["state"], new_view["lifecycle_version"]) == ("capacitacao_campo", "2027.1")
    checked = verify(rt.db)
    assert checked.problem is None
    assert checked.checked == checked.tree_size  # every entry, the migration's included
    shown = cli("case", "show", str(renamed_case), "--at", iso_utc(before_migration))
    assert "capacitacao" in shown
    assert "capacitacao_campo" not in shown


def test_a_migrated_case_runs_under_its_new_version(world: tuple[Runtime, Path]) -> None:
    rt, _ = world
    cli("lifecycle", "migrate", "--to", "2027.1", "--by", "adm.versions")
    with rt.db.read() as session:
        in_gestao = list(
            session.execute(
                select(Case.id, Case.coordinator).where(Case.state == "gestao").order_by(Case.id)
            ).all()
        )
    ready = [
        (case_id, coordinator)
        for case_id, coordinator in in_gestao
        if ops.refusal(rt, case_id, "concluir_gestao", {}, actor="system") is None
    ]
    assert ready, in_gestao  # the demo has a case in gestao whose plans are all recorded
    case_id, coordinator = ready[0]
    moved = ops.advance(rt, case_id, "concluir_gestao", {}, actor=coordinator or "system")
    assert moved.to_state == "plano_negocios"  # 2027.1's inserted state, not legalizacao
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        entered, due = case.entered_on, case.due_on
    assert due is not None
    assert entered + timedelta(days=20) <= due <= entered + timedelta(days=23)  # its 20 days
    leave = ops.advance(rt, case_id, "aprovar_plano", {}, actor=coordinator or "system")
    assert (leave.from_state, leave.to_state) == ("plano_negocios", "legalizacao")


def test_a_state_without_a_counterpart_stays_where_it_is(
    world: tuple[Runtime, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, path = world
    # a variant of 2027.1 that does not say capacitacao_campo renames capacitacao
    text = path.read_text(encoding="utf-8").replace("2027.1", "2027.2")
    plain = tmp_path / "lifecycle-2027.2.toml"
    plain.write_text(text.replace(f"{__name__}:STATES_2027", f"{__name__}:UNRENAMED"))
    monkeypatch.setenv("PRODUZIR_LIFECYCLE_FILES", str(plain))
    out = json.loads(
        cli("lifecycle", "migrate", "--to", "2027.2", "--by", "adm.versions", "--json")
    )
    stuck = [c for c in out["cases"] if c["from_state"] == "capacitacao"]
    assert stuck
    assert all(c["to_state"] is None for c in stuck)
    assert all(
        re.search(r"state capacitacao has no counterpart in lifecycle 2027\.2", c["cannot_move"])
        for c in stuck
    )
    with rt.db.read() as session:
        left = (
            session.execute(
                select(Case.lifecycle_version).where(Case.state == "capacitacao").distinct()
            )
            .scalars()
            .all()
        )
    assert left == ["2026.3"]
    # with the mapping given, they move
    again = json.loads(
        cli(
            "lifecycle",
            "migrate",
            "--to",
            "2027.2",
            "--map",
            "capacitacao=capacitacao_campo",
            "--by",
            "adm.versions",
            "--json",
        )
    )
    # (those in capacitacao, and a closed or suspended case that remembers it, if the demo has one)
    assert all(c["to_state"] is not None for c in again["cases"])
    assert {c["to_state"] for c in again["cases"] if c["from_state"] == "capacitacao"} == {
        "capacitacao_campo"
    }
    bad = cli(
        "lifecycle",
        "migrate",
        "--to",
        "2027.2",
        "--map",
        "capacitacao=nuvem",
        "--by",
        "adm.versions",
        code=2,
    )
    assert "nuvem is not a state of lifecycle 2027.2" in bad
    refused = cli("lifecycle", "migrate", "--to", "2027.2", "--by", "ana.souza", code=4)
    assert "ana.souza" in refused


UNRENAMED = tuple(
    s if s.renamed_from is None else type(s)(s.code, s.label_pt, s.label_en, s.kind, s.role)
    for s in STATES_2027
)


def test_a_second_run_moves_nothing_and_suspended_cases_resume_under_the_new_version(
    world: tuple[Runtime, Path],
) -> None:
    rt, _ = world
    planned = json.loads(
        cli("lifecycle", "migrate", "--to", "2027.1", "--dry-run", "--by", "adm.versions", "--json")
    )
    suspended = [c for c in planned["cases"] if c["from_state"] == "suspensa"]
    assert suspended  # the demo has suspended cases: they remember where they were
    for item in suspended:  # judged as they will be: retomar knows where to return
        assert "retomar" not in [w["event"] for w in item["would_refuse"]], item
        assert item["previous_state"] is not None
    cli("lifecycle", "migrate", "--to", "2027.1", "--by", "adm.versions")
    with rt.db.read() as session:
        entries = session.execute(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "migrar_versao")
        ).scalar_one()
    again = json.loads(
        cli("lifecycle", "migrate", "--to", "2027.1", "--by", "adm.versions", "--json")
    )
    assert again["cases"] == []  # every case is under 2027.1 already
    with rt.db.read() as session:
        assert (
            session.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.event == "migrar_versao")
            ).scalar_one()
            == entries
        )
    first = suspended[0]
    resumed = ops.advance(rt, first["case"], "retomar", {}, actor="adm.versions")
    assert resumed.to_state == first["previous_state"]


def test_a_state_maps_only_to_a_state_of_its_kind(world: tuple[Runtime, Path]) -> None:
    out = json.loads(
        cli(
            "lifecycle",
            "migrate",
            "--to",
            "2027.1",
            "--map",
            "capacitacao=suspensa",
            "--dry-run",
            "--by",
            "adm.versions",
            "--json",
        )
    )
    wrong = [c for c in out["cases"] if c["from_state"] == "capacitacao"]
    assert wrong
    assert all(c["to_state"] is None for c in wrong)
    assert all(
        "capacitacao (active) cannot become suspensa (side)" in c["cannot_move"] for c in wrong
    )


def test_the_board_and_the_case_page_show_cases_under_either_version(
    world: tuple[Runtime, Path],
) -> None:
    from console.web.app import create_app
    from console.web.settings import WebSettings
    from tasks.users import set_password
    from tests.web.conftest import SECRET, TestClient, login  # (TestClient, its warning quiet)

    rt, _ = world
    cli("lifecycle", "migrate", "--to", "2027.1", "--by", "adm.versions")
    set_password(rt, "adm.versions", "uma-senha-longa-2027", actor="system")
    settings = WebSettings(env="test", secret_key=SECRET, cookie_secure="auto")
    with rt.db.read() as session:
        renamed = (
            session.execute(select(Case.id).where(Case.state == "capacitacao_campo"))
            .scalars()
            .first()
        )
    with TestClient(create_app(rt, settings), follow_redirects=False) as client:
        assert login(client, "adm.versions", "uma-senha-longa-2027").status_code == 303
        board = client.get("/")
        assert board.status_code == 200
        assert "Capacitação no campo (ECC)" in board.text  # 2027.1's label, 2026.3 current
        page = client.get(f"/cases/{renamed}")
        assert page.status_code == 200
        assert 'data-lifecycle-version="2027.1"' in page.text
        assert "Capacitação no campo (ECC)" in page.text


def test_cases_in_the_new_states_are_counted_and_can_be_overdue(
    world: tuple[Runtime, Path],
) -> None:
    rt, _ = world
    cli("lifecycle", "migrate", "--to", "2027.1", "--by", "adm.versions")
    with rt.db.read() as session:
        renamed = session.execute(
            select(func.count()).select_from(Case).where(Case.state == "capacitacao_campo")
        ).scalar_one()
        late = session.execute(
            select(Case.id, Case.due_on)
            .where(Case.state == "capacitacao_campo")
            .order_by(Case.due_on)
        ).first()
    assert late is not None
    rows = {r["state"]: r for r in json.loads(cli("case", "summary", "--json"))}
    assert rows["capacitacao_campo"]["cases"] == renamed  # its own line in the summary
    assert "capacitacao" in rows  # the shipped states are all listed
    # past its deadline, a case in the renamed state is overdue like any case in progress
    day_after = late.due_on + timedelta(days=1)
    with rt.db.read() as session:
        detail = queries.case_detail(session, late.id, today=day_after)
        overdue = queries.list_cases(
            session, queries.CaseFilter(state="capacitacao_campo", overdue=True), today=day_after
        )
    assert detail["overdue"] is True
    assert late.id in [c["id"] for c in overdue]
