"""The daily digest: one message a day gathering a person's pending reminders and news.

People who chose ``delivery = digest`` do not get reminders, assignments and transitions one
by one: :func:`send_digests` runs (often; it is idempotent) and, for each such person whose
local time (their own time zone) is past the policy's morning hour and who has no digest for
their local date yet, writes ONE outbox row (key ``digest:<user>:<date>``, template ``digest``)
listing their pending rows, which become ``digested`` (pointing at the digest by
``digest_id``). The digest is then sent by the dispatcher like any message. A person with
nothing pending gets no digest that day; what arrives after the day's digest waits for the next
one. Escalations never wait: they are sent at once to everyone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications.models import DIGESTED, PENDING, SKIPPED, OutboxMessage
from notifications.outbox import Env, Recipient, default_domain, insert_rows, values_for
from notifications.policy import DIGEST, OPTIONAL_CATEGORIES, REMINDER, Policy, current_policy
from states.audit import iso_utc
from states.directory import User
from states.models import Case


@dataclass
class DigestReport:
    """What one run did: digests written, rows they gather, people not yet at their morning."""

    digests: int = 0
    items: int = 0
    skipped: int = 0
    before_morning: int = 0
    already_sent: int = 0
    nothing_pending: int = 0
    recipients: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def digest_key(username: str, local_date: str) -> str:
    return f"digest:{username}:{local_date}"


def morning_date(person: Recipient, now: datetime, policy: Policy) -> str | None:
    """The person's local date (ISO) once their morning (the policy's hour, in their own time
    zone) has come; None before it. The daily messages (digest, checkpoint) leave after it."""
    local = now.astimezone(ZoneInfo(person.timezone))
    return None if local.time() < policy.digest.morning else local.date().isoformat()


def send_digests(
    rt: Env, *, now: datetime | None = None, policy: Policy | None = None
) -> DigestReport:
    """Write today's digest of everyone due one (see the module's docstring)."""
    policy = policy or current_policy()
    now = now or rt.clock.now()
    domain = default_domain()
    report = DigestReport()
    with rt.db.read() as session:
        people = [
            Recipient.of(u)
            for u in session.execute(
                select(User)
                .where(User.active.is_(True), User.delivery == "digest")
                .order_by(User.username)
            ).scalars()
        ]
    for person in people:
        day = morning_date(person, now, policy)
        if day is None:
            report.before_morning += 1
            continue
        with rt.db.write() as session:
            _one(session, rt, person, day, now, domain, policy, report)
    return report


def _one(
    session: Session,
    rt: Env,
    person: Recipient,
    day: str,
    now: datetime,
    domain: str,
    policy: Policy,
    report: DigestReport,
) -> None:
    key = digest_key(person.username, day)
    if session.execute(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
        report.already_sent += 1
        return
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.recipient == person.username,
            OutboxMessage.status == PENDING,
            OutboxMessage.category.in_(OPTIONAL_CATEGORIES),
        )
        .order_by(OutboxMessage.case_id, OutboxMessage.id)
    )
    if rt.db.is_postgresql:
        query = query.with_for_update(of=OutboxMessage)
    rows = list(session.execute(query).scalars())
    quiet = _quiet_cases(session, rows, policy)
    stale = [r.id for r in rows if r.category == REMINDER and r.case_id in quiet]
    if stale:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(stale))
            .values(status=SKIPPED, last_error="the case went quiet before the digest")
        )
        report.skipped += len(stale)
    items = [r for r in rows if r.id not in set(stale)]
    if not items:
        report.nothing_pending += 1
        return
    today = date.fromisoformat(day)
    context = {
        "recipient_name": person.name,
        "day": day,
        "count": len(items),
        "items": [_item(r, today) for r in items],
    }
    row = values_for(
        key=key,
        case_id=None,
        category=DIGEST,
        template=DIGEST,
        recipient=person,
        context=context,
        now=now,
        domain=domain,
    )
    if not insert_rows(session, [row]):  # another run wrote it first
        report.already_sent += 1
        return
    digest_id = session.execute(
        select(OutboxMessage.id).where(OutboxMessage.key == key)
    ).scalar_one()
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in items]), OutboxMessage.status == PENDING)
        .values(status=DIGESTED, digest_id=digest_id)
    )
    report.digests += 1
    report.items += len(items)
    report.recipients.append(person.username)


def _quiet_cases(session: Session, rows: list[OutboxMessage], policy: Policy) -> set[int]:
    ids = {r.case_id for r in rows if r.case_id is not None}
    if not ids:
        return set()
    return set(
        session.execute(
            select(Case.id).where(Case.id.in_(ids), Case.state.in_(sorted(policy.quiet_states)))
        ).scalars()
    )


def _item(row: OutboxMessage, today: date) -> dict[str, Any]:
    """One line of the digest (``notifications.render.ITEM_PLACEHOLDERS``), as of its day."""
    context = row.context
    due_on = context.get("due_on")
    days: int | None = None
    step: str | None = None
    if row.category == REMINDER and due_on:
        delta = (today - date.fromisoformat(due_on)).days
        days, step = abs(delta), "before" if delta < 0 else "due" if delta == 0 else "late"
    return {
        **context,
        "id": row.id,
        "category": row.category,
        "created_at": iso_utc(row.created_at),
        "obligation": context.get("obligation"),
        "due_on": due_on,
        "days": days,
        "step": step,
    }
