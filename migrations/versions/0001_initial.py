"""Initial schema: municipalities, cases, the append-only audit chain and its head.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64
TS = sa.DateTime(timezone=True)

SQLITE_GUARDS = [
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END""",
    """CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
       BEGIN SELECT RAISE(ABORT, 'chain_head cannot be deleted'); END""",
]
POSTGRESQL_GUARDS = [
    """CREATE FUNCTION produzir_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
           USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
    """CREATE TRIGGER chain_head_no_delete BEFORE DELETE ON chain_head
       FOR EACH ROW EXECUTE FUNCTION produzir_append_only()""",
    """CREATE TRIGGER chain_head_no_truncate BEFORE TRUNCATE ON chain_head
       FOR EACH STATEMENT EXECUTE FUNCTION produzir_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "municipalities",
        sa.Column("ibge_code", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("uf", sa.String(2), nullable=False),
        sa.Column("state_name", sa.String(40), nullable=False),
        sa.Column("region", sa.String(20), nullable=False),
        sa.Column("mesoregion_code", sa.Integer(), nullable=False),
        sa.Column("mesoregion", sa.String(120), nullable=False),
        sa.Column("microregion_code", sa.Integer(), nullable=False),
        sa.Column("microregion", sa.String(120), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(40), nullable=False),
    )
    op.create_index("ix_municipalities_uf", "municipalities", ["uf"])
    op.create_index("ix_municipalities_microregion_code", "municipalities", ["microregion_code"])

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lifecycle_version", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("previous_state", sa.String(20), nullable=True),
        sa.Column(
            "municipality_code",
            sa.Integer(),
            sa.ForeignKey("municipalities.ibge_code"),
            nullable=False,
        ),
        sa.Column("community", sa.String(200), nullable=False),
        sa.Column("forum", sa.String(200), nullable=False),
        sa.Column("forum_held_on", sa.Date(), nullable=False),
        sa.Column("activity", sa.String(200), nullable=False),
        sa.Column("proponent", sa.String(200), nullable=False),
        sa.Column("proponent_cnpj", sa.String(14), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("coordinator", sa.String(64), nullable=True),
        sa.Column(
            "hub_municipality_code",
            sa.Integer(),
            sa.ForeignKey("municipalities.ibge_code"),
            nullable=True,
        ),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("entered_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("extensions_used", sa.Integer(), nullable=False),
        sa.Column("suspended_on", sa.Date(), nullable=True),
        sa.Column("paused_due_on", sa.Date(), nullable=True),
        sa.Column("expected_resume_on", sa.Date(), nullable=True),
        sa.Column("rejected_on", sa.Date(), nullable=True),
        sa.Column("reopen_requested_by", sa.String(64), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_cases_state_due", "cases", ["state", "due_on"])
    op.create_index("ix_cases_municipality", "cases", ["municipality_code"])
    op.create_index("ix_cases_coordinator", "cases", ["coordinator"])

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("case_version", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.String(20), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("lifecycle_version", sa.String(40), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_events_case_id", "audit_events", ["case_id"])

    head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])

    guards = SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE chain_head, audit_events CASCADE")
        op.execute("DROP FUNCTION produzir_append_only()")
    else:
        op.execute("DROP TABLE chain_head")
        op.execute("DROP TABLE audit_events")
    op.drop_table("cases")
    op.drop_table("municipalities")
