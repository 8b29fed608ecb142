"""Settings of the domain core: where the data lives and which lifecycle definition runs.

Read from the environment with the prefix ``PRODUZIR_`` (see the README's settings table).
"""

from __future__ import annotations

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
    sqlite_busy_timeout_ms: int = Field(
        default=10_000, ge=0, description="How long a SQLite writer waits for the lock."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("PRODUZIR_DATABASE_URL must be a sqlite:// or postgresql:// URL")
        return value

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'produzir.db').as_posix()}"
