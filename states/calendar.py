"""Working days: national and state holidays (the ``holidays`` package, names in pt-BR) plus
the municipal holidays an administrator keeps, for one municipality.

A :class:`WorkCalendar` answers whether a day is a working day, rolls a day forward to the next
working day, and adds working days. :func:`calendar_for` builds the one of a municipality from
the database; calendars are cheap and cached per UF and year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from states.directory import MunicipalHoliday
from states.models import Municipality

_MAX_SCAN = 366  # no run of non-working days is longer than this


@lru_cache(maxsize=512)
def state_holidays(uf: str, year: int) -> dict[date, str]:
    """National and state holidays of ``uf`` in ``year``, names in pt-BR. (``holidays`` is
    imported by the first call: a command that counts no working day does not load it.)"""
    import holidays

    return dict(holidays.country_holidays("BR", subdiv=uf, years=year, language="pt_BR").items())


class WorkCalendar:
    """Working days of one place: Monday to Friday, less national, state and municipal holidays."""

    def __init__(self, uf: str | None, municipal: Iterable[tuple[date, str]] = ()) -> None:
        self.uf = uf
        self.municipal = dict(municipal)

    def holiday(self, day: date) -> str | None:
        """The holiday's name, if ``day`` is one."""
        if day in self.municipal:
            return self.municipal[day]
        if self.uf is None:
            return None
        return state_holidays(self.uf, day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday(day) is None

    def roll_forward(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next working day (Lei 9.784/1999)."""
        for _ in range(_MAX_SCAN):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError(f"no working day within {_MAX_SCAN} days of {day}")

    def add_working_days(self, day: date, count: int) -> date:
        """The working day ``count`` working days after (or before, if negative) ``day``."""
        step = timedelta(days=1 if count >= 0 else -1)
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many a clock counting working days advanced."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


#: A calendar with weekends only: for arithmetic that must not depend on a place.
WEEKENDS_ONLY = WorkCalendar(None)


def calendar_for(session: Session, municipality_code: int, uf: str | None = None) -> WorkCalendar:
    """The working-day calendar of a municipality (its UF's holidays and its own).

    Give ``uf`` when the caller already has it (one query fewer on the write path).
    """
    if uf is None:
        uf = session.execute(
            select(Municipality.uf).where(Municipality.ibge_code == municipality_code)
        ).scalar_one_or_none()
    municipal = session.execute(
        select(MunicipalHoliday.day, MunicipalHoliday.name).where(
            MunicipalHoliday.municipality_code == municipality_code
        )
    ).all()
    return WorkCalendar(uf, ((d, n) for d, n in municipal))
