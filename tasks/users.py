"""Staff users: add, list and disable the people who work cases and receive their messages.

A user has a role (coordinator, supervisor, manager, auditor, admin), the UFs of their territory
(a supervisor is the escalation point of theirs; none = the whole programme), the language,
time zone and delivery (a daily digest or immediate messages) of their messages, and the
non-escalation categories they opted out of. Users are never deleted, only disabled: their name
stays on every case they touched. Each change appends an audit event (no name or e-mail in it).

Passwords (the web console's login): :func:`set_password` refuses a password shorter than
:data:`MIN_PASSWORD_LENGTH` characters (or longer than :data:`MAX_PASSWORD_LENGTH`, or the
user name itself, or one character repeated) and stores its argon2id hash (RFC 9106's
low-memory profile: 64 MiB, 3 passes, 4 lanes — above OWASP's minimum of 19 MiB, 2 passes, 1
lane). :func:`authenticate` checks a password, counts consecutive failures and locks the user
out for a while after too many; it costs one hash whether or not the user exists, is locked or
disabled, so the time it takes tells nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import Field, field_validator
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from notifications.policy import OPTIONAL_CATEGORIES
from states import audit
from states.audit import iso_utc
from states.bounds import Bounded
from states.directory import LANGUAGES, ROLES, ApiToken, User, WebSession
from states.errors import InvalidInput, NotFound
from states.evidence import check_username
from states.models import AuditEvent
from states.territory import configured_modules
from states.text import N_
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


class UserInput(Bounded):
    """A new staff user, as given on the command line or in a form."""

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
            raise InvalidInput(
                N_("user %(username)s already exists", username=data.username), field="username"
            )
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
        end_access(session, username, now=rt.clock.now())
        session.flush()
        row = _audit(session, rt, "user_disabled", actor, user)
        return UserChange(username, True, row.seq)


def end_access(session: Session, username: str, *, now: datetime) -> None:
    """End every web session of ``username`` and revoke every API token they hold (a new
    password, a disabled user): whoever held them must log in again, if they still may."""
    session.execute(delete(WebSession).where(WebSession.username == username))
    session.execute(
        update(ApiToken)
        .where(ApiToken.username == username, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


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
        record_type="user",
        record_id=None,
    )


def list_users(rt: Runtime, *, include_disabled: bool = True) -> list[dict[str, Any]]:
    """Every user, by user name."""
    query = select(User).order_by(User.username)
    if not include_disabled:
        query = query.where(User.active.is_(True))
    modules = configured_modules()
    with rt.db.read() as session:
        return [
            {
                "username": u.username,
                "name": u.name,
                "email": u.email,
                "role": u.role,
                "territories": list(u.territories),
                #: the regional modules of the user's UFs (states.territory)
                "modules": modules.of_ufs(u.territories),
                "language": u.language,
                "timezone": u.timezone,
                "delivery": u.delivery,
                "opted_out": list(u.opted_out),
                "active": u.active,
                "created_at": iso_utc(u.created_at),
            }
            for u in session.execute(query).scalars()
        ]


# --- passwords ------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
#: argon2id with RFC 9106's low-memory profile (memory in KiB).
HASHER = PasswordHasher(
    time_cost=3, memory_cost=65_536, parallelism=4, hash_len=32, salt_len=16, type=Type.ID
)


def check_password(password: str, username: str) -> str:
    """The password, if the policy accepts it; InvalidInput (field ``password``) otherwise."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_(
                "the password is too short: %(value)s characters, at least %(MIN_PASSWORD_LENGTH)s needed",
                value=len(password),
                MIN_PASSWORD_LENGTH=MIN_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            N_(
                "the password is too long: at most %(MAX_PASSWORD_LENGTH)s characters",
                MAX_PASSWORD_LENGTH=MAX_PASSWORD_LENGTH,
            ),
            field="password",
        )
    if password.strip().lower() == username.lower() or len(set(password)) == 1:
        raise InvalidInput(N_("the password is too easy to guess"), field="password")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash of a password (a PHC string with its salt and parameters)."""
    return HASHER.hash(password)


@cache
def _decoy_hash() -> str:
    """A hash to verify against when there is nothing to verify, so that every attempt costs
    the same time."""
    return HASHER.hash("decoy password never used by anyone")


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; False otherwise (also for no hash: a decoy
    hash is verified instead, taking the same time)."""
    try:
        return HASHER.verify(stored or _decoy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(
    rt: Runtime, username: str, password: str, *, actor: str, hashed: str | None = None
) -> UserChange:
    """Set a user's password (checked against the policy); it also lifts a lockout and ends
    the user's web sessions. ``hashed``: :func:`hash_password` of this same password, already
    computed by a caller giving it to many users (the demo's shared password: one argon2 hash
    instead of one per user); the caller vouches that it is that password's."""
    check_actor(actor)
    with rt.db.read() as session:
        if session.get(User, username) is None:
            raise NotFound("user", username)
    check_password(password, username)
    if hashed is None:
        hashed = hash_password(password)  # outside the write lock
    with rt.db.write() as session:
        user = session.get(User, username)
        if user is None:
            raise NotFound("user", username)
        user.password_hash = hashed
        user.failed_logins = 0
        user.locked_until = None
        # a new password ends the sessions opened with the old one, and the API tokens
        end_access(session, username, now=rt.clock.now())
        session.flush()
        row = _audit(session, rt, "password_set", actor, user)
        return UserChange(username, True, row.seq)


def authenticate(
    rt: Runtime, username: str, password: str, *, max_failures: int, lock_minutes: int
) -> User | None:
    """The user, when the password is right and the user active and not locked out; None
    otherwise, without saying why. Wrong passwords are counted: the ``max_failures``-th in a
    row locks the user out for ``lock_minutes`` (attempts while locked out are not counted and
    always fail). A success resets the count (and upgrades an outdated hash).

    The count is kept atomically, so that at most ``max_failures`` passwords are ever checked
    before the lock, however many attempts arrive at once: an attempt first *reserves* a
    failure (one ``UPDATE ... SET failed_logins = failed_logins + 1 WHERE failed_logins < max``
    that also requires no lock in force); only an attempt that got one has its password
    checked; a right password gives the reservation back (the count returns to 0), a wrong one
    keeps it, and the one that reaches the maximum sets the lock. Attempts without a
    reservation check a decoy hash instead, so the time still tells nothing."""
    name = username.strip().lower()
    now = rt.clock.now()
    with rt.db.read() as session:
        user = session.get(User, name) if name else None
        if user is not None:
            session.expunge(user)  # usable after the read session ends
    stored = user.password_hash if user is not None else None
    if user is None or not user.active or stored is None or not _reserve(rt, name, max_failures):
        verify_password(None, password)  # one hash anyway: the time tells nothing
        return None
    ok = verify_password(stored, password)
    rehashed = hash_password(password) if ok and HASHER.check_needs_rehash(stored) else None
    with rt.db.write() as session:
        row = session.get(User, name)
        if row is None:
            return None
        if ok:
            row.failed_logins = 0
            row.locked_until = None
            if rehashed:
                row.password_hash = rehashed
        elif row.failed_logins >= max_failures:
            row.failed_logins = 0
            row.locked_until = now + timedelta(minutes=lock_minutes)
        session.flush()
        return row if ok else None


def _reserve(rt: Runtime, username: str, max_failures: int) -> bool:
    """Count this attempt as a failure in advance, if the user may still try (no lock in
    force, fewer than ``max_failures`` attempts pending or failed); whether it may."""
    now = rt.clock.now()
    with rt.db.write() as session:
        result = session.execute(
            update(User)
            .where(
                User.username == username,
                User.failed_logins < max_failures,
                (User.locked_until.is_(None)) | (User.locked_until <= now),
            )
            .values(failed_logins=User.failed_logins + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
