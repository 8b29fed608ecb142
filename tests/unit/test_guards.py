"""Every guard just below and just at its threshold, through the machine (Lifecycle.fire).

The guards of the programme's steps read records (``states.guards.Records``: the participants
count, the ECC's summary, the enterprises, the follow-up), built here by hand; the others read
the evidence and the case's facts. Each refusal is checked for the numbers a coordinator needs
to read in it.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from typing import Any

import pytest

from states.deadlines import add_months
from states.errors import GuardFailed, InvalidInput
from states.guards import CaseFacts, EccSummary, EnterpriseSummary, FollowUpSummary, Records
from states.lifecycle import SHIPPED_VERSIONS, Lifecycle, Outcome, load_lifecycle
from states.territory import TypologyCheck
from tests.builders import ENTERPRISES, evidence_for

TODAY = date(2026, 3, 2)
MICROREGION = 23019
ACTOR = "ana"
ECC_ID = 12


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
    records: Records | None = None,
    **overrides: Any,
) -> Outcome:
    parsed = lifecycle.parse_evidence(event, evidence)
    return lifecycle.fire(
        facts(state, **overrides), event, parsed, actor=actor, today=today, records=records
    )


def refusal(
    lifecycle: Lifecycle, state: str, event: str, evidence: dict[str, Any], **kw: Any
) -> str:
    with pytest.raises(GuardFailed) as failed:
        fire(lifecycle, state, event, evidence, **kw)
    assert failed.value.event == event
    assert str(failed.value).startswith(f"{event} refused for case 11: ")
    return failed.value.reason


def base(event: str) -> dict[str, Any]:
    return evidence_for(event, TODAY)


# --- mobilizacao: pre-registered participants -------------------------------------------------


def test_min_participants_39_is_refused(lifecycle: Lifecycle) -> None:
    assert lifecycle.config.thresholds.min_participants == 40
    reason = refusal(
        lifecycle,
        "mobilizacao",
        "concluir_mobilizacao",
        base("concluir_mobilizacao"),
        records=Records(participants=39),
    )
    assert reason == "39 participants pre-registered; at least 40 needed"


def test_min_participants_40_passes(lifecycle: Lifecycle) -> None:
    outcome = fire(
        lifecycle,
        "mobilizacao",
        "concluir_mobilizacao",
        base("concluir_mobilizacao"),
        records=Records(participants=40),
    )
    assert outcome.to_state == "capacitacao"


def test_no_records_means_no_participants(lifecycle: Lifecycle) -> None:
    reason = refusal(lifecycle, "mobilizacao", "concluir_mobilizacao", base("concluir_mobilizacao"))
    assert reason == "0 participants pre-registered; at least 40 needed"


def test_diagnosis_in_the_future_is_refused_even_with_enough_participants(
    lifecycle: Lifecycle,
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    evidence = base("concluir_mobilizacao")
    evidence["diagnosis"]["completed_on"] = tomorrow.isoformat()
    reason = refusal(
        lifecycle,
        "mobilizacao",
        "concluir_mobilizacao",
        evidence,
        records=Records(participants=40),
    )
    assert reason == f"diagnosis.completed_on {tomorrow} is in the future (today is {TODAY})"


# --- capacitacao: the ECC held, its length, attendance, groups --------------------------------


def ecc(days: int = 44, attendance: list[int] | None = None, **overrides: Any) -> Records:
    """Records with ECC 12: ``days`` long ending today, held, serving the case, one group."""
    summary = EccSummary(
        event_id=ECC_ID,
        kind="ecc",
        start_on=TODAY - timedelta(days=days - 1),
        end_on=TODAY,
        held_on=TODAY,
        serves_case=True,
        session_days=days,
        certification_attendance=tuple(attendance if attendance is not None else [days] * 40),
        groups=1,
    )
    return Records(ecc=dataclasses.replace(summary, **overrides))


def train(lifecycle: Lifecycle, records: Records) -> Outcome:
    return fire(
        lifecycle, "capacitacao", "concluir_capacitacao", {"ecc_id": ECC_ID}, records=records
    )


def train_refused(lifecycle: Lifecycle, records: Records) -> str:
    return refusal(
        lifecycle, "capacitacao", "concluir_capacitacao", {"ecc_id": ECC_ID}, records=records
    )


def test_the_thresholds_the_ecc_tests_use(lifecycle: Lifecycle) -> None:
    t = lifecycle.config.thresholds
    assert (t.min_attendance, t.min_certified_share, t.max_ecc_days) == (0.75, 0.75, 60)
    assert math.ceil(0.75 * 44) == 33  # days a participant must attend a 44-day ECC
    assert math.ceil(0.75 * 40) == 30  # of 40 enrolled for certification, how many must


def test_ecc_days_count_both_ends() -> None:
    summary = ecc(44).ecc
    assert summary is not None
    assert summary.days == 44
    assert (summary.end_on - summary.start_on).days == 43


def test_certified_share_at_threshold_passes(lifecycle: Lifecycle) -> None:
    # 30 of 40 attended exactly 33 of 44 days: both thresholds met exactly.
    assert train(lifecycle, ecc(44, [33] * 30 + [32] * 10)).to_state == "gestao"


def test_one_participant_short_of_the_days_is_not_certified(lifecycle: Lifecycle) -> None:
    # As above, with one of the 30 at 32 days instead of 33: 29 of 40, 30 needed.
    reason = train_refused(lifecycle, ecc(44, [33] * 29 + [32] * 11))
    assert reason == "ECC 12: 29 of 40 certified participants attended ≥ 75%; 30 needed"


def test_certified_share_one_below_is_refused_with_the_issue_numbers(
    lifecycle: Lifecycle,
) -> None:
    # 45 enrolled for certification: ceil(0.75 * 45) = 34 must attend >= 33 days.
    reason = train_refused(lifecycle, ecc(44, [44] * 31 + [10] * 14))
    assert reason == "ECC 12: 31 of 45 certified participants attended ≥ 75%; 34 needed"
    assert train(lifecycle, ecc(44, [44] * 34 + [10] * 11)).to_state == "gestao"


def test_ecc_at_max_days_passes(lifecycle: Lifecycle) -> None:
    assert train(lifecycle, ecc(60, [45] * 40)).to_state == "gestao"


def test_ecc_longer_than_max_days_is_refused(lifecycle: Lifecycle) -> None:
    reason = train_refused(lifecycle, ecc(61, [61] * 40))
    assert reason == "ECC 12 lasted 61 days; at most 60 are accepted"


def test_ecc_without_enterprise_group_is_refused(lifecycle: Lifecycle) -> None:
    reason = train_refused(lifecycle, ecc(groups=0))
    assert reason == "ECC 12 formed no enterprise group for this case; at least one is needed"


def test_ecc_with_one_enterprise_group_passes(lifecycle: Lifecycle) -> None:
    assert train(lifecycle, ecc(groups=1)).to_state == "gestao"


def test_ecc_not_held_is_refused(lifecycle: Lifecycle) -> None:
    reason = train_refused(lifecycle, ecc(held_on=None))
    assert reason == f"ECC 12 has not been recorded as held (it ends on {TODAY})"


def test_ecc_serving_another_case_is_refused(lifecycle: Lifecycle) -> None:
    assert train_refused(lifecycle, ecc(serves_case=False)) == "ECC 12 does not serve this case"


def test_an_event_that_is_not_an_ecc_is_refused(lifecycle: Lifecycle) -> None:
    reason = train_refused(lifecycle, ecc(kind="oficina"))
    assert reason == "event 12 is a oficina, not an ECC"


def test_an_unknown_ecc_is_refused(lifecycle: Lifecycle) -> None:
    assert train_refused(lifecycle, Records()) == "ECC 12 does not exist"


def test_ecc_with_nobody_enrolled_for_certification_is_refused(lifecycle: Lifecycle) -> None:
    reason = train_refused(lifecycle, ecc(attendance=[]))
    assert reason == "ECC 12 has no participant enrolled for certification"


# --- gestao: business plans ------------------------------------------------------------------


def enterprise(enterprise_id: int = 5, name: str = ENTERPRISES[0], **fields: Any) -> Any:
    values: dict[str, Any] = {
        "enterprise_id": enterprise_id,
        "name": name,
        "legal_form": "cooperativa",
        "members": 20,
        "business_plan": True,
        "cnpj": "11222333000181",
        "no_cnpj_reason": None,
        "steps": {"founding_act": TODAY - timedelta(days=40)},
    }
    values.update(fields)
    return EnterpriseSummary(**values)


def two_enterprises(**second: Any) -> Records:
    return Records(
        enterprises=(enterprise(5, ENTERPRISES[0]), enterprise(6, ENTERPRISES[1], **second))
    )


def test_business_plan_missing_for_one_enterprise_names_it(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "gestao",
        "concluir_gestao",
        {},
        records=two_enterprises(business_plan=False),
    )
    assert reason == f"no business plan for enterprise 6 {ENTERPRISES[1]!r}"
    assert ENTERPRISES[0] not in reason


def test_business_plan_for_each_enterprise_passes(lifecycle: Lifecycle) -> None:
    outcome = fire(lifecycle, "gestao", "concluir_gestao", {}, records=two_enterprises())
    assert outcome.to_state == "legalizacao"


def test_gestao_without_any_enterprise_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(lifecycle, "gestao", "concluir_gestao", {}, records=Records())
    assert reason == "the case has no enterprise"


# --- legalizacao ------------------------------------------------------------------------------

NAMED = f"enterprise 5 {ENTERPRISES[0]!r}"


def legalise(lifecycle: Lifecycle, **fields: Any) -> Outcome:
    records = Records(enterprises=(enterprise(**fields),))
    return fire(lifecycle, "legalizacao", "concluir_legalizacao", {}, records=records)


def legalise_refused(lifecycle: Lifecycle, **fields: Any) -> str:
    records = Records(enterprises=(enterprise(**fields),))
    return refusal(lifecycle, "legalizacao", "concluir_legalizacao", {}, records=records)


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
    assert reason == f"{NAMED} is a {form} with {minimum - 1} members; at least {minimum} needed"


def test_mei_with_two_members_is_refused(lifecycle: Lifecycle) -> None:
    reason = legalise_refused(lifecycle, legal_form="mei", members=2)
    assert reason == f"{NAMED} is a MEI, which is one person, but has 2 members"


def test_mei_with_one_member_passes(lifecycle: Lifecycle) -> None:
    assert legalise(lifecycle, legal_form="mei", members=1).to_state == "acompanhamento"


def test_an_empresario_individual_is_one_person_too(lifecycle: Lifecycle) -> None:
    reason = legalise_refused(lifecycle, legal_form="empresario_individual", members=2)
    assert reason == f"{NAMED} is an empresário individual, which is one person, but has 2 members"
    outcome = legalise(lifecycle, legal_form="empresario_individual", members=1)
    assert outcome.to_state == "acompanhamento"


def test_a_consumer_cooperative_needs_its_20_members(lifecycle: Lifecycle) -> None:
    reason = legalise_refused(lifecycle, legal_form="cooperativa_consumo", members=19)
    assert reason == f"{NAMED} is a cooperativa_consumo with 19 members; at least 20 needed"


def test_association_has_no_member_minimum(lifecycle: Lifecycle) -> None:
    assert legalise(lifecycle, legal_form="associacao", members=2).to_state == "acompanhamento"


def test_enterprise_without_a_legal_form_is_refused(lifecycle: Lifecycle) -> None:
    assert legalise_refused(lifecycle, legal_form=None) == f"{NAMED} has no legal form"


def test_enterprise_that_will_not_formalise_needs_only_its_reason(lifecycle: Lifecycle) -> None:
    outcome = legalise(
        lifecycle, legal_form=None, cnpj=None, no_cnpj_reason="O grupo decidiu não se formalizar."
    )
    assert outcome.to_state == "acompanhamento"
    reason = legalise_refused(lifecycle, legal_form=None, cnpj=None, no_cnpj_reason=None)
    assert reason == f"{NAMED} has neither a CNPJ nor a recorded reason why not"


def test_neither_cnpj_nor_reason_is_refused(lifecycle: Lifecycle) -> None:
    reason = legalise_refused(lifecycle, cnpj=None, no_cnpj_reason=None)
    assert reason == f"{NAMED} has neither a CNPJ nor a recorded reason why not"


def test_no_cnpj_with_a_reason_passes(lifecycle: Lifecycle) -> None:
    outcome = legalise(lifecycle, cnpj=None, no_cnpj_reason="Aguardando a Junta Comercial.")
    assert outcome.to_state == "acompanhamento"


def test_every_enterprise_must_be_legalised(lifecycle: Lifecycle) -> None:
    records = Records(
        enterprises=(
            enterprise(5, ENTERPRISES[0]),
            enterprise(6, ENTERPRISES[1], legal_form="associacao", cnpj=None),
        )
    )
    reason = refusal(lifecycle, "legalizacao", "concluir_legalizacao", {}, records=records)
    assert reason == (
        f"enterprise 6 {ENTERPRISES[1]!r} has neither a CNPJ nor a recorded reason why not"
    )


# --- acompanhamento ---------------------------------------------------------------------------

FOLLOW_START = add_months(TODAY, -12)


def follow_up(visit_days: list[int], start: date = FOLLOW_START, **fields: Any) -> Records:
    values: dict[str, Any] = {
        "clai_installed_on": start + timedelta(days=10),
        "protocol_signed_on": start + timedelta(days=20),
        "visits": tuple(start + timedelta(days=d) for d in visit_days),
    }
    values.update(fields)
    return Records(follow_up=FollowUpSummary(**values))


def conclude(lifecycle: Lifecycle, records: Records, entered_on: date = FOLLOW_START) -> Outcome:
    return fire(
        lifecycle,
        "acompanhamento",
        "concluir_acompanhamento",
        {},
        records=records,
        entered_on=entered_on,
    )


def conclude_refused(
    lifecycle: Lifecycle, records: Records, entered_on: date = FOLLOW_START
) -> str:
    return refusal(
        lifecycle,
        "acompanhamento",
        "concluir_acompanhamento",
        {},
        records=records,
        entered_on=entered_on,
    )


def test_follow_up_period_not_over_is_refused(lifecycle: Lifecycle) -> None:
    started = FOLLOW_START + timedelta(days=1)
    reason = conclude_refused(lifecycle, follow_up([90, 180, 270, 360]), entered_on=started)
    assert reason == (
        f"the 12-month follow-up started on {started} and ends on {add_months(started, 12)}"
    )


def test_follow_up_visits_90_days_apart_pass(lifecycle: Lifecycle) -> None:
    assert add_months(FOLLOW_START, 12) - FOLLOW_START == timedelta(days=365)
    # 0 -> 90 -> 180 -> 270 -> 360 -> end of period (365): no gap above 90 days.
    assert conclude(lifecycle, follow_up([90, 180, 270, 360])).to_state == "avaliacao"


def test_follow_up_gap_of_91_days_is_refused(lifecycle: Lifecycle) -> None:
    reason = conclude_refused(lifecycle, follow_up([90, 181, 270, 360]))
    first, second = FOLLOW_START + timedelta(days=90), FOLLOW_START + timedelta(days=181)
    assert reason == (
        f"91 days passed between {first} and {second} without a visit; "
        "a visit every 90 days is required"
    )


def test_follow_up_gap_before_the_end_of_the_period_counts(lifecycle: Lifecycle) -> None:
    # Visits 90 days apart, the last on day 274: 91 days until the period ends on day 365.
    end = FOLLOW_START + timedelta(days=365)
    reason = conclude_refused(lifecycle, follow_up([4, 94, 184, 274]))
    assert reason.startswith(
        f"91 days passed between {FOLLOW_START + timedelta(days=274)} and {end} without a visit"
    )
    assert conclude(lifecycle, follow_up([5, 95, 185, 275])).to_state == "avaliacao"


def test_follow_up_visit_after_the_period_opens_no_gap(lifecycle: Lifecycle) -> None:
    # The period ended 40 days ago; the closing visit came after its end. Coverage is judged
    # over the period: 300 -> end of period is 65 days, not 300 -> 395.
    entered = FOLLOW_START - timedelta(days=40)
    records = follow_up([80, 160, 240, 300, 395], start=entered)
    assert conclude(lifecycle, records, entered_on=entered).to_state == "avaliacao"


def test_follow_up_without_clai_is_refused(lifecycle: Lifecycle) -> None:
    reason = conclude_refused(lifecycle, follow_up([90, 180, 270, 360], clai_installed_on=None))
    assert reason == "the Comitê Local de Ação Integrada (CLAI) has not been installed"


def test_follow_up_without_a_signed_protocol_is_refused(lifecycle: Lifecycle) -> None:
    reason = conclude_refused(lifecycle, follow_up([90, 180, 270, 360], protocol_signed_on=None))
    assert reason == "the Protocolo de Ações Integradas has not been signed"


# --- avaliacao: the indicators against the records --------------------------------------------


def test_evaluation_reporting_as_many_active_as_formed_passes(lifecycle: Lifecycle) -> None:
    evidence = base("concluir_avaliacao")
    assert evidence["indicators"]["enterprises_active"] == 2
    outcome = fire(
        lifecycle, "avaliacao", "concluir_avaliacao", evidence, records=two_enterprises()
    )
    assert outcome.to_state == "concluida"


def test_evaluation_reporting_more_active_than_formed_is_refused(lifecycle: Lifecycle) -> None:
    evidence = base("concluir_avaliacao")
    evidence["indicators"]["enterprises_active"] = 3
    reason = refusal(
        lifecycle, "avaliacao", "concluir_avaliacao", evidence, records=two_enterprises()
    )
    assert reason == "3 enterprises reported active, but the case formed 2"


# --- indeferida: the appeal window counts from the ciência (Lei 9.784/1999 art. 59) ----------
#
# `due_on` is the window's last day, set when the ciência is recorded (tests/unit/test_effects.py
# shows it computed); None while it is not.


def test_appeal_on_the_windows_last_day_passes_and_goes_to_the_authority_that_decided(
    lifecycle: Lifecycle,
) -> None:
    # decided 22 days ago, the ciência 12 days later: the window's 10th day is today
    outcome = fire(
        lifecycle,
        "indeferida",
        "recorrer",
        base("recorrer"),
        rejected_on=TODAY - timedelta(days=22),
        due_on=TODAY,
    )
    assert outcome.to_state == "em_reconsideracao"


def test_appeal_after_the_window_from_the_ciencia_is_refused(lifecycle: Lifecycle) -> None:
    closes = TODAY - timedelta(days=1)
    reason = refusal(
        lifecycle,
        "indeferida",
        "recorrer",
        base("recorrer"),
        rejected_on=TODAY - timedelta(days=15),
        due_on=closes,
    )
    assert reason == (
        f"the appeal was filed on {TODAY}, after the window of 10 days from the proponent's "
        f"ciência closed on {closes}"
    )


def test_appeal_before_the_ciencia_is_recorded_is_in_time(lifecycle: Lifecycle) -> None:
    # the window has not started; an act done before its term starts is timely
    outcome = fire(
        lifecycle,
        "indeferida",
        "recorrer",
        base("recorrer"),
        rejected_on=TODAY - timedelta(days=40),
        due_on=None,
    )
    assert outcome.to_state == "em_reconsideracao"


def test_under_2026_2_the_window_still_counts_from_the_decision() -> None:
    old = load_lifecycle(SHIPPED_VERSIONS / "lifecycle-2026.2.toml")
    rejected = TODAY - timedelta(days=11)
    reason = refusal(old, "indeferida", "recorrer", base("recorrer"), rejected_on=rejected)
    assert reason == (
        f"the appeal was filed on {TODAY}, 11 days after the rejection on {rejected}; "
        "the window is 10 days"
    )
    outcome = fire(
        old, "indeferida", "recorrer", base("recorrer"), rejected_on=TODAY - timedelta(days=10)
    )
    assert outcome.to_state == "em_analise"


def test_archiving_waits_for_the_appeal_window_to_close(lifecycle: Lifecycle) -> None:
    closes = TODAY
    reason = refusal(
        lifecycle,
        "indeferida",
        "arquivar",
        {},
        rejected_on=TODAY - timedelta(days=10),
        due_on=closes,
    )
    assert reason == f"the appeal window is open until {closes}"
    outcome = fire(
        lifecycle,
        "indeferida",
        "arquivar",
        {},
        rejected_on=TODAY - timedelta(days=11),
        due_on=TODAY - timedelta(days=1),
    )
    assert outcome.to_state == "arquivada"


def test_no_archiving_while_the_ciencia_is_not_recorded(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle, "indeferida", "arquivar", {}, rejected_on=TODAY - timedelta(days=90)
    )
    assert reason == (
        "the proponent's ciência of the rejection is not recorded, so the appeal window has "
        "not started; record it with notificar_decisao"
    )


def test_the_ciencia_is_recorded_once_and_not_before_the_rejection(lifecycle: Lifecycle) -> None:
    rejected = TODAY - timedelta(days=12)
    notice = {"notified_on": TODAY.isoformat(), "means": "postal"}
    outcome = fire(lifecycle, "indeferida", "notificar_decisao", notice, rejected_on=rejected)
    assert outcome.to_state == "indeferida"
    reason = refusal(
        lifecycle, "indeferida", "notificar_decisao", notice, rejected_on=rejected, due_on=TODAY
    )
    assert reason == (
        "the proponent's ciência of the rejection is already recorded; the appeal window runs "
        f"until {TODAY}"
    )
    early = {"notified_on": (rejected - timedelta(days=1)).isoformat(), "means": "pessoal"}
    reason = refusal(lifecycle, "indeferida", "notificar_decisao", early, rejected_on=rejected)
    assert (
        reason
        == f"notified_on {rejected - timedelta(days=1)} is before the rejection on {rejected}"
    )


def test_a_rejection_names_both_parts_of_the_ciencia_or_neither(lifecycle: Lifecycle) -> None:
    evidence = base("indeferir") | {"means": None}
    with pytest.raises(InvalidInput, match="give both notified_on and means"):
        lifecycle.parse_evidence("indeferir", evidence)
    evidence = base("indeferir") | {"notified_on": "2026-02-01", "decided_on": "2026-02-10"}
    with pytest.raises(InvalidInput, match="notified_on 2026-02-01 is before decided_on"):
        lifecycle.parse_evidence("indeferir", evidence)


@pytest.mark.parametrize(
    ("state", "event", "to_state"),
    [
        ("em_reconsideracao", "reconsiderar", "em_analise"),
        ("em_reconsideracao", "encaminhar_recurso", "recurso_superior"),
        ("recurso_superior", "prover_recurso", "em_analise"),
        ("recurso_superior", "negar_provimento", "arquivada"),
    ],
)
def test_an_appeal_decision_is_reasoned_and_not_in_the_future(
    lifecycle: Lifecycle, state: str, event: str, to_state: str
) -> None:
    outcome = fire(lifecycle, state, event, base(event), rejected_on=TODAY - timedelta(days=20))
    assert outcome.to_state == to_state
    short = base(event) | {"reasons": "Não."}
    assert refusal(lifecycle, state, event, short) == (
        "the decision's reasons has 4 characters; a reasoned text of at least 20 is needed"
    )
    later = base(event) | {"decided_on": (TODAY + timedelta(days=1)).isoformat()}
    assert refusal(lifecycle, state, event, later) == (
        f"decided_on {TODAY + timedelta(days=1)} is in the future (today is {TODAY})"
    )


# --- em_analise: eligibility ------------------------------------------------------------------


def typology(pndr_class: str | None, version: str = "2024") -> Records:
    return Records(
        typology=TypologyCheck(
            typology_id=1,
            name="PNDR",
            version=version,
            source="Decreto 11.962/2024",
            illustrative=False,
            microregion_code=MICROREGION,
            pndr_class=pndr_class,
        )
    )


def test_eligibility_without_any_typology_is_refused(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle, "em_analise", "aprovar_elegibilidade", base("aprovar_elegibilidade")
    )
    assert reason.startswith("no PNDR typology has been imported")
    assert "produzir territory import-typology" in reason


def test_a_microregion_without_a_class_is_refused_naming_it(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "em_analise",
        "aprovar_elegibilidade",
        base("aprovar_elegibilidade"),
        records=typology(None),
    )
    assert reason.startswith(
        f"microregion {MICROREGION} has no class in the PNDR typology in force (PNDR 2024)"
    )


def test_alta_renda_is_not_eligible(lifecycle: Lifecycle) -> None:
    reason = refusal(
        lifecycle,
        "em_analise",
        "aprovar_elegibilidade",
        base("aprovar_elegibilidade"),
        records=typology("alta_renda"),
    )
    assert reason.startswith(f"microregion {MICROREGION} is of PNDR class alta_renda")
    assert "(PNDR 2024), which is not eligible" in reason
    assert "baixa_renda, estagnada, dinamica" in reason


@pytest.mark.parametrize("pndr_class", ["baixa_renda", "estagnada", "dinamica"])
def test_eligible_classes_pass(lifecycle: Lifecycle, pndr_class: str) -> None:
    outcome = fire(
        lifecycle,
        "em_analise",
        "aprovar_elegibilidade",
        base("aprovar_elegibilidade"),
        records=typology(pndr_class),
    )
    assert outcome.to_state == "polo_definido"


def test_the_class_is_never_typed(lifecycle: Lifecycle) -> None:
    evidence = base("aprovar_elegibilidade") | {"pndr_class": "estagnada"}
    with pytest.raises(InvalidInput, match="pndr_class"):
        lifecycle.parse_evidence("aprovar_elegibilidade", evidence)


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


def test_attendance_is_a_share_of_the_session_days_not_of_the_span(lifecycle: Lifecycle) -> None:
    # a 45-day ECC held Monday to Friday meets on 33 days: 75 % of them is 25, not 34 of 45
    records = ecc(45, [25] * 40, session_days=33)
    assert train(lifecycle, records).to_state == "gestao"
    reason = train_refused(lifecycle, ecc(45, [24] * 40, session_days=33))
    assert reason.startswith("ECC 12: 0 of 40 certified participants attended ≥ 75%")
