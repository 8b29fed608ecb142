"""Who works in the programme and where: staff users, and the municipal holidays calendar.

- ``users``: coordinators (scoped to territories: UFs), supervisors (a territory's escalation
  point), programme management, auditors, administrators — with the e-mail, language and time
  zone their messages use, and how they want them (a daily digest or immediate messages, and
  the non-escalation categories they opted out of).
- ``office_closures``: the days an administrator closes (or opens) the offices of a UF or
  municipality, beside the pontos facultativos the configuration closes.
- ``municipal_holidays``: holidays the ``holidays`` package does not know (municipal ones),
  kept by an administrator; with national and state holidays they make the working-day calendar.
- ``calendar_generation``: a counter the database moves whenever either of the two tables above
  changes, so a cached working-day calendar knows it is out of date.
- ``web_sessions``: the web console's server-side sessions. The row's key is the SHA-256 of the
  session id the browser holds (the id itself is never stored); each session has its own CSRF
  token and an absolute expiry.
- ``api_tokens``: personal API tokens, created and revoked by their user; only the SHA-256 of
  the token is kept (it is shown once, when created), with a short prefix to recognise it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from states.errors import InvalidInput
from states.models import Base
from states.text import N_, Term

ROLES = ("coordinator", "supervisor", "manager", "auditor", "admin")
LANGUAGES = ("pt-BR", "en")


class User(Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    #: UFs of the user's territory (coordinators, supervisors); empty = the whole programme
    territories: Mapped[list[str]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(5), default="pt-BR")
    timezone: Mapped[str] = mapped_column(String(40), default="America/Sao_Paulo")
    #: "digest" (at most one message a day) or "immediate"
    delivery: Mapped[str] = mapped_column(String(10), default="digest")
    #: non-escalation categories the user does not want (e.g. ["transition"])
    opted_out: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    #: argon2id hash (PHC string) of the web console password; None = cannot log in
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    #: consecutive failed logins since the last success or lock
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: logins are refused until then (after repeated failures)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class MunicipalHoliday(Base):
    __tablename__ = "municipal_holidays"

    municipality_code: Mapped[int] = mapped_column(
        ForeignKey("municipalities.ibge_code"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class OfficeClosure(Base):
    """An administrator's decision on the programme's offices for one day and place.

    ``scope`` is ``uf:CE`` or ``municipality:2311306``. ``closed`` true: the office does not
    open that day (a ponto facultativo it adopts, a closure decreed locally); false: it opens on
    a ponto facultativo the configuration would close. A municipality's row wins over its UF's.
    """

    __tablename__ = "office_closures"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    scope: Mapped[str] = mapped_column(String(24), primary_key=True)
    closed: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class CalendarGeneration(Base):
    """One row (id 1): ``n`` takes a new value (never a rolled-back one) whenever
    ``municipal_holidays`` or ``office_closures`` change (database triggers, revision 0013);
    cached calendars are valid while it stays."""

    __tablename__ = "calendar_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)


class WebSession(Base):
    __tablename__ = "web_sessions"

    #: SHA-256 (hex) of the session id held in the browser's cookie
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"))
    #: the token every form posted in this session must carry
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_web_sessions_username", "username"),)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"))
    name: Mapped[str] = mapped_column(String(100))
    #: SHA-256 (hex) of the token; the token itself is shown once and never stored
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the token's first characters, to tell tokens apart in a list
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_api_tokens_username", "username"),)


def check_assignee(session: Session, username: str, uf: str, *, field: str) -> User:
    """The user a case is assigned to: an active coordinator whose territory covers ``uf``;
    InvalidInput (422 / exit 2) naming what is wrong otherwise (nothing is written, and no
    message tells anyone about the case)."""
    user = session.get(User, username)
    if user is None:
        raise InvalidInput(N_("coordinator %(name)s: no such user", name=username), field=field)
    if not user.active:
        raise InvalidInput(
            N_("coordinator %(name)s: the user is disabled", name=username), field=field
        )
    if user.role != "coordinator":
        raise InvalidInput(
            N_(
                "coordinator %(name)s: their role is %(role)s, not coordinator",
                name=username,
                role=Term("role", user.role),
            ),
            field=field,
        )
    territory = {t.upper() for t in user.territories}
    if uf.upper() not in territory:
        raise InvalidInput(
            N_(
                "coordinator %(name)s: their territory (%(territory)s) does not cover %(uf)s, "
                "the case's UF",
                name=username,
                territory=", ".join(sorted(territory)) or "—",
                uf=uf.upper(),
            ),
            field=field,
        )
    return user
