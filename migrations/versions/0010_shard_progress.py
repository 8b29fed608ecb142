"""Sharded work keeps its progress: ``shard_progress`` and ``bulk_applied``.

A sharded sweep records, per (run, shard), the case range it owns and how far it got, so a
retried or rescheduled run resumes there; a bulk advance records each (request, case) it
changed, in the same transaction as the change, so a rerun applies nothing twice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shard_progress",
        sa.Column("run_key", sa.String(64), primary_key=True),
        sa.Column("shard", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("shards", sa.Integer, nullable=False),
        sa.Column("first_id", sa.Integer, nullable=False),
        sa.Column("last_id", sa.Integer, nullable=False),
        sa.Column("case_cursor", sa.Integer, nullable=False),
        sa.Column("obligation_cursor", sa.Integer, nullable=False),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("finished", sa.Boolean, nullable=False),
        sa.Column("report", sa.JSON, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "bulk_applied",
        sa.Column("request_key", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("applied_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bulk_applied")
    op.drop_table("shard_progress")
