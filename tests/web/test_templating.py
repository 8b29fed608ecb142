"""Pages in Portuguese first and in English for those who chose it; dates and numbers in the
user's locale (the catalogs' completeness is tests/unit/test_catalogs.py and tests/web/
test_languages.py)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import httpx

from console.web.templating import environment, translate
from tests.web.conftest import PASSWORD, login_token


def test_locale_filters() -> None:
    pt, en = environment("pt-BR"), environment("en")
    day = date(2026, 3, 2)
    render = (
        "{{ d|date }} | {{ n|number }} | {{ 3|days }} | {{ 1|days }} | {{ 'em_analise'|state }}"
        " | {{ r|role }}"
    )
    values = {"d": day, "n": 1234.5, "r": "manager"}
    assert pt.from_string(render).render(values) == (
        "2 de mar. de 2026 | 1.234,5 | 3 dias | 1 dia | Em análise | gestor(a)"
    )
    assert en.from_string(render).render(values) == (
        "Mar 2, 2026 | 1,234.5 | 3 days | 1 day | Under review | manager"
    )
    instant = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    assert pt.from_string("{{ i|datetime }}").render(i=instant, tz="America/Manaus") == (
        "02/03/2026 09:00"
    )


def test_translations_come_from_the_catalogs_and_fill_their_placeholders() -> None:
    assert translate("revoked on %(when)s", "en", when="today") == "revoked on today"
    assert translate("revoked on %(when)s", "pt-BR", when="hoje") == "revogado em hoje"
    # a msgid the catalogs lack shows as written (the catalog check refuses it in CI)
    assert translate("A text in no catalog", "pt-BR") == "A text in no catalog"


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
    assert api.json() == {
        "error": {"code": "not_found", "message": "Não há página neste endereço.", "field": None}
    }
    english = client.get("/api/v1/no/such/thing", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.json()["error"]["message"] == "There is no page at this address."

    assert login_token(client)  # the login page renders after an error
