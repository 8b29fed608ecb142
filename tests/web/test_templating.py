"""Pages in Portuguese first and in English for those who chose it; dates and numbers in the
user's locale; every text of the templates has its English."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx
import pytest

import console.web.pages  # noqa: F401 - registers the pages' English, as the app does
from console.web.templating import EN, TEMPLATES_DIR, add_messages, environment, translate
from tests.web.conftest import PASSWORD, login_token

_T_CALL = re.compile(r"""\bt\(\s*(["'])(.+?)\1""", re.S)
_QUOTED = re.compile(r'"([^"]+)"')


def test_every_text_of_the_templates_has_its_english() -> None:
    missing = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        texts = [m.group(2) for m in _T_CALL.finditer(source)]
        # texts picked from a table in the template, e.g. the error page's titles
        for line in source.splitlines():
            if "{% set" in line and "t(" not in line:
                texts += _QUOTED.findall(line)
        missing += [f"{path.name}: {text!r}" for text in texts if text not in EN]
    assert missing == []


def test_locale_filters() -> None:
    pt, en = environment("pt-BR"), environment("en")
    day = date(2026, 3, 2)
    render = (
        "{{ d|date }} | {{ n|number }} | {{ 3|days }} | {{ 'em_analise'|state }} | {{ r|role }}"
    )
    values = {"d": day, "n": 1234.5, "r": "manager"}
    assert pt.from_string(render).render(values) == (
        "2 de mar. de 2026 | 1.234,5 | 3 dias | Em análise | gestor(a)"
    )
    assert en.from_string(render).render(values) == (
        "Mar 2, 2026 | 1,234.5 | 3 days | Under review | manager"
    )
    instant = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert pt.from_string("{{ i|datetime }}").render(i=instant, tz="America/Manaus") == (
        "02/03/2026 09:00"
    )


def test_translations_fill_their_placeholders_and_refuse_clashes() -> None:
    assert translate("revogado em {when}", "en", when="today") == "revoked on today"
    assert translate("revogado em {when}", "pt-BR", when="hoje") == "revogado em hoje"
    assert translate("Um texto sem inglês", "en") == "Um texto sem inglês"
    with pytest.raises(ValueError, match="two translations"):
        add_messages({"Sair": "Exit"})


def test_a_user_who_chose_english_gets_the_pages_in_english(client_for) -> None:
    admin = client_for("adm.admin")  # language "en"
    page = admin.get("/tokens")
    assert '<html lang="en">' in page.text
    assert "Your API tokens" in page.text
    assert "Log out" in page.text
    assert "administrator" in page.text

    coordinator = client_for("ana.coord")  # language "pt-BR"
    page = coordinator.get("/tokens")
    assert '<html lang="pt-BR">' in page.text
    assert "Seus tokens de API" in page.text
    assert "coordenador(a) · CE, PE" in page.text


def test_the_layout_links_only_what_the_role_may_open(client_for) -> None:
    page = client_for("rui.auditor").get("/tokens").text
    nav = page[page.index("<nav") : page.index("</nav>")]
    assert 'href="/tokens"' in nav
    # the pages of the other modules join the navigation when their routes exist
    for href in re.findall(r'href="([^"]+)"', nav):
        assert href.startswith("/")


def test_static_files_are_served_with_a_version(client) -> None:
    page = client.get("/login")
    css = re.search(r'href="(/static/console\.css\?v=[0-9a-f]+)"', page.text)
    assert css
    answer = client.get(css.group(1))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/css")


def test_pages_carry_the_security_headers(client) -> None:
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"


def test_the_live_server_serves_real_http(live_server) -> None:
    with httpx.Client(base_url=live_server.url, follow_redirects=False) as browser:
        form = browser.get("/login")
        assert form.status_code == 200
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        answer = browser.post(
            "/login", data={"username": "ana.coord", "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303
        assert browser.get("/tokens").status_code == 200
        assert browser.get("/api/v1/openapi.json").json()["paths"]["/api/v1/me"]


def test_a_page_error_is_a_page_and_an_api_error_is_json(client) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Não encontrado" in page.text

    api = client.get("/api/v1/no/such/thing")
    assert api.status_code == 404
    assert api.json() == {"error": {"code": "not_found", "message": "Not Found", "field": None}}

    assert login_token(client)  # the login page renders after an error
