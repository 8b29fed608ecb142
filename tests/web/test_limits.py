"""The web forms carry the models' limits (maxlength), and the API refuses one past them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from states.bounds import NOTE_MAX, TEXT_MAX
from tasks.runtime import Runtime
from tests.integration.helpers import version_of
from tests.web.conftest import CE_CASE, TestClient, csrf_of


def test_the_case_page_forms_carry_the_limits(client_for: Callable[[str], TestClient]) -> None:
    page = client_for("ana.coord").get(f"/cases/{CE_CASE}").text
    assert f'name="ev.text" rows="3" maxlength="{NOTE_MAX}"' in page  # anotar
    assert f'name="ev.reason" rows="3" maxlength="{TEXT_MAX}"' in page  # suspender, cancelar
    assert f'name="note" rows="2" maxlength="{NOTE_MAX}"' in page


@pytest.mark.parametrize(("size", "status"), [(NOTE_MAX, 200), (NOTE_MAX + 1, 422)])
def test_the_api_takes_a_note_at_the_limit_and_refuses_one_past_it(
    web_rt: Runtime, client_for: Callable[[str], TestClient], size: int, status: int
) -> None:
    client = client_for("ana.coord")
    answer = client.post(
        f"/api/v1/cases/{CE_CASE}/advance",
        json={
            "event": "anotar",
            "evidence": {"text": "n" * size},
            "expected_version": version_of(web_rt.db, CE_CASE),
        },
        headers={"X-CSRF-Token": csrf_of(web_rt, client)},
    )
    assert answer.status_code == status, answer.text
    if status == 422:
        error = answer.json()["error"]
        assert error["field"] == "evidence.text"
        assert "no máximo 2.000 caracteres" in error["fields"][0]["message"]  # the user's pt-BR


def test_a_5000_digit_number_in_a_form_is_a_named_422(
    web_rt: Runtime, client_for: Callable[[str], TestClient]
) -> None:
    client = client_for("ana.coord")
    answer = client.post(
        f"/api/v1/cases/{CE_CASE}/advance",
        content='{"event": "anotar", "evidence": {"text": 1' + "0" * 5000 + "}}",
        headers={"X-CSRF-Token": csrf_of(web_rt, client), "content-type": "application/json"},
    )
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["error"]["code"] in ("invalid_input", "bad_request")
