"""Legal form and size, members who leave, the channel of a demand (issue 11).

- ``enterprises.size_category``: ME or EPP (LC 123/2006 art. 3), a size category beside the
  legal form (NULL: neither). Enterprises recorded with the old ``me_epp`` legal form keep it:
  which of the two they are is not known, so nothing is invented for them.
- ``enterprise_members.left_on`` / ``left_reason``: a member's departure (NULL: a member).
- ``cases.demand_channel``: the channel of organised civil society the demand came from; every
  case registered before came from a development forum (``forum``), the only channel there was.

Revision ID: 0015_forms
Revises: 0014_surveys
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_forms"
down_revision = "0014_surveys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprises") as batch:
        batch.add_column(sa.Column("size_category", sa.String(3), nullable=True))
    with op.batch_alter_table("enterprise_members") as batch:
        batch.add_column(sa.Column("left_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("left_reason", sa.Text, nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("demand_channel", sa.String(30), nullable=False, server_default="forum")
        )


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of `cases` would drop the
    # table, which the rows that refer to it forbid
    op.execute("ALTER TABLE cases DROP COLUMN demand_channel")
    op.execute("ALTER TABLE enterprise_members DROP COLUMN left_reason")
    op.execute("ALTER TABLE enterprise_members DROP COLUMN left_on")
    op.execute("ALTER TABLE enterprises DROP COLUMN size_category")
