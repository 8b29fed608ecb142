"""What the console's pages share: the date pages judge by, the user's territory as a SQL
clause, paging links, dates typed into forms.

Territory: :func:`uf_clause` turns :func:`console.web.policy.case_scope` into a ``WHERE``
clause on ``municipalities.uf`` (a query that lists cases joins the case's municipality), so a
coordinator's lists, counts and charts hold only their UFs, computed by the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy import ColumnElement, false

from console.web.policy import POLICY, case_scope
from console.web.templating import DEFAULT_TIMEZONE
from states.directory import User
from states.errors import InvalidInput
from states.models import Municipality
from states.text import N_

#: rows of a list page
PAGE_SIZE = 50
#: the furthest a list may be paged (offset), so nobody asks the database for row 10 million
MAX_OFFSET = 1_000_000


def uf_clause(user: User) -> ColumnElement[bool] | None:
    """``municipalities.uf IN (the user's UFs)``; None when the user sees every case."""
    scope = case_scope(user)
    if scope is None:
        return None
    if not scope:
        return false()
    return Municipality.uf.in_(sorted(scope))


def scope_ufs(user: User) -> list[str] | None:
    """The user's UFs, sorted; None = all."""
    scope = case_scope(user)
    return None if scope is None else sorted(scope)


def may(user: User, route_name: str) -> bool:
    """Whether the user's role may take the route (to render a control or not)."""
    access = POLICY.get(route_name)
    return access is not None and access.allows(user.role)


def clamp_offset(offset: int) -> int:
    return min(max(offset, 0), MAX_OFFSET)


@dataclass(frozen=True)
class Pager:
    """Where a page of a list is: rows ``first``..``last`` of ``total``, and the links."""

    offset: int
    limit: int
    shown: int
    total: int | None
    prev_href: str | None
    next_href: str | None

    @property
    def first(self) -> int:
        return self.offset + 1 if self.shown else 0

    @property
    def last(self) -> int:
        return self.offset + self.shown


def pager(
    request: Request,
    *,
    offset: int,
    limit: int,
    shown: int,
    total: int | None = None,
    more: bool | None = None,
    param: str = "offset",
) -> Pager:
    """The paging of a list; without ``total``, ``more`` says whether a next page exists (by
    default: when this one was full)."""

    def href(at: int) -> str:
        url = request.url.include_query_params(**{param: at})
        return f"{url.path}?{url.query}"

    if total is not None:
        more = offset + shown < total
    elif more is None:
        more = shown >= limit
    return Pager(
        offset=offset,
        limit=limit,
        shown=shown,
        total=total,
        prev_href=href(max(offset - limit, 0)) if offset > 0 else None,
        next_href=href(offset + limit) if more and offset + limit <= MAX_OFFSET else None,
    )


# --- dates typed into forms -------------------------------------------------------------------


def zone_of(user: User) -> ZoneInfo:
    return ZoneInfo(user.timezone or DEFAULT_TIMEZONE)


def parse_day(value: str | None, field: str) -> date | None:
    """A date from a form (``YYYY-MM-DD``); None when empty; InvalidInput naming the field."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            N_("%(field)s: %(value)s is not a date (YYYY-MM-DD)", field=field, value=repr(value)),
            field=field,
        ) from None


def parse_moment(value: str | None, field: str, user: User, *, end_of_day: bool) -> datetime | None:
    """An instant from a form: a date (its start, or its end with ``end_of_day``) or a
    ``YYYY-MM-DDTHH:MM`` in the user's time zone; UTC."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    zone = zone_of(user)
    if "T" in text:
        try:
            local = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                N_(
                    "%(field)s: %(value)s is not a date and time (YYYY-MM-DDTHH:MM)",
                    field=field,
                    value=repr(value),
                ),
                field=field,
            ) from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=zone)
        return local.astimezone(UTC)
    day = parse_day(text, field)
    assert day is not None
    if end_of_day:
        start_next = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        return (start_next - timedelta(microseconds=1)).astimezone(UTC)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def pretty(value: Any) -> str:
    """A JSON value as readable text (sorted keys, accents as they are); "" for an empty one."""
    if not value:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def days_until(due_on: str | date | None, today: date) -> int | None:
    """Days from ``today`` to a due date (negative: past); None without one."""
    if not due_on:
        return None
    due = date.fromisoformat(due_on) if isinstance(due_on, str) else due_on
    return (due - today).days


def first_error(errors: Mapping[str, str]) -> str | None:
    return next(iter(errors.values()), None)


def query_values(request: Request, *names: str) -> dict[str, Any]:
    """The query parameters ``names`` as typed (for refilling a filter form)."""
    return {name: request.query_params.get(name, "") for name in names}
