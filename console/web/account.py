"""The login form, logging out, the user's API tokens, and ``GET /api/v1/me``.

``GET /login`` sets a random nonce in a cookie and puts its HMAC in the form; ``POST /login``
refuses (403) a form without the matching token, then checks the password. Success: a new
session (the old one, if the browser had one, is destroyed), its id in an HttpOnly, SameSite=Lax
cookie (Secure over HTTPS), and a redirect to where the user was going. Failure: the form again
with one message for every reason (wrong name or password, locked out, disabled), so it tells
nobody which user names exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from console.web import auth
from console.web.api import error_responses
from console.web.deps import ApiUser, Rt, Settings, WebUser, current_auth
from console.web.settings import WebSettings
from console.web.templating import language_of, render
from console.web.throttle import LoginThrottle
from states.errors import InvalidInput
from states.text import M_

router = APIRouter()

LOGIN_FAILED = M_(
    "Could not log in: wrong user name or password, or access blocked for a while after repeated attempts."
)
FORM_EXPIRED = M_("The form expired. Please try again.")
FILL_IN = M_("Enter your user name and password.")
#: the token errors, in Portuguese
TOKEN_ERRORS_PT = {
    auth.NAME_MISSING: "Dê um nome ao token (ex.: o programa que vai usá-lo).",
    auth.NAME_TOO_LONG: "O nome do token é longo demais (no máximo 100 caracteres).",
    auth.TOO_MANY_ACTIVE: f"Você já tem {auth.MAX_ACTIVE_TOKENS} tokens ativos: revogue um "
    "antes de criar outro.",
}
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(value: str | None) -> str:
    """Where to go after the login: a path of this site only (never ``//host`` or a URL)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _set_cookie(
    response: Response,
    request: Request,
    settings: WebSettings,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies(request.url.scheme),
        path="/",
    )


def _login_page(
    request: Request,
    settings: WebSettings,
    *,
    next_path: str,
    username: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    nonce = auth.login_nonce()
    response = render(
        request,
        "web/login.html",
        {
            "login_token": auth.login_form_token(settings, nonce),
            "next": safe_next(next_path),
            "username": username,
            "error": error,
        },
        status_code=status_code,
        headers=NO_STORE,
    )
    _set_cookie(response, request, settings, auth.LOGIN_COOKIE, nonce)
    return response


@router.get("/login", name="login.form", include_in_schema=False)
def login_form(request: Request, settings: Settings, next: str = "/") -> Response:
    return _login_page(request, settings, next_path=next)


@router.post("/login", name="login.submit", include_in_schema=False)
def login_submit(
    request: Request,
    rt: Rt,
    settings: Settings,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    token = csrf_token or request.headers.get("x-csrf-token")
    if not auth.check_login_form(settings, request.cookies.get(auth.LOGIN_COOKIE), token):
        return _login_page(
            request,
            settings,
            next_path=next,
            username=username,
            error=FORM_EXPIRED,
            status_code=403,
        )
    if not username.strip() or not password:
        return _login_page(
            request,
            settings,
            next_path=next,
            username=username,
            error=FILL_IN,
            status_code=422,
        )
    throttle: LoginThrottle = request.app.state.login_throttle
    throttle.admit(request.client.host if request.client else "-", username)
    with throttle.checking():  # at most login_concurrency argon2 checks at once
        started = auth.login(
            rt,
            settings,
            username,
            password,
            replacing=request.cookies.get(auth.SESSION_COOKIE),
        )
    if started is None:
        return _login_page(
            request,
            settings,
            next_path=next,
            username=username,
            error=LOGIN_FAILED,
            status_code=401,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    _set_cookie(
        response,
        request,
        settings,
        auth.SESSION_COOKIE,
        started.session_id,
        max_age=int(settings.session_hours * 3600),
    )
    response.delete_cookie(auth.LOGIN_COOKIE, path="/")
    return response


@router.post("/logout", name="logout", include_in_schema=False)
def logout(request: Request, rt: Rt, settings: Settings, user: WebUser) -> Response:
    auth.logout(rt, request.cookies.get(auth.SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        auth.SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies(request.url.scheme),
    )
    return response


# --- the user's API tokens --------------------------------------------------------------------


def _tokens_page(
    request: Request,
    rt: Rt,
    username: str,
    *,
    new_token: auth.NewToken | None = None,
    name: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "web/tokens.html",
        {
            "tokens": auth.list_tokens(rt, username),
            "new_token": new_token,
            "name": name,
            "error": error,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


@router.get("/tokens", name="tokens.list", include_in_schema=False)
def tokens_list(request: Request, rt: Rt, user: WebUser) -> Response:
    return _tokens_page(request, rt, user.username)


@router.post("/tokens", name="tokens.create", include_in_schema=False)
def tokens_create(
    request: Request,
    rt: Rt,
    user: WebUser,
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        created = auth.create_token(rt, user.username, name)
    except InvalidInput as exc:
        error = exc.message
        if language_of(request) == "pt-BR":
            error = TOKEN_ERRORS_PT.get(error, error)
        return _tokens_page(request, rt, user.username, name=name, error=error, status_code=422)
    return _tokens_page(request, rt, user.username, new_token=created, status_code=201)


@router.post("/tokens/{token_id}/revoke", name="tokens.revoke", include_in_schema=False)
def tokens_revoke(token_id: int, rt: Rt, user: WebUser) -> Response:
    auth.revoke_token(rt, user.username, token_id)
    return RedirectResponse("/tokens", status_code=303)


# --- who am I (API) ---------------------------------------------------------------------------


class Me(BaseModel):
    """The caller of the API."""

    username: str
    name: str
    role: str
    territories: list[str]
    language: str
    timezone: str
    via: str


@router.get("/api/v1/me", name="api.me", tags=["account"], responses=error_responses(401))
def me(request: Request, user: ApiUser) -> Me:
    """Who the token (or session) belongs to: role, territory (UFs; empty = everywhere for
    managers, auditors and administrators), language and time zone."""
    found = current_auth(request)
    return Me(
        username=user.username,
        name=user.name,
        role=user.role,
        territories=list(user.territories),
        language=user.language,
        timezone=user.timezone,
        via="token" if found is not None and found.token_id is not None else "session",
    )
