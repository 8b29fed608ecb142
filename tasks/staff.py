"""The staff roster: the programme's own people, who instruct its training events and whom its
ECMs (Evento de Capacitação de Multiplicadores) train.

A staff member is either a **user** of the system (``username``: the name and e-mail are the
user's, kept once) or an **external multiplier** (a name, and an e-mail or phone only if
given). Both have a function in the programme (``role``: instrutor, multiplicador, técnico
...) and may name their organisation (as written: the partner register may later be linked to
it). Nothing else is collected (LGPD art. 6 III: only what the programme needs).

Members are never deleted, only deactivated: an inactive member (or one whose user is
disabled) can no longer be chosen as an instructor nor enrolled in an ECM; the events they
instructed keep them. Each change appends an audit event with the member's number, kind,
role and organisation: never a name, e-mail or phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

from pydantic import Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from states.audit import iso_utc
from states.bounds import Bounded
from states.directory import User
from states.errors import InvalidInput, NotFound
from states.records import EventInstructor, StaffEnrolment, StaffMember, TrainingEvent
from states.text import N_
from tasks.demands import check_actor
from tasks.records_common import audit_record, parse_input
from tasks.runtime import Runtime

_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{8,30}$")


class StaffInput(Bounded):
    """A new member of the roster: ``username`` (a user) or ``name`` (an external
    multiplier), never both."""

    username: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=100)
    organisation: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30)

    @field_validator("name", "role", "organisation", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError(f"{value!r} is not a phone number")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if (self.username is None) == (self.name is None):
            raise ValueError(
                "give either a user name (a user of the system) or a name (an external multiplier)"
            )
        if self.username is not None and (self.email or self.phone):
            raise ValueError("a user's contact is the user's own: no e-mail or phone here")
        return self


def _audit_evidence(member: StaffMember) -> dict[str, Any]:
    """What the history may say about a member: no name, no contact."""
    return {
        "staff_id": member.id,
        "kind": "user" if member.username else "external",
        "username": member.username,
        "role": member.role,
        "organisation": member.organisation,
        "active": member.active,
    }


def add_staff(rt: Runtime, raw: StaffInput | dict[str, Any], *, actor: str) -> int:
    """Add a member to the roster; its number. A user already on it is refused."""
    check_actor(actor)
    data = parse_input(StaffInput, raw, "staff")
    with rt.db.write() as session:
        if data.username is not None:
            user = session.get(User, data.username)
            if user is None:
                raise NotFound("user", data.username)
            if not user.active:
                raise InvalidInput(
                    N_(
                        "user %(username)s is disabled: a disabled user cannot join the staff",
                        username=data.username,
                    ),
                    field="username",
                )
            existing = session.execute(
                select(StaffMember.id).where(StaffMember.username == data.username)
            ).scalar_one_or_none()
            if existing is not None:
                raise InvalidInput(
                    N_(
                        "user %(username)s is already staff member %(staff_id)s",
                        username=data.username,
                        staff_id=existing,
                    ),
                    field="username",
                )
        member = StaffMember(
            **data.model_dump(),
            active=True,
            created_at=rt.clock.now(),
            created_by=actor,
        )
        session.add(member)
        session.flush()
        audit_record(
            session,
            rt,
            event="equipe_incluida",
            actor=actor,
            record_type="staff",
            record_id=member.id,
            case=None,
            evidence=_audit_evidence(member),
        )
        return member.id


@dataclass(frozen=True)
class StaffChange:
    staff_id: int
    changed: bool


def deactivate_staff(rt: Runtime, staff_id: int, *, actor: str) -> StaffChange:
    """Deactivate a member: no longer chosen as an instructor nor enrolled in an ECM (the events
    they instructed keep them). A no-op if already inactive."""
    check_actor(actor)
    with rt.db.write() as session:
        member = get_member(session, staff_id)
        if not member.active:
            return StaffChange(staff_id, False)
        member.active = False
        member.deactivated_at = rt.clock.now()
        session.flush()
        audit_record(
            session,
            rt,
            event="equipe_desativada",
            actor=actor,
            record_type="staff",
            record_id=member.id,
            case=None,
            evidence=_audit_evidence(member),
        )
        return StaffChange(staff_id, True)


def get_member(session: Session, staff_id: int) -> StaffMember:
    member = session.get(StaffMember, staff_id)
    if member is None:
        raise NotFound("staff", staff_id)
    return member


def is_active(session: Session, member: StaffMember) -> bool:
    """Active on the roster, and (for a user) the user not disabled."""
    if not member.active:
        return False
    if member.username is None:
        return True
    user = session.get(User, member.username)
    return user is not None and user.active


def check_active(session: Session, staff_ids: Iterable[int], *, field: str) -> list[int]:
    """The ids, each of an active member; InvalidInput naming the first that is unknown or
    inactive."""
    ids = list(dict.fromkeys(staff_ids))
    for staff_id in ids:
        member = session.get(StaffMember, staff_id)
        if member is None:
            raise InvalidInput(
                N_("staff member %(staff_id)s is not on the roster", staff_id=staff_id),
                field=field,
            )
        if not is_active(session, member):
            raise InvalidInput(
                N_(
                    "staff member %(staff_id)s is inactive: only active staff can be chosen",
                    staff_id=staff_id,
                ),
                field=field,
            )
    return ids


def _row(member: StaffMember, user: User | None) -> dict[str, Any]:
    return {
        "staff_id": member.id,
        "kind": "user" if member.username else "external",
        "username": member.username,
        "name": user.name if user is not None else member.name,
        "role": member.role,
        "organisation": member.organisation,
        "email": user.email if user is not None else member.email,
        "phone": member.phone,
        "active": member.active and (user is None or user.active),
        "created_at": iso_utc(member.created_at),
    }


def list_staff(rt: Runtime, *, include_inactive: bool = True) -> list[dict[str, Any]]:
    """The roster, by number; a user's name and e-mail are the user's."""
    query = (
        select(StaffMember, User)
        .outerjoin(User, User.username == StaffMember.username)
        .order_by(StaffMember.id)
    )
    with rt.db.read() as session:
        rows = [_row(member, user) for member, user in session.execute(query)]
    return [r for r in rows if include_inactive or r["active"]]


def show_staff(rt: Runtime, staff_id: int) -> dict[str, Any]:
    """One member: the record, the events they instruct and the ECMs they are enrolled in."""
    with rt.db.read() as session:
        member = get_member(session, staff_id)
        user = session.get(User, member.username) if member.username else None
        record = _row(member, user)
        record["deactivated_at"] = iso_utc(member.deactivated_at) if member.deactivated_at else None
        record["instructs"] = [
            {"event_id": e.id, "kind": e.kind, "title": e.title, "start_on": str(e.start_on)}
            for e in session.execute(
                select(TrainingEvent)
                .join(EventInstructor, EventInstructor.event_id == TrainingEvent.id)
                .where(EventInstructor.staff_id == staff_id)
                .order_by(TrainingEvent.start_on, TrainingEvent.id)
            ).scalars()
        ]
        enrolled = list(
            session.execute(
                select(StaffEnrolment.event_id)
                .where(StaffEnrolment.staff_id == staff_id)
                .order_by(StaffEnrolment.event_id)
            ).scalars()
        )
    from tasks.trainings import event_summary  # the certificate rule lives with the events

    ecms = []
    for event_id in enrolled:
        summary = event_summary(rt, event_id)
        mine = summary["staff"][staff_id]
        ecms.append(
            {
                "event_id": event_id,
                "title": summary["title"],
                "held_on": summary["held_on"],
                "days_attended": mine["days_attended"],
                "session_days": summary["session_days"],
                "certified": mine["certified"],
            }
        )
    record["ecm"] = ecms
    return record
