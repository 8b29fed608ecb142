"""The web console's application: ``create_app(rt, settings)``.

It holds the injected :class:`~tasks.runtime.Runtime` (``app.state.runtime``; tests give one
with a fixed clock) and :class:`~console.web.settings.WebSettings` (``app.state.settings``),
installs the two dependencies every route runs first (:func:`~console.web.deps.authorize`,
:func:`~console.web.deps.csrf_protect`), the error mapping (:mod:`console.web.answers`), security
headers, the origin of every request (:class:`Origin`: ``api`` under ``/api/``, else ``web``,
which the audit log records), ``/static`` (files shipped in ``console/web/static``: nothing comes from the
internet), and the routers of :data:`ROUTERS` (the account pages, the console's pages and the
JSON API, imported here; the API's routes carry their ``/api/v1`` prefix themselves). Then it checks every
route against the policy table and refuses to start if one is missing from it.

The API's OpenAPI schema is at ``/api/v1/openapi.json``; no interactive docs page is served
(it would load its scripts from a CDN).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from starlette.datastructures import MutableHeaders
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.web import account, answers, api, pages
from console.web.deps import authorize, csrf_protect
from console.web.errors import API_PREFIX
from console.web.policy import check_routes
from console.web.settings import WebSettings, load_web_settings
from console.web.templating import STATIC_DIR
from console.web.throttle import LoginThrottle
from states.origin import reset_origin, set_origin
from tasks.runtime import Runtime

#: The routers the app includes, in this order.
ROUTERS: tuple[APIRouter, ...] = (account.router, pages.router, api.router)
OPENAPI_URL = "/api/v1/openapi.json"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


class SecurityHeaders:
    """Adds the security headers to every answer (HSTS too when served over HTTPS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS:
                    headers.setdefault(name, value)
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Origin:
    """Every request runs with the origin ``api`` (paths under ``/api/``) or ``web`` (pages),
    reset when the answer is sent: whatever the request writes is recorded as coming from it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        channel = "api" if str(scope.get("path", "")).startswith(API_PREFIX) else "web"
        token = set_origin(channel)
        try:
            await self.app(scope, receive, send)
        finally:
            reset_origin(token)


def _version() -> str:
    try:
        return version("produzir")
    except PackageNotFoundError:
        return "0"


def create_app(rt: Runtime | None = None, settings: WebSettings | None = None) -> FastAPI:
    """The console for ``rt`` (default: from the PRODUZIR_* settings, over a database migrated
    to the code's head) and ``settings``."""
    settings = settings if settings is not None else load_web_settings()
    rt = rt if rt is not None else Runtime.open(check_migrated=True)
    app = FastAPI(
        title="Produzir",
        version=_version(),
        description="The PRODUZIR programme's cases: the JSON API of the web console. "
        "Authenticate with `Authorization: Bearer <token>` (create a token on /tokens). "
        'Errors: `{"error": {"code": ..., "message": ..., "field": ...}}`.',
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        dependencies=[Depends(authorize), Depends(csrf_protect)],
    )
    app.state.runtime = rt
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle(
        concurrency=settings.login_concurrency,
        wait_seconds=settings.login_wait_seconds,
        per_ip=settings.login_rate_per_ip,
        per_user=settings.login_rate_per_user,
        now=rt.clock.now,
    )
    answers.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Origin)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in ROUTERS:
        app.include_router(router)
    check_routes(app.routes)
    _derive_schema(app, rt)
    return app


def _derive_schema(app: FastAPI, rt: Runtime) -> None:
    """The OpenAPI schema, with the events and evidence of ``rt``'s lifecycle."""
    from console.web.api import lifecycle_schema

    made = app.openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = lifecycle_schema(made(), rt)
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
