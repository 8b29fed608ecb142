"""Settings of the domain core (where the data lives, which lifecycle definition runs), and the
one convention every package's settings follow.

**The convention.** Each package owns a pydantic-settings class read from the environment with
``model_config = SettingsConfigDict(env_prefix=PREFIX)`` (``PRODUZIR_``): a field's name is its
variable's name without the prefix (``smtp_port`` is ``PRODUZIR_SMTP_PORT``), no aliases. The
README's settings table lists every variable.

**Loading.** :func:`load` builds one (``load(StatesSettings)``); when a setting is wrong it
raises :class:`~states.errors.InvalidInput` naming the variable, the value it had and what is
expected (``PRODUZIR_SMTP_PORT: 'abc' is not a whole number``), every problem in one sentence,
``field`` the first variable. A secret's value is never shown. A validator refuses a value
with :class:`BadSetting` (a ``ValueError`` holding a sentence to translate); a rule across
fields names its variable (``BadSetting(N_("%(variable)s: required when ..."),
variable="PRODUZIR_SMTP_HOST")``).
"""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.errors import InvalidInput
from states.text import N_, Text, join

#: the prefix of every variable
PREFIX = "PRODUZIR_"

S = TypeVar("S", bound=BaseSettings)


class BadSetting(ValueError):
    """A validator's refusal of a setting, as a sentence to translate. Without ``variable``
    the sentence is about the value (:func:`load` puts the variable before it); with it, the
    sentence names the variable itself (a rule across fields, a message also said elsewhere)."""

    def __init__(self, text: Text, *, variable: str | None = None) -> None:
        self.text = text
        self.variable = variable
        super().__init__(str(text))


def variable(cls: type[BaseSettings], field: str) -> str:
    """The environment variable of ``cls``'s ``field`` (``PRODUZIR_`` + its name)."""
    return f"{cls.model_config.get('env_prefix') or ''}{field}".upper()


def load(cls: type[S], **overrides: Any) -> S:
    """``cls`` from the environment (``overrides`` win, by field name); InvalidInput naming
    each bad variable, its value and what is expected when one is wrong."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = [_explain(cls, error) for error in exc.errors()]
        first = problems[0][0]
        texts = [text for _, text in problems]
        raise InvalidInput(
            texts[0] if len(texts) == 1 else join(texts, "; "), field=first
        ) from None


_BOUNDS = {
    "greater_than_equal": N_("%(variable)s: %(value)s must be at least %(bound)s"),
    "greater_than": N_("%(variable)s: %(value)s must be more than %(bound)s"),
    "less_than_equal": N_("%(variable)s: %(value)s must be at most %(bound)s"),
    "less_than": N_("%(variable)s: %(value)s must be less than %(bound)s"),
    "string_too_short": N_("%(variable)s: %(value)s must have at least %(bound)s characters"),
    "string_too_long": N_("%(variable)s: %(value)s must have at most %(bound)s characters"),
}


def _is_secret(cls: type[BaseSettings], name: str) -> bool:
    field = cls.model_fields.get(name)
    return field is not None and SecretStr in (field.annotation, *typing.get_args(field.annotation))


def _choices(cls: type[BaseSettings], name: str) -> tuple[Any, ...]:
    field = cls.model_fields.get(name)
    annotation = field.annotation if field is not None else None
    return typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _explain(cls: type[BaseSettings], error: Any) -> tuple[str, Text]:
    """(the variable, one sentence starting with it) for one pydantic error."""
    loc = error.get("loc") or ()
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, BadSetting) and cause.variable:  # the sentence names its variable
        return cause.variable, cause.text
    if not loc:  # a rule across fields that did not say which variable
        return "", Text(str(error.get("msg", "")).removeprefix("Value error, "), {})
    name = str(loc[0])
    var = variable(cls, name)
    value: Any = N_("(hidden)") if _is_secret(cls, name) else repr(error.get("input"))
    if isinstance(cause, BadSetting):
        return var, N_("%(variable)s: %(error)s", variable=var, error=cause.text)
    if kind in ("int_parsing", "float_parsing", "int_from_float"):
        whole = kind != "float_parsing" and _is_number(error.get("input"))
        if whole:
            return var, N_(
                "%(variable)s: %(value)s is not a whole number", variable=var, value=value
            )
        return var, N_("%(variable)s: %(value)s is not a number", variable=var, value=value)
    if kind in _BOUNDS:
        bound = next(iter(context.values()), "?")
        if isinstance(bound, float) and bound.is_integer():
            bound = int(bound)
        template = _BOUNDS[kind]
        return var, Text(template.msgid, {"variable": var, "value": value, "bound": bound})
    if kind == "literal_error":
        choices = ", ".join(str(c) for c in _choices(cls, name)) or str(context.get("expected"))
        return var, N_(
            "%(variable)s: %(value)s is not one of %(choices)s",
            variable=var,
            value=value,
            choices=choices,
        )
    if kind == "bool_parsing":
        return var, N_("%(variable)s: %(value)s is not true or false", variable=var, value=value)
    detail = str(cause) if cause is not None else str(error.get("msg", ""))
    return var, N_(
        "%(variable)s: %(value)s is not valid (%(error)s)",
        variable=var,
        value=value,
        error=detail.removeprefix("Value error, "),
    )


class StatesSettings(BaseSettings):
    """Database and lifecycle settings."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    data_dir: Path = Field(
        default=Path("var"), description="Folder for the embedded SQLite database and data."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/produzir.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    lifecycle_file: Path | None = Field(
        default=None,
        description="TOML file with the lifecycle's deadlines and thresholds; "
        "default: the one shipped in states/lifecycle.toml.",
    )
    lifecycle_files: str = Field(
        default="",
        description="Other lifecycle files to load besides PRODUZIR_LIFECYCLE_FILE, separated "
        "by the system's path separator (':' on Linux): the versions cases still run under "
        "(each case runs under the version it records), and the targets of `produzir lifecycle "
        "migrate`.",
    )
    modules_file: Path | None = Field(
        default=None,
        description="TOML file mapping the programme's regional modules to UFs and "
        "municipalities; default: the one shipped in states/data/modules.toml.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    audit_key_file: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 key that signs audit checkpoints (never in the "
        "database); default <data_dir>/audit/signing-key.pem, which `produzir run` creates for "
        "development. `produzir audit keygen` makes one.",
    )
    audit_trusted_keys: Path | None = Field(
        default=None,
        description="File of trusted public keys ('KEY_ID ed25519:BASE64' lines), so "
        "checkpoints of retired keys still verify; default <data_dir>/audit/trusted-keys.txt.",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="File each new checkpoint is appended to (JSON lines); default "
        "<data_dir>/audit/checkpoints.jsonl.",
    )
    audit_log_id: str = Field(
        default="produzir",
        min_length=1,
        max_length=64,
        description="The log's name, signed into every checkpoint (one per installation).",
    )
    audit_checkpoint_minutes: int = Field(
        default=60, ge=1, le=1440, description="A checkpoint is made at least this often."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise BadSetting(
                N_("%(value)s is not a sqlite:// or postgresql:// URL", value=repr(value))
            )
        return value

    def key_file(self) -> Path:
        return self.audit_key_file or self.data_dir / "audit" / "signing-key.pem"

    def trusted_keys_file(self) -> Path:
        return self.audit_trusted_keys or self.data_dir / "audit" / "trusted-keys.txt"

    def checkpoint_file(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit" / "checkpoints.jsonl"

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'produzir.db').as_posix()}"

    def other_lifecycle_files(self) -> list[Path]:
        """The files of :attr:`lifecycle_files`."""
        return [Path(p) for p in self.lifecycle_files.split(os.pathsep) if p.strip()]
