"""An event's session days, and the days an administrator closes or opens the offices.

``training_events.session_days``: the days the event actually meets (a JSON list of ISO
dates); attendance is accepted only on them and an ECC's 75 % is of them. Rows written before
this revision have none: every day of their span counts, as it did.

``office_closures``: for a day and a UF (``uf:CE``) or a municipality (``municipality:IBGE``),
whether the offices close (a ponto facultativo adopted, a local closure) or open (on a ponto
facultativo the configuration would close); Lei 9.784/1999 art. 66 §1.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("training_events") as batch:
        batch.add_column(sa.Column("session_days", sa.JSON(), nullable=True))
    op.create_table(
        "office_closures",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("scope", sa.String(24), primary_key=True),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("office_closures")
    with op.batch_alter_table("training_events") as batch:
        batch.drop_column("session_days")
