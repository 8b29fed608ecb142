"""The deadline sweep: one pass over every due case and open obligation, in batches.

:func:`sweep_deadlines` pages through the cases whose deadline (``cases.due_on``) is near or
past, then through the open dated obligations (:mod:`tasks.obligations`), about a thousand rows
a query (keyset pagination: ``WHERE id > last ORDER BY id LIMIT n``), in plain Python — never a
query, a transaction or a flow run per case. The SQL window is generous (calendar days); the
exact working-day arithmetic is done here, with one calendar per municipality and the steps of
each (municipality, due date) computed once.

For each deadline it queues the steps the policy (:mod:`notifications.policy`) says are due
today, in the municipality's time zone: the latest coordinator reminder, and each escalation
whose day has come. Every row has its outbox key, so a second sweep (or two at once) queues
nothing new; keys already in the outbox are filtered out before the batch's one short write
transaction, which inserts the rest with ``ON CONFLICT DO NOTHING``.

The LGPD registers' due dates (:mod:`tasks.lgpd`: a data subject's statement, an incident's
notices) belong to no case: the sweep (its first shard, in a sharded run) queues their steps
too, with the same policy, after the cases and obligations.

Where the lifecycle ends a state by itself (the policy's ``time_transitions``), the sweep fires
that event through the write path as the actor ``system`` — audited like any other change; the
event's guard decides, and a refusal means "not yet". The cases of a batch that move do so in one
transaction, each in its own savepoint (:func:`tasks.cases.advance_batch`, a group commit). A case that moves gets no
reminder for the state it left.

One bad case (a municipality with no calendar, say) is reported with its reason and never stops
the batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications.models import SKIPPED, OutboxMessage
from notifications.outbox import (
    Recipient,
    contact_of,
    deadline_key,
    default_domain,
    insert_rows,
    values_for,
)
from notifications.policy import Policy, Step, TimedTransition, current_policy, due_now
from states.audit import iso_utc
from states.calendar import WorkCalendar
from states.clock import FixedClock
from states.deadlines import local_date
from states.directory import MunicipalHoliday, OfficeClosure, User
from states.errors import Conflict, GuardFailed, ProduzirError, TransitionNotAllowed
from states.models import Case, Municipality
from states.origin import use_origin
from states.records import Obligation
from tasks import cases as case_ops
from tasks import lgpd, shards
from tasks.cases import refusal
from tasks.obligations import TARGETS
from tasks.runtime import Runtime
from tasks.shards import Shard

SYSTEM = "system"
#: Refusals and errors listed in a report (all are counted).
MAX_LISTED = 1000
_KEY_CHUNK = 900  # keys per ``WHERE key IN (...)`` lookup


@dataclass
class SweepReport:
    """What one sweep did: counts, the transitions it fired or was refused, the bad cases.

    ``refusals`` and ``errors`` list the first :data:`MAX_LISTED` of each; ``refused`` and
    ``failed`` count them all.
    """

    as_of: str
    cases_checked: int = 0
    obligations_checked: int = 0
    batches: int = 0
    reminders_queued: int = 0
    already_queued: int = 0
    opted_out: int = 0
    #: steps due with nobody to tell (no coordinator user, no supervisor for the UF)
    unaddressed: int = 0
    #: open data-subject requests and incidents near or past their due date (LGPD registers)
    registers_checked: int = 0
    transitions: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    refusals: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def refuse(self, entry: dict[str, Any]) -> None:
        self.refused += 1
        if len(self.refusals) < MAX_LISTED:
            self.refusals.append(entry)

    def error(self, entry: dict[str, Any]) -> None:
        self.failed += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append(entry)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def merged(cls, parts: list[dict[str, Any]]) -> SweepReport:
        """The report of a sharded sweep: its shards' reports (``as_dict``) added up."""
        reports = [cls(**part) for part in parts if part]
        total = cls(as_of=reports[0].as_of if reports else "")
        for report in reports:
            for name in (
                "cases_checked",
                "obligations_checked",
                "batches",
                "reminders_queued",
                "already_queued",
                "opted_out",
                "unaddressed",
                "registers_checked",
                "refused",
                "failed",
            ):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.transitions += report.transitions
            total.refusals += report.refusals[: MAX_LISTED - len(total.refusals)]
            total.errors += report.errors[: MAX_LISTED - len(total.errors)]
        return total


@dataclass(frozen=True)
class _Deadline:
    """One due case or obligation, with what the sweep needs to know of its case."""

    case_id: int
    version: int
    state: str
    due_on: date
    coordinator: str | None
    community: str
    activity: str
    municipality_code: int
    municipality: str
    uf: str
    timezone: str
    obligation_id: int | None = None
    obligation_kind: str | None = None
    obligation_description: str | None = None
    obligation_params: dict[str, Any] | None = None

    @property
    def subject(self) -> str:
        if self.obligation_id is not None:
            return f"obligation:{self.obligation_id}"
        return f"state:{self.state}"


class _Wanted(NamedTuple):
    """A row a deadline should have: its key, and what its context is made of."""

    key: str
    item: _Deadline
    step: Step
    recipient: Recipient
    today: date


class _Directory:
    """The active users, as the sweep addresses them."""

    def __init__(self, session: Session) -> None:
        self.by_name: dict[str, Recipient] = {}
        self.supervisors: dict[str, list[Recipient]] = defaultdict(list)
        self.national_supervisors: list[Recipient] = []
        self.managers: list[Recipient] = []
        users = session.execute(
            select(User).where(User.active.is_(True)).order_by(User.username)
        ).scalars()
        for user in users:
            r = Recipient.of(user)
            self.by_name[r.username] = r
            if r.role == "supervisor":
                if r.territories:
                    for uf in r.territories:
                        self.supervisors[uf].append(r)
                else:
                    self.national_supervisors.append(r)
            elif r.role == "manager":
                self.managers.append(r)

    def supervisor_of(self, uf: str) -> Recipient | None:
        """Whom a coordinator asks for help: the territory's supervisor (or a national one)."""
        found = self.supervisors.get(uf) or self.national_supervisors
        return found[0] if found else None

    def for_step(self, step: Step, item: _Deadline) -> list[Recipient]:
        if step.to == "coordinator":
            found = self.by_name.get(item.coordinator) if item.coordinator else None
            return [found] if found else []
        if step.to == "supervisor":
            return [*self.supervisors.get(item.uf, []), *self.national_supervisors]
        return list(self.managers)


class _Calendars:
    """Working-day calendars and the steps of each deadline, computed once per sweep.

    A municipality with no holiday or office closure of its own shares its UF's calendar, so
    the steps of a due date are computed once per UF (or per municipality that has its own
    holidays or closures) and date. The UF's closures apply under the municipality's.
    """

    def __init__(self, session: Session, policy: Policy) -> None:
        self.policy = policy
        self.holidays: dict[int, list[tuple[date, str]]] = defaultdict(list)
        for code, day, name in session.execute(
            select(MunicipalHoliday.municipality_code, MunicipalHoliday.day, MunicipalHoliday.name)
        ):
            self.holidays[code].append((day, name))
        self.decisions: dict[str, list[tuple[date, bool, str]]] = defaultdict(list)
        for day, scope, closed, name in session.execute(
            select(OfficeClosure.day, OfficeClosure.scope, OfficeClosure.closed, OfficeClosure.name)
        ):
            self.decisions[scope].append((day, closed, name))
        self._calendars: dict[int | str, WorkCalendar] = {}
        self._steps: dict[tuple[int | str, date], tuple[Step, ...]] = {}

    def _decisions_of(self, code: int | None, uf: str) -> list[tuple[date, bool, str]]:
        merged = {day: (closed, name) for day, closed, name in self.decisions.get(f"uf:{uf}", [])}
        if code is not None:
            for day, closed, name in self.decisions.get(f"municipality:{code}", []):
                merged[day] = (closed, name)
        return [(day, closed, name) for day, (closed, name) in merged.items()]

    def steps(self, code: int, uf: str, due_on: date) -> tuple[Step, ...]:
        own = code in self.holidays or f"municipality:{code}" in self.decisions
        place: int | str = code if own else uf
        found = self._steps.get((place, due_on))
        if found is None:
            calendar = self._calendars.get(place)
            if calendar is None:
                calendar = self._calendars[place] = WorkCalendar(
                    uf,
                    self.holidays.get(code, ()),
                    decisions=self._decisions_of(code if own else None, uf),
                )
            found = self._steps[(place, due_on)] = self.policy.steps(calendar, due_on)
        return found


def sweep_deadlines(
    rt: Runtime,
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
    policy: Policy | None = None,
    shard: Shard | None = None,
    on_batch: Callable[[float], None] | None = None,
) -> SweepReport:
    """One sweep as of ``now`` (default: the runtime's clock), or of one shard of a run.

    With ``shard`` (:mod:`tasks.shards`), only the cases of its id range and their obligations
    are swept, as of the run's instant, from its cursors on; each batch's cursors are committed
    with the batch's outbox rows, and the shard is marked finished at the end. ``on_batch`` is
    told the fraction of the shard's cases (of all cases, without one) done after each batch
    (a progress bar).
    """
    policy = policy or current_policy()
    if shard is not None:
        now = shard.as_of
    if now is None:
        now = rt.clock.now()
    else:  # transitions fired "as of" now are dated then, not at the machine's time
        rt = replace(rt, clock=FixedClock(now))
    if shard is not None and shard.report:
        report = SweepReport(**shard.report)
    else:
        report = SweepReport(as_of=iso_utc(now))
    domain = default_domain()
    with rt.db.read() as session:
        directory = _Directory(session)
        calendars = _Calendars(session, policy)
    # No Brazilian time zone is ahead of UTC; the margin covers the earliest reminder.
    bound = now.date() + timedelta(days=1 + policy.margin_days())
    timed = {t.state: t for t in policy.active_transitions}
    sweep = _Sweep(rt, policy, now, domain, directory, calendars, timed, report)
    span = (shard.first_id, shard.last_id) if shard is not None else None
    if shard is not None and shard.finished:
        return report

    # the states of every loaded lifecycle version (a case runs under its own)
    every = {st.code for lc in rt.lifecycles.values() for st in lc.states}
    case_states = sorted((every - policy.quiet_states) | set(timed))
    last = shard.case_cursor if shard is not None else 0
    last_obligation = shard.obligation_cursor if shard is not None else 0
    if span is not None:
        last = max(last, span[0] - 1)
    while True:
        with rt.db.read() as session:
            cases = _due_cases(session, case_states, bound, last, batch_size, span)
        if not cases:
            break
        last = cases[-1].case_id
        report.cases_checked += len(cases)
        sweep.batch(cases, _saver(shard, last, last_obligation, report, now))
        if on_batch is not None:
            first, top = span if span is not None else (1, _top_case_id(rt))
            on_batch(min(1.0, (last - first + 1) / max(1, top - first + 1)))

    quiet = sorted(policy.quiet_states)
    while True:
        with rt.db.read() as session:
            obligations = _open_obligations(
                session, quiet, bound, last_obligation, batch_size, span
            )
        if not obligations:
            break
        last_obligation = obligations[-1].obligation_id or last_obligation
        report.obligations_checked += len(obligations)
        sweep.batch(obligations, _saver(shard, last, last_obligation, report, now))
    if shard is None or shard.shard == 0:  # the registers belong to no case: one shard's
        registers = lgpd.queue_deadline_messages(rt, now=now, policy=policy)
        report.registers_checked += registers.checked
        report.reminders_queued += registers.queued
        report.already_queued += registers.already_queued
        report.unaddressed += registers.unaddressed
    if shard is not None:
        with rt.db.write() as session:
            shards.save(
                session,
                shard,
                case_cursor=last,
                obligation_cursor=last_obligation,
                report=report.as_dict(),
                now=now,
                finished=True,
            )
    if on_batch is not None:
        on_batch(1.0)
    return report


def _saver(
    shard: Shard | None, cases: int, obligations: int, report: SweepReport, now: datetime
) -> Callable[[Session], None] | None:
    """What commits a batch's cursors with its rows (nothing when the sweep is not sharded)."""
    if shard is None:
        return None

    def save(session: Session) -> None:
        shards.save(
            session,
            shard,
            case_cursor=cases,
            obligation_cursor=obligations,
            report=report.as_dict(),
            now=now,
        )

    return save


_COLUMNS = (
    Case.id,
    Case.version,
    Case.state,
    Case.coordinator,
    Case.community,
    Case.activity,
    Case.municipality_code,
    Municipality.name,
    Municipality.uf,
    Municipality.timezone,
)


def _due_cases(
    session: Session,
    states: list[str],
    bound: date,
    last: int,
    limit: int,
    span: tuple[int, int] | None = None,
) -> list[_Deadline]:
    query = (
        select(*_COLUMNS, Case.due_on)
        .join(Municipality, Municipality.ibge_code == Case.municipality_code)
        .where(
            Case.id > last,
            Case.state.in_(states),
            Case.due_on.is_not(None),
            Case.due_on <= bound,
        )
    )
    if span is not None:
        query = query.where(Case.id <= span[1])
    rows = session.execute(query.order_by(Case.id).limit(limit)).all()
    return [
        _Deadline(r[0], r[1], r[2], r[10], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows
    ]


def _open_obligations(
    session: Session,
    quiet: list[str],
    bound: date,
    last: int,
    limit: int,
    span: tuple[int, int] | None = None,
) -> list[_Deadline]:
    query = (
        select(
            *_COLUMNS,
            Obligation.due_on,
            Obligation.id,
            Obligation.kind,
            Obligation.description,
            Obligation.params,
        )
        .join(Case, Case.id == Obligation.case_id)
        .join(Municipality, Municipality.ibge_code == Case.municipality_code)
        .where(
            Obligation.id > last,
            Obligation.satisfied_on.is_(None),
            Obligation.due_on <= bound,
            Case.state.not_in(quiet),
        )
    )
    if span is not None:
        query = query.where(Obligation.case_id.between(span[0], span[1]))
    rows = session.execute(query.order_by(Obligation.id).limit(limit)).all()
    return [
        _Deadline(
            r[0],
            r[1],
            r[2],
            r[10],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[11],
            r[12],
            r[13],
            r[14],
        )
        for r in rows
    ]


@dataclass
class _Sweep:
    rt: Runtime
    policy: Policy
    now: datetime
    domain: str
    directory: _Directory
    calendars: _Calendars
    timed: dict[str, TimedTransition]
    report: SweepReport
    _today: dict[str, date] = field(default_factory=dict)

    def today(self, timezone: str) -> date:
        found = self._today.get(timezone)
        if found is None:
            found = self._today[timezone] = local_date(self.now, timezone)
        return found

    def batch(self, items: list[_Deadline], save: Callable[[Session], None] | None = None) -> None:
        """Queue the due steps of one batch; fire its time-driven transitions first.

        ``save`` runs in the transaction that writes the batch's rows (a shard's cursors).
        """
        self.report.batches += 1
        wanted: dict[int, list[_Wanted]] = {}  # by the item's place in the batch
        fire: list[tuple[int, _Deadline, TimedTransition]] = []
        for index, item in enumerate(items):
            try:
                today = self.today(item.timezone)
                rule = self.timed.get(item.state) if item.obligation_id is None else None
                if rule is not None and rule.applies(today, item.due_on):
                    fire.append((index, item, rule))
                if item.state not in self.policy.quiet_states:
                    wanted[index] = self._wanted(item, today)
            except Exception as exc:  # one bad case never stops the batch
                self._error(item, exc)
        for index in self._fire(fire):
            wanted.pop(index, None)  # no reminder for the state it left
        self._insert([w for item_wanted in wanted.values() for w in item_wanted], save)

    def _wanted(self, item: _Deadline, today: date) -> list[_Wanted]:
        """The rows the deadline should have by now (each step due, each recipient)."""
        found = []
        steps = self.calendars.steps(item.municipality_code, item.uf, item.due_on)
        for step in due_now(steps, today):
            if item.obligation_kind in TARGETS and step.to != "coordinator":
                continue  # a programme target is reminded, never escalated: no law was broken
            recipients = self.directory.for_step(step, item)
            if not recipients:
                self.report.unaddressed += 1
            for recipient in recipients:
                key = deadline_key(
                    item.case_id, item.subject, item.due_on, step.name, recipient.username
                )
                found.append(_Wanted(key, item, step, recipient, today))
        return found

    def _insert(self, wanted: list[_Wanted], save: Callable[[Session], None] | None) -> None:
        """Write the rows not queued yet (and ``save``), in one short write transaction."""
        if not wanted:
            if save is not None:
                with self.rt.db.write() as session:
                    save(session)
            return
        with self.rt.db.read() as session:
            existing = _existing_keys(session, [w.key for w in wanted])
        rows = [
            values_for(
                key=w.key,
                case_id=w.item.case_id,
                category=w.step.category,
                template=w.step.category,
                recipient=w.recipient,
                context=_context(w.item, w.step, w.today, w.recipient, self.directory),
                now=self.now,
                domain=self.domain,
            )
            for w in wanted
            if w.key not in existing
        ]
        self.report.already_queued += len(wanted) - len(rows)
        if not rows and save is None:
            return
        with self.rt.db.write() as session:
            inserted = set(insert_rows(session, rows))
            self.report.already_queued += len(rows) - len(inserted)
            for row in rows:
                if row["key"] in inserted:
                    if row["status"] == SKIPPED:
                        self.report.opted_out += 1
                    else:
                        self.report.reminders_queued += 1
            if save is not None:
                save(session)

    def _fire(self, fire: list[tuple[int, _Deadline, TimedTransition]]) -> list[int]:
        """Fire the batch's time-driven transitions; the places (in the batch) of the cases
        that moved.

        Each case is asked first, read-only: most days the guard says "not yet", and a write
        transaction (SQLite's single writer lock) per refused case would cost the sweep. The
        cases the guard lets through move together: one transaction, a savepoint per case
        (:func:`tasks.cases.advance_batch`), so a case changed meanwhile rolls back alone.
        """
        ready: list[tuple[int, _Deadline, TimedTransition]] = []
        for index, item, rule in fire:
            entry = {"case_id": item.case_id, "event": rule.event, "state": item.state}
            try:
                reason = refusal(self.rt, item.case_id, rule.event, {}, actor=SYSTEM)
            except Exception as exc:  # one bad case never stops the batch
                self._error(item, exc)
                continue
            if reason is not None:
                self.report.refuse({**entry, "reason": reason})
            else:
                ready.append((index, item, rule))
        if not ready:
            return []
        # the system's own act, whichever edge (flow, command line) runs the sweep
        with use_origin("system"):
            results = case_ops.advance_batch(
                self.rt,
                [
                    case_ops.Step(item.case_id, rule.event, {}, item.version)
                    for _, item, rule in ready
                ],
                actor=SYSTEM,
            )
        moved_at: list[int] = []
        for (index, item, rule), moved in zip(ready, results, strict=True):
            entry = {"case_id": item.case_id, "event": rule.event, "state": item.state}
            if isinstance(moved, GuardFailed):
                self.report.refuse({**entry, "reason": moved.reason})
            elif isinstance(moved, Conflict | TransitionNotAllowed):
                self.report.refuse({**entry, "reason": f"changed meanwhile: {moved}"})
            elif isinstance(moved, Exception):  # one bad case never stops the batch
                self._error(item, moved)
            else:
                self.report.transitions.append(
                    {**entry, "to_state": moved.to_state, "seq": moved.seq}
                )
                moved_at.append(index)
        return moved_at

    def _error(self, item: _Deadline, exc: Exception) -> None:
        reason = str(exc) if isinstance(exc, ProduzirError) else f"{type(exc).__name__}: {exc}"
        entry: dict[str, Any] = {"case_id": item.case_id, "reason": reason}
        if item.obligation_id is not None:
            entry["obligation_id"] = item.obligation_id
        self.report.error(entry)


def _context(
    item: _Deadline, step: Step, today: date, recipient: Recipient, directory: _Directory
) -> dict[str, Any]:
    """What a reminder or escalation says (``notifications.render.PLACEHOLDERS``)."""
    days = (today - item.due_on).days
    context: dict[str, Any] = {
        "recipient_name": recipient.name,
        "case_id": item.case_id,
        "community": item.community,
        "municipality": item.municipality,
        "uf": item.uf,
        "activity": item.activity,
        "state": item.state,
        "coordinator": item.coordinator,
        "obligation": item.obligation_description,
        "obligation_id": item.obligation_id,
        "obligation_kind": item.obligation_kind,
        "obligation_params": item.obligation_params,
        "due_on": item.due_on.isoformat(),
        "today": today.isoformat(),
        "days": abs(days),
        "policy_step": step.name,
    }
    if step.to == "coordinator":
        context["step"] = "before" if days < 0 else "due" if days == 0 else "late"
        context.update(contact_of(directory.supervisor_of(item.uf)))
    else:
        coordinator = directory.by_name.get(item.coordinator) if item.coordinator else None
        context["step"] = step.name
        context["coordinator_name"] = coordinator.name if coordinator else item.coordinator
        context["coordinator_email"] = coordinator.email if coordinator else None
    return context


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), _KEY_CHUNK):
        chunk = keys[start : start + _KEY_CHUNK]
        found.update(
            session.execute(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))).scalars()
        )
    return found


def _top_case_id(rt: Runtime) -> int:
    """The highest case id (0: none), what a sweep without a shard measures its progress by."""
    with rt.db.read() as session:
        return int(session.execute(select(func.max(Case.id))).scalar_one() or 0)
