"""Logins, server-side sessions and API tokens of the web console (no HTTP in here).

- :func:`login` checks the password (:func:`tasks.users.authenticate`: argon2id, lockout after
  repeated failures) and starts a NEW session: a random id (``secrets.token_urlsafe``, 256 bits)
  goes to the browser's cookie, only its SHA-256 is stored (``web_sessions``), with the
  session's own CSRF token and an absolute expiry. The session the browser came with, if any,
  is destroyed: every login gets a fresh id (no session fixation).
- :func:`session_auth` turns a cookie back into the user, or None (unknown, expired, or the
  user disabled); :func:`logout` destroys the session on the server.
- API tokens (``api_tokens``) belong to one user, who creates (:func:`create_token`, the token
  is returned once and only its SHA-256 kept) and revokes (:func:`revoke_token`) them.
  :func:`token_auth` accepts a token that is not revoked and whose user is active.
- The login form itself is protected against CSRF before any session exists by a signed double
  submit: a random nonce in a cookie, and in the form its HMAC under ``PRODUZIR_SECRET_KEY``
  (:func:`login_form_token`, :func:`check_login_form`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.web.settings import WebSettings
from states.directory import ApiToken, User, WebSession
from states.errors import InvalidInput, NotFound
from tasks import users
from tasks.runtime import Runtime

SESSION_COOKIE = "produzir_session"
LOGIN_COOKIE = "produzir_login"
TOKEN_PREFIX = "pzr_"  # noqa: S105 - not a secret: what every token starts with
#: characters of a token kept in clear to tell tokens apart ("pzr_" and 8 more)
SHOWN_PREFIX = len(TOKEN_PREFIX) + 8
MAX_ACTIVE_TOKENS = 20
#: a token's last use is written at most this often (an API call is not a write)
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    """SHA-256 (hex) of a session id or token: what the database keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Authenticated:
    """Who is calling, and how: a browser session (with its CSRF token) or an API token."""

    user: User
    session: WebSession | None = None
    token_id: int | None = None

    @property
    def csrf_token(self) -> str | None:
        return self.session.csrf_token if self.session is not None else None


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    """A session just started: the id for the cookie (never stored) and its row."""

    session_id: str
    session: WebSession


def start_session(
    rt: Runtime, settings: WebSettings, username: str, *, replacing: str | None = None
) -> NewSession:
    """A new session for ``username``; the session ``replacing`` (a cookie's id) and the user's
    expired sessions are destroyed in the same transaction."""
    now = rt.clock.now()
    session_id = secrets.token_urlsafe(32)
    row = WebSession(
        id_hash=digest(session_id),
        username=username,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    with rt.db.write() as session:
        if replacing:
            session.execute(delete(WebSession).where(WebSession.id_hash == digest(replacing)))
        session.execute(
            delete(WebSession).where(WebSession.username == username, WebSession.expires_at <= now)
        )
        session.add(row)
    return NewSession(session_id, row)


def login(
    rt: Runtime,
    settings: WebSettings,
    username: str,
    password: str,
    *,
    replacing: str | None = None,
) -> NewSession | None:
    """A new session when the password is right (and the user active, not locked out), the
    session ``replacing`` destroyed; None otherwise, for every reason alike."""
    if len(password) > users.MAX_PASSWORD_LENGTH:
        return None
    user = users.authenticate(
        rt,
        username,
        password,
        max_failures=settings.login_max_failures,
        lock_minutes=settings.login_lock_minutes,
    )
    if user is None:
        return None
    return start_session(rt, settings, user.username, replacing=replacing)


def session_auth(rt: Runtime, session_id: str | None) -> Authenticated | None:
    """The user of a live session id; None when unknown, expired or the user is disabled."""
    if not session_id:
        return None
    with rt.db.read() as session:
        found = session.execute(
            select(WebSession, User)
            .join(User, User.username == WebSession.username)
            .where(WebSession.id_hash == digest(session_id))
        ).first()
        if found is None:
            return None
        web_session, user = found
        session.expunge(web_session)
        session.expunge(user)
    if web_session.expires_at <= rt.clock.now() or not user.active:
        return None
    return Authenticated(user, session=web_session)


def logout(rt: Runtime, session_id: str | None) -> bool:
    """Destroy a session on the server; whether there was one."""
    if not session_id:
        return False
    with rt.db.write() as session:
        done = session.execute(delete(WebSession).where(WebSession.id_hash == digest(session_id)))
        return bool(getattr(done, "rowcount", 0))


# --- the login form's CSRF token (before any session) ----------------------------------------


def login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_form_token(settings: WebSettings, nonce: str) -> str:
    """The token the login form carries for the nonce in the browser's login cookie."""
    return hmac.new(settings.key(), b"login:" + nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def check_login_form(settings: WebSettings, nonce: str | None, token: str | None) -> bool:
    if not nonce or not token:
        return False
    return hmac.compare_digest(
        login_form_token(settings, nonce).encode("utf-8"), token.encode("utf-8")
    )


def check_csrf(auth: Authenticated, token: str | None) -> bool:
    """Whether ``token`` is the session's CSRF token (requests with an API token need none)."""
    expected = auth.csrf_token
    if expected is None:
        return auth.token_id is not None
    return token is not None and hmac.compare_digest(
        expected.encode("utf-8"), token.encode("utf-8")
    )


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    """What a user sees of one of their tokens (never the token itself)."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def of(cls, row: ApiToken) -> TokenInfo:
        return cls(row.id, row.name, row.prefix, row.created_at, row.last_used_at, row.revoked_at)


@dataclass(frozen=True)
class NewToken:
    """A token just created: the token (show it once) and what is kept of it."""

    token: str
    info: TokenInfo


NAME_MISSING = "name the token (e.g. the program that will use it)"
NAME_TOO_LONG = "the token's name is too long (at most 100 characters)"
TOO_MANY_ACTIVE = f"you already have {MAX_ACTIVE_TOKENS} active tokens: revoke one first"


def _token_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(NAME_MISSING, field="name")
    if len(name) > 100:
        raise InvalidInput(NAME_TOO_LONG, field="name")
    return name


def create_token(rt: Runtime, username: str, name: str) -> NewToken:
    """A new API token for ``username``, named ``name``."""
    label = _token_name(name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with rt.db.write() as session:
        active = session.execute(
            select(ApiToken.id).where(ApiToken.username == username, ApiToken.revoked_at.is_(None))
        ).all()
        if len(active) >= MAX_ACTIVE_TOKENS:
            raise InvalidInput(TOO_MANY_ACTIVE, field="name")
        row = ApiToken(
            username=username,
            name=label,
            token_hash=digest(token),
            prefix=token[:SHOWN_PREFIX],
            created_at=rt.clock.now(),
        )
        session.add(row)
        session.flush()
        return NewToken(token, TokenInfo.of(row))


def list_tokens(rt: Runtime, username: str) -> list[TokenInfo]:
    """The user's tokens, newest first, revoked ones included."""
    with rt.db.read() as session:
        rows = session.execute(
            select(ApiToken)
            .where(ApiToken.username == username)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars()
        return [TokenInfo.of(row) for row in rows]


def revoke_token(rt: Runtime, username: str, token_id: int) -> TokenInfo:
    """Revoke one of the user's tokens (a no-op if already revoked); NotFound for a token that
    is not theirs."""
    with rt.db.write() as session:
        row = _own_token(session, username, token_id)
        if row.revoked_at is None:
            row.revoked_at = rt.clock.now()
            session.flush()
        return TokenInfo.of(row)


def _own_token(session: Session, username: str, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.username != username:
        raise NotFound("token", token_id)
    return row


def token_auth(rt: Runtime, token: str | None) -> Authenticated | None:
    """The user of a live API token; None when unknown, revoked or the user is disabled."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    with rt.db.read() as session:
        found = session.execute(
            select(ApiToken.id, ApiToken.revoked_at, ApiToken.last_used_at, User)
            .join(User, User.username == ApiToken.username)
            .where(ApiToken.token_hash == digest(token))
        ).first()
        if found is None:
            return None
        token_id, revoked_at, last_used_at, user = found
        session.expunge(user)
    if revoked_at is not None or not user.active:
        return None
    now = rt.clock.now()
    if last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION:
        with rt.db.write() as session:
            row = session.get(ApiToken, token_id)
            if row is not None:
                row.last_used_at = now
    return Authenticated(user, token_id=token_id)
