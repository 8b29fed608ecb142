"""The daily digest as its reader sees it: one message a morning, everything of theirs in it.

ana (coordinator, Fortaleza) chose the digest; bruno (coordinator) chose immediate messages.
Her morning is 07:00 in Fortaleza (10:00 UTC). The clock is injected.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from notifications.digest import send_digests
from notifications.dispatch import dispatch
from notifications.policy import load_policy
from states.clock import FixedClock
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines
from tasks.users import add_user
from tests.builders import new_case
from tests.integration.test_dispatch import SETTINGS, Recording, bruno
from tests.integration.test_sweep import morning, rows, set_due, staff


def reminders_for_ana(rt: Runtime, clock: FixedClock, dues: list[date]) -> list[int]:
    cases = []
    for due in dues:
        case_id = new_case(rt, coordinator="ana")
        set_due(rt, case_id, due)
        cases.append(case_id)
    return cases


def test_several_reminders_make_one_digest_a_day_and_the_next_day_another(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt, coordinator_delivery="digest")
    bruno(rt)
    # Monday 03-16: one case due today, one in three working days, one overdue since Friday
    cases = reminders_for_ana(rt, clock, [date(2026, 3, 16), date(2026, 3, 20), date(2026, 3, 13)])
    brunos = new_case(rt, coordinator="bruno")
    set_due(rt, brunos, date(2026, 3, 16))
    morning(clock, date(2026, 3, 16), hour=6, minute=30)
    sweep_deadlines(rt)
    assert send_digests(rt).before_morning == 1  # ana is the only digest reader
    assert rows(rt, category="digest") == []

    morning(clock, date(2026, 3, 16), hour=7, minute=5)
    report = send_digests(rt)
    assert (report.digests, report.items, report.recipients) == (1, 3, ["ana"])
    [digest] = rows(rt, category="digest")
    assert digest.key == "digest:ana:2026-03-16"
    assert digest.recipient == "ana"
    folded = rows(rt, recipient="ana", category="reminder")
    assert {m.status for m in folded} == {"digested"}
    assert {m.digest_id for m in folded} == {digest.id}
    assert {i["case_id"] for i in digest.context["items"]} == set(cases)
    assert send_digests(rt).digests == 0  # at most one a day

    channel = Recording()
    dispatch(rt, channel=channel, settings=SETTINGS)
    to_ana = [m for m in channel.sent if m["To"] == "ana@example.org"]
    assert len(to_ana) == 1  # one message, not three
    body = to_ana[0].get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert all(f"{case_id}" in text for case_id in cases)
    to_bruno = [m for m in channel.sent if m["To"] == "bruno@example.org"]
    assert len(to_bruno) == 1  # his own reminder, at once
    assert rows(rt, recipient="bruno", category="digest") == []

    # Tuesday: the overdue case escalates (sofia, at once); a new reminder for ana waits
    later = reminders_for_ana(rt, clock, [date(2026, 3, 20)])
    morning(clock, date(2026, 3, 17), hour=9)
    sweep_deadlines(rt)
    tuesday = send_digests(rt)
    assert (tuesday.digests, tuesday.items) == (1, 1)
    [_, second] = rows(rt, category="digest")
    assert second.key == "digest:ana:2026-03-17"
    assert [i["case_id"] for i in second.context["items"]] == later
    # Wednesday: nothing new for ana -> no digest at all
    morning(clock, date(2026, 3, 18), hour=9)
    sweep_deadlines(rt)
    assert send_digests(rt).digests == 0


def test_escalations_reach_digest_readers_at_once(rt: Runtime, clock: FixedClock) -> None:
    staff(rt)
    add_user(
        rt,
        {
            "username": "rita",
            "name": "Rita Melo",
            "email": "rita@example.org",
            "role": "supervisor",
            "territories": ["CE"],
            "delivery": "digest",
        },
        actor="admin",
    )
    case_id = new_case(rt, coordinator="ana")
    set_due(rt, case_id, date(2026, 3, 10))
    morning(clock, date(2026, 3, 12), hour=5)  # before anyone's morning
    sweep_deadlines(rt)
    channel = Recording()
    dispatch(rt, channel=channel, settings=SETTINGS)
    assert sorted(str(m["To"]) for m in channel.sent) == [
        "ana@example.org",
        "rita@example.org",
        "sofia@example.org",
    ]
    assert send_digests(rt).digests == 0


def test_the_morning_is_the_recipients_own_and_comes_from_the_policy(
    rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    staff(rt, coordinator_delivery="digest", timezone="America/Noronha")  # UTC-2
    reminders_for_ana(rt, clock, [date(2026, 3, 16)])
    morning(clock, date(2026, 3, 16), hour=6)  # 06:00 Fortaleza = 07:00 Noronha
    sweep_deadlines(rt)
    assert send_digests(rt).digests == 1
    path = tmp_path / "policy.toml"
    path.write_text('[digest]\nmorning = "08:30"\n', encoding="utf-8")
    late = load_policy(path)
    clock.advance(timedelta(days=1))
    reminders_for_ana(rt, clock, [date(2026, 3, 17)])
    sweep_deadlines(rt)
    assert send_digests(rt, policy=late).before_morning == 1
    clock.advance(timedelta(hours=1, minutes=30))
    assert send_digests(rt, policy=late).digests == 1
