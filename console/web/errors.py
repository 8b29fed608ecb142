"""Errors at the HTTP edge: what the API answers for each, and its body.

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
from a route; :func:`console.web.answers.install` maps them. This module holds the errors and
their bodies; :mod:`console.web.answers` the answers (it imports the templates and
:mod:`console.web.deps`, which import this module: nothing here imports them back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError

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
