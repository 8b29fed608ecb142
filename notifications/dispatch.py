"""Sending what the outbox holds: claim, render, send, mark — with retries and crash recovery.

:func:`dispatch` claims a batch of pending rows whose time has come, in one short write
transaction (SQLite: the ``BEGIN IMMEDIATE`` writer lock; PostgreSQL: ``SELECT ... FOR UPDATE
SKIP LOCKED``, so two dispatchers never claim the same row), marking them ``sending`` with a
lease (``claimed_until``). It then renders and sends each one *outside* any transaction and
marks the result in a short transaction of its own:

- sent: ``sent`` with ``sent_at``;
- a temporary failure (refused, timeout, 4xx): back to ``pending`` with ``attempts + 1`` and
  ``next_attempt_at = now + retry_base_seconds * 2**(attempts - 1)`` (capped by the policy),
  ``failed`` once ``max_attempts`` is reached;
- a permanent failure (5xx, a template that cannot render): ``failed`` at once, with the error.

A dispatcher that dies leaves its rows ``sending``; once their lease is over any dispatcher
claims them again. The one message that was sent but not yet marked is then sent a second
time, with the same Message-ID (derived from the row's key), so at most one duplicate per crash
and a recognisable one. Nothing here touches a case: a message that fails never undoes the
change that queued it (that transaction committed long before).

Rows of people who chose the daily digest (reminders, assignments, transitions) are not sent
one by one: :mod:`notifications.digest` folds them. Escalations and digests always go at once.
A row whose recipient was disabled, or a reminder whose case is now closed, cancelled or
suspended, is marked ``skipped`` instead of being sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from notifications.channels import Channel, build_message, channel_from_settings
from notifications.models import FAILED, PENDING, SENDING, SENT, SKIPPED, OutboxMessage
from notifications.outbox import Env
from notifications.policy import CHECKPOINT, DIGEST, ESCALATION, REMINDER, Policy, current_policy
from notifications.render import render
from notifications.settings import NotificationSettings, load_settings
from states.audit import iso_utc
from states.directory import User
from states.errors import DeliveryFailed, InvalidInput, NotFound
from states.evidence import check_username
from states.models import Case
from states.text import N_

#: Categories sent at once whatever the recipient's delivery preference.
ALWAYS_AT_ONCE = (ESCALATION, DIGEST, CHECKPOINT)
#: Failures listed in a report (all are counted).
MAX_LISTED = 1000
_MAX_ERROR = 2000


@dataclass
class DispatchReport:
    """What one dispatch run did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def merged(cls, parts: list[DispatchReport]) -> DispatchReport:
        """The reports of a dispatch's shards, added up."""
        total = cls()
        for part in parts:
            total.claimed += part.claimed
            total.sent += part.sent
            total.retried += part.retried
            total.failed += part.failed
            total.skipped += part.skipped
            total.failures += part.failures[: MAX_LISTED - len(total.failures)]
        return total

    def failure(self, row: OutboxMessage, error: str, *, final: bool) -> None:
        if len(self.failures) < MAX_LISTED:
            self.failures.append({"id": row.id, "key": row.key, "error": error, "final": final})


def dispatch(
    rt: Env,
    *,
    channel: Channel | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    settings: NotificationSettings | None = None,
    policy: Policy | None = None,
    bucket: tuple[int, int] | None = None,
) -> DispatchReport:
    """Send every message whose time has come (at most ``limit``); what happened.

    ``bucket`` ``(index, count)``: only the rows whose id leaves ``index`` divided by ``count``
    (one shard of a dispatch spread over workers).
    """
    settings = settings or load_settings()
    policy = policy or current_policy()
    channel = channel or channel_from_settings(settings)
    report = DispatchReport()
    while limit is None or report.claimed < limit:
        at = now or rt.clock.now()
        size = (
            settings.notify_batch_size
            if limit is None
            else min(settings.notify_batch_size, limit - report.claimed)
        )
        rows = claim(rt, at=at, size=size, lease=policy.dispatch.lease_seconds, bucket=bucket)
        if not rows:
            break
        report.claimed += len(rows)
        _deliver_batch(rt, rows, channel, settings, policy, report, now)
    return report


def _claimable(at: datetime) -> Any:
    individually = or_(
        OutboxMessage.category.in_(ALWAYS_AT_ONCE),
        OutboxMessage.recipient.in_(
            select(User.username).where(User.delivery == "immediate").scalar_subquery()
        ),
    )
    return or_(
        and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= at, individually),
        and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until < at),
    )


def claim(
    rt: Env, *, at: datetime, size: int, lease: float, bucket: tuple[int, int] | None = None
) -> list[OutboxMessage]:
    """Claim up to ``size`` rows due at ``at`` for ``lease`` seconds, in one transaction."""
    query = select(OutboxMessage.id).where(_claimable(at))
    if bucket is not None:
        index, count = bucket
        query = query.where(OutboxMessage.id % count == index)
    query = query.order_by(OutboxMessage.id).limit(size)
    if rt.db.is_postgresql:
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    with rt.db.write() as session:
        ids = list(session.execute(query).scalars())
        if not ids:
            return []
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=SENDING, claimed_until=at + timedelta(seconds=lease))
        )
        rows = list(
            session.execute(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.id)
                .execution_options(populate_existing=True)
            ).scalars()
        )
        session.expunge_all()
        return rows


def _deliver_batch(
    rt: Env,
    rows: list[OutboxMessage],
    channel: Channel,
    settings: NotificationSettings,
    policy: Policy,
    report: DispatchReport,
    now: datetime | None,
) -> None:
    with rt.db.read() as session:
        skips = _skip_reasons(session, rows, policy)
        prepared: list[tuple[OutboxMessage, EmailMessage | None, str | None]] = []
        for row in rows:
            if row.id in skips:
                prepared.append((row, None, skips[row.id]))
                continue
            try:
                rendered = render(row.template, row.language, row.context, session=session)
                built = build_message(row, rendered, settings.mail_from, date=now or rt.clock.now())
                prepared.append((row, built, None))
            except Exception as exc:  # a template that cannot render never will: permanent
                prepared.append((row, None, f"cannot render {row.template}: {_describe(exc)}"))
    for row, message, problem in prepared:
        if message is None:
            assert problem is not None
            if row.id in skips:
                _mark(rt, row.id, status=SKIPPED, last_error=problem)
                report.skipped += 1
            else:
                _fail(rt, row, problem, report)
            continue
        try:
            channel.send(message)
        except DeliveryFailed as exc:
            if exc.transient:
                _retry_later(rt, row, _describe(exc), settings, policy, report, now)
            else:
                _fail(rt, row, _describe(exc), report)
            continue
        except Exception as exc:  # an unforeseen channel error: treat as temporary
            _retry_later(rt, row, _describe(exc), settings, policy, report, now)
            continue
        _mark(
            rt,
            row.id,
            status=SENT,
            sent_at=now or rt.clock.now(),
            attempts=row.attempts + 1,
            last_error=None,
        )
        report.sent += 1


def _skip_reasons(session: Session, rows: list[OutboxMessage], policy: Policy) -> dict[int, str]:
    """Rows not to send: the recipient was disabled, or the reminder's case went quiet."""
    names = {r.recipient for r in rows}
    active = set(
        session.execute(
            select(User.username).where(User.username.in_(names), User.active.is_(True))
        ).scalars()
    )
    case_ids = {r.case_id for r in rows if r.case_id is not None and r.category != DIGEST}
    states: dict[int, str] = {
        case_id: state
        for case_id, state in session.execute(
            select(Case.id, Case.state).where(Case.id.in_(case_ids))
        )
    }
    reasons = {}
    for row in rows:
        state = states.get(row.case_id) if row.case_id is not None else None
        if row.recipient not in active:
            reasons[row.id] = f"user {row.recipient} is disabled or unknown"
        elif row.category in (REMINDER, ESCALATION) and state in policy.quiet_states:
            reasons[row.id] = f"case {row.case_id} is now {state}: nothing is due"
    return reasons


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if not isinstance(exc, DeliveryFailed):
        text = f"{type(exc).__name__}: {text}"
    return text[:_MAX_ERROR]


def _mark(rt: Env, outbox_id: int, **values: Any) -> None:
    """One short transaction: the row's new status and bookkeeping."""
    with rt.db.write() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id)
            .values(claimed_until=None, **values)
        )


def _fail(rt: Env, row: OutboxMessage, error: str, report: DispatchReport) -> None:
    _mark(rt, row.id, status=FAILED, attempts=row.attempts + 1, last_error=error)
    report.failed += 1
    report.failure(row, error, final=True)


def _retry_later(
    rt: Env,
    row: OutboxMessage,
    error: str,
    settings: NotificationSettings,
    policy: Policy,
    report: DispatchReport,
    now: datetime | None,
) -> None:
    attempts = row.attempts + 1
    if attempts >= settings.notify_max_attempts:
        _mark(rt, row.id, status=FAILED, attempts=attempts, last_error=error)
        report.failed += 1
        report.failure(row, error, final=True)
        return
    delay = min(
        settings.notify_retry_base_seconds * 2 ** (attempts - 1),
        policy.dispatch.max_retry_delay_seconds,
    )
    at = now or rt.clock.now()
    _mark(
        rt,
        row.id,
        status=PENDING,
        attempts=attempts,
        last_error=error,
        next_attempt_at=at + timedelta(seconds=delay),
    )
    report.retried += 1
    report.failure(row, error, final=False)


def retry(rt: Env, outbox_id: int, *, actor: str, now: datetime | None = None) -> None:
    """Put a failed message back in the queue, to be sent by the next dispatch."""
    try:
        check_username(actor)
    except ValueError as exc:
        raise InvalidInput(N_("actor: %(exc)s", exc=exc), field="actor") from None
    at = now or rt.clock.now()
    with rt.db.write() as session:
        row = session.get(OutboxMessage, outbox_id)
        if row is None:
            raise NotFound("message", outbox_id)
        if row.status != FAILED:
            raise InvalidInput(
                N_(
                    "message %(outbox_id)s is %(status)s: only failed messages can be retried",
                    outbox_id=outbox_id,
                    status=row.status,
                ),
                field="id",
            )
        note = f"retried by {actor} at {iso_utc(at)}; last error: {row.last_error or '-'}"
        row.status = PENDING
        row.attempts = 0
        row.next_attempt_at = min(at, row.next_attempt_at)  # due now, whatever the clock says
        row.claimed_until = None
        row.last_error = note[:_MAX_ERROR]
