"""Hubs, the register of partner institutions, the hub's CLAI and Protocol, policies reached.

The CLAI and the Protocol of Integrated Actions are territorial: they belong to the hub (polo)
and are shared by its cases. Before this revision ``clai``, ``protocols`` and ``commitments``
belonged to one case; the upgrade keeps their meaning:

- a ``hubs`` row for every municipality a case names as its hub (``cases.hub_municipality_code``)
  and for the municipality of a case that had a CLAI or Protocol without one; designated on the
  day its first case was registered;
- every institution named (CLAI members, Protocol signatories, commitment partners) becomes a
  partner of the register, once per name (case and spacing aside), its sphere not recorded;
- the CLAI of a hub: installed on the earliest installation among its cases, its members the
  union; the Protocol likewise (earliest signature, union of signatories);
- every commitment keeps its number and moves to its case's hub; an open commitment is an
  obligation of every open case of the hub, so the other cases get a copy of its obligation
  (same due date, parameters and description).

The downgrade gives each case of a hub the hub's CLAI and Protocol, each commitment to the
hub's first case, and drops the copies of the obligations.

Revision ID: 0017_hubs
Revises: 0016_calendar_generation
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017_hubs"
down_revision = "0016_calendar_generation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ACTOR = "migration-0013"
_CLOSED = ("concluida", "cancelada")


def name_key(name: str) -> str:
    """A partner's name as the register compares it (kept in step with tasks.partners)."""
    return " ".join(name.split()).casefold()[:200]


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _new_tables() -> None:
    op.create_table(
        "hubs",
        sa.Column(
            "municipality_code",
            sa.Integer,
            sa.ForeignKey("municipalities.ibge_code"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("designated_on", sa.Date, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False, unique=True),
        sa.Column("cnpj", sa.String(14), nullable=True, unique=True),
        sa.Column("sphere", sa.String(20), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )


def _hub_tables() -> None:
    op.create_table(
        "clai",
        sa.Column(
            "hub_code",
            sa.Integer,
            sa.ForeignKey("hubs.municipality_code"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("installed_on", sa.Date, nullable=False),
    )
    op.create_table(
        "clai_members",
        sa.Column("hub_code", sa.Integer, sa.ForeignKey("clai.hub_code"), primary_key=True),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), primary_key=True),
    )
    op.create_table(
        "clai_meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hub_code", sa.Integer, sa.ForeignKey("clai.hub_code"), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("decisions", sa.JSON, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_clai_meetings_hub_code", "clai_meetings", ["hub_code"])
    op.create_table(
        "clai_meeting_partners",
        sa.Column("meeting_id", sa.Integer, sa.ForeignKey("clai_meetings.id"), primary_key=True),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), primary_key=True),
    )
    op.create_table(
        "protocols",
        sa.Column(
            "hub_code",
            sa.Integer,
            sa.ForeignKey("hubs.municipality_code"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("signed_on", sa.Date, nullable=False),
    )
    op.create_table(
        "protocol_signatories",
        sa.Column("hub_code", sa.Integer, sa.ForeignKey("protocols.hub_code"), primary_key=True),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), primary_key=True),
    )
    op.create_table(
        "commitments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("hub_code", sa.Integer, sa.ForeignKey("protocols.hub_code"), nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("done_on", sa.Date, nullable=True),
    )
    op.create_index("ix_commitments_hub_code", "commitments", ["hub_code"])
    op.create_table(
        "policy_reaches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enterprise_id", sa.Integer, sa.ForeignKey("enterprises.id"), nullable=False),
        sa.Column("policy", sa.String(40), nullable=False),
        sa.Column("reached_on", sa.Date, nullable=False),
        sa.Column("partner_id", sa.Integer, sa.ForeignKey("partners.id"), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.UniqueConstraint(
            "enterprise_id", "policy", "reached_on", name="uq_policy_reaches_enterprise_policy_on"
        ),
    )
    op.create_index("ix_policy_reaches_enterprise_id", "policy_reaches", ["enterprise_id"])


def _t(name: str, *columns: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table(name, *columns)


HUBS = _t(
    "hubs",
    sa.column("municipality_code", sa.Integer),
    sa.column("designated_on", sa.Date),
    sa.column("created_at", TS),
    sa.column("created_by", sa.String),
)
PARTNERS = _t(
    "partners",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("name_key", sa.String),
    sa.column("created_at", TS),
    sa.column("created_by", sa.String),
)
CLAI = _t("clai", sa.column("hub_code", sa.Integer), sa.column("installed_on", sa.Date))
CLAI_MEMBERS = _t(
    "clai_members", sa.column("hub_code", sa.Integer), sa.column("partner_id", sa.Integer)
)
PROTOCOLS = _t("protocols", sa.column("hub_code", sa.Integer), sa.column("signed_on", sa.Date))
SIGNATORIES = _t(
    "protocol_signatories", sa.column("hub_code", sa.Integer), sa.column("partner_id", sa.Integer)
)
COMMITMENTS = _t(
    "commitments",
    sa.column("id", sa.Integer),
    sa.column("hub_code", sa.Integer),
    sa.column("partner_id", sa.Integer),
    sa.column("action", sa.Text),
    sa.column("due_on", sa.Date),
    sa.column("done_on", sa.Date),
)
OBLIGATIONS = _t(
    "obligations",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("record_type", sa.String),
    sa.column("record_id", sa.Integer),
    sa.column("description", sa.String),
    sa.column("params", sa.JSON),
    sa.column("due_on", sa.Date),
    sa.column("created_at", TS),
    sa.column("satisfied_on", sa.Date),
)


def _now(connection: sa.Connection) -> datetime:
    """Now, as the models store it (SQLite: naive UTC)."""
    now = datetime.now(UTC)
    return now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now


def _reset_sequence(connection: sa.Connection, table: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        )


def upgrade() -> None:
    connection = op.get_bind()
    now = _now(connection)
    old_clai = connection.execute(sa.text("SELECT case_id, installed_on, members FROM clai"))
    clai_rows = [(r[0], _as_date(r[1]), _json(r[2])) for r in old_clai]
    old_protocols = connection.execute(
        sa.text("SELECT case_id, signed_on, signatories FROM protocols")
    )
    protocol_rows = [(r[0], _as_date(r[1]), _json(r[2])) for r in old_protocols]
    commitment_rows = [
        (r[0], r[1], r[2], r[3], _as_date(r[4]), _as_date(r[5]) if r[5] is not None else None)
        for r in connection.execute(
            sa.text("SELECT id, case_id, partner, action, due_on, done_on FROM commitments")
        )
    ]
    cases = {
        r[0]: (r[1] or None, r[2], _as_date(r[3]), r[4])
        for r in connection.execute(
            sa.text(
                "SELECT id, hub_municipality_code, municipality_code, registered_at, state FROM cases"
            )
        )
    }
    op.drop_index("ix_commitments_case_id", "commitments")
    op.drop_table("commitments")
    op.drop_table("protocols")
    op.drop_table("clai")
    _new_tables()
    _hub_tables()

    def hub_of(case_id: int) -> int:
        hub, municipality, _, _ = cases[case_id]
        return int(hub or municipality)

    hubs: dict[int, date] = {}
    for hub, _municipality, registered, _state in cases.values():
        if hub:
            hubs[hub] = min(hubs.get(hub, registered), registered)
    for case_id, *_ in [*clai_rows, *protocol_rows]:
        code = hub_of(case_id)
        hubs[code] = min(hubs.get(code, cases[case_id][2]), cases[case_id][2])
    for c in commitment_rows:
        code = hub_of(c[1])
        hubs[code] = min(hubs.get(code, cases[c[1]][2]), cases[c[1]][2])
    if hubs:
        connection.execute(
            HUBS.insert(),
            [
                {
                    "municipality_code": code,
                    "designated_on": on,
                    "created_at": now,
                    "created_by": ACTOR,
                }
                for code, on in sorted(hubs.items())
            ],
        )

    partners: dict[str, int] = {}

    def partner(name: str) -> int:
        key = name_key(name)
        if key not in partners:
            connection.execute(
                PARTNERS.insert(),
                {
                    "id": len(partners) + 1,
                    "name": " ".join(name.split())[:200],
                    "name_key": key,
                    "created_at": now,
                    "created_by": ACTOR,
                },
            )
            partners[key] = len(partners) + 1
        return partners[key]

    def merge(rows: list[tuple[int, date, list[str]]]) -> dict[int, tuple[date, list[int]]]:
        merged: dict[int, tuple[date, list[int]]] = {}
        for case_id, on, names in sorted(rows, key=lambda r: (r[1], r[0])):
            code = hub_of(case_id)
            first, ids = merged.get(code, (on, []))
            for name in names:
                pid = partner(name)
                if pid not in ids:
                    ids.append(pid)
            merged[code] = (min(first, on), ids)
        return merged

    for code, (on, ids) in merge(clai_rows).items():
        connection.execute(CLAI.insert(), {"hub_code": code, "installed_on": on})
        for pid in ids:
            connection.execute(CLAI_MEMBERS.insert(), {"hub_code": code, "partner_id": pid})
    protocols = merge(protocol_rows)
    for c in commitment_rows:  # a commitment without a Protocol (not possible before) gets one
        code = hub_of(c[1])
        if code not in protocols:
            protocols[code] = (c[4], [])
    for code, (on, ids) in protocols.items():
        connection.execute(PROTOCOLS.insert(), {"hub_code": code, "signed_on": on})
        for pid in ids:
            connection.execute(SIGNATORIES.insert(), {"hub_code": code, "partner_id": pid})
    for cid, case_id, name, action, due_on, done_on in commitment_rows:
        connection.execute(
            COMMITMENTS.insert(),
            {
                "id": cid,
                "hub_code": hub_of(case_id),
                "partner_id": partner(name),
                "action": action,
                "due_on": due_on,
                "done_on": done_on,
            },
        )
    _reset_sequence(connection, "commitments")
    _reset_sequence(connection, "partners")
    _copy_obligations(connection, commitment_rows, cases, hub_of)


def _copy_obligations(
    connection: sa.Connection,
    commitment_rows: list[tuple[Any, ...]],
    cases: dict[int, tuple[Any, ...]],
    hub_of: Any,
) -> None:
    """An open commitment is an obligation of every open case of its hub."""
    for cid, case_id, _name, _action, _due, done_on in commitment_rows:
        if done_on is not None:
            continue
        o = OBLIGATIONS.c
        original = connection.execute(
            sa.select(o.kind, o.description, o.params, o.due_on, o.created_at)
            .where(o.record_type == "commitment", o.record_id == cid, o.case_id == case_id)
            .order_by(o.id)
            .limit(1)
        ).first()
        if original is None:
            continue
        code = hub_of(case_id)
        for other, (hub, _m, _r, state) in sorted(cases.items()):
            if other == case_id or hub != code or state in _CLOSED:
                continue
            connection.execute(
                OBLIGATIONS.insert(),
                {
                    "case_id": other,
                    "kind": original[0],
                    "record_type": "commitment",
                    "record_id": cid,
                    "description": original[1],
                    "params": original[2],
                    "due_on": original[3],
                    "created_at": original[4],
                },
            )


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    connection = op.get_bind()
    names: dict[int, str] = {
        int(r[0]): str(r[1]) for r in connection.execute(sa.text("SELECT id, name FROM partners"))
    }
    cases_of: dict[int, list[int]] = {}
    for case_id, hub in connection.execute(
        sa.text(
            "SELECT id, hub_municipality_code FROM cases WHERE hub_municipality_code IS NOT NULL ORDER BY id"
        )
    ):
        cases_of.setdefault(int(hub), []).append(int(case_id))
    clai = connection.execute(sa.text("SELECT hub_code, installed_on FROM clai")).all()
    members: dict[int, list[str]] = {}
    for hub, pid in connection.execute(sa.text("SELECT hub_code, partner_id FROM clai_members")):
        members.setdefault(int(hub), []).append(names[pid])
    protocols = connection.execute(sa.text("SELECT hub_code, signed_on FROM protocols")).all()
    signatories: dict[int, list[str]] = {}
    for hub, pid in connection.execute(
        sa.text("SELECT hub_code, partner_id FROM protocol_signatories")
    ):
        signatories.setdefault(int(hub), []).append(names[pid])
    commitments = connection.execute(
        sa.text("SELECT id, hub_code, partner_id, action, due_on, done_on FROM commitments")
    ).all()
    for table in (
        "policy_reaches",
        "commitments",
        "protocol_signatories",
        "protocols",
        "clai_meeting_partners",
        "clai_meetings",
        "clai_members",
        "clai",
        "partners",
        "hubs",
    ):
        op.drop_table(table)
    clai_table = op.create_table(
        "clai",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("installed_on", sa.Date, nullable=False),
        sa.Column("members", sa.JSON, nullable=False),
    )
    protocols_table = op.create_table(
        "protocols",
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("signatories", sa.JSON, nullable=False),
    )
    commitments_table = op.create_table(
        "commitments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("partner", sa.String(200), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("done_on", sa.Date, nullable=True),
    )
    op.create_index("ix_commitments_case_id", "commitments", ["case_id"])
    assert clai_table is not None
    assert protocols_table is not None
    assert commitments_table is not None
    for hub, on in clai:
        for case_id in cases_of.get(int(hub), []):
            connection.execute(
                clai_table.insert(),
                {
                    "case_id": case_id,
                    "installed_on": _as_date(on),
                    "members": members.get(int(hub), []),
                },
            )
    for hub, on in protocols:
        for case_id in cases_of.get(int(hub), []):
            connection.execute(
                protocols_table.insert(),
                {
                    "case_id": case_id,
                    "signed_on": _as_date(on),
                    "signatories": signatories.get(int(hub), []),
                },
            )
    for cid, hub, pid, action, due_on, done_on in commitments:
        first = cases_of.get(int(hub))
        if not first:
            continue
        connection.execute(
            commitments_table.insert(),
            {
                "id": cid,
                "case_id": first[0],
                "partner": names[pid],
                "action": action,
                "due_on": _as_date(due_on),
                "done_on": _as_date(done_on) if done_on is not None else None,
            },
        )
        o = OBLIGATIONS.c
        connection.execute(
            OBLIGATIONS.delete().where(
                o.record_type == "commitment", o.record_id == cid, o.case_id != first[0]
            )
        )
    _reset_sequence(connection, "commitments")
