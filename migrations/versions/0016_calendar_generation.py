"""The calendar's generation: a counter the working-day calendars are cached under.

``calendar_generation`` holds one row (id 1) whose ``n`` takes a new value whenever a row of
``municipal_holidays`` or ``office_closures`` is inserted, updated or deleted (database
triggers, so every writer counts: the operations, a test, an administrator's SQL). The new
value is never one a rolled-back change took (PostgreSQL: the transaction's id; SQLite: a random
64-bit number), so a calendar cached by a transaction that rolled back is never taken for
the current one. The write
path reads ``n`` with the case it loads, in the same query, and keeps each municipality's
calendar in memory for as long as ``n`` stays the same (:class:`states.calendar.CalendarCache`).

Revision ID: 0016_calendar_generation
Revises: 0015_forms
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_calendar_generation"
down_revision = "0015_forms"
branch_labels = None
depends_on = None

TABLES = ("municipal_holidays", "office_closures")
_BUMP_SQLITE = "UPDATE calendar_generation SET n = random() WHERE id = 1"
_BUMP_PG = "UPDATE calendar_generation SET n = txid_current() WHERE id = 1"


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER {table}_{op_name.lower()}_generation AFTER {op_name} ON {table} "
        f"BEGIN {_BUMP_SQLITE}; END"
        for table in TABLES
        for op_name in ("INSERT", "UPDATE", "DELETE")
    ]


_PG_FUNCTION = f"""CREATE FUNCTION produzir_calendar_generation() RETURNS trigger
   LANGUAGE plpgsql AS $$ BEGIN {_BUMP_PG}; RETURN NULL; END $$"""


def upgrade() -> None:
    table = op.create_table(
        "calendar_generation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "n": 0}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name in TABLES:
            op.execute(
                f"CREATE TRIGGER {name}_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                f"ON {name} FOR EACH STATEMENT EXECUTE FUNCTION produzir_calendar_generation()"
            )
    else:
        for statement in _sqlite_triggers():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TABLES:
            op.execute(f"DROP TRIGGER {name}_generation ON {name}")
        op.execute("DROP FUNCTION produzir_calendar_generation()")
    else:
        for name in TABLES:
            for op_name in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {name}_{op_name}_generation")
    op.drop_table("calendar_generation")
