"""The SQL the pages run beyond :mod:`states.queries`: each list limited to a page, every case
list restricted to the user's territory in the ``WHERE`` clause.

The case filters and the overdue rule are those of :mod:`states.queries` (:func:`filtered
<states.queries.filtered>`, the same function ``produzir case list`` runs); the territory is
added as ``municipalities.uf IN (...)`` (:func:`console.web.pages_common.uf_clause`). The
figures of the programme (the board's cases per state and overdue, the indicators, the time per
stage, the deadlines met and missed) come from :func:`states.queries.count_by_state` and
:mod:`states.indicators`; :class:`HeadCache` keeps the pages' copies of them between requests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    String,
    cast,
    func,
    literal_column,
    null,
    select,
)
from sqlalchemy.orm import Session

from states import queries
from states.directory import User
from states.models import AuditEvent, AuditLogState, Case, Municipality
from states.queries import LIKE_ESCAPE, CaseFilter, contains, event_dict
from states.records import DataAccess, Obligation
from states.states import ALL, CLOSED, overdue_codes

T = TypeVar("T")
OVERDUE_STATES = queries.OVERDUE_STATES
_CLOSED = tuple(s.value for s in CLOSED)


def _scoped(query: Any, scope: ColumnElement[bool] | None) -> Any:
    return query if scope is None else query.where(scope)


def _cases_of(
    query: Any,
    f: CaseFilter,
    *,
    today: date,
    scope: ColumnElement[bool] | None,
    activity: str | None,
) -> Any:
    query = queries.filtered(query, f, today)
    if activity:
        query = query.where(Case.activity.ilike(contains(activity), escape=LIKE_ESCAPE))
    return _scoped(query, scope)


# --- the board --------------------------------------------------------------------------------


#: how deep the board pages in deadline order (each state is read up to there)
MAX_DUE_OFFSET = 10_000


def board_rows(
    session: Session,
    f: CaseFilter,
    *,
    today: date,
    scope: ColumnElement[bool] | None,
    activity: str | None = None,
    order: str = "recent",
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One page of the cases matching the filter in the territory (the rows of
    ``produzir case list``): newest first, or by deadline (``order="due"``: the nearest first,
    cases without one last)."""
    base = _cases_of(
        select(Case, Municipality).join(
            Municipality, Case.municipality_code == Municipality.ibge_code
        ),
        f,
        today=today,
        scope=scope,
        activity=activity,
    )
    if order != "due":
        rows = session.execute(base.order_by(Case.id.desc()).limit(limit).offset(offset))
        return [queries.case_row(c, m, today) for c, m in rows]
    # by deadline: each state's cases in the order of the (state, due_on) index, merged
    offset = min(offset, MAX_DUE_OFFSET)
    wanted = offset + limit
    states = [f.state] if f.state else [s.value for s in ALL]
    found: list[tuple[Case, Municipality]] = []
    for state in states:
        in_state = base.where(Case.state == state)
        for part in (
            in_state.where(Case.due_on.is_not(None)).order_by(Case.due_on, Case.id),
            in_state.where(Case.due_on.is_(None)).order_by(Case.id),
        ):
            found.extend((c, m) for c, m in session.execute(part.limit(wanted)))
    found.sort(key=lambda pair: (pair[0].due_on is None, pair[0].due_on or today, pair[0].id))
    return [queries.case_row(c, m, today) for c, m in found[offset:wanted]]


def coordinators(session: Session, ufs: Sequence[str] | None) -> list[tuple[str, str]]:
    """(user name, name) of the active coordinators and supervisors whose territory meets
    ``ufs`` (None: all of them)."""
    rows = session.execute(
        select(User.username, User.name, User.territories)
        .where(User.role.in_(("coordinator", "supervisor")), User.active.is_(True))
        .order_by(User.name)
    )
    wanted = set(ufs) if ufs is not None else None
    return [
        (username, name)
        for username, name, territories in rows
        if wanted is None or not territories or wanted & {t.upper() for t in territories}
    ]


# --- due and overdue --------------------------------------------------------------------------


def _due_columns(what: str, due_on: Any, kind: Any, description: Any, params: Any) -> list[Any]:
    return [
        literal_column(f"'{what}'").label("what"),
        Case.id.label("case_id"),
        Case.state.label("state"),
        due_on.label("due_on"),
        kind.label("kind"),
        description.label("description"),
        params.label("params"),
        Case.community.label("community"),
        Municipality.name.label("municipality"),
        Municipality.uf.label("uf"),
        Case.coordinator.label("coordinator"),
    ]


def due_rows(
    session: Session,
    *,
    today: date,
    until: date,
    scope: ColumnElement[bool] | None,
    uf: str | None = None,
    coordinator: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], bool]:
    """The state deadlines and open obligations due on or before ``until``, most late first:
    one page of them, and whether there are more.

    Each state's deadlines and the open obligations are read in due-date order from their
    indexes (``cases (state, due_on)``, ``obligations (satisfied_on, due_on)``), at most
    ``offset + limit + 1`` rows each, and merged: no query sorts every due row.
    """
    wanted = offset + limit + 1

    def narrowed(query: Any) -> Any:
        query = _scoped(query, scope)
        if uf:
            query = query.where(Municipality.uf == uf.upper())
        if coordinator:
            query = query.where(Case.coordinator == coordinator)
        return query.limit(wanted)

    no_text = cast(null(), String)
    no_json = cast(null(), JSON)
    queries_: list[Any] = [
        narrowed(
            select(*_due_columns("deadline", Case.due_on, no_text, no_text, no_json))
            .join(Municipality, Case.municipality_code == Municipality.ibge_code)
            .where(Case.state == state, Case.due_on <= until)
            .order_by(Case.due_on, Case.id)
        )
        for state in overdue_codes()
    ]
    queries_.append(
        narrowed(
            select(
                *_due_columns(
                    "obligation",
                    Obligation.due_on,
                    Obligation.kind,
                    Obligation.description,
                    Obligation.params,
                )
            )
            .select_from(Obligation)
            .join(Case, Case.id == Obligation.case_id)
            .join(Municipality, Case.municipality_code == Municipality.ibge_code)
            .where(
                Obligation.satisfied_on.is_(None),
                Obligation.due_on <= until,
                Case.state.not_in(_CLOSED),
            )
            .order_by(Obligation.due_on, Obligation.id)
        )
    )
    found = [dict(row) for query in queries_ for row in session.execute(query).mappings()]
    found.sort(key=lambda r: (r["due_on"], r["case_id"], r["what"]))
    page = found[offset : offset + limit]
    for item in page:
        item["days_late"] = (today - item["due_on"]).days
    return page, len(found) > offset + limit


# --- the audit trail --------------------------------------------------------------------------


@dataclass(frozen=True)
class EventQuery:
    """Filters of the audit pages (all optional)."""

    case_id: int | None = None
    actor: str | None = None
    event: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _events(q: EventQuery, scope: ColumnElement[bool] | None) -> Select[Any]:
    query = select(AuditEvent)
    if q.case_id is not None:
        query = query.where(AuditEvent.case_id == q.case_id)
    if q.actor:
        query = query.where(AuditEvent.actor == q.actor)
    if q.event:
        query = query.where(AuditEvent.event == q.event)
    if q.since is not None:
        query = query.where(AuditEvent.occurred_at >= q.since)
    if q.until is not None:
        query = query.where(AuditEvent.occurred_at <= q.until)
    if scope is not None:
        query = query.where(
            AuditEvent.case_id.in_(
                select(Case.id)
                .join(Municipality, Case.municipality_code == Municipality.ibge_code)
                .where(scope)
            )
        )
    return query


def audit_events(
    session: Session,
    q: EventQuery,
    *,
    scope: ColumnElement[bool] | None,
    limit: int,
    offset: int,
    newest_first: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """A page of audit events (oldest first, or newest) and how many match."""
    query = _events(q, scope)
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    order = AuditEvent.seq.desc() if newest_first else AuditEvent.seq
    rows = session.execute(query.order_by(order).limit(limit).offset(offset)).scalars()
    return [event_dict(r) for r in rows], total


def case_event_names(session: Session, case_id: int) -> list[str]:
    """The events a case's history holds (for the filter)."""
    return sorted(
        session.execute(
            select(AuditEvent.event).where(AuditEvent.case_id == case_id).distinct()
        ).scalars()
    )


def stream_events(
    session: Session, q: EventQuery, *, scope: ColumnElement[bool] | None, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """Every matching audit event, oldest first, read a batch at a time (by sequence)."""
    last = 0
    base = _events(q, scope)
    while True:
        rows = list(
            session.execute(
                base.where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
            ).scalars()
        )
        if not rows:
            return
        for row in rows:
            yield event_dict(row)
        last = rows[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class AccessQuery:
    actor: str | None = None
    person_id: int | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def access_log(
    session: Session, q: AccessQuery, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the personal-data access log (newest first): who, when, which person id, why,
    through which channel — never the data."""
    query = select(
        DataAccess.id,
        DataAccess.at,
        DataAccess.actor,
        DataAccess.person_id,
        DataAccess.purpose,
        DataAccess.channel,
    )
    if q.actor:
        query = query.where(DataAccess.actor == q.actor)
    if q.person_id is not None:
        query = query.where(DataAccess.person_id == q.person_id)
    if q.channel:
        query = query.where(DataAccess.channel == q.channel)
    if q.since is not None:
        query = query.where(DataAccess.at >= q.since)
    if q.until is not None:
        query = query.where(DataAccess.at <= q.until)
    total = int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = session.execute(
        query.order_by(DataAccess.at.desc(), DataAccess.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [dict(r) for r in rows], total


class HeadCache:
    """Results that hold while the audit chain does not move.

    Every change of a case appends an audit event, which moves the chain head
    (``chain_head.seq``); a figure computed from cases and audit events at head N is still right
    while the head is N. The key also holds the database and whatever the caller's query
    depends on (filters, territory, today). A value is never older than its key: the head is
    read before the figure.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session: Session, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        # every change appends an entry: the newest entry number and the tree's size say
        # whether anything changed (an entry committed late on PostgreSQL shows when the
        # sequencer integrates it)
        head = (
            session.execute(select(func.max(AuditEvent.seq))).scalar(),
            session.execute(select(AuditLogState.tree_size)).scalar(),
        )
        full = (str(session.get_bind().engine.url), head, *key)
        with self._lock:
            if full in self._values:
                self._values.move_to_end(full)
                found: T = self._values[full]
                return found
        value = compute()
        with self._lock:
            self._values[full] = value
            while len(self._values) > self._size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


#: the figures the board and the indicators page share between requests
FIGURES = HeadCache()
