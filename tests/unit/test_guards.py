"""Every guard just below and just at its threshold, through the machine (Lifecycle.fire).

Each refusal is checked for the numbers a coordinator needs to read in it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest

from states.deadlines import add_months
from states.errors import GuardFailed
from states.guards import CaseFacts
from states.lifecycle import Lifecycle, Outcome
from tests.builders import ENTERPRISES, evidence_for

TODAY = date(2026, 3, 2)
MICROREGION = 23019
ACTOR = "ana"


def facts(state: str, **overrides: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "case_id": 11,
        "state": state,
        "registered_on": TODAY - timedelta(days=400),
        "entered_on": TODAY - timedelta(days=5),
        "microregion_code": MICROREGION,
        "forum": "Fórum Territorial do Sertão Central",
        "forum_held_on": TODAY - timedelta(days=410),
        "community": "Assentamento Boa Vista",
        "activity": "apicultura",
        "proponent": "Associação dos Apicultores de Boa Vista",
        "enterprises": ENTERPRISES,
    }
    values.update(overrides)
    return CaseFacts(**values)


def fire(
    lifecycle: Lifecycle,
    state: str,
    event: str,
    evidence: dict[str, Any],
    *,
    actor: str = ACTOR,
    today: date = TODAY,
    **overrides: Any,
) -> Outcome:
    parsed = lifecycle.parse_evidence(event, evidence)
    return lifecycle.fire(facts(state, **overrides), event, parsed, actor=actor, today=today)


def refusal(lifecycle: Lifecycle, state: str, event: str, evidence: dict[str, Any], **kw: Any):
    with pytest.raises(GuardFailed) as failed:
        fire(lifecycle, state, event, evidence, **kw)
    assert failed.value.event == event
    assert str(failed.value).startswith(f"{event} refused for case 11: ")
    return failed.value.reason


def base(event: str) -> dict[str, Any]:
    return evidence_for(event, TODAY, microregion=MICROREGION)


# --- mobilizacao: pre-registered participants -------------------------------------------------


def test_min_participants_39_is_refused(lifecycle: Lifecycle) -> None:
    evidence = base("concluir_mobilizacao") | {"pre_registered": 39}
    reason = refusal(lifecycle, "mobilizacao", "concluir_mobilizacao", evidence)
    assert reason == "39 participants pre-registered; at least 40 needed"


def test_min_participants_40_passes(lifecycle: Lifecycle) -> None:
    evidence = base("concluir_mobilizacao") | {"pre_registered": 40}
    assert fire(lifecycle, "mobilizacao", "concluir_mobilizacao", evidence).to_state == (
        "capacitacao"
    )


# --- capacitacao: ECC length, attendance, groups ----------------------------------------------


def ecc(days: int, attendance: list[int], **overrides: Any) -> dict[str, Any]:
    evidence = base("concluir_capacitacao")
    evidence.update(
        start_on=(TODAY - timedelta(days=days - 1)).isoformat(),
        end_on=TODAY.isoformat(),
        enrolled=max(len(attendance), 1),
        certified_attendance_days=attendance,
    )
    evidence.update(overrides)
    return evidence


def test_attendance_at_threshold_passes(lifecycle: Lifecycle) -> None:
    needed = math.ceil(0.75 * 44)
    assert needed == 33
    evidence = ecc(44, [44] * 39 + [needed])
    assert fire(lifecycle, "capacitacao", "concluir_capacitacao", evidence).to_state == "gestao"


def test_attendance_below_threshold_is_refused(lifecycle: Lifecycle) -> None:
    evidence = ecc(44, [44] * 39 + [32])
    reason = refusal(lifecycle, "capacitacao", "concluir_capacitacao", evidence)
    assert "1 of 40 certified participants attended fewer than 33 of the ECC's 44 days" in reason
    assert "75%" in reason


def test_ecc_at_max_days_passes(lifecycle: Lifecycle) -> None:
    assert lifecycle.config.thresholds.max_ecc_days == 60
    evidence = ecc(60, [45] * 40)
    assert fire(lifecycle, "capacitacao", "concluir_capacitacao", evidence).to_state == "gestao"


def test_ecc_longer_than_max_days_is_refused(lifecycle: Lifecycle) -> None:
    evidence = ecc(61, [61] * 40)
    reason = refusal(lifecycle, "capacitacao", "concluir_capacitacao", evidence)
    assert reason == "the ECC lasted 61 days; at most 60 are accepted"


def test_ecc_without_enterprise_group_is_refused(lifecycle: Lifecycle) -> None:
    evidence = ecc(44, [44] * 40, enterprise_groups=[])
    reason = refusal(lifecycle, "capacitacao", "concluir_capacitacao", evidence)
    assert "no enterprise group" in reason


# --- gestao: business plans ------------------------------------------------------------------


def test_business_plan_missing_for_one_enterprise_names_it(lifecycle: Lifecycle) -> None:
    evidence = base("concluir_gestao")
    evidence["business_plans"] = evidence["business_plans"][:1]
    reason = refusal(lifecycle, "gestao", "concluir_gestao", evidence)
    assert reason == f"no business plan for enterprise {ENTERPRISES[1]!r}"
    assert ENTERPRISES[0] not in reason


def test_business_plan_for_each_enterprise_passes(lifecycle: Lifecycle) -> None:
    evidence = base("concluir_gestao")
    assert fire(lifecycle, "gestao", "concluir_gestao", evidence).to_state == "legalizacao"


# --- legalizacao ------------------------------------------------------------------------------

FOUNDED = TODAY - timedelta(days=40)
VALID_CNPJ = "11.222.333/0001-81"


def one_enterprise(**fields: Any) -> dict[str, Any]:
    enterprise: dict[str, Any] = {
        "enterprise": "Cooperativa Mel do Sertão",
        "legal_form": "cooperativa",
        "members": 20,
        "founding_act_on": FOUNDED.isoformat(),
        "registry_filed_on": (FOUNDED + timedelta(days=30)).isoformat(),
        "cnpj": VALID_CNPJ,
    }
    enterprise.update(fields)
    return {"enterprises": [enterprise]}


def legalise(lifecycle: Lifecycle, **fields: Any) -> Outcome:
    return fire(
        lifecycle,
        "legalizacao",
        "concluir_legalizacao",
        one_enterprise(**fields),
        enterprises=("Cooperativa Mel do Sertão",),
    )


def legalise_refused(lifecycle: Lifecycle, **fields: Any) -> str:
    return refusal(
        lifecycle,
        "legalizacao",
        "concluir_legalizacao",
        one_enterprise(**fields),
        enterprises=("Cooperativa Mel do Sertão",),
    )


@pytest.mark.parametrize(("form", "minimum"), [("cooperativa", 20), ("cooperativa_trabalho", 7)])
def test_cooperative_at_minimum_members_passes(
    lifecycle: Lifecycle, form: str, minimum: int
) -> None:
    assert legalise(lifecycle, legal_form=form, members=minimum).to_state == "acompanhamento"


@pytest.mark.parametrize(("form", "minimum"), [("cooperativa", 20), ("cooperativa_trabalho", 7)])
def test_cooperative_below_minimum_members_is_refused(
    lifecycle: Lifecycle, form: str, minimum: int
) -> None:
    reason = legalise_refused(lifecycle, legal_form=form, members=minimum - 1)
    assert reason == (
        f"enterprise 'Cooperativa Mel do Sertão' is a {form} with {minimum - 1} members; "
        f"at least {minimum} needed"
    )


def test_mei_with_two_members_is_refused(lifecycle: Lifecycle) -> None:
    reason = legalise_refused(lifecycle, legal_form="mei", members=2)
    assert "is a MEI, which is one person, but has 2 members" in reason


def test_mei_with_one_member_passes(lifecycle: Lifecycle) -> None:
    assert legalise(lifecycle, legal_form="mei", members=1).to_state == "acompanhamento"


def test_filing_30_days_after_founding_passes(lifecycle: Lifecycle) -> None:
    filed = FOUNDED + timedelta(days=30)
    assert legalise(lifecycle, registry_filed_on=filed.isoformat()).to_state == "acompanhamento"


def test_filing_31_days_after_founding_is_refused(lifecycle: Lifecycle) -> None:
    filed = FOUNDED + timedelta(days=31)
    reason = legalise_refused(lifecycle, registry_filed_on=filed.isoformat())
    assert "filed at the registry 31 days after its founding act" in reason
    assert "at most 30 days" in reason


def test_neither_cnpj_nor_reason_is_refused(lifecycle: Lifecycle) -> None:
    reason = legalise_refused(lifecycle, cnpj=None, registry_filed_on=None)
    assert reason == (
        "enterprise 'Cooperativa Mel do Sertão' has neither a CNPJ nor a recorded reason why not"
    )


def test_no_cnpj_with_a_reason_passes(lifecycle: Lifecycle) -> None:
    outcome = legalise(
        lifecycle, cnpj=None, registry_filed_on=None, no_cnpj_reason="Aguardando a Junta."
    )
    assert outcome.to_state == "acompanhamento"


# --- acompanhamento ---------------------------------------------------------------------------

FOLLOW_START = add_months(TODAY, -12)


def follow_up(visit_days: list[int]) -> dict[str, Any]:
    return {
        "clai_installed_on": (FOLLOW_START + timedelta(days=10)).isoformat(),
        "protocol_signed_on": (FOLLOW_START + timedelta(days=20)).isoformat(),
        "visits": [(FOLLOW_START + timedelta(days=d)).isoformat() for d in visit_days],
    }


def test_follow_up_period_not_over_is_refused(lifecycle: Lifecycle) -> None:
    started = FOLLOW_START + timedelta(days=1)
    reason = refusal(
        lifecycle,
        "acompanhamento",
        "concluir_acompanhamento",
        follow_up([90, 180, 270, 360]),
        entered_on=started,
    )
    assert reason == (
        f"the 12-month follow-up started on {started} and ends on {add_months(started, 12)}"
    )


def test_follow_up_visits_90_days_apart_pass(lifecycle: Lifecycle) -> None:
    outcome = fire(
        lifecycle,
        "acompanhamento",
        "concluir_acompanhamento",
        follow_up([90, 180, 270, 360]),
        entered_on=FOLLOW_START,
    )
    assert outcome.to_state == "avaliacao"


def test_follow_up_gap_of_91_days_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "acompanhamento",
        "concluir_acompanhamento",
        follow_up([90, 181, 270, 360]),
        entered_on=FOLLOW_START,
    )
    first, second = FOLLOW_START + timedelta(days=90), FOLLOW_START + timedelta(days=181)
    assert reason.startswith(f"91 days passed between {first} and {second} without a visit")
    assert "a visit every 90 days" in reason


def test_follow_up_visit_after_the_period_opens_no_gap(lifecycle: Lifecycle) -> None:
    # The period ended 40 days ago; the closing visit came after its end. Coverage is judged
    # over the period: 300 -> end of period is 65 days, not 300 -> 395.
    entered = FOLLOW_START - timedelta(days=40)
    evidence = follow_up([])
    evidence["visits"] = [
        (entered + timedelta(days=d)).isoformat() for d in (80, 160, 240, 300, 395)
    ]
    outcome = fire(
        lifecycle, "acompanhamento", "concluir_acompanhamento", evidence, entered_on=entered
    )
    assert outcome.to_state == "avaliacao"


# --- indeferida: appeal window ----------------------------------------------------------------


def test_appeal_on_day_10_passes(lifecycle: Lifecycle) -> None:
    outcome = fire(
        lifecycle,
        "indeferida",
        "recorrer",
        base("recorrer"),
        rejected_on=TODAY - timedelta(days=10),
    )
    assert outcome.to_state == "em_analise"


def test_appeal_on_day_11_is_refused(lifecycle: Lifecycle) -> None:
    rejected = TODAY - timedelta(days=11)
    reason = refusal(lifecycle, "indeferida", "recorrer", base("recorrer"), rejected_on=rejected)
    assert reason == (
        f"the appeal was filed on {TODAY}, 11 days after the rejection on {rejected}; "
        "the window is 10 days"
    )


# --- em_analise: eligibility ------------------------------------------------------------------


def test_eligibility_for_the_wrong_microregion_is_refused(lifecycle: Lifecycle) -> None:
    evidence = base("aprovar_elegibilidade") | {"microregion_code": 23020}
    reason = refusal(lifecycle, "em_analise", "aprovar_elegibilidade", evidence)
    assert "microregion 23020" in reason
    assert f"microregion {MICROREGION}" in reason


def test_alta_renda_is_not_eligible(lifecycle: Lifecycle) -> None:
    evidence = base("aprovar_elegibilidade") | {"pndr_class": "alta_renda"}
    reason = refusal(lifecycle, "em_analise", "aprovar_elegibilidade", evidence)
    assert reason.startswith("PNDR class alta_renda is not eligible")
    assert "baixa_renda, estagnada, dinamica" in reason


@pytest.mark.parametrize("pndr_class", ["baixa_renda", "estagnada", "dinamica"])
def test_eligible_classes_pass(lifecycle: Lifecycle, pndr_class: str) -> None:
    evidence = base("aprovar_elegibilidade") | {"pndr_class": pndr_class}
    assert fire(lifecycle, "em_analise", "aprovar_elegibilidade", evidence).to_state == (
        "polo_definido"
    )


# --- suspension -------------------------------------------------------------------------------


def test_suspension_resuming_today_is_refused(lifecycle: Lifecycle) -> None:
    evidence = base("suspender") | {"expected_resume_on": TODAY.isoformat()}
    reason = refusal(lifecycle, "gestao", "suspender", evidence)
    assert reason == f"expected_resume_on {TODAY} must be after today ({TODAY})"


def test_suspension_resuming_tomorrow_passes(lifecycle: Lifecycle) -> None:
    tomorrow = TODAY + timedelta(days=1)
    evidence = base("suspender") | {"expected_resume_on": tomorrow.isoformat()}
    assert fire(lifecycle, "gestao", "suspender", evidence).to_state == "suspensa"


# --- reasoned texts ---------------------------------------------------------------------------


def test_cancellation_reason_one_character_short_is_refused(lifecycle: Lifecycle) -> None:
    evidence = {"kind": "desistencia", "reason": "x" * 19}
    reason = refusal(lifecycle, "gestao", "cancelar", evidence)
    assert reason == (
        "the cancellation's reason has 19 characters; a reasoned text of at least 20 is needed"
    )


def test_cancellation_reason_at_minimum_passes(lifecycle: Lifecycle) -> None:
    evidence = {"kind": "inviabilidade", "reason": "x" * 20}
    assert fire(lifecycle, "gestao", "cancelar", evidence).to_state == "cancelada"


def test_incomplete_demand_names_what_is_missing(lifecycle: Lifecycle) -> None:
    reason = refusal(lifecycle, "registrada", "iniciar_analise", {}, forum="", proponent="")
    assert reason == "the demand record has no forum, proponent"


# --- reopening --------------------------------------------------------------------------------


def test_reopening_approved_by_its_requester_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "concluida",
        "aprovar_reabertura",
        {},
        actor="ana",
        reopen_requested_by="ana",
        previous_state="avaliacao",
    )
    assert reason == "ana requested the reopening; a different person must decide it"


def test_reopening_approved_by_another_person_returns_the_case(lifecycle: Lifecycle) -> None:
    outcome = fire(
        lifecycle,
        "concluida",
        "aprovar_reabertura",
        {},
        actor="bruno",
        reopen_requested_by="ana",
        previous_state="avaliacao",
    )
    assert outcome.to_state == "avaliacao"


def test_reopening_refused_by_its_requester_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "cancelada",
        "recusar_reabertura",
        base("recusar_reabertura"),
        actor="ana",
        reopen_requested_by="ana",
    )
    assert "a different person must decide it" in reason


def test_reopening_approved_without_a_request_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle, "cancelada", "aprovar_reabertura", {}, actor="bruno", previous_state="gestao"
    )
    assert reason == "no reopening has been requested"


def test_second_reopening_request_while_one_is_pending_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "concluida",
        "solicitar_reabertura",
        base("solicitar_reabertura"),
        reopen_requested_by="carla",
    )
    assert "requested by carla is already waiting" in reason


# --- extensions -------------------------------------------------------------------------------


def test_first_extension_on_em_analise_passes(lifecycle: Lifecycle) -> None:
    outcome = fire(lifecycle, "em_analise", "prorrogar", base("prorrogar"), extensions_used=0)
    assert outcome.to_state == "em_analise"


def test_second_extension_on_em_analise_is_refused(lifecycle: Lifecycle) -> None:
    assert lifecycle.config.deadlines["em_analise"].max_extensions == 1
    reason = refusal(lifecycle, "em_analise", "prorrogar", base("prorrogar"), extensions_used=1)
    assert reason == "the deadline of state em_analise was already extended once, the maximum"
