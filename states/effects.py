"""What an allowed event changes on the case: state, deadline, and the facts later guards read.

What each event changes is declared with the event (:attr:`states.events.EventSpec.effect`);
here is the part common to all: entering a state starts its deadline.

:func:`changes_for` is pure: it returns the new values of the case's columns. The same dict is
stored in the audit event, so a case at any past moment is rebuilt by folding its events'
changes in order (:mod:`states.history`).

Deadlines follow the municipality's working-day calendar when the caller passes it (the write
path always does): entering a state starts its deadline afresh; an extension adds the rule's
extension in the rule's kind; a suspension pauses the clock and resuming moves the deadline by
the time spent suspended, in the rule's kind; assigning a coordinator leaves it alone. Without
a calendar the arithmetic is plain days (see :mod:`states.deadlines`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from states import deadlines
from states.calendar import WorkCalendar
from states.config import LifecycleConfig
from states.events import Change, Clockwork
from states.lifecycle import EVENTS_BY_NAME, Outcome

__all__ = ["DATE_COLUMNS", "TRACKED", "Clockwork", "changes_for", "from_json", "to_json"]

#: Columns of ``cases`` that events change (and that history replays).
TRACKED = (
    "state",
    "previous_state",
    "coordinator",
    "hub_municipality_code",
    "entered_on",
    "due_on",
    "extensions_used",
    "suspended_on",
    "paused_due_on",
    "expected_resume_on",
    "rejected_on",
    "reopen_requested_by",
)
DATE_COLUMNS = frozenset(
    {"entered_on", "due_on", "suspended_on", "paused_due_on", "expected_resume_on", "rejected_on"}
)


def changes_for(
    case: Clockwork,
    outcome: Outcome,
    *,
    today: date,
    actor: str,
    config: LifecycleConfig,
    calendar: WorkCalendar | None = None,
) -> dict[str, Any]:
    """The columns an allowed event changes, with their new values.

    Entering another state starts its deadline afresh; then the event's declared effect
    (:attr:`states.events.EventSpec.effect`) adds or overrides what it changes.
    ``calendar`` is the working-day calendar of the case's municipality; ``None`` means plain
    date arithmetic (continuous days, nothing rolled forward).
    """
    spec = outcome.spec or EVENTS_BY_NAME[outcome.event]
    changes: dict[str, Any] = {}
    if outcome.to_state != outcome.from_state:
        rule = config.deadlines.get(outcome.to_state)
        changes.update(
            state=outcome.to_state,
            entered_on=today,
            extensions_used=0,
            due_on=deadlines.due_date(rule, today, calendar) if rule else None,
        )
    change = Change(
        case=case,
        event=outcome.event,
        from_state=outcome.from_state,
        to_state=outcome.to_state,
        evidence=outcome.evidence,
        today=today,
        actor=actor,
        config=config,
        calendar=calendar,
    )
    changes.update(spec.effect(change))
    return changes


def to_json(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes with dates as ISO strings, ready for the audit event."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in changes.items()}


def from_json(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes of an audit event with dates parsed back."""
    return {
        k: (date.fromisoformat(v) if k in DATE_COLUMNS and isinstance(v, str) else v)
        for k, v in changes.items()
    }
