"""The write side of persistence: load a case for a change, and apply the change.

Used inside one :meth:`states.db.Database.write` transaction by the operations in ``tasks/``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, Update, bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from states.calendar import GENERATION_COLUMN
from states.deadlines import local_date
from states.errors import Conflict, NotFound
from states.events import Clockwork
from states.guards import CaseFacts
from states.models import Case, Municipality

# Statements of the write path, built once (building them costs more than running them).
_LOAD = (
    select(Case, Municipality, GENERATION_COLUMN)
    .join(Municipality, Case.municipality_code == Municipality.ibge_code)
    .where(Case.id == bindparam("case_id"))
)
_LOAD_LOCKED = _LOAD.with_for_update(of=Case)
_CASES: Table = Case.__table__  # type: ignore[assignment]


def load_for_update(session: Session, case_id: int) -> tuple[Case, Municipality]:
    """The case and its municipality, locked for this transaction (PostgreSQL row lock; the
    dialect is the session's)."""
    case, municipality, _ = load_for_change(session, case_id)
    return case, municipality


def load_for_change(session: Session, case_id: int) -> tuple[Case, Municipality, int]:
    """:func:`load_for_update`, with the calendar tables' generation read in the same query
    (the deadline's calendar then comes from the cache without a query,
    :func:`states.calendar.calendar_for`)."""
    query = _LOAD_LOCKED if session.get_bind().dialect.name == "postgresql" else _LOAD
    row = session.execute(query, {"case_id": case_id}).one_or_none()
    if row is None:
        raise NotFound("case", case_id)
    return row[0], row[1], int(row[2])


def check_version(case: Case, expected_version: int | None) -> None:
    """Refuse with :class:`Conflict` when the caller saw another version of the case."""
    if expected_version is not None and expected_version != case.version:
        raise Conflict(case.id, expected_version, case.version, case.updated_by, case.updated_at)


def facts_of(case: Case, municipality: Municipality) -> CaseFacts:
    """What the guards may know of the case."""
    return CaseFacts(
        case_id=case.id,
        state=case.state,
        registered_on=local_date(case.registered_at, municipality.timezone),
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
        reopen_requested_by=case.reopen_requested_by,
        due_on=case.due_on,
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
    """Write the changes if nobody else changed the case meanwhile; the new version.

    One ``UPDATE cases SET ... WHERE id = :id AND version = :seen`` (a Core statement on the
    table, cached per set of changed columns); no row updated means someone else's change
    committed first: :class:`Conflict`.
    """
    seen = case.version
    values = {**changes, "version": seen + 1, "updated_at": now, "updated_by": actor}
    params = {f"new_{key}": value for key, value in values.items()}
    params["case_id"] = case.id
    params["seen_version"] = seen
    result = session.execute(_versioned_update(tuple(values)), params)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(case)
        current = session.get(Case, case.id)
        assert current is not None
        raise Conflict(case.id, seen, current.version, current.updated_by, current.updated_at)
    # Keep the loaded object in step without marking it dirty (no second UPDATE at flush).
    for key, value in values.items():
        set_committed_value(case, key, value)
    return seen + 1


@lru_cache(maxsize=64)
def _versioned_update(columns: tuple[str, ...]) -> Update:
    """``UPDATE cases SET <columns> WHERE id = :case_id AND version = :seen_version``."""
    return (
        update(_CASES)
        .where(_CASES.c.id == bindparam("case_id"), _CASES.c.version == bindparam("seen_version"))
        .values({_CASES.c[name]: bindparam(f"new_{name}") for name in columns})
    )


def get_municipality(session: Session, code: int) -> Municipality | None:
    return session.get(Municipality, code)
