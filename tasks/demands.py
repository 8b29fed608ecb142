"""Registering a community's demand: the first event of every case.

A demand comes from organised civil society, "fóruns de desenvolvimento preferencialmente" (the
programme's source document): a development forum is the default channel, and another organised
channel (a council, an association, a union, a social movement, ...) is recorded as such
(``demand_channel``), with its name in ``forum`` and the day it raised the demand in
``forum_held_on``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field, ValidationError, field_validator

from states import audit, store
from states.bounds import Bounded
from states.calendar import calendar_for
from states.deadlines import due_date, local_date
from states.directory import check_assignee
from states.errors import InvalidInput
from states.evidence import DemandChannel, check_username, describe, normalise_cnpj
from states.models import Case
from states.states import State
from states.text import N_
from tasks.runtime import Runtime


class DemandInput(Bounded):
    """The demand record, as raised at a development forum (preferably) or another organised
    channel of civil society."""

    municipality_code: int = Field(description="IBGE code of the municipality (7 digits)")
    community: str = Field(min_length=1, max_length=200)
    demand_channel: DemandChannel = Field(
        default=DemandChannel.FORUM,
        description="where the demand was raised: a development forum (preferred) or another "
        "organised channel of civil society",
    )
    forum: str = Field(
        min_length=1, max_length=200, description="the development forum, or the channel's name"
    )
    forum_held_on: date
    activity: str = Field(min_length=1, max_length=200, description="productive activity")
    proponent: str = Field(min_length=1, max_length=200, description="proponent organisation")
    proponent_cnpj: str | None = Field(default=None, description="CNPJ, numeric or alphanumeric")
    description: str | None = None
    coordinator: str | None = None

    @field_validator("municipality_code")
    @classmethod
    def _seven_digits(cls, value: int) -> int:
        if not 1_000_000 <= value <= 9_999_999:
            raise ValueError(f"{value} is not an IBGE municipality code (7 digits)")
        return value

    @field_validator("proponent_cnpj")
    @classmethod
    def _cnpj(cls, value: str | None) -> str | None:
        return normalise_cnpj(value) if value else None

    @field_validator("coordinator")
    @classmethod
    def _coordinator(cls, value: str | None) -> str | None:
        return check_username(value) if value else None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> DemandInput:
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise InvalidInput(describe(exc, "demand"), field="demand") from exc


@dataclass(frozen=True)
class Registered:
    case_id: int
    state: str
    due_on: date | None
    version: int
    seq: int


def register_demand(rt: Runtime, demand: DemandInput, *, actor: str) -> Registered:
    """Create a case in ``registrada`` from a demand record; one transaction."""
    check_actor(actor)
    now = rt.clock.now()
    with rt.db.write() as session:
        municipality = store.get_municipality(session, demand.municipality_code)
        if municipality is None:
            raise InvalidInput(
                N_(
                    "municipality %(municipality_code)s is not in IBGE's list of municipalities",
                    municipality_code=demand.municipality_code,
                ),
                field="municipality_code",
            )
        today = local_date(now, municipality.timezone)
        if demand.forum_held_on > today:
            raise InvalidInput(
                N_(
                    "forum_held_on %(forum_held_on)s is in the future (today is %(today)s)",
                    forum_held_on=demand.forum_held_on,
                    today=today,
                ),
                field="forum_held_on",
            )
        if demand.coordinator is not None:
            check_assignee(session, demand.coordinator, municipality.uf, field="coordinator")
        rule = rt.lifecycle.config.deadlines[State.REGISTRADA.value]
        record = demand.model_dump(exclude={"coordinator"})
        tracked: dict[str, Any] = {
            "state": State.REGISTRADA.value,
            "previous_state": None,
            "coordinator": demand.coordinator,
            "hub_municipality_code": None,
            "entered_on": today,
            "due_on": due_date(rule, today, calendar_for(session, demand.municipality_code)),
            "extensions_used": 0,
            "suspended_on": None,
            "paused_due_on": None,
            "expected_resume_on": None,
            "rejected_on": None,
            "reopen_requested_by": None,
        }
        case = Case(
            version=1,
            lifecycle_version=rt.lifecycle.version,
            registered_at=now,
            registered_by=actor,
            updated_at=now,
            updated_by=actor,
            **record,
            **tracked,
        )
        session.add(case)
        session.flush()
        event = audit.append(
            session,
            case_id=case.id,
            case_version=1,
            lifecycle_version=rt.lifecycle.version,
            event="registrar",
            from_state=None,
            to_state=State.REGISTRADA.value,
            actor=actor,
            note=None,
            evidence=demand.model_dump(mode="json"),
            changes={**demand.model_dump(mode="json", exclude={"coordinator"}), **_iso(tracked)},
            occurred_at=now,
        )
        return Registered(case.id, case.state, case.due_on, 1, event.seq)


def _iso(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def check_actor(actor: str) -> str:
    """Every operation is done by someone: a valid user name (or ``system``)."""
    try:
        return check_username(actor)
    except ValueError as exc:
        raise InvalidInput(N_("actor: %(exc)s", exc=exc), field="actor") from None
