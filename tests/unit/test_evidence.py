"""Malformed evidence is one line of InvalidInput that names the wrong field."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from states.errors import InvalidInput
from states.evidence import EnterpriseLegalisation, FieldTraining, Legalisation
from states.lifecycle import EVENTS, Lifecycle
from tests.builders import evidence_for

TODAY = date(2026, 3, 2)


def invalid(lifecycle: Lifecycle, event: str, raw: Any) -> str:
    with pytest.raises(InvalidInput) as bad:
        lifecycle.parse_evidence(event, raw)
    message = str(bad.value)
    assert "\n" not in message
    assert message.startswith(f"evidence for {event}")
    assert bad.value.exit_code == 2
    return message


def legalisation(**fields: Any) -> dict[str, Any]:
    enterprise: dict[str, Any] = {
        "enterprise": "Cooperativa Mel do Sertão",
        "legal_form": "cooperativa",
        "members": 22,
        "founding_act_on": "2026-01-10",
        "registry_filed_on": "2026-01-20",
        "cnpj": "11.222.333/0001-81",
    }
    enterprise.update(fields)
    return {"enterprises": [enterprise]}


def test_builder_evidence_is_valid_for_every_event(lifecycle: Lifecycle) -> None:
    for spec in EVENTS:
        parsed = lifecycle.parse_evidence(spec.name, evidence_for(spec.name, TODAY))
        assert isinstance(parsed, spec.evidence)


def test_missing_required_field_is_named(lifecycle: Lifecycle) -> None:
    raw = evidence_for("concluir_avaliacao", TODAY)
    del raw["partner_report"]
    message = invalid(lifecycle, "concluir_avaliacao", raw)
    assert "partner_report" in message
    assert "required" in message.lower()


def test_missing_nested_field_is_named_with_its_path(lifecycle: Lifecycle) -> None:
    raw = evidence_for("concluir_avaliacao", TODAY)
    del raw["partner_report"]["delivered_on"]
    assert "partner_report.delivered_on" in invalid(lifecycle, "concluir_avaliacao", raw)


def test_wrong_type_is_named(lifecycle: Lifecycle) -> None:
    raw = evidence_for("concluir_mobilizacao", TODAY) | {"pre_registered": "muitos"}
    message = invalid(lifecycle, "concluir_mobilizacao", raw)
    assert "pre_registered" in message
    assert "integer" in message


def test_bad_date_is_named(lifecycle: Lifecycle) -> None:
    raw = evidence_for("indeferir", TODAY) | {"decided_on": "31/02/2026"}
    assert "decided_on" in invalid(lifecycle, "indeferir", raw)


def test_several_errors_report_the_first_and_count_the_rest(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "indeferir", {})
    assert "decided_on" in message
    assert "(and 1 more)" in message


def test_ecc_ending_before_it_starts_is_refused(lifecycle: Lifecycle) -> None:
    raw = evidence_for("concluir_capacitacao", TODAY)
    raw["start_on"], raw["end_on"] = "2026-02-10", "2026-02-09"
    message = invalid(lifecycle, "concluir_capacitacao", raw)
    assert "end_on 2026-02-09 is before start_on 2026-02-10" in message


def test_attendance_longer_than_the_ecc_is_refused(lifecycle: Lifecycle) -> None:
    raw = evidence_for("concluir_capacitacao", TODAY)
    raw["certified_attendance_days"] = [45] * 40
    message = invalid(lifecycle, "concluir_capacitacao", raw)
    assert "certified_attendance_days[0] = 45 is outside 0..44" in message


def test_registry_filed_before_founding_act_is_refused(lifecycle: Lifecycle) -> None:
    raw = legalisation(founding_act_on="2026-01-10", registry_filed_on="2026-01-09")
    message = invalid(lifecycle, "concluir_legalizacao", raw)
    assert "enterprises.0" in message
    assert "registry_filed_on 2026-01-09 is before founding_act_on 2026-01-10" in message


def test_invalid_cnpj_is_refused(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "concluir_legalizacao", legalisation(cnpj="11.222.333/0001-82"))
    assert "enterprises.0.cnpj" in message
    assert "'11.222.333/0001-82' is not a valid CNPJ" in message


def test_alphanumeric_cnpj_is_accepted_and_kept_bare(lifecycle: Lifecycle) -> None:
    parsed = lifecycle.parse_evidence(
        "concluir_legalizacao", legalisation(cnpj="12.ABC.345/01DE-35")
    )
    assert isinstance(parsed, Legalisation)
    assert parsed.enterprises[0].cnpj == "12ABC34501DE35"


def test_alphanumeric_cnpj_with_wrong_check_digits_is_refused(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "concluir_legalizacao", legalisation(cnpj="12.ABC.345/01DE-36"))
    assert "not a valid CNPJ" in message


def test_numeric_cnpj_is_normalised(lifecycle: Lifecycle) -> None:
    parsed = lifecycle.parse_evidence("concluir_legalizacao", legalisation())
    assert isinstance(parsed, Legalisation)
    enterprise: EnterpriseLegalisation = parsed.enterprises[0]
    assert enterprise.cnpj == "11222333000181"


def test_unknown_extra_field_is_refused(lifecycle: Lifecycle) -> None:
    raw = evidence_for("cancelar", TODAY) | {"cpf": "123.456.789-09"}
    message = invalid(lifecycle, "cancelar", raw)
    assert "cpf" in message
    assert "not permitted" in message


def test_evidence_that_is_a_list_is_refused(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "cancelar", [evidence_for("cancelar", TODAY)])
    assert message == "evidence for cancelar must be a JSON object, not list"


def test_unknown_cancellation_kind_is_refused(lifecycle: Lifecycle) -> None:
    raw = evidence_for("cancelar", TODAY) | {"kind": "cansaco"}
    assert "kind" in invalid(lifecycle, "cancelar", raw)


def test_bad_coordinator_user_name_is_refused(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "atribuir", {"coordinator": "Ana Souza"})
    assert "coordinator" in message
    assert "'Ana Souza' is not a valid user name" in message


def test_no_evidence_means_an_empty_object(lifecycle: Lifecycle) -> None:
    assert lifecycle.parse_evidence("retomar", None).model_dump() == {}
    assert "unexpected" in invalid(lifecycle, "retomar", {"unexpected": 1})


def test_text_is_stripped(lifecycle: Lifecycle) -> None:
    parsed = lifecycle.parse_evidence("anotar", {"text": "  visita feita  "})
    assert parsed.model_dump() == {"text": "visita feita"}


def test_ecc_duration_counts_both_ends() -> None:
    raw = evidence_for("concluir_capacitacao", TODAY)
    training = FieldTraining.model_validate(raw)
    assert (training.start_on, training.end_on) == (TODAY - timedelta(days=43), TODAY)
    assert training.duration_days == 44
