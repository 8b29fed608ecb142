"""`produzir db upgrade` takes a database of revision 0006 (a 20-case demo) to the new log.

``tests/data/revision-0006-demo.json.gz`` holds the cases, audit events and chain head that
``produzir demo --cases 20`` wrote on revision 0006, and what that revision's point-in-time
views answered for each case at three moments. The test loads them into a database migrated
to 0006, upgrades, and checks that the old events became the first leaves of a log that
verifies, each still tied to its old chain link, and that the views answer as before.
"""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import migrations
from states import audit, queries
from states.clock import FixedClock
from states.db import Database
from states.errors import NotFound
from states.lifecycle import Lifecycle, load_lifecycle, shipped_lifecycle_files
from tasks.cases import add_note
from tasks.runtime import Runtime
from tests.integration.helpers import count_events, new_signer, ring, sign, verify

FIXTURE = Path(__file__).parent.parent / "data" / "revision-0006-demo.json.gz"
TIMESTAMPS = {"registered_at", "updated_at", "occurred_at"}


def load_fixture() -> dict[str, Any]:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _value(db: Database, column: str, value: Any) -> Any:
    if column in TIMESTAMPS and value is not None and db.is_postgresql:
        return f"{value}+00"  # stored naive in UTC by SQLite
    return value


def load_0006(db: Database, data: dict[str, Any]) -> None:
    migrations.upgrade(db.engine, "0006")
    with db.engine.begin() as connection:
        for table in ("cases", "audit_events"):
            columns = data["tables"][table]["columns"]
            statement = text(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join(':' + c for c in columns)})"
            )
            connection.execute(
                statement,
                [
                    {c: _value(db, c, v) for c, v in zip(columns, row, strict=True)}
                    for row in data["tables"][table]["rows"]
                ],
            )
        if db.is_postgresql:
            connection.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
        head = data["tables"]["chain_head"]["rows"][0]
        connection.execute(
            text("UPDATE chain_head SET seq = :s, hash = :h WHERE id = 1"),
            {"s": head[1], "h": head[2]},
        )


@pytest.fixture
def upgraded(empty_db: Database) -> tuple[Database, dict[str, Any]]:
    data = load_fixture()
    load_0006(empty_db, data)
    migrations.upgrade(empty_db.engine)
    return empty_db, data


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def test_the_old_events_become_the_first_leaves_and_verify(
    upgraded: tuple[Database, dict[str, Any]],
) -> None:
    db, data = upgraded
    old = data["tables"]["audit_events"]
    rows = old["rows"]
    seq_at, hash_at = old["columns"].index("seq"), old["columns"].index("hash")
    check = verify(db, backstop=False)
    assert check.ok, check.problem
    assert check.checked == check.tree_size == len(rows) == count_events(db) == 1975
    with db.engine.connect() as connection:
        entries = connection.execute(
            text("SELECT seq, leaf_index, entry FROM audit_events ORDER BY seq")
        ).all()
    # the same events, in the same order, each carrying its link of the old chain
    assert [e.seq for e in entries] == [r[seq_at] for r in rows]
    assert [e.leaf_index for e in entries] == list(range(len(rows)))
    assert [json.loads(e.entry)["legacy_hash"] for e in entries] == [r[hash_at] for r in rows]
    assert (
        json.loads(entries[-1].entry)["legacy_hash"] == data["tables"]["chain_head"]["rows"][0][2]
    )


def test_the_point_in_time_views_answer_as_before(
    upgraded: tuple[Database, dict[str, Any]],
) -> None:
    db, data = upgraded
    compared = 0
    with db.read() as session:
        for key, before in data["views"].items():
            if key.endswith(":history"):
                case_id = int(key.split(":")[0])
                now = [
                    [e["seq"], e["event"], e["to_state"], e["actor"], e["changes"]]
                    for e in queries.history(session, case_id)
                ]
                assert _plain(now) == before, key
            else:
                case_id, moment = key.split("@")
                try:
                    now_view: Any = queries.case_at(
                        session, int(case_id), datetime.fromisoformat(moment)
                    )
                except NotFound:
                    now_view = {"error": "NotFound"}
                else:
                    # recorded before the view named the version a case ran under (all 2026.x)
                    assert str(now_view.pop("lifecycle_version")).startswith("2026.")
                assert _plain(now_view) == before, key
            compared += 1
    assert compared == 20 * 4


def test_the_migrated_log_grows_and_is_signed(
    upgraded: tuple[Database, dict[str, Any]], lifecycle: Lifecycle
) -> None:
    db, _ = upgraded
    with db.read() as session:
        size, _root = audit.tree_state(session)
    # the dump's cases run under an earlier version: the shipped history is loaded beside it,
    # as Runtime.open loads it
    shipped = tuple(load_lifecycle(path) for path in shipped_lifecycle_files())
    at = FixedClock(datetime.fromisoformat("2026-11-21T12:00:00+00:00"))
    rt = Runtime(db, lifecycle, at, others=shipped)
    done = add_note(rt, 1, "Conferido depois da migração.", actor="rui.auditor")
    signer = new_signer()
    checkpoint = sign(db, signer)
    assert checkpoint.tree_size == size + 1
    check = verify(db, keyring=ring(signer))
    assert check.ok, check.problem
    with db.read() as session:
        assert queries.history(session, 1)[-1]["seq"] == done.seq > 1975
