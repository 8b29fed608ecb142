"""The LGPD registers: data-subject requests, partner exports and the people they carried,
security incidents and the people they affected; people may be anonymised.

``subject_requests``: a data subject's request (LGPD art. 18), when and how it was received, what
is asked, when it was confirmed (art. 19 I) and answered, and the day the full statement is due
(art. 19 II: 15 days). ``partner_exports`` / ``partner_export_people``: each pseudonymised export
for a partner and the people it carried (art. 18 VII). ``incidents`` / ``incident_people``: a
security incident, the data and people affected, the notices to the ANPD and to the people
(Resolução CD/ANPD 15/2024: 3 working days) and the day the entry may go (5 years).
``people.anonymised_at``: when a person's name, CPF and contact were removed (art. 18 IV, VI).

Revision ID: 0018_lgpd
Revises: 0017_hubs
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_lgpd"
down_revision = "0017_hubs"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("anonymised_at", TS, nullable=True))
    op.create_table(
        "subject_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), nullable=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("details", sa.String(1000), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("confirmed_at", TS, nullable=True),
        sa.Column("answered_on", sa.Date, nullable=True),
        sa.Column("answer", sa.String(1000), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_subject_requests_person_id", "subject_requests", ["person_id"])
    op.create_index("ix_subject_requests_open_due", "subject_requests", ["answered_on", "due_on"])
    op.create_table(
        "partner_exports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("key_id", sa.String(12), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
    )
    op.create_table(
        "partner_export_people",
        sa.Column("export_id", sa.Integer, sa.ForeignKey("partner_exports.id"), primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), primary_key=True),
    )
    op.create_index("ix_partner_export_people_person_id", "partner_export_people", ["person_id"])
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("known_on", sa.Date, nullable=False),
        sa.Column("occurred_on", sa.Date, nullable=True),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("data_affected", sa.String(500), nullable=False),
        sa.Column("people_count", sa.Integer, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("anpd_notified_on", sa.Date, nullable=True),
        sa.Column("people_notified_on", sa.Date, nullable=True),
        sa.Column("keep_until", sa.Date, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "incident_people",
        sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.id"), primary_key=True),
        sa.Column("person_id", sa.Integer, sa.ForeignKey("people.id"), primary_key=True),
    )
    op.create_index("ix_incident_people_person_id", "incident_people", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_people_person_id", "incident_people")
    op.drop_table("incident_people")
    op.drop_table("incidents")
    op.drop_index("ix_partner_export_people_person_id", "partner_export_people")
    op.drop_table("partner_export_people")
    op.drop_table("partner_exports")
    op.drop_index("ix_subject_requests_open_due", "subject_requests")
    op.drop_index("ix_subject_requests_person_id", "subject_requests")
    op.drop_table("subject_requests")
    # a plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy of `people` would drop the
    # table, which the rows that refer to it forbid
    op.execute("ALTER TABLE people DROP COLUMN anonymised_at")
