"""The territory: PNDR typologies (Decreto 11.962/2024) and priority areas, imported as data.

``typologies`` holds each imported version of a typology (name, version, source, publication
date, whether it is illustrative), ``typology_classes`` its rows (IBGE microregion -> class);
``priority_areas`` each imported set of municipalities (name, source, date) and
``priority_area_municipalities`` its members. Nothing is loaded here: the ministry's tables are
imported by an administrator (``produzir territory import-typology``, ``import-areas``).

Revision ID: 0012
Revises: 0010 (chained after 0011 at the merge)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "typologies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("published_on", sa.Date, nullable=True),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.Column("microregions", sa.Integer, nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_typologies_name_version"),
    )
    op.create_table(
        "typology_classes",
        sa.Column("typology_id", sa.Integer, sa.ForeignKey("typologies.id"), primary_key=True),
        sa.Column("microregion_code", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("pndr_class", sa.String(40), nullable=False),
    )
    op.create_table(
        "priority_areas",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("illustrative", sa.Boolean, nullable=False),
        sa.Column("municipalities", sa.Integer, nullable=False),
        sa.Column("imported_at", TS, nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("name", "as_of", name="uq_priority_areas_name_as_of"),
    )
    op.create_table(
        "priority_area_municipalities",
        sa.Column("area_id", sa.Integer, sa.ForeignKey("priority_areas.id"), primary_key=True),
        sa.Column(
            "municipality_code",
            sa.Integer,
            sa.ForeignKey("municipalities.ibge_code"),
            primary_key=True,
            autoincrement=False,
        ),
    )
    op.create_index(
        "ix_priority_area_municipalities_code",
        "priority_area_municipalities",
        ["municipality_code"],
    )


def downgrade() -> None:
    op.drop_index("ix_priority_area_municipalities_code", "priority_area_municipalities")
    op.drop_table("priority_area_municipalities")
    op.drop_table("priority_areas")
    op.drop_table("typology_classes")
    op.drop_table("typologies")
