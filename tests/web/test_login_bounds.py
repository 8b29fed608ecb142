"""Logins cannot exhaust the server: the lockout counted atomically, bounded password checks,
per-address and per-user rates; a new password or a disabled user ends sessions and tokens."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from console.web import auth
from console.web.app import create_app
from console.web.errors import ApiError
from console.web.settings import WebSettings
from console.web.throttle import LoginThrottle
from states.clock import FixedClock
from states.directory import ApiToken, User
from tasks import users
from tasks.runtime import Runtime
from tasks.users import disable_user, set_password
from tests.conftest import START
from tests.web.conftest import PASSWORD, SECRET, TestClient, login, login_token


def test_twenty_concurrent_wrong_passwords_check_at_most_the_limit(
    any_rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    users.add_user(
        any_rt,
        {"username": "ana", "name": "Ana", "email": "a@example.org", "role": "coordinator"},
        actor="system",
    )
    set_password(any_rt, "ana", PASSWORD, actor="system")
    with any_rt.db.read() as session:
        real_hash = session.get(User, "ana").password_hash  # type: ignore[union-attr]
    checked: list[str | None] = []
    verify = users.verify_password

    def counting(stored: str | None, password: str) -> bool:
        checked.append(stored)
        return verify(stored, password)

    monkeypatch.setattr(users, "verify_password", counting)
    start = threading.Barrier(20)
    results: list[object] = []

    def attempt() -> None:
        start.wait()
        results.append(
            users.authenticate(any_rt, "ana", "wrong password!", max_failures=5, lock_minutes=15)
        )

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [None] * 20
    assert checked.count(real_hash) == 5  # the other 15 checked a decoy, never the password
    with any_rt.db.read() as session:
        user = session.get(User, "ana")
        assert user is not None
        assert user.locked_until is not None
    # locked: even the right password is not checked
    assert users.authenticate(any_rt, "ana", PASSWORD, max_failures=5, lock_minutes=15) is None
    assert checked.count(real_hash) == 5


def test_a_right_password_gives_its_reservation_back(rt: Runtime) -> None:
    users.add_user(
        rt,
        {"username": "ana", "name": "Ana", "email": "a@example.org", "role": "coordinator"},
        actor="system",
    )
    set_password(rt, "ana", PASSWORD, actor="system")
    for _ in range(4):
        assert users.authenticate(rt, "ana", "wrong", max_failures=5, lock_minutes=15) is None
    assert users.authenticate(rt, "ana", PASSWORD, max_failures=5, lock_minutes=15) is not None
    with rt.db.read() as session:
        user = session.get(User, "ana")
        assert user is not None
        assert (user.failed_logins, user.locked_until) == (0, None)


def _app(web_rt: Runtime, **overrides: object) -> FastAPI:
    settings = WebSettings(env="test", secret_key=SECRET, **overrides)  # type: ignore[arg-type]
    return create_app(web_rt, settings)


def _post_login(client: TestClient, username: str, password: str) -> int:
    token = login_token(client)
    answer = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return answer.status_code


def test_per_user_rate_answers_429_until_the_minute_passes(
    web_rt: Runtime, clock: FixedClock
) -> None:
    app = _app(web_rt, login_rate_per_user=3, login_max_failures=100)
    with TestClient(app, follow_redirects=False) as client:
        assert [_post_login(client, "ana.coord", "wrong") for _ in range(3)] == [401] * 3
        refused = client.post(
            "/login",
            data={"username": "ana.coord", "password": PASSWORD, "csrf_token": login_token(client)},
            headers={"accept": "application/json"},
        )
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "60"
        assert refused.json()["error"]["code"] == "too_many_requests"
        # another user from the same address is not held back by ana's rate
        assert _post_login(client, "bia.coord", PASSWORD) == 303
        clock.advance(timedelta(minutes=1))
        assert _post_login(client, "ana.coord", PASSWORD) == 303


def test_per_address_rate(web_rt: Runtime, clock: FixedClock) -> None:
    app = _app(web_rt, login_rate_per_ip=4)
    with TestClient(app, follow_redirects=False) as client:
        names = ["ana.coord", "bia.coord", "gil.manager", "rui.auditor"]
        assert [_post_login(client, name, "wrong") for name in names] == [401] * 4
        assert _post_login(client, "adm.admin", PASSWORD) == 429


def test_password_checks_beyond_the_slots_wait_then_429() -> None:
    throttle = LoginThrottle(
        concurrency=2,
        wait_seconds=0,
        per_ip=100,
        per_user=100,
        now=FixedClock(START).now,
    )
    with throttle.checking(), throttle.checking():
        with pytest.raises(ApiError) as refused, throttle.checking():
            pass
        assert refused.value.status_code == 429
    with throttle.checking():  # freed again
        pass


def _token(rt: Runtime, username: str) -> str:
    return auth.create_token(rt, username, "script").token


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_new_password_or_disabling_ends_sessions_and_revokes_tokens(
    web_rt: Runtime, app: FastAPI, change: str
) -> None:
    with TestClient(app, follow_redirects=False) as browser, TestClient(app) as script:
        login(browser, "ana.coord")
        token = _token(web_rt, "ana.coord")
        headers = {"Authorization": f"Bearer {token}"}
        assert script.get("/api/v1/me", headers=headers).status_code == 200
        assert browser.get("/").status_code == 200
        if change == "password":
            set_password(web_rt, "ana.coord", "uma senha nova e longa", actor="adm.admin")
        else:
            disable_user(web_rt, "ana.coord", actor="adm.admin")
        assert script.get("/api/v1/me", headers=headers).status_code == 401
        assert browser.get("/").status_code == 303  # back to the login form
        with web_rt.db.read() as session:
            revoked = session.execute(
                select(ApiToken.revoked_at).where(ApiToken.username == "ana.coord")
            ).scalars()
            assert all(at is not None for at in revoked)
