"""Obligations as a kind plus parameters: what people read is rendered in their language.

An obligation's sentence ("file Mel Quixoá ME at the Junta Comercial") is no longer stored as
English text to show: the row keeps its ``kind`` and the ``params`` the sentence takes
(``{"enterprise": ..., "registry": ...}``), and the edges render it from the catalogs
(``notifications/codes.py``). ``description`` stays, in English, for logs and for the rows
written before this revision (shown as stored).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligations") as batch:
        batch.drop_column("params")
