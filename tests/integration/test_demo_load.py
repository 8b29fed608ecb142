"""The demo load made faster (issue 14) writes what it wrote before, and says how far it got.

A small portfolio is loaded with every commit synced (``PRODUZIR_DEMO_SQLITE_SYNCHRONOUS=FULL``,
the old way) and with the default (NORMAL): the same report, the same audit log down to the root
of its Merkle tree, and the log verifies. The demo users share one password hash and log in
with the demo password. The progress callbacks of the load, of the sweep without a shard and
of the simulated days count up to their total.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from console.progress import fraction, progress_bar
from demo import DEMO_PASSWORD, DEMO_START, DEMO_USERS, FINAL_AT, load_demo
from demo.simulate import simulate
from notifications.settings import load_settings
from states import audit
from states.clock import FixedClock
from states.db import Database
from states.directory import User
from states.errors import InvalidInput
from states.lifecycle import Lifecycle
from states.models import Case
from states.text import N_
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines
from tasks.users import verify_password
from tests.conftest import sqlite_copy
from tests.integration.helpers import verify

CASES = 8


def fresh(template: Path, folder: Path, lifecycle: Lifecycle) -> Runtime:
    return Runtime(sqlite_copy(template, folder), lifecycle, FixedClock(DEMO_START))


def head_hash(rt: Runtime) -> tuple[int, str]:
    with rt.db.read() as session:
        return audit.tree_state(session)


def counts(told: list[tuple[int, int]]) -> None:
    """What a progress callback was told: from 0 of the total, up by one, to the total."""
    assert told[0][0] == 0
    total = told[0][1]
    assert total > CASES
    assert [done for done, _ in told] == list(range(total + 1))
    assert {t for _, t in told} == {total}


def test_the_demo_writes_the_same_log_with_fewer_syncs_and_says_how_far_it_got(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = {}
    for level in ("FULL", "NORMAL"):
        monkeypatch.setenv("PRODUZIR_DEMO_SQLITE_SYNCHRONOUS", level)
        rt = fresh(sqlite_template, tmp_path / level, lifecycle)
        told: list[tuple[int, int]] = []
        try:
            loaded = load_demo(
                rt, cases=CASES, progress=lambda d, t, told=told: told.append((d, t))
            )
            assert verify(rt.db).ok
            built[level] = (loaded.report, head_hash(rt))
            with rt.db.read() as session:
                hashes = dict(
                    session.execute(
                        select(User.username, User.password_hash).where(
                            User.username.in_([u["username"] for u in DEMO_USERS])
                        )
                    ).all()
                )
        finally:
            rt.db.dispose()
        counts(told)
        # every demo user logs in with the demo password, and not with another
        assert set(hashes) == {u["username"] for u in DEMO_USERS}
        for stored in hashes.values():
            assert verify_password(stored, DEMO_PASSWORD)
            assert not verify_password(stored, DEMO_PASSWORD + "x")
    assert built["NORMAL"] == built["FULL"]
    assert built["NORMAL"][0] is not None
    assert built["NORMAL"][0].cases == CASES


def test_a_wrong_sync_setting_is_refused_naming_the_variable_and_nothing_is_written(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUZIR_DEMO_SQLITE_SYNCHRONOUS", "SOMETIMES")
    rt = fresh(sqlite_template, tmp_path, lifecycle)
    try:
        with pytest.raises(InvalidInput, match="PRODUZIR_DEMO_SQLITE_SYNCHRONOUS"):
            load_demo(rt, cases=CASES)
        with rt.db.read() as session:
            assert session.execute(select(func.count()).select_from(Case)).scalar_one() == 0
    finally:
        rt.db.dispose()


def test_another_sync_level_is_another_engine_on_the_same_file(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'produzir.db'}")
    relaxed = db.with_synchronous("NORMAL")
    try:
        assert relaxed is not db
        assert relaxed.url == db.url
        with db.read() as session:
            assert session.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
        with relaxed.read() as session:
            assert session.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
        assert db.with_synchronous("FULL") is db
        memory = Database("sqlite://")
        assert memory.with_synchronous("NORMAL") is memory  # another engine would not see it
    finally:
        relaxed.dispose()
        db.dispose()


def test_the_sweep_without_a_shard_and_the_simulated_days_say_how_far_they_got(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    rt = fresh(sqlite_template, tmp_path, lifecycle)
    try:
        load_demo(rt, cases=CASES)
        fractions: list[float] = []
        sweep_deadlines(rt, now=FINAL_AT, batch_size=1, on_batch=fractions.append)
        assert len(fractions) >= 3  # a case due a batch, then the end
        assert fractions == sorted(fractions)
        assert 0 < fractions[0] < 1
        assert fractions[-1] == 1.0
        days: list[tuple[int, int]] = []
        settings = load_settings(mailbox_dir=tmp_path / "mailbox")
        simulate(rt, days=2, settings=settings, progress=lambda d, t: days.append((d, t)))
        assert days == [(1, 2), (2, 2)]
    finally:
        rt.db.dispose()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_drawn_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_bar(N_("loading the demo portfolio"), N_("steps")) as update:
        assert update is None  # piped: nothing drawn, nothing to tell
    assert fraction(None) is None
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setenv("PRODUZIR_LANG", "en")
    with progress_bar(N_("loading the demo portfolio"), N_("steps")) as update:
        assert update is not None
        update(3, 10)
    assert "loading the demo portfolio" in terminal.getvalue()
    assert "3/10" in terminal.getvalue()
