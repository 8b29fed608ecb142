"""Settings of the notifications: which channel, where the mailbox is, the SMTP server, retries.

Read from the environment; every variable is named below (``PRODUZIR_...``) and documented in
the field's description (a field is its variable without ``PRODUZIR_``: ``smtp_port`` is
``PRODUZIR_SMTP_PORT``). Invalid settings stop the system at start: :func:`load_settings`
(:func:`states.settings.load`) raises :class:`~states.errors.InvalidInput` naming the variable,
e.g. ``PRODUZIR_SMTP_PORT: 'abc' is not a whole number``.

=================================== ==========================================================
``PRODUZIR_NOTIFY_CHANNEL``         ``mailbox`` (default: .eml files in a folder) or ``smtp``
``PRODUZIR_MAILBOX_DIR``            the mailbox folder (default ``<PRODUZIR_DATA_DIR>/mailbox``)
``PRODUZIR_SMTP_HOST``              SMTP server (required when the channel is ``smtp``)
``PRODUZIR_SMTP_PORT``              SMTP port (default 25, 587 with STARTTLS, 465 with SSL)
``PRODUZIR_SMTP_SECURITY``          ``none``, ``starttls`` or ``ssl``
``PRODUZIR_SMTP_USERNAME``          login user (no login when unset)
``PRODUZIR_SMTP_PASSWORD``          login password
``PRODUZIR_SMTP_TIMEOUT``           seconds for the connection and for each SMTP command
``PRODUZIR_MAIL_FROM``              the From address
``PRODUZIR_MESSAGE_ID_DOMAIN``      the right-hand side of every Message-ID
``PRODUZIR_NOTIFY_MAX_ATTEMPTS``    attempts before a transient failure becomes ``failed``
``PRODUZIR_NOTIFY_RETRY_BASE_SECONDS`` first retry delay; it doubles after each attempt
``PRODUZIR_NOTIFY_BATCH_SIZE``      messages one dispatch run claims at a time
=================================== ==========================================================
"""

from __future__ import annotations

import os
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.settings import PREFIX, BadSetting, load
from states.text import N_

CHANNELS = ("mailbox", "smtp")
SECURITIES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class NotificationSettings(BaseSettings):
    """How notifications leave the system (each field is ``PRODUZIR_`` + its name)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    notify_channel: Literal["mailbox", "smtp"] = Field(
        default="mailbox",
        description="Where messages go: 'mailbox' writes each one as an .eml file in "
        "PRODUZIR_MAILBOX_DIR (the embedded default); 'smtp' sends them to PRODUZIR_SMTP_HOST.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        description="The project's data folder (shared with the database settings); the "
        "mailbox defaults to its 'mailbox' subfolder.",
    )
    mailbox_dir: Path | None = Field(
        default=None,
        description="Folder of the local mailbox; default <PRODUZIR_DATA_DIR>/mailbox.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server host name or address; required when the channel is smtp.",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port; default 25 (security none), 587 (starttls) or 465 (ssl).",
    )
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="starttls",
        description="'starttls' upgrades a plain connection (port 587), 'ssl' connects with "
        "TLS from the start (port 465), 'none' sends in clear (a relay on the same host only).",
    )
    smtp_username: str | None = Field(
        default=None,
        description="SMTP login user; no login when unset.",
    )
    smtp_password: SecretStr | None = Field(
        default=None,
        description="SMTP login password (kept out of logs and reprs).",
    )
    smtp_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds allowed for connecting and for each SMTP command: a server that "
        "hangs costs at most this long before the message is retried later.",
    )
    mail_from: str = Field(
        default="PRODUZIR <nao-responda@produzir.local>",
        description="The From address of every message, e.g. "
        "'PRODUZIR <nao-responda@example.gov.br>'.",
    )
    message_id_domain: str = Field(
        default="produzir.local",
        description="Domain on the right of each Message-ID (<hash@domain>); use the "
        "organisation's mail domain.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The web console's public address: every message links to the case "
        "(or the due list) there, e.g. https://produzir.example.gov.br.",
    )
    notify_max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Attempts of a message that keeps failing temporarily (refused, timeout, "
        "4xx) before it is marked failed.",
    )
    notify_retry_base_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Delay before the first retry; each further retry waits twice as long.",
    )
    notify_batch_size: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="How many pending messages one dispatch run claims at a time.",
    )

    @field_validator("mail_from")
    @classmethod
    def _an_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, at, domain = address.rpartition("@")
        if not (local and at and domain) or "\n" in value or "\r" in value:
            raise BadSetting(N_("%(value)s is not an e-mail address", value=repr(value)))
        return value

    @field_validator("public_url")
    @classmethod
    def _a_web_address(cls, value: str) -> str:
        return _web_address(value)

    @field_validator("message_id_domain")
    @classmethod
    def _a_domain(cls, value: str) -> str:
        if not _DOMAIN.match(value):
            raise BadSetting(N_("%(value)s is not a domain name", value=repr(value)))
        return value

    @field_validator("smtp_host", "smtp_username")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _smtp_needs_a_host(self) -> NotificationSettings:
        if self.notify_channel == "smtp" and not self.smtp_host:
            raise BadSetting(
                N_(
                    "%(variable)s: required when %(other)s is smtp",
                    variable="PRODUZIR_SMTP_HOST",
                    other="PRODUZIR_NOTIFY_CHANNEL",
                ),
                variable="PRODUZIR_SMTP_HOST",
            )
        if self.smtp_password is not None and not self.smtp_username:
            raise BadSetting(
                N_(
                    "%(variable)s: required when %(other)s is set",
                    variable="PRODUZIR_SMTP_USERNAME",
                    other="PRODUZIR_SMTP_PASSWORD",
                ),
                variable="PRODUZIR_SMTP_USERNAME",
            )
        return self

    def resolved_mailbox_dir(self) -> Path:
        """The mailbox folder, defaulting to the data folder's ``mailbox``."""
        return self.mailbox_dir if self.mailbox_dir is not None else self.data_dir / "mailbox"

    def resolved_smtp_port(self) -> int:
        """The SMTP port, defaulting to the usual one for the security chosen."""
        return self.smtp_port if self.smtp_port is not None else DEFAULT_PORTS[self.smtp_security]


def load_settings(**overrides: Any) -> NotificationSettings:
    """The settings from the environment (``overrides`` win, by field name); InvalidInput
    naming each bad variable when they are wrong, so the system refuses to start
    (:func:`states.settings.load`)."""
    return load(NotificationSettings, **overrides)


def public_url() -> str:
    """The web console's public address (``PRODUZIR_PUBLIC_URL``), for the links in messages
    (read alone, so a message renders whatever the channel's settings are)."""
    value = os.environ.get("PRODUZIR_PUBLIC_URL") or "http://127.0.0.1:8000"
    return _web_address(value)


def _web_address(value: str) -> str:
    if not value.startswith(("http://", "https://")) or " " in value:
        raise BadSetting(
            N_("%(value)s is not a web address (http:// or https://...)", value=repr(value))
        )
    return value.rstrip("/")
