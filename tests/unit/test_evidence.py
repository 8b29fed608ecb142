"""Malformed evidence is one line of InvalidInput that names the wrong field.

The programme's steps carry little evidence now (the records back their guards): what is left
to validate here is the evidence itself, and the CNPJ rule the records and demands share.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from states.errors import InvalidInput
from states.evidence import FieldTraining, normalise_cnpj
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


def test_builder_evidence_is_valid_for_every_event(lifecycle: Lifecycle) -> None:
    for spec in EVENTS:
        raw = evidence_for(spec.name, TODAY)
        if spec.name == "concluir_capacitacao":
            raw = {"ecc_id": 1} | raw  # the ECC is a record: its number comes from the database
        parsed = lifecycle.parse_evidence(spec.name, raw)
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
    message = invalid(lifecycle, "concluir_capacitacao", {"ecc_id": "doze"})
    assert "ecc_id" in message
    assert "integer" in message


def test_ecc_number_must_be_positive(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "concluir_capacitacao", {"ecc_id": 0})
    assert "ecc_id" in message
    assert "greater than or equal to 1" in message


def test_ecc_is_named_by_its_number(lifecycle: Lifecycle) -> None:
    parsed = lifecycle.parse_evidence("concluir_capacitacao", {"ecc_id": 12})
    assert isinstance(parsed, FieldTraining)
    assert parsed.ecc_id == 12


def test_a_participant_count_typed_as_evidence_is_refused(lifecycle: Lifecycle) -> None:
    # The count comes from the pre-registered people; a typed number is not evidence.
    raw = evidence_for("concluir_mobilizacao", TODAY) | {"pre_registered": 40}
    message = invalid(lifecycle, "concluir_mobilizacao", raw)
    assert "pre_registered" in message
    assert "not permitted" in message


@pytest.mark.parametrize(
    ("event", "typed"),
    [
        ("concluir_gestao", {"business_plans": []}),
        ("concluir_legalizacao", {"enterprises": []}),
        ("concluir_acompanhamento", {"visits": []}),
    ],
)
def test_steps_backed_by_records_take_no_evidence(
    lifecycle: Lifecycle, event: str, typed: dict[str, Any]
) -> None:
    assert lifecycle.parse_evidence(event, {}).model_dump() == {}
    field = next(iter(typed))
    message = invalid(lifecycle, event, typed)
    assert field in message
    assert "not permitted" in message


def test_bad_date_is_named(lifecycle: Lifecycle) -> None:
    raw = evidence_for("indeferir", TODAY) | {"decided_on": "31/02/2026"}
    assert "decided_on" in invalid(lifecycle, "indeferir", raw)


def test_several_errors_report_the_first_and_count_the_rest(lifecycle: Lifecycle) -> None:
    message = invalid(lifecycle, "indeferir", {})
    assert "decided_on" in message
    assert "(and 1 more)" in message


def test_invalid_cnpj_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"'11.222.333/0001-82' is not a valid CNPJ"):
        normalise_cnpj("11.222.333/0001-82")


def test_numeric_cnpj_is_normalised() -> None:
    assert normalise_cnpj("11.222.333/0001-81") == "11222333000181"


def test_alphanumeric_cnpj_is_accepted_and_kept_bare() -> None:
    assert normalise_cnpj("12.abc.345/01de-35") == "12ABC34501DE35"


def test_alphanumeric_cnpj_with_wrong_check_digits_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid CNPJ"):
        normalise_cnpj("12.ABC.345/01DE-36")


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
