"""Settings of the domain core: where the data lives and which lifecycle definition runs.

Read from the environment with the prefix ``PRODUZIR_`` (see the README's settings table).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class StatesSettings(BaseSettings):
    """Database and lifecycle settings."""

    model_config = SettingsConfigDict(env_prefix="PRODUZIR_", extra="ignore")

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
            raise ValueError("PRODUZIR_DATABASE_URL must be a sqlite:// or postgresql:// URL")
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
