"""Logging in and out, sessions, CSRF, lockout, cookies and API tokens, as a user meets them."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from argon2 import extract_parameters
from sqlalchemy import select

from console.web import auth
from console.web.app import create_app
from console.web.settings import DEVELOPMENT_SECRET_KEY, WebSettings, load_web_settings
from demo.staff import add_demo_users
from states.directory import ApiToken, User, WebSession
from states.errors import InvalidInput
from tasks import users
from tests.web.conftest import (
    DISABLED,
    PASSWORD,
    USERS,
    TestClient,
    csrf_of,
    login,
    login_token,
    session_cookie,
    sessions_of,
)

FAILED = "usuário ou senha incorretos"
_TOKEN = re.compile(r'id="new-token">(pzr_[A-Za-z0-9_-]+)<')


def words(answer, *names: str) -> str:
    """The page as a person reads it: no form token, no user name typed in."""
    text = re.sub(r'name="csrf_token" value="[^"]+"', "", answer.text)
    for name in names:
        text = text.replace(name, "X")
    return text


def user_row(rt, username: str) -> User:
    with rt.db.read() as session:
        row = session.get(User, username)
        assert row is not None
        session.expunge(row)
        return row


def set_cookie_headers(response) -> dict[str, str]:
    """Cookie name -> its Set-Cookie header."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


# --- the login form ------------------------------------------------------------------------------


def test_the_login_form_is_in_portuguese_and_in_english_on_request(client) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "Entrar no PRODUZIR" in page.text
    assert 'name="csrf_token"' in page.text
    assert '<html lang="pt-BR">' in page.text

    english = client.get("/login?lang=en")
    assert "Log in to PRODUZIR" in english.text
    assert '<html lang="en">' in english.text


def test_a_good_login_starts_a_session_stored_hashed(client, web_rt) -> None:
    answer = login(client, "ana.coord", next_path="/tokens")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/tokens"
    session_id = session_cookie(client)
    assert session_id
    [row] = sessions_of(web_rt, "ana.coord")
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert row.id_hash != session_id
    assert row.expires_at == web_rt.clock.now() + timedelta(hours=8)
    page = client.get("/tokens")
    assert page.status_code == 200
    assert 'data-username="ana.coord"' in page.text


@pytest.mark.parametrize(
    "asked", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "tokens"]
)
def test_after_login_only_a_path_of_this_site_is_followed(client, asked) -> None:
    answer = login(client, "ana.coord", next_path=asked)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_a_page_asks_for_the_login_and_comes_back(client) -> None:
    answer = client.get("/tokens")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/tokens"
    form = client.get(answer.headers["location"])
    assert 'name="next" value="/tokens"' in form.text


def test_wrong_password_and_unknown_user_get_the_same_answer(client, web_rt) -> None:
    wrong = login(client, "ana.coord", "not the password at all")
    unknown = login(client, "nobody.here", "not the password at all")

    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert FAILED in answer.text
        assert auth.SESSION_COOKIE not in set_cookie_headers(answer)
    assert words(wrong, "ana.coord") == words(unknown, "nobody.here")
    assert sessions_of(web_rt, "ana.coord") == []


def test_the_login_form_refuses_a_post_without_its_token(client, web_rt) -> None:
    login_token(client)  # the cookie is there, the token is not sent
    answer = client.post("/login", data={"username": "ana.coord", "password": PASSWORD})
    assert answer.status_code == 403
    assert sessions_of(web_rt, "ana.coord") == []

    # a token of another browser's form does not match this browser's cookie
    with TestClient(client.app) as other:
        foreign = login_token(other)
    answer = client.post(
        "/login", data={"username": "ana.coord", "password": PASSWORD, "csrf_token": foreign}
    )
    assert answer.status_code == 403
    assert sessions_of(web_rt, "ana.coord") == []


# --- sessions ------------------------------------------------------------------------------------


def test_every_login_gets_a_new_session_id_and_the_old_one_dies(client, app, web_rt) -> None:
    assert login(client, "ana.coord").status_code == 303
    first = session_cookie(client)

    assert login(client, "ana.coord").status_code == 303
    second = session_cookie(client)

    assert first
    assert second
    assert first != second
    assert [s.id_hash for s in sessions_of(web_rt, "ana.coord")] == [auth.digest(second)]
    with TestClient(app, follow_redirects=False) as old:
        cookie = {"Cookie": f"{auth.SESSION_COOKIE}={first}"}
        assert old.get("/tokens", headers=cookie).status_code == 303
        assert old.get("/api/v1/me", headers=cookie).status_code == 401


def test_a_session_id_a_visitor_brought_is_not_kept_by_the_login(app, web_rt) -> None:
    """Session fixation: an id set before the login is never the id after it."""
    planted = "an-id-an-attacker-chose"
    with TestClient(app, follow_redirects=False) as c:
        token = login_token(c)
        nonce = c.cookies.get(auth.LOGIN_COOKIE)
        answer = c.post(
            "/login",
            data={"username": "ana.coord", "password": PASSWORD, "csrf_token": token},
            headers={"Cookie": f"{auth.LOGIN_COOKIE}={nonce}; {auth.SESSION_COOKIE}={planted}"},
        )
    assert answer.status_code == 303
    given = set_cookie_headers(answer)[auth.SESSION_COOKIE].split(";")[0].split("=", 1)[1]
    assert given != planted
    assert [s.id_hash for s in sessions_of(web_rt, "ana.coord")] == [auth.digest(given)]


def test_a_session_expires_after_the_session_hours(client, web_rt, clock) -> None:
    login(client, "ana.coord")
    clock.advance(timedelta(hours=8) - timedelta(seconds=1))
    assert client.get("/tokens").status_code == 200
    clock.advance(timedelta(seconds=1))
    assert client.get("/tokens").status_code == 303


def test_logout_destroys_the_session_on_the_server(client, app, web_rt) -> None:
    login(client, "ana.coord")
    old = session_cookie(client)

    answer = client.post("/logout", data={"csrf_token": csrf_of(web_rt, client)})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert 'produzir_session=""' in set_cookie_headers(answer)[auth.SESSION_COOKIE]
    assert sessions_of(web_rt, "ana.coord") == []
    with TestClient(app, follow_redirects=False) as reuse:
        cookie = {"Cookie": f"{auth.SESSION_COOKIE}={old}"}
        assert reuse.get("/tokens", headers=cookie).headers["location"] == "/login?next=/tokens"
        assert reuse.get("/api/v1/me", headers=cookie).status_code == 401


# --- CSRF ----------------------------------------------------------------------------------------


def test_logout_without_the_csrf_token_is_refused(client, web_rt) -> None:
    login(client, "ana.coord")

    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": "a-guess"}).status_code == 403
    assert client.post("/logout", headers={"X-CSRF-Token": "a-guess"}).status_code == 403

    assert client.get("/tokens").status_code == 200  # still logged in
    assert len(sessions_of(web_rt, "ana.coord")) == 1


def test_a_form_needs_its_own_sessions_csrf_token(client, client_for, web_rt) -> None:
    login(client, "ana.coord")
    other = client_for("sofia.super")

    refused = client.post("/tokens", data={"name": "script"})
    assert refused.status_code == 403
    foreign = client.post("/tokens", data={"name": "script", "csrf_token": csrf_of(web_rt, other)})
    assert foreign.status_code == 403
    assert auth.list_tokens(web_rt, "ana.coord") == []

    by_header = client.post(
        "/tokens", data={"name": "script"}, headers={"X-CSRF-Token": csrf_of(web_rt, client)}
    )
    assert by_header.status_code == 201
    assert [t.name for t in auth.list_tokens(web_rt, "ana.coord")] == ["script"]


# --- lockout -------------------------------------------------------------------------------------


def test_repeated_failures_lock_the_user_out_then_the_lock_expires(client, web_rt, clock) -> None:
    for _ in range(4):
        assert login(client, "ana.coord", "wrong password!!").status_code == 401
    assert user_row(web_rt, "ana.coord").failed_logins == 4
    assert user_row(web_rt, "ana.coord").locked_until is None

    fifth = login(client, "ana.coord", "wrong password!!")
    locked_until = user_row(web_rt, "ana.coord").locked_until
    assert locked_until == clock.now() + timedelta(minutes=15)

    # while locked, the right password fails too, with the same words as a wrong one
    right_but_locked = login(client, "ana.coord")
    assert right_but_locked.status_code == 401
    assert words(right_but_locked) == words(fifth)
    clock.advance(timedelta(minutes=15) - timedelta(seconds=1))
    assert login(client, "ana.coord").status_code == 401

    clock.advance(timedelta(seconds=1))
    assert login(client, "ana.coord").status_code == 303
    assert user_row(web_rt, "ana.coord").failed_logins == 0
    assert user_row(web_rt, "ana.coord").locked_until is None


def test_a_success_resets_the_count_of_failures(client, web_rt) -> None:
    for _ in range(4):
        login(client, "ana.coord", "wrong password!!")
    assert login(client, "ana.coord").status_code == 303
    for _ in range(4):
        login(client, "ana.coord", "wrong password!!")
    assert user_row(web_rt, "ana.coord").locked_until is None
    assert login(client, "ana.coord").status_code == 303


def test_the_lockout_follows_the_settings(web_rt, web_settings, clock) -> None:
    settings = web_settings.model_copy(update={"login_max_failures": 2, "login_lock_minutes": 1})
    with TestClient(create_app(web_rt, settings), follow_redirects=False) as c:
        login(c, "sofia.super", "wrong password!!")
        login(c, "sofia.super", "wrong password!!")
        assert user_row(web_rt, "sofia.super").locked_until == clock.now() + timedelta(minutes=1)
        assert login(c, "sofia.super").status_code == 401
        clock.advance(timedelta(minutes=1))
        assert login(c, "sofia.super").status_code == 303


# --- cookies -------------------------------------------------------------------------------------


def test_cookies_are_httponly_and_samesite_and_not_secure_over_http(client) -> None:
    form = client.get("/login")
    answer = login(client, "ana.coord")
    for header in (
        set_cookie_headers(form)[auth.LOGIN_COOKIE],
        set_cookie_headers(answer)[auth.SESSION_COOKIE],
    ):
        attributes = [a.strip().lower() for a in header.split(";")]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        assert "secure" not in attributes


def test_cookies_are_secure_over_https(app) -> None:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as https:
        answer = login(https, "ana.coord")
        assert answer.status_code == 303
        header = set_cookie_headers(answer)[auth.SESSION_COOKIE]
        assert "secure" in [a.strip().lower() for a in header.split(";")]
        assert "max-age=31536000" in answer.headers["strict-transport-security"]
        assert https.get("/tokens").status_code == 200


def test_cookies_can_be_made_secure_behind_a_tls_proxy(web_rt, web_settings) -> None:
    """The proxy speaks HTTPS to the browser and plain HTTP to the console."""
    settings = web_settings.model_copy(update={"cookie_secure": "true"})
    with TestClient(create_app(web_rt, settings), follow_redirects=False) as c:
        form = c.get("/login")
        login_cookie = set_cookie_headers(form)[auth.LOGIN_COOKIE]
        nonce = login_cookie.split(";")[0].split("=", 1)[1]
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        answer = c.post(
            "/login",
            data={"username": "ana.coord", "password": PASSWORD, "csrf_token": token},
            headers={"Cookie": f"{auth.LOGIN_COOKIE}={nonce}"},
        )
    assert answer.status_code == 303
    for header in (login_cookie, set_cookie_headers(answer)[auth.SESSION_COOKIE]):
        assert "secure" in [a.strip().lower() for a in header.split(";")]


# --- API tokens ----------------------------------------------------------------------------------


def test_a_user_creates_uses_and_revokes_an_api_token(client, app, web_rt, clock) -> None:
    login(client, "ana.coord")
    csrf = csrf_of(web_rt, client)

    created = client.post("/tokens", data={"name": "planilha", "csrf_token": csrf})

    assert created.status_code == 201
    token = _TOKEN.search(created.text).group(1)
    assert created.headers["cache-control"] == "no-store"
    [row] = _tokens(web_rt, "ana.coord")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (row.token_hash, row.prefix)
    assert token.startswith(row.prefix)
    listing = client.get("/tokens")
    assert token not in listing.text  # shown once
    assert row.prefix in listing.text

    with TestClient(app) as script:
        bearer = {"Authorization": f"Bearer {token}"}
        me = script.get("/api/v1/me", headers=bearer)
        assert me.status_code == 200
        assert me.json()["username"] == "ana.coord"
        assert me.json()["territories"] == ["CE", "PE"]
        assert me.json()["via"] == "token"
        assert _tokens(web_rt, "ana.coord")[0].last_used_at == clock.now()
        # a token opens the API, not the pages
        assert script.get("/tokens", headers=bearer, follow_redirects=False).status_code == 303

        revoked = client.post(f"/tokens/{row.id}/revoke", data={"csrf_token": csrf})
        assert revoked.status_code == 303
        assert _tokens(web_rt, "ana.coord")[0].revoked_at == clock.now()
        refused = script.get("/api/v1/me", headers=bearer)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"
        assert refused.headers["www-authenticate"] == "Bearer"


def test_a_token_cannot_be_revoked_by_another_user(client, client_for, app, web_rt) -> None:
    login(client, "ana.coord")
    created = client.post("/tokens", data={"name": "x", "csrf_token": csrf_of(web_rt, client)})
    token = _TOKEN.search(created.text).group(1)
    [row] = _tokens(web_rt, "ana.coord")

    other = client_for("sofia.super")
    answer = other.post(f"/tokens/{row.id}/revoke", data={"csrf_token": csrf_of(web_rt, other)})

    assert answer.status_code == 404
    assert _tokens(web_rt, "ana.coord")[0].revoked_at is None
    with TestClient(app) as script:
        me = script.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200


def test_a_token_needs_a_name(client, web_rt) -> None:
    login(client, "ana.coord")
    answer = client.post("/tokens", data={"name": "   ", "csrf_token": csrf_of(web_rt, client)})
    assert answer.status_code == 422
    assert "Dê um nome ao token" in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert _tokens(web_rt, "ana.coord") == []


@pytest.mark.parametrize(
    "header", ["Bearer pzr_not-a-real-token", "Bearer ", "Basic YW5hOnNlbmhh", "pzr_x"]
)
def test_a_bad_credential_is_401_even_with_a_session(client, header) -> None:
    login(client, "ana.coord")
    answer = client.get("/api/v1/me", headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


def _tokens(rt, username: str) -> list[ApiToken]:
    with rt.db.read() as session:
        rows = list(
            session.execute(select(ApiToken).where(ApiToken.username == username)).scalars()
        )
        for row in rows:
            session.expunge(row)
        return rows


# --- disabled users ------------------------------------------------------------------------------


def test_a_disabled_user_cannot_log_in(client, web_rt) -> None:
    answer = login(client, DISABLED)
    assert answer.status_code == 401
    assert FAILED in answer.text
    assert sessions_of(web_rt, DISABLED) == []


def test_disabling_a_user_ends_their_session_and_tokens(client, app, web_rt) -> None:
    login(client, "ana.coord")
    token = auth.create_token(web_rt, "ana.coord", "script").token

    users.disable_user(web_rt, "ana.coord", actor="adm.admin")

    assert client.get("/tokens").status_code == 303
    with TestClient(app) as script:
        assert (
            script.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code
            == 401
        )
    assert login(client, "ana.coord").status_code == 401


# --- passwords -----------------------------------------------------------------------------------


def test_passwords_are_argon2id_at_or_above_owasp_minimums(web_rt) -> None:
    stored = user_row(web_rt, "ana.coord").password_hash
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    parameters = extract_parameters(stored)
    # OWASP: m = 19 MiB, t = 2, p = 1 at least
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2
    assert parameters.parallelism >= 1


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short pw", "too short"),
        ("x" * 11, "too short"),
        ("a" * 12, "too easy"),
        ("ana.coord", "too short"),
        ("x" * (users.MAX_PASSWORD_LENGTH + 1), "too long"),
    ],
)
def test_the_password_policy_refuses_weak_passwords(web_rt, password, why) -> None:
    before = user_row(web_rt, "ana.coord").password_hash
    with pytest.raises(InvalidInput, match=why) as refused:
        users.set_password(web_rt, "ana.coord", password, actor="adm.admin")
    assert refused.value.field == "password"
    assert user_row(web_rt, "ana.coord").password_hash == before


def test_the_user_name_is_not_a_password(web_rt) -> None:
    users.add_user(
        web_rt,
        {"username": "mariana.souza", "name": "M", "email": "m@x.org", "role": "manager"},
        actor="adm.admin",
    )
    with pytest.raises(InvalidInput, match="too easy"):
        users.set_password(web_rt, "mariana.souza", "Mariana.Souza", actor="adm.admin")


def test_a_new_password_works_and_ends_the_old_sessions(client, web_rt) -> None:
    login(client, "ana.coord")

    users.set_password(web_rt, "ana.coord", "a brand new passphrase", actor="adm.admin")

    assert sessions_of(web_rt, "ana.coord") == []
    assert client.get("/tokens").status_code == 303
    assert login(client, "ana.coord").status_code == 401
    assert login(client, "ana.coord", "a brand new passphrase").status_code == 303


def test_the_demo_has_one_user_per_role_who_can_log_in(client, web_rt) -> None:
    with web_rt.db.read() as session:
        rows = {u.username: u for u in session.execute(select(User)).scalars()}
        demo = {name: (rows[name].role, tuple(rows[name].territories)) for name in USERS}
    assert demo == USERS
    assert {role for role, _ in USERS.values()} == {
        "coordinator",
        "supervisor",
        "manager",
        "auditor",
        "admin",
    }
    for name in USERS:
        assert login(client, name).status_code == 303, name


def test_demo_users_are_added_once(web_rt) -> None:
    assert add_demo_users(web_rt) == []


# --- settings ------------------------------------------------------------------------------------


def test_production_refuses_a_missing_short_or_default_secret_key() -> None:
    with pytest.raises(ValueError, match="PRODUZIR_SECRET_KEY: required"):
        WebSettings(env="production")
    with pytest.raises(ValueError, match="PRODUZIR_SECRET_KEY: required"):
        WebSettings(env="production", secret_key=DEVELOPMENT_SECRET_KEY)
    with pytest.raises(ValueError, match="too short"):
        WebSettings(env="production", secret_key="short-key")
    assert WebSettings(env="production", secret_key="k" * 32).key() == b"k" * 32
    assert WebSettings(env="development").key() == DEVELOPMENT_SECRET_KEY.encode()


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("PRODUZIR_WEB_PORT", "8123")
    monkeypatch.setenv("PRODUZIR_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("PRODUZIR_COOKIE_SECURE", "1")
    settings = load_web_settings()
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 8123)
    assert settings.login_max_failures == 3
    assert settings.secure_cookies("http")

    monkeypatch.setenv("PRODUZIR_ENV", "production")
    with pytest.raises(InvalidInput, match="PRODUZIR_SECRET_KEY"):
        load_web_settings()
    monkeypatch.setenv("PRODUZIR_WEB_PORT", "eighty")
    with pytest.raises(InvalidInput, match="PRODUZIR_WEB_PORT"):
        load_web_settings()


def test_sessions_are_not_stored_in_clear(client, web_rt) -> None:
    login(client, "ana.coord")
    session_id = session_cookie(client)
    with web_rt.db.read() as session:
        stored = session.execute(select(WebSession.id_hash)).scalars().all()
    assert session_id not in stored


def test_a_strange_token_is_refused_not_a_crash(client, web_rt) -> None:
    login(client, "ana.coord")
    answer = client.post("/tokens", data={"name": "x", "csrf_token": "çã€ not ascii"})
    assert answer.status_code == 403
    form = client.get("/login")
    assert form.status_code == 200
    answer = client.post(
        "/login", data={"username": "ana.coord", "password": PASSWORD, "csrf_token": "ç"}
    )
    assert answer.status_code == 403


def test_a_form_posted_after_the_session_ended_comes_back_to_its_page(client, clock) -> None:
    login(client, "ana.coord")
    clock.advance(timedelta(hours=9))
    answer = client.post(
        "/tokens", data={"name": "x"}, headers={"Referer": "http://testserver/tokens?x=1"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/tokens%3Fx%3D1"
    elsewhere = client.post("/tokens", headers={"Referer": "https://evil.example/tokens"})
    assert elsewhere.headers["location"] == "/login?next=/"


def test_the_api_schema_declares_the_bearer_token(client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "/login" not in schema["paths"]  # pages are not API
