"""FastAPI dependencies of the web console: the runtime, a database session, the caller.

Two dependencies run before EVERY route (``create_app`` installs them on the app):

- :func:`authorize`: finds the caller (an API token under ``/api/``, else the session cookie),
  looks the route's name up in :data:`~console.web.policy.POLICY` and refuses: anonymous ->
  a page redirects to ``/login?next=...``, the API answers 401; a role the policy does not
  list -> 403 (an auditor on any write); a ``{case_id}`` outside the user's territory -> 404.
- :func:`csrf_protect`: a POST in a browser session must carry the session's CSRF token, as
  the form field ``csrf_token`` or the header ``X-CSRF-Token`` -> 403 otherwise. Requests with
  an API token need none (no browser sends it on its own).

So a route only declares its name and asks for what it needs::

    @router.get("/cases/{case_id}", name="case")
    def case_page(case_id: int, request: Request, user: WebUser, db: DbRead) -> Response: ...

    @router.post("/api/v1/cases/{case_id}/advance", name="api.cases.advance")
    def advance(case_id: int, body: AdvanceIn, user: ApiUser, rt: Rt) -> AdvanceOut: ...

:data:`WebUser` and :data:`ApiUser` are the logged-in :class:`~states.directory.User` (a
detached copy: read it, do not change it), :data:`Rt` the app's
:class:`~tasks.runtime.Runtime` (``rt.db``, ``rt.clock``, ``rt.lifecycle``, ``rt.today()``),
:data:`DbRead` a read-only SQLAlchemy session for the request (writes go through the
operations in ``tasks``, which open their own transaction), :data:`Settings` the
:class:`~console.web.settings.WebSettings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from console.web import auth
from console.web.auth import Authenticated
from console.web.errors import API_PREFIX, ApiError, LoginRequired, forbidden, unauthenticated
from console.web.policy import POLICY, SAFE_METHODS, Access, require_case
from console.web.settings import WebSettings
from states.directory import User
from states.errors import NotFound
from states.text import N_
from tasks.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    """The app's Runtime (``create_app(rt, ...)``): tests inject one with a fixed clock."""
    rt: Runtime = request.app.state.runtime
    return rt


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def read_session(request: Request) -> Iterator[Session]:
    """A read session for the request; rolled back and closed after the answer."""
    with get_runtime(request).db.read() as session:
        yield session


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def identify(request: Request) -> Authenticated | None:
    """Who is calling: an API token (API routes only) or the session cookie; None if nobody.
    Kept on ``request.state.auth`` (computed once per request)."""
    if hasattr(request.state, "auth"):
        found: Authenticated | None = request.state.auth
        return found
    rt = get_runtime(request)
    token = _bearer(request) if is_api(request) else None
    if token is not None:
        # a token that is sent must be good: no falling back to the cookie
        found = auth.token_auth(rt, token)
    else:
        found = auth.session_auth(rt, request.cookies.get(auth.SESSION_COOKIE))
    request.state.auth = found
    return found


def _next_path(request: Request) -> str:
    """Where to come back after the login: this page, or for a form posted after the session
    ended, the page the form was on (when it is one of ours)."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


def route_access(request: Request) -> Access | None:
    """The policy entry of the route the request matched (None: no route, or not listed)."""
    name = getattr(request.scope.get("route"), "name", None)
    return POLICY.get(name) if isinstance(name, str) else None


def authorize(request: Request) -> None:
    """The route's policy, for the caller (runs before every route; see the module doc)."""
    access = route_access(request)
    name = getattr(request.scope.get("route"), "name", None)
    if access is None:  # check_routes refuses this at start; never serve an unlisted route
        raise forbidden(f"the route {name!r} has no access policy")
    found = identify(request)
    if access.is_public:
        return
    if found is None:
        if is_api(request):
            raise unauthenticated()
        raise LoginRequired(_next_path(request))
    if not access.allows(found.user.role):
        if access.kind == "write" and found.user.role == "auditor":
            raise forbidden("an auditor reads everything and changes nothing")
        raise forbidden()
    raw_case = request.path_params.get("case_id")
    if raw_case is not None:
        try:
            case_id = int(raw_case)
        except (TypeError, ValueError):
            return  # the route's own validation answers 422
        if not 0 < case_id < 2**31:  # beyond any id (and any database integer): no such case
            raise NotFound("case", raw_case)
        with get_runtime(request).db.read() as session:
            require_case(session, found.user, case_id)


async def csrf_protect(request: Request) -> None:
    """A POST (PUT, PATCH, DELETE) in a browser session carries the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    access = route_access(request)
    if access is None or access.is_public:
        return  # authorize refused the first; the login form checks its own token
    found: Authenticated | None = getattr(request.state, "auth", None)
    if found is None or found.session is None:
        return  # anonymous (refused by authorize) or an API token
    token = request.headers.get("x-csrf-token")
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("csrf_token")
            token = value if isinstance(value, str) else None
    if not auth.check_csrf(found, token):
        raise ApiError(
            403,
            "csrf",
            N_("the form is missing its security token: reload the page and try again"),
        )


def web_user(request: Request) -> User:
    """The logged-in user of a page (else: redirect to the login form)."""
    found = identify(request)
    if found is None:
        raise LoginRequired(_next_path(request))
    return found.user


_BEARER = HTTPBearer(
    auto_error=False,
    description="A personal API token (create one on /tokens): `Authorization: Bearer pzr_...`",
)


def api_user(
    request: Request,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> User:
    """The caller of an API route, by Bearer token or session (else: 401 JSON). (The Bearer
    parameter only declares the scheme in the OpenAPI schema; :func:`identify` reads it.)"""
    found = identify(request)
    if found is None:
        raise unauthenticated()
    return found.user


def current_auth(request: Request) -> Authenticated | None:
    """How the caller is authenticated (session with its CSRF token, or API token)."""
    return identify(request)


Rt = Annotated[Runtime, Depends(get_runtime)]
Settings = Annotated[WebSettings, Depends(get_settings)]
DbRead = Annotated[Session, Depends(read_session)]
WebUser = Annotated[User, Depends(web_user)]
ApiUser = Annotated[User, Depends(api_user)]
Auth = Annotated[Authenticated | None, Depends(current_auth)]
