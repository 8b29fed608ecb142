"""Errors at the HTTP edge: a stable code and a sentence, as JSON under /api/ and as a page
elsewhere; the context a client needs to recover (who changed the case, the guard's reason)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from console.web import auth
from console.web.policy import POLICY, read
from states.errors import Conflict, GuardFailed, InvalidInput, NotFound, TransitionNotAllowed
from tests.web.conftest import TestClient

CHANGED_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Body(BaseModel):
    event: str
    version: int


@pytest.fixture
def raising(app, web_rt, monkeypatch):
    """An app with routes that raise each error, and a client with an API token."""
    monkeypatch.setitem(POLICY, "probe.raise", read("coordinator"))
    monkeypatch.setitem(POLICY, "probe.body", read("coordinator"))
    monkeypatch.setitem(POLICY, "probe.page", read("coordinator"))
    errors = {
        "conflict": Conflict(7, 3, 4, "sofia.super", CHANGED_AT),
        "guard": GuardFailed(7, "concluir_mobilizacao", "the diagnosis is missing"),
        "transition": TransitionNotAllowed(7, "aprovar_elegibilidade", "registrada", ["x"]),
        "invalid": InvalidInput("forum_held_on: not a date", field="forum_held_on"),
        "missing": NotFound("case", 7),
    }

    @app.get("/api/v1/probe/{kind}", name="probe.raise")
    def probe(kind: str) -> None:
        raise errors[kind]

    @app.get("/api/v1/probe-body", name="probe.body")
    def probe_body(version: int, event: str) -> Body:
        return Body(event=event, version=version)

    @app.get("/probe/{kind}", name="probe.page")
    def probe_page(kind: str) -> None:
        raise errors[kind]

    token = auth.create_token(web_rt, "ana.coord", "probe").token
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def test_a_conflict_says_who_changed_the_case_and_the_current_version(raising) -> None:
    answer = raising.get("/api/v1/probe/conflict")
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "conflict"
    assert error["current_version"] == 4
    assert error["expected_version"] == 3
    assert error["changed_by"] == "sofia.super"
    assert error["changed_at"] == CHANGED_AT.isoformat()
    assert "sofia.super" in error["message"]


@pytest.mark.parametrize(
    ("kind", "status", "code", "extra"),
    [
        ("guard", 409, "guard_failed", {"reason": "the diagnosis is missing"}),
        ("transition", 409, "transition_not_allowed", {"state": "registrada", "allowed": ["x"]}),
        ("invalid", 422, "invalid_input", {"field": "forum_held_on"}),
        ("missing", 404, "not_found", {"field": None}),
    ],
)
def test_each_error_has_its_status_code_and_context(raising, kind, status, code, extra) -> None:
    answer = raising.get(f"/api/v1/probe/{kind}")
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    for key, value in extra.items():
        assert error[key] == value


def test_a_wrong_parameter_is_named_in_the_422(raising) -> None:
    answer = raising.get("/api/v1/probe-body?version=seven")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["field"] == "version"
    assert {f["field"] for f in error["fields"]} == {"version", "event"}


def test_a_page_shows_the_error_as_a_page(raising, client_for) -> None:
    page = client_for("ana.coord").get("/probe/missing")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Não encontrado" in page.text
    assert "caso 7 não existe" in page.text
