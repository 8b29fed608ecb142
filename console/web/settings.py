"""Settings of the web console, read from the environment (prefix ``PRODUZIR_``; a field is its
variable without it, loaded by :func:`states.settings.load`).

=================================== ==========================================================
``PRODUZIR_ENV``                    ``development`` (default), ``test`` or ``production``
``PRODUZIR_WEB_HOST``               address ``produzir web`` listens on (default 127.0.0.1)
``PRODUZIR_WEB_PORT``               its port (default 8000)
``PRODUZIR_SECRET_KEY``             signs the login form's CSRF token; at least 32 characters.
                                    Outside development a missing, short or default key stops
                                    the console at start.
``PRODUZIR_SESSION_HOURS``          a login lasts this long, then the user logs in again (8)
``PRODUZIR_LOGIN_MAX_FAILURES``     wrong passwords in a row that lock a user out (5)
``PRODUZIR_LOGIN_LOCK_MINUTES``     how long the lockout lasts (15)
``PRODUZIR_LOGIN_CONCURRENCY``      password checks (argon2, 64 MiB each) run at once (the cores)
``PRODUZIR_LOGIN_WAIT_SECONDS``     how long a login waits for a free check before 429 (2)
``PRODUZIR_LOGIN_RATE_PER_IP``      login attempts per minute from one address (30)
``PRODUZIR_LOGIN_RATE_PER_USER``    login attempts per minute for one user name (10)
``PRODUZIR_COOKIE_SECURE``          ``auto`` (default: Secure cookies when the request came over
                                    HTTPS), ``true`` (always: behind a TLS proxy) or ``false``
=================================== ==========================================================
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.settings import PREFIX, BadSetting, load
from states.text import N_

MIN_SECRET_KEY_LENGTH = 32
SECRET_KEY_VARIABLE = "PRODUZIR_SECRET_KEY"  # noqa: S105 - the variable's name
#: Only for development: anyone can read it here.
DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"  # noqa: S105


class WebSettings(BaseSettings):
    """How the web console is served and how its logins behave."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development",
        description="development (make run: the built-in secret key is accepted), test, or "
        "production (a secret key of your own is required).",
    )
    web_host: str = Field(default="127.0.0.1", description="Address the console listens on.")
    web_port: int = Field(default=8000, ge=1, le=65535, description="Port it listens on.")
    secret_key: SecretStr | None = Field(
        default=None,
        description=f"At least {MIN_SECRET_KEY_LENGTH} random characters "
        "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`).",
    )
    session_hours: float = Field(default=8, gt=0, le=24 * 30, description="How long a login lasts.")
    login_max_failures: int = Field(
        default=5, ge=1, le=100, description="Wrong passwords in a row that lock a user out."
    )
    login_lock_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a lockout lasts."
    )
    login_concurrency: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        le=64,
        description="Password checks (argon2id, 64 MiB each) run at once.",
    )
    login_wait_seconds: float = Field(
        default=2.0, ge=0, le=60, description="How long a login waits for a check, then 429."
    )
    login_rate_per_ip: int = Field(
        default=30, ge=1, le=10_000, description="Login attempts a minute from one address."
    )
    login_rate_per_user: int = Field(
        default=10, ge=1, le=10_000, description="Login attempts a minute for one user name."
    )
    cookie_secure: Literal["auto", "true", "false"] = Field(
        default="auto",
        description="auto: Secure cookies when the request came over HTTPS; true: always; "
        "false: never.",
    )

    @field_validator("cookie_secure", mode="before")
    @classmethod
    def _yes_no(cls, value: object) -> object:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str):
            lowered = value.strip().lower()
            return {"1": "true", "yes": "true", "on": "true", "0": "false", "no": "false"}.get(
                lowered, lowered
            )
        return value

    @model_validator(mode="after")
    def _a_real_key_outside_development(self) -> WebSettings:
        key = self.secret_key.get_secret_value() if self.secret_key else None
        if self.env == "development":
            return self
        if key is None or key == DEVELOPMENT_SECRET_KEY:
            raise BadSetting(
                N_(
                    "%(variable)s: required when PRODUZIR_ENV is %(env)s (at least %(min)s random characters)",
                    variable=SECRET_KEY_VARIABLE,
                    env=self.env,
                    min=MIN_SECRET_KEY_LENGTH,
                ),
                variable=SECRET_KEY_VARIABLE,
            )
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise BadSetting(
                N_(
                    "%(variable)s: too short (%(n)s characters, at least %(min)s needed)",
                    variable=SECRET_KEY_VARIABLE,
                    n=len(key),
                    min=MIN_SECRET_KEY_LENGTH,
                ),
                variable=SECRET_KEY_VARIABLE,
            )
        return self

    def key(self) -> bytes:
        """The secret key (the development one when none is set in development)."""
        value = self.secret_key.get_secret_value() if self.secret_key else DEVELOPMENT_SECRET_KEY
        return value.encode("utf-8")

    def secure_cookies(self, scheme: str) -> bool:
        """Whether cookies get the Secure attribute for a request that came with ``scheme``."""
        if self.cookie_secure == "auto":
            return scheme == "https"
        return self.cookie_secure == "true"


def load_web_settings() -> WebSettings:
    """The settings from the environment; InvalidInput naming the variable when one is wrong
    (:func:`states.settings.load`)."""
    return load(WebSettings)
