"""Days of the running system, played under a moving clock: what ``produzir demo --simulate-days``
shows a newcomer.

:func:`simulate` moves a :class:`~states.clock.FixedClock` one day at a time from the day after
the portfolio's last activity and, each day, does what the scheduled flows do: the deadline
sweep at 06:00 (Brasília time), then at 09:00 the daily digests and the dispatch of every
message whose time has come, to the local mailbox (or the channel given). Reminders appear
before and on each due date, escalations to the supervisor and to management after it, digests
for the people who chose them. It calls the operations directly, as the flows' tasks do: no
Prefect needed.

Messages go to the staff users of the demo portfolio; :func:`demo_staff` adds the ones missing
(the coordinators who hold its cases, a supervisor per macro-region, the programme manager),
with a mix of immediate and digest delivery and of languages, so that every kind of message
shows up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from demo.staff import add_demo_staff
from notifications.channels import Channel, MailboxChannel
from notifications.digest import send_digests
from notifications.dispatch import dispatch
from notifications.models import OutboxMessage
from notifications.settings import NotificationSettings, load_settings
from states.clock import FixedClock
from states.errors import InvalidInput
from states.models import Case
from states.text import N_
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines

BRASILIA = ZoneInfo("America/Sao_Paulo")
SWEEP_AT = time(6, 0)  # the schedule of flows.schedules.SWEEP
SEND_AT = time(9, 0)  # after the digest morning (07:00) in every Brazilian time zone
MAX_DAYS = 366
ADMIN = "admin"


@dataclass(frozen=True)
class SimulatedDay:
    """One day of the simulation: what the sweep queued, what left, by category."""

    day: date
    queued: int
    transitions: int
    digests: int
    sent: int
    retried: int
    failed: int
    sent_by_category: dict[str, int]


@dataclass
class Simulation:
    """What :func:`simulate` did."""

    start: date
    mailbox: Path | None
    staff_added: list[str] = field(default_factory=list)
    days: list[SimulatedDay] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(d.sent for d in self.days)

    def sent_by_category(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for d in self.days:
            total.update(d.sent_by_category)
        return dict(sorted(total.items()))

    def rows(self) -> list[dict[str, Any]]:
        """One line per day, for a table: what was queued and what left, by kind."""
        return [
            {
                "day": d.day.isoformat(),
                "weekday": d.day.strftime("%a"),
                "queued": d.queued,
                "transitions": d.transitions,
                "reminders": d.sent_by_category.get("reminder", 0),
                "escalations": d.sent_by_category.get("escalation", 0),
                "digests": d.sent_by_category.get("digest", 0),
                "other": sum(
                    n
                    for kind, n in d.sent_by_category.items()
                    if kind not in ("reminder", "escalation", "digest")
                ),
                "sent": d.sent,
                "failed": d.failed,
            }
            for d in self.days
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "mailbox": str(self.mailbox) if self.mailbox else None,
            "sent": self.sent,
            "sent_by_category": self.sent_by_category(),
        }


def demo_staff(rt: Runtime) -> list[str]:
    """Add the demo portfolio's staff users that do not exist yet; their user names."""
    return add_demo_staff(rt)


def first_day(rt: Runtime) -> date:
    """The day after the last thing that happened (Brasília time): the portfolio's last change
    or the last message queued or sent, so that a second simulation continues the first."""
    with rt.db.read() as session:
        changed = session.execute(select(func.max(Case.updated_at))).scalar_one()
        queued = session.execute(select(func.max(OutboxMessage.created_at))).scalar_one()
        sent = session.execute(select(func.max(OutboxMessage.sent_at))).scalar_one()
    if changed is None:
        raise InvalidInput(N_("the database has no cases: load the demo first (`produzir demo`)"))
    last = max(at for at in (changed, queued, sent) if at is not None)
    return last.astimezone(BRASILIA).date() + timedelta(days=1)


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, BRASILIA)


def simulate(
    rt: Runtime,
    *,
    days: int,
    start: date | None = None,
    channel: Channel | None = None,
    settings: NotificationSettings | None = None,
    add_staff: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Play ``days`` days of sweeps, digests and dispatch from ``start`` (default: the day after
    the last change); messages go to ``channel`` (default: the mailbox of the settings).
    ``progress`` is told ``(days done, days)`` after each day."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            N_("days: %(days)s; from 1 to %(MAX_DAYS)s", days=days, MAX_DAYS=MAX_DAYS), field="days"
        )
    settings = settings or load_settings()
    start = start or first_day(rt)
    clock = FixedClock(_at(start, SWEEP_AT))
    rt = replace(rt, clock=clock)
    mailbox = None
    if channel is None:
        mailbox = settings.resolved_mailbox_dir()
        channel = MailboxChannel(mailbox, clock=clock)
    report = Simulation(start=start, mailbox=mailbox)
    if add_staff:
        report.staff_added = demo_staff(rt)
    for offset in range(days):
        day = start + timedelta(days=offset)
        clock.set(_at(day, SWEEP_AT))
        swept = sweep_deadlines(rt)
        clock.set(_at(day, SEND_AT))
        digests = send_digests(rt)
        sent = dispatch(rt, channel=channel, settings=settings)
        report.days.append(
            SimulatedDay(
                day=day,
                queued=swept.reminders_queued,
                transitions=len(swept.transitions),
                digests=digests.digests,
                sent=sent.sent,
                retried=sent.retried,
                failed=sent.failed,
                sent_by_category=_sent_by_category(rt, clock.now()),
            )
        )
        if progress is not None:
            progress(offset + 1, days)
    return report


def _sent_by_category(rt: Runtime, at: datetime) -> dict[str, int]:
    with rt.db.read() as session:
        rows = session.execute(
            select(OutboxMessage.category, func.count())
            .where(OutboxMessage.sent_at == at)
            .group_by(OutboxMessage.category)
            .order_by(OutboxMessage.category)
        ).all()
    return {category: int(n) for category, n in rows}
