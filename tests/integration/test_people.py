"""Participants as a coordinator registers them: one person per CPF, in as many cases as they
take part in, and spreadsheets imported all or nothing with the bad lines named."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

import console.cli  # noqa: F401  (the root CLI first: it may register the person group)
from console.cli_person import app
from states.errors import InvalidInput, NotAllowed
from states.models import AuditEvent
from states.records import CaseParticipant, Person
from tasks.people import ImportRejected, import_participants, preregister, register_person
from tasks.runtime import Runtime
from tests.builders import QUIXADA, cli_users, cpf_for, drive, new_case
from tests.integration.helpers import verify

FORTALEZA = 2304400


def person(n: int, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "cpf": cpf_for(n),
        "name": f"Maria das Dores {n}",
        "community": "Assentamento Boa Vista",
        "municipality_code": QUIXADA,
    }
    values.update(overrides)
    return values


def cpf_with_leading_zero() -> str:
    """A valid CPF starting with 0 (a spreadsheet shows it as a 10-digit number)."""
    base = [0, 1, 2, 3, 4, 5, 6, 7, 8]
    for start in (10, 11):
        total = sum(d * w for d, w in zip(base, range(start, 1, -1), strict=False))
        base.append((total * 10 % 11) % 10)
    return "".join(map(str, base))


def counts(rt: Runtime) -> tuple[int, int, int]:
    """(people, pre-registrations, audit events)."""
    with rt.db.read() as s:
        return (
            s.execute(select(func.count()).select_from(Person)).scalar_one(),
            s.execute(select(func.count()).select_from(CaseParticipant)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        )


def cases_of(rt: Runtime, person_id: int) -> list[int]:
    with rt.db.read() as s:
        return list(
            s.execute(
                select(CaseParticipant.case_id)
                .where(CaseParticipant.person_id == person_id)
                .order_by(CaseParticipant.case_id)
            ).scalars()
        )


def person_id_of(rt: Runtime, cpf: str) -> int:
    with rt.db.read() as s:
        return s.execute(select(Person.id).where(Person.cpf == cpf)).scalar_one()


def csv_file(rows: list[str], header: str = "cpf,name,community,municipality_code") -> str:
    return "\n".join([header, *rows]) + "\n"


def row(n: int, *, cpf: str | None = None, name: str | None = None, code: int = QUIXADA) -> str:
    return f"{cpf if cpf is not None else cpf_for(n)},{name if name is not None else f'Pessoa {n}'},Boa Vista,{code}"


# ------------------------------------------------------------------------- registration


def test_invalid_cpf_is_refused_and_nothing_written(rt: Runtime) -> None:
    before = counts(rt)
    with pytest.raises(InvalidInput, match="not a valid CPF"):
        register_person(rt, person(1, cpf="123.456.789-00"), actor="ana")
    assert counts(rt) == before


def test_duplicate_cpf_is_refused_naming_the_existing_person(rt: Runtime) -> None:
    first = register_person(rt, person(1), actor="ana")
    before = counts(rt)
    formatted = f"{cpf_for(1)[:3]}.{cpf_for(1)[3:6]}.{cpf_for(1)[6:9]}-{cpf_for(1)[9:]}"
    with pytest.raises(InvalidInput, match=f"already registered as person {first.person_id}$"):
        register_person(rt, person(1, cpf=formatted, name="Outra Pessoa"), actor="bruno")
    assert counts(rt) == before


def test_a_person_takes_part_in_two_cases(rt: Runtime) -> None:
    case_a, case_b = new_case(rt), new_case(rt, community="Sítio Lagoa")
    registered = register_person(rt, person(1), actor="ana", case_id=case_a)
    preregister(rt, case_b, registered.person_id, actor="ana")
    assert cases_of(rt, registered.person_id) == [case_a, case_b]
    with pytest.raises(InvalidInput, match=f"already pre-registered in case {case_b}"):
        preregister(rt, case_b, registered.person_id, actor="ana")


def test_register_with_a_case_is_one_transaction(rt: Runtime, clock) -> None:
    closed = new_case(rt)
    drive(rt, clock, closed, "cancelada")
    before = counts(rt)
    with pytest.raises(NotAllowed, match="cancelada"):
        register_person(rt, person(1), actor="ana", case_id=closed)
    assert counts(rt) == before  # the person was not registered either


# ------------------------------------------------------------------------- CSV import


def test_800_rows_with_a_bad_row_at_line_734_write_nothing(any_rt: Runtime) -> None:
    case_id = new_case(any_rt)
    rows = [row(n) for n in range(1, 801)]
    rows[732] = row(733, cpf="111.111.111-11")  # data row 733 is line 734 of the file
    before = counts(any_rt)
    with pytest.raises(ImportRejected) as refused:
        import_participants(any_rt, csv_file(rows), case_id=case_id, actor="ana")
    assert refused.value.problems == [(734, "invalid CPF '111.111.111-11'")]
    assert "line 734: invalid CPF" in str(refused.value)
    assert counts(any_rt) == before  # no people, no pre-registrations, no audit events


def test_every_bad_row_is_listed_by_its_line(rt: Runtime) -> None:
    case_id = new_case(rt)
    already = register_person(rt, person(90), actor="ana", case_id=case_id)
    rows = [
        row(1),  # line 2: fine
        row(2, name=""),  # line 3
        row(3, cpf="123"),  # line 4
        row(4, cpf=cpf_for(1)),  # line 5: same CPF as line 2
        row(5, code=9999999),  # line 6
        row(90),  # line 7: already in the case
        f"{cpf_for(6)},Pessoa 6",  # line 8: too few fields
        row(7, code=0),  # line 9
    ]
    before = counts(rt)
    with pytest.raises(ImportRejected) as refused:
        import_participants(rt, csv_file(rows), case_id=case_id, actor="ana")
    message = str(refused.value)
    lines = message.splitlines()
    assert lines[0] == "participants file: 7 bad rows, nothing was imported:"
    assert [line.split(":")[0] for line in lines[1:]] == [f"line {n}" for n in range(3, 10)]
    assert "line 3: missing name" in message
    assert "line 4: invalid CPF '123'" in message
    assert "line 5: duplicate CPF (same as line 2)" in message
    assert "line 6: unknown municipality 9999999" in message
    assert f"line 7: CPF already registered as person {already.person_id}" in message
    assert f"already pre-registered in case {case_id}" in message
    assert "line 8: 2 fields, the header has 4" in message
    assert "line 9: municipality '0' is not an IBGE code" in message
    assert counts(rt) == before


def test_a_good_file_imports_and_reuses_an_existing_cpf(any_rt: Runtime) -> None:
    first_case, case_id = new_case(any_rt), new_case(any_rt, community="Sítio Lagoa")
    known = register_person(any_rt, person(7), actor="ana", case_id=first_case)
    header = "cpf,name,community,municipality_code,phone,email"
    rows = [
        f"{cpf_for(1)},José Pereira,Sítio Lagoa,{QUIXADA},(85) 99999-0001,jose@example.org",
        f'{cpf_for(2)},"Silva, Ana",Sítio Lagoa,{FORTALEZA},,',
        f"{cpf_for(7)},Maria das Dores 7,Boa Vista,{QUIXADA},,",
    ]
    report = import_participants(any_rt, csv_file(rows, header), case_id=case_id, actor="ana")
    assert (report.created, report.existing, report.preregistered) == (2, 1, 3)
    assert report.warnings == []
    assert cases_of(any_rt, known.person_id) == [first_case, case_id]
    with any_rt.db.read() as s:
        jose, ana = (
            s.execute(
                select(Person.name, Person.municipality_code, Person.phone, Person.email).where(
                    Person.cpf == cpf
                )
            ).one()
            for cpf in (cpf_for(1), cpf_for(2))
        )
    assert tuple(jose) == ("José Pereira", QUIXADA, "85999990001", "jose@example.org")
    assert tuple(ana) == ("Silva, Ana", FORTALEZA, None, None)
    assert verify(any_rt.db).ok


def test_semicolon_bom_crlf_portuguese_header_and_dropped_leading_zero(rt: Runtime) -> None:
    case_id = new_case(rt)
    zero = cpf_with_leading_zero()
    text = (
        "\ufeffCPF;Nome;Comunidade;Município\r\n"
        f"{cpf_for(1)};Antônia Lima;Boa Vista;{QUIXADA}\r\n"
        "\r\n"
        f"{zero.lstrip('0')};Raimundo Nonato;Boa Vista;{QUIXADA}\r\n"
    )
    report = import_participants(rt, text, case_id=case_id, actor="ana")
    assert (report.created, report.existing, report.preregistered) == (2, 0, 2)
    assert cases_of(rt, person_id_of(rt, zero)) == [case_id]


def test_existing_cpf_under_another_name_is_reused_with_a_warning(rt: Runtime) -> None:
    case_id = new_case(rt)
    known = register_person(rt, person(5, name="Francisca Alves"), actor="ana")
    other = new_case(rt, community="Sítio Lagoa")
    same = import_participants(
        rt, csv_file([row(5, name="FRANCISCA  ALVES")]), case_id=other, actor="ana"
    )
    assert (same.existing, same.warnings) == (1, [])  # case and spacing do not count
    report = import_participants(
        rt, csv_file([row(5, name="Francisca Souza")]), case_id=case_id, actor="ana"
    )
    assert report.existing == 1
    assert [str(w) for w in report.warnings] == [
        f"line 2: CPF already registered as person {known.person_id} under a different name; "
        "the existing record was kept"
    ]
    with rt.db.read() as s:
        name = s.execute(select(Person.name).where(Person.id == known.person_id)).scalar_one()
    assert name == "Francisca Alves"


def test_header_problems_are_line_1(rt: Runtime) -> None:
    case_id = new_case(rt)
    with pytest.raises(ImportRejected) as refused:
        import_participants(
            rt, csv_file([row(1)], "cpf,name,municipality_code,idade"), case_id=case_id, actor="ana"
        )
    assert refused.value.problems[0][0] == 1
    assert "unknown column 'idade'" in str(refused.value)
    assert "missing column community" in str(refused.value)
    with pytest.raises(InvalidInput, match="no participant rows"):
        import_participants(rt, csv_file([]), case_id=case_id, actor="ana")


# ------------------------------------------------------------------------- command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def invoke(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.stderr


def add_args(n: int, *extra: str) -> list[str]:
    return [
        "add",
        "--by",
        "ana",
        "--cpf",
        cpf_for(n),
        "--name",
        f"Pessoa {n}",
        "--community",
        "Boa Vista",
        "--municipality",
        str(QUIXADA),
        *extra,
    ]


def test_cli_add_preregister_and_duplicates(cli: CliRunner, rt: Runtime) -> None:
    case_a, case_b = new_case(rt), new_case(rt, community="Sítio Lagoa")
    out = invoke(cli, *add_args(1, "--phone", "85 3333-4444", "--case", str(case_a)))
    pid = person_id_of(rt, cpf_for(1))
    assert out.strip() == f"person {pid} registered and pre-registered in case {case_a}"
    out = invoke(cli, "preregister", str(case_b), str(pid), "--by", "ana")
    assert out.startswith(f"person {pid} pre-registered in case {case_b} on ")
    assert cases_of(rt, pid) == [case_a, case_b]
    err = invoke(cli, *add_args(1), code=2)
    assert err.strip() == f"error: CPF {cpf_for(1)} is already registered as person {pid}"
    invalid = add_args(2)
    invalid[invalid.index("--cpf") + 1] = "529.982.247-20"
    err = invoke(cli, *invalid, code=2)
    assert "not a valid CPF" in err
    err = invoke(cli, "preregister", str(case_b), "999", "--by", "ana", code=3)
    assert err.strip() == "error: person 999 does not exist"


def test_cli_import_prints_counts_or_every_bad_line(cli: CliRunner, rt: Runtime, tmp_path) -> None:
    case_id = new_case(rt)
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_file([row(1), row(2, cpf="1"), row(3, name="")]), encoding="utf-8")
    before = counts(rt)
    err = invoke(cli, "import", str(bad), "--case", str(case_id), "--by", "ana", code=2)
    assert err.splitlines() == [
        "error: participants file: 2 bad rows, nothing was imported:",
        "line 3: invalid CPF '1'",
        "line 4: missing name",
    ]
    assert counts(rt) == before
    good = tmp_path / "good.csv"
    good.write_bytes(
        csv_file([row(1), row(2)], "cpf;name;community;municipality_code")
        .replace(",", ";")
        .encode("utf-8-sig")
    )
    out = invoke(cli, "import", str(good), "--case", str(case_id), "--by", "ana")
    assert out.strip() == f"case {case_id}: 2 people created, 0 existing, 2 pre-registered"
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(csv_file([row(4, name="João")]).encode("cp1252"))
    err = invoke(cli, "import", str(latin), "--case", str(case_id), "--by", "ana", code=2)
    assert "line 2 is not UTF-8" in err
    assert verify(rt.db).ok
