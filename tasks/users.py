"""Staff users: add, list and disable the people who work cases and receive their messages.

A user has a role (coordinator, supervisor, manager, auditor, admin), the UFs of their territory
(a supervisor is the escalation point of theirs; none = the whole programme), the language,
time zone and delivery (a daily digest or immediate messages) of their messages, and the
non-escalation categories they opted out of. Users are never deleted, only disabled: their name
stays on every case they touched. Each change appends an audit event (no name or e-mail in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.policy import OPTIONAL_CATEGORIES
from states import audit
from states.audit import iso_utc
from states.directory import LANGUAGES, ROLES, User
from states.errors import InvalidInput, NotFound
from states.evidence import check_username
from states.models import AuditEvent
from tasks.demands import check_actor
from tasks.records_common import parse_input
from tasks.runtime import Runtime

#: The 26 states and the Federal District.
# fmt: off
UFS = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)
# fmt: on
DELIVERIES = ("digest", "immediate")
#: Categories a person may opt out of; escalations always reach them.
OPT_OUT_CATEGORIES = OPTIONAL_CATEGORIES
#: User names the system keeps for itself (the actor of time-driven transitions).
RESERVED = frozenset({"system"})
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class UserInput(BaseModel):
    """A new staff user, as given on the command line or in a form."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    username: str
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=200)
    role: str
    territories: tuple[str, ...] = ()
    language: str = "pt-BR"
    timezone: str = "America/Sao_Paulo"
    delivery: str = "digest"
    opted_out: tuple[str, ...] = ()

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        check_username(value)
        if value in RESERVED:
            raise ValueError(f"{value!r} is reserved for the system")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        local, domain = value.rsplit("@", 1)
        return f"{local}@{domain.lower()}"

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"unknown role {value!r}; roles are: {', '.join(ROLES)}")
        return value

    @field_validator("territories")
    @classmethod
    def _territories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        ufs = tuple(dict.fromkeys(v.upper() for v in value))
        unknown = [v for v in ufs if v not in UFS]
        if unknown:
            raise ValueError(f"unknown UF {', '.join(unknown)}; UFs are two letters, e.g. CE")
        return ufs

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; languages are: {', '.join(LANGUAGES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (e.g. America/Fortaleza)"
            ) from None
        return value

    @field_validator("delivery")
    @classmethod
    def _delivery(cls, value: str) -> str:
        if value not in DELIVERIES:
            raise ValueError(f"delivery must be one of: {', '.join(DELIVERIES)}")
        return value

    @field_validator("opted_out")
    @classmethod
    def _opted_out(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for category in value:
            if category == "escalation":
                raise ValueError("escalations cannot be opted out of")
            if category not in OPT_OUT_CATEGORIES:
                raise ValueError(
                    f"unknown category {category!r}; one may opt out of: "
                    f"{', '.join(OPT_OUT_CATEGORIES)}"
                )
        return tuple(dict.fromkeys(value))


@dataclass(frozen=True)
class UserChange:
    username: str
    changed: bool
    seq: int | None


def _public(user: User) -> dict[str, Any]:
    """What the audit event may say about a user: no name, no e-mail."""
    return {
        "username": user.username,
        "role": user.role,
        "territories": list(user.territories),
        "language": user.language,
        "timezone": user.timezone,
        "delivery": user.delivery,
        "opted_out": list(user.opted_out),
        "active": user.active,
    }


def add_user(rt: Runtime, raw: UserInput | dict[str, Any], *, actor: str) -> UserChange:
    """Create a staff user; refuses a user name already taken (even by a disabled user)."""
    check_actor(actor)
    data = parse_input(UserInput, raw, "user")
    now = rt.clock.now()
    with rt.db.write() as session:
        if session.get(User, data.username) is not None:
            raise InvalidInput(f"user {data.username} already exists", field="username")
        user = User(
            username=data.username,
            name=data.name,
            email=data.email,
            role=data.role,
            territories=list(data.territories),
            language=data.language,
            timezone=data.timezone,
            delivery=data.delivery,
            opted_out=list(data.opted_out),
            active=True,
            created_at=now,
        )
        session.add(user)
        session.flush()
        row = _audit(session, rt, "user_added", actor, user)
        return UserChange(user.username, True, row.seq)


def disable_user(rt: Runtime, username: str, *, actor: str) -> UserChange:
    """Disable a user: no more messages to them; their history stays. A no-op if disabled."""
    check_actor(actor)
    with rt.db.write() as session:
        user = session.get(User, username)
        if user is None:
            raise NotFound("user", username)
        if not user.active:
            return UserChange(username, False, None)
        user.active = False
        session.flush()
        row = _audit(session, rt, "user_disabled", actor, user)
        return UserChange(username, True, row.seq)


def _audit(session: Session, rt: Runtime, event: str, actor: str, user: User) -> AuditEvent:
    return audit.append(
        session,
        case_id=None,
        case_version=None,
        lifecycle_version=rt.lifecycle.version,
        event=event,
        from_state=None,
        to_state=None,
        actor=actor,
        note=None,
        evidence=_public(user),
        changes={},
        occurred_at=rt.clock.now(),
        postgresql=rt.db.is_postgresql,
        record_type="user",
        record_id=None,
    )


def list_users(rt: Runtime, *, include_disabled: bool = True) -> list[dict[str, Any]]:
    """Every user, by user name."""
    query = select(User).order_by(User.username)
    if not include_disabled:
        query = query.where(User.active.is_(True))
    with rt.db.read() as session:
        return [
            {
                "username": u.username,
                "name": u.name,
                "email": u.email,
                "role": u.role,
                "territories": list(u.territories),
                "language": u.language,
                "timezone": u.timezone,
                "delivery": u.delivery,
                "opted_out": list(u.opted_out),
                "active": u.active,
                "created_at": iso_utc(u.created_at),
            }
            for u in session.execute(query).scalars()
        ]
