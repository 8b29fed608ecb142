"""Issue 11, the law as it is written: the 30-day filing only where the law puts it (Junta
Comercial, sociedades) and a programme target for the RCPJ; legal form apart from the size
category ME/EPP; the MEI's revenue cap against what the visits report; members who leave a
cooperative; a demand from an organised channel other than a forum.

Real dates, the real calendar of Quixadá (CE); every refusal writes nothing; every test ends with
the audit chain verified.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from console.cli import app as produzir
from console.cli_enterprise import enterprise_app
from notifications.codes import obligation_text
from states.errors import InvalidInput, NotAllowed
from states.models import Case
from states.records import Person
from tasks.demands import DemandInput, register_demand
from tasks.enterprises import (
    add_members,
    enterprise_detail,
    member_leaves,
    record_step,
    set_legal_form,
    set_size_category,
)
from tasks.followup import record_visit
from tasks.obligations import list_obligations
from tasks.people import data_subject_report
from tasks.runtime import Runtime
from tests.builders import COORDINATOR, QUIXADA, cli_users, demand
from tests.integration.helpers import verify
from tests.integration.test_enterprises import (
    form,
    legal_enterprise,
    refused,
    setup_case,
    today,
)


@pytest.fixture(autouse=True)
def _chain_verifies(rt: Runtime) -> Iterator[None]:
    yield
    result = verify(rt.db)
    assert result.ok, result.problem


@pytest.fixture
def formed(rt: Runtime) -> tuple[int, list[int], date]:
    """A case with 25 participants, its enterprises formed on Monday 2026-03-02; the clock is
    moved to 2027-01-11 so that every date below is in the past."""
    case_id, people = setup_case(rt, 25)
    day0 = today(rt)
    assert day0 == date(2026, 3, 2)
    rt.clock.advance(timedelta(days=(date(2027, 1, 11) - day0).days))  # type: ignore[attr-defined]
    return case_id, people, day0


def step(rt: Runtime, enterprise_id: int, name: str, on: date, **kw: Any) -> None:
    record_step(rt, enterprise_id, name, done_on=on, actor=COORDINATOR, **kw)


def detail(rt: Runtime, enterprise_id: int) -> dict[str, Any]:
    with rt.db.read() as session:
        return enterprise_detail(session, enterprise_id, today=today(rt))


def open_duties(rt: Runtime, case_id: int) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return list_obligations(session, today=today(rt), case_id=case_id)


def english(row: dict[str, Any]) -> str:
    return obligation_text(row["kind"], row["params"], row["description"]).english()


# ------------------------------------------------------------ the 30 days, where the law puts them


def test_an_association_at_the_rcpj_has_no_legal_filing_deadline(
    rt: Runtime, formed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id, _, _ = formed
    assoc = legal_enterprise(rt, formed, "associacao", 10)
    step(rt, assoc, "founding_act", date(2026, 12, 3))
    step(rt, assoc, "lawyer_endorsement", date(2026, 12, 3))
    assert open_duties(rt, case_id) == []
    assert detail(rt, assoc)["filing_deadline_basis"] is None
    step(rt, assoc, "registry_filing", date(2027, 1, 8), reference="RCPJ Quixadá 2027/3")
    assert detail(rt, assoc)["obligations"] == []


def test_a_configured_programme_target_for_the_rcpj_is_shown_as_a_target(
    rt: Runtime, formed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUZIR_RCPJ_FILING_TARGET_DAYS", "45")
    case_id, _, _ = formed
    assoc = legal_enterprise(rt, formed, "associacao", 10)
    step(rt, assoc, "founding_act", date(2026, 11, 2))
    step(rt, assoc, "lawyer_endorsement", date(2026, 11, 2))
    [target] = open_duties(rt, case_id)
    # 45 days from Monday 2026-11-02 end on Thursday 2026-12-17, a working day
    assert (target["kind"], target["due_on"], target["target"]) == (
        "registry_filing_target",
        "2026-12-17",
        True,
    )
    assert english(target) == (
        "programme target (no legal deadline): file Grupo Produtivo Boa Vista at the Registro "
        "Civil de Pessoas Jurídicas within 45 days of its founding act"
    )
    step(rt, assoc, "registry_filing", date(2026, 12, 21), reference="RCPJ 2026/90")
    [met] = detail(rt, assoc)["obligations"]
    assert (met["satisfied_on"], met["days_late"], met["target"]) == ("2026-12-21", 4, True)

    # a cooperative's filing stays the law's deadline, not a target
    coop = legal_enterprise(rt, formed, "cooperativa", 20, name="Cooperativa Mel")
    step(rt, coop, "founding_act", date(2026, 12, 3))
    [due] = [o for o in open_duties(rt, case_id) if o["record"] == f"enterprise:{coop}"]
    assert (due["kind"], due["target"]) == ("registry_filing", False)


def test_a_bad_target_setting_is_refused_naming_the_variable(
    rt: Runtime, formed: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUZIR_RCPJ_FILING_TARGET_DAYS", "0")
    assoc = legal_enterprise(rt, formed, "associacao", 10)
    with refused(rt, InvalidInput, "PRODUZIR_RCPJ_FILING_TARGET_DAYS: '0' must be at least 1"):
        step(rt, assoc, "founding_act", date(2026, 12, 3))


@pytest.mark.parametrize(
    ("legal_form", "members", "basis"),
    [
        ("cooperativa", 20, "Lei 8.934/1994 art. 36"),
        ("sociedade_simples", 2, "Código Civil art. 1.151 §1"),  # at the RCPJ, but a sociedade
    ],
)
def test_a_filing_due_on_a_saturday_is_due_on_monday(
    rt: Runtime, formed: Any, legal_form: str, members: int, basis: str
) -> None:
    case_id, _, _ = formed
    enterprise_id = legal_enterprise(rt, formed, legal_form, members)
    founded = date(2026, 12, 3)  # a Thursday; 30 days end on Saturday 2027-01-02
    step(rt, enterprise_id, "founding_act", founded)
    [due] = open_duties(rt, case_id)
    assert (due["kind"], due["due_on"], due["target"]) == ("registry_filing", "2027-01-04", False)
    assert detail(rt, enterprise_id)["filing_deadline_basis"] == basis


# ------------------------------------------------------------------ legal form is not size


def test_a_cooperative_cannot_be_an_me_and_the_article_is_named(rt: Runtime, formed: Any) -> None:
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    with refused(rt, NotAllowed, r"cannot be an ME or EPP.*\(LC 123/2006 art. 3 §4 VI\)"):
        set_size_category(rt, coop, "me", actor=COORDINATOR)
    assert detail(rt, coop)["size_category"] is None

    work = legal_enterprise(rt, formed, "cooperativa_trabalho", 7, name="Cooperativa Costura")
    with refused(rt, NotAllowed, "art. 3 §4 VI"):
        set_size_category(rt, work, "epp", actor=COORDINATOR)


def test_a_consumer_cooperative_can_be_an_me(rt: Runtime, formed: Any) -> None:
    coop = legal_enterprise(rt, formed, "cooperativa_consumo", 20)
    set_size_category(rt, coop, "me", actor=COORDINATOR)
    shown = detail(rt, coop)
    assert (shown["legal_form"], shown["size_category"], shown["registry"]) == (
        "cooperativa_consumo",
        "me",
        "Junta Comercial",
    )
    # an ME need not have the lawyer's endorsement (LC 123/2006 art. 9 §2)
    step(rt, coop, "founding_act", date(2026, 12, 3))
    assert detail(rt, coop)["next_steps"] == ["registry_filing"]
    set_size_category(rt, coop, None, actor=COORDINATOR)
    assert detail(rt, coop)["size_category"] is None


def test_me_epp_is_no_legal_form_and_other_forms_take_no_size(rt: Runtime, formed: Any) -> None:
    case_id, people, day0 = formed
    group = form(rt, case_id, people[:3], formed_on=day0.isoformat())
    with refused(rt, InvalidInput, r"ME and EPP are size categories \(LC 123/2006 art. 3\)"):
        set_legal_form(rt, group, "me_epp", actor=COORDINATOR)
    with refused(rt, NotAllowed, "has no legal form yet"):
        set_size_category(rt, group, "me", actor=COORDINATOR)
    set_legal_form(rt, group, "associacao", actor=COORDINATOR)
    with refused(rt, NotAllowed, "only a sociedade, the empresário and a consumer cooperative"):
        set_size_category(rt, group, "me", actor=COORDINATOR)
    with refused(rt, InvalidInput, "unknown size category 'grande'"):
        set_size_category(rt, group, "grande", actor=COORDINATOR)

    limited = form(rt, case_id, people[3:5], name="Mercearia Boa Vista", formed_on=day0.isoformat())
    set_legal_form(rt, limited, "sociedade_limitada", actor=COORDINATOR)
    set_size_category(rt, limited, "epp", actor=COORDINATOR)
    # a form that cannot take the size is refused while the size is set
    with refused(rt, NotAllowed, "art. 3 §4 VI"):
        set_legal_form(rt, limited, "cooperativa_trabalho", actor=COORDINATOR)


# ------------------------------------------------------------------ the MEI's revenue cap


def visit(rt: Runtime, case_id: int, enterprise_id: int, on: date, income: str) -> None:
    record_visit(
        rt,
        {
            "case_id": case_id,
            "enterprise_id": enterprise_id,
            "visited_on": on.isoformat(),
            "findings": "Produção regular.",
            "active": True,
            "members": 1,
            "monthly_income": income,
        },
        actor=COORDINATOR,
    )


def test_a_mei_whose_visits_report_more_than_the_cap_gets_the_warning(
    rt: Runtime, formed: Any
) -> None:
    case_id, people, day0 = formed
    mei = form(rt, case_id, people[:1], name="Doces da Maria", formed_on=day0.isoformat())
    set_legal_form(rt, mei, "mei", actor=COORDINATOR)
    # formed in March 2026: 10 months of the year, a cap of 10 x R$ 6,750 = R$ 67,500 (§2)
    visit(rt, case_id, mei, date(2026, 4, 15), "6000.00")  # March-April: 12,000
    visit(rt, case_id, mei, date(2026, 7, 15), "8000.00")  # May-July: 24,000 (36,000)
    visit(rt, case_id, mei, date(2026, 10, 15), "10000.00")  # Aug-Oct: 30,000 (66,000)
    assert [o for o in open_duties(rt, case_id) if o["kind"] == "mei_revenue_cap"] == []

    visit(rt, case_id, mei, date(2026, 12, 10), "9000.00")  # Nov-Dec: 18,000 (84,000)
    [warning] = [o for o in open_duties(rt, case_id) if o["kind"] == "mei_revenue_cap"]
    # communicated by the last working day of the next month (art. 18-A §7 III): Friday 29 Jan
    assert (warning["due_on"], warning["record"]) == ("2027-01-29", f"enterprise:{mei}")
    assert english(warning) == (
        "Doces da Maria reported R$ 84000.00 in 2026, over the MEI cap of R$ 67500.00: "
        "communicate the exit from the MEI (LC 123/2006 art. 18-A §7 III)"
    )
    # a later visit of the same year opens no second warning
    visit(rt, case_id, mei, date(2026, 12, 20), "9500.00")
    assert len([o for o in open_duties(rt, case_id) if o["kind"] == "mei_revenue_cap"]) == 1

    # leaving the MEI (an empresário individual, ME) satisfies it
    set_legal_form(rt, mei, "empresario_individual", actor=COORDINATOR)
    set_size_category(rt, mei, "me", actor=COORDINATOR)
    [done] = [o for o in detail(rt, mei)["obligations"] if o["kind"] == "mei_revenue_cap"]
    assert (done["satisfied_on"], done["satisfied_by"]) == (
        "2027-01-11",
        f"enterprise:{mei}:legal_form",
    )


def test_the_cap_is_a_setting(rt: Runtime, formed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUZIR_MEI_REVENUE_CAP", "150000")
    case_id, people, day0 = formed
    mei = form(rt, case_id, people[:1], name="Doces da Maria", formed_on=day0.isoformat())
    set_legal_form(rt, mei, "mei", actor=COORDINATOR)
    visit(rt, case_id, mei, date(2026, 12, 10), "9000.00")  # 10 months: 90,000 < 125,000
    assert [o for o in open_duties(rt, case_id) if o["kind"] == "mei_revenue_cap"] == []
    assert Decimal("90000") < Decimal("150000") * 10 / 12


# ------------------------------------------------------------------ members who leave


def test_a_cooperative_that_falls_to_19_members_must_restore_them(rt: Runtime, formed: Any) -> None:
    case_id, people, _ = formed
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    leaver = people[0]
    with refused(rt, InvalidInput, "left_on 2027-01-12 is in the future"):
        member_leaves(
            rt,
            coop,
            leaver,
            left_on=date(2027, 1, 12),
            reason="Mudou-se de município.",
            actor="ana",
        )
    with refused(rt, InvalidInput, "the reason has 4 characters"):
        member_leaves(rt, coop, leaver, left_on=date(2026, 4, 6), reason="saiu", actor="ana")
    with refused(rt, InvalidInput, f"person {people[24]} is not a member of enterprise {coop}"):
        member_leaves(
            rt,
            coop,
            people[24],
            left_on=date(2026, 4, 6),
            reason="Mudou-se de município.",
            actor="ana",
        )

    member_leaves(
        rt, coop, leaver, left_on=date(2026, 4, 6), reason="Mudou-se de município.", actor="ana"
    )
    shown = detail(rt, coop)
    assert (shown["members"], leaver in shown["member_ids"]) == (19, False)
    assert shown["former_members"] == [
        {"person_id": leaver, "left_on": "2026-04-06", "reason": "Mudou-se de município."}
    ]
    # shown on the case: restore by the next general assembly at least 6 months later, the
    # earliest being Tuesday 2026-10-06 (Lei 5.764/1971 art. 63 IV)
    [restore] = open_duties(rt, case_id)
    assert (restore["kind"], restore["due_on"], restore["target"]) == (
        "membership_minimum",
        "2026-10-06",
        False,
    )
    assert english(restore) == (
        "Grupo Produtivo Boa Vista fell below the 20 members of a cooperativa (members now: 19): "
        "restore them by the next general assembly, held at least 6 months later, or it must "
        "dissolve (Lei 5.764/1971 art. 63 IV)"
    )
    # the person's own statement (LGPD art. 18 II) shows the departure
    with rt.db.read() as session:
        cpf = session.get(Person, leaver).cpf  # type: ignore[union-attr]
    [membership] = data_subject_report(rt, cpf, actor="ana")["memberships"]
    assert (membership["left_on"], membership["left_reason"]) == (
        "2026-04-06",
        "Mudou-se de município.",
    )
    # a second departure opens no second obligation; two new members restore the minimum
    member_leaves(
        rt, coop, people[1], left_on=date(2026, 5, 4), reason="Desistiu da atividade.", actor="ana"
    )
    assert len(open_duties(rt, case_id)) == 1
    add_members(rt, coop, people[20:21], actor=COORDINATOR)
    assert len(open_duties(rt, case_id)) == 1  # 19: not yet
    add_members(rt, coop, people[21:22], actor=COORDINATOR)
    assert open_duties(rt, case_id) == []
    [done] = detail(rt, coop)["obligations"]
    assert (done["satisfied_on"], done["satisfied_by"]) == (
        "2027-01-11",
        f"enterprise:{coop}:members",
    )


def test_the_one_member_of_a_mei_does_not_leave_it(rt: Runtime, formed: Any) -> None:
    case_id, people, day0 = formed
    mei = form(rt, case_id, people[:1], name="Doces da Maria", formed_on=day0.isoformat())
    set_legal_form(rt, mei, "mei", actor=COORDINATOR)
    with refused(rt, NotAllowed, "which is its one member"):
        member_leaves(
            rt,
            mei,
            people[0],
            left_on=date(2026, 4, 6),
            reason="Encerrou a atividade.",
            actor="ana",
        )


def test_the_leave_command(rt: Runtime, formed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    _, people, _ = formed
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    args = ["leave", str(coop), str(people[0]), "--by", "ana", "--on", "2026-04-06"]
    result = CliRunner().invoke(enterprise_app, [*args, "--reason", "Mudou-se de município."])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"enterprise {coop}: person {people[0]} left on Apr 6, 2026 (19 members)"
    assert "(due Oct 6, 2026)" in lines[1]
    result = CliRunner().invoke(enterprise_app, ["size", str(coop), "me", "--by", "ana"])
    assert result.exit_code == 4
    assert "LC 123/2006 art. 3 §4 VI" in result.stderr


# ------------------------------------------------------------------ the forum is preferred


def test_a_demand_from_another_organised_channel_is_recorded_with_it(rt: Runtime) -> None:
    union = "Sindicato dos Trabalhadores Rurais de Quixadá"
    case_id = register_demand(
        rt, demand(demand_channel="sindicato", forum=union), actor=COORDINATOR
    ).case_id
    forum_case = register_demand(rt, demand(), actor=COORDINATOR).case_id
    with rt.db.read() as session:
        rows = {
            c.id: (c.demand_channel, c.forum)
            for c in session.execute(select(Case).where(Case.id.in_([case_id, forum_case])))
            .scalars()
            .all()
        }
    assert rows == {
        case_id: ("sindicato", union),
        forum_case: ("forum", "Fórum Territorial do Sertão Central"),
    }
    with pytest.raises(InvalidInput, match="demand: demand_channel: Input should be 'forum'"):
        DemandInput.parse(demand().model_dump(mode="json") | {"demand_channel": "igreja"})


def test_the_demand_command_takes_the_channel(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    args = [
        "demand",
        "register",
        "--by",
        "ana",
        "--municipality",
        str(QUIXADA),
        "--community",
        "Sítio Riacho Fundo",
        "--channel",
        "conselho",
        "--forum",
        "Conselho Municipal de Desenvolvimento Rural Sustentável",
        "--forum-date",
        "2026-02-20",
        "--activity",
        "caprinocultura",
        "--proponent",
        "Associação do Riacho Fundo",
    ]
    result = CliRunner().invoke(produzir, args)
    assert result.exit_code == 0, result.stderr
    with rt.db.read() as session:
        [row] = session.execute(select(Case.demand_channel, Case.forum)).all()
    assert tuple(row) == (
        "conselho",
        "Conselho Municipal de Desenvolvimento Rural Sustentável",
    )
