"""The reminder policy: which reminders and escalations a deadline causes, to whom, and when.

Read from a TOML file (``notifications/policy.toml`` unless ``PRODUZIR_NOTIFY_POLICY_FILE``
names another) and validated: an unknown state or event, a negative number or a chain out of
order is refused with the file and the field named.

For one deadline (a state's ``due_on`` or an obligation's) the policy gives the *steps*: a
reminder to the coordinator some working days before, one on the day, then the escalation
chain. :func:`due_now` says which steps are due on a given day: of the coordinator's reminders
only the latest one (a case first seen overdue gets "due", not "before" as well), and every
escalation whose day has come — each step is then queued once, by its outbox key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from states.calendar import WorkCalendar
from states.config import read_toml
from states.lifecycle import EVENTS_BY_NAME
from states.settings import PREFIX, load
from states.states import State

DEFAULT_FILE = Path(__file__).with_name("policy.toml")

REMINDER = "reminder"
ESCALATION = "escalation"
ASSIGNMENT = "assignment"
TRANSITION = "transition"
DIGEST = "digest"
#: the newest signed checkpoint of the audit log, to every auditor once a day
CHECKPOINT = "checkpoint"
CATEGORIES = (REMINDER, ESCALATION, ASSIGNMENT, TRANSITION, DIGEST, CHECKPOINT)
#: What a person may opt out of (never escalations), and what a digest gathers.
OPTIONAL_CATEGORIES = (REMINDER, ASSIGNMENT, TRANSITION)

BEFORE = "before"
DUE = "due"
COORDINATOR_STEPS = (BEFORE, DUE)

_STATES = frozenset(s.value for s in State)


class PolicySettings(BaseSettings):
    """Where the policy file is (``PRODUZIR_NOTIFY_POLICY_FILE``)."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    notify_policy_file: Path | None = Field(
        default=None,
        description="TOML file with the reminder policy; default notifications/policy.toml.",
    )


class Reminders(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    before_due_working_days: int = Field(default=3, ge=0, le=60)
    on_due_date: bool = True
    quiet_states: tuple[str, ...] = ("concluida", "cancelada", "suspensa", "indeferida")

    @field_validator("quiet_states")
    @classmethod
    def _known_states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - _STATES)
        if unknown:
            raise ValueError(f"unknown states: {', '.join(unknown)}")
        return value


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=30)
    after_working_days: int = Field(ge=1, le=365)
    to: Literal["supervisor", "manager"]

    @field_validator("name")
    @classmethod
    def _not_a_coordinator_step(cls, value: str) -> str:
        if value in COORDINATOR_STEPS:
            raise ValueError(f"{value!r} is the name of a coordinator reminder")
        return value


class Digest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    morning: time = time(7, 0)


class Dispatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lease_seconds: float = Field(default=600, gt=0)
    max_retry_delay_seconds: float = Field(default=3600, gt=0)


class TimedTransition(BaseModel):
    """An event the sweep fires by itself when a state's deadline is reached or passed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: str
    event: str
    when: Literal["due_reached", "due_passed"] = "due_reached"
    enabled: bool = False

    @model_validator(mode="after")
    def _event_of_the_state(self) -> Self:
        if self.state not in _STATES:
            raise ValueError(f"unknown state {self.state!r}")
        spec = EVENTS_BY_NAME.get(self.event)
        if spec is None:
            raise ValueError(f"unknown event {self.event!r} (the lifecycle has no such event)")
        if self.state not in spec.sources:
            raise ValueError(f"{self.event} is not accepted in state {self.state}")
        if not spec.sweep:
            raise ValueError(
                f"{self.event} is not declared as one the sweep may fire (`sweep` in its "
                "declaration, states/events.py)"
            )
        return self

    def applies(self, today: date, due_on: date | None) -> bool:
        """Whether the condition holds for a case whose deadline is ``due_on``."""
        if due_on is None:
            return False
        return today >= due_on if self.when == "due_reached" else today > due_on


@dataclass(frozen=True)
class Step:
    """One reminder or escalation of a deadline: its name, to whom, and the day it is due."""

    name: str
    to: str  # coordinator | supervisor | manager
    on: date

    @property
    def category(self) -> str:
        return REMINDER if self.to == "coordinator" else ESCALATION


class Policy(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reminders: Reminders = Reminders()
    escalations: tuple[Escalation, ...] = ()
    digest: Digest = Digest()
    dispatch: Dispatch = Dispatch()
    time_transitions: tuple[TimedTransition, ...] = ()

    @model_validator(mode="after")
    def _chain_in_order(self) -> Self:
        names = [e.name for e in self.escalations]
        if len(set(names)) != len(names):
            raise ValueError("escalation names must be different")
        days = [e.after_working_days for e in self.escalations]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError("escalations must come in order of after_working_days, each later")
        return self

    @property
    def quiet_states(self) -> frozenset[str]:
        return frozenset(self.reminders.quiet_states)

    @property
    def active_transitions(self) -> tuple[TimedTransition, ...]:
        return tuple(t for t in self.time_transitions if t.enabled)

    def margin_days(self) -> int:
        """Calendar days that surely hold the working days of the earliest step before due."""
        return 2 * self.reminders.before_due_working_days + 15

    def steps(self, calendar: WorkCalendar, due_on: date) -> tuple[Step, ...]:
        """Every step of a deadline on ``due_on``, in the order they fall."""
        found: list[Step] = []
        before = self.reminders.before_due_working_days
        if before:
            found.append(Step(BEFORE, "coordinator", calendar.add_working_days(due_on, -before)))
        if self.reminders.on_due_date:
            found.append(Step(DUE, "coordinator", due_on))
        found.extend(
            Step(e.name, e.to, calendar.add_working_days(due_on, e.after_working_days))
            for e in self.escalations
        )
        return tuple(found)


def due_now(steps: tuple[Step, ...], today: date) -> list[Step]:
    """The steps to queue on ``today``: the latest coordinator reminder due, every escalation due."""
    reached = [s for s in steps if s.on <= today]
    coordinator = [s for s in reached if s.to == "coordinator"]
    return coordinator[-1:] + [s for s in reached if s.to != "coordinator"]


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate a policy file."""
    return read_toml(path or DEFAULT_FILE, Policy, "policy file")


@lru_cache(maxsize=8)
def cached_policy(path: Path | None = None) -> Policy:
    """The policy of ``path``, read once."""
    return load_policy(path)


def current_policy() -> Policy:
    """The policy the settings name (``PRODUZIR_NOTIFY_POLICY_FILE``), or the shipped one."""
    return cached_policy(load(PolicySettings).notify_policy_file)
