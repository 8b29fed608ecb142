"""Fixtures of the web console's tests: a migrated SQLite database with a user of every role and
two cases, the app on a fixed clock, HTTP clients, and a live server for the browser tests.

- ``web_rt``: a :class:`~tasks.runtime.Runtime` on a copy of a database made once per session:
  the demo users (:data:`demo.staff.DEMO_USERS`: ana.coord CE/PE, bia.coord PA/AM,
  sofia.super CE/PE, gil.manager, rui.auditor, adm.admin — password :data:`PASSWORD`), a
  disabled coordinator ``ex.coord`` (CE), and two cases in ``registrada``: ``CE_CASE``
  (Quixadá, CE, coordinator ana.coord) and ``PA_CASE`` (Belém, PA, coordinator bia.coord).
  Its clock is the ``clock`` fixture (2026-03-02 13:00 UTC): move it to test expiries.
- ``web_settings``: test settings (a real-looking secret key; 5 failures lock for 15 minutes).
- ``app`` / ``client``: ``create_app(web_rt, web_settings)`` and a TestClient on it (http, no
  redirects followed). ``login(client, username)`` logs a client in through the form;
  ``client_for(username)`` gives a new client already logged in; ``csrf_of(client)`` the
  CSRF token of the client's session.
- ``live_server``: the app served by uvicorn in a thread on 127.0.0.1 (a free port), for
  Playwright: ``live_server.url``, ``live_server.rt``.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select

from console.web import auth
from console.web.app import create_app
from console.web.settings import WebSettings
from demo.staff import DEMO_PASSWORD, add_demo_users
from states.clock import FixedClock
from states.db import Database
from states.directory import WebSession
from states.lifecycle import Lifecycle
from tasks import audit_log
from tasks.demands import register_demand
from tasks.runtime import Runtime
from tasks.users import add_user, disable_user, set_password
from tests.builders import demand
from tests.conftest import START

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 (not on PyPI's list here); httpx works the same for tests.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PASSWORD = DEMO_PASSWORD
SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BELEM = 1501402
#: the two cases of the template database (ids)
CE_CASE = 1
PA_CASE = 2
#: user name -> role, territories
USERS = {
    "ana.coord": ("coordinator", ("CE", "PE")),
    "bia.coord": ("coordinator", ("PA", "AM")),
    "sofia.super": ("supervisor", ("CE", "PE")),
    "gil.manager": ("manager", ()),
    "rui.auditor": ("auditor", ()),
    "adm.admin": ("admin", ()),
}
DISABLED = "ex.coord"

_HIDDEN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def web_template(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, lifecycle: Lifecycle
) -> Path:
    """The migrated database with the users and the two cases, made once per session."""
    path = tmp_path_factory.mktemp("web-template") / "produzir.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite:///{path}")
    rt = Runtime(db, lifecycle, FixedClock(START))
    add_demo_users(rt, password=PASSWORD)
    add_user(
        rt,
        {
            "username": DISABLED,
            "name": "Ex Coordenador",
            "email": "ex.coord@produzir.local",
            "role": "coordinator",
            "territories": ["CE"],
        },
        actor="system",
    )
    set_password(rt, DISABLED, PASSWORD, actor="system")
    disable_user(rt, DISABLED, actor="system")
    ce = register_demand(rt, demand(coordinator="ana.coord"), actor="sofia.super")
    pa = register_demand(
        rt,
        demand(
            municipality_code=BELEM, community="Comunidade Ilha Grande", coordinator="bia.coord"
        ),
        actor="sofia.super",
    )
    assert (ce.case_id, pa.case_id) == (CE_CASE, PA_CASE)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def web_rt(
    web_template: Path, tmp_path: Path, lifecycle: Lifecycle, clock: FixedClock
) -> Iterator[Runtime]:
    folder = tmp_path / "web-db"
    folder.mkdir()
    shutil.copyfile(web_template, folder / "produzir.db")
    db = Database(f"sqlite:///{folder / 'produzir.db'}")
    rt = Runtime(db, lifecycle, clock)
    # a signing key in the test's data folder, and a first checkpoint, as `produzir run` makes
    audit_log.ensure_key(rt)
    audit_log.publish_checkpoint(rt)
    yield rt
    db.dispose()


@pytest.fixture
def web_settings() -> WebSettings:
    return WebSettings(
        env="test",
        secret_key=SECRET,
        session_hours=8,
        login_max_failures=5,
        login_lock_minutes=15,
        cookie_secure="auto",
    )


@pytest.fixture
def app(web_rt: Runtime, web_settings: WebSettings) -> FastAPI:
    return create_app(web_rt, web_settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def login_token(client: TestClient, path: str = "/login") -> str:
    """Open the login form (which sets its cookie) and read its CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    form = page.text[page.text.index('action="/login') :]  # not the logout form's token
    found = _HIDDEN_CSRF.search(form)
    assert found, "the login form has no csrf_token field"
    return found.group(1)


def login(
    client: TestClient, username: str, password: str = PASSWORD, *, next_path: str = "/"
) -> httpx.Response:
    """Log ``client`` in through the form; the answer (303 on success)."""
    token = login_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
    )


def session_cookie(client: TestClient) -> str | None:
    value = client.cookies.get(auth.SESSION_COOKIE)
    return value if value is None else str(value)


def csrf_of(rt: Runtime, client: TestClient) -> str:
    """The CSRF token of the client's session (as the pages put it in their forms)."""
    found = auth.session_auth(rt, session_cookie(client))
    assert found is not None, "the client is not logged in"
    assert found.session is not None
    return found.session.csrf_token


def sessions_of(rt: Runtime, username: str) -> list[WebSession]:
    with rt.db.read() as session:
        rows = list(
            session.execute(select(WebSession).where(WebSession.username == username)).scalars()
        )
        for row in rows:
            session.expunge(row)
        return rows


@pytest.fixture
def client_for(app: FastAPI) -> Iterator[Callable[[str], TestClient]]:
    """A new client logged in as ``username`` (through the login form)."""
    made: list[TestClient] = []

    def make(username: str, base_url: str = "http://testserver") -> TestClient:
        test_client = TestClient(app, base_url=base_url, follow_redirects=False)
        test_client.__enter__()
        made.append(test_client)
        answer = login(test_client, username)
        assert answer.status_code == 303, answer.text
        return test_client

    yield make
    for test_client in made:
        test_client.__exit__(None, None, None)


# --- a real server for the browser tests --------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str
    rt: Runtime
    app: FastAPI


@pytest.fixture
def live_server(app: FastAPI, web_rt: Runtime) -> Iterator[LiveServer]:
    """uvicorn serving ``app`` in a thread on 127.0.0.1, on a port the system picked."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:  # readiness of a real server: no clock to inject here
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", web_rt, app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
