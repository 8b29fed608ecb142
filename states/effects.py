"""What an allowed event changes on the case: state, deadline, and the facts later guards read.

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

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from states import deadlines
from states import evidence as ev
from states.calendar import WorkCalendar
from states.config import CONTINUOUS, LifecycleConfig
from states.lifecycle import Outcome
from states.states import State

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


@dataclass(frozen=True)
class Clockwork:
    """The tracked columns of a case, as the effects read them."""

    state: str
    previous_state: str | None
    entered_on: date
    due_on: date | None
    extensions_used: int
    suspended_on: date | None
    paused_due_on: date | None


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

    ``calendar`` is the working-day calendar of the case's municipality; ``None`` means plain
    date arithmetic (continuous days, nothing rolled forward).
    """
    event, source, dest, evidence = (
        outcome.event,
        outcome.from_state,
        outcome.to_state,
        outcome.evidence,
    )
    changes: dict[str, Any] = {}
    if dest != source:
        changes.update(state=dest, entered_on=today, extensions_used=0)
        rule = config.deadlines.get(dest)
        changes["due_on"] = deadlines.due_date(rule, today, calendar) if rule else None

    if event == "prorrogar":
        rule = config.deadlines[source]
        assert case.due_on is not None
        changes.update(
            due_on=deadlines.extended(rule, case.due_on, calendar),
            extensions_used=case.extensions_used + 1,
        )
    elif event == "suspender":
        assert isinstance(evidence, ev.Suspension)
        changes.update(
            previous_state=source,
            entered_on=case.entered_on,
            extensions_used=case.extensions_used,
            suspended_on=today,
            paused_due_on=case.due_on,
            expected_resume_on=evidence.expected_resume_on,
            due_on=evidence.expected_resume_on,
        )
    elif event == "retomar":
        assert case.suspended_on is not None
        paused = today - case.suspended_on
        back = config.deadlines.get(dest)  # the rule of the state the case returns to
        changes.update(
            previous_state=None,
            entered_on=case.entered_on + paused,
            extensions_used=case.extensions_used,
            due_on=deadlines.resumed(
                case.paused_due_on,
                case.suspended_on,
                today,
                calendar,
                kind=back.kind if back else CONTINUOUS,
            ),
            suspended_on=None,
            paused_due_on=None,
            expected_resume_on=None,
        )
    elif event == "indeferir":
        assert isinstance(evidence, ev.Rejection)
        # The appeal window ends on a working day (Lei 9.784/1999 art. 66 §1); the guard
        # `appeal_in_time` reads this deadline.
        closes = evidence.decided_on + timedelta(days=config.thresholds.appeal_days)
        changes.update(
            rejected_on=evidence.decided_on,
            due_on=calendar.roll_forward(closes) if calendar else closes,
        )
    elif event == "arquivar":
        changes["previous_state"] = source
    elif event == "recorrer":
        changes["rejected_on"] = None
    elif event == "cancelar":
        left = case.previous_state if source == State.SUSPENSA.value else source
        changes.update(
            previous_state=left,
            suspended_on=None,
            paused_due_on=None,
            expected_resume_on=None,
        )
    elif event == "concluir_avaliacao":
        changes["previous_state"] = source
    elif event == "solicitar_reabertura":
        changes["reopen_requested_by"] = actor
    elif event == "recusar_reabertura":
        changes["reopen_requested_by"] = None
    elif event == "aprovar_reabertura":
        changes.update(previous_state=None, reopen_requested_by=None)
        if dest == State.INDEFERIDA.value:
            changes["due_on"] = None
    elif event == "formalizar_polo":
        assert isinstance(evidence, ev.HubDecision)
        changes["hub_municipality_code"] = evidence.hub_municipality_code
    elif event == "atribuir":
        assert isinstance(evidence, ev.Assignment)
        changes["coordinator"] = evidence.coordinator
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
