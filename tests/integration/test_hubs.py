"""Hubs as a coordinator keeps them: a hub (Quixadá, CE) serving several cases, its CLAI with
members and meetings, its Protocol whose commitments reach every case of the hub (overdue: on
each case's obligations and escalated by the deadline sweep), the register of partners, the
policies an enterprise reached, and every bad input refused with the field named and nothing
written. Every test ends with the audit chain verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from console.cli_hub import hub_app, partner_app
from states.clock import FixedClock
from states.errors import GuardFailed, InvalidInput, NotAllowed, NotFound
from tasks import hubs, partners
from tasks.cases import advance
from tasks.followup import follow_up_detail
from tasks.obligations import list_obligations
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines
from tests.builders import (
    COORDINATOR,
    cli_users,
    cnpj_for,
    drive,
    enterprises_of,
    evidence_for,
    new_case,
    register_partners,
    today_of,
)
from tests.integration.helpers import case_row, verify
from tests.integration.test_enterprises import refused, today
from tests.integration.test_sweep import morning, rows, staff

QUIXADA = 2311306  # the builders' hub decision names it
CHORO = 2303931  # Choró (CE), a community of the same territory
RECIFE = 2611606  # Recife (PE): another territory


@pytest.fixture(autouse=True)
def _chain_verifies(rt: Runtime) -> Iterator[None]:
    yield
    result = verify(rt.db)
    assert result.ok, result.problem


def in_follow_up(rt: Runtime, **demand: Any) -> int:
    case_id = new_case(rt, **demand)
    drive(rt, rt.clock, case_id, "acompanhamento")  # type: ignore[arg-type]
    register_partners(rt)
    return case_id


def move_to(rt: Runtime, day: date) -> None:
    rt.clock.advance(timedelta(days=(day - today(rt)).days))  # type: ignore[attr-defined]


def commitments_of(rt: Runtime, case_id: int, on: date, **kw: Any) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return list_obligations(
            session, today=on, case_id=case_id, kind="protocol_commitment", **kw
        )


# ------------------------------------------------------------------ one hub, several cases


def test_a_hub_serves_several_cases_which_share_its_clai_and_protocol(rt: Runtime) -> None:
    first = in_follow_up(rt)
    second = in_follow_up(rt, municipality_code=CHORO, community="Sítio Riacho Fundo")
    with rt.db.read() as session:
        shown = hubs.hub_detail(session, QUIXADA, today=today(rt))
        assert [h["hub"] for h in hubs.list_hubs(session)] == [QUIXADA]
    assert [(c["id"], c["municipality"]) for c in shown["cases"]] == [
        (first, "Quixadá"),
        (second, "Choró"),
    ]
    assert shown["designated_on"] < today(rt).isoformat()  # the first hub decision made it
    assert (shown["clai"], shown["protocol"], shown["meetings"]) == (None, None, [])

    installed = today(rt)
    hubs.install_clai(
        rt, QUIXADA, installed_on=installed, members=["Prefeitura", "EMATERCE", "FAO"],
        actor=COORDINATOR,
    )  # fmt: skip
    hubs.sign_protocol(
        rt, QUIXADA, signed_on=installed, signatories=["Prefeitura", "SEBRAE-CE"], actor=COORDINATOR
    )
    with rt.db.read() as session:
        for case_id in (first, second):
            detail = follow_up_detail(session, case_id, today=today(rt))
            assert detail["hub"] == QUIXADA
            assert detail["clai"] == {
                "installed_on": installed.isoformat(),
                "members": ["EMATERCE", "FAO", "Prefeitura"],
            }
            assert detail["protocol"]["signatories"] == ["Prefeitura", "SEBRAE-CE"]
    # installing or signing twice is refused, from either case
    with refused(rt, NotAllowed, f"hub {QUIXADA} already has its CLAI installed"):
        hubs.install_clai(rt, QUIXADA, installed_on=installed, members=["FAO"], actor=COORDINATOR)
    with refused(rt, NotAllowed, f"hub {QUIXADA} already has its Protocol signed"):
        hubs.sign_protocol(rt, QUIXADA, signed_on=installed, signatories=["FAO"], actor=COORDINATOR)


def test_the_follow_up_guard_reads_the_hubs_clai_and_protocol(rt: Runtime) -> None:
    # the first case's follow-up records the hub's CLAI and Protocol (builders.follow_up_all);
    # the second case of the hub concludes its follow-up on them, with its own visits
    first = in_follow_up(rt)
    second = in_follow_up(rt, municipality_code=CHORO, community="Sítio Riacho Fundo")
    entered = case_row(rt.db, second).entered_on
    move_to(rt, entered + timedelta(days=370))
    with refused(rt, GuardFailed, "the Comitê Local de Ação Integrada \\(CLAI\\) has not been"):
        advance(rt, second, "concluir_acompanhamento", {}, actor=COORDINATOR)
    hubs.install_clai(rt, QUIXADA, installed_on=entered, members=["Prefeitura"], actor=COORDINATOR)
    hubs.sign_protocol(
        rt, QUIXADA, signed_on=entered, signatories=["Prefeitura"], actor=COORDINATOR
    )
    from tests.builders import follow_up_all

    follow_up_all(rt, second, entered)  # the visits (the hub already has CLAI and Protocol)
    assert advance(rt, second, "concluir_acompanhamento", {}, actor=COORDINATOR).to_state == (
        "avaliacao"
    )
    assert case_row(rt.db, first).state == "acompanhamento"


def test_a_hub_commitment_is_an_obligation_of_every_case_overdue_on_each_and_escalated(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)  # ana coordinates CE, sofia supervises CE
    first = in_follow_up(rt, coordinator="ana")
    second = in_follow_up(rt, municipality_code=CHORO, community="Sítio Riacho Fundo")
    signed = today(rt)
    hubs.sign_protocol(rt, QUIXADA, signed_on=signed, signatories=["Prefeitura"], actor="ana")
    due = date(2027, 3, 15)  # a Monday, a working day in CE
    commitment = hubs.add_commitment(
        rt,
        QUIXADA,
        partner="EMATERCE",
        action="Assistência técnica mensal aos apicultores",
        due_on=due,
        actor="ana",
    )
    late = due + timedelta(days=10)
    for case_id in (first, second):
        [row] = commitments_of(rt, case_id, late, overdue=True)
        assert (row["record"], row["due_on"], row["days_late"]) == (
            f"commitment:{commitment}",
            due.isoformat(),
            10,
        )
        assert "EMATERCE: Assistência técnica mensal aos apicultores" in row["description"]
    with rt.db.read() as session:
        [shown] = hubs.hub_detail(session, QUIXADA, today=late)["commitments"]
    assert (shown["overdue"], shown["days_late"]) == (True, 10)

    # the sweep escalates the overdue commitment on each case of the hub
    morning(clock, late)
    report = sweep_deadlines(rt)
    assert report.errors == []
    for case_id in (first, second):
        escalations = [
            m for m in rows(rt, case_id=case_id, category="escalation") if ":obligation:" in m.key
        ]
        assert escalations, case_id
        assert {m.key.split(":")[6] for m in escalations} >= {"sofia"}

    # a case that joins the hub later takes on the open commitment
    third = in_follow_up(rt, municipality_code=CHORO, community="Sítio Lagoa Nova")
    assert [r["record"] for r in commitments_of(rt, third, today(rt))] == [
        f"commitment:{commitment}"
    ]

    # kept once: satisfied on every case of the hub
    hubs.fulfil_commitment(rt, commitment, done_on=late, actor="ana")
    for case_id in (first, second, third):
        assert commitments_of(rt, case_id, late) == []
        [done] = commitments_of(rt, case_id, late, open_only=False)
        assert done["satisfied_by"] == f"commitment:{commitment}"
    with refused(rt, NotAllowed, f"commitment {commitment} was already done"):
        hubs.fulfil_commitment(rt, commitment, done_on=late, actor="ana")


def test_a_commitment_due_before_the_protocol_was_signed_is_refused(rt: Runtime) -> None:
    in_follow_up(rt)
    signed = today(rt)
    with refused(rt, NotAllowed, f"hub {QUIXADA} has no signed Protocol"):
        hubs.add_commitment(
            rt, QUIXADA, partner="SEBRAE", action="Curso", due_on=signed, actor=COORDINATOR
        )
    hubs.sign_protocol(rt, QUIXADA, signed_on=signed, signatories=["SEBRAE"], actor=COORDINATOR)
    with refused(rt, InvalidInput, "due_on .* is before the Protocol was signed"):
        hubs.add_commitment(
            rt,
            QUIXADA,
            partner="SEBRAE",
            action="Curso",
            due_on=signed - timedelta(days=1),
            actor=COORDINATOR,
        )
    with refused(rt, InvalidInput, "partner: 'Ninguém' is not in the register of partners"):
        hubs.add_commitment(
            rt, QUIXADA, partner="Ninguém", action="Curso", due_on=signed, actor=COORDINATOR
        )
    with refused(rt, InvalidInput, "action: a commitment needs an action"):
        hubs.add_commitment(
            rt, QUIXADA, partner="SEBRAE", action="  ", due_on=signed, actor=COORDINATOR
        )
    with refused(rt, NotFound, "hub 2303931 does not exist"):
        hubs.add_commitment(
            rt, CHORO, partner="SEBRAE", action="Curso", due_on=signed, actor=COORDINATOR
        )


# ------------------------------------------------------------------ the CLAI's meetings


def test_clai_meetings_record_who_was_present_and_what_was_decided(rt: Runtime) -> None:
    in_follow_up(rt)
    installed = today(rt)
    with refused(rt, NotAllowed, f"hub {QUIXADA} has no CLAI installed"):
        hubs.record_meeting(
            rt, QUIXADA, held_on=installed, present=["FAO"], decisions=["x"], actor=COORDINATOR
        )
    hubs.install_clai(
        rt, QUIXADA, installed_on=installed, members=["Prefeitura", "FAO"], actor=COORDINATOR
    )
    move_to(rt, installed + timedelta(days=30))
    meeting = hubs.record_meeting(
        rt,
        QUIXADA,
        held_on=installed + timedelta(days=28),
        present=["Prefeitura", "FAO", "EMATERCE"],
        decisions=["Calendário de feiras aprovado.", "EMATERCE apresenta o plano de ATER."],
        actor=COORDINATOR,
    )
    bad: list[tuple[dict[str, Any], str]] = [
        ({"held_on": installed - timedelta(days=1)}, "held_on .* before the CLAI was installed"),
        ({"held_on": today(rt) + timedelta(days=1)}, "held_on .* is in the future"),
        ({"present": ["Ninguém"]}, "present: 'Ninguém' is not in the register"),
        ({"present": []}, "present: name at least one partner"),
        ({"decisions": [" "]}, "decisions: a CLAI meeting records at least one decision"),
    ]
    for change, message in bad:
        values: dict[str, Any] = {
            "held_on": today(rt),
            "present": ["FAO"],
            "decisions": ["Reunião ordinária."],
        } | change
        with refused(rt, InvalidInput, message):
            hubs.record_meeting(rt, QUIXADA, actor=COORDINATOR, **values)
    with rt.db.read() as session:
        [shown] = hubs.hub_detail(session, QUIXADA, today=today(rt))["meetings"]
    assert shown == {
        "id": meeting,
        "held_on": (installed + timedelta(days=28)).isoformat(),
        "present": ["EMATERCE", "FAO", "Prefeitura"],
        "decisions": ["Calendário de feiras aprovado.", "EMATERCE apresenta o plano de ATER."],
    }


# ------------------------------------------------------------------ hubs: bad input


def test_a_hub_municipality_that_does_not_exist_or_is_a_hub_already_is_refused(
    rt: Runtime,
) -> None:
    day = today(rt)
    with refused(rt, InvalidInput, "municipality: 9999999 is not in IBGE's list"):
        hubs.create_hub(rt, 9_999_999, designated_on=day, actor=COORDINATOR)
    with refused(rt, InvalidInput, "designated_on .* is in the future"):
        hubs.create_hub(rt, CHORO, designated_on=day + timedelta(days=1), actor=COORDINATOR)
    assert hubs.create_hub(rt, CHORO, designated_on=day, actor=COORDINATOR) == CHORO
    with refused(rt, NotAllowed, f"municipality {CHORO} is already a hub"):
        hubs.create_hub(rt, CHORO, designated_on=day, actor=COORDINATOR)
    register_partners(rt)
    with refused(rt, InvalidInput, "installed_on .* is before hub 2303931 was designated"):
        hubs.install_clai(
            rt, CHORO, installed_on=day - timedelta(days=1), members=["FAO"], actor=COORDINATOR
        )


def test_a_case_cannot_join_a_hub_of_another_territory(rt: Runtime) -> None:
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "polo_definido")  # type: ignore[arg-type]
    evidence = evidence_for("formalizar_polo", today(rt)) | {"hub_municipality_code": RECIFE}
    with refused(
        rt, InvalidInput, "hub_municipality_code 2611606 is in PE, outside the case's territory"
    ):
        advance(rt, case_id, "formalizar_polo", evidence, actor=COORDINATOR)
    with refused(rt, InvalidInput, "hub_municipality_code 9999999 is not in IBGE's list"):
        advance(
            rt,
            case_id,
            "formalizar_polo",
            evidence | {"hub_municipality_code": 9_999_999},
            actor=COORDINATOR,
        )
    assert case_row(rt.db, case_id).hub_municipality_code is None
    # and one without a hub yet has no CLAI to install
    from tasks.followup import install_clai

    with refused(rt, NotAllowed, f"case {case_id} has no hub yet"):
        install_clai(rt, case_id, installed_on=today(rt), members=["FAO"], actor=COORDINATOR)


# ------------------------------------------------------------------ the register of partners


def test_the_register_of_partners_every_sphere_and_every_bad_input(rt: Runtime) -> None:
    ids = {
        "Ministério da Integração e do Desenvolvimento Regional": partners.add_partner(
            rt, name="Ministério da Integração e do Desenvolvimento Regional", sphere="federal",
            cnpj=cnpj_for(1), actor=COORDINATOR,
        ),
        "EMATERCE": partners.add_partner(
            rt, name="EMATERCE", sphere="state", cnpj="12.ABC.345/01DE-35", actor=COORDINATOR
        ),
        "Prefeitura Municipal de Quixadá": partners.add_partner(
            rt, name="Prefeitura  Municipal de Quixadá", sphere="municipal", actor=COORDINATOR
        ),
        "Cáritas Diocesana": partners.add_partner(
            rt, name="Cáritas Diocesana", sphere="civil society", actor=COORDINATOR
        ),
        "FAO": partners.add_partner(rt, name="FAO", sphere="international", actor=COORDINATOR),
    }  # fmt: skip
    bad: list[tuple[dict[str, Any], str]] = [
        ({"cnpj": "11.111.111/1111-11"}, "cnpj: '11.111.111/1111-11' is not a valid CNPJ"),
        ({"cnpj": cnpj_for(1)}, f"cnpj: CNPJ {cnpj_for(1)} is already registered to partner"),
        ({"name": "prefeitura municipal de QUIXADÁ"}, "name: partner .* is already registered"),
        ({"sphere": "galactic"}, "sphere: unknown sphere 'galactic'; spheres are: federal"),
        ({"name": " "}, "name: a partner needs a name"),
    ]
    for change, message in bad:
        values = {"name": "Banco do Nordeste", "sphere": "federal", "cnpj": None} | change
        with refused(rt, InvalidInput, message):
            partners.add_partner(rt, actor=COORDINATOR, **values)
    with rt.db.read() as session:
        listed = partners.list_partners(session)
        federal = partners.list_partners(session, sphere="federal")
    assert [(p["name"], p["sphere"]) for p in listed] == [
        ("Cáritas Diocesana", "civil_society"),
        ("EMATERCE", "state"),
        ("FAO", "international"),
        ("Ministério da Integração e do Desenvolvimento Regional", "federal"),
        ("Prefeitura Municipal de Quixadá", "municipal"),
    ]
    assert [p["id"] for p in federal] == [
        ids["Ministério da Integração e do Desenvolvimento Regional"]
    ]
    assert [p["cnpj"] for p in listed if p["name"] == "EMATERCE"] == ["12ABC34501DE35"]


# ------------------------------------------------------------------ convergence of policies


def test_the_policies_an_enterprise_reached_dated_with_their_partner(rt: Runtime) -> None:
    case_id = in_follow_up(rt)
    enterprise = enterprises_of(rt, case_id)[0]
    day = today(rt)
    partners.record_policy(
        rt, enterprise, policy="pnae", reached_on=day, partner="Prefeitura", actor=COORDINATOR
    )
    partners.record_policy(
        rt, enterprise, policy="PAA", reached_on=day, partner="Banco do Nordeste",
        actor=COORDINATOR,
    )  # fmt: skip
    bad: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"policy": "Bolsa Ouro"}, InvalidInput, "policy: unknown public policy 'Bolsa Ouro'"),
        ({"reached_on": day + timedelta(days=1)}, InvalidInput, "reached_on .* is in the future"),
        ({"reached_on": date(2020, 1, 1)}, InvalidInput, "reached_on 2020-01-01 is before"),
        ({"partner": "Ninguém"}, InvalidInput, "partner: 'Ninguém' is not in the register"),
        ({"policy": "PAA"}, NotAllowed, f"enterprise {enterprise} already reached PAA on"),
    ]
    for change, error, message in bad:
        values: dict[str, Any] = {
            "policy": "Pronaf",
            "reached_on": day,
            "partner": "Banco do Nordeste",
        } | change
        with refused(rt, error, message):
            partners.record_policy(rt, enterprise, actor=COORDINATOR, **values)
    with refused(rt, NotFound, "enterprise 999 does not exist"):
        partners.record_policy(
            rt, 999, policy="PAA", reached_on=day, partner="FAO", actor=COORDINATOR
        )
    # the list is configurable: a policy of the configured list only
    partners.record_policy(
        rt, enterprise, policy="Cisternas", reached_on=day, partner="FAO", actor=COORDINATOR,
        policies=("Cisternas",),
    )  # fmt: skip
    with rt.db.read() as session:
        reached = partners.policies_of(session, [enterprise])
    assert sorted((r["policy"], r["partner"]) for r in reached) == [
        ("Cisternas", "FAO"),
        ("PAA", "Banco do Nordeste"),
        ("PNAE", "Prefeitura"),
    ]


# ------------------------------------------------------------------ the command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def run(cli: CliRunner, app: Any, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]
    return result.stdout


def test_the_hub_and_partner_commands(cli: CliRunner, rt: Runtime) -> None:
    case_id = in_follow_up(rt)
    day = str(today_of(rt.clock))  # type: ignore[arg-type]
    hub = str(QUIXADA)
    out = run(cli, partner_app, "add", "--name", "Cáritas Diocesana", "--sphere", "civil_society",
              "--by", "ana")  # fmt: skip
    assert out.startswith("partner ")
    error = run(cli, partner_app, "add", "--name", "X", "--sphere", "lunar", "--by", "ana", code=2)
    assert "sphere: unknown sphere 'lunar'" in error
    assert "Cáritas Diocesana" in run(cli, partner_app, "list")
    run(cli, hub_app, "clai", hub, "--installed-on", day, "--member", "FAO", "--member",
        "Cáritas Diocesana", "--by", "ana")  # fmt: skip
    out = run(cli, hub_app, "meeting", hub, "--held-on", day, "--present", "FAO",
              "--decision", "Feira mensal aprovada.", "--by", "ana")  # fmt: skip
    assert "CLAI meeting" in out
    run(cli, hub_app, "sign", hub, "--signed-on", day, "--signatory", "Prefeitura", "--by", "ana")
    out = run(cli, hub_app, "commit", hub, "--partner", "SEBRAE", "--action", "Curso de vendas",
              "--due", day, "--by", "ana")  # fmt: skip
    assert out.startswith("commitment 1 added to the Protocol of hub 2311306")
    shown = json.loads(run(cli, hub_app, "show", hub, "--json"))
    assert [c["id"] for c in shown["cases"]] == [case_id]
    assert shown["clai"]["members"] == ["Cáritas Diocesana", "FAO"]
    assert [m["decisions"] for m in shown["meetings"]] == [["Feira mensal aprovada."]]
    assert [c["partner"] for c in shown["commitments"]] == ["SEBRAE"]
    text = run(cli, hub_app, "show", hub)
    assert "Curso de vendas" in text
    assert "Feira mensal aprovada." in text
    assert "2311306" in run(cli, hub_app, "list")
    enterprise = str(enterprises_of(rt, case_id)[0])
    run(cli, partner_app, "reach", enterprise, "--policy", "PAA", "--on", day, "--partner", "FAO",
        "--by", "ana")  # fmt: skip
    assert json.loads(run(cli, partner_app, "policies", enterprise, "--json"))[0]["policy"] == "PAA"
    error = run(cli, hub_app, "create", "9999999", "--designated-on", day, "--by", "ana", code=2)
    assert "municipality: 9999999 is not in IBGE's list of municipalities" in error
    # a supervisor keeps no hub (administrators and coordinators do)
    error = run(cli, hub_app, "done", "1", "--done-on", day, "--by", "sofia", code=4)
    assert "sofia (supervisor) may not run `hub done`" in error
