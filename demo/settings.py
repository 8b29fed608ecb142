"""Settings of the demo: how its load writes to an SQLite database.

``PRODUZIR_DEMO_SQLITE_SYNCHRONOUS``
    SQLite's ``PRAGMA synchronous`` while :func:`demo.load_demo` builds the portfolio: ``NORMAL``
    (the default), ``FULL`` (what every other write uses) or ``OFF``. The records and the audit
    log written are the same whichever it is (the log verifies); only when the commits reach
    the disk differs. In WAL mode ``NORMAL`` syncs at checkpoints instead of at each of the
    demo's thousands of commits: a crash of the program loses nothing; a power cut during the
    load may lose its last commits, never the database (start again on a fresh one).
    PostgreSQL ignores it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.settings import PREFIX, load


class DemoSettings(BaseSettings):
    """How the demo load writes (:mod:`demo.settings`)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    demo_sqlite_synchronous: Literal["FULL", "NORMAL", "OFF"] = Field(
        default="NORMAL",
        description="SQLite's PRAGMA synchronous while the demo portfolio is built "
        "(PRODUZIR_DEMO_SQLITE_SYNCHRONOUS): NORMAL, FULL or OFF; the records and the log are "
        "the same.",
    )


def load_demo_settings() -> DemoSettings:
    """The settings, or InvalidInput naming the variable (:func:`states.settings.load`)."""
    return load(DemoSettings)
