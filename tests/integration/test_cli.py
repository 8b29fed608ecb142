"""The `produzir` command line as a coordinator and an auditor use it: outputs and exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

import migrations
from console.cli import app
from states.models import AuditEvent, Case
from tasks.runtime import Runtime
from tests.builders import add_participants, cli_users, drive, evidence_for, new_case, today_of

DEMAND_ARGS = [
    "demand",
    "register",
    "--by",
    "ana",
    "--municipality",
    "2311306",
    "--community",
    "Assentamento Boa Vista",
    "--forum",
    "Fórum Territorial do Sertão Central",
    "--forum-date",
    "2026-02-20",
    "--activity",
    "apicultura",
    "--proponent",
    "Associação dos Apicultores",
]


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose `produzir` talks to the test's database."""
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code not in (0, 1):
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ")
        assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.stderr


def counts(rt: Runtime) -> tuple[int, int]:
    with rt.db.read() as s:
        cases = s.execute(select(func.count()).select_from(Case)).scalar_one()
        events = s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    return cases, events


def test_register_then_advance_and_read_history(cli: CliRunner, rt: Runtime) -> None:
    out = run(cli, *DEMAND_ARGS, "--cnpj", "12.ABC.345/01DE-35", "--json")
    case_id = json.loads(out)["case_id"]
    run(cli, "case", "advance", str(case_id), "iniciar_analise", "--by", "ana")
    shown = json.loads(run(cli, "case", "show", str(case_id), "--json"))
    assert shown["state"] == "em_analise"
    assert shown["proponent_cnpj"] == "12ABC34501DE35"
    assert "aprovar_elegibilidade" in shown["allowed_events"]
    history = json.loads(run(cli, "case", "history", str(case_id), "--json"))
    assert [e["event"] for e in history] == ["registrar", "iniciar_analise"]
    assert history[0]["leaf_index"] < history[1]["leaf_index"]
    table = run(cli, "case", "history", str(case_id))
    assert "registrada -> em_analise" in table


def test_evidence_file_and_note(cli: CliRunner, rt: Runtime, tmp_path: Path) -> None:
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "mobilizacao")  # type: ignore[arg-type]
    add_participants(rt, case_id)
    evidence = evidence_for("concluir_mobilizacao", today_of(rt.clock))  # type: ignore[arg-type]
    path = tmp_path / "mobilizacao.json"
    path.write_text(json.dumps(evidence), encoding="utf-8")
    out = run(
        cli,
        "case",
        "advance",
        str(case_id),
        "concluir_mobilizacao",
        "--by",
        "ana",
        "--evidence-file",
        str(path),
        "--note",
        "Lista de pré-inscritos conferida",
    )
    assert "mobilizacao -> capacitacao" in out
    history = json.loads(run(cli, "case", "history", str(case_id), "--json"))
    assert history[-1]["note"] == "Lista de pré-inscritos conferida"
    assert history[-1]["evidence"]["diagnosis"] == evidence["diagnosis"]
    assert history[-1]["evidence"]["records_checked"] == {"participants": 40}


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--municipality", "1234567"], 2, "municipality 1234567 is not in IBGE's list"),
        (["--cnpj", "11.222.333/0001-00"], 2, "is not a valid CNPJ"),
        (["--forum-date", "2099-01-01"], 2, "forum_held_on Jan 1, 2099 is in the future"),
        (["--forum-date", "20/02/2026"], 2, "forum_held_on"),
    ],
)
def test_bad_demand_is_refused_and_writes_nothing(
    cli: CliRunner, rt: Runtime, args: list[str], code: int, says: str
) -> None:
    before = counts(rt)
    err = run(cli, *DEMAND_ARGS, *args, code=code)
    assert says in err
    assert counts(rt) == before


def test_refusals_have_exit_codes_and_write_nothing(
    cli: CliRunner, rt: Runtime, tmp_path: Path
) -> None:
    case_id = str(new_case(rt))
    before = counts(rt)
    err = run(cli, "case", "advance", case_id, "concluir_gestao", "--by", "ana", code=4)
    assert "case " + case_id + " is in state Registered" in err  # the label, not the code
    err = run(cli, "case", "advance", "999", "iniciar_analise", "--by", "ana", code=3)
    assert "case 999 does not exist" in err
    err = run(cli, "case", "advance", case_id, "voar", "--by", "ana", code=2)
    assert "unknown event 'voar'" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"reason": "x",', encoding="utf-8")
    err = run(
        cli,
        "case",
        "advance",
        case_id,
        "suspender",
        "--by",
        "ana",
        "--evidence-file",
        str(bad),
        code=2,
    )
    assert "not valid JSON" in err
    err = run(
        cli,
        "case",
        "advance",
        case_id,
        "suspender",
        "--by",
        "ana",
        "--evidence-file",
        str(tmp_path / "missing.json"),
        code=2,
    )
    assert "cannot be read" in err
    err = run(
        cli,
        "case",
        "suspend",
        case_id,
        "--by",
        "ana",
        "--reason",
        "x",
        "--until",
        "2026-13-01",
        code=2,
    )
    assert "--until" in err
    err = run(cli, "case", "advance", case_id, "iniciar_analise", "--by", "Ana Maria", code=4)
    assert "--by ana maria: no such user" in err
    assert counts(rt) == before


def test_guard_refusal_names_the_missing_evidence(cli: CliRunner, rt: Runtime) -> None:
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "mobilizacao")  # type: ignore[arg-type]
    add_participants(rt, case_id, 31)
    evidence = evidence_for("concluir_mobilizacao", today_of(rt.clock))  # type: ignore[arg-type]
    before = counts(rt)
    err = run(
        cli,
        "case",
        "advance",
        str(case_id),
        "concluir_mobilizacao",
        "--by",
        "ana",
        "--evidence",
        json.dumps(evidence),
        code=4,
    )
    assert "31 participants pre-registered; at least 40 needed" in err
    assert counts(rt) == before


def test_conflict_names_who_changed_the_case(cli: CliRunner, rt: Runtime) -> None:
    case_id = str(new_case(rt))
    run(cli, "case", "assign", case_id, "bia", "--by", "carlos")
    err = run(
        cli,
        "case",
        "advance",
        case_id,
        "iniciar_analise",
        "--by",
        "ana",
        "--expect-version",
        "1",
        code=5,
    )
    assert "changed by carlos" in err
    assert "now version 2, you expected 1" in err
    run(cli, "case", "advance", case_id, "iniciar_analise", "--by", "ana", "--expect-version", "2")


def test_side_steps_suspend_resume_cancel_reopen(cli: CliRunner, rt: Runtime) -> None:
    case_id = str(new_case(rt))
    run(
        cli,
        "case",
        "suspend",
        case_id,
        "--by",
        "ana",
        "--reason",
        "Período de chuvas impede o acesso.",
        "--until",
        "2099-01-10",
    )
    assert json.loads(run(cli, "case", "show", case_id, "--json"))["state"] == "suspensa"
    run(cli, "case", "resume", case_id, "--by", "ana")
    run(
        cli,
        "case",
        "cancel",
        case_id,
        "--by",
        "ana",
        "--reason",
        "A associação desistiu da proposta.",
    )
    run(
        cli,
        "case",
        "reopen",
        case_id,
        "--by",
        "ana",
        "--justification",
        "A associação reconsiderou em assembleia.",
    )
    err = run(cli, "case", "approve", case_id, "--by", "ana", code=4)
    assert "a different person must decide it" in err
    run(cli, "case", "approve", case_id, "--by", "bia")
    assert json.loads(run(cli, "case", "show", case_id, "--json"))["state"] == "registrada"


def test_list_filters_and_summary(cli: CliRunner, rt: Runtime) -> None:
    ce = new_case(rt)  # Quixadá, CE, registered at the fixture clock: overdue by now
    pe = new_case(rt, municipality_code=2611101)  # Petrolina, PE
    run(cli, "case", "assign", str(pe), "joao", "--by", "ana")
    listed = json.loads(run(cli, "case", "list", "--uf", "CE", "--json"))
    assert [c["id"] for c in listed["cases"]] == [ce]
    listed = json.loads(run(cli, "case", "list", "--coordinator", "joao", "--json"))
    assert [c["id"] for c in listed["cases"]] == [pe]
    listed = json.loads(run(cli, "case", "list", "--overdue", "--json"))
    assert {c["id"] for c in listed["cases"]} == {ce, pe}
    assert all(c["days_late"] > 0 for c in listed["cases"])
    listed = json.loads(run(cli, "case", "list", "--search", "Petrol", "--json"))
    assert [c["id"] for c in listed["cases"]] == [pe]
    summary = {r["state"]: r for r in json.loads(run(cli, "case", "summary", "--json"))}
    assert summary["registrada"]["cases"] == 2
    assert summary["registrada"]["overdue"] == 2
    run(cli, "case", "list", "--state", "voando", code=2)
    run(cli, "case", "list", "--uf", "Ceará", code=2)


def test_case_as_it_was(cli: CliRunner, rt: Runtime) -> None:
    case_id = new_case(rt)  # registered 2026-03-02 10:00 Brasília
    drive(rt, rt.clock, case_id, "polo_definido")  # type: ignore[arg-type]  # one day per step
    then = json.loads(run(cli, "case", "show", str(case_id), "--at", "2026-03-02", "--json"))
    assert then["state"] == "registrada"
    then = json.loads(run(cli, "case", "show", str(case_id), "--at", "2026-03-03T12:00", "--json"))
    assert then["state"] == "em_analise"
    err = run(cli, "case", "show", str(case_id), "--at", "2020-01-01", code=3)
    assert "registered later" in err
    run(cli, "case", "show", str(case_id), "--at", "ontem", code=2)


def test_history_csv_for_an_auditor(cli: CliRunner, rt: Runtime) -> None:
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "em_analise")  # type: ignore[arg-type]
    out = run(cli, "case", "history", str(case_id), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["event"] for r in rows] == ["registrar", "iniciar_analise"]
    assert json.loads(rows[0]["evidence"])["municipality_code"] == 2311306


def forge_third_entry(rt: Runtime, case_id: int) -> tuple[int, int]:
    """Rewrite the actor of the case's third entry behind the triggers; its (seq, leaf)."""
    with rt.db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER audit_events_no_update"))
        # the case's third entry (the command-line users' entries come first)
        seq, leaf, entry = conn.execute(
            text(
                "SELECT seq, leaf_index, entry FROM audit_events WHERE case_id = :c "
                "ORDER BY seq LIMIT 1 OFFSET 2"
            ),
            {"c": case_id},
        ).one()
        forged = entry.replace('"actor":"ana"', '"actor":"mallory"')
        assert forged != entry
        conn.execute(
            text("UPDATE audit_events SET entry = :e WHERE seq = :s"), {"e": forged, "s": seq}
        )
    return int(seq), int(leaf)


def test_audit_verify_exit_codes(cli: CliRunner, rt: Runtime) -> None:
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "gestao")  # type: ignore[arg-type]
    events = counts(rt)[1]
    assert events > 6  # the case's 6 events and those of its records (people, ECC, ...)
    out = run(cli, "audit", "verify", "--by", "admin")
    assert f"audit log intact: {events} entries checked from leaf 0; tree of {events} leaves" in out
    seq, leaf = forge_third_entry(rt, case_id)
    err = run(cli, "audit", "verify", "--by", "admin", "--full", code=1)
    assert f"BROKEN at leaf {leaf} (changed)" in err
    assert f"(seq {seq})" in err
    report = json.loads(
        cli.invoke(app, ["audit", "verify", "--by", "admin", "--full", "--json"]).stdout
    )
    assert report["ok"] is False
    assert (report["problem"]["seq"], report["problem"]["leaf_index"]) == (seq, leaf)


def test_audit_verify_speaks_portuguese(
    cli: CliRunner, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The audit commands' sentences, and the problem the verification names, come from the
    catalogs like every other (PRODUZIR_LANG=pt-BR)."""
    monkeypatch.setenv("PRODUZIR_LANG", "pt-BR")
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "mobilizacao")  # type: ignore[arg-type]
    events = counts(rt)[1]
    out = run(cli, "audit", "verify", "--by", "admin")
    assert out.startswith(
        f"registro de auditoria íntegro: {events} entradas conferidas a partir da folha 0; "
        f"árvore de {events} folhas, raiz "
    )
    seq, leaf = forge_third_entry(rt, case_id)
    err = run(cli, "audit", "verify", "--by", "admin", "--full", code=1)
    assert err.startswith(
        f"registro de auditoria ADULTERADO em folha {leaf} (changed): a entrada da folha {leaf} "
        f"(seq {seq}) não corresponde ao hash da sua folha: o seu conteúdo foi alterado"
    ), err


def test_unmigrated_database_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    cli = CliRunner()
    err = run(cli, "case", "list", code=1)
    assert "run `produzir db upgrade`" in err
    assert f"revision {migrations.head_revision()}" in run(cli, "db", "upgrade")
    assert "0 of 0 cases" in run(cli, "case", "list")


def test_lifecycle_diagram_and_show(cli: CliRunner) -> None:
    diagram = run(cli, "lifecycle", "diagram", "--lang", "pt-BR")
    assert "flowchart TB" in diagram
    assert 'capacitacao concluir_capacitacao@-->|"Concluir capacitação (ECC)"| gestao' in diagram
    assert 'capacitacao("Capacitação em campo (ECC)")' in diagram
    assert "Qualquer estado em andamento" in diagram
    english = run(cli, "lifecycle", "diagram", "--lang", "en")
    assert 'capacitacao("Field training (ECC)")' in english
    assert "Any state in progress" in english
    shown = json.loads(run(cli, "lifecycle", "show", "--json"))
    assert shown["deadlines"]["em_analise"] == {
        "days": 30,
        "extension_days": 30,
        "max_extensions": 1,
    }
    assert shown["thresholds"]["min_participants"] == 40
