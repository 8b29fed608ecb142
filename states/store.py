"""The write side of persistence: load a case for a change, and apply the change.

Used inside one :meth:`states.db.Database.write` transaction by the operations in ``tasks/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from states.effects import Clockwork
from states.errors import Conflict, NotFound
from states.guards import CaseFacts
from states.models import Case, Municipality


def load_for_update(
    session: Session, case_id: int, *, postgresql: bool
) -> tuple[Case, Municipality]:
    """The case and its municipality, locked for this transaction (PostgreSQL row lock)."""
    query = (
        select(Case, Municipality)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code)
        .where(Case.id == case_id)
    )
    if postgresql:
        query = query.with_for_update(of=Case)
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("case", case_id)
    return row[0], row[1]


def check_version(case: Case, expected_version: int | None) -> None:
    """Refuse with :class:`Conflict` when the caller saw another version of the case."""
    if expected_version is not None and expected_version != case.version:
        raise Conflict(case.id, expected_version, case.version, case.updated_by, case.updated_at)


def facts_of(case: Case, municipality: Municipality) -> CaseFacts:
    """What the guards may know of the case."""
    return CaseFacts(
        case_id=case.id,
        state=case.state,
        registered_on=case.registered_at.date(),
        entered_on=case.entered_on,
        microregion_code=municipality.microregion_code,
        forum=case.forum,
        forum_held_on=case.forum_held_on,
        community=case.community,
        activity=case.activity,
        proponent=case.proponent,
        previous_state=case.previous_state,
        extensions_used=case.extensions_used,
        rejected_on=case.rejected_on,
        enterprises=tuple(case.enterprises or ()),
        reopen_requested_by=case.reopen_requested_by,
    )


def clockwork_of(case: Case) -> Clockwork:
    """The tracked columns the effects read."""
    return Clockwork(
        state=case.state,
        previous_state=case.previous_state,
        entered_on=case.entered_on,
        due_on=case.due_on,
        extensions_used=case.extensions_used,
        suspended_on=case.suspended_on,
        paused_due_on=case.paused_due_on,
    )


def update_case(
    session: Session,
    case: Case,
    changes: dict[str, Any],
    *,
    actor: str,
    now: datetime,
) -> int:
    """Write the changes if nobody else changed the case meanwhile; the new version."""
    seen = case.version
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.version == seen)
        .values(**changes, version=seen + 1, updated_at=now, updated_by=actor)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(case)
        current = session.get(Case, case.id)
        assert current is not None
        raise Conflict(case.id, seen, current.version, current.updated_by, current.updated_at)
    # Keep the loaded object in step without marking it dirty (no second UPDATE at flush).
    for key, value in {
        **changes,
        "version": seen + 1,
        "updated_at": now,
        "updated_by": actor,
    }.items():
        set_committed_value(case, key, value)
    return seen + 1


def get_municipality(session: Session, code: int) -> Municipality | None:
    return session.get(Municipality, code)
