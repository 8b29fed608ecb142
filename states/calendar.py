"""Working days: national and state holidays (the ``holidays`` package, names in pt-BR), the
federal executive's *pontos facultativos* on which the programme's offices close, and the
municipal holidays and office closures an administrator keeps, for one municipality.

Days without office hours (Lei 9.784/1999 art. 66 §1) include the pontos facultativos the
federal executive adopts each year; the ``holidays`` package lists them (Brazil's ``optional``
category). Which of them close the offices is :class:`CalendarSettings`
(``PRODUZIR_OFFICE_CLOSURES``, default the two Carnaval days and Corpus Christi); an
administrator closes or opens the offices of a UF or municipality on a given day
(``office_closures``: a municipality's decision wins over its UF's, both over the setting).

A :class:`WorkCalendar` answers whether a day is a working day, rolls a day forward to the next
working day, and adds working days. :func:`calendar_for` gives the one of a municipality: built from
the database once, then kept per database and municipality (:class:`CalendarCache`) until a
holiday or closure changes (the ``calendar_generation`` row the database's triggers move); the
state holidays are cached per UF and year.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from states.directory import CalendarGeneration, MunicipalHoliday, OfficeClosure
from states.models import Municipality
from states.settings import PREFIX, BadSetting, load
from states.text import N_

_MAX_SCAN = 366  # no run of non-working days is longer than this

#: The federal pontos facultativos, by the English name the ``holidays`` package gives them
#: (its Brazil ``optional`` category), and the key the configuration names them by.
FACULTATIVE_KEYS = {
    "Carnival": "carnaval",
    "Ash Wednesday": "quarta_feira_de_cinzas",
    "Corpus Christi": "corpus_christi",
    "Public Servant's Day": "dia_do_servidor_publico",
    "Christmas Eve": "vespera_de_natal",
    "New Year's Eve": "vespera_de_ano_novo",
}
#: The pontos facultativos that close the offices unless configured otherwise.
DEFAULT_CLOSURES = ("carnaval", "corpus_christi")


class CalendarSettings(BaseSettings):
    """Which pontos facultativos close the programme's offices."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    office_closures: str = Field(
        default=",".join(DEFAULT_CLOSURES),
        description="The federal pontos facultativos on which the offices close, separated by "
        "commas (carnaval, quarta_feira_de_cinzas, corpus_christi, dia_do_servidor_publico, "
        "vespera_de_natal, vespera_de_ano_novo), or `none`.",
    )

    @field_validator("office_closures")
    @classmethod
    def _known(cls, value: str) -> str:
        unknown = [k for k in _keys(value) if k not in FACULTATIVE_KEYS.values()]
        if unknown:
            raise BadSetting(
                N_(
                    "%(value)s is not a ponto facultativo; they are: %(choices)s",
                    value=repr(unknown[0]),
                    choices=", ".join(FACULTATIVE_KEYS.values()),
                )
            )
        return value

    def closures(self) -> frozenset[str]:
        return frozenset(_keys(self.office_closures))


def _keys(value: str) -> list[str]:
    keys = [k.strip().lower() for k in value.split(",") if k.strip()]
    return [] if keys == ["none"] else keys


@lru_cache(maxsize=1)
def configured_closures() -> frozenset[str]:
    """The pontos facultativos that close the offices (``PRODUZIR_OFFICE_CLOSURES``), read once;
    a wrong value raises InvalidInput naming the variable."""
    return load(CalendarSettings).closures()


@lru_cache(maxsize=64)
def facultative_days(year: int) -> dict[date, tuple[str, str]]:
    """The federal pontos facultativos of ``year``: day -> (key, name in pt-BR)."""
    import holidays  # loaded by the first call (see state_holidays)

    english = holidays.country_holidays("BR", years=year, categories=("optional",))
    names = holidays.country_holidays("BR", years=year, categories=("optional",), language="pt_BR")
    found: dict[date, tuple[str, str]] = {}
    for day, name in english.items():
        for part in name.split(";"):
            key = FACULTATIVE_KEYS.get(part.strip())
            if key is not None:
                found[day] = (key, names.get(day, name))
                break
    return found


@lru_cache(maxsize=512)
def state_holidays(uf: str, year: int) -> dict[date, str]:
    """National and state holidays of ``uf`` in ``year``, names in pt-BR. (``holidays`` is
    imported by the first call: a command that counts no working day does not load it.)"""
    import holidays

    return dict(holidays.country_holidays("BR", subdiv=uf, years=year, language="pt_BR").items())


class WorkCalendar:
    """Working days of one place: Monday to Friday, less national, state and municipal holidays
    and the days its offices close (pontos facultativos, an administrator's closures).

    ``closures`` are the pontos facultativos (keys of :data:`FACULTATIVE_KEYS`) that close the
    offices (default: the configured ones); ``decisions`` an administrator's days, closed
    (True, with a name) or open (False) whatever the pontos facultativos say. A calendar
    without a UF (:data:`WEEKENDS_ONLY`) knows weekends only.
    """

    def __init__(
        self,
        uf: str | None,
        municipal: Iterable[tuple[date, str]] = (),
        *,
        closures: frozenset[str] | None = None,
        decisions: Iterable[tuple[date, bool, str]] = (),
    ) -> None:
        self.uf = uf
        self.municipal = dict(municipal)
        self.closures = (
            (configured_closures() if uf is not None else frozenset())
            if closures is None
            else closures
        )
        self.decisions = {day: (closed, name) for day, closed, name in decisions}

    def holiday(self, day: date) -> str | None:
        """The holiday's (or closure's) name, if ``day`` has no office hours for it."""
        if day in self.municipal:
            return self.municipal[day]
        if self.uf is None:
            return None
        found = state_holidays(self.uf, day.year).get(day)
        if found is not None:
            return found
        return self.closure(day)

    def closure(self, day: date) -> str | None:
        """The name of the office closure on ``day`` (a ponto facultativo that closes the
        offices, or an administrator's closure), if there is one."""
        if day in self.decisions:
            closed, name = self.decisions[day]
            return name if closed else None
        facultative = facultative_days(day.year).get(day)
        if facultative is not None and facultative[0] in self.closures:
            return facultative[1]
        return None

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


_GENERATION = select(CalendarGeneration.n).where(CalendarGeneration.id == 1)
#: the generation as a column of another query (the write path's case load reads it so)
GENERATION_COLUMN = _GENERATION.scalar_subquery()


def read_generation(session: Session) -> int:
    """The calendar tables' generation (:class:`~states.directory.CalendarGeneration`): it
    takes a new value whenever a municipal holiday or an office closure is added, changed or removed."""
    return int(session.execute(_GENERATION).scalar_one())


class CalendarCache:
    """The calendars of one database, per municipality, valid for one generation.

    A calendar asked for under another generation than the one the cache holds empties the
    cache first: a holiday or closure an administrator adds (in any process: the generation is
    a row the database's triggers move) is seen by the next deadline computed. The configured
    pontos facultativos are part of the key (a test or a restart may change them). The state
    holidays of each UF and year are cached beneath it (:func:`state_holidays`).
    """

    def __init__(self) -> None:
        self._generation: int | None = None
        self._found: dict[tuple[int, str | None, frozenset[str]], WorkCalendar] = {}
        self._lock = threading.Lock()

    def get(
        self, session: Session, municipality_code: int, uf: str | None, generation: int
    ) -> WorkCalendar:
        key = (municipality_code, uf, configured_closures())
        with self._lock:
            if generation != self._generation:
                self._found.clear()
                self._generation = generation
            found = self._found.get(key)
        if found is None:
            found = _build(session, municipality_code, uf)
            with self._lock:
                if generation == self._generation:
                    self._found[key] = found
        return found


_CACHES: weakref.WeakKeyDictionary[object, CalendarCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_of(session: Session) -> CalendarCache:
    """The calendar cache of the database ``session`` is bound to (one per engine)."""
    bind = session.get_bind()
    with _CACHES_LOCK:
        found = _CACHES.get(bind)
        if found is None:
            found = _CACHES[bind] = CalendarCache()
    return found


def calendar_for(
    session: Session,
    municipality_code: int,
    uf: str | None = None,
    *,
    generation: int | None = None,
) -> WorkCalendar:
    """The working-day calendar of a municipality (its UF's holidays and its own, the
    configured pontos facultativos, and the closures an administrator decided for the UF or the
    municipality; the municipality's decision wins).

    Served from the database's :class:`CalendarCache` while the calendar tables' generation
    stays the same. Give ``uf`` when the caller already has it, and ``generation`` when it read
    it already (the write path reads it with the case: no query at all on a hit).
    """
    if uf is None:
        uf = session.execute(
            select(Municipality.uf).where(Municipality.ibge_code == municipality_code)
        ).scalar_one_or_none()
    if generation is None:
        generation = read_generation(session)
    return cache_of(session).get(session, municipality_code, uf, generation)


def _build(session: Session, municipality_code: int, uf: str | None) -> WorkCalendar:
    """The calendar of a municipality, read from the database."""
    municipal = session.execute(
        select(MunicipalHoliday.day, MunicipalHoliday.name).where(
            MunicipalHoliday.municipality_code == municipality_code
        )
    ).all()
    return WorkCalendar(
        uf,
        ((d, n) for d, n in municipal),
        decisions=office_decisions(session, municipality_code, uf),
    )


def office_decisions(
    session: Session, municipality_code: int | None, uf: str | None
) -> list[tuple[date, bool, str]]:
    """An administrator's closures and openings for the municipality (or only the UF, without
    one): the municipality's decision on a day wins over its UF's."""
    scopes = []
    if uf:
        scopes.append(f"uf:{uf}")
    if municipality_code:
        scopes.append(f"municipality:{municipality_code}")
    if not scopes:
        return []
    rows = session.execute(
        select(
            OfficeClosure.day, OfficeClosure.scope, OfficeClosure.closed, OfficeClosure.name
        ).where(OfficeClosure.scope.in_(scopes))
    ).all()
    decided: dict[date, tuple[bool, str]] = {}
    # the UF's rows first, so that the municipality's overwrite them
    for day, _, closed, name in sorted(rows, key=lambda r: r[1].startswith("municipality:")):
        decided[day] = (closed, name)
    return [(day, closed, name) for day, (closed, name) in decided.items()]
