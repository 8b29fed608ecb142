"""Reference data: the 5,570 municipalities of IBGE's territorial division.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from states.municipalities import read_reference_csv

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = sa.table(
        "municipalities",
        *(
            sa.column(name)
            for name in (
                "ibge_code",
                "name",
                "uf",
                "state_name",
                "region",
                "mesoregion_code",
                "mesoregion",
                "microregion_code",
                "microregion",
                "latitude",
                "longitude",
                "timezone",
            )
        ),
    )
    op.bulk_insert(table, read_reference_csv())


def downgrade() -> None:
    op.execute("DELETE FROM municipalities")
