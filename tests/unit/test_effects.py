"""effects.changes_for: what each allowed event changes on the case."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from states.deadlines import add_months
from states.effects import TRACKED, Clockwork, changes_for, from_json, to_json
from states.lifecycle import Lifecycle, Outcome
from tests.builders import QUIXADA, evidence_for

TODAY = date(2026, 3, 2)


def clockwork(state: str, **overrides: Any) -> Clockwork:
    values: dict[str, Any] = {
        "state": state,
        "previous_state": None,
        "entered_on": date(2026, 2, 10),
        "due_on": date(2026, 3, 12),
        "extensions_used": 1,
        "suspended_on": None,
        "paused_due_on": None,
    }
    values.update(overrides)
    return Clockwork(**values)


def changes(
    lifecycle: Lifecycle,
    case: Clockwork,
    event: str,
    to_state: str,
    evidence: dict[str, Any] | None = None,
    *,
    today: date = TODAY,
    actor: str = "ana",
) -> dict[str, Any]:
    raw = evidence if evidence is not None else evidence_for(event, today)
    outcome = Outcome(event, case.state, to_state, lifecycle.parse_evidence(event, raw))
    return changes_for(case, outcome, today=today, actor=actor, config=lifecycle.config)


def test_entering_a_state_resets_its_clock(lifecycle: Lifecycle) -> None:
    case = clockwork("registrada", extensions_used=1)
    result = changes(lifecycle, case, "iniciar_analise", "em_analise")
    assert result == {
        "state": "em_analise",
        "entered_on": TODAY,
        "due_on": TODAY + timedelta(days=30),
        "extensions_used": 0,
    }


def test_entering_a_state_with_a_deadline_in_months(lifecycle: Lifecycle) -> None:
    case = clockwork("legalizacao")
    result = changes(lifecycle, case, "concluir_legalizacao", "acompanhamento")
    assert result["due_on"] == add_months(TODAY, 12) == date(2027, 3, 2)
    assert result["entered_on"] == TODAY


def test_entering_a_closed_state_has_no_deadline(lifecycle: Lifecycle) -> None:
    case = clockwork("avaliacao")
    result = changes(lifecycle, case, "concluir_avaliacao", "concluida")
    assert result["due_on"] is None
    assert result["state"] == "concluida"
    assert result["previous_state"] == "avaliacao"


def test_concluding_the_ecc_changes_only_the_state_and_its_clock(lifecycle: Lifecycle) -> None:
    # The enterprises formed at the ECC are records of their own, not columns of the case.
    result = changes(
        lifecycle, clockwork("capacitacao"), "concluir_capacitacao", "gestao", {"ecc_id": 12}
    )
    assert result == {
        "state": "gestao",
        "entered_on": TODAY,
        "due_on": TODAY + timedelta(days=30),
        "extensions_used": 0,
    }
    assert "enterprises" not in TRACKED


@pytest.mark.parametrize("hub", [QUIXADA, 2312908])
def test_formalising_the_hub_records_its_municipality(lifecycle: Lifecycle, hub: int) -> None:
    evidence = evidence_for("formalizar_polo", TODAY) | {"hub_municipality_code": hub}
    result = changes(
        lifecycle, clockwork("polo_definido"), "formalizar_polo", "mobilizacao", evidence
    )
    assert result == {
        "state": "mobilizacao",
        "entered_on": TODAY,
        "due_on": TODAY + timedelta(days=45),
        "extensions_used": 0,
        "hub_municipality_code": hub,
    }
    assert "hub_municipality_code" in TRACKED  # replayed by the history, like any column


def test_suspending_keeps_the_paused_deadline(lifecycle: Lifecycle) -> None:
    case = clockwork("capacitacao")
    resume_on = TODAY + timedelta(days=20)
    evidence = {"reason": "Chuvas impedem o acesso.", "expected_resume_on": resume_on.isoformat()}
    result = changes(lifecycle, case, "suspender", "suspensa", evidence)
    assert result == {
        "state": "suspensa",
        "previous_state": "capacitacao",
        "entered_on": case.entered_on,
        "extensions_used": case.extensions_used,
        "suspended_on": TODAY,
        "paused_due_on": case.due_on,
        "expected_resume_on": resume_on,
        "due_on": resume_on,
    }


def test_resuming_moves_the_deadline_by_the_days_suspended(lifecycle: Lifecycle) -> None:
    suspended_on = TODAY - timedelta(days=10)
    case = clockwork(
        "suspensa",
        previous_state="capacitacao",
        entered_on=date(2026, 2, 10),
        due_on=date(2026, 3, 20),
        suspended_on=suspended_on,
        paused_due_on=date(2026, 3, 12),
    )
    result = changes(lifecycle, case, "retomar", "capacitacao", {})
    assert result == {
        "state": "capacitacao",
        "previous_state": None,
        "entered_on": date(2026, 2, 20),
        "extensions_used": case.extensions_used,
        "due_on": date(2026, 3, 22),
        "suspended_on": None,
        "paused_due_on": None,
        "expected_resume_on": None,
    }


def test_suspend_then_resume_ten_days_later(lifecycle: Lifecycle) -> None:
    active = clockwork("gestao", due_on=date(2026, 3, 25))
    evidence = {"reason": "Aguardando recursos.", "expected_resume_on": "2026-04-01"}
    paused = changes(lifecycle, active, "suspender", "suspensa", evidence)
    suspended = Clockwork(
        state="suspensa",
        previous_state=paused["previous_state"],
        entered_on=paused["entered_on"],
        due_on=paused["due_on"],
        extensions_used=paused["extensions_used"],
        suspended_on=paused["suspended_on"],
        paused_due_on=paused["paused_due_on"],
    )
    later = TODAY + timedelta(days=10)
    result = changes(lifecycle, suspended, "retomar", "gestao", {}, today=later)
    assert result["due_on"] == date(2026, 3, 25) + timedelta(days=10)
    assert result["entered_on"] == active.entered_on + timedelta(days=10)


def test_extension_extends_by_the_configured_days_and_counts(lifecycle: Lifecycle) -> None:
    rule = lifecycle.config.deadlines["em_analise"]
    case = clockwork("em_analise", due_on=date(2026, 3, 20), extensions_used=0)
    result = changes(lifecycle, case, "prorrogar", "em_analise")
    assert result == {
        "due_on": date(2026, 3, 20) + timedelta(days=rule.extension_days),
        "extensions_used": 1,
    }
    assert rule.extension_days == 30


def test_extension_of_capacitacao_uses_its_own_days(lifecycle: Lifecycle) -> None:
    case = clockwork("capacitacao", due_on=date(2026, 3, 20), extensions_used=0)
    result = changes(lifecycle, case, "prorrogar", "capacitacao")
    days = lifecycle.config.deadlines["capacitacao"].extension_days
    assert result["due_on"] == date(2026, 3, 20) + timedelta(days=days)


def test_a_rejection_without_the_ciencia_starts_no_appeal_window(lifecycle: Lifecycle) -> None:
    decided = TODAY - timedelta(days=2)
    evidence = {"decided_on": decided.isoformat(), "reasons": "Fora da área prioritária da PNDR."}
    result = changes(lifecycle, clockwork("em_analise"), "indeferir", "indeferida", evidence)
    assert result["rejected_on"] == decided
    assert result["due_on"] is None  # nothing archives it until the ciência is recorded
    assert result["state"] == "indeferida"


def test_the_appeal_window_counts_from_the_ciencia(lifecycle: Lifecycle) -> None:
    decided = TODAY - timedelta(days=14)
    notified = decided + timedelta(days=12)
    evidence = {
        "decided_on": decided.isoformat(),
        "reasons": "Fora da área prioritária da PNDR.",
        "notified_on": notified.isoformat(),
        "means": "postal",
    }
    result = changes(lifecycle, clockwork("em_analise"), "indeferir", "indeferida", evidence)
    assert result["due_on"] == notified + timedelta(days=10)  # plain days: no calendar here
    later = changes(
        lifecycle,
        clockwork("indeferida", due_on=None),
        "notificar_decisao",
        "indeferida",
        {"notified_on": notified.isoformat(), "means": "publicacao_oficial"},
    )
    assert later == {"due_on": notified + timedelta(days=10)}


def test_an_appeal_goes_to_the_authority_that_decided_for_5_days(lifecycle: Lifecycle) -> None:
    filed = TODAY - timedelta(days=1)
    evidence = {"filed_on": filed.isoformat(), "grounds": "Nova documentação da associação."}
    result = changes(lifecycle, clockwork("indeferida"), "recorrer", "em_reconsideracao", evidence)
    assert result["state"] == "em_reconsideracao"
    assert result["due_on"] == filed + timedelta(days=5)  # from the filing (art. 56 §1)
    assert "rejected_on" not in result  # the rejection stands while the appeal is pending


@pytest.mark.parametrize(
    ("state", "event"),
    [("em_reconsideracao", "reconsiderar"), ("recurso_superior", "prover_recurso")],
)
def test_a_reconsidered_or_granted_appeal_clears_the_rejection(
    lifecycle: Lifecycle, state: str, event: str
) -> None:
    result = changes(lifecycle, clockwork(state), event, "em_analise")
    assert result["rejected_on"] is None
    assert result["due_on"] == TODAY + timedelta(days=30)


def test_a_forwarded_appeal_has_30_days_and_a_denied_one_is_archived(lifecycle: Lifecycle) -> None:
    result = changes(
        lifecycle, clockwork("em_reconsideracao"), "encaminhar_recurso", "recurso_superior"
    )
    assert result["due_on"] == TODAY + timedelta(days=30)
    denied = changes(lifecycle, clockwork("recurso_superior"), "negar_provimento", "arquivada")
    assert (denied["state"], denied["due_on"]) == ("arquivada", None)
    assert denied["previous_state"] == "em_analise"  # a reopening reviews the decision


def test_cancelling_a_suspended_case_remembers_the_state_before(lifecycle: Lifecycle) -> None:
    case = clockwork(
        "suspensa",
        previous_state="legalizacao",
        suspended_on=TODAY - timedelta(days=4),
        paused_due_on=date(2026, 4, 1),
    )
    result = changes(lifecycle, case, "cancelar", "cancelada")
    assert result["previous_state"] == "legalizacao"
    assert result["state"] == "cancelada"
    assert result["due_on"] is None
    assert (result["suspended_on"], result["paused_due_on"], result["expected_resume_on"]) == (
        None,
        None,
        None,
    )


def test_cancelling_an_active_case_remembers_it(lifecycle: Lifecycle) -> None:
    result = changes(lifecycle, clockwork("mobilizacao"), "cancelar", "cancelada")
    assert result["previous_state"] == "mobilizacao"


@pytest.mark.parametrize("state", ["em_analise", "suspensa", "indeferida"])
def test_assigning_changes_only_the_coordinator(lifecycle: Lifecycle, state: str) -> None:
    result = changes(lifecycle, clockwork(state), "atribuir", state, {"coordinator": "bruno"})
    assert result == {"coordinator": "bruno"}


def test_a_note_changes_nothing(lifecycle: Lifecycle) -> None:
    assert changes(lifecycle, clockwork("gestao"), "anotar", "gestao") == {}


def test_reopening_request_records_the_requester(lifecycle: Lifecycle) -> None:
    case = clockwork("concluida", due_on=None)
    result = changes(lifecycle, case, "solicitar_reabertura", "concluida", actor="carla")
    assert result == {"reopen_requested_by": "carla"}
    refused = changes(lifecycle, case, "recusar_reabertura", "concluida", actor="bruno")
    assert refused == {"reopen_requested_by": None}


def test_approved_reopening_enters_the_recorded_state_afresh(lifecycle: Lifecycle) -> None:
    case = clockwork("concluida", previous_state="avaliacao", due_on=None)
    result = changes(lifecycle, case, "aprovar_reabertura", "avaliacao", {}, actor="bruno")
    assert result["state"] == "avaliacao"
    assert result["due_on"] == TODAY + timedelta(days=60)
    assert (result["previous_state"], result["reopen_requested_by"]) == (None, None)


def test_reopening_into_indeferida_has_no_deadline(lifecycle: Lifecycle) -> None:
    case = clockwork("cancelada", previous_state="indeferida", due_on=None)
    result = changes(lifecycle, case, "aprovar_reabertura", "indeferida", {}, actor="bruno")
    assert result["due_on"] is None


def test_changes_survive_the_json_round_trip(lifecycle: Lifecycle) -> None:
    case = clockwork("capacitacao")
    result = changes(lifecycle, case, "suspender", "suspensa")
    stored = to_json(result)
    assert stored["suspended_on"] == TODAY.isoformat()
    assert from_json(stored) == result
