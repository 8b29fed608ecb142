"""The working-day calendar an administrator keeps: municipal holidays, office closures, and the
year's listing.

Office closures (``office_closures``): on a day, for a UF or one municipality, an administrator
closes the programme's offices (a ponto facultativo the configuration does not close, a local
closure) or, on a ponto facultativo the configuration closes, records that they open; removing a
closure does one or the other, so the day is back to what it was. Days without office hours
move deadlines (Lei 9.784/1999 art. 66 §1); like holidays, a change counts for deadlines
computed after it.

National and state holidays come from the ``holidays`` package; municipal ones (which it does not
know) are rows of ``municipal_holidays``, added and removed here, each change audited (record
type ``holiday``, the municipality's IBGE code as the record id). A holiday counts for deadlines
computed after it is added: deadlines already set are not moved, so :func:`add_holiday` says how
many open cases of the municipality are due on that very day, for the administrator to look at.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Any

import holidays
from pydantic import Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from states import store
from states.bounds import Bounded
from states.calendar import (
    WorkCalendar,
    configured_closures,
    facultative_days,
    office_decisions,
    state_holidays,
)
from states.directory import MunicipalHoliday, OfficeClosure
from states.errors import InvalidInput, NotFound
from states.models import AuditEvent, Case, Municipality
from states.states import DEADLINE_STATES
from states.text import N_
from tasks.demands import check_actor
from tasks.records_common import audit_record, parse_input
from tasks.runtime import Runtime

#: The 26 states and the Federal District, as the ``holidays`` package knows them.
UFS = tuple(s for s in holidays.list_supported_countries()["BR"] if len(s) == 2)
#: Years a listing may ask for.
FIRST_YEAR, LAST_YEAR = 1900, 2100
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class HolidayInput(Bounded):
    """A municipal holiday, as an administrator gives it."""

    municipality_code: int
    day: date
    name: str = Field(min_length=1, max_length=200)

    @field_validator("municipality_code")
    @classmethod
    def _seven_digits(cls, value: int) -> int:
        if not 1_000_000 <= value <= 9_999_999:
            raise ValueError(f"{value} is not an IBGE municipality code (7 digits)")
        return value


@dataclass(frozen=True)
class HolidayChange:
    """What an add or a removal did."""

    municipality_code: int
    day: date
    name: str
    seq: int
    #: open cases of the municipality whose deadline is that day (their deadline does not move)
    cases_due_that_day: int


def add_holiday(
    rt: Runtime, municipality_code: int, day: date, name: str, *, actor: str
) -> HolidayChange:
    """Add a municipal holiday; refuses an unknown municipality and a day it already has."""
    check_actor(actor)
    data = parse_input(
        HolidayInput,
        {"municipality_code": municipality_code, "day": day, "name": name},
        "holiday",
    )
    with rt.db.write() as session:
        _municipality(session, data.municipality_code)
        existing = session.get(MunicipalHoliday, (data.municipality_code, data.day))
        if existing is not None:
            raise _duplicate(data.municipality_code, data.day, existing.name)
        session.add(
            MunicipalHoliday(
                municipality_code=data.municipality_code,
                day=data.day,
                name=data.name,
                created_by=actor,
                created_at=rt.clock.now(),
            )
        )
        try:
            session.flush()
        except IntegrityError:  # added meanwhile by someone else (PostgreSQL)
            raise _duplicate(data.municipality_code, data.day, None) from None
        row = _audit(
            session, rt, "holiday_added", actor, data.municipality_code, data.day, data.name
        )
        return HolidayChange(
            data.municipality_code,
            data.day,
            data.name,
            row.seq,
            _due_on(session, data.municipality_code, data.day),
        )


def remove_holiday(rt: Runtime, municipality_code: int, day: date, *, actor: str) -> HolidayChange:
    """Remove a municipal holiday (deadlines already set do not move)."""
    check_actor(actor)
    with rt.db.write() as session:
        _municipality(session, municipality_code)
        holiday = session.get(MunicipalHoliday, (municipality_code, day))
        if holiday is None:
            raise NotFound("holiday", f"on {day} in municipality {municipality_code}")
        name = holiday.name
        session.delete(holiday)
        session.flush()
        row = _audit(session, rt, "holiday_removed", actor, municipality_code, day, name)
        return HolidayChange(
            municipality_code, day, name, row.seq, _due_on(session, municipality_code, day)
        )


@dataclass(frozen=True)
class ClosureChange:
    """What closing or reopening an office on a day did."""

    day: date
    #: ``uf:CE`` or ``municipality:2311306``
    scope: str
    #: whether the offices are now closed that day
    closed: bool
    name: str
    seq: int
    #: open cases of the place whose deadline is that day (their deadline does not move)
    cases_due_that_day: int = 0


def _due_in_scope(session: Session, scope: str, day: date) -> int:
    """Open cases of the UF or municipality whose deadline is ``day``."""
    kind, _, code = scope.partition(":")
    if kind == "municipality":
        return _due_on(session, int(code), day)
    return int(
        session.execute(
            select(func.count())
            .select_from(Case)
            .join(Municipality, Municipality.ibge_code == Case.municipality_code)
            .where(Municipality.uf == code, Case.due_on == day, Case.state.in_(DEADLINE_STATES))
        ).scalar_one()
    )


def _scope(session: Session, uf: str | None, municipality: int | None) -> tuple[str, str]:
    """(scope, the UF) of a closure: one UF or one municipality, not both."""
    if (uf is None) == (municipality is None):
        raise InvalidInput(
            N_("a closure is for one UF or one municipality: give exactly one of them"),
            field="uf",
        )
    if municipality is not None:
        return f"municipality:{municipality}", _municipality(session, municipality).uf
    assert uf is not None
    code = uf.strip().upper()
    if code not in UFS:
        raise InvalidInput(
            N_("uf: unknown UF %(uf)s; UFs are two letters, e.g. CE", uf=repr(uf)), field="uf"
        )
    return f"uf:{code}", code


def _facultative_closes(session: Session, scope: str, uf: str, day: date) -> str | None:
    """The name of the ponto facultativo that closes the offices of ``scope`` on ``day`` by
    configuration (before any decision for that very scope), if one does."""
    found = facultative_days(day.year).get(day)
    if found is None or found[0] not in configured_closures():
        return None
    if scope.startswith("municipality:"):  # the UF's decision stands under the municipality's
        for decided, closed, _ in office_decisions(session, None, uf):
            if decided == day and not closed:
                return None
    return found[1]


def add_closure(
    rt: Runtime,
    day: date,
    name: str,
    *,
    uf: str | None = None,
    municipality: int | None = None,
    actor: str,
) -> ClosureChange:
    """Close the offices of a UF or municipality on ``day`` (it has no office hours there)."""
    check_actor(actor)
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput(N_("the closure needs a name of 1 to 200 characters"), field="name")
    with rt.db.write() as session:
        scope, _ = _scope(session, uf, municipality)
        row = session.get(OfficeClosure, (day, scope))
        if row is not None and row.closed:
            raise InvalidInput(
                N_(
                    "the offices of %(place)s are already closed on %(day)s (%(name)s)",
                    place=scope.partition(":")[2],
                    day=day,
                    name=row.name,
                ),
                field="day",
            )
        if row is None:
            row = OfficeClosure(day=day, scope=scope)
            session.add(row)
        row.closed, row.name, row.created_by, row.created_at = True, name, actor, rt.clock.now()
        session.flush()
        audit = _closure_audit(session, rt, "office_closed", actor, scope, day, name)
        return ClosureChange(day, scope, True, name, audit.seq, _due_in_scope(session, scope, day))


def remove_closure(
    rt: Runtime,
    day: date,
    *,
    uf: str | None = None,
    municipality: int | None = None,
    actor: str,
) -> ClosureChange:
    """Remove the closure of a UF's or municipality's offices on ``day``: an administrator's
    closure is removed; on a ponto facultativo the configuration closes, the offices are
    recorded as open that day. Refused when the offices are not closed that day."""
    check_actor(actor)
    with rt.db.write() as session:
        scope, state = _scope(session, uf, municipality)
        row = session.get(OfficeClosure, (day, scope))
        facultative = _facultative_closes(session, scope, state, day)
        if row is not None and row.closed:
            name = row.name
            if facultative is None:
                session.delete(row)
            else:  # the ponto facultativo would close it again: record the office open
                row.closed, row.name = False, facultative
                row.created_by, row.created_at = actor, rt.clock.now()
        elif row is None and facultative is not None:
            name = facultative
            session.add(
                OfficeClosure(
                    day=day,
                    scope=scope,
                    closed=False,
                    name=facultative,
                    created_by=actor,
                    created_at=rt.clock.now(),
                )
            )
        else:
            raise NotFound("closure", f"{scope} {day}")
        session.flush()
        audit = _closure_audit(session, rt, "office_reopened", actor, scope, day, name)
        return ClosureChange(day, scope, False, name, audit.seq)


def _closure_audit(
    session: Session, rt: Runtime, event: str, actor: str, scope: str, day: date, name: str
) -> AuditEvent:
    kind, _, code = scope.partition(":")
    # a UF by its IBGE code: the first two digits of its municipalities' codes
    record_id = int(code) if kind == "municipality" else _uf_code(session, code)
    return audit_record(
        session,
        rt,
        event=event,
        actor=actor,
        record_type="closure",
        record_id=record_id,
        case=None,
        evidence={"scope": scope, "day": day.isoformat(), "name": name},
    )


def _uf_code(session: Session, uf: str) -> int:
    any_code = session.execute(
        select(Municipality.ibge_code).where(Municipality.uf == uf).limit(1)
    ).scalar_one_or_none()
    return any_code // 100_000 if any_code is not None else 0


def calendar_listing(
    rt: Runtime, uf: str, year: int, municipality: int | None = None
) -> dict[str, Any]:
    """The year's calendar of a UF (and of one of its municipalities): holidays, working days.

    ``holidays`` lists each national, state and (with ``municipality``) municipal holiday with
    its name and scope, by date, and the days the offices close (scope ``closure``: the
    pontos facultativos configured to close them, an administrator's closures, less the days
    recorded open); ``months`` the working days of each month (Monday to Friday, less every
    day listed).
    """
    uf = uf.strip().upper()
    if uf not in UFS:
        raise InvalidInput(
            N_("uf: unknown UF %(uf)s; UFs are two letters, e.g. CE", uf=repr(uf)), field="uf"
        )
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            N_(
                "year: %(year)s is not between %(FIRST_YEAR)s and %(LAST_YEAR)s",
                year=year,
                FIRST_YEAR=FIRST_YEAR,
                LAST_YEAR=LAST_YEAR,
            ),
            field="year",
        )
    place: dict[str, Any] | None = None
    municipal: list[tuple[date, str]] = []
    if municipality is not None:
        with rt.db.read() as session:
            found = _municipality(session, municipality)
            if found.uf != uf:
                raise InvalidInput(
                    N_(
                        "municipality %(municipality)s (%(name)s) is in %(uf)s, not in %(uf2)s",
                        municipality=municipality,
                        name=found.name,
                        uf=found.uf,
                        uf2=uf,
                    ),
                    field="municipality",
                )
            place = {"code": found.ibge_code, "name": found.name, "uf": found.uf}
            municipal = [
                (d, n)
                for d, n in session.execute(
                    select(MunicipalHoliday.day, MunicipalHoliday.name)
                    .where(
                        MunicipalHoliday.municipality_code == municipality,
                        MunicipalHoliday.day >= date(year, 1, 1),
                        MunicipalHoliday.day <= date(year, 12, 31),
                    )
                    .order_by(MunicipalHoliday.day)
                ).all()
            ]
    with rt.db.read() as session:
        decisions = [
            d
            for d in office_decisions(session, municipality, uf)
            if d[0].year == year  # the UF's, and the municipality's over them
        ]
    calendar = WorkCalendar(uf, municipal, decisions=decisions)
    national = holidays.country_holidays("BR", years=year, language="pt_BR")
    scopes = ("national", "state", "municipal", "closure")
    named = state_holidays(uf, year)
    closures = [
        (day, "closure", name)
        for day in sorted({*facultative_days(year), *(d for d, _, _ in decisions)})
        if day not in named
        and day not in dict(municipal)
        and (name := calendar.closure(day)) is not None
    ]
    listed: list[tuple[date, str, str]] = sorted(
        [(day, "national" if day in national else "state", name) for day, name in named.items()]
        + [(day, "municipal", name) for day, name in municipal]
        + closures,
        key=lambda h: (h[0], scopes.index(h[1])),
    )
    months = [
        {
            "month": f"{year}-{month:02d}",
            "working_days": sum(
                calendar.is_working_day(date(year, month, d))
                for d in range(1, monthrange(year, month)[1] + 1)
            ),
        }
        for month in range(1, 13)
    ]
    return {
        "uf": uf,
        "year": year,
        "municipality": place,
        "holidays": [
            {
                "date": day.isoformat(),
                "weekday": WEEKDAYS[day.weekday()],
                "scope": scope,
                "name": name,
            }
            for day, scope, name in listed
        ],
        "months": months,
        "working_days": sum(m["working_days"] for m in months),
    }


def _municipality(session: Session, code: int) -> Municipality:
    found = store.get_municipality(session, code)
    if found is None:
        raise InvalidInput(
            N_("municipality %(code)s is not in IBGE's list of municipalities", code=code),
            field="municipality_code",
        )
    return found


def _duplicate(code: int, day: date, name: str | None) -> InvalidInput:
    named = f" ({name})" if name else ""
    return InvalidInput(
        N_(
            "municipality %(code)s already has a holiday on %(day)s%(named)s",
            code=code,
            day=day,
            named=named,
        ),
        field="day",
    )


def _due_on(session: Session, code: int, day: date) -> int:
    """Open cases of the municipality whose deadline is ``day``."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Case)
            .where(
                Case.municipality_code == code,
                Case.due_on == day,
                Case.state.in_(DEADLINE_STATES),
            )
        ).scalar_one()
    )


def _audit(
    session: Session, rt: Runtime, event: str, actor: str, code: int, day: date, name: str
) -> AuditEvent:
    return audit_record(
        session,
        rt,
        event=event,
        actor=actor,
        record_type="holiday",
        record_id=code,
        case=None,
        evidence={"municipality_code": code, "day": day.isoformat(), "name": name},
    )
