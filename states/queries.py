"""The read side: case lists, summaries, a case's history, and a case as it was on a past date.

Everything returned is plain data (dicts of JSON-ready values), for the command line, the web
console and exports alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from states.audit import iso_utc
from states.effects import from_json
from states.errors import InvalidInput, NotFound
from states.models import AuditEvent, Case, Municipality
from states.records import PriorityArea, PriorityAreaMunicipality
from states.states import ACTIVE, ALL, State, known_codes, overdue_codes
from states.territory import (
    area_label,
    areas_of,
    class_of,
    configured_modules,
    typology_in_force,
    typology_label,
)
from states.text import N_

#: the shipped states whose cases are overdue once past their deadline (in progress, or
#: suspended); the queries use :func:`states.states.overdue_codes`, which adds those of other
#: loaded lifecycle versions
OVERDUE_STATES: tuple[str, ...] = (*(s.value for s in ACTIVE), State.SUSPENSA.value)
DEMAND_FIELDS = (
    "municipality_code",
    "community",
    "demand_channel",
    "forum",
    "forum_held_on",
    "activity",
    "proponent",
    "proponent_cnpj",
    "description",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class CaseFilter:
    """Filters of ``case list``; all optional, combined with AND."""

    state: str | None = None
    municipality: str | None = None  # IBGE code or part of the name
    uf: str | None = None
    coordinator: str | None = None
    overdue: bool = False
    search: str | None = None  # community or municipality name
    #: only the cases of these UFs (a user's territory); None = no restriction, empty = none
    ufs: frozenset[str] | None = None
    #: only the cases of this regional module (:func:`states.territory.configured_modules`)
    module: str | None = None
    #: only the cases in this priority area (its latest imported list, by name)
    priority_area: str | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in known_codes():
            raise InvalidInput(
                N_(
                    "unknown state %(state)s; states are: %(value)s",
                    state=repr(self.state),
                    value=", ".join(known_codes()),
                ),
                field="state",
            )
        if self.uf is not None and (len(self.uf) != 2 or not self.uf.isalpha()):
            raise InvalidInput(
                N_("%(uf)s is not a UF (two letters, e.g. CE)", uf=repr(self.uf)), field="uf"
            )
        if self.module is not None and configured_modules().get(self.module) is None:
            raise InvalidInput(
                N_(
                    "unknown module %(module)s; modules are: %(value)s",
                    module=repr(self.module),
                    value=", ".join(m.code for m in configured_modules().modules),
                ),
                field="module",
            )
        if self.municipality is not None and _is_code(self.municipality) is False:
            raise InvalidInput(
                N_(
                    "%(municipality)s is not an IBGE municipality code (7 digits)",
                    municipality=repr(self.municipality),
                ),
                field="municipality",
            )


LIKE_ESCAPE = "\\"


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its ``%`` and ``_`` matching themselves."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _is_code(value: str) -> bool | None:
    """True: an IBGE code; None: not all digits (part of a name); False: digits that cannot be
    a code (more than 7, or not ASCII: int() would overflow the database or refuse them)."""
    if not value.isdigit():
        return None
    return value.isascii() and len(value) <= 7


_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def filtered(query: _Q, f: CaseFilter, today: date) -> _Q:
    """``query`` (over cases joined to their municipality where the filter reads it) narrowed
    to the cases matching ``f`` on ``today`` (the rows of ``produzir case list``)."""
    if f.state:
        query = query.where(Case.state == f.state)
    if f.ufs is not None:
        query = query.where(Municipality.uf.in_(sorted(uf.upper() for uf in f.ufs)))
    if f.uf:
        query = query.where(Municipality.uf == f.uf.upper())
    if f.coordinator:
        query = query.where(Case.coordinator == f.coordinator)
    if f.municipality:
        if _is_code(f.municipality):
            query = query.where(Case.municipality_code == int(f.municipality))
        else:
            query = query.where(
                Municipality.name.ilike(contains(f.municipality), escape=LIKE_ESCAPE)
            )
    if f.search:
        pattern = contains(f.search)
        query = query.where(
            or_(
                Case.community.ilike(pattern, escape=LIKE_ESCAPE),
                Municipality.name.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    if f.overdue:
        query = query.where(Case.state.in_(overdue_codes()), Case.due_on < today)
    if f.module:
        modules = configured_modules()
        module = modules.get(f.module)
        assert module is not None  # checked when the filter was made
        elsewhere = sorted(
            code for m in modules.modules if m.code != module.code for code in m.municipalities
        )
        query = query.where(
            or_(
                Case.municipality_code.in_(sorted(module.municipalities)),
                and_(
                    Municipality.uf.in_(sorted(module.ufs)),
                    Case.municipality_code.not_in(elsewhere),
                ),
            )
        )
    if f.priority_area:
        latest = (
            select(PriorityArea.id)
            .where(PriorityArea.name == f.priority_area)
            .order_by(PriorityArea.as_of.desc(), PriorityArea.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = query.where(
            Case.municipality_code.in_(
                select(PriorityAreaMunicipality.municipality_code).where(
                    PriorityAreaMunicipality.area_id == latest
                )
            )
        )
    return query


def list_cases(
    session: Session,
    f: CaseFilter,
    *,
    today: date,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Cases matching the filter, most overdue first, then by id."""
    query = filtered(
        select(Case, Municipality).join(
            Municipality, Case.municipality_code == Municipality.ibge_code
        ),
        f,
        today,
    )
    query = query.order_by(Case.due_on.is_(None), Case.due_on, Case.id).limit(limit).offset(offset)
    return [case_row(case, m, today) for case, m in session.execute(query)]


def count_cases(session: Session, f: CaseFilter, *, today: date) -> int:
    query = filtered(
        select(func.count())
        .select_from(Case)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code),
        f,
        today,
    )
    return int(session.execute(query).scalar_one())


def case_row(case: Case, m: Municipality, today: date) -> dict[str, Any]:
    """One case of a list as plain data (with whether it is overdue on ``today``)."""
    overdue = case.state in overdue_codes() and case.due_on is not None and case.due_on < today
    return {
        "id": case.id,
        "state": case.state,
        "municipality_code": case.municipality_code,
        "municipality": m.name,
        "uf": m.uf,
        "community": case.community,
        "activity": case.activity,
        "coordinator": case.coordinator,
        "due_on": _jsonable(case.due_on),
        "overdue": overdue,
        "days_late": (today - case.due_on).days if overdue and case.due_on else 0,
        "version": case.version,
    }


@dataclass(frozen=True)
class StateCount:
    """The cases of one state matching a filter, and how many of them are overdue."""

    state: str
    cases: int
    overdue: int


def _needs_municipality(f: CaseFilter) -> bool:
    """Whether the filter reads the case's municipality (its UF, its name)."""
    by_name = bool(f.municipality) and not (f.municipality or "").isdigit()
    return bool(f.uf) or f.ufs is not None or by_name or bool(f.search) or bool(f.module)


def _of_activity(query: _Q, activity: str | None) -> _Q:
    if activity:
        query = query.where(Case.activity.ilike(contains(activity), escape=LIKE_ESCAPE))
    return query


def _grouped_by_state(f: CaseFilter, *, today: date, activity: str | None) -> Any:
    query = select(Case.state, func.count()).select_from(Case)
    if _needs_municipality(f):
        query = query.join(Municipality, Case.municipality_code == Municipality.ibge_code)
    return _of_activity(filtered(query, f, today), activity).group_by(Case.state)


def count_by_state(
    session: Session, f: CaseFilter, *, today: date, activity: str | None = None
) -> dict[str, StateCount]:
    """Cases per state (and how many overdue on ``today``) matching the filter, its state
    left aside, and ``activity`` (part of the case's activity); states without a case are
    left out.

    Without a filter on the municipality: two grouped queries on ``cases`` alone, the overdue
    one read from the (state, due_on) index. With one (a territory, a UF, a name): one pass over
    the cases of those municipalities, counting both.
    """
    f = replace(f, state=None)
    if not _needs_municipality(f):
        every = dict(session.execute(_grouped_by_state(f, today=today, activity=activity)).all())
        late = dict(
            session.execute(
                _grouped_by_state(replace(f, overdue=True), today=today, activity=activity)
            ).all()
        )
        return {
            state: StateCount(state, int(n), int(late.get(state, 0))) for state, n in every.items()
        }
    overdue = and_(Case.state.in_(overdue_codes()), Case.due_on < today)
    query = select(Case.state, func.count(), func.sum(case((overdue, 1), else_=0)))
    query = query.select_from(Case).join(
        Municipality, Case.municipality_code == Municipality.ibge_code
    )
    query = _of_activity(filtered(query, f, today), activity).group_by(Case.state)
    return {
        state: StateCount(state, int(n), int(late or 0))
        for state, n, late in session.execute(query)
    }


def summary(session: Session, *, today: date) -> list[dict[str, Any]]:
    """Cases per state (every shipped state listed, in lifecycle order, then the states of
    other lifecycle versions that have cases), with how many are overdue."""
    counts = count_by_state(session, CaseFilter(), today=today)
    codes = [s.value for s in ALL]
    codes += sorted(code for code in counts if code not in codes)
    return [
        {
            "state": code,
            "cases": counts[code].cases if code in counts else 0,
            "overdue": counts[code].overdue if code in counts else 0,
        }
        for code in codes
    ]


def case_detail(session: Session, case_id: int, *, today: date) -> dict[str, Any]:
    """Everything about one case now."""
    row = session.execute(
        select(Case, Municipality)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code)
        .where(Case.id == case_id)
    ).one_or_none()
    if row is None:
        raise NotFound("case", case_id)
    case, m = row
    detail = case_row(case, m, today)
    detail.update(
        {
            column: _jsonable(getattr(case, column))
            for column in (
                *DEMAND_FIELDS,
                "lifecycle_version",
                "previous_state",
                "entered_on",
                "extensions_used",
                "suspended_on",
                "paused_due_on",
                "expected_resume_on",
                "rejected_on",
                "hub_municipality_code",
                "reopen_requested_by",
                "registered_at",
                "registered_by",
                "updated_at",
                "updated_by",
            )
        }
    )
    detail["microregion"] = m.microregion
    detail["microregion_code"] = m.microregion_code
    detail["timezone"] = m.timezone
    detail.update(territory_of(session, m))
    hub = (
        session.get(Municipality, case.hub_municipality_code)
        if case.hub_municipality_code
        else None
    )
    hub_module = configured_modules().of(hub.ibge_code, hub.uf) if hub else None
    detail["hub_module"] = hub_module.code if hub_module else None
    return detail


def territory_of(session: Session, m: Municipality) -> dict[str, Any]:
    """Where a municipality lies: its regional module, the PNDR class of its microregion in
    the typology in force (the typology's name and version, "(ilustrativo)" when illustrative)
    and the priority areas it is in."""
    module = configured_modules().of(m.ibge_code, m.uf)
    typology = typology_in_force(session)
    return {
        "module": module.code if module else None,
        "module_label": module.label if module else None,
        "pndr_class": class_of(session, typology.id, m.microregion_code) if typology else None,
        "pndr_typology": typology_label(typology) if typology else None,
        "priority_areas": [area_label(a) for a in areas_of(session, m.ibge_code)],
    }


def history(session: Session, case_id: int) -> list[dict[str, Any]]:
    """The case's audit events, oldest first."""
    if session.get(Case, case_id) is None:
        raise NotFound("case", case_id)
    rows = session.execute(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    ).scalars()
    return [event_dict(r) for r in rows]


def event_dict(r: AuditEvent) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "case_id": r.case_id,
        "case_version": r.case_version,
        "record_type": r.record_type,
        "record_id": r.record_id,
        "occurred_at": iso_utc(r.occurred_at),
        "event": r.event,
        "from_state": r.from_state,
        "to_state": r.to_state,
        "actor": r.actor,
        "note": r.note,
        "evidence": r.evidence,
        "changes": r.changes,
        "lifecycle_version": r.lifecycle_version,
        "channel": r.channel,
        "os_user": r.os_user,
        "leaf_index": r.leaf_index,
        "entry": r.entry,
    }


def case_at(session: Session, case_id: int, at: datetime) -> dict[str, Any]:
    """The case as it was at ``at``, rebuilt by folding its events' changes in order."""
    if session.get(Case, case_id) is None:
        raise NotFound("case", case_id)
    rows = session.execute(
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.occurred_at <= at)
        .order_by(AuditEvent.seq)
    ).scalars()
    state: dict[str, Any] = {}
    last: AuditEvent | None = None
    for r in rows:
        state.update(from_json(r.changes))
        last = r
    if last is None:
        raise NotFound("case", f"{case_id} at {iso_utc(at)} (it was registered later)")
    state = {k: _jsonable(v) for k, v in state.items()}
    state.update(
        id=case_id,
        version=last.case_version,
        lifecycle_version=last.lifecycle_version,
        as_of=iso_utc(at),
        last_event=last.event,
        last_event_at=iso_utc(last.occurred_at),
        last_actor=last.actor,
    )
    return state
