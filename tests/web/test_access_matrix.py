"""The access matrix: every route of the app × every kind of caller, against the policy table.

The routes are read from the app itself (``app.routes``), so a route added without an entry in
:data:`console.web.policy.POLICY` fails here, and a new route joins the matrix as soon as it
exists. The expected answer comes from the same table the README's roles table is made of:

- a public route: served to anyone;
- anonymous on any other: a page redirects to ``/login?next=...``, the API answers 401;
- a role the entry does not list: 403 (an auditor on every write);
- a ``{case_id}`` outside the caller's territory: 404, exactly like a case that does not exist;
- otherwise the route runs: whatever it answers (200, a redirect, 422 for the empty form the
  matrix posts) is neither 401, 403, 404, a redirect to the login, nor a server error.

Callers: anonymous, a coordinator of CE/PE, a coordinator of another territory (PA/AM), a
supervisor of CE/PE, a manager, an auditor and an administrator. Pages are called with the
session cookie (and the session's CSRF token on POSTs), the API with a Bearer token. The case
in a path is ``CE_CASE`` (Quixadá, CE). A route with another path parameter needs a sample
value in :data:`SAMPLES`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI

from console.web import auth, policy
from console.web.app import create_app
from console.web.errors import API_PREFIX
from console.web.policy import (
    POLICY,
    Access,
    RouteInfo,
    app_routes,
    check_routes,
    in_scope,
    markdown_table,
    write,
)
from console.web.settings import WebSettings
from states.config import load_config
from states.db import Database
from states.directory import User
from states.lifecycle import Lifecycle
from tasks.runtime import Runtime
from tests.web.conftest import CE_CASE, SECRET, USERS, TestClient, login_token

ANONYMOUS = "anonymous"
CALLERS = (
    ANONYMOUS,
    "ana.coord",
    "bia.coord",
    "sofia.super",
    "gil.manager",
    "rui.auditor",
    "adm.admin",
)
CASE_UF = "CE"


@dataclass
class World:
    """What a request of the matrix may need for its path."""

    rt: Runtime
    caller: str
    own_token_id: int


#: path parameter -> its value for a caller
SAMPLES: dict[str, Callable[[World], object]] = {
    "case_id": lambda w: CE_CASE,
    "token_id": lambda w: w.own_token_id,
}


def _app_for_listing() -> FastAPI:
    """The app, only to list its routes (no database is touched)."""
    rt = Runtime(Database("sqlite://"), Lifecycle(load_config()))
    return create_app(rt, WebSettings(env="test", secret_key=SECRET))


ROUTES: list[RouteInfo] = app_routes(_app_for_listing().routes)
#: the routes of the login and the user's account: there from the start
ACCOUNT_ROUTES = {"login.form", "login.submit", "logout", "tokens.list", "tokens.create"}
ACCOUNT_ROUTES |= {"tokens.revoke", "api.me", "openapi"}
_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


def _route_id(route: RouteInfo) -> str:
    return route.label


def _user(name: str) -> User:
    role, territories = USERS[name]
    return User(username=name, role=role, territories=list(territories))


def expected(access: Access, route: RouteInfo, caller: str) -> str:
    """What the policy says ``caller`` gets: open, login, forbidden or hidden."""
    if access.is_public:
        return "open"
    if caller == ANONYMOUS:
        return "login"
    user = _user(caller)
    if not access.allows(user.role):
        return "forbidden"
    if "{case_id" in route.path and not in_scope(user, CASE_UF):
        return "hidden"
    return "open"


def _path(route: RouteInfo, world: World) -> str:
    def sample(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in SAMPLES:
            pytest.fail(
                f"{_route_id(route)}: add a sample value for the path parameter {name!r} "
                "to SAMPLES in tests/web/test_access_matrix.py"
            )
        return str(SAMPLES[name](world))

    return _PARAMETER.sub(sample, route.path)


def call(client: TestClient, route: RouteInfo, world: World, *, with_csrf: bool = True):
    """Call ``route`` as ``world.caller``, with what that caller has (cookie, token)."""
    method = sorted(route.methods)[0]
    path = _path(route, world)
    is_api = route.path.startswith(API_PREFIX)
    headers: dict[str, str] = {}
    access = POLICY[route.name]
    if world.caller != ANONYMOUS:
        if is_api:
            token = auth.create_token(world.rt, world.caller, "matrix").token
            headers["Authorization"] = f"Bearer {token}"
        else:
            started = auth.start_session(world.rt, client.app.state.settings, world.caller)
            client.cookies.set(auth.SESSION_COOKIE, started.session_id)
            if method != "GET" and with_csrf and not access.is_public:
                headers["X-CSRF-Token"] = started.session.csrf_token
    if method != "GET" and access.is_public and with_csrf:
        headers["X-CSRF-Token"] = login_token(client)
    return client.request(method, path, headers=headers)


def _world(rt: Runtime, caller: str) -> World:
    owner = caller if caller != ANONYMOUS else "ana.coord"
    return World(rt, caller, auth.create_token(rt, owner, "owned").info.id)


def _is_login_redirect(answer) -> bool:
    return answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_the_route_answers_the_caller_as_the_policy_says(app, web_rt, route, caller) -> None:
    access = POLICY[route.name]
    want = expected(access, route, caller)
    is_api = route.path.startswith(API_PREFIX)

    with TestClient(app, follow_redirects=False) as client:
        answer = call(client, route, _world(web_rt, caller))

    where = f"{_route_id(route)} as {caller}: expected {want}, got {answer.status_code}"
    assert answer.status_code < 500, where
    if want == "open":
        assert answer.status_code not in (401, 403, 404), f"{where}\n{answer.text[:300]}"
        assert not _is_login_redirect(answer), where
    elif want == "login":
        if is_api:
            assert answer.status_code == 401, where
            assert answer.json()["error"]["code"] == "unauthenticated", where
        else:
            assert _is_login_redirect(answer), where
            assert answer.headers["location"].startswith("/login?next=/"), where
    elif want == "forbidden":
        assert answer.status_code == 403, where
        if is_api:
            assert answer.json()["error"]["code"] == "forbidden", where
    else:
        assert want == "hidden"
        assert answer.status_code == 404, where
        if is_api:
            assert answer.json()["error"]["code"] == "not_found", where


UNSAFE = [r for r in ROUTES if not POLICY[r.name].is_public and r.methods - {"GET"}]


@pytest.mark.parametrize("route", UNSAFE, ids=_route_id)
def test_every_post_in_a_session_needs_the_csrf_token(app, web_rt, route) -> None:
    if route.path.startswith(API_PREFIX):
        caller = next(c for c in CALLERS[1:] if expected(POLICY[route.name], route, c) == "open")
        world = _world(web_rt, caller)
        with TestClient(app, follow_redirects=False) as client:
            started = auth.start_session(web_rt, app.state.settings, caller)
            client.cookies.set(auth.SESSION_COOKIE, started.session_id)
            answer = client.request(sorted(route.methods)[0], _path(route, world))
    else:
        caller = next(c for c in CALLERS[1:] if expected(POLICY[route.name], route, c) == "open")
        with TestClient(app, follow_redirects=False) as client:
            answer = call(client, route, _world(web_rt, caller), with_csrf=False)
    assert answer.status_code == 403, f"{_route_id(route)} as {caller}: {answer.status_code}"


def test_every_route_has_a_policy_and_reads_are_gets(app) -> None:
    check_routes(app.routes)  # raises naming each route against the table
    names = [r.name for r in app_routes(app.routes)]
    assert len(names) == len(set(names)), "two routes share a name, hence a policy entry"
    # the matrix is not empty: it sees the routes of the included routers
    assert {r.name for r in ROUTES} >= ACCOUNT_ROUTES
    assert {r.path for r in ROUTES} >= {"/login", "/tokens/{token_id}/revoke", "/api/v1/me"}


def test_a_route_without_a_policy_entry_is_refused_at_start(app) -> None:
    @app.get("/forgotten", name="forgotten.page")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match=r"GET /forgotten \(name 'forgotten.page'\): no entry"):
        check_routes(app.routes)


def test_a_write_that_is_a_get_is_refused_at_start(app, monkeypatch) -> None:
    monkeypatch.setitem(POLICY, "sneaky.write", Access("write", frozenset({"admin"})))

    @app.get("/sneaky", name="sneaky.write")
    def sneaky() -> dict[str, str]:
        return {}

    with pytest.raises(RuntimeError, match="a write must not be a GET"):
        check_routes(app.routes)


def test_an_unlisted_route_is_never_served(app, web_rt, client) -> None:
    """Even if a route slips past the start-up check, the policy refuses it."""

    @app.get("/unlisted", name="unlisted")
    def unlisted() -> dict[str, str]:
        return {"secret": "yes"}

    started = auth.start_session(web_rt, app.state.settings, "adm.admin")
    client.cookies.set(auth.SESSION_COOKIE, started.session_id)
    answer = client.get("/unlisted")
    assert answer.status_code == 403
    assert "secret" not in answer.text


def test_an_auditor_never_writes() -> None:
    for name, access in POLICY.items():
        if access.kind == "write":
            assert not access.allows("auditor"), name
    with pytest.raises(ValueError, match="auditor"):
        write("auditor")


def test_the_readme_table_lists_every_policy_entry() -> None:
    table = markdown_table()
    for name, access in POLICY.items():
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == access.kind
        if not access.is_public:
            columns = ["coordinator", "supervisor", "manager", "auditor", "admin"]
            allowed = {role for role, cell in zip(columns, cells[2:], strict=True) if cell == "✓"}
            assert allowed == {r for r in columns if access.allows(r)}, name


def test_territory_scope_by_role() -> None:
    from console.web.policy import case_scope

    assert case_scope(_user("ana.coord")) == {"CE", "PE"}
    assert case_scope(_user("sofia.super")) == {"CE", "PE"}
    assert case_scope(_user("gil.manager")) is None
    assert case_scope(_user("rui.auditor")) is None
    assert case_scope(_user("adm.admin")) is None
    assert case_scope(User(username="x", role="coordinator", territories=[])) == frozenset()


def test_require_case_hides_other_territories_and_missing_cases(web_rt) -> None:
    from console.web.policy import require_case
    from states.errors import NotFound
    from tests.web.conftest import PA_CASE

    with web_rt.db.read() as session:
        assert require_case(session, _user("ana.coord"), CE_CASE) == "CE"
        assert require_case(session, _user("gil.manager"), PA_CASE) == "PA"
        with pytest.raises(NotFound) as outside:
            require_case(session, _user("ana.coord"), PA_CASE)
        with pytest.raises(NotFound) as missing:
            require_case(session, _user("ana.coord"), 999_999)
    # the same sentence shape: nothing says the first one exists
    assert re.sub(r"\d+", "N", str(outside.value)) == re.sub(r"\d+", "N", str(missing.value))


@pytest.mark.parametrize(
    ("caller", "page", "api", "write"),
    [
        ("ana.coord", 200, 200, 200),
        ("sofia.super", 200, 200, 200),
        ("bia.coord", 404, 404, 404),
        ("gil.manager", 200, 200, 200),
        ("rui.auditor", 200, 200, 403),
        ("adm.admin", 200, 200, 403),
    ],
)
def test_a_case_route_checks_the_territory_before_it_runs(app, web_rt, caller, page, api, write):
    """Any route with a {case_id} gets the territory check, whatever its code does."""
    ran: list[str] = []

    @app.get("/probe/cases/{case_id}", name="case")
    def probe_page(case_id: int) -> dict[str, int]:
        ran.append("page")
        return {"case": case_id}

    @app.get("/api/v1/probe/cases/{case_id}", name="api.cases.detail")
    def probe_api(case_id: int) -> dict[str, int]:
        ran.append("api")
        return {"case": case_id}

    @app.post("/probe/cases/{case_id}/advance", name="case.advance")
    def probe_write(case_id: int) -> dict[str, int]:
        ran.append("write")
        return {"case": case_id}

    with TestClient(app, follow_redirects=False) as client:
        started = auth.start_session(web_rt, app.state.settings, caller)
        client.cookies.set(auth.SESSION_COOKIE, started.session_id)
        csrf = {"X-CSRF-Token": started.session.csrf_token}
        token = auth.create_token(web_rt, caller, "probe").token
        answers = (
            client.get(f"/probe/cases/{CE_CASE}"),
            client.get(
                f"/api/v1/probe/cases/{CE_CASE}", headers={"Authorization": f"Bearer {token}"}
            ),
            client.post(f"/probe/cases/{CE_CASE}/advance", headers=csrf),
        )
        missing = client.get("/probe/cases/999999")

    assert [a.status_code for a in answers] == [page, api, write]
    assert ran == [
        name
        for name, a in zip(("page", "api", "write"), answers, strict=True)
        if a.status_code == 200
    ]
    assert missing.status_code == 404
    if api == 404:
        assert answers[1].json()["error"]["code"] == "not_found"


def test_the_readme_shows_the_policy_the_code_enforces() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert policy.markdown_table() in readme
