"""Small readers shared by the integration tests: row counts, a case's version, the chain."""

from __future__ import annotations

from sqlalchemy import func, select

from states import audit
from states.db import Database
from states.models import AuditEvent, Case


def count_cases(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(select(func.count()).select_from(Case)).scalar_one())


def count_events(db: Database, case_id: int | None = None) -> int:
    query = select(func.count()).select_from(AuditEvent)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    with db.read() as session:
        return int(session.execute(query).scalar_one())


def case_row(db: Database, case_id: int) -> Case:
    with db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None, f"case {case_id} does not exist"
        session.expunge(case)  # keep its loaded values after the read session rolls back
        return case


def version_of(db: Database, case_id: int) -> int:
    return case_row(db, case_id).version


def verify(db: Database) -> audit.Verification:
    with db.read() as session:
        return audit.verify(session)


def seqs(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars())
