"""Deadline arithmetic, in one place: when a state's deadline falls, extensions, suspensions.

Deadlines are calendar dates in the case's municipality's time zone (:func:`local_date`),
counted from the day after the case entered the state. A rule (:class:`DeadlineRule`) counts
either

- continuous days, or calendar months: a deadline that ends on a non-working day moves to the
  next working day (Lei 9.784/1999, art. 66 §1); or
- working days: only the days the municipality's :class:`WorkCalendar` calls working days.

Each function takes the municipality's calendar. Without one (``calendar=None``) it does plain
date arithmetic: continuous days and months, nothing rolled forward, whatever the rule's kind;
that is what callers that know no place (unit tests, replays of old events) get.
"""

from __future__ import annotations

import calendar as _months
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from states.calendar import WorkCalendar
from states.config import CONTINUOUS, WORKING, DeadlineKind, DeadlineRule


def local_date(instant: datetime, timezone: str) -> date:
    """The calendar date of ``instant`` in ``timezone`` (an IANA name)."""
    return instant.astimezone(ZoneInfo(timezone)).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months; the 31st becomes the month's last day."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def add_days(
    day: date, days: int, kind: DeadlineKind, calendar: WorkCalendar | None = None
) -> date:
    """``days`` after ``day``, counted in ``kind``, on ``calendar`` (plain days without one).

    Continuous days end on the next working day if they end on a non-working one; working days
    end on the ``days``-th working day after ``day``.
    """
    if calendar is None:
        return day + timedelta(days=days)
    if kind == WORKING:
        return calendar.add_working_days(day, days)
    return calendar.roll_forward(day + timedelta(days=days))


def due_date(rule: DeadlineRule, entered_on: date, calendar: WorkCalendar | None = None) -> date:
    """The deadline of a state entered on ``entered_on``."""
    if rule.months is not None:
        due = add_months(entered_on, rule.months)
        return calendar.roll_forward(due) if calendar is not None else due
    assert rule.days is not None
    return add_days(entered_on, rule.days, rule.kind, calendar)


def extended(rule: DeadlineRule, due_on: date, calendar: WorkCalendar | None = None) -> date:
    """The deadline after one extension: ``extension_days`` more, in the rule's kind."""
    return add_days(due_on, rule.extension_days, rule.kind, calendar)


def resumed(
    paused_due_on: date | None,
    suspended_on: date,
    resumed_on: date,
    calendar: WorkCalendar | None = None,
    *,
    kind: DeadlineKind = CONTINUOUS,
) -> date | None:
    """The deadline after a suspension: moved by the time the case spent suspended.

    Continuous: by the calendar days between suspension and resumption, then rolled forward.
    Working days: by the working days that passed while suspended (the days a working-day clock
    would have counted). Without a calendar: by the calendar days, nothing rolled.
    """
    if paused_due_on is None:
        return None
    if calendar is not None and kind == WORKING:
        elapsed = calendar.working_days_between(suspended_on, resumed_on)
        return calendar.add_working_days(paused_due_on, elapsed)
    return add_days(paused_due_on, (resumed_on - suspended_on).days, CONTINUOUS, calendar)
