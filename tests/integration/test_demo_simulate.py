"""``produzir demo --simulate-days``: days of sweeps, digests and dispatch over the demo
portfolio under a moving clock, as a newcomer reads them in the mailbox. No Prefect."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import migrations
from demo import DEMO_START, FINAL_DAY, MANAGER, SUPERVISORS, build_demo
from demo.simulate import demo_staff, first_day, simulate
from notifications.models import OutboxMessage
from notifications.settings import load_settings
from states.clock import FixedClock
from states.db import Database
from states.directory import User
from states.errors import InvalidInput
from states.lifecycle import Lifecycle
from states.models import Case
from tasks.runtime import Runtime
from tests.conftest import sqlite_copy

BRASILIA = ZoneInfo("America/Sao_Paulo")
DAYS = 10


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory, lifecycle: Lifecycle) -> Path:
    """A small demo portfolio, built once for the module."""
    path = tmp_path_factory.mktemp("demo") / "produzir.db"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db.engine)
    clock = FixedClock(DEMO_START)
    build_demo(Runtime(db, lifecycle, clock), clock, cases=16, seed=2026)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def demo_rt(demo_file: Path, tmp_path: Path, lifecycle: Lifecycle) -> Iterator[Runtime]:
    db = sqlite_copy(demo_file, tmp_path / "demo-db")
    yield Runtime(db, lifecycle, FixedClock(DEMO_START))
    db.dispose()


def mailbox_messages(folder: Path) -> list[email.message.Message]:
    return [email.message_from_bytes(f.read_bytes()) for f in sorted(folder.glob("*.eml"))]


def test_days_of_the_running_system_fill_the_mailbox_with_reminders_and_escalations(
    demo_rt: Runtime, tmp_path: Path
) -> None:
    mailbox = tmp_path / "mailbox"
    report = simulate(demo_rt, days=DAYS, settings=load_settings(mailbox_dir=mailbox))

    assert report.start == FINAL_DAY + timedelta(days=1)  # the day after the portfolio's last
    assert [d.day for d in report.days] == [report.start + timedelta(days=i) for i in range(DAYS)]
    assert report.mailbox == mailbox
    messages = mailbox_messages(mailbox)
    assert len(messages) == report.sent > 0
    assert len({m["Message-ID"] for m in messages}) == len(messages)  # nothing sent twice
    kinds = report.sent_by_category()
    assert kinds.get("reminder", 0) > 0
    assert kinds.get("escalation", 0) > 0
    assert kinds.get("digest", 0) > 0  # two coordinators of the demo chose the digest

    # each message left on its simulated day, at 09:00 in Brasília
    sent_days = {parsedate_to_datetime(m["Date"]).astimezone(BRASILIA) for m in messages}
    assert {d.time() for d in sent_days} == {datetime(2026, 1, 1, 9).time()}
    assert {d.date() for d in sent_days} <= {d.day for d in report.days}

    with demo_rt.db.read() as session:
        rows = list(session.execute(select(OutboxMessage)).scalars())
        emails = set(session.execute(select(User.email)).scalars())
        session.expunge_all()
    assert {m["To"] for m in messages} <= emails
    for row in rows:  # before the deadline a reminder; after it, the escalations
        if row.category not in ("reminder", "escalation") or row.sent_at is None:
            continue
        day = row.sent_at.astimezone(BRASILIA).date()
        due = date.fromisoformat(row.context["due_on"])
        if row.category == "escalation":
            assert day > due, row.key
        elif row.context["step"] == "before":
            assert day < due, row.key


def test_the_next_days_send_only_what_is_new(demo_rt: Runtime, tmp_path: Path) -> None:
    settings = load_settings(mailbox_dir=tmp_path / "mailbox")
    first = simulate(demo_rt, days=3, settings=settings)
    later = simulate(demo_rt, days=3, start=first.start, settings=settings)  # same days again
    assert later.sent == 0
    assert later.staff_added == []
    assert len(mailbox_messages(tmp_path / "mailbox")) == first.sent


def test_a_second_simulation_starts_after_the_last_day_something_happened(
    demo_rt: Runtime, tmp_path: Path
) -> None:
    mailbox = tmp_path / "mailbox"
    settings = load_settings(mailbox_dir=mailbox)
    first = simulate(demo_rt, days=3, settings=settings)
    second = simulate(demo_rt, days=3, settings=settings)
    last_active = max(d.day for d in first.days if d.queued or d.sent)
    assert second.start == last_active + timedelta(days=1)
    rows = second.rows()
    assert [r["day"] for r in rows] == [
        (second.start + timedelta(days=d)).isoformat() for d in range(3)
    ]
    assert sum(r["sent"] for r in rows) == second.sent
    messages = mailbox_messages(mailbox)
    assert len(messages) == first.sent + second.sent
    assert len({m["Message-ID"] for m in messages}) == len(messages)  # a day replayed sends nothing


def test_the_demo_staff_are_the_people_the_portfolio_names(demo_rt: Runtime) -> None:
    assert demo_staff(demo_rt) == []  # the demo registered its staff before its first step
    with demo_rt.db.read() as session:
        users = {u.username: u for u in session.execute(select(User)).scalars()}
        held = set(session.execute(select(Case.coordinator).distinct()).scalars()) - {None}
        session.expunge_all()
    assert held <= set(users)
    assert {u.role for u in users.values()} == {"coordinator", "supervisor", "manager"}
    assert set(SUPERVISORS.values()) | {MANAGER} <= set(users)
    assert {u.delivery for u in users.values()} == {"digest", "immediate"}
    assert {u.language for u in users.values()} == {"pt-BR", "en"}
    supervisors = [u for u in users.values() if u.role == "supervisor"]
    assert all(u.territories for u in supervisors)
    assert demo_staff(demo_rt) == []


def test_a_simulation_needs_cases_and_a_sensible_number_of_days(
    rt: Runtime, demo_rt: Runtime
) -> None:
    with pytest.raises(InvalidInput, match="no cases"):
        first_day(rt)
    with pytest.raises(InvalidInput, match="days"):
        simulate(demo_rt, days=0)
