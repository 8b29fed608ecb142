"""The surveys on the web: the form on the case's surveys page, the outcome indicators of the
indicators page and of ``/api/v1/indicators/outcomes``, the same figures as the command line's.

The CE case of the web template is driven through its ECC by the real operations; six of its
participants answer at entry and six months after the ECC (five women, one man).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console import cli_indicators
from console.cli import app as cli_app
from states.clock import FixedClock
from states.deadlines import add_months
from states.records import Survey
from tasks.runtime import Runtime
from tasks.surveys import ecc_end_of, record_survey
from tests.builders import COORDINATOR, drive, participants_of, today_of
from tests.web.conftest import CE_CASE, csrf_of, login
from tests.web.test_api import bearer


@pytest.fixture
def surveyed(web_rt: Runtime, clock: FixedClock) -> dict[str, Any]:
    drive(web_rt, clock, CE_CASE, "gestao")
    with web_rt.db.read() as session:
        end = ecc_end_of(session, CE_CASE)
    assert end is not None
    people = participants_of(web_rt, CE_CASE)[:6]
    start = end - timedelta(days=43)
    for i, person in enumerate(people):
        sex = "female" if i < 5 else "male"
        record_survey(web_rt, CE_CASE, person, _answers("entry", start, sex), actor=COORDINATOR)
    later = add_months(end, 6)
    clock.advance(timedelta(days=(later - today_of(clock)).days + 1))
    for i, person in enumerate(people):
        sex = "female" if i < 5 else "male"
        answers = _answers("month_6", later, sex, work_status="enterprise", income_band="1_to_2")
        record_survey(web_rt, CE_CASE, person, answers, actor=COORDINATOR)
    return {"end": end, "people": people, "later": later}


def _answers(wave: str, on: date, sex: str, **more: str) -> dict[str, object]:
    return {
        "wave": wave,
        "answered_on": on.isoformat(),
        "work_status": "unemployed",
        "income_band": "none",
        "sex": sex,
        "birth_year": "1985",
        "household_size": "3",
        **more,
    }


def test_the_api_figures_are_the_command_lines(
    client, web_rt: Runtime, surveyed, monkeypatch
) -> None:
    monkeypatch.setattr(cli_indicators, "runtime", lambda: web_rt)
    for by in ("programme", "sex", "age_band", "uf", "module"):
        answer = client.get(
            "/api/v1/indicators/outcomes",
            params={"by": by, "wave": "month_6"},
            headers=bearer(web_rt, "gil.manager"),
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        result = CliRunner().invoke(
            cli_app, ["indicators", "--outcomes", "--by", by, "--wave", "month_6", "--json"]
        )
        assert result.exit_code == 0, result.output
        command_line = json.loads(result.stdout)
        assert body["min_group"] == command_line["min_group"] == 5
        api_rows = [{k: v for k, v in r.items() if v is not None} for r in body["rows"]]
        cli_rows = [{k: v for k, v in r.items() if v is not None} for r in command_line["rows"]]
        assert api_rows == cli_rows, by
    by_sex = client.get(
        "/api/v1/indicators/outcomes",
        params={"by": "sex", "wave": "month_6"},
        headers=bearer(web_rt, "rui.auditor"),  # an auditor reads the aggregates
    ).json()["rows"]
    assert [(r["sex"], r["suppressed"], r["people"], r["occupations_created"]) for r in by_sex] == [
        ("female", False, 5, 5),
        ("male", True, None, None),
    ]
    # a coordinator of PA and AM: none of the CE case's answers
    bia = client.get("/api/v1/indicators/outcomes", headers=bearer(web_rt, "bia.coord")).json()
    assert bia["territory"] == ["AM", "PA"]
    assert [r["suppressed"] for r in bia["rows"]] == [True]
    refused = client.get(
        "/api/v1/indicators/outcomes",
        params={"wave": "month_9"},
        headers=bearer(web_rt, "gil.manager"),
    )
    assert refused.status_code == 422


def test_the_indicators_page_shows_the_outcomes_with_small_groups_suppressed(
    client, web_rt: Runtime, surveyed
) -> None:
    assert login(client, "ana.coord").status_code == 303
    page = client.get("/indicators", params={"wave": "month_6"})
    assert page.status_code == 200
    html = page.text[page.text.index('id="outcomes"') :]
    female = html[html.index('data-group="female"') :]
    assert '<td class="num">5</td>' in female[: female.index("</tr>")]
    male = html[html.index('data-group="male"') :]
    assert "suprimido (menos de 5 pessoas)" in male[: male.index("</tr>")]
    assert client.get("/indicators", params={"wave": "month_9"}).status_code == 422


def test_the_survey_form_records_and_refuses_naming_the_field(
    client, web_rt: Runtime, surveyed
) -> None:
    assert login(client, "ana.coord").status_code == 303
    page = client.get(f"/cases/{CE_CASE}/surveys")
    assert page.status_code == 200
    assert "LGPD, Lei 13.709/2018, art. 6º III" in page.text
    assert 'data-wave="month_6"><td>6 meses depois</td><td class="num">6</td>' in page.text
    case_page = client.get(f"/cases/{CE_CASE}")
    assert f'href="/cases/{CE_CASE}/surveys"' in case_page.text
    person = participants_of(web_rt, CE_CASE)[10]
    form = {
        "csrf_token": csrf_of(web_rt, client),
        "person": str(person),
        **_answers("entry", surveyed["end"] - timedelta(days=40), "female"),
    }

    def count() -> int:
        with web_rt.db.read() as session:
            return int(session.execute(select(func.count()).select_from(Survey)).scalar_one())

    before = count()
    future = client.post(f"/cases/{CE_CASE}/surveys", data={**form, "birth_year": "2099"})
    assert future.status_code == 422
    assert 'id="s-birth_year-error"' in future.text
    assert "ano de nascimento 2099 está no futuro" in future.text
    assert 'value="2099"' in future.text  # what the user typed comes back
    stranger = client.post(f"/cases/{CE_CASE}/surveys", data={**form, "person": "999999"})
    assert stranger.status_code == 422
    assert 'id="s-person-error"' in stranger.text
    assert count() == before
    done = client.post(f"/cases/{CE_CASE}/surveys", data=form)
    assert done.status_code == 303
    assert done.headers["location"] == f"/cases/{CE_CASE}/surveys?ok=recorded"
    again = client.post(f"/cases/{CE_CASE}/surveys", data=form)
    assert again.status_code == 422
    assert "já respondeu a pesquisa entry" in again.text
    fixed = client.post(
        f"/cases/{CE_CASE}/surveys", data={**form, "household_size": "4", "correct": "1"}
    )
    assert fixed.headers["location"] == f"/cases/{CE_CASE}/surveys?ok=corrected"
    assert count() == before + 1


def test_an_auditor_has_no_survey_page(client, web_rt: Runtime) -> None:
    assert login(client, "rui.auditor").status_code == 303
    assert client.get(f"/cases/{CE_CASE}/surveys").status_code == 403
    assert f'href="/cases/{CE_CASE}/surveys"' not in client.get(f"/cases/{CE_CASE}").text
