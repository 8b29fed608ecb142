"""Dated obligations: one concept for every dated duty of a case.

A registry filing due 30 days after the founding assembly, a correction due 30 days after a
registry's request, a follow-up visit every 90 days, each commitment of the Protocol of
Integrated Actions, the 6- and 12-month surveys of the participants. Each row: case, kind, the record it concerns, due date, and when and by
which record it was satisfied. The deadline sweep reads open rows beside each state's deadline.

The follow-up visits follow the rule the ``acompanhamento`` guard checks: counted from the day
the case entered follow-up, then from the latest visit in the period, a visit is due every
``visit_interval_days`` while the period (``follow_up_months``) has not been covered. When the
latest visit already covers the rest of the period, no visit obligation stays open.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications.codes import obligation_text
from states.audit import iso_utc
from states.calendar import calendar_for
from states.config import Thresholds
from states.deadlines import add_months
from states.errors import InvalidInput, NotFound
from states.models import Case
from states.records import Obligation, Visit
from states.states import CLOSED, State
from states.text import N_
from tasks.runtime import Runtime

REGISTRY_FILING = "registry_filing"
REGISTRY_CORRECTION = "registry_correction"
FOLLOW_UP_VISIT = "follow_up_visit"
PROTOCOL_COMMITMENT = "protocol_commitment"
#: the 6- and 12-month surveys of a case's participants (tasks/surveys.py)
SURVEY_WAVE = "survey_wave"
#: a programme target, not a legal deadline: filing at the RCPJ (no law sets one)
REGISTRY_FILING_TARGET = "registry_filing_target"
#: a MEI whose reported revenue passed the cap must leave the MEI (LC 123/2006 art. 18-A §7 III)
MEI_REVENUE_CAP = "mei_revenue_cap"
#: a cooperative below its legal minimum of members must restore it (Lei 5.764/1971 art. 63 IV)
MEMBERSHIP_MINIMUM = "membership_minimum"
KINDS = (
    REGISTRY_FILING,
    REGISTRY_CORRECTION,
    FOLLOW_UP_VISIT,
    PROTOCOL_COMMITMENT,
    SURVEY_WAVE,
    REGISTRY_FILING_TARGET,
    MEI_REVENUE_CAP,
    MEMBERSHIP_MINIMUM,
)
#: the kinds that are the programme's own targets, not duties the law sets
TARGETS = frozenset({REGISTRY_FILING_TARGET})
_CLOSED = frozenset(s.value for s in CLOSED)


def open_obligation(
    session: Session,
    rt: Runtime,
    *,
    case_id: int,
    kind: str,
    due_on: date,
    params: dict[str, Any],
    record_type: str | None = None,
    record_id: int | None = None,
    working_days: bool = False,
) -> Obligation:
    """Open an obligation of ``kind`` with the parameters its sentence takes
    (:data:`notifications.codes.OBLIGATION_TEXTS`); ``description`` keeps the English.

    ``due_on`` is the day its rule gives, counted in continuous days: a day without office
    hours in the case's municipality moves it to the next working day (Lei 9.784/1999 art. 66
    §1), as state deadlines do. A rule counted in ``working_days`` already ends on one.
    """
    row = Obligation(
        case_id=case_id,
        kind=kind,
        due_on=due_on if working_days else ends_on_working_day(session, case_id, due_on),
        params=params,
        description=obligation_text(kind, params, kind).english()[:300],
        record_type=record_type,
        record_id=record_id,
        created_at=rt.clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def ends_on_working_day(session: Session, case_id: int, day: date) -> date:
    """``day``, or the next working day of the case's municipality when it has no office hours
    (Lei 9.784/1999 art. 66 §1: a Saturday 2027-01-02 becomes Monday 2027-01-04)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    return calendar_for(session, case.municipality_code).roll_forward(day)


def last_working_day_of_next_month(session: Session, case_id: int, day: date) -> date:
    """The last working day of the month after ``day``'s, in the case's municipality (LC
    123/2006 art. 18-A §7 III: "até o último dia útil do mês subsequente")."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    calendar = calendar_for(session, case.municipality_code)
    first_after = add_months(day.replace(day=1), 2)
    last = first_after - timedelta(days=1)
    while not calendar.is_working_day(last):
        last -= timedelta(days=1)
    return last


def open_of(
    session: Session,
    *,
    case_id: int,
    kind: str,
    record_type: str | None = None,
    record_id: int | None = None,
) -> list[Obligation]:
    """The open obligations of that kind (and record) of the case, earliest due first."""
    query = (
        select(Obligation)
        .where(
            Obligation.case_id == case_id,
            Obligation.kind == kind,
            Obligation.satisfied_on.is_(None),
        )
        .order_by(Obligation.due_on, Obligation.id)
    )
    if record_type is not None:
        query = query.where(
            Obligation.record_type == record_type, Obligation.record_id == record_id
        )
    return list(session.execute(query).scalars())


def satisfy(
    session: Session,
    *,
    case_id: int,
    kind: str,
    on: date,
    by: str,
    record_type: str | None = None,
    record_id: int | None = None,
) -> list[Obligation]:
    """Mark the open obligations of that kind (and record) satisfied; the ones it closed."""
    rows = open_of(
        session, case_id=case_id, kind=kind, record_type=record_type, record_id=record_id
    )
    for row in rows:
        row.satisfied_on = on
        row.satisfied_by = by
    session.flush()
    return rows


# ------------------------------------------------------------------------ follow-up visits


def follow_up_period(rt: Runtime, case: Case) -> tuple[date, date]:
    """The follow-up period of a case in (or last in) ``acompanhamento``: [start, end)."""
    start = case.entered_on
    return start, add_months(start, thresholds_of(rt, case).follow_up_months)


def _latest_visit(
    session: Session, case_id: int, start: date, end: date, *, excluding: int | None = None
) -> date | None:
    query = select(func.max(Visit.visited_on)).where(
        Visit.case_id == case_id, Visit.visited_on >= start, Visit.visited_on < end
    )
    if excluding is not None:
        query = query.where(Visit.id != excluding)
    latest: date | None = session.execute(query).scalar_one()
    return latest


def thresholds_of(rt: Runtime, case: Case) -> Thresholds:
    """The thresholds of the lifecycle version the case runs under."""
    return rt.lifecycle_for(case.lifecycle_version).config.thresholds


def _visit_params(rt: Runtime, case: Case) -> dict[str, Any]:
    return {"interval": thresholds_of(rt, case).visit_interval_days}


def _next_due(rt: Runtime, case: Case, base: date, end: date) -> date | None:
    """When the next visit is due after ``base``; None when ``base`` covers the period's end."""
    due = base + timedelta(days=thresholds_of(rt, case).visit_interval_days)
    return due if due < end else None


def after_transition(session: Session, rt: Runtime, case: Case, to_state: str, today: date) -> None:
    """Obligations a transition creates: entering follow-up opens the next visit.

    Called after the case's columns were updated. Entering ``acompanhamento`` again (resuming a
    suspension, a reopening) does not open a second visit obligation: the open one is moved to
    the date the rule now gives (the period moved with the pause).
    """
    # the follow-up role under the case's own lifecycle version (renamed or not)
    if rt.lifecycle_for(case.lifecycle_version).role(to_state) != State.ACOMPANHAMENTO.value:
        return
    start, end = follow_up_period(rt, case)
    due = _next_due(rt, case, _latest_visit(session, case.id, start, end) or start, end)
    current = open_of(session, case_id=case.id, kind=FOLLOW_UP_VISIT)
    if due is None:
        return
    if current:
        current[0].due_on = ends_on_working_day(session, case.id, due)
        session.flush()
        return
    open_obligation(
        session,
        rt,
        case_id=case.id,
        kind=FOLLOW_UP_VISIT,
        due_on=due,
        params=_visit_params(rt, case),
    )


def next_visit(
    session: Session, rt: Runtime, case: Case, visited_on: date, visit_id: int
) -> Obligation | None:
    """A visit satisfies the open visit obligation and opens the next, within the period.

    Only visits of a case in ``acompanhamento``, dated in its period, count; a visit dated on or
    before the latest visit already recorded (a late entry) changes nothing, since the latest
    visit already set the next due date.
    """
    if rt.lifecycle_for(case.lifecycle_version).role(case.state) != State.ACOMPANHAMENTO.value:
        return None
    start, end = follow_up_period(rt, case)
    if visited_on < start:
        return None
    previous = _latest_visit(session, case.id, start, end, excluding=visit_id)
    if previous is not None and visited_on <= previous:
        return None
    satisfy(session, case_id=case.id, kind=FOLLOW_UP_VISIT, on=visited_on, by=f"visit:{visit_id}")
    if visited_on >= end:
        return None
    due = _next_due(rt, case, visited_on, end)
    if due is None:
        return None
    return open_obligation(
        session,
        rt,
        case_id=case.id,
        kind=FOLLOW_UP_VISIT,
        due_on=due,
        params=_visit_params(rt, case),
    )


# ------------------------------------------------------------------------ reading


def _row(o: Obligation, today: date | None) -> dict[str, Any]:
    end = o.satisfied_on or today
    return {
        "id": o.id,
        "case_id": o.case_id,
        "kind": o.kind,
        "description": o.description,
        "params": o.params,
        "record": f"{o.record_type}:{o.record_id}" if o.record_type else None,
        "due_on": o.due_on.isoformat(),
        "satisfied_on": o.satisfied_on.isoformat() if o.satisfied_on else None,
        "satisfied_by": o.satisfied_by,
        # a programme target (shown as such), not a duty the law sets
        "target": o.kind in TARGETS,
        # open: days past due as of today; satisfied: how late it was satisfied
        "days_late": max(0, (end - o.due_on).days) if end is not None else None,
        "created_at": iso_utc(o.created_at),
    }


def list_obligations(
    session: Session,
    *,
    today: date | None,
    case_id: int | None = None,
    open_only: bool = True,
    overdue: bool = False,
    kind: str | None = None,
    record: tuple[str, int] | None = None,
    include_closed_cases: bool = False,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Obligations, earliest due first, with ``days_late`` as of ``today``.

    ``overdue``: only open ones due before ``today`` (which it then needs). Obligations of closed
    cases (concluded, cancelled) are left out unless ``include_closed_cases``: nothing is due in
    a closed case. Without ``today``, an open obligation's ``days_late`` is None.
    """
    if overdue and today is None:
        raise InvalidInput(N_("listing overdue obligations needs the date to judge them by"))
    if kind is not None and kind not in KINDS:
        raise InvalidInput(
            N_(
                "unknown obligation kind %(kind)s; kinds are: %(value)s",
                kind=repr(kind),
                value=", ".join(KINDS),
            ),
            field="kind",
        )
    query = select(Obligation).order_by(Obligation.due_on, Obligation.id).limit(limit)
    if case_id is not None:
        if session.get(Case, case_id) is None:
            raise NotFound("case", case_id)
        query = query.where(Obligation.case_id == case_id)
    if not include_closed_cases:
        query = query.join(Case, Case.id == Obligation.case_id).where(
            Case.state.not_in(sorted(_CLOSED))
        )
    if open_only or overdue:
        query = query.where(Obligation.satisfied_on.is_(None))
    if overdue:
        query = query.where(Obligation.due_on < today)
    if kind is not None:
        query = query.where(Obligation.kind == kind)
    if record is not None:
        query = query.where(Obligation.record_type == record[0], Obligation.record_id == record[1])
    return [_row(o, today) for o in session.execute(query).scalars()]
