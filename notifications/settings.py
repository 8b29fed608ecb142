"""Settings of the notifications: which channel, where the mailbox is, the SMTP server, retries.

Read from the environment; every variable is named below (``PRODUZIR_...``) and documented in
the field's description. Invalid settings stop the system at start: :func:`load_settings` turns
pydantic's validation error into :class:`~states.errors.InvalidInput` naming the variable, e.g.
``PRODUZIR_SMTP_PORT: 'abc' is not a number``.

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

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.errors import InvalidInput

CHANNELS = ("mailbox", "smtp")
SECURITIES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class NotificationSettings(BaseSettings):
    """How notifications leave the system. Field names are what the code reads; the aliases are
    the environment variables."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    channel: Literal["mailbox", "smtp"] = Field(
        default="mailbox",
        validation_alias="PRODUZIR_NOTIFY_CHANNEL",
        description="Where messages go: 'mailbox' writes each one as an .eml file in "
        "PRODUZIR_MAILBOX_DIR (the embedded default); 'smtp' sends them to PRODUZIR_SMTP_HOST.",
    )
    data_dir: Path = Field(
        default=Path("var"),
        validation_alias="PRODUZIR_DATA_DIR",
        description="The project's data folder (shared with the database settings); the "
        "mailbox defaults to its 'mailbox' subfolder.",
    )
    mailbox_dir: Path | None = Field(
        default=None,
        validation_alias="PRODUZIR_MAILBOX_DIR",
        description="Folder of the local mailbox; default <PRODUZIR_DATA_DIR>/mailbox.",
    )
    smtp_host: str | None = Field(
        default=None,
        validation_alias="PRODUZIR_SMTP_HOST",
        description="SMTP server host name or address; required when the channel is smtp.",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        validation_alias="PRODUZIR_SMTP_PORT",
        description="SMTP port; default 25 (security none), 587 (starttls) or 465 (ssl).",
    )
    smtp_security: Literal["none", "starttls", "ssl"] = Field(
        default="starttls",
        validation_alias="PRODUZIR_SMTP_SECURITY",
        description="'starttls' upgrades a plain connection (port 587), 'ssl' connects with "
        "TLS from the start (port 465), 'none' sends in clear (a relay on the same host only).",
    )
    smtp_username: str | None = Field(
        default=None,
        validation_alias="PRODUZIR_SMTP_USERNAME",
        description="SMTP login user; no login when unset.",
    )
    smtp_password: SecretStr | None = Field(
        default=None,
        validation_alias="PRODUZIR_SMTP_PASSWORD",
        description="SMTP login password (kept out of logs and reprs).",
    )
    smtp_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        validation_alias="PRODUZIR_SMTP_TIMEOUT",
        description="Seconds allowed for connecting and for each SMTP command: a server that "
        "hangs costs at most this long before the message is retried later.",
    )
    sender: str = Field(
        default="PRODUZIR <nao-responda@produzir.local>",
        validation_alias="PRODUZIR_MAIL_FROM",
        description="The From address of every message, e.g. "
        "'PRODUZIR <nao-responda@example.gov.br>'.",
    )
    message_id_domain: str = Field(
        default="produzir.local",
        validation_alias="PRODUZIR_MESSAGE_ID_DOMAIN",
        description="Domain on the right of each Message-ID (<hash@domain>); use the "
        "organisation's mail domain.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias="PRODUZIR_PUBLIC_URL",
        description="The web console's public address: every message links to the case "
        "(or the due list) there, e.g. https://produzir.example.gov.br.",
    )
    max_attempts: int = Field(
        default=8,
        ge=1,
        le=100,
        validation_alias="PRODUZIR_NOTIFY_MAX_ATTEMPTS",
        description="Attempts of a message that keeps failing temporarily (refused, timeout, "
        "4xx) before it is marked failed.",
    )
    retry_base_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias="PRODUZIR_NOTIFY_RETRY_BASE_SECONDS",
        description="Delay before the first retry; each further retry waits twice as long.",
    )
    batch_size: int = Field(
        default=100,
        ge=1,
        le=100_000,
        validation_alias="PRODUZIR_NOTIFY_BATCH_SIZE",
        description="How many pending messages one dispatch run claims at a time.",
    )

    @field_validator("sender")
    @classmethod
    def _an_address(cls, value: str) -> str:
        _, address = parseaddr(value)
        local, at, domain = address.rpartition("@")
        if not (local and at and domain) or "\n" in value or "\r" in value:
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("public_url")
    @classmethod
    def _a_web_address(cls, value: str) -> str:
        return _web_address(value)

    @field_validator("message_id_domain")
    @classmethod
    def _a_domain(cls, value: str) -> str:
        if not _DOMAIN.match(value):
            raise ValueError(f"{value!r} is not a domain name")
        return value

    @field_validator("smtp_host", "smtp_username")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _smtp_needs_a_host(self) -> NotificationSettings:
        if self.channel == "smtp" and not self.smtp_host:
            raise ValueError("PRODUZIR_SMTP_HOST: required when PRODUZIR_NOTIFY_CHANNEL is smtp")
        if self.smtp_password is not None and not self.smtp_username:
            raise ValueError("PRODUZIR_SMTP_USERNAME: required when PRODUZIR_SMTP_PASSWORD is set")
        return self

    def resolved_mailbox_dir(self) -> Path:
        """The mailbox folder, defaulting to the data folder's ``mailbox``."""
        return self.mailbox_dir if self.mailbox_dir is not None else self.data_dir / "mailbox"

    def resolved_smtp_port(self) -> int:
        """The SMTP port, defaulting to the usual one for the security chosen."""
        return self.smtp_port if self.smtp_port is not None else DEFAULT_PORTS[self.smtp_security]


_ALIASES: dict[str, str] = {
    name: str(field.validation_alias)
    for name, field in NotificationSettings.model_fields.items()
    if field.validation_alias
}

_CHOICES: dict[str, tuple[str, str]] = {
    "channel": ("channel", ", ".join(CHANNELS)),
    "smtp_security": ("security", ", ".join(SECURITIES)),
}


def _field_of(error: Any) -> tuple[str | None, str]:
    """The field an error concerns and its environment variable ("" for model-level rules)."""
    loc = error.get("loc") or ()
    key = str(loc[0]) if loc else ""
    field = next((n for n, alias in _ALIASES.items() if key in (n, alias)), None)
    return field, _ALIASES[field] if field else key


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _explain(error: Any) -> str:
    """One sentence for one pydantic error, starting with the variable it concerns."""
    field, variable = _field_of(error)
    kind = error.get("type", "")
    value = error.get("input")
    context = error.get("ctx") or {}
    if not variable:  # a model-level rule: its message starts with the variable
        return str(context.get("error", error.get("msg", ""))).removeprefix("Value error, ")
    if kind == "literal_error" and field in _CHOICES:
        what, choices = _CHOICES[field]
        return f"{variable}: unknown {what} {value!r} ({choices})"
    if kind in ("int_parsing", "float_parsing", "int_from_float"):
        whole = kind != "float_parsing" and _is_number(value)
        return f"{variable}: {value!r} is not a {'whole ' if whole else ''}number"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(context.values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        return f"{variable}: {value!r} must be {words} {bound}"
    if kind == "value_error":
        return f"{variable}: {context.get('error', error.get('msg'))}"
    return f"{variable}: {value!r}: {error.get('msg')}"


def load_settings(**overrides: Any) -> NotificationSettings:
    """The settings from the environment (``overrides`` win, by field name); InvalidInput
    naming each bad variable when they are wrong, so the system refuses to start."""
    try:
        return NotificationSettings(**overrides)
    except ValidationError as exc:
        problems = [_explain(e) for e in exc.errors()]
        raise InvalidInput("; ".join(problems), field=problems[0].split(":")[0]) from None


def public_url() -> str:
    """The web console's public address (``PRODUZIR_PUBLIC_URL``), for the links in messages
    (read alone, so a message renders whatever the channel's settings are)."""
    value = os.environ.get("PRODUZIR_PUBLIC_URL") or "http://127.0.0.1:8000"
    return _web_address(value)


def _web_address(value: str) -> str:
    if not value.startswith(("http://", "https://")) or " " in value:
        raise ValueError(f"{value!r} is not a web address (http:// or https://...)")
    return value.rstrip("/")
