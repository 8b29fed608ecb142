"""The demo portfolio, checked the way a user would check it after `produzir demo`.

The demo is built once for the module (200 cases on SQLite, through the real operations); the
tests read it back with the same queries the console uses: the case list and summary, a case's
detail, its history replayed to a date, and the audit chain's verification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from states import audit, queries
from states.clock import FixedClock
from states.errors import InvalidInput
from states.lifecycle import Lifecycle
from states.models import AuditEvent, Case
from states.states import ALL
from tasks.demo import DEMO_START, FINAL_AT, DemoReport, build_demo, demo_is_needed
from tasks.runtime import Runtime
from tests.conftest import sqlite_copy

CASES = 200
SEED = 2026
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def fresh_runtime(template: Path, folder: Path, lifecycle: Lifecycle) -> Runtime:
    return Runtime(sqlite_copy(template, folder), lifecycle, FixedClock(DEMO_START))


def build(rt: Runtime, *, cases: int = CASES, seed: int = SEED) -> DemoReport:
    assert isinstance(rt.clock, FixedClock)
    return build_demo(rt, rt.clock, cases=cases, seed=seed)


@pytest.fixture(scope="module")
def demo(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, DemoReport]]:
    rt = fresh_runtime(sqlite_template, tmp_path_factory.mktemp("demo"), lifecycle)
    assert demo_is_needed(rt)
    report = build(rt)
    yield rt, report
    rt.db.dispose()


def head_hash(rt: Runtime) -> str:
    with rt.db.read() as session:
        return audit.verify(session).head_hash


def test_the_demo_has_the_cases_and_events_it_reports(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    with rt.db.read() as session:
        cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert report.cases == cases == CASES
    assert report.events == events
    assert events > 5 * cases  # histories, not just registrations
    assert not demo_is_needed(rt)


def test_every_state_has_cases_and_the_summary_agrees(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    with rt.db.read() as session:
        summary = queries.summary(session, today=rt.today())
    per_state = {row["state"]: row["cases"] for row in summary}
    assert per_state == report.per_state
    empty = [s.value for s in ALL if per_state[s.value] == 0]
    assert not empty, f"no case in {empty}"
    assert sum(per_state.values()) == CASES


def test_cases_are_shared_among_coordinators(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    with rt.db.read() as session:
        rows = session.execute(
            select(Case.coordinator, func.count()).group_by(Case.coordinator)
        ).all()
    per_coordinator = dict(rows)
    assert None not in per_coordinator, "every case is assigned with `atribuir`"
    assert len(per_coordinator) >= 5
    assert sorted(per_coordinator) == report.coordinators


def test_the_clock_ends_on_the_final_date(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    assert rt.clock.now() == FINAL_AT
    assert report.final_date == rt.today() == date(2026, 11, 20)


def test_the_audit_chain_verifies_over_every_event(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    with rt.db.read() as session:
        result = audit.verify(session)
        rows = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert result.ok, result.problem
    assert result.checked == rows == result.head_seq


def test_every_case_now_equals_its_history_replayed(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    at, today = rt.clock.now(), rt.today()
    with rt.db.read() as session:
        ids = list(session.execute(select(Case.id).order_by(Case.id)).scalars())
        for case_id in ids:
            now = queries.case_detail(session, case_id, today=today)
            replayed = queries.case_at(session, case_id, at)
            for column in ("state", "coordinator", "due_on"):
                assert replayed[column] == now[column], (case_id, column)
            assert replayed["version"] == now["version"], case_id


def test_histories_move_forward_in_time(demo: tuple[Runtime, DemoReport]) -> None:
    """Events are in time order, inside the demo's period, and no evidence is dated later
    than the day it was recorded (except the expected resume date of a suspension)."""
    rt, _ = demo
    with rt.db.read() as session:
        rows = session.execute(
            select(AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.evidence).order_by(
                AuditEvent.seq
            )
        ).all()
    instants = [row.occurred_at for row in rows]
    assert instants == sorted(instants)
    assert instants[0] >= DEMO_START
    assert instants[-1] <= FINAL_AT
    late: list[tuple[int, str, str]] = []
    for seq, occurred_at, evidence in rows:
        day = occurred_at.date().isoformat()
        for key, value in _dated(json.loads(evidence)):
            if key != "expected_resume_on" and value > day:
                late.append((seq, key, value))
    assert not late


def _dated(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _dated(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _dated(item, key)
    elif isinstance(value, str) and ISO_DATE.match(value):
        yield key, value


def test_some_cases_are_overdue(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    today = rt.today()
    overdue = queries.CaseFilter(overdue=True)
    with rt.db.read() as session:
        listed = queries.list_cases(session, overdue, today=today, limit=1000)
        counted = queries.count_cases(session, overdue, today=today)
    assert listed, "`case list --overdue` shows nothing"
    assert counted == len(listed)
    assert all(row["overdue"] and row["days_late"] > 0 for row in listed)
    assert counted < CASES // 3  # a portfolio being worked on, not abandoned


def test_histories_show_the_lifecycle_side_roads(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    with rt.db.read() as session:
        events = session.execute(
            select(AuditEvent.case_id, AuditEvent.event, AuditEvent.actor).order_by(AuditEvent.seq)
        ).all()
    names = {e.event for e in events}
    for wanted in (
        "prorrogar",
        "suspender",
        "retomar",
        "indeferir",
        "recorrer",
        "cancelar",
        "anotar",
        "solicitar_reabertura",
        "aprovar_reabertura",
        "recusar_reabertura",
    ):
        assert wanted in names, f"no {wanted} in the demo"
    requested: dict[int, str] = {}
    approvals = []
    for case_id, event, actor in events:
        if event == "solicitar_reabertura":
            requested[case_id] = actor
        elif event == "aprovar_reabertura":
            approvals.append((requested[case_id], actor))
    assert approvals
    assert all(asked != decided for asked, decided in approvals)


def test_evidence_names_no_cpf(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    cpf = re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b")
    with rt.db.read() as session:
        texts = session.execute(select(AuditEvent.evidence)).scalars()
        found = [t for t in texts if cpf.search(t.replace('"', " "))]
    assert not found


def test_the_same_seed_builds_the_same_portfolio(
    demo: tuple[Runtime, DemoReport],
    sqlite_template: Path,
    lifecycle: Lifecycle,
    tmp_path: Path,
) -> None:
    rt, report = demo
    again = fresh_runtime(sqlite_template, tmp_path / "again", lifecycle)
    try:
        second = build(again)
        assert second.per_state == report.per_state
        assert second.events == report.events
        assert head_hash(again) == head_hash(rt)
    finally:
        again.db.dispose()


def test_another_seed_builds_another_portfolio(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    hashes = []
    for seed in (1, 2):
        rt = fresh_runtime(sqlite_template, tmp_path / str(seed), lifecycle)
        try:
            build(rt, cases=20, seed=seed)
            hashes.append(head_hash(rt))
        finally:
            rt.db.dispose()
    assert hashes[0] != hashes[1]


def test_the_demo_refuses_a_database_that_has_cases(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    with pytest.raises(InvalidInput, match="already has cases"):
        build(rt, cases=1)
