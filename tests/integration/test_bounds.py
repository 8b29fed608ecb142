"""Every input is bounded and the bound is named: each limit at the limit and one past it, on
the operations (every edge), the command line (exit 2) and the API (422); NUL bytes and huge
numbers on both databases; search wildcards; every CSV export neutralises formulas."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app
from notifications import render
from states import queries
from states.bounds import CELL_MAX, EVIDENCE_MAX_BYTES, IMPORT_MAX_BYTES, NOTE_MAX, TEXT_MAX
from states.errors import InvalidInput
from states.models import AuditEvent
from tasks import cases, people
from tasks.runtime import Runtime
from tests.builders import QUIXADA, cli_users, cpf_for, new_case


def events(rt: Runtime) -> int:
    with rt.db.read() as session:
        return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_a_note_of_2000_characters_is_accepted_2001_refused_naming_the_limit(
    rt: Runtime,
) -> None:
    case_id = new_case(rt)
    cases.add_note(rt, case_id, "x" * NOTE_MAX, actor="ana")
    before = events(rt)
    with pytest.raises(InvalidInput, match=f"at most {NOTE_MAX} characters") as refused:
        cases.add_note(rt, case_id, "x" * (NOTE_MAX + 1), actor="ana")
    assert refused.value.field == "evidence.text"
    with pytest.raises(InvalidInput, match=f"note: {NOTE_MAX + 1} characters; at most") as note:
        cases.resume(rt, case_id, actor="ana", note="y" * (NOTE_MAX + 1))
    assert note.value.field == "note"
    assert events(rt) == before


@pytest.mark.parametrize(
    ("event", "field", "others"),
    [
        ("suspender", "reason", {"expected_resume_on": "2026-06-01"}),
        ("cancelar", "reason", {"kind": "desistencia"}),
    ],
)
def test_reasons_are_bounded_at_4000(
    rt: Runtime, event: str, field: str, others: dict[str, str]
) -> None:
    ok, too_long = new_case(rt), new_case(rt)
    cases.advance(rt, ok, event, {field: "r" * TEXT_MAX, **others}, actor="ana")
    before = events(rt)
    with pytest.raises(InvalidInput, match=f"at most {TEXT_MAX} characters") as refused:
        cases.advance(rt, too_long, event, {field: "r" * (TEXT_MAX + 1), **others}, actor="ana")
    assert refused.value.field == f"evidence.{field}"
    assert events(rt) == before


def test_a_whole_evidence_object_is_bounded_at_32_kb(rt: Runtime) -> None:
    case_id = new_case(rt)
    cases.advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    names = [f"Signatário {i:04d} " + "x" * 150 for i in range(200)]  # each name in bounds
    with pytest.raises(InvalidInput, match=f"bytes as JSON; at most {EVIDENCE_MAX_BYTES}"):
        rt.lifecycle.parse_evidence(
            "formalizar_polo",
            {
                "hub_municipality_code": QUIXADA,
                "decided_on": "2026-03-01",
                "adhesion_term": {"signed_on": "2026-03-01", "signatories": names},
            },
        )


def test_nul_bytes_are_refused_on_both_databases_inside_evidence_too(any_rt: Runtime) -> None:
    case_id = new_case(any_rt)
    before = events(any_rt)
    with pytest.raises(InvalidInput, match="text: contains a NUL character"):
        cases.add_note(any_rt, case_id, "antes\x00depois", actor="ana")
    with pytest.raises(InvalidInput, match="NUL"):
        cases.suspend(
            any_rt,
            case_id,
            reason="chuva\x00",
            expected_resume_on=date(2026, 6, 1),
            actor="ana",
        )
    with pytest.raises(InvalidInput, match="community: contains a NUL character"):
        people.register_person(
            any_rt,
            {
                "cpf": cpf_for(77),
                "name": "Maria",
                "community": "Boa\x00Vista",
                "municipality_code": QUIXADA,
            },
            actor="ana",
        )
    assert events(any_rt) == before


def test_a_5000_digit_number_is_a_named_refusal(any_rt: Runtime) -> None:
    case_id = new_case(any_rt)
    cases.advance(any_rt, case_id, "iniciar_analise", {}, actor="ana")
    with pytest.raises(InvalidInput, match="microregion_code: a number of 5000 digits; at most"):
        cases.advance(
            any_rt,
            case_id,
            "aprovar_elegibilidade",
            {"decision": "ok", "pndr_class": "alta_renda", "microregion_code": 10**5000 - 1},
            actor="ana",
        )


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def test_command_line_limits_exit_2_naming_the_field(
    cli: CliRunner, rt: Runtime, tmp_path: Path
) -> None:
    case_id = str(new_case(rt))
    ok = cli.invoke(app, ["case", "note", case_id, "n" * NOTE_MAX, "--by", "ana"])
    assert ok.exit_code == 0, ok.stderr
    before = events(rt)
    long = cli.invoke(app, ["case", "note", case_id, "n" * (NOTE_MAX + 1), "--by", "ana"])
    assert long.exit_code == 2
    assert f"text: String should have at most {NOTE_MAX} characters" in long.stderr
    huge = tmp_path / "huge.json"
    huge.write_text('{"text": ' + "9" * 5000 + "}")
    answer = cli.invoke(
        app, ["case", "advance", case_id, "anotar", "--evidence-file", str(huge), "--by", "ana"]
    )
    assert answer.exit_code == 2
    assert "Traceback" not in answer.output
    assert len(answer.stderr.strip().splitlines()) == 1
    assert events(rt) == before


def test_an_import_cell_past_the_limit_and_a_5_mb_field_are_named(
    cli: CliRunner, rt: Runtime, tmp_path: Path
) -> None:
    case_id = str(new_case(rt))
    sheet = tmp_path / "people.csv"
    sheet.write_text(
        "cpf,name,community,municipality_code\n"
        f"{cpf_for(1)},{'N' * (CELL_MAX + 1)},Boa Vista,{QUIXADA}\n"
    )
    answer = cli.invoke(app, ["person", "import", str(sheet), "--case", case_id, "--by", "ana"])
    assert answer.exit_code == 2
    assert "line 2, column 2: 1,001 characters; at most 1,000" in answer.stderr  # CELL_MAX + 1
    sheet.write_text(f'cpf,name,community,municipality_code\n{cpf_for(1)},"{"x" * 5_000_000}"')
    answer = cli.invoke(app, ["person", "import", str(sheet), "--case", case_id, "--by", "ana"])
    assert answer.exit_code == 2
    assert "participants file: line 2" in answer.stderr
    assert "Traceback" not in answer.output
    with pytest.raises(InvalidInput, match=f"at most {IMPORT_MAX_BYTES}"):
        people.import_participants(
            rt, "cpf,name\n" + "x" * IMPORT_MAX_BYTES, case_id=int(case_id), actor="ana"
        )


def test_search_wildcards_match_themselves(rt: Runtime) -> None:
    new_case(rt, community="Vila 100% Mel")
    new_case(rt, community="Sítio Boa_Vista")
    new_case(rt, community="Assentamento Esperança")
    today = date(2026, 3, 2)
    with rt.db.read() as session:

        def found(text: str) -> list[str]:
            rows = queries.list_cases(session, queries.CaseFilter(search=text), today=today)
            return sorted(r["community"] for r in rows)

        assert found("%") == ["Vila 100% Mel"]
        assert found("_") == ["Sítio Boa_Vista"]
        assert found("a_V") == ["Sítio Boa_Vista"]
        assert found("Esperan") == ["Assentamento Esperança"]


FORMULAS = ('=HYPERLINK("http://x","y")', "@SUM(1+1)", "+1", "-1+2", "\tx", "\rx")


def test_case_history_csv_neutralises_formulas(cli: CliRunner, rt: Runtime) -> None:
    case_id = new_case(rt)
    for text in FORMULAS:
        cases.advance(rt, case_id, "anotar", {"text": "ok"}, actor="ana", note=text)
    answer = cli.invoke(app, ["case", "history", str(case_id), "--csv"])
    assert answer.exit_code == 0, answer.stderr
    rows = list(csv.DictReader(io.StringIO(answer.stdout)))
    notes = [r["note"] for r in rows if r["note"]]
    # notes are stripped when recorded, so a tab or CR formula arrives without its lead
    assert notes[:4] == ["'" + f for f in FORMULAS[:4]]
    assert all(not n.startswith(("=", "+", "-", "@", "\t", "\r")) for n in notes)


def test_person_export_neutralises_formulas(
    cli: CliRunner, rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUZIR_PSEUDONYM_KEY", "a-test-key-of-enough-length")
    case_id = new_case(rt)
    people.register_person(
        rt,
        {
            "cpf": cpf_for(5),
            "name": "Maria",
            "community": '=HYPERLINK("http://x","y")',
            "municipality_code": QUIXADA,
        },
        actor="ana",
        case_id=case_id,
    )
    answer = cli.invoke(app, ["person", "export", "--case", str(case_id), "--by", "ana"])
    assert answer.exit_code == 0, answer.stderr
    rows = list(csv.DictReader(io.StringIO(answer.stdout)))
    cells = [value for row in rows for value in row.values()]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert all(not c.startswith(("=", "+", "@", "\t", "\r")) for c in cells)


def test_an_override_whose_sample_render_is_too_big_is_refused_at_save() -> None:
    with pytest.raises(InvalidInput, match=r"at most 100000|over 100000 characters"):
        render.validate_override("reminder", "pt-BR", "text", "{{ 'x' * 10000 * 10000 }}")
    loop = "{% for c in 'abcdefghij' %}{% for d in 'abcdefghij' %}{{ 'y' * 2000 }}"
    with pytest.raises(InvalidInput, match="over 100000 characters"):
        render.validate_override("reminder", "pt-BR", "text", loop + "{% endfor %}{% endfor %}")
    render.validate_override("reminder", "pt-BR", "text", "{{ 'x' * 1000 }}")
