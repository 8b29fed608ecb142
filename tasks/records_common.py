"""What every record operation shares: the audit event it appends, and input parsing."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from states import audit
from states.errors import InvalidInput, NotFound
from states.evidence import describe
from states.models import AuditEvent, Case
from tasks.runtime import Runtime

M = TypeVar("M", bound=BaseModel)


def parse_input(model: type[M], raw: Any, what: str) -> M:
    """Validate raw input into ``model``; a one-line InvalidInput naming the field otherwise."""
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(describe(exc, what), field=what) from exc


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case", case_id)
    return case


def audit_record(
    session: Session,
    rt: Runtime,
    *,
    event: str,
    actor: str,
    record_type: str,
    record_id: int,
    case: Case | None,
    evidence: dict[str, Any],
    note: str | None = None,
) -> AuditEvent:
    """Append the audit event of a change to a programme record, in the caller's transaction.

    The event carries the record's type and id and, when the record belongs to a case, the case
    (its state and version, unchanged: records are not the case's own columns). Evidence must
    not contain personal data: people are referred to by their record id only.
    """
    return audit.append(
        session,
        case_id=case.id if case else None,
        case_version=case.version if case else None,
        lifecycle_version=case.lifecycle_version if case else rt.lifecycle.version,
        event=event,
        from_state=case.state if case else None,
        to_state=case.state if case else None,
        actor=actor,
        note=note,
        evidence=evidence,
        changes={},
        occurred_at=rt.clock.now(),
        record_type=record_type,
        record_id=record_id,
    )
