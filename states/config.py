"""The lifecycle's configuration: deadlines per state and the guards' thresholds.

Loaded from a TOML file (``states/lifecycle.toml`` unless ``PRODUZIR_LIFECYCLE_FILE`` names
another) and validated: an unknown state, a negative number, an unknown deadline kind or a
missing section is refused with the file and the field named.

A deadline rule counts either continuous days (``kind = "continuous"``, the default: a deadline
that ends on a non-working day moves to the next working day, Lei 9.784/1999 art. 66) or working
days (``kind = "working"``); calendar months are continuous and roll forward too. Extensions
count in the rule's kind.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from states.errors import InvalidInput
from states.states import DEADLINE_STATES
from states.text import N_

DEFAULT_FILE = Path(__file__).with_name("lifecycle.toml")
M = TypeVar("M", bound=BaseModel)

#: How a deadline rule counts: continuous days (rolled forward) or working days.
DeadlineKind = Literal["continuous", "working"]
CONTINUOUS: DeadlineKind = "continuous"
WORKING: DeadlineKind = "working"


class DeadlineRule(BaseModel):
    """How long a case may stay in one state."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)
    extension_days: int = Field(default=0, ge=0)
    max_extensions: int = Field(default=0, ge=0)
    kind: DeadlineKind = CONTINUOUS

    @model_validator(mode="after")
    def _one_unit(self) -> Self:
        if (self.days is None) == (self.months is None):
            raise ValueError("give exactly one of `days` or `months`")
        if self.months is not None and self.kind == WORKING:
            raise ValueError('`months` are calendar months: `kind` must be "continuous"')
        if self.max_extensions and not self.extension_days:
            raise ValueError("`max_extensions` needs `extension_days`")
        return self


class Thresholds(BaseModel):
    """The numbers the guards check."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_participants: int = Field(ge=1)
    min_attendance: float = Field(gt=0, le=1)
    min_certified_share: float = Field(gt=0, le=1)
    max_ecc_days: int = Field(ge=1)
    max_filing_days: int = Field(ge=1)
    visit_interval_days: int = Field(ge=1)
    follow_up_months: int = Field(ge=1)
    appeal_days: int = Field(ge=1)
    eligible_classes: tuple[str, ...] = Field(min_length=1)
    min_reason_chars: int = Field(ge=1)


class LifecycleConfig(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    #: the event declarations this lifecycle runs, as ``module:attribute`` (a tuple of
    #: :class:`states.events.EventSpec`)
    events: str = Field(default="states.events:EVENTS", pattern=r"^[\w.]+:\w+$")
    deadlines: dict[str, DeadlineRule]
    thresholds: Thresholds

    @model_validator(mode="after")
    def _every_state_has_a_deadline(self) -> Self:
        unknown = sorted(set(self.deadlines) - set(DEADLINE_STATES))
        if unknown:
            raise ValueError(f"deadlines for unknown states: {', '.join(unknown)}")
        missing = [s for s in DEADLINE_STATES if s not in self.deadlines]
        if missing:
            raise ValueError(f"no deadline for states: {', '.join(missing)}")
        return self


def read_toml(path: Path, model: type[M], what: str) -> M:
    """Read a TOML file into ``model``; InvalidInput naming ``what``, the file and the field."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(
            N_(
                "%(what)s %(path)s: cannot be read (%(strerror)s)",
                what=what,
                path=path,
                strerror=exc.strerror,
            )
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(
            N_("%(what)s %(path)s: not valid TOML (%(exc)s)", what=what, path=path, exc=exc)
        ) from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InvalidInput(
            N_(
                "%(what)s %(path)s: %(where)s: %(value)s",
                what=what,
                path=path,
                where=where,
                value=first["msg"],
            )
        ) from exc


def load_config(path: Path | None = None) -> LifecycleConfig:
    """Read and validate a lifecycle configuration file."""
    return read_toml(path or DEFAULT_FILE, LifecycleConfig, "lifecycle file")


@lru_cache(maxsize=8)
def cached_config(path: Path | None = None) -> LifecycleConfig:
    """The configuration, read once per file."""
    return load_config(path)
