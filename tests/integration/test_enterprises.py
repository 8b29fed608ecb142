"""Enterprises as a coordinator records them: members and the legal form's minimum, the
legalisation steps in legal order with their dates, CNPJ validation, the licence waiver, OCB and
CAF where they apply, the registry deadlines as dated obligations, the guards of ``gestao`` and
``legalizacao`` read from these records, and the ``produzir enterprise`` commands.

Every refusal is checked to leave the database as it was; every test ends with the audit chain
verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from console.cli_enterprise import enterprise_app
from states.errors import GuardFailed, InvalidInput, NotAllowed, NotFound
from tasks.cases import advance
from tasks.enterprises import (
    add_members,
    enterprise_detail,
    form_enterprise,
    list_enterprises,
    record_step,
    set_business_plan,
    set_legal_form,
    set_no_cnpj_reason,
    set_size_category,
)
from tasks.obligations import list_obligations
from tasks.people import preregister, register_person
from tasks.runtime import Runtime
from tests.builders import (
    COORDINATOR,
    QUIXADA,
    add_participants,
    cli_users,
    cnpj_for,
    cpf_for,
    drive,
    enterprises_of,
    new_case,
    participants_of,
    today_of,
)
from tests.integration.helpers import verify

ALNUM_CNPJ = "12.ABC.345/01DE-35"
RECORD_TABLES = (
    "enterprises",
    "enterprise_members",
    "legal_steps",
    "obligations",
    "visits",
    "clai",
    "protocols",
    "commitments",
    "hubs",
    "partners",
    "clai_members",
    "clai_meetings",
    "clai_meeting_partners",
    "protocol_signatories",
    "policy_reaches",
    "audit_events",
    "audit_tree",
    "audit_log_state",
)


@pytest.fixture(autouse=True)
def _chain_verifies(rt: Runtime) -> Iterator[None]:
    yield
    result = verify(rt.db)
    assert result.ok, result.problem


def snapshot(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the record tables and the audit chain."""
    with rt.db.read() as session:
        return {
            t: sorted(
                (tuple(r) for r in session.execute(text(f"SELECT * FROM {t}")).all()), key=repr
            )
            for t in RECORD_TABLES
        }


@contextmanager
def refused(rt: Runtime, error: type[Exception], match: str) -> Iterator[None]:
    """The block raises ``error`` matching ``match`` and writes nothing."""
    before = snapshot(rt)
    with pytest.raises(error, match=match):
        yield
    assert snapshot(rt) == before


def today(rt: Runtime) -> date:
    return today_of(rt.clock)  # type: ignore[arg-type]


def setup_case(rt: Runtime, people: int) -> tuple[int, list[int]]:
    case_id = new_case(rt)
    return case_id, add_participants(rt, case_id, people)


def form(rt: Runtime, case_id: int, members: list[int], **extra: Any) -> int:
    values: dict[str, Any] = {
        "case_id": case_id,
        "name": extra.pop("name", "Grupo Produtivo Boa Vista"),
        "activity": "apicultura",
        "formed_on": today(rt).isoformat(),
        "member_ids": members,
    }
    values.update(extra)
    return form_enterprise(rt, values, actor=COORDINATOR)


def step(rt: Runtime, enterprise_id: int, name: str, on: date, **kw: Any) -> None:
    record_step(rt, enterprise_id, name, done_on=on, actor=COORDINATOR, **kw)


@pytest.fixture
def formed(rt: Runtime) -> tuple[int, list[int], date]:
    """A case with 25 participants and the day its enterprises form; the clock is 60 days on."""
    case_id, people = setup_case(rt, 25)
    day0 = today(rt)
    rt.clock.advance(timedelta(days=60))  # type: ignore[attr-defined]
    return case_id, people, day0


def legal_enterprise(
    rt: Runtime, formed: tuple[int, list[int], date], legal_form: str, members: int, **extra: Any
) -> int:
    case_id, people, day0 = formed
    enterprise_id = form(rt, case_id, people[:members], formed_on=day0.isoformat(), **extra)
    set_legal_form(rt, enterprise_id, legal_form, actor=COORDINATOR)
    return enterprise_id


def small_business(
    rt: Runtime, formed: tuple[int, list[int], date], members: int, **extra: Any
) -> int:
    """A sociedade limitada that is a microempresa (ME)."""
    enterprise_id = legal_enterprise(rt, formed, "sociedade_limitada", members, **extra)
    set_size_category(rt, enterprise_id, "me", actor=COORDINATOR)
    return enterprise_id


def detail(rt: Runtime, enterprise_id: int, on: date | None = None) -> dict[str, Any]:
    with rt.db.read() as session:
        return enterprise_detail(session, enterprise_id, today=on)


def obligations_of(rt: Runtime, enterprise_id: int, on: date) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = detail(rt, enterprise_id, on)["obligations"]
    return rows


# ------------------------------------------------------------------ members and legal form


@pytest.mark.parametrize(
    ("legal_form", "members", "minimum"),
    [("cooperativa", 12, 20), ("cooperativa", 19, 20), ("cooperativa_trabalho", 6, 7)],
)
def test_a_cooperative_below_its_minimum_is_refused_and_accepted_at_it(
    rt: Runtime, legal_form: str, members: int, minimum: int
) -> None:
    case_id, people = setup_case(rt, 20)
    enterprise_id = form(rt, case_id, people[:members])
    with refused(rt, NotAllowed, f"has {members} members; a {legal_form} needs at least {minimum}"):
        set_legal_form(rt, enterprise_id, legal_form, actor=COORDINATOR)
    assert detail(rt, enterprise_id)["legal_form"] is None

    add_members(rt, enterprise_id, people[members:minimum], actor=COORDINATOR)
    set_legal_form(rt, enterprise_id, legal_form, actor=COORDINATOR)
    shown = detail(rt, enterprise_id)
    assert (shown["legal_form"], shown["members"], shown["minimum_members"]) == (
        legal_form,
        minimum,
        minimum,
    )
    assert shown["member_ids"] == sorted(people[:minimum])


def test_a_mei_is_exactly_one_person(rt: Runtime) -> None:
    case_id, people = setup_case(rt, 3)
    pair = form(rt, case_id, people[:2], name="Dupla")
    with refused(rt, NotAllowed, "has 2 members; a MEI is exactly one person"):
        set_legal_form(rt, pair, "mei", actor=COORDINATOR)

    solo = form(rt, case_id, people[2:3], name="Doces da Maria")
    set_legal_form(rt, solo, "mei", actor=COORDINATOR)
    with refused(rt, NotAllowed, f"enterprise {solo} is a MEI, which is one person"):
        add_members(rt, solo, [people[0]], actor=COORDINATOR)
    # a MEI has no founding act nor registry: its CNPJ comes directly
    with refused(rt, NotAllowed, "step founding_act does not apply"):
        step(rt, solo, "founding_act", today(rt))
    step(rt, solo, "cnpj", today(rt), reference=cnpj_for(1))
    assert detail(rt, solo)["cnpj"] == cnpj_for(1)


def test_a_member_must_be_a_participant_of_the_case(rt: Runtime) -> None:
    case_id, people = setup_case(rt, 2)
    other_case = new_case(rt, community="Sítio Riacho Fundo")
    outsider = register_person(
        rt,
        {
            "cpf": cpf_for(777),
            "name": "Pessoa de Outro Caso",
            "community": "Sítio Riacho Fundo",
            "municipality_code": QUIXADA,
        },
        actor=COORDINATOR,
    ).person_id
    preregister(rt, other_case, outsider, actor=COORDINATOR)

    with refused(rt, InvalidInput, f"person {outsider} is not a participant of case {case_id}"):
        form(rt, case_id, [*people, outsider])
    enterprise_id = form(rt, case_id, people)
    with refused(rt, InvalidInput, f"person {outsider} is not a participant of case {case_id}"):
        add_members(rt, enterprise_id, [outsider], actor=COORDINATOR)
    assert detail(rt, enterprise_id)["members"] == 2


def test_an_enterprise_formed_before_its_case_or_in_the_future_is_refused(rt: Runtime) -> None:
    case_id, people = setup_case(rt, 1)
    yesterday = today(rt) - timedelta(days=1)
    with refused(rt, InvalidInput, "is before case .* was registered"):
        form(rt, case_id, people, formed_on=yesterday.isoformat())
    with refused(rt, InvalidInput, "is in the future"):
        form(rt, case_id, people, formed_on=(today(rt) + timedelta(days=1)).isoformat())


# ------------------------------------------------------------------ steps in legal order


def test_cnpj_before_the_founding_act_is_refused(rt: Runtime, formed: Any) -> None:
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    with refused(
        rt, NotAllowed, "step cnpj needs founding_act, lawyer_endorsement, registry_filing first"
    ):
        step(rt, coop, "cnpj", today(rt), reference=cnpj_for(2))
    assert detail(rt, coop)["cnpj"] is None


def test_steps_out_of_order_are_refused(rt: Runtime, formed: Any) -> None:
    day = formed[2] + timedelta(days=1)
    assoc = legal_enterprise(rt, formed, "associacao", 10)
    step(rt, assoc, "founding_act", day)
    with refused(rt, NotAllowed, "step registry_filing needs lawyer_endorsement first"):
        step(rt, assoc, "registry_filing", day)
    with refused(rt, NotAllowed, "step state_registration needs .*cnpj first"):
        step(rt, assoc, "state_registration", day)
    step(rt, assoc, "lawyer_endorsement", day)
    step(rt, assoc, "registry_filing", day)
    step(rt, assoc, "cnpj", day, reference=cnpj_for(3))
    # once the CNPJ is out, the registry can no longer be asked for corrections
    with refused(rt, NotAllowed, "cnpj already recorded; registry_correction_requested comes"):
        step(rt, assoc, "registry_correction_requested", day)
    with refused(rt, InvalidInput, "already has step cnpj recorded"):
        step(rt, assoc, "cnpj", day, reference=cnpj_for(4))

    # an ME/EPP needs no lawyer's endorsement (LC 123/2006 art. 9 §2): the filing follows the
    # founding act; an empresário individual's application is no act of a legal person at all
    me = small_business(rt, formed, 2, name="Mercearia Boa Vista")
    step(rt, me, "founding_act", day)
    assert detail(rt, me)["next_steps"] == ["registry_filing"]
    step(rt, me, "registry_filing", day)
    assert detail(rt, me)["next_steps"] == ["cnpj"]
    solo = legal_enterprise(rt, formed, "empresario_individual", 1, name="Doces Boa Vista")
    with refused(rt, NotAllowed, "step lawyer_endorsement does not apply"):
        step(rt, solo, "lawyer_endorsement", day)


def test_a_step_dated_before_its_prerequisite_is_refused(rt: Runtime, formed: Any) -> None:
    day0 = formed[2]
    founded = day0 + timedelta(days=10)
    assoc = legal_enterprise(rt, formed, "associacao", 10)
    with refused(rt, InvalidInput, "is before the enterprise was formed"):
        step(rt, assoc, "founding_act", day0 - timedelta(days=1))
    with refused(rt, InvalidInput, "is in the future"):
        step(rt, assoc, "founding_act", today(rt) + timedelta(days=1))
    step(rt, assoc, "founding_act", founded)
    with refused(rt, InvalidInput, f"is before founding_act on {founded}"):
        step(rt, assoc, "lawyer_endorsement", founded - timedelta(days=1))
    step(rt, assoc, "lawyer_endorsement", founded)  # the same day is in order
    assert [s["step"] for s in detail(rt, assoc)["steps"]] == ["founding_act", "lawyer_endorsement"]


def test_cnpj_is_validated_numeric_or_alphanumeric_and_unique(rt: Runtime, formed: Any) -> None:
    day = formed[2] + timedelta(days=1)
    first = small_business(rt, formed, 2, name="Primeira")
    second = small_business(rt, formed, 2, name="Segunda")
    for enterprise_id in (first, second):
        step(rt, enterprise_id, "founding_act", day)
        step(rt, enterprise_id, "registry_filing", day)
    set_no_cnpj_reason(rt, first, "Aguardando a exigência da Junta Comercial.", actor=COORDINATOR)

    with refused(rt, InvalidInput, "is not a valid CNPJ"):
        step(rt, first, "cnpj", day, reference="12.ABC.345/01DE-36")  # wrong check digit
    with refused(rt, InvalidInput, "is not a valid CNPJ"):
        step(rt, first, "cnpj", day, reference="11.111.111/0001-12")
    with refused(rt, InvalidInput, "needs the CNPJ as its reference"):
        step(rt, first, "cnpj", day)

    step(rt, first, "cnpj", day, reference=ALNUM_CNPJ)
    shown = detail(rt, first)
    assert (shown["cnpj"], shown["legalised"], shown["no_cnpj_reason"]) == (
        "12ABC34501DE35",
        True,
        None,
    )
    with refused(rt, InvalidInput, f"already recorded for enterprise {first}"):
        step(rt, second, "cnpj", day, reference="12abc34501de35")


def test_only_the_licence_can_be_waived(rt: Runtime, formed: Any) -> None:
    day = formed[2] + timedelta(days=1)
    me = small_business(rt, formed, 2)
    for name in ("founding_act", "registry_filing"):
        step(rt, me, name, day)
    step(rt, me, "cnpj", day, reference=cnpj_for(5))
    reason = "Atividade de baixo risco (Resolução CGSIM 51/2019)."
    with refused(rt, InvalidInput, "step state_registration cannot be waived"):
        step(rt, me, "state_registration", day, waived_reason=reason)
    with refused(rt, InvalidInput, "the waiver's reason has 10 characters; at least 20"):
        step(rt, me, "licence", day, waived_reason="baixo risc")

    step(rt, me, "licence", day, waived_reason=reason)
    shown = detail(rt, me)
    licence = next(s for s in shown["steps"] if s["step"] == "licence")
    assert (licence["waived"], licence["waived_reason"]) == (True, reason)
    assert shown["remaining_steps"] == ["state_registration", "municipal_registration"]


def test_ocb_only_for_cooperatives_and_caf_only_for_family_agriculture(
    rt: Runtime, formed: Any
) -> None:
    day = formed[2] + timedelta(days=1)
    coop = legal_enterprise(rt, formed, "cooperativa", 20, family_agriculture=True)
    assoc = legal_enterprise(rt, formed, "associacao", 5, name="Associação Boa Vista")
    for n, enterprise_id in enumerate((coop, assoc)):
        for name in ("founding_act", "lawyer_endorsement", "registry_filing"):
            step(rt, enterprise_id, name, day)
        step(rt, enterprise_id, "cnpj", day, reference=cnpj_for(10 + n))
    assert "ocb_registration" not in detail(rt, assoc)["remaining_steps"]
    assert "caf" not in detail(rt, assoc)["remaining_steps"]
    assert {"ocb_registration", "caf"} <= set(detail(rt, coop)["remaining_steps"])

    with refused(rt, NotAllowed, "step ocb_registration does not apply to .* a associacao"):
        step(rt, assoc, "ocb_registration", day)
    with refused(rt, NotAllowed, "is not family agriculture: caf does not apply"):
        step(rt, assoc, "caf", day)
    step(rt, coop, "ocb_registration", day, reference="OCB-CE 123")
    step(rt, coop, "caf", day, reference="CAF-PJ 456")
    caf = next(s for s in detail(rt, coop)["steps"] if s["step"] == "caf")
    assert caf["valid_until"] == date(day.year + 2, day.month, day.day).isoformat()


# ------------------------------------------------------------------ registry and obligations


def test_the_registry_filing_is_due_30_days_after_the_founding_act(
    rt: Runtime, formed: Any
) -> None:
    founded = formed[2] + timedelta(days=5)
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    step(rt, coop, "founding_act", founded)
    step(rt, coop, "lawyer_endorsement", founded)
    on_time = founded + timedelta(days=30)
    [due] = obligations_of(rt, coop, on_time)
    assert (due["kind"], due["due_on"], due["satisfied_on"], due["record"]) == (
        "registry_filing",
        on_time.isoformat(),
        None,
        f"enterprise:{coop}",
    )
    assert "Junta Comercial" in due["description"]
    assert obligations_of(rt, coop, on_time + timedelta(days=1))[0]["days_late"] == 1

    # a cooperative files at the Junta Comercial, not at a civil registry office
    with refused(rt, InvalidInput, "registered at the Junta Comercial, not at the Registro Civil"):
        step(rt, coop, "registry_filing", on_time, reference="Cartório do 1º Ofício")
    step(rt, coop, "registry_filing", on_time)
    [done] = obligations_of(rt, coop, today(rt))
    assert (done["satisfied_on"], done["satisfied_by"], done["days_late"]) == (
        on_time.isoformat(),
        f"legal_step:{coop}:registry_filing",
        0,
    )
    filing = next(s for s in detail(rt, coop)["steps"] if s["step"] == "registry_filing")
    assert filing["reference"] == "Junta Comercial"


def test_a_registry_filing_due_on_a_saturday_is_due_the_following_monday(
    rt: Runtime, formed: Any
) -> None:
    # Lei 9.784/1999 art. 66 §1: a deadline ending on a day without office hours moves to the
    # next working day; every dated obligation ends on a working day of the case's municipality
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    rt.clock.advance(timedelta(days=(date(2027, 1, 11) - today(rt)).days))  # type: ignore[attr-defined]
    founded = date(2026, 12, 3)  # a Thursday
    assert (founded + timedelta(days=30)).isoformat() == "2027-01-02"  # a Saturday
    step(rt, coop, "founding_act", founded)
    step(rt, coop, "lawyer_endorsement", founded)
    [due] = obligations_of(rt, coop, date(2027, 1, 4))
    assert (due["kind"], due["due_on"], due["days_late"]) == ("registry_filing", "2027-01-04", 0)
    assert obligations_of(rt, coop, date(2027, 1, 5))[0]["days_late"] == 1


def test_a_late_filing_counts_but_shows_its_days_late(rt: Runtime, formed: Any) -> None:
    # Lei 8.934/1994 art. 36: filed after the 30 days, the acts take effect from the filing
    founded = formed[2] + timedelta(days=5)  # Saturday 2026-03-07: 30 days end on a Monday
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    step(rt, coop, "founding_act", founded)
    step(rt, coop, "lawyer_endorsement", founded)
    step(rt, coop, "registry_filing", founded + timedelta(days=31), reference="JUCEC 2026/77")
    [late] = obligations_of(rt, coop, today(rt))
    assert (late["kind"], late["due_on"], late["days_late"]) == (
        "registry_filing",
        "2026-04-06",
        1,
    )
    assert detail(rt, coop)["filing_deadline_basis"] == "Lei 8.934/1994 art. 36"


def test_corrections_are_due_30_days_after_the_registry_asks(rt: Runtime, formed: Any) -> None:
    day = formed[2] + timedelta(days=2)
    asked = day + timedelta(days=7)
    assoc = legal_enterprise(rt, formed, "associacao", 3)
    for name in ("founding_act", "lawyer_endorsement", "registry_filing"):
        step(rt, assoc, name, day)
    step(rt, assoc, "registry_correction_requested", asked, reference="Nota de exigência 12")
    correction = next(
        o for o in obligations_of(rt, assoc, asked) if o["kind"] == "registry_correction"
    )
    assert (correction["due_on"], correction["satisfied_on"]) == (
        (asked + timedelta(days=30)).isoformat(),
        None,
    )
    with refused(rt, NotAllowed, "step cnpj needs registry_correction_filed first"):
        step(rt, assoc, "cnpj", asked, reference=cnpj_for(20))

    answered = asked + timedelta(days=20)
    step(rt, assoc, "registry_correction_filed", answered)
    correction = next(
        o for o in obligations_of(rt, assoc, answered) if o["kind"] == "registry_correction"
    )
    assert (correction["satisfied_on"], correction["days_late"]) == (answered.isoformat(), 0)
    with rt.db.read() as session:
        assert list_obligations(session, today=today(rt), case_id=formed[0]) == []
    step(rt, assoc, "cnpj", answered, reference=cnpj_for(20))


# ------------------------------------------------------------------ reading


def test_detail_and_list_show_the_progress(rt: Runtime, formed: Any) -> None:
    case_id, people, day0 = formed
    day = day0 + timedelta(days=1)
    coop = legal_enterprise(rt, formed, "cooperativa", 20)
    other = form(rt, case_id, people[20:25], name="Associação Doce Vida")
    set_business_plan(rt, coop, document="PN-1", approved_on=day, actor=COORDINATOR)
    step(rt, coop, "founding_act", day)
    step(rt, coop, "lawyer_endorsement", day, reference="OAB/CE 1234")

    shown = detail(rt, coop)
    assert shown["business_plan"] == {"document": "PN-1", "approved_on": day.isoformat()}
    assert [(s["step"], s["reference"]) for s in shown["steps"]] == [
        ("founding_act", None),
        ("lawyer_endorsement", "OAB/CE 1234"),
    ]
    assert shown["remaining_steps"] == [
        "registry_filing",
        "cnpj",
        "state_registration",
        "municipal_registration",
        "licence",
        "ocb_registration",
    ]
    assert shown["next_steps"] == ["registry_filing"]
    assert detail(rt, other)["remaining_steps"] is None  # no legal form yet

    with rt.db.read() as session:
        rows = list_enterprises(session, case_id=case_id)
        coops = list_enterprises(session, legal_form="cooperativa")
        with pytest.raises(InvalidInput, match="unknown legal form 'sa'"):
            list_enterprises(session, legal_form="sa")
        with pytest.raises(NotFound, match="case 999 does not exist"):
            list_enterprises(session, case_id=999)
    assert [(r["id"], r["members"], r["last_step"]) for r in rows] == [
        (coop, 20, "lawyer_endorsement"),
        (other, 5, None),
    ]
    assert [r["id"] for r in coops] == [coop]


# ------------------------------------------------------------------ the guards, from records


def test_leaving_gestao_needs_a_business_plan_for_each_enterprise(rt: Runtime) -> None:
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "gestao")  # type: ignore[arg-type]
    first, second = enterprises_of(rt, case_id)
    set_business_plan(rt, first, document="PN-1", approved_on=today(rt), actor=COORDINATOR)
    with refused(
        rt, GuardFailed, f"no business plan for enterprise {second} 'Associação Doce Vida'"
    ):
        advance(rt, case_id, "concluir_gestao", {}, actor=COORDINATOR)

    set_business_plan(rt, second, document="PN-2", approved_on=today(rt), actor=COORDINATOR)
    assert advance(rt, case_id, "concluir_gestao", {}, actor=COORDINATOR).to_state == (
        "legalizacao"
    )


def _in_legalizacao(rt: Runtime) -> tuple[int, int, int]:
    """A case in legalizacao: its cooperative (22 members) with a CNPJ, its association (12)
    with nothing yet."""
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "legalizacao")  # type: ignore[arg-type]
    coop, assoc = enterprises_of(rt, case_id)
    set_legal_form(rt, coop, "cooperativa", actor=COORDINATOR)
    for name in ("founding_act", "lawyer_endorsement", "registry_filing"):
        step(rt, coop, name, today(rt))
    step(rt, coop, "cnpj", today(rt), reference=cnpj_for(case_id))
    return case_id, coop, assoc


@pytest.mark.parametrize("outcome", ["reason", "cnpj"])
def test_leaving_legalizacao_needs_a_cnpj_or_a_reason_for_each(rt: Runtime, outcome: str) -> None:
    case_id, _, assoc = _in_legalizacao(rt)
    set_legal_form(rt, assoc, "associacao", actor=COORDINATOR)
    with refused(
        rt,
        GuardFailed,
        f"enterprise {assoc} 'Associação Doce Vida' has neither a CNPJ nor a recorded reason",
    ):
        advance(rt, case_id, "concluir_legalizacao", {}, actor=COORDINATOR)

    if outcome == "reason":
        set_no_cnpj_reason(rt, assoc, "Cartório exige nova ata de fundação.", actor=COORDINATOR)
    else:
        for name in ("founding_act", "lawyer_endorsement", "registry_filing"):
            step(rt, assoc, name, today(rt))
        step(rt, assoc, "cnpj", today(rt), reference=ALNUM_CNPJ)
    moved = advance(rt, case_id, "concluir_legalizacao", {}, actor=COORDINATOR)
    assert moved.to_state == "acompanhamento"


def test_the_cooperative_minimum_is_enforced_when_the_form_is_chosen(rt: Runtime) -> None:
    case_id, _, assoc = _in_legalizacao(rt)  # the second group has 12 members
    with refused(rt, NotAllowed, f"enterprise {assoc} has 12 members; a cooperativa needs"):
        set_legal_form(rt, assoc, "cooperativa", actor=COORDINATOR)
    with refused(
        rt,
        GuardFailed,
        f"enterprise {assoc} 'Associação Doce Vida' has neither a CNPJ nor a recorded reason",
    ):
        advance(rt, case_id, "concluir_legalizacao", {}, actor=COORDINATOR)

    # 8 more members (the 6 participants left and 2 new ones) make the 20 a cooperative needs
    coop = enterprises_of(rt, case_id)[0]
    taken = {*detail(rt, assoc)["member_ids"], *detail(rt, coop)["member_ids"]}
    free = [p for p in participants_of(rt, case_id) if p not in taken]
    assert len(free) == 6
    newcomers = add_participants(rt, case_id, 2, first=90_000)
    add_members(rt, assoc, [*free, *newcomers], actor=COORDINATOR)
    set_legal_form(rt, assoc, "cooperativa", actor=COORDINATOR)
    assert detail(rt, assoc)["members"] == 20
    set_no_cnpj_reason(rt, assoc, "Cooperativa aguardando registro na Junta.", actor=COORDINATOR)
    assert advance(rt, case_id, "concluir_legalizacao", {}, actor=COORDINATOR).to_state == (
        "acompanhamento"
    )


# ------------------------------------------------------------------ the command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(enterprise_app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), result.stderr
        return lines[0]
    return result.stdout


def test_the_enterprise_commands(cli: CliRunner, rt: Runtime) -> None:
    case_id, people = setup_case(rt, 21)
    day = today(rt).isoformat()
    members = [a for p in people[:12] for a in ("--member", str(p))]
    out = run(
        cli,
        "form",
        "--by",
        "ana",
        "--case",
        str(case_id),
        "--name",
        "Cooperativa Mel",
        "--activity",
        "apicultura",
        "--formed-on",
        day,
        *members,
    )
    assert out.strip() == f"enterprise 1 formed in case {case_id} (12 members)"
    before = snapshot(rt)
    error = run(cli, "legal-form", "1", "cooperativa", "--by", "ana", code=4)
    assert error == "error: enterprise 1 has 12 members; a cooperativa needs at least 20"
    assert snapshot(rt) == before
    assert "is not a date" in run(
        cli, "plan", "1", "--by", "ana", "--document", "PN", "--approved-on", "ontem", code=2
    )
    assert run(cli, "show", "404", code=3) == "error: enterprise 404 does not exist"

    out = run(cli, "add-member", "1", *map(str, people[12:21]), "--by", "ana")
    assert "9 members added (21 in all)" in out
    run(cli, "legal-form", "1", "cooperativa", "--by", "ana")
    run(cli, "plan", "1", "--by", "ana", "--document", "PN-2026-01", "--approved-on", day)
    for name in ("founding_act", "lawyer_endorsement"):
        run(cli, "step", "1", name, "--done-on", day, "--by", "ana")
    out = run(
        cli,
        "step",
        "1",
        "registry_filing",
        "--done-on",
        day,
        "--by",
        "ana",
        "--reference",
        "JUCEC 26/000123",
    )
    assert "next: registry_correction_requested" not in out
    assert "next: cnpj" in out
    error = run(
        cli,
        "step",
        "1",
        "state_registration",
        "--done-on",
        day,
        "--by",
        "ana",
        "--waived-reason",
        "Dispensada pela Secretaria da Fazenda.",
        code=4,
    )
    assert "needs cnpj first" in error
    run(cli, "step", "1", "cnpj", "--done-on", day, "--reference", ALNUM_CNPJ, "--by", "ana")
    run(
        cli,
        "step",
        "1",
        "licence",
        "--done-on",
        day,
        "--by",
        "ana",
        "--waived-reason",
        "Atividade de baixo risco, dispensa de alvará.",
    )

    shown = json.loads(run(cli, "show", "1", "--json"))
    assert shown["members"] == 21
    assert shown["cnpj"] == "12ABC34501DE35"
    assert shown["business_plan"]["document"] == "PN-2026-01"
    assert [s["step"] for s in shown["steps"]] == [
        "founding_act",
        "lawyer_endorsement",
        "registry_filing",
        "cnpj",
        "licence",
    ]
    assert shown["remaining_steps"] == [
        "state_registration",
        "municipal_registration",
        "ocb_registration",
    ]
    text_out = run(cli, "show", "1")
    assert "Atividade de baixo risco" in text_out
    assert "JUCEC 26/000123" in text_out

    rows = json.loads(run(cli, "list", "--case", str(case_id), "--json"))
    assert [(r["id"], r["legal_form"], r["cnpj"]) for r in rows] == [
        (1, "cooperativa", "12ABC34501DE35")
    ]
    assert "1 enterprise" in run(cli, "list", "--form", "cooperativa")
    error = run(
        cli, "no-cnpj", "1", "--by", "ana", "--reason", "Sem CNPJ por decisão do grupo.", code=4
    )
    assert error == "error: enterprise 1 already has CNPJ 12ABC34501DE35"
