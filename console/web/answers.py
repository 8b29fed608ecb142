"""The answers to errors at the HTTP edge: JSON for the API, a page for people.

:func:`install` registers the handlers that map :mod:`console.web.errors`' :class:`ApiError`,
the :class:`states.errors.ProduzirError` tree, request validation, the plain HTTP errors and a
busy database to one answer each (:func:`respond`). Under ``/api/`` (or when the client asks
for JSON and not HTML) the answer is JSON (:func:`console.web.errors.error_body`); otherwise
the error page ``web/error.html``. A page that needs a login
(:class:`~console.web.errors.LoginRequired`) redirects to ``/login?next=...``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from console.web.deps import identify
from console.web.errors import (
    API_PREFIX,
    ApiError,
    LoginRequired,
    busy,
    error_body,
    produzir_error,
    validation_error,
)
from console.web.templating import language_of
from console.web.templating import render as render_page
from notifications.i18n import render
from states.db import is_busy
from states.errors import ProduzirError
from states.text import N_, Text

HTTP_CODES = {
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
HTTP_TEXTS: dict[int, Text] = {
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


def wants_json(request: Request) -> bool:
    if request.url.path.startswith(API_PREFIX):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def respond(request: Request, error: ApiError) -> Response:
    """The answer to ``error``: JSON for the API, the error page for people."""
    language = language_of(request, api=wants_json(request))
    if wants_json(request):
        extra = {k: _rendered(v, language) for k, v in error.extra.items()}
        return JSONResponse(
            error_body(error.code, render(error.text, language), field=error.field, **extra),
            status_code=error.status_code,
            headers=error.headers or None,
        )
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
        code = HTTP_CODES.get(exc.status_code, "error")
        message = HTTP_TEXTS.get(exc.status_code) or Text(
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
