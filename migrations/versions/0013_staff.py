"""The staff roster: the programme's staff and external multipliers, the instructors of the
training events chosen from it, and the staff an ECM trains (enrolment and attendance).

``staff`` holds a member of the programme's staff: a user of the system (``username``) or an
external multiplier (``name``, optional e-mail and phone), with the function (``role``), the
organisation as written, and an active flag. ``event_instructors`` links an event to the staff
members who instruct it; ``staff_enrolments`` and ``staff_attendance`` are the enrolment and
daily attendance of the staff an ECM trains.

The instructors were free text on the event (``training_events.instructors``, a JSON list of
names). Each distinct name becomes one external staff member (role ``instrutor``, no
organisation, active), linked to the events that named it; the column is then dropped, so a
name lives in one place, where it can be corrected or erased (LGPD art. 18). The downgrade
writes the names back from the links.

Revision ID: 0013_staff
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013_staff"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
#: who created the staff members this migration made from the events' instructors
MIGRATION_ACTOR = "migration-0013"
#: the role given to an instructor carried over from a free-text name
MIGRATED_ROLE = "instrutor"


def _names(value: Any) -> list[str]:
    if isinstance(value, str):  # SQLite hands JSON over as text
        value = json.loads(value)
    return [str(n).strip() for n in value or [] if str(n).strip()]


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "username", sa.String(64), sa.ForeignKey("users.username"), nullable=True, unique=True
        ),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(30), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("deactivated_at", TS, nullable=True),
        sa.CheckConstraint(
            "(username IS NULL) <> (name IS NULL)", name="ck_staff_user_or_external"
        ),
    )
    op.create_table(
        "event_instructors",
        sa.Column("event_id", sa.Integer, sa.ForeignKey("training_events.id"), primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), primary_key=True),
    )
    op.create_index("ix_event_instructors_staff_id", "event_instructors", ["staff_id"])
    op.create_table(
        "staff_enrolments",
        sa.Column("event_id", sa.Integer, sa.ForeignKey("training_events.id"), primary_key=True),
        sa.Column("staff_id", sa.Integer, sa.ForeignKey("staff.id"), primary_key=True),
        sa.Column("certification", sa.Boolean, nullable=False),
        sa.Column("enrolled_at", TS, nullable=False),
    )
    op.create_index("ix_staff_enrolments_staff_id", "staff_enrolments", ["staff_id"])
    op.create_table(
        "staff_attendance",
        sa.Column("event_id", sa.Integer, primary_key=True),
        sa.Column("staff_id", sa.Integer, primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.ForeignKeyConstraint(
            ["event_id", "staff_id"],
            ["staff_enrolments.event_id", "staff_enrolments.staff_id"],
        ),
    )
    op.create_index("ix_staff_attendance_staff_id", "staff_attendance", ["staff_id"])

    # the free-text instructors become staff members of the roster
    bind = op.get_bind()
    events = sa.table(
        "training_events", sa.column("id", sa.Integer), sa.column("instructors", sa.JSON)
    )
    staff = sa.table(
        "staff",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("role", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", TS),
        sa.column("created_by", sa.String),
    )
    links = sa.table(
        "event_instructors", sa.column("event_id", sa.Integer), sa.column("staff_id", sa.Integer)
    )
    now = datetime.now(UTC)
    staff_of: dict[str, int] = {}
    pairs: list[dict[str, int]] = []
    rows = bind.execute(sa.select(events.c.id, events.c.instructors).order_by(events.c.id))
    for event_id, value in rows.all():
        for name in dict.fromkeys(_names(value)):
            if name not in staff_of:
                staff_of[name] = bind.execute(
                    staff.insert()
                    .values(
                        name=name[:200],
                        role=MIGRATED_ROLE,
                        active=True,
                        created_at=now,
                        created_by=MIGRATION_ACTOR,
                    )
                    .returning(staff.c.id)
                ).scalar_one()
            pairs.append({"event_id": event_id, "staff_id": staff_of[name]})
    if pairs:
        bind.execute(links.insert(), pairs)
    # SQLite (3.35+) and PostgreSQL drop a plain column in place (no copy of the table)
    op.execute("ALTER TABLE training_events DROP COLUMN instructors")


def downgrade() -> None:
    op.add_column(
        "training_events",
        sa.Column("instructors", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT i.event_id, COALESCE(s.name, u.name) FROM event_instructors i "
            "JOIN staff s ON s.id = i.staff_id LEFT JOIN users u ON u.username = s.username "
            "ORDER BY i.event_id, i.staff_id"
        )
    ).all()
    names: dict[int, list[str]] = {}
    for event_id, name in rows:
        names.setdefault(event_id, []).append(name)
    events = sa.table(
        "training_events", sa.column("id", sa.Integer), sa.column("instructors", sa.JSON)
    )
    for event_id, listed in names.items():
        bind.execute(events.update().where(events.c.id == event_id).values(instructors=listed))
    op.drop_index("ix_staff_attendance_staff_id", table_name="staff_attendance")
    op.drop_table("staff_attendance")
    op.drop_index("ix_staff_enrolments_staff_id", table_name="staff_enrolments")
    op.drop_table("staff_enrolments")
    op.drop_index("ix_event_instructors_staff_id", table_name="event_instructors")
    op.drop_table("event_instructors")
    op.drop_table("staff")
