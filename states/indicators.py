"""The programme's indicators, per programme, UF, hub or case: one query layer for the console,
the web and the reports.

Each row counts, over the cases in its group:

- ``cases`` and ``by_state``: the demands, in total and per lifecycle state (every state listed);
- ``people_preregistered``: people pre-registered in the cases;
- ``people_trained``: of those, the people enrolled in a *held* ECC that serves their case;
- ``people_certified``: of those, the people enrolled for certification who attended at least
  ``ceil(min_attendance × the ECC's session days)`` days of it (the ECC guard's rule);
- ``enterprises_formed`` / ``enterprises_legalised`` (with a CNPJ) / ``enterprises_active`` and
  ``enterprises_inactive`` (what the enterprise's last visit found: the latest visit that recorded
  whether it is active; an enterprise never so visited is neither);
- ``members``: the people who are members of the enterprises;
- ``monthly_income``: the sum, over the enterprises, of the monthly income recorded at that last
  visit.

People are counted once per row: someone pre-registered in two cases of a UF is one person of
that UF (so the rows of the cases may add up to more than their UF's row). A person is attributed
to a case through the case's pre-registration: an ECC serving two communities trains each
community's own people.

Two more figures come from the audit trail (:func:`cycle_times`, :func:`deadline_results`):

- **Cycle time per stage**: a *stay* in a state starts with the audit event that moved the case
  into it and ends with the next event that moved the case elsewhere (``LEAD`` over the case's
  state changes); the figure is the median length of the stays that ended in the period, in
  days (a suspension ends a stay; resuming starts a new one).
- **Deadlines met and missed**: a stay in a state with a deadline that ended by moving on (to
  the next state, or to ``indeferida``; not by a suspension or a cancellation) is *met* when
  the day it ended (the ``entered_on`` the leaving event recorded, the municipality's local
  date) is on or before the deadline in force (the ``due_on`` of the latest event before it
  that set one: entering the state, an extension, resuming), else *missed*; cases in such a
  state now and past their deadline are *overdue now* (the overdue rule of the case lists,
  :data:`states.queries.OVERDUE_STATES`). Grouped by the case's UF, by its coordinator (the
  one it has now) or for the whole programme.

The period starts at :func:`default_since` unless the caller gives one. Every figure is one
grouped query over the whole scope (no query per case), portable between SQLite and
PostgreSQL; a territory (``ufs``, a user's UFs) restricts it in the ``WHERE`` clause.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    ColumnElement,
    Float,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, aliased

from states.errors import InvalidInput
from states.guards import share_of
from states.models import AuditEvent, Case, Municipality
from states.queries import CaseFilter, filtered
from states.records import (
    Attendance,
    CaseParticipant,
    Enrolment,
    Enterprise,
    EnterpriseMember,
    EventCase,
    TrainingEvent,
    Visit,
    session_days,
)
from states.states import ACTIVE, ALL, State
from states.territory import configured_modules
from states.text import N_

Level = Literal["programme", "uf", "module", "hub", "case"]
LEVELS: tuple[Level, ...] = get_args(Level)

#: the figures of a row, in the order reports print them
FIGURES = (
    "cases",
    "people_preregistered",
    "people_trained",
    "people_certified",
    "enterprises_formed",
    "enterprises_legalised",
    "enterprises_active",
    "enterprises_inactive",
    "members",
    "monthly_income",
)

_Key = tuple[Any, ...]


@dataclass(frozen=True)
class IndicatorRow:
    """The indicators of one group of cases (the whole programme, a UF, a hub or one case)."""

    level: Level
    #: what the row is about: {"uf": "CE"}, {"hub_municipality_code": ..., "hub": ...}, ...
    group: dict[str, Any]
    cases: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    people_preregistered: int = 0
    people_trained: int = 0
    people_certified: int = 0
    enterprises_formed: int = 0
    enterprises_legalised: int = 0
    enterprises_active: int = 0
    enterprises_inactive: int = 0
    members: int = 0
    monthly_income: Decimal = Decimal("0.00")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the group's fields, then the figures (income as a string, 2 decimals)."""
        return {
            "level": self.level,
            **self.group,
            **{name: getattr(self, name) for name in FIGURES if name != "monthly_income"},
            "monthly_income": f"{self.monthly_income:.2f}",
            "by_state": dict(self.by_state),
        }


def indicators(
    session: Session,
    by: str = "programme",
    *,
    min_attendance: float,
    uf: str | None = None,
) -> list[IndicatorRow]:
    """The indicators grouped ``by`` programme (one row), uf, hub or case, optionally of one UF.

    ``min_attendance`` is the share of an ECC's days a person must attend to be certified
    (``thresholds.min_attendance`` of the lifecycle configuration).
    """
    if by not in LEVELS:
        raise InvalidInput(
            N_(
                "unknown grouping %(by)s; use one of: %(value)s",
                by=repr(by),
                value=", ".join(LEVELS),
            ),
            field="by",
        )
    if not 0 < min_attendance <= 1:
        raise InvalidInput(
            N_(
                "min_attendance %(min_attendance)s must be above 0 and at most 1",
                min_attendance=min_attendance,
            ),
            field="min_attendance",
        )
    if uf is not None and (len(uf) != 2 or not uf.isalpha()):
        raise InvalidInput(N_("%(uf)s is not a UF (two letters, e.g. CE)", uf=repr(uf)), field="uf")
    level: Level = by  # narrowed by the check against LEVELS above
    scope = _scope(level, uf.upper() if uf else None)
    keys = [c for c in scope.c if c.name != "case_id"] if level != "case" else [scope.c.case_id]

    groups = _groups(session, level, scope, keys)
    figures: dict[str, dict[_Key, Any]] = {
        "people_preregistered": _people_preregistered(session, scope, keys),
        "people_trained": _people_trained(session, scope, keys),
        "people_certified": _people_certified(session, scope, keys, min_attendance),
        "members": _members(session, scope, keys),
    }
    by_state = _by_state(session, scope, keys)
    enterprises = _enterprises(session, scope, keys)

    rows = []
    for key, group in groups.items():
        states = by_state.get(key, {})
        formed, legalised, active, inactive, cents = enterprises.get(key, (0, 0, 0, 0, 0))
        rows.append(
            IndicatorRow(
                level=level,
                group=group,
                cases=sum(states.values()),
                by_state={s.value: states.get(s.value, 0) for s in ALL},
                people_preregistered=figures["people_preregistered"].get(key, 0),
                people_trained=figures["people_trained"].get(key, 0),
                people_certified=figures["people_certified"].get(key, 0),
                enterprises_formed=formed,
                enterprises_legalised=legalised,
                enterprises_active=active,
                enterprises_inactive=inactive,
                members=figures["members"].get(key, 0),
                monthly_income=Decimal(cents).scaleb(-2),
            )
        )
    return rows


def programme(session: Session, *, min_attendance: float, uf: str | None = None) -> IndicatorRow:
    """The whole programme (or one UF of it) as one row."""
    return indicators(session, "programme", min_attendance=min_attendance, uf=uf)[0]


def by_uf(session: Session, *, min_attendance: float, uf: str | None = None) -> list[IndicatorRow]:
    """One row per UF that has cases, in alphabetical order."""
    return indicators(session, "uf", min_attendance=min_attendance, uf=uf)


def by_hub(session: Session, *, min_attendance: float, uf: str | None = None) -> list[IndicatorRow]:
    """One row per hub (``cases.hub_municipality_code``); cases without a hub yet come last."""
    return indicators(session, "hub", min_attendance=min_attendance, uf=uf)


def by_case(
    session: Session, *, min_attendance: float, uf: str | None = None
) -> list[IndicatorRow]:
    """One row per case, by case number."""
    return indicators(session, "case", min_attendance=min_attendance, uf=uf)


# --------------------------------------------------------------------------- the queries


def _scope(level: Level, uf: str | None) -> Subquery:
    """The cases in scope (case_id) with the column(s) they are grouped by."""
    columns: list[ColumnElement[Any]] = [Case.id.label("case_id")]
    if level == "uf":
        columns.append(Municipality.uf.label("uf"))
    elif level == "module":
        columns.append(module_of_case().label("module"))
    elif level == "hub":
        columns.append(Case.hub_municipality_code.label("hub_code"))
    query = select(*columns).join(Municipality, Case.municipality_code == Municipality.ibge_code)
    if uf:
        query = query.where(Municipality.uf == uf)
    return query.subquery("scope")


def module_of_case() -> ColumnElement[Any]:
    """The regional module of a case's municipality (:mod:`states.territory`), as SQL: the
    module naming the municipality, else its UF's; NULL for none."""
    modules = configured_modules().modules
    whens: list[tuple[ColumnElement[bool], str]] = [
        (Case.municipality_code.in_(sorted(m.municipalities)), m.code)
        for m in modules
        if m.municipalities
    ]
    whens += [(Municipality.uf.in_(sorted(m.ufs)), m.code) for m in modules if m.ufs]
    if not whens:
        return null()
    return case(*whens, else_=null())


def _grouped(query: Select[Any], keys: Sequence[ColumnElement[Any]]) -> Select[Any]:
    return query.group_by(*keys) if keys else query


def _keyed(session: Session, query: Select[Any], width: int) -> dict[_Key, int]:
    """{group key: the single figure} from rows of (*key, figure)."""
    return {tuple(row[:width]): int(row[width] or 0) for row in session.execute(query)}


def _groups(
    session: Session, level: Level, scope: Subquery, keys: Sequence[ColumnElement[Any]]
) -> dict[_Key, dict[str, Any]]:
    """Every group that has a case, in display order, with the fields that name it."""
    if level == "programme":
        return {(): {}}
    if level == "uf":
        query = select(scope.c.uf).distinct().order_by(scope.c.uf)
        return {(uf,): {"uf": uf} for (uf,) in session.execute(query)}
    if level == "module":
        modules = configured_modules()
        codes = {code for (code,) in session.execute(select(scope.c.module).distinct())}
        order: list[str | None] = [m.code for m in modules.modules if m.code in codes]
        if None in codes:
            order.append(None)
        return {
            (code,): {
                "module": code,
                "module_label": module.label if (module := modules.get(code or "")) else None,
            }
            for code in order
        }
    if level == "hub":
        hub = aliased(Municipality)
        query = (
            select(scope.c.hub_code, hub.name, hub.uf)
            .outerjoin(hub, hub.ibge_code == scope.c.hub_code)
            .group_by(scope.c.hub_code, hub.name, hub.uf)
            .order_by(scope.c.hub_code.is_(None), hub.uf, hub.name, scope.c.hub_code)
        )
        return {
            (code,): {"hub_municipality_code": code, "hub": name, "hub_uf": hub_uf}
            for code, name, hub_uf in session.execute(query)
        }
    query = (
        select(
            Case.id,
            Case.state,
            Case.community,
            Case.municipality_code,
            Municipality.name,
            Municipality.uf,
            Case.hub_municipality_code,
        )
        .join(scope, scope.c.case_id == Case.id)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code)
        .order_by(Case.id)
    )
    return {
        (row.id,): {
            "case_id": row.id,
            "state": row.state,
            "community": row.community,
            "municipality_code": row.municipality_code,
            "municipality": row.name,
            "uf": row.uf,
            "hub_municipality_code": row.hub_municipality_code,
        }
        for row in session.execute(query)
    }


def _by_state(
    session: Session, scope: Subquery, keys: Sequence[ColumnElement[Any]]
) -> dict[_Key, dict[str, int]]:
    query = (
        select(*keys, Case.state, func.count())
        .select_from(scope)
        .join(Case, Case.id == scope.c.case_id)
        .group_by(*keys, Case.state)
    )
    found: dict[_Key, dict[str, int]] = {}
    width = len(keys)
    for row in session.execute(query):
        found.setdefault(tuple(row[:width]), {})[row[width]] = int(row[width + 1])
    return found


def _people_preregistered(
    session: Session, scope: Subquery, keys: Sequence[ColumnElement[Any]]
) -> dict[_Key, int]:
    query = (
        select(*keys, func.count(func.distinct(CaseParticipant.person_id)))
        .select_from(scope)
        .join(CaseParticipant, CaseParticipant.case_id == scope.c.case_id)
    )
    return _keyed(session, _grouped(query, keys), len(keys))


def _held_ecc_of_the_case(scope: Subquery) -> Select[Any]:
    """scope x its participants x the held ECCs serving the case (the people are not yet tied
    to the event: the callers join the enrolment or the attendance on both)."""
    return (
        select()
        .select_from(scope)
        .join(CaseParticipant, CaseParticipant.case_id == scope.c.case_id)
        .join(EventCase, EventCase.case_id == scope.c.case_id)
        .join(
            TrainingEvent,
            and_(
                TrainingEvent.id == EventCase.event_id,
                TrainingEvent.kind == "ecc",
                TrainingEvent.held_on.is_not(None),
            ),
        )
    )


def _people_trained(
    session: Session, scope: Subquery, keys: Sequence[ColumnElement[Any]]
) -> dict[_Key, int]:
    query = (
        _held_ecc_of_the_case(scope)
        .add_columns(*keys, func.count(func.distinct(CaseParticipant.person_id)))
        .join(
            Enrolment,
            and_(
                Enrolment.event_id == TrainingEvent.id,
                Enrolment.person_id == CaseParticipant.person_id,
            ),
        )
    )
    return _keyed(session, _grouped(query, keys), len(keys))


def needed_days(min_attendance: float, days: int) -> int:
    """Days of a ``days``-long ECC a person must attend to be certified (as the guard counts)."""
    return share_of(min_attendance, days)


def _people_certified(
    session: Session,
    scope: Subquery,
    keys: Sequence[ColumnElement[Any]],
    min_attendance: float,
) -> dict[_Key, int]:
    # Days needed per held ECC, computed as the guard computes them (ECCs are few: one row each).
    # of the days each ECC met (its session days), not of its calendar span
    needed = {
        event.id: needed_days(min_attendance, len(session_days(event)))
        for event in session.execute(
            select(TrainingEvent).where(
                TrainingEvent.kind == "ecc", TrainingEvent.held_on.is_not(None)
            )
        ).scalars()
    }
    if not needed:
        return {}
    attended = (
        select(Attendance.event_id, Attendance.person_id)
        .join(
            Enrolment,
            and_(
                Enrolment.event_id == Attendance.event_id,
                Enrolment.person_id == Attendance.person_id,
                Enrolment.certification.is_(True),
            ),
        )
        .where(Attendance.event_id.in_(list(needed)))
        .group_by(Attendance.event_id, Attendance.person_id)
        .having(func.count() >= case(needed, value=Attendance.event_id))
        .subquery("attended")
    )
    query = (
        _held_ecc_of_the_case(scope)
        .add_columns(*keys, func.count(func.distinct(CaseParticipant.person_id)))
        .join(
            attended,
            and_(
                attended.c.event_id == TrainingEvent.id,
                attended.c.person_id == CaseParticipant.person_id,
            ),
        )
    )
    return _keyed(session, _grouped(query, keys), len(keys))


def _members(
    session: Session, scope: Subquery, keys: Sequence[ColumnElement[Any]]
) -> dict[_Key, int]:
    query = (
        select(*keys, func.count(func.distinct(EnterpriseMember.person_id)))
        .select_from(scope)
        .join(Enterprise, Enterprise.case_id == scope.c.case_id)
        .join(EnterpriseMember, EnterpriseMember.enterprise_id == Enterprise.id)
        .where(EnterpriseMember.left_on.is_(None))  # members who left are no longer counted
    )
    return _keyed(session, _grouped(query, keys), len(keys))


def _last_visits() -> Subquery:
    """Each enterprise's latest visit that recorded whether it is active (ties: the latest
    recorded)."""
    ranked = (
        select(
            Visit.enterprise_id,
            Visit.active,
            Visit.monthly_income,
            func.row_number()
            .over(
                partition_by=Visit.enterprise_id,
                order_by=(Visit.visited_on.desc(), Visit.id.desc()),
            )
            .label("rank"),
        )
        .where(Visit.enterprise_id.is_not(None), Visit.active.is_not(None))
        .subquery("ranked")
    )
    return select(ranked).where(ranked.c.rank == 1).subquery("last_visit")


def _enterprises(
    session: Session, scope: Subquery, keys: Sequence[ColumnElement[Any]]
) -> dict[_Key, tuple[int, int, int, int, int]]:
    """{key: (formed, legalised, active, inactive, income in cents)}."""
    last = _last_visits()
    cents = cast(func.round(last.c.monthly_income * 100), Integer)
    query = (
        select(
            *keys,
            func.count(Enterprise.id),
            func.count(Enterprise.cnpj),
            func.sum(case((last.c.active.is_(True), 1), else_=0)),
            func.sum(case((last.c.active.is_(False), 1), else_=0)),
            func.coalesce(func.sum(cents), 0),
        )
        .select_from(scope)
        .join(Enterprise, Enterprise.case_id == scope.c.case_id)
        .outerjoin(last, last.c.enterprise_id == Enterprise.id)
    )
    width = len(keys)
    return {
        tuple(row[:width]): (
            int(row[width]),
            int(row[width + 1]),
            int(row[width + 2] or 0),
            int(row[width + 3] or 0),
            int(row[width + 4] or 0),
        )
        for row in session.execute(_grouped(query, keys))
    }


# --------------------------------------------------------------------------- from the audit trail

DeadlineGroup = Literal["programme", "uf", "coordinator"]
#: how the deadline figures may be grouped
DEADLINE_GROUPS: tuple[DeadlineGroup, ...] = get_args(DeadlineGroup)
#: the zone of the programme's calendar days (a period given as a date starts there)
PROGRAMME_ZONE = "America/Sao_Paulo"
_DEADLINE_STATES = tuple(s.value for s in ACTIVE)


def default_since(today: date) -> date:
    """The first day of the period the audit-trail figures cover by default: the last twelve
    months up to ``today``."""
    return today - timedelta(days=365)


def period_start(day: date, zone: str = PROGRAMME_ZONE) -> datetime:
    """The instant (UTC) a period starting on ``day`` starts: midnight in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


@dataclass(frozen=True)
class CycleTime:
    """How long cases stayed in one state: the median of the stays that ended in the period."""

    state: str
    median_days: float
    stays: int

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state, "median_days": self.median_days, "stays": self.stays}


@dataclass(frozen=True)
class DeadlineResult:
    """The deadlines of one group: met and missed (stays ended in the period), overdue now."""

    key: str | None  # the UF or the coordinator (None: the whole programme, or no coordinator)
    met: int
    missed: int
    overdue_now: int

    @property
    def total(self) -> int:
        return self.met + self.missed + self.overdue_now

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "met": self.met,
            "missed": self.missed,
            "overdue_now": self.overdue_now,
            "total": self.total,
        }


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _days_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    if _dialect(session) == "postgresql":
        return cast(cast(func.extract("epoch", end - start), Float) / 86400.0, Float)
    return cast(func.julianday(end) - func.julianday(start), Float)


def _json_text(session: Session, column: Any, *path: str) -> ColumnElement[str]:
    """``column`` (JSON text) -> the text at ``path`` (keys, outermost first)."""
    if _dialect(session) == "postgresql":
        return func.json_extract_path_text(cast(column, JSON), *path)
    return func.json_extract(column, "$." + ".".join(path))


def _json_has(session: Session, column: Any, *path: str) -> ColumnElement[bool]:
    """Whether ``column`` (JSON text) has the key at ``path``, even with a null value."""
    if _dialect(session) == "postgresql":
        parent = func.json_extract_path(cast(column, JSON), *path[:-1])
        return func.jsonb_exists(cast(parent, JSONB), path[-1])
    return func.json_type(column, "$." + ".".join(path)).is_not(None)


def _moves_into_a_state() -> ColumnElement[bool]:
    e = AuditEvent
    return and_(
        e.case_id.is_not(None),
        e.record_type.is_(None),
        e.to_state.is_not(None),
        or_(e.from_state.is_(None), e.from_state != e.to_state),
    )


def _checked_uf(uf: str | None) -> str | None:
    if uf is not None and (len(uf) != 2 or not uf.isalpha()):
        raise InvalidInput(N_("%(uf)s is not a UF (two letters, e.g. CE)", uf=repr(uf)), field="uf")
    return uf.upper() if uf else None


def _in_territory(query: Any, ufs: Collection[str] | None, uf: str | None) -> Any:
    """The audit events of ``query`` narrowed to the cases of ``ufs`` (None: every UF) and of
    ``uf``."""
    if ufs is None and not uf:
        return query
    query = query.join(Case, Case.id == AuditEvent.case_id).join(
        Municipality, Case.municipality_code == Municipality.ibge_code
    )
    if uf:
        query = query.where(Municipality.uf == uf)
    if ufs is not None:
        query = query.where(Municipality.uf.in_(sorted(u.upper() for u in ufs)))
    return query


def cycle_times(
    session: Session,
    *,
    ufs: Collection[str] | None = None,
    uf: str | None = None,
    since: datetime | None = None,
) -> dict[str, CycleTime]:
    """The median days of the stays in each state that ended since ``since`` (None: ever), by
    state, over the cases of the territory ``ufs`` (None: all) and of ``uf`` (see the module
    doc). States without an ended stay are left out."""
    uf = _checked_uf(uf)
    e = AuditEvent
    moves = _in_territory(
        select(
            e.to_state.label("state"),
            e.occurred_at.label("entered_at"),
            func.lead(e.occurred_at).over(partition_by=e.case_id, order_by=e.seq).label("left_at"),
        ).where(_moves_into_a_state()),
        ufs,
        uf,
    ).subquery("moves")
    ended = moves.c.left_at.is_not(None)
    if since is not None:
        ended = and_(ended, moves.c.left_at >= since)
    stays = (
        select(
            moves.c.state,
            _days_between(session, moves.c.entered_at, moves.c.left_at).label("days"),
        )
        .where(ended)
        .subquery("stays")
    )
    ranked = select(
        stays.c.state,
        stays.c.days,
        func.row_number().over(partition_by=stays.c.state, order_by=stays.c.days).label("rn"),
        func.count().over(partition_by=stays.c.state).label("n"),
    ).subquery("ranked")
    # the middle row (odd n) or the two middle rows (even n): 2·rn in [n, n + 2]
    middle = and_(ranked.c.rn * 2 >= ranked.c.n, ranked.c.rn * 2 <= ranked.c.n + 2)
    query = (
        select(ranked.c.state, func.avg(ranked.c.days), func.max(ranked.c.n))
        .where(middle)
        .group_by(ranked.c.state)
    )
    found = {
        state: CycleTime(state, float(median), int(n))
        for state, median, n in session.execute(query)
    }
    return {s.value: found[s.value] for s in ALL if s.value in found}


def deadline_results(
    session: Session,
    by: str,
    *,
    today: date,
    ufs: Collection[str] | None = None,
    uf: str | None = None,
    since: datetime | None = None,
) -> list[DeadlineResult]:
    """Deadlines met and missed (stays ended since ``since``; None: ever) and overdue now
    (on ``today``), by ``uf``, ``coordinator`` or for the whole ``programme`` (one row, key
    None), over the cases of the territory ``ufs`` (None: all) and of ``uf`` (see the module
    doc). Sorted by key, the cases without a coordinator last."""
    if by not in DEADLINE_GROUPS:
        raise InvalidInput(
            N_(
                "unknown grouping %(by)s; use one of: %(value)s",
                by=repr(by),
                value=", ".join(DEADLINE_GROUPS),
            ),
            field="by",
        )
    uf = _checked_uf(uf)
    if by == "programme":
        parts = deadline_results(session, "uf", today=today, ufs=ufs, uf=uf, since=since)
        return [
            DeadlineResult(
                None,
                sum(r.met for r in parts),
                sum(r.missed for r in parts),
                sum(r.overdue_now for r in parts),
            )
        ]
    e = AuditEvent
    sets_due = _json_has(session, e.entry, "changes", "due_on")
    history = _in_territory(
        select(
            e.seq,
            e.case_id,
            e.from_state,
            e.to_state,
            e.entry,
            e.occurred_at,
            func.max(case((sets_due, e.seq), else_=None))
            .over(partition_by=e.case_id, order_by=e.seq, rows=(None, -1))
            .label("due_seq"),
        ).where(e.case_id.is_not(None), e.record_type.is_(None)),
        ufs,
        uf,
    ).subquery("history")
    setter = aliased(AuditEvent, name="setter")
    due = _json_text(session, setter.entry, "changes", "due_on")
    left_on = _json_text(session, history.c.entry, "changes", "entered_on")
    group_column: Any = Municipality.uf if by == "uf" else Case.coordinator
    left = (
        select(
            group_column.label("key"),
            func.sum(case((left_on <= due, 1), else_=0)).label("met"),
            func.sum(case((left_on > due, 1), else_=0)).label("missed"),
        )
        .select_from(history)
        .join(setter, setter.seq == history.c.due_seq)
        .join(Case, Case.id == history.c.case_id)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code)
        .where(
            history.c.from_state.in_(_DEADLINE_STATES),
            history.c.to_state.is_not(None),
            history.c.to_state != history.c.from_state,
            history.c.to_state.not_in((State.SUSPENSA.value, State.CANCELADA.value)),
            due.is_not(None),
            left_on.is_not(None),
        )
        .group_by(group_column)
    )
    if since is not None:
        left = left.where(history.c.occurred_at >= since)
    results: dict[str | None, list[int]] = {}
    for key, met, missed in session.execute(left):
        results[key] = [int(met or 0), int(missed or 0), 0]
    territory = frozenset(u.upper() for u in ufs) if ufs is not None else None
    overdue = filtered(
        select(group_column, func.count())
        .select_from(Case)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code)
        .where(Case.state.in_(_DEADLINE_STATES)),
        CaseFilter(overdue=True, uf=uf, ufs=territory),
        today,
    ).group_by(group_column)
    for key, n in session.execute(overdue):
        results.setdefault(key, [0, 0, 0])[2] = int(n)
    return sorted(
        (DeadlineResult(key, *values) for key, values in results.items()),
        key=lambda r: (r.key is None, r.key or ""),
    )
