"""Every request runs with its origin (``web`` for pages, ``api`` under /api/v1), and a case
is assigned only to an active coordinator whose territory covers it, on every edge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from console.web import api, pages_case
from notifications.i18n import render
from notifications.models import OutboxMessage
from states import origin
from states.models import AuditEvent
from tasks import cases as ops
from tasks.runtime import Runtime
from tests.integration.helpers import version_of
from tests.web.conftest import CE_CASE, DISABLED, TestClient, csrf_of


def _spy(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[origin.Origin]:
    seen: list[origin.Origin] = []
    real = ops.advance

    def advance(*args: Any, **kwargs: Any) -> ops.Transition:
        seen.append(origin.current())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "advance", advance)
    return seen


def _newest_entry(rt: Runtime, case_id: int) -> tuple[str, str, str | None]:
    """(actor, channel column, the entry's os_user) of the case's newest audit entry."""
    with rt.db.read() as session:
        row = session.execute(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()
        assert row.data["channel"] == row.channel  # the column agrees with the hashed entry
        return row.actor, row.channel, row.data["os_user"]


def test_a_page_writes_as_web_and_the_api_as_api(
    web_rt: Runtime,
    client_for: Callable[[str], TestClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen_page = _spy(monkeypatch, pages_case.case_ops)
    browser = client_for("ana.coord")
    answer = browser.post(
        f"/cases/{CE_CASE}/advance",
        data={"event": "anotar", "ev.text": "pela página", "csrf_token": csrf_of(web_rt, browser)},
    )
    assert answer.status_code == 303, answer.text
    assert seen_page == [origin.Origin("web")]
    assert _newest_entry(web_rt, CE_CASE) == ("ana.coord", "web", None)

    seen_api = _spy(monkeypatch, api.cases)
    token = csrf_of(web_rt, browser)
    answer = browser.post(
        f"/api/v1/cases/{CE_CASE}/advance",
        json={
            "event": "anotar",
            "evidence": {"text": "pela API"},
            "expected_version": version_of(web_rt.db, CE_CASE),
        },
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    assert seen_api == [origin.Origin("api")]
    assert _newest_entry(web_rt, CE_CASE) == ("ana.coord", "api", None)
    assert origin.current() == origin.Origin()  # reset after each request


def _counts(rt: Runtime) -> tuple[int, int]:
    with rt.db.read() as session:
        return (
            session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one(),
        )


@pytest.mark.parametrize(
    ("coordinator", "why"),
    [
        ("bia.coord", "o território (AM, PA) não abrange CE, a UF do caso"),
        ("rui.auditor", "o perfil é auditor(a), não coordenador(a)"),
        ("sofia.super", "o perfil é supervisor(a), não coordenador(a)"),
        (DISABLED, "o usuário está desativado"),
        ("no.such.user", "usuário inexistente"),
    ],
)
def test_assignment_refused_on_the_api_names_why_and_tells_nobody(
    web_rt: Runtime,
    client_for: Callable[[str], TestClient],
    coordinator: str,
    why: str,
) -> None:
    client = client_for("gil.manager")
    before = _counts(web_rt)
    answer = client.post(
        f"/api/v1/cases/{CE_CASE}/advance",
        json={
            "event": "atribuir",
            "evidence": {"coordinator": coordinator},
            "expected_version": version_of(web_rt.db, CE_CASE),
        },
        headers={"X-CSRF-Token": csrf_of(web_rt, client)},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "evidence.coordinator"
    # in the manager's language (pt-BR), from the catalogs
    assert error["message"] == f"coordenador(a) {coordinator}: {why}"
    assert _counts(web_rt) == before


def test_assignment_to_a_coordinator_of_the_territory_is_accepted(
    web_rt: Runtime, client_for: Callable[[str], TestClient]
) -> None:
    client = client_for("gil.manager")
    answer = client.post(
        f"/api/v1/cases/{CE_CASE}/advance",
        json={
            "event": "atribuir",
            "evidence": {"coordinator": "ana.coord"},
            "expected_version": version_of(web_rt.db, CE_CASE),
        },
        headers={"X-CSRF-Token": csrf_of(web_rt, client)},
    )
    assert answer.status_code == 200, answer.text


def test_assignment_refused_on_the_page_and_in_bulk(
    web_rt: Runtime, client_for: Callable[[str], TestClient]
) -> None:
    from flows.bulk import advance_each

    client = client_for("gil.manager")
    before = _counts(web_rt)
    answer = client.post(
        f"/cases/{CE_CASE}/advance",
        data={
            "event": "atribuir",
            "ev.coordinator": "bia.coord",
            "csrf_token": csrf_of(web_rt, client),
        },
    )
    assert answer.status_code == 422
    assert "não abrange CE" in answer.text
    report = advance_each(
        web_rt, [CE_CASE], "atribuir", {"coordinator": "rui.auditor"}, actor="gil.manager"
    )
    [refused] = report.refused
    assert (refused["case_id"], refused["code"], refused["reason"]) == (
        CE_CASE,
        "invalid_input",
        "coordinator rui.auditor: their role is auditor, not coordinator",
    )
    assert render(refused["text"], "pt-BR") == (
        "coordenador(a) rui.auditor: o perfil é auditor(a), não coordenador(a)"
    )
    assert _counts(web_rt) == before
