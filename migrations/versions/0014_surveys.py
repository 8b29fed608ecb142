"""The baseline and outcome surveys of a case's participants (issue 12).

``surveys``: one row per case, person and wave (entry, the ECC's end, 6 and 12 months after
it): work status, income band, sex, birth year and household size, and who recorded or
corrected it. Only these answers are kept (LGPD, Lei 13.709/2018, art. 6 III).

Revision ID: 0014_surveys
Revises: 0013_staff
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_surveys"
down_revision = "0013_staff"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=False),
        sa.Column("wave", sa.String(10), nullable=False),
        sa.Column("answered_on", sa.Date, nullable=False),
        sa.Column("work_status", sa.String(20), nullable=False),
        sa.Column("income_band", sa.String(10), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("birth_year", sa.Integer, nullable=False),
        sa.Column("household_size", sa.Integer, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("corrected_at", TS, nullable=True),
        sa.Column("corrected_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("case_id", "person_id", "wave", name="uq_surveys_case_person_wave"),
    )
    op.create_index("ix_surveys_person_id", "surveys", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_surveys_person_id", table_name="surveys")
    op.drop_table("surveys")
