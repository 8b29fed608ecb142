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

from notifications.i18n import render
from states.db import is_busy
from states.errors import (
    Busy,
    Conflict,
    GuardFailed,
    InvalidInput,
    ProduzirError,
    TransitionNotAllowed,
)
from states.text import N_, Text

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


#: the sentences of the plain HTTP errors (a path that matches no route, a wrong method ...)
_HTTP_TEXTS: dict[int, Text] = {
    400: N_("The request is malformed."),
    404: N_("There is no page at this address."),
    405: N_("This address does not take that method."),
    413: N_("The request is too large."),
    415: N_("The request's content type is not supported."),
}


def _rendered(value: Any, language: str) -> Any:
    """An error's extra value for JSON: a Text rendered, a list of field errors rendered."""
    if isinstance(value, Text):
        return render(value, language)
    if isinstance(value, list):
        return [_rendered(v, language) for v in value]
    if isinstance(value, dict):
        return {k: _rendered(v, language) for k, v in value.items()}
    return value


class ApiError(Exception):
    """An HTTP error with a stable code and a sentence, raised from routes and dependencies."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: Text | str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(str(message))
        self.status_code = status_code
        self.code = code
        self.text = message if isinstance(message, Text) else Text(message, {})
        self.message = str(message)
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
        N_("log in, or send an API token: Authorization: Bearer <token>"),
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(message: Text | str | None = None) -> ApiError:
    return ApiError(403, "forbidden", message or N_("your role does not allow this"))


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
        extra = {"event": exc.event, "reason": exc.reason_text}
    elif isinstance(exc, TransitionNotAllowed):
        extra = {"event": exc.event, "state": exc.state, "allowed": list(exc.allowed)}
    elif isinstance(exc, Busy):
        return busy(exc)
    return ApiError(exc.http_status, exc.code, exc.text, field=field, **extra)


def busy(exc: Busy | None = None) -> ApiError:
    """503 with Retry-After: the database stayed locked; the same request may succeed soon."""
    exc = exc or Busy()
    return ApiError(
        exc.http_status,
        exc.code,
        exc.text,
        headers={"Retry-After": str(exc.retry_after)},
        retry_after=exc.retry_after,
    )


def _field_of(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_error(exc: RequestValidationError) -> ApiError:
    fields: list[dict[str, Any]] = [
        {"field": _field_of(e.get("loc", ())), "message": pydantic_text(e)} for e in exc.errors()
    ]
    first = fields[0] if fields else {"field": "body", "message": N_("invalid")}
    return ApiError(
        422,
        "invalid_input",
        N_("%(field)s: %(message)s", field=first["field"], message=first["message"]),
        field=str(first["field"]),
        fields=fields,
    )


def pydantic_text(error: Mapping[str, Any]) -> Text:
    """A pydantic error as a sentence to translate (the common kinds; else pydantic's own)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return N_("Field required")
    if kind.startswith(("int_", "int")):
        return N_("Input should be a valid integer")
    if kind.startswith("date"):
        return N_("Input should be a valid date (YYYY-MM-DD)")
    if kind.startswith(("decimal", "float")):
        return N_("Input should be a valid number")
    if kind == "string_too_short":
        return N_("Input should have at least %(min)s characters", min=ctx.get("min_length", 1))
    if kind == "string_too_long":
        return N_("Input should have at most %(max)s characters", max=ctx.get("max_length", 0))
    if kind in ("enum", "literal_error"):
        return N_("Input should be one of: %(expected)s", expected=str(ctx.get("expected", "")))
    if kind == "extra_forbidden":
        return N_("Unknown field")
    if kind in ("greater_than_equal", "greater_than"):
        return N_("Input should be at least %(min)s", min=str(ctx.get("ge", ctx.get("gt", ""))))
    if kind in ("less_than_equal", "less_than"):
        return N_("Input should be at most %(max)s", max=str(ctx.get("le", ctx.get("lt", ""))))
    if kind in ("json_invalid", "model_attributes_type", "dict_type"):
        return N_("The body should be a JSON object")
    return Text(str(error.get("msg", "invalid")), {})


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(API_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def respond(request: Request, error: ApiError) -> Response:
    """The answer to ``error``: JSON for the API, the error page for people."""
    # imported here: both modules import this one
    from console.web.templating import language_of

    language = language_of(request, api=wants_json(request))
    if wants_json(request):
        extra = {k: _rendered(v, language) for k, v in error.extra.items()}
        return JSONResponse(
            error_body(error.code, render(error.text, language), field=error.field, **extra),
            status_code=error.status_code,
            headers=error.headers or None,
        )
    from console.web.deps import identify
    from console.web.templating import render as render_page

    try:  # the page shows who is logged in, even for a path that matches no route
        identify(request)
    except SQLAlchemyError:
        request.state.auth = None

    return render_page(
        request,
        "web/error.html",
        {"error": error, "message": render(error.text, language_of(request))},
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
        message = _HTTP_TEXTS.get(exc.status_code) or Text(
            exc.detail if isinstance(exc.detail, str) else code.replace("_", " "), {}
        )
        headers = dict(exc.headers or {})
        return respond(request, ApiError(exc.status_code, code, message, headers=headers))

    async def on_login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    async def on_data_error(request: Request, exc: Exception) -> Response:
        # a value the database cannot hold (e.g. a NUL character on PostgreSQL): the input is
        # wrong, not the server; nothing was written (the transaction rolled back)
        return respond(
            request, ApiError(422, "invalid_input", N_("a value cannot be stored as given"))
        )

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
