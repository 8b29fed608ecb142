"""Errors at the HTTP edge: JSON for the API, a page for people.

Every error the API returns has the same body, with a stable ``code`` and a sentence::

    {"error": {"code": "conflict", "message": "case 7 was changed by ana ...", "field": null,
               "current_version": 4, "changed_by": "ana", ...}}

======  ========================================================================================
status  codes
======  ========================================================================================
401     ``unauthenticated`` (no or bad credentials; ``WWW-Authenticate: Bearer``)
403     ``forbidden`` (the role may not), ``csrf`` (the form lacks the session's token)
404     ``not_found`` (also a case outside the user's territory)
405     ``method_not_allowed``
409     ``conflict`` (with ``case_id``, ``expected_version``, ``current_version``, ``changed_by``,
        ``changed_at``), ``transition_not_allowed`` (``event``, ``state``, ``allowed``),
        ``guard_failed`` (``event``, ``reason``: the guard's sentence)
413     ``too_large`` (a body over the upload limit)
422     ``invalid_input`` (``field`` names the first wrong field, ``fields`` lists them all)
429     ``too_many_requests`` (login attempts over the rate limit; ``Retry-After``)
503     ``busy`` (the database stayed locked by another write; ``Retry-After``: try again)
======  ========================================================================================

Raise :class:`states.errors.ProduzirError` subclasses (the operations do) or :class:`ApiError`
from a route; :func:`install` maps them. Under ``/api/`` (or when the client asks for JSON and
not HTML) the answer is JSON; otherwise the error page ``web/error.html``. A page that needs a
login (:class:`LoginRequired`) redirects to ``/login?next=...``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from states.db import is_busy
from states.errors import (
    Busy,
    Conflict,
    GuardFailed,
    InvalidInput,
    ProduzirError,
    TransitionNotAllowed,
)

API_PREFIX = "/api/"

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "busy",
}


class ApiError(Exception):
    """An HTTP error with a stable code and a sentence, raised from routes and dependencies."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.extra = extra


class LoginRequired(Exception):
    """A page needs a logged-in user: redirect to the login form, then back."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


def unauthenticated() -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        "log in, or send an API token: Authorization: Bearer <token>",
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(message: str = "your role does not allow this") -> ApiError:
    return ApiError(403, "forbidden", message)


def error_body(
    code: str, message: str, *, field: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The JSON body of an error."""
    return {"error": {"code": code, "message": message, "field": field, **extra}}


def produzir_error(exc: ProduzirError) -> ApiError:
    """The HTTP form of one of Produzir's errors, with its context."""
    extra: dict[str, Any] = {}
    field = exc.field if isinstance(exc, InvalidInput) else None
    if isinstance(exc, Conflict):
        extra = {
            "case_id": exc.case_id,
            "expected_version": exc.expected_version,
            "current_version": exc.current_version,
            "changed_by": exc.changed_by,
            "changed_at": exc.changed_at.isoformat(),
        }
    elif isinstance(exc, GuardFailed):
        extra = {"event": exc.event, "reason": exc.reason}
    elif isinstance(exc, TransitionNotAllowed):
        extra = {"event": exc.event, "state": exc.state, "allowed": list(exc.allowed)}
    elif isinstance(exc, Busy):
        return busy(exc)
    return ApiError(exc.http_status, exc.code, exc.message, field=field, **extra)


def busy(exc: Busy | None = None) -> ApiError:
    """503 with Retry-After: the database stayed locked; the same request may succeed soon."""
    exc = exc or Busy()
    return ApiError(
        exc.http_status,
        exc.code,
        exc.message,
        headers={"Retry-After": str(exc.retry_after)},
        retry_after=exc.retry_after,
    )


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_error(exc: RequestValidationError) -> ApiError:
    fields = [
        {"field": _field_of(e.get("loc", ())), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return ApiError(
        422,
        "invalid_input",
        f"{first['field']}: {first['message']}",
        field=first["field"],
        fields=fields,
    )


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(API_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def respond(request: Request, error: ApiError) -> Response:
    """The answer to ``error``: JSON for the API, the error page for people."""
    if wants_json(request):
        return JSONResponse(
            error_body(error.code, error.message, field=error.field, **error.extra),
            status_code=error.status_code,
            headers=error.headers or None,
        )
    # imported here: both modules import this one
    from console.web.deps import identify
    from console.web.templating import render

    try:  # the page shows who is logged in, even for a path that matches no route
        identify(request)
    except SQLAlchemyError:
        request.state.auth = None

    return render(
        request,
        "web/error.html",
        {"error": error},
        status_code=error.status_code,
        headers={k: v for k, v in error.headers.items() if k.lower() != "www-authenticate"},
    )


def login_url(next_path: str) -> str:
    """The login form's address, coming back to ``next_path`` after the login."""
    return "/login?next=" + quote(next_path, safe="/")


def install(app: FastAPI) -> None:
    """Register the handlers that map errors to answers."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return respond(request, exc)

    async def on_produzir_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProduzirError)
        return respond(request, produzir_error(exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return respond(request, validation_error(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(exc.headers or {})
        return respond(request, ApiError(exc.status_code, code, message, headers=headers))

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    async def on_data_error(request: Request, exc: Exception) -> Response:
        # a value the database cannot hold (e.g. a NUL character on PostgreSQL): the input is
        # wrong, not the server; nothing was written (the transaction rolled back)
        return respond(request, ApiError(422, "invalid_input", "a value cannot be stored as given"))

    async def on_operational(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OperationalError)
        if is_busy(exc):
            return respond(request, busy())
        raise exc

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(OperationalError, on_operational)
    app.add_exception_handler(DataError, on_data_error)
    app.add_exception_handler(ProduzirError, on_produzir_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(LoginRequired, on_login_required)
