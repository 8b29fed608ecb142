"""Deadline arithmetic, in one place: when a state's deadline falls, extensions, suspensions.

Deadlines are calendar dates in the case's municipality's time zone. For now a rule counts
continuous days (or calendar months) from the day the case entered the state; the working-day
calendar arrives with the deadline sweeps and plugs in here.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from states.config import DeadlineRule


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar date of ``instant`` in ``timezone`` (an IANA name)."""
    return instant.astimezone(ZoneInfo(timezone)).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months; the 31st becomes the month's last day."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(rule: DeadlineRule, entered_on: date) -> date:
    """The deadline of a state entered on ``entered_on``."""
    if rule.months is not None:
        return add_months(entered_on, rule.months)
    assert rule.days is not None
    return entered_on + timedelta(days=rule.days)


def extended(rule: DeadlineRule, due_on: date) -> date:
    """The deadline after one extension."""
    return due_on + timedelta(days=rule.extension_days)


def resumed(paused_due_on: date | None, suspended_on: date, resumed_on: date) -> date | None:
    """The deadline after a suspension: moved by the days the case spent suspended."""
    if paused_due_on is None:
        return None
    return paused_due_on + (resumed_on - suspended_on)
