"""Personal data under the LGPD: every read is logged without the data itself, a data subject
can get everything held on them and who read it, and partners get pseudonyms, never CPFs or
names."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from typer.testing import CliRunner

import console.cli  # noqa: F401  (the root CLI first: it may register the person group)
from console.cli_person import app
from states.clock import FixedClock
from states.errors import InvalidInput, NotFound
from states.models import AuditEvent
from states.records import DataAccess, Person
from tasks.enterprises import form_enterprise
from tasks.people import (
    data_subject_report,
    export_participants,
    preregister,
    read_person,
    register_person,
)
from tasks.runtime import Runtime
from tasks.trainings import complete_event, create_event, enrol, record_attendance
from tests.builders import QUIXADA, cli_users, cpf_for, instructors, new_case, today_of
from tests.integration.helpers import verify

KEY = "chave-secreta-do-programa-2026"
OTHER_KEY = "outra-chave-de-outro-parceiro"
NAMES = {1: "Maria Aparecida Gomes", 2: "Severino Ramos Filho", 3: "Josefa Cândida Nunes"}
PHONE, EMAIL = "85988887777", "maria.gomes@example.org"


@pytest.fixture(autouse=True)
def no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRODUZIR_PSEUDONYM_KEY", raising=False)


@pytest.fixture
def programme(rt: Runtime, clock: FixedClock) -> dict[str, Any]:
    """Two cases; Maria in both, certified in a held 4-day ECC of case A (3 days = 75 %) and a
    member of its enterprise; Severino enrolled too but attended 2 days; Josefa only in case B."""
    case_a, case_b = new_case(rt), new_case(rt, community="Sítio Lagoa")
    maria = register_person(
        rt,
        {
            "cpf": cpf_for(1),
            "name": NAMES[1],
            "community": "Assentamento Boa Vista",
            "municipality_code": QUIXADA,
            "phone": PHONE,
            "email": EMAIL,
        },
        actor="ana",
        case_id=case_a,
    ).person_id
    register_person(rt, person_data(2), actor="ana", case_id=case_a)
    register_person(rt, person_data(3), actor="ana", case_id=case_b)
    severino = person_id(rt, 2)
    preregister(rt, case_b, maria, actor="bruno")
    today = today_of(clock)
    start = today - timedelta(days=3)
    ecc = create_event(
        rt,
        {
            "kind": "ecc",
            "title": "ECC Sertão Central",
            "start_on": start.isoformat(),
            "end_on": today.isoformat(),
            "venue": "Escola Municipal",
            "municipality_code": QUIXADA,
            "instructor_ids": instructors(rt, "Instrutora"),
            "capacity": 10,
            "case_ids": [case_a],
        },
        actor="ana",
    )
    enrol(rt, ecc, [maria, severino], actor="ana")
    record_attendance(rt, ecc, maria, [start + timedelta(days=d) for d in range(3)], actor="ana")
    record_attendance(rt, ecc, severino, [start, start + timedelta(days=1)], actor="ana")
    enterprise = form_enterprise(
        rt,
        {
            "case_id": case_a,
            "name": "Cooperativa Mel do Sertão",
            "activity": "apicultura",
            "formed_on": today.isoformat(),
            "formed_at_event_id": ecc,
            "member_ids": [maria],
        },
        actor="ana",
    )
    complete_event(rt, ecc, actor="ana")
    return {
        "case_a": case_a,
        "case_b": case_b,
        "maria": maria,
        "severino": severino,
        "josefa": person_id(rt, 3),
        "ecc": ecc,
        "enterprise": enterprise,
        "today": today,
    }


def person_data(n: int) -> dict[str, object]:
    return {
        "cpf": cpf_for(n),
        "name": NAMES[n],
        "community": "Assentamento Boa Vista",
        "municipality_code": QUIXADA,
    }


def person_id(rt: Runtime, n: int) -> int:
    with rt.db.read() as s:
        return s.execute(select(Person.id).where(Person.cpf == cpf_for(n))).scalar_one()


def access_rows(rt: Runtime) -> list[dict[str, Any]]:
    with rt.db.read() as s:
        return [
            {c: getattr(a, c) for c in ("id", "at", "actor", "person_id", "purpose", "channel")}
            for a in s.execute(select(DataAccess).order_by(DataAccess.id)).scalars()
        ]


def audit_count(rt: Runtime) -> int:
    with rt.db.read() as s:
        return s.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def personal_values() -> list[str]:
    cpfs = [cpf_for(n) for n in NAMES]
    formatted = [f"{c[:3]}.{c[3:6]}.{c[6:9]}-{c[9:]}" for c in cpfs]
    return [*cpfs, *formatted, *NAMES.values(), PHONE, EMAIL]


def assert_free_of_personal_data(text: str) -> None:
    lowered = text.lower()
    for value in personal_values():
        assert value.lower() not in lowered, f"{value!r} found"


def assert_audit_chain_clean(rt: Runtime) -> None:
    with rt.db.read() as s:
        texts = [
            f"{e.evidence} {e.note or ''} {e.changes}"
            for e in s.execute(select(AuditEvent)).scalars()
        ]
    assert texts
    for text in texts:
        assert_free_of_personal_data(text)
    assert verify(rt.db).ok


# ------------------------------------------------------------------------- access log


def test_each_read_logs_who_when_which_person_why_without_the_data(
    rt: Runtime, clock: FixedClock, programme: dict[str, Any]
) -> None:
    maria = programme["maria"]
    shown = read_person(rt, maria, actor="ana", purpose="confirmar inscrição no ECC")
    assert (shown["name"], shown["cpf"], shown["phone"]) == (NAMES[1], cpf_for(1), PHONE)
    assert shown["case_ids"] == [programme["case_a"], programme["case_b"]]
    clock.advance(timedelta(hours=1))
    by_cpf = read_person(
        rt,
        f"{cpf_for(1)[:3]}.{cpf_for(1)[3:6]}.{cpf_for(1)[6:9]}-{cpf_for(1)[9:]}",
        actor="bruno",
        purpose="ligar sobre a visita",
        channel="web",
    )
    assert by_cpf["id"] == maria
    rows = access_rows(rt)
    assert [(r["actor"], r["person_id"], r["purpose"], r["channel"]) for r in rows] == [
        ("ana", maria, "confirmar inscrição no ECC", "cli"),
        ("bruno", maria, "ligar sobre a visita", "web"),
    ]
    assert rows[1]["at"] - rows[0]["at"] == timedelta(hours=1)
    assert rows[0]["at"] == clock.now() - timedelta(hours=1)
    columns = {c["name"] for c in inspect(rt.db.engine).get_columns("data_access")}
    assert columns == {"id", "at", "actor", "person_id", "purpose", "channel"}
    assert_free_of_personal_data(json.dumps(rows, default=str))
    assert_audit_chain_clean(rt)


@pytest.mark.parametrize(
    ("purpose", "message"),
    [
        ("", "say why"),
        ("  ok ", "say why"),
        (f"ligar para {NAMES[1].upper()}", "must not contain the person's name"),
        (f"conferir CPF {cpf_for(1)}", "must not contain"),
        (f"enviar para {EMAIL}", "must not contain"),
    ],
)
def test_a_read_without_a_purpose_or_quoting_the_person_is_refused(
    rt: Runtime, programme: dict[str, Any], purpose: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_person(rt, programme["maria"], actor="ana", purpose=purpose)
    assert access_rows(rt) == []


def test_a_short_name_is_matched_as_a_word_not_inside_other_words(rt: Runtime) -> None:
    ana = register_person(rt, {**person_data(1), "name": "Ana"}, actor="ana").person_id
    read_person(rt, ana, actor="bruno", purpose="análise do cadastro")
    with pytest.raises(InvalidInput, match="must not contain"):
        read_person(rt, ana, actor="bruno", purpose="ligar para ANA amanhã")
    assert [r["purpose"] for r in access_rows(rt)] == ["análise do cadastro"]


def test_unknown_person_is_not_found_and_not_logged(rt: Runtime, programme: dict) -> None:
    with pytest.raises(NotFound, match="person 999 does not exist"):
        read_person(rt, 999, actor="ana", purpose="conferência")
    with pytest.raises(NotFound, match=f"person with CPF {cpf_for(50)} does not exist"):
        read_person(rt, cpf_for(50), actor="ana", purpose="conferência")
    with pytest.raises(InvalidInput, match="neither a person number nor a valid CPF"):
        read_person(rt, "123.456.789-00", actor="ana", purpose="conferência")
    assert access_rows(rt) == []


# ------------------------------------------------------------------------- data-subject report


def test_report_lists_cases_enrolments_memberships_and_who_read(
    rt: Runtime, programme: dict[str, Any]
) -> None:
    p = programme
    read_person(rt, p["maria"], actor="bruno", purpose="conferir contato")
    report = data_subject_report(rt, cpf_for(1), actor="carla")
    assert report["person"]["id"] == p["maria"]
    assert report["person"]["name"] == NAMES[1]
    assert [(c["case_id"], c["state"], c["municipality_code"]) for c in report["cases"]] == [
        (p["case_a"], "registrada", QUIXADA),
        (p["case_b"], "registrada", QUIXADA),
    ]
    assert [c["registered_by"] for c in report["cases"]] == ["ana", "bruno"]
    (enrolment,) = report["enrolments"]
    assert enrolment["event_id"] == p["ecc"]
    assert (enrolment["kind"], enrolment["title"]) == ("ecc", "ECC Sertão Central")
    assert (enrolment["certification"], enrolment["days_attended"], enrolment["event_days"]) == (
        True,
        3,
        4,
    )
    assert enrolment["held_on"] == p["today"].isoformat()
    assert report["memberships"] == [
        {
            "enterprise_id": p["enterprise"],
            "name": "Cooperativa Mel do Sertão",
            "case_id": p["case_a"],
            "legal_form": None,
            "left_on": None,
            "left_reason": None,
        }
    ]
    assert [(h["event"], h["case_id"]) for h in report["history"]] == [
        ("pessoa_registrada", None),
        ("participante_pre_inscrito", p["case_a"]),
        ("participante_pre_inscrito", p["case_b"]),
    ]
    assert [(a["actor"], a["purpose"], a["channel"]) for a in report["access_log"]] == [
        ("bruno", "conferir contato", "cli"),
        ("carla", "data-subject request", "report"),
    ]
    # the report logged itself
    assert [(r["actor"], r["person_id"], r["channel"]) for r in access_rows(rt)][-1] == (
        "carla",
        p["maria"],
        "report",
    )


def test_report_of_someone_else_holds_only_their_records(
    rt: Runtime, programme: dict[str, Any]
) -> None:
    report = data_subject_report(rt, cpf_for(3), actor="carla")
    assert [c["case_id"] for c in report["cases"]] == [programme["case_b"]]
    assert report["enrolments"] == report["memberships"] == []
    assert [a["actor"] for a in report["access_log"]] == ["carla"]
    with pytest.raises(NotFound, match="person with CPF"):
        data_subject_report(rt, cpf_for(60), actor="carla")


# ------------------------------------------------------------------------- pseudonymised export


def expected_pseudonym(key: str, n: int) -> str:
    return hmac.new(key.encode(), cpf_for(n).encode(), hashlib.sha256).hexdigest()[:32]


def test_pseudonyms_are_stable_keyed_and_hide_cpf_and_name(
    rt: Runtime, programme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = programme
    monkeypatch.setenv("PRODUZIR_PSEUDONYM_KEY", KEY)
    first = export_participants(rt, actor="ana")
    second = export_participants(rt, actor="bruno")
    other = export_participants(rt, key=OTHER_KEY, actor="ana")
    assert first == second
    by_pseudonym = {r["pseudonym"]: r for r in first}
    assert set(by_pseudonym) == {expected_pseudonym(KEY, n) for n in NAMES}
    assert {r["pseudonym"] for r in other} == {expected_pseudonym(OTHER_KEY, n) for n in NAMES}
    assert not set(by_pseudonym) & {r["pseudonym"] for r in other}
    maria = by_pseudonym[expected_pseudonym(KEY, 1)]
    assert maria == {
        "pseudonym": expected_pseudonym(KEY, 1),
        "community": "Assentamento Boa Vista",
        "municipality_code": QUIXADA,
        "uf": "CE",
        "cases": [p["case_a"], p["case_b"]],
        "events": [p["ecc"]],
        "certified": True,
        "enterprises": [p["enterprise"]],
    }
    severino = by_pseudonym[expected_pseudonym(KEY, 2)]
    assert (severino["events"], severino["certified"]) == ([p["ecc"]], False)  # 2 of 4 days
    assert_free_of_personal_data(json.dumps([first, other]))
    assert access_rows(rt) == []  # nobody read names or CPFs
    with rt.db.read() as s:
        exports = s.execute(
            select(AuditEvent.actor, AuditEvent.record_id, AuditEvent.case_id, AuditEvent.entry)
            .where(AuditEvent.record_type == "export")
            .order_by(AuditEvent.seq)
        ).all()
    assert [(e.actor, e.record_id, e.case_id) for e in exports] == [
        ("ana", 3, None),
        ("bruno", 3, None),
        ("ana", 3, None),
    ]
    evidence = [json.loads(e.entry)["evidence"] for e in exports]
    assert [(ev["case_id"], ev["rows"]) for ev in evidence] == [(None, 3)] * 3
    assert evidence[0]["key_id"] == evidence[1]["key_id"] != evidence[2]["key_id"]
    assert KEY not in json.dumps(evidence)
    assert_audit_chain_clean(rt)


def test_export_of_one_case_is_limited_to_it(rt: Runtime, programme: dict[str, Any]) -> None:
    rows = export_participants(rt, case_id=programme["case_b"], key=KEY, actor="ana")
    assert sorted(r["pseudonym"] for r in rows) == sorted(
        expected_pseudonym(KEY, n) for n in (1, 3)
    )
    assert all(r["cases"] == [programme["case_b"]] for r in rows)
    assert all(r["events"] == [] and r["enterprises"] == [] for r in rows)


def test_export_without_a_usable_key_is_refused_and_not_audited(
    rt: Runtime, programme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = audit_count(rt)
    with pytest.raises(InvalidInput, match="set PRODUZIR_PSEUDONYM_KEY"):
        export_participants(rt, actor="ana")
    with pytest.raises(InvalidInput, match="PRODUZIR_PSEUDONYM_KEY is too short"):
        export_participants(rt, key="curta", actor="ana")
    monkeypatch.setenv("PRODUZIR_PSEUDONYM_KEY", "123456789012345")
    with pytest.raises(InvalidInput, match="too short: 15 characters") as refused:
        export_participants(rt, actor="ana")
    assert "123456789012345" not in str(refused.value)
    assert audit_count(rt) == before


def test_certified_needs_a_held_ecc_and_enrolment_for_certification(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    ids = [
        register_person(rt, person_data(n), actor="ana", case_id=case_id).person_id for n in (1, 2)
    ]
    today = today_of(clock)
    ecc = create_event(
        rt,
        {
            "kind": "ecc",
            "title": "ECC",
            "start_on": today.isoformat(),
            "end_on": today.isoformat(),
            "venue": "Escola",
            "municipality_code": QUIXADA,
            "instructor_ids": instructors(rt, "Instrutora"),
            "capacity": 5,
            "case_ids": [case_id],
        },
        actor="ana",
    )
    enrol(rt, ecc, ids[:1], actor="ana")
    enrol(rt, ecc, ids[1:], actor="ana", certification=False)
    for pid in ids:
        record_attendance(rt, ecc, pid, [today], actor="ana")

    def certified() -> list[bool]:
        rows = export_participants(rt, key=KEY, actor="ana")
        by = {r["pseudonym"]: r["certified"] for r in rows}
        return [by[expected_pseudonym(KEY, n)] for n in (1, 2)]

    assert certified() == [False, False]  # not held yet
    complete_event(rt, ecc, actor="ana")
    assert certified() == [True, False]  # the listener attended but was not enrolled to certify


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


def test_cli_show_report_and_export(
    cli: CliRunner, rt: Runtime, programme: dict[str, Any], monkeypatch, tmp_path
) -> None:
    p = programme
    shown = json.loads(
        invoke(
            cli, "show", str(p["maria"]), "--purpose", "conferir cadastro", "--by", "ana", "--json"
        )
    )
    assert (shown["name"], shown["email"]) == (NAMES[1], EMAIL)
    text = invoke(cli, "show", cpf_for(1), "--purpose", "conferir cadastro", "--by", "bruno")
    assert NAMES[1] in text
    err = invoke(cli, "show", str(p["maria"]), "--by", "ana", code=2)
    assert "--purpose" in err
    err = invoke(cli, "show", str(p["maria"]), "--purpose", "x", "--by", "ana", code=2)
    assert err.startswith("error: purpose: say why")

    report = json.loads(invoke(cli, "report", cpf_for(1), "--by", "carla", "--json"))
    assert [(a["actor"], a["channel"]) for a in report["access_log"]] == [
        ("ana", "cli"),
        ("bruno", "cli"),
        ("carla", "report"),
    ]
    table = invoke(cli, "report", cpf_for(1), "--by", "carla")
    assert "Who read this person's data" in table
    assert "Cooperativa Mel do Sertão" in table
    assert "conferir cadastro" in table
    assert cpf_for(1) not in table  # the CPF masked: ***.456.789-**

    err = invoke(cli, "export", "--by", "ana", code=2)
    assert err.strip().startswith(
        "error: a pseudonymised export needs the key: set PRODUZIR_PSEUDONYM_KEY"
    )
    monkeypatch.setenv("PRODUZIR_PSEUDONYM_KEY", KEY)
    out = invoke(cli, "export", "--by", "ana")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "pseudonym",
        "community",
        "municipality_code",
        "uf",
        "cases",
        "events",
        "certified",
        "enterprises",
    ]
    maria = next(r for r in rows if r["pseudonym"] == expected_pseudonym(KEY, 1))
    assert (maria["cases"], maria["certified"]) == (f"{p['case_a']} {p['case_b']}", "yes")
    assert_free_of_personal_data(out)
    target = tmp_path / "parceiro.csv"
    done = invoke(cli, "export", "--case", str(p["case_b"]), "--out", str(target), "--by", "ana")
    assert done.strip() == f"2 participants exported to {target}"
    assert target.read_text(encoding="utf-8").count("\n") == 3
    assert_free_of_personal_data(target.read_text(encoding="utf-8"))

    assert [r["channel"] for r in access_rows(rt)] == ["cli", "cli", "report", "report"]
    assert_audit_chain_clean(rt)

    # the statement in the command line's default language, pt-BR
    monkeypatch.setenv("PRODUZIR_LANG", "pt-BR")
    statement = invoke(cli, "report", cpf_for(1), "--by", "carla")
    assert "Quem leu os dados desta pessoa" in statement
    assert "Casos (pré-cadastros)" in statement
    assert "Who read" not in statement
    assert cpf_for(1) not in statement
