"""The LGPD registers (issue 11): data subjects' requests with their 15-day statement (LGPD
art. 19 II), rectification (art. 18 III) and anonymisation (art. 18 IV, VI) of a person's
record, the partner exports that carried each person (art. 18 VII), and the incident register
with its notices due in 3 working days (Resolução CD/ANPD 15/2024).

Dates are real: Carnaval 2027 is Monday and Tuesday 2027-02-08/09, which close the offices by
default (``PRODUZIR_OFFICE_CLOSURES``); Ash Wednesday 2027-02-10 does not unless configured.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app
from states.calendar import configured_closures
from states.clock import FixedClock
from states.errors import InvalidInput, NotAllowed, NotFound
from states.models import AuditEvent, Base
from states.records import Person
from tasks import lgpd
from tasks.people import data_subject_report, export_participants, read_person, register_person
from tasks.person_rights import anonymise_person, rectify_person
from tasks.runtime import Runtime
from tests.builders import QUIXADA, cli_users, cpf_for, new_case
from tests.integration.helpers import verify

KEY = "chave-secreta-do-programa-2026"
MARIA, SEVERINO = "Maria Aparecida Gomes", "Severino Ramos Filho"
#: Friday before Carnaval 2027, 15:00 in Brasília
FRIDAY = datetime(2027, 2, 5, 18, 0, tzinfo=UTC)


@pytest.fixture
def closures(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set PRODUZIR_OFFICE_CLOSURES for one test (the setting is read once, then cached)."""
    configured_closures.cache_clear()
    yield monkeypatch
    monkeypatch.delenv("PRODUZIR_OFFICE_CLOSURES", raising=False)
    configured_closures.cache_clear()


@pytest.fixture
def people_(rt: Runtime, clock: FixedClock) -> dict[str, int]:
    """Maria in case A and B, Severino in case A only; the clock on Friday 2027-02-05."""
    case_a, case_b = new_case(rt), new_case(rt, community="Sítio Lagoa")
    maria = register_person(
        rt,
        {
            "cpf": cpf_for(1),
            "name": MARIA,
            "community": "Assentamento Boa Vista",
            "municipality_code": QUIXADA,
            "phone": "85988887777",
            "email": "maria.gomes@example.org",
        },
        actor="ana",
        case_id=case_a,
    ).person_id
    severino = register_person(
        rt,
        {
            "cpf": cpf_for(2),
            "name": SEVERINO,
            "community": "Assentamento Boa Vista",
            "municipality_code": QUIXADA,
        },
        actor="ana",
        case_id=case_a,
    ).person_id
    from tasks.people import preregister

    preregister(rt, case_b, maria, actor="ana")
    clock.set(FRIDAY)
    return {"case_a": case_a, "case_b": case_b, "maria": maria, "severino": severino}


def rows_of_every_table(rt: Runtime) -> dict[str, int]:
    with rt.db.read() as session:
        return {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
        }


def person_row(rt: Runtime, person_id: int) -> dict[str, Any]:
    with rt.db.read() as session:
        p = session.get(Person, person_id)
        assert p is not None
        return {c: getattr(p, c) for c in ("cpf", "name", "phone", "email", "community")}


# ------------------------------------------------------------------------- requests


def test_a_request_received_on_the_friday_before_carnaval_is_due_15_days_later(
    rt: Runtime, people_: dict[str, int]
) -> None:
    row = lgpd.add_request(
        rt,
        kind="access",
        channel="email",
        details="quer saber que dados o programa guarda",
        person_id=people_["maria"],
        actor="admin",
    )
    assert row["received_on"] == "2027-02-05"  # today, in Brasília
    # 15 days after Friday 2027-02-05 is Saturday 2027-02-20: the next working day
    assert row["due_on"] == "2027-02-22"
    assert row["article"] == "18 II"
    assert row["confirmed_at"] is None


def test_a_statement_due_on_carnaval_monday_moves_past_the_closures(
    rt: Runtime, people_: dict[str, int], closures: pytest.MonkeyPatch
) -> None:
    # received Sunday 2027-01-24: the 15th day is Carnaval Monday 2027-02-08
    default = lgpd.add_request(
        rt, kind="access", channel="letter", details="acesso", received_on=date(2027, 1, 24),
        actor="admin",
    )  # fmt: skip
    assert default["due_on"] == "2027-02-10"  # Monday and Tuesday closed, Ash Wednesday open
    closures.setenv("PRODUZIR_OFFICE_CLOSURES", "carnaval,quarta_feira_de_cinzas")
    configured_closures.cache_clear()
    longer = lgpd.add_request(
        rt, kind="access", channel="letter", details="acesso", received_on=date(2027, 1, 24),
        actor="admin",
    )  # fmt: skip
    assert longer["due_on"] == "2027-02-11"
    closures.setenv("PRODUZIR_OFFICE_CLOSURES", "none")
    configured_closures.cache_clear()
    none = lgpd.add_request(
        rt, kind="access", channel="letter", details="acesso", received_on=date(2027, 1, 24),
        actor="admin",
    )  # fmt: skip
    assert none["due_on"] == "2027-02-08"


def test_confirm_then_answer_late_and_the_overdue_list(
    rt: Runtime, clock: FixedClock, people_: dict[str, int]
) -> None:
    row = lgpd.add_request(
        rt, kind="sharing", channel="in_person", details="com quem meus dados foram compartilhados",
        person_id=people_["maria"], actor="admin",
    )  # fmt: skip
    confirmed = lgpd.confirm_request(rt, row["id"], actor="admin")
    assert confirmed["confirmed_at"] == "2027-02-05T18:00:00.000000Z"
    with pytest.raises(NotAllowed, match="already confirmed"):
        lgpd.confirm_request(rt, row["id"], actor="admin")
    clock.set(datetime(2027, 2, 23, 15, 0, tzinfo=UTC))
    assert [r["id"] for r in lgpd.list_requests(rt, overdue=True)] == [row["id"]]
    assert lgpd.list_requests(rt, overdue=True)[0]["days_late"] == 1
    answered = lgpd.answer_request(rt, row["id"], answer="declaração nº 7", actor="admin")
    assert (answered["answered_on"], answered["days_late"]) == ("2027-02-23", 1)
    assert lgpd.list_requests(rt, overdue=True) == []
    assert lgpd.list_requests(rt, open_only=True) == []
    with pytest.raises(NotAllowed, match="already answered on 2027-02-23"):
        lgpd.answer_request(rt, row["id"], answer="outra", actor="admin")
    # the history holds the request's number and codes, never what the person wrote
    with rt.db.read() as session:
        evidence = [
            e.evidence
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.record_type == "request")
            ).scalars()
        ]
    assert [sorted(e) for e in evidence] == [
        ["kind", "person_id", "request_id"],
        ["request_id"],
        ["answered_on", "days_late", "request_id"],
    ]
    assert "compartilhados" not in json.dumps(evidence)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"kind": "everything"}, "unknown request kind 'everything'; kinds are: confirmation"),
        ({"channel": "fax"}, "unknown channel 'fax'; channels are: email"),
        ({"details": "   "}, "details: empty"),
        ({"details": "x" * 1001}, "details: at most 1000 characters (1001 given)"),
        ({"received_on": date(2027, 2, 6)}, "received: 2027-02-06 is in the future"),
        ({"person_id": 9999}, "person 9999 does not exist"),
        ({"actor": "Not A User!"}, "actor:"),
    ],
)
def test_a_bad_request_is_refused_naming_what_is_wrong_and_nothing_is_written(
    rt: Runtime, people_: dict[str, int], changes: dict[str, Any], words: str
) -> None:
    before = rows_of_every_table(rt)
    raw: dict[str, Any] = {
        "kind": "access", "channel": "email", "details": "acesso", "actor": "admin", **changes,
    }  # fmt: skip
    with pytest.raises((InvalidInput, NotFound)) as caught:
        lgpd.add_request(rt, **raw)
    assert words in str(caught.value)
    assert rows_of_every_table(rt) == before


# ------------------------------------------------------------------------- incidents


def test_an_incident_known_on_the_friday_before_carnaval_is_notified_in_3_working_days(
    rt: Runtime, people_: dict[str, int], closures: pytest.MonkeyPatch
) -> None:
    row = lgpd.add_incident(
        rt,
        description="notebook com a planilha de inscrições furtado",
        data_affected="nome, CPF, telefone",
        person_ids=[people_["maria"], people_["severino"]],
        people_count=40,
        actor="admin",
    )
    # Monday and Tuesday are Carnaval (closed): Wednesday 10, Thursday 11, Friday 12
    assert (row["known_on"], row["due_on"]) == ("2027-02-05", "2027-02-12")
    assert row["person_ids"] == sorted([people_["maria"], people_["severino"]])
    assert row["keep_until"] == "2032-02-05"  # at least 5 years
    closures.setenv("PRODUZIR_OFFICE_CLOSURES", "carnaval,quarta_feira_de_cinzas")
    configured_closures.cache_clear()
    longer = lgpd.add_incident(rt, description="outro", data_affected="CPF", actor="admin")
    assert longer["due_on"] == "2027-02-15"
    closures.setenv("PRODUZIR_OFFICE_CLOSURES", "none")
    configured_closures.cache_clear()
    none = lgpd.add_incident(rt, description="mais um", data_affected="CPF", actor="admin")
    assert none["due_on"] == "2027-02-10"


def test_incident_notices_late_overdue_and_refusals(
    rt: Runtime, clock: FixedClock, people_: dict[str, int]
) -> None:
    row = lgpd.add_incident(
        rt, description="acesso indevido", data_affected="telefone",
        person_ids=[people_["maria"]], actor="admin",
    )  # fmt: skip
    clock.set(datetime(2027, 2, 15, 15, 0, tzinfo=UTC))
    assert [i["id"] for i in lgpd.list_incidents(rt, overdue=True)] == [row["id"]]
    before = rows_of_every_table(rt)
    with pytest.raises(InvalidInput, match="say which notice"):
        lgpd.notify_incident(rt, row["id"], actor="admin")
    with pytest.raises(InvalidInput, match=r"anpd: 2027-02-04 is before the incident was known"):
        lgpd.notify_incident(rt, row["id"], anpd_on=date(2027, 2, 4), actor="admin")
    with pytest.raises(InvalidInput, match="people: 2027-02-16 is in the future"):
        lgpd.notify_incident(rt, row["id"], people_on=date(2027, 2, 16), actor="admin")
    with pytest.raises(NotFound, match="incident 99 does not exist"):
        lgpd.notify_incident(rt, 99, anpd_on=date(2027, 2, 8), actor="admin")
    assert rows_of_every_table(rt) == before
    lgpd.notify_incident(rt, row["id"], anpd_on=date(2027, 2, 10), actor="admin")
    assert lgpd.list_incidents(rt, open_only=True)[0]["anpd_notified_on"] == "2027-02-10"
    done = lgpd.notify_incident(rt, row["id"], people_on=date(2027, 2, 15), actor="admin")
    assert done["days_late"] == 3  # the later notice, three days after 2027-02-12
    assert lgpd.list_incidents(rt, open_only=True) == []
    with pytest.raises(NotAllowed, match="already recorded on 2027-02-10"):
        lgpd.notify_incident(rt, row["id"], anpd_on=date(2027, 2, 11), actor="admin")
    statement = data_subject_report(rt, cpf_for(1), actor="admin")
    assert statement["incidents"] == [
        {
            "incident_id": row["id"],
            "known_on": "2027-02-05",
            "data_affected": "telefone",
            "people_notified_on": "2027-02-15",
        }
    ]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"description": ""}, "description: empty"),
        ({"data_affected": " "}, "data: empty"),
        ({"person_ids": [1, 1]}, "person: a person is named twice"),
        ({"person_ids": [9999]}, "person 9999 does not exist"),
        ({"person_ids": [1, 2], "people_count": 1}, "people: 1 is fewer than the 2 people named"),
        ({"people_count": -1}, "people: a number of people"),
        ({"known_on": date(2027, 3, 1)}, "known: 2027-03-01 is in the future"),
        (
            {"known_on": date(2027, 2, 1), "occurred_on": date(2027, 2, 2)},
            "occurred: 2027-02-02 is in the future (today is 2027-02-01)",
        ),
    ],
)
def test_a_bad_incident_is_refused_naming_what_is_wrong_and_nothing_is_written(
    rt: Runtime, people_: dict[str, int], changes: dict[str, Any], words: str
) -> None:
    before = rows_of_every_table(rt)
    raw: dict[str, Any] = {
        "description": "furto", "data_affected": "CPF", "actor": "admin", **changes,
    }  # fmt: skip
    with pytest.raises((InvalidInput, NotFound)) as caught:
        lgpd.add_incident(rt, **raw)
    assert words in str(caught.value)
    assert rows_of_every_table(rt) == before


# ------------------------------------------------------------------------- shared with


def test_the_statement_lists_the_partner_exports_that_carried_the_person(
    rt: Runtime, clock: FixedClock, people_: dict[str, int]
) -> None:
    export_participants(rt, case_id=people_["case_b"], key=KEY, actor="ana", recipient="SEBRAE-CE")
    clock.set(datetime(2027, 2, 8, 12, 0, tzinfo=UTC))
    export_participants(rt, key=KEY, actor="ana", recipient="Universidade Federal do Ceará")
    maria = data_subject_report(rt, cpf_for(1), actor="admin")["shared_with"]
    assert [(e["recipient"], e["case_id"], e["at"]) for e in maria] == [
        ("SEBRAE-CE", people_["case_b"], "2027-02-05T18:00:00.000000Z"),
        ("Universidade Federal do Ceará", None, "2027-02-08T12:00:00.000000Z"),
    ]
    severino = data_subject_report(rt, cpf_for(2), actor="admin")["shared_with"]
    assert [e["recipient"] for e in severino] == ["Universidade Federal do Ceará"]
    with pytest.raises(InvalidInput, match="to: the partner's name"):
        export_participants(rt, key=KEY, actor="ana", recipient=" x ")


# ------------------------------------------------------------------------- rectification


def test_rectification_changes_the_row_and_the_history_names_only_the_fields(
    rt: Runtime, people_: dict[str, int]
) -> None:
    changed = rectify_person(
        rt,
        people_["severino"],
        {"name": "Severino Ramos da Silva Filho", "cpf": cpf_for(3), "phone": "(85) 3333-4444"},
        actor="admin",
    )
    assert changed == ["cpf", "name", "phone"]
    assert person_row(rt, people_["severino"])["name"] == "Severino Ramos da Silva Filho"
    assert person_row(rt, people_["severino"])["cpf"] == cpf_for(3)
    assert person_row(rt, people_["severino"])["phone"] == "8533334444"
    with rt.db.read() as session:
        last = session.execute(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        ).scalar_one()
        assert (last.event, last.record_id) == ("pessoa_retificada", people_["severino"])
        assert last.evidence == {
            "person_id": people_["severino"],
            "fields": ["cpf", "name", "phone"],
        }
        assert "Silva" not in json.dumps(last.data)
    # an empty phone removes it
    assert rectify_person(rt, people_["severino"], {"phone": None}, actor="admin") == ["phone"]
    assert person_row(rt, people_["severino"])["phone"] is None
    assert verify(rt.db).ok


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"cpf": "CPF-OF-MARIA"}, "already registered as person"),
        ({"cpf": "123.456.789-00"}, "is not a valid CPF"),
        ({"municipality_code": 1234567}, "municipality 1234567 is not in IBGE's list"),
        ({"name": "S"}, "name"),
        ({"email": "sem-arroba"}, "is not an e-mail address"),
        ({"phone": "12"}, "is not a phone number"),
        ({}, "say what to correct: cpf, name"),
        ({"name": SEVERINO}, "already has these values: nothing to correct"),
        ({"community": None}, "community: cannot be removed"),
    ],
)
def test_a_bad_rectification_is_refused_and_nothing_is_written(
    rt: Runtime, people_: dict[str, int], raw: dict[str, Any], words: str
) -> None:
    if raw.get("cpf") == "CPF-OF-MARIA":
        raw = {"cpf": cpf_for(1)}  # the CPF collides with Maria's
        words = f"CPF {cpf_for(1)} is already registered as person {people_['maria']}"
    before, row = rows_of_every_table(rt), person_row(rt, people_["severino"])
    with pytest.raises(InvalidInput) as caught:
        rectify_person(rt, people_["severino"], raw, actor="admin")
    assert words in str(caught.value)
    assert rows_of_every_table(rt) == before
    assert person_row(rt, people_["severino"]) == row


def test_rectifying_nobody_is_not_found(rt: Runtime, people_: dict[str, int]) -> None:
    with pytest.raises(NotFound, match="person 9999 does not exist"):
        rectify_person(rt, 9999, {"name": "Alguém Novo"}, actor="admin")


# ------------------------------------------------------------------------- anonymisation


def test_an_anonymised_person_shows_no_name_or_cpf_and_the_log_still_verifies(
    rt: Runtime, people_: dict[str, int]
) -> None:
    maria = people_["maria"]
    request = lgpd.add_request(
        rt, kind="erasure", channel="letter", details=f"{MARIA} pede a eliminação",
        person_id=maria, actor="admin",
    )  # fmt: skip
    read_person(rt, maria, actor="ana", purpose="conferir inscrição")
    anonymise_person(rt, maria, ground="consent_withdrawn", request_id=request["id"], actor="admin")
    row = person_row(rt, maria)
    assert row == {"cpf": f"A{maria:010d}", "name": "", "phone": None, "email": None,
                   "community": ""}  # fmt: skip
    shown = read_person(rt, maria, actor="ana", purpose="conferir inscrição")
    assert (shown["cpf"], shown["name"], shown["phone"], shown["email"]) == (None,) * 4
    assert shown["case_ids"] == [people_["case_a"], people_["case_b"]]  # the number stays
    with pytest.raises(NotFound):
        data_subject_report(rt, cpf_for(1), actor="admin")
    assert lgpd.list_requests(rt)[0]["details"] == ""
    exported = json.dumps(export_participants(rt, key=KEY, actor="ana"))
    assert MARIA not in exported
    assert cpf_for(1) not in exported
    with pytest.raises(NotAllowed, match="was anonymised"):
        anonymise_person(rt, maria, ground="unnecessary", actor="admin")
    with pytest.raises(NotAllowed, match="was anonymised"):
        rectify_person(rt, maria, {"name": "Maria"}, actor="admin")
    with rt.db.read() as session:
        last = session.execute(
            select(AuditEvent).where(AuditEvent.event == "pessoa_anonimizada")
        ).scalar_one()
        evidence = last.evidence
    assert evidence == {
        "person_id": maria, "ground": "consent_withdrawn", "article": "18 VI",
        "request_id": request["id"],
    }  # fmt: skip
    assert verify(rt.db).ok
    # the CPF is free again: the person may register anew, as a new record
    assert (
        register_person(
            rt,
            {
                "cpf": cpf_for(1),
                "name": MARIA,
                "community": "Boa Vista",
                "municipality_code": QUIXADA,
            },
            actor="ana",
        ).person_id
        != maria
    )


def test_a_bad_anonymisation_is_refused_and_nothing_is_written(
    rt: Runtime, people_: dict[str, int]
) -> None:
    other = lgpd.add_request(
        rt, kind="erasure", channel="email", details="eliminar", person_id=people_["severino"],
        actor="admin",
    )  # fmt: skip
    before = rows_of_every_table(rt)
    with pytest.raises(InvalidInput, match="unknown ground 'because'; grounds are: unnecessary"):
        anonymise_person(rt, people_["maria"], ground="because", actor="admin")
    with pytest.raises(InvalidInput, match=f"request {other['id']} is not person"):
        anonymise_person(
            rt, people_["maria"], ground="unnecessary", request_id=other["id"], actor="admin"
        )
    with pytest.raises(NotFound, match="request 77 does not exist"):
        anonymise_person(rt, people_["maria"], ground="unnecessary", request_id=77, actor="admin")
    with pytest.raises(NotFound, match="person 9999 does not exist"):
        anonymise_person(rt, 9999, ground="unnecessary", actor="admin")
    assert rows_of_every_table(rt) == before
    assert person_row(rt, people_["maria"])["name"] == MARIA


# ------------------------------------------------------------------------- command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    import console.cli_lgpd
    import console.cli_person

    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    from_settings = console.cli_lgpd.runtime

    def runtime() -> Runtime:  # the settings' runtime, on the test's clock
        made = from_settings()
        made.clock = rt.clock
        return made

    monkeypatch.setattr(console.cli_lgpd, "runtime", runtime)
    monkeypatch.setattr(console.cli_person, "runtime", runtime)
    return CliRunner()


def invoke(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.stderr


def test_the_registers_on_the_command_line(
    cli: CliRunner, rt: Runtime, people_: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    maria = str(people_["maria"])
    added = invoke(
        cli, "lgpd", "request-add", "--kind", "access", "--channel", "email",
        "--details", "cópia dos dados", "--person", maria, "--received", "2027-02-05",
        "--by", "admin",
    )  # fmt: skip
    assert added.strip() == "request 1 registered; the full statement is due on 2027-02-22"
    err = invoke(
        cli, "lgpd", "request-add", "--kind", "tudo", "--channel", "email", "--details", "x",
        "--by", "admin", code=2,
    )  # fmt: skip
    assert err.startswith("error: unknown request kind 'tudo'")
    err = invoke(
        cli, "lgpd", "request-add", "--kind", "access", "--channel", "email", "--details", "x",
        "--received", "05/02/2027", "--by", "admin", code=2,
    )  # fmt: skip
    assert err.startswith("error: received: '05/02/2027' is not a date (YYYY-MM-DD)")
    assert invoke(cli, "lgpd", "request-confirm", "1", "--by", "admin").strip() == (
        "request 1 confirmed"
    )
    listed = invoke(cli, "lgpd", "request-list", "--open", "--by", "admin")
    assert "2027-02-22" in listed
    assert "18 II" in listed
    assert invoke(
        cli, "lgpd", "request-answer", "1", "--answer", "declaração 1", "--on", "2027-02-05",
        "--by", "admin",
    ).strip() == "request 1 answered on 2027-02-05"  # fmt: skip

    added = invoke(
        cli, "lgpd", "incident-add", "--description", "planilha enviada ao destinatário errado",
        "--data", "nome, CPF", "--person", maria, "--people", "12", "--known", "2027-02-05",
        "--by", "admin",
    )  # fmt: skip
    assert added.strip() == (
        "incident 1 registered; the notices to the ANPD and to the people are due on 2027-02-12"
    )
    assert (
        invoke(cli, "lgpd", "incident-notify", "1", "--anpd", "2027-02-05", "--by", "admin").strip()
        == "incident 1: notice recorded"
    )
    rows = json.loads(invoke(cli, "lgpd", "incident-list", "--open", "--json", "--by", "admin"))
    assert [(r["id"], r["anpd_notified_on"], r["people_notified_on"]) for r in rows] == [
        (1, "2027-02-05", None)
    ]
    # only administrators write the registers
    err = invoke(cli, "lgpd", "incident-notify", "1", "--people", "2027-02-05", "--by", "ana",
                 code=4)  # fmt: skip
    assert "ana (coordinator) may not run `lgpd incident-notify`" in err

    # the partner export names its partner; the statement says so
    monkeypatch.setenv("PRODUZIR_PSEUDONYM_KEY", KEY)
    invoke(cli, "person", "export", "--case", str(people_["case_b"]), "--to", "SEBRAE-CE",
           "--by", "ana")  # fmt: skip
    statement = invoke(cli, "person", "report", cpf_for(1), "--by", "admin")
    assert "Shared with (exports for partners)" in statement
    assert "SEBRAE-CE" in statement
    assert "Security incidents affecting the data" in statement

    # rectify, refused on a colliding CPF, then anonymise: the name and CPF are gone everywhere
    err = invoke(cli, "person", "rectify", str(people_["severino"]), "--cpf", cpf_for(1),
                 "--by", "admin", code=2)  # fmt: skip
    assert err.strip() == (
        f"error: CPF {cpf_for(1)} is already registered as person {people_['maria']}"
    )
    done = invoke(cli, "person", "rectify", maria, "--email", "", "--by", "admin")
    assert done.strip() == f"person {maria} corrected: email"
    assert invoke(
        cli, "person", "anonymise", maria, "--ground", "consent_withdrawn", "--request", "1",
        "--by", "admin",
    ).strip() == f"person {maria} anonymised"  # fmt: skip
    shown = invoke(cli, "person", "show", maria, "--purpose", "conferir inscrição", "--by", "ana")
    assert MARIA not in shown
    assert cpf_for(1) not in shown
    assert "anonymised_at" in shown
    err = invoke(cli, "person", "report", cpf_for(1), "--by", "admin", code=3)
    assert "does not exist" in err
    exported = invoke(cli, "person", "export", "--by", "ana")
    assert MARIA not in exported
    assert cpf_for(1) not in exported
    assert len(list(csv.DictReader(io.StringIO(exported)))) == 2
    assert invoke(cli, "audit", "verify", "--by", "admin").startswith("audit log intact")

    # every event the registers wrote has its name in the history, in both languages
    from notifications.codes import term_text
    from notifications.i18n import render

    with rt.db.read() as session:
        events = set(session.execute(select(AuditEvent.event)).scalars())
    ours = {
        "pedido_titular_registrado", "pedido_titular_confirmado", "pedido_titular_respondido",
        "incidente_registrado", "incidente_comunicado", "pessoa_retificada", "pessoa_anonimizada",
    }  # fmt: skip
    assert ours <= events
    labels = {e: term_text("history_event", e) for e in sorted(ours)}
    assert all(labels.values()), labels
    assert render(labels["pessoa_anonimizada"], "pt-BR") == "Pessoa anonimizada"
    assert render(labels["pessoa_anonimizada"], "en") == "Person anonymised"

    # in Portuguese
    monkeypatch.setenv("PRODUZIR_LANG", "pt-BR")
    err = invoke(cli, "lgpd", "request-confirm", "1", "--by", "admin", code=4)
    assert err.strip() == "erro: a requisição 1 já foi confirmada em 2027-02-05T18:00:00.000000Z"


# ------------------------------------------------------------------------- reminders


def lgpd_messages(rt: Runtime) -> list[tuple[str, str, str]]:
    """(key without the prefix, recipient, category) of the registers' outbox rows."""
    from notifications.models import OutboxMessage

    with rt.db.read() as session:
        return [
            (row.key.removeprefix("lgpd:"), row.recipient, row.category)
            for row in session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.key.like("lgpd:%"))
                .order_by(OutboxMessage.id)
            ).scalars()
        ]


def test_the_sweep_reminds_the_administrators_and_escalates_to_management(
    rt: Runtime, clock: FixedClock, people_: dict[str, int]
) -> None:
    from notifications.models import OutboxMessage
    from notifications.render import render
    from tasks.sweep import sweep_deadlines
    from tasks.users import add_user

    cli_users(rt, "admin")
    add_user(
        rt,
        {"username": "gil", "name": "Gil Gestor", "email": "gil@example.org",
         "role": "manager", "territories": []},
        actor="system",
    )  # fmt: skip
    request = lgpd.add_request(
        rt, kind="access", channel="email", details="acesso", person_id=people_["maria"],
        actor="admin",
    )["id"]  # fmt: skip
    incident = lgpd.add_incident(rt, description="furto", data_affected="CPF", actor="admin")["id"]
    # Friday 2027-02-05: the incident's notices are due Friday 12, three working days before
    # is today (Carnaval Monday and Tuesday are not working days); the request is not near yet
    report = sweep_deadlines(rt)
    assert report.registers_checked == 2  # both within the sweep's window
    assert lgpd_messages(rt) == [
        (f"incident:{incident}:2027-02-12:before:admin", "admin", "escalation")
    ]
    sweep_deadlines(rt)  # again: nothing new
    assert len(lgpd_messages(rt)) == 1
    lgpd.notify_incident(
        rt, incident, anpd_on=date(2027, 2, 5), people_on=date(2027, 2, 5), actor="admin"
    )

    # the request is due Monday 2027-02-22: before on Wednesday 17, due on the day, the
    # supervisor-level escalation two working days after (to the administrators), management
    # seven working days after (Wednesday 2027-03-03, to the managers)
    for day in (date(2027, 2, 17), date(2027, 2, 22), date(2027, 2, 24), date(2027, 3, 3)):
        clock.set(datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC))
        sweep_deadlines(rt)
    assert lgpd_messages(rt)[1:] == [
        (f"request:{request}:2027-02-22:before:admin", "admin", "escalation"),
        (f"request:{request}:2027-02-22:due:admin", "admin", "escalation"),
        (f"request:{request}:2027-02-22:supervisor:admin", "admin", "escalation"),
        (f"request:{request}:2027-02-22:management:gil", "gil", "escalation"),
    ]
    with rt.db.read() as session:
        row = session.execute(
            select(OutboxMessage).where(
                OutboxMessage.recipient == "gil", OutboxMessage.key.like("lgpd:%")
            )
        ).scalar_one()
        message = render(row.template, "pt-BR", row.context)
    assert message.subject == (
        f"[PRODUZIR] LGPD: requisição de titular {request}: declaração completa, "
        "prazo vencido há 9 dias"
    )
    assert "LGPD art. 19 II" in message.text
    assert "você recebe esta mensagem como gestão do programa" in message.text
    lgpd.answer_request(rt, request, answer="declaração", actor="admin")
    clock.set(datetime(2027, 3, 10, 15, 0, tzinfo=UTC))
    sweep_deadlines(rt)
    assert len(lgpd_messages(rt)) == 5  # answered: no more messages


# ------------------------------------------------------------------------- both databases


def test_the_registers_on_sqlite_and_postgresql(any_rt: Runtime, clock: FixedClock) -> None:
    """The whole path once on each database: a request, an incident, a partner export, a
    rectification refused and one done, an anonymisation; the log verifies."""
    rt = any_rt
    case = new_case(rt)
    ids = [
        register_person(
            rt,
            {"cpf": cpf_for(n), "name": name, "community": "Boa Vista",
             "municipality_code": QUIXADA},
            actor="ana",
            case_id=case,
        ).person_id
        for n, name in ((1, MARIA), (2, SEVERINO))
    ]  # fmt: skip
    clock.set(FRIDAY)
    request = lgpd.add_request(
        rt, kind="erasure", channel="email", details="eliminar", person_id=ids[0], actor="admin"
    )
    incident = lgpd.add_incident(
        rt, description="furto", data_affected="CPF", person_ids=ids, actor="admin"
    )
    assert (request["due_on"], incident["due_on"]) == ("2027-02-22", "2027-02-12")
    export_participants(rt, case_id=case, key=KEY, actor="ana", recipient="SEBRAE-CE")
    statement = data_subject_report(rt, cpf_for(2), actor="admin")
    assert [e["recipient"] for e in statement["shared_with"]] == ["SEBRAE-CE"]
    assert [i["incident_id"] for i in statement["incidents"]] == [incident["id"]]
    with pytest.raises(InvalidInput, match="already registered as person"):
        rectify_person(rt, ids[1], {"cpf": cpf_for(1)}, actor="admin")
    assert rectify_person(rt, ids[1], {"cpf": cpf_for(3)}, actor="admin") == ["cpf"]
    anonymise_person(
        rt, ids[0], ground="consent_withdrawn", request_id=request["id"], actor="admin"
    )
    lgpd.answer_request(rt, request["id"], answer="eliminado", actor="admin")
    exported = json.dumps(export_participants(rt, key=KEY, actor="ana"))
    assert MARIA not in exported
    assert cpf_for(1) not in exported
    assert verify(rt.db).ok
