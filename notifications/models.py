"""The transactional outbox and the administrators' template overrides.

An ``outbox`` row is written in the same transaction as the change that causes it (an
assignment, a transition, a reminder queued by a sweep). Its ``key`` — case, obligation, due
date, reminder step, recipient — is unique, so a second sweep or a retry is a no-op; a deadline
that moves makes new keys. Dispatch claims pending rows, sends them, marks them sent; the
Message-ID is derived from the key, so a message sent twice (a crash between sending and
marking) is recognisably the same message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from states.models import Base

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
DIGESTED = "digested"  # folded into a daily digest, which is its own outbox row
SKIPPED = "skipped"  # the recipient opted out, or the case closed before it left
STATUSES = (PENDING, SENDING, SENT, FAILED, DIGESTED, SKIPPED)


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    #: derived from ``key`` (a hash of it), so unique with it: no index of its own to maintain
    message_id: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    #: reminder | escalation | assignment | transition | digest
    category: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(64))  # a username
    email: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(5))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_recipient_status", "recipient", "status"),
    )


class TemplateOverride(Base):
    __tablename__ = "template_overrides"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    #: subject | text | html
    part: Mapped[str] = mapped_column(String(10), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
