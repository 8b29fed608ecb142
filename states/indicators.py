"""The programme's indicators, per programme, UF, hub or case: one query layer for the console,
the web and the reports.

Each row counts, over the cases in its group:

- ``cases`` and ``by_state``: the demands, in total and per lifecycle state (every state listed);
- ``people_preregistered``: people pre-registered in the cases;
- ``people_trained``: of those, the people enrolled in a *held* ECC that serves their case;
- ``people_certified``: of those, the people enrolled for certification who attended at least
  ``ceil(min_attendance × the ECC's days)`` days of it (the ECC guard's rule);
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

Every figure is one grouped query over the whole scope (no query per case), portable between
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from states.errors import InvalidInput
from states.guards import share_of
from states.models import Case, Municipality
from states.records import (
    Attendance,
    CaseParticipant,
    Enrolment,
    Enterprise,
    EnterpriseMember,
    EventCase,
    TrainingEvent,
    Visit,
)
from states.states import ALL
from states.text import N_

Level = Literal["programme", "uf", "hub", "case"]
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
    elif level == "hub":
        columns.append(Case.hub_municipality_code.label("hub_code"))
    query = select(*columns).join(Municipality, Case.municipality_code == Municipality.ibge_code)
    if uf:
        query = query.where(Municipality.uf == uf)
    return query.subquery("scope")


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
    needed = {
        event_id: needed_days(min_attendance, (end_on - start_on).days + 1)
        for event_id, start_on, end_on in session.execute(
            select(TrainingEvent.id, TrainingEvent.start_on, TrainingEvent.end_on).where(
                TrainingEvent.kind == "ecc", TrainingEvent.held_on.is_not(None)
            )
        )
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
