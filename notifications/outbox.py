"""Writing to the outbox: a notification is a row, queued in the transaction of its cause.

:func:`enqueue` inserts one row with ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite and
PostgreSQL alike): the row's ``key`` says what it is about — case, obligation, due date,
reminder step, recipient — so queuing it again (a second sweep, two sweeps at once, a retry)
changes nothing, and a deadline that moves makes new keys (the due date is in the key). The
Message-ID is derived from the key (:func:`message_id_for`), so a message sent twice after a
crash is recognisably the same message.

A recipient's opted-out categories are written ``skipped`` (kept, never sent): the outbox
shows what the system would have said. :func:`for_transition` queues what a change of a case
tells people (the messages the event declares: an assignment to the new coordinator; a
transition to the coordinator, unless they made it), for :func:`tasks.cases.advance` to call
inside its transaction.

Nothing here sends anything; :mod:`notifications.dispatch` does, after the commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Insert, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from notifications.models import PENDING, SKIPPED, STATUSES, OutboxMessage
from notifications.policy import ASSIGNMENT, ESCALATION, TRANSITION
from states.audit import iso_utc
from states.clock import Clock
from states.db import Database
from states.directory import User
from states.errors import InvalidInput
from states.models import Case, Municipality
from states.text import N_

_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]


class Env(Protocol):
    """What notifications need of the runtime (``tasks.runtime.Runtime`` is one)."""

    db: Database
    clock: Clock


class Addressee(Protocol):
    """Whom a row goes to: a :class:`~states.directory.User` or a :class:`Recipient`."""

    @property
    def username(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def opted_out(self) -> Sequence[str]: ...


class _Territorial(Protocol):
    @property
    def territories(self) -> Sequence[str]: ...


_T = TypeVar("_T", bound=_Territorial)


@dataclass(frozen=True)
class Recipient:
    """A user as the sweep and the digests read them (detached from any session)."""

    username: str
    name: str
    email: str
    role: str
    territories: tuple[str, ...]
    language: str
    timezone: str
    delivery: str
    opted_out: tuple[str, ...]

    @classmethod
    def of(cls, user: User) -> Recipient:
        return cls(
            user.username,
            user.name,
            user.email,
            user.role,
            tuple(user.territories),
            user.language,
            user.timezone,
            user.delivery,
            tuple(user.opted_out),
        )


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID of the row with ``key``: ``<first 32 hex of sha256(key)@domain>``."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def default_domain() -> str:
    """The Message-ID domain of the settings (``PRODUZIR_MESSAGE_ID_DOMAIN``)."""
    from notifications.settings import load_settings

    return load_settings().message_id_domain


def deadline_key(case_id: int, subject: str, due_on: date, step: str, recipient: str) -> str:
    """Key of a reminder or escalation: ``subject`` is ``state:<state>`` or ``obligation:<id>``."""
    return f"case:{case_id}:{subject}:{due_on.isoformat()}:{step}:{recipient}"


def values_for(
    *,
    key: str,
    case_id: int | None,
    category: str,
    template: str,
    recipient: Addressee,
    context: Mapping[str, Any],
    now: datetime,
    domain: str,
) -> dict[str, Any]:
    """The column values of one outbox row (``skipped`` when the recipient opted out)."""
    opted_out = category != ESCALATION and category in recipient.opted_out
    return {
        "key": key,
        "message_id": message_id_for(key, domain),
        "case_id": case_id,
        "category": category,
        "template": template,
        "recipient": recipient.username,
        "email": recipient.email,
        "language": recipient.language,
        "context": dict(context),
        "status": SKIPPED if opted_out else PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "claimed_until": None,
        "last_error": "the recipient opted out of this category" if opted_out else None,
        "created_at": now,
        "sent_at": None,
        "digest_id": None,
    }


def _insert(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(_OUTBOX).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(_OUTBOX).on_conflict_do_nothing()
    raise NotImplementedError(f"the outbox supports SQLite and PostgreSQL, not {dialect}")


def insert_rows(session: Session, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Insert rows made by :func:`values_for`, skipping keys already queued; the keys inserted.

    One cached statement run with many parameter sets (SQLAlchemy batches them into
    multi-row INSERTs); ``RETURNING`` names the rows that were new.
    """
    batch = list(rows)
    if not batch:
        return []
    statement = _insert(session).returning(_OUTBOX.c.key)
    return list(session.execute(statement, batch).scalars())


def enqueue(
    session: Session,
    *,
    key: str,
    case_id: int | None,
    category: str,
    template: str,
    recipient: Addressee,
    context: Mapping[str, Any],
    now: datetime,
    domain: str | None = None,
) -> bool:
    """Queue one message in the caller's transaction; False when its key was already queued."""
    row = values_for(
        key=key,
        case_id=case_id,
        category=category,
        template=template,
        recipient=recipient,
        context=context,
        now=now,
        domain=domain or default_domain(),
    )
    return len(insert_rows(session, [row])) == 1


def case_context(case: Case, municipality: Municipality | None) -> dict[str, Any]:
    """What every case message says about its case (see ``notifications.render.PLACEHOLDERS``)."""
    return {
        "case_id": case.id,
        "community": case.community,
        "municipality": municipality.name if municipality else str(case.municipality_code),
        "uf": municipality.uf if municipality else "",
        "activity": case.activity,
        "state": case.state,
        "due_on": case.due_on.isoformat() if case.due_on else None,
        "coordinator": case.coordinator,
    }


def territory_supervisor(supervisors: Iterable[_T], uf: str) -> _T | None:
    """The first supervisor given whose territory holds ``uf`` or who has none (national)."""
    for user in supervisors:
        if not user.territories or uf in user.territories:
            return user
    return None


def contact_of(supervisor: Addressee | None) -> dict[str, Any]:
    """The ``contact_name`` / ``contact_email`` placeholders: whom to ask for help."""
    return {
        "contact_name": supervisor.name if supervisor else None,
        "contact_email": supervisor.email if supervisor else None,
    }


def for_transition(
    session: Session,
    case: Case,
    *,
    case_version: int,
    event: str,
    messages: Sequence[str],
    from_state: str,
    to_state: str,
    actor: str,
    now: datetime,
    note: str | None = None,
    previous_coordinator: str | None = None,
    municipality: Municipality | None = None,
    domain: str | None = None,
) -> int:
    """Queue what a change of ``case`` (already updated) tells people; how many rows were new.

    ``messages`` are the ones the event declares (:attr:`states.events.EventSpec.messages`):

    - ``assignment``: the new coordinator hears of the assignment (unless they assigned
      themselves, or were already the coordinator);
    - ``transition``: on a change of state, the coordinator hears of it, unless they made it.

    Recipients must be active users; anyone else is not written to (a coordinator who is not
    yet a user simply gets nothing). Called inside the operation's transaction, so the rows
    commit or roll back with the change. Costs nothing (no query) when nobody is to be told.
    """
    coordinator = case.coordinator
    category: str | None = None
    if "assignment" in messages:
        if coordinator and coordinator not in (actor, previous_coordinator):
            category = ASSIGNMENT
    elif "transition" in messages and from_state != to_state and coordinator != actor:
        category = TRANSITION
    if category is None or coordinator is None:
        return 0
    people = {
        u.username: u
        for u in session.execute(
            select(User).where(User.username.in_([coordinator, actor]), User.active.is_(True))
        ).scalars()
    }
    recipient = people.get(coordinator)
    if recipient is None:
        return 0
    if municipality is None:
        municipality = session.get(Municipality, case.municipality_code)
    supervisors = session.execute(
        select(User).where(User.role == "supervisor", User.active.is_(True)).order_by(User.username)
    ).scalars()
    base = case_context(case, municipality)
    context: dict[str, Any] = {
        **base,
        **contact_of(territory_supervisor(supervisors, base["uf"])),
        "recipient_name": recipient.name,
        "event": event,
        "from_state": from_state,
        "to_state": to_state,
        "actor": actor,
        "note": note,
    }
    if category == ASSIGNMENT:
        by = people.get(actor)
        context["assigned_by"] = by.name if by else actor
    row = values_for(
        key=f"case:{case.id}:v{case_version}:{category}:{coordinator}",
        case_id=case.id,
        category=category,
        template=category,
        recipient=recipient,
        context=context,
        now=now,
        domain=domain or default_domain(),
    )
    return len(insert_rows(session, [row]))


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    case_id: int | None = None,
    recipient: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Outbox rows, newest first, for people to read (``produzir notify list``)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            N_(
                "unknown status %(status)s; statuses are: %(value)s",
                status=repr(status),
                value=", ".join(STATUSES),
            ),
            field="status",
        )
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    if case_id is not None:
        query = query.where(OutboxMessage.case_id == case_id)
    if recipient is not None:
        query = query.where(OutboxMessage.recipient == recipient)
    return [
        {
            "id": m.id,
            "status": m.status,
            "category": m.category,
            "template": m.template,
            "case_id": m.case_id,
            "recipient": m.recipient,
            "email": m.email,
            "language": m.language,
            "step": m.context.get("policy_step") or m.context.get("step"),
            "due_on": m.context.get("due_on"),
            "attempts": m.attempts,
            "next_attempt_at": iso_utc(m.next_attempt_at),
            "sent_at": iso_utc(m.sent_at) if m.sent_at else None,
            "digest_id": m.digest_id,
            "last_error": m.last_error,
            "key": m.key,
            "message_id": m.message_id,
            "created_at": iso_utc(m.created_at),
        }
        for m in session.execute(query).scalars()
    ]
