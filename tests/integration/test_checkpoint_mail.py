"""The daily checkpoint e-mail as an auditor uses it: one a morning, the line kept, checked.

rui (auditor, Fortaleza) and lia (auditor, Manaus, an hour behind) get the newest signed
checkpoint once a day after their own 07:00; ana (coordinator) and a disabled auditor do not.
The line of the e-mail, saved to a file, is what ``verify --against`` reads.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from notifications.checkpoint_mail import send_checkpoint_mail
from notifications.dispatch import dispatch
from states.clock import FixedClock
from states.signing import read_checkpoint_file
from tasks.cases import add_note
from tasks.runtime import Runtime
from tasks.users import add_user, disable_user
from tests.builders import new_case
from tests.integration.helpers import new_signer, ring, sign, verify
from tests.integration.test_dispatch import SETTINGS, Recording
from tests.integration.test_sweep import morning, rows, staff


def auditors(rt: Runtime) -> None:
    for username, timezone in (
        ("rui", "America/Fortaleza"),
        ("lia", "America/Manaus"),
        ("ex", "America/Fortaleza"),
    ):
        add_user(
            rt,
            {
                "username": username,
                "name": username.title(),
                "email": f"{username}@example.org",
                "role": "auditor",
                "timezone": timezone,
            },
            actor="admin",
        )
    disable_user(rt, "ex", actor="admin")


def plain(message: object) -> str:
    body = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(body.get_content())


def test_each_auditor_gets_the_newest_checkpoint_once_a_morning(
    rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    staff(rt)
    auditors(rt)
    case_id = new_case(rt, coordinator="ana")
    morning(clock, date(2026, 3, 16), hour=7, minute=30)
    nothing = send_checkpoint_mail(rt)  # no checkpoint signed yet: nothing to send
    assert (nothing.queued, nothing.tree_size) == (0, None)

    signer = new_signer()
    first = sign(rt.db, signer, at=clock.now())
    morning(clock, date(2026, 3, 16), hour=6, minute=30)
    early = send_checkpoint_mail(rt)
    assert (early.queued, early.before_morning) == (0, 2)

    morning(clock, date(2026, 3, 16), hour=7, minute=5)  # 06:05 in Manaus
    report = send_checkpoint_mail(rt)
    assert (report.queued, report.recipients, report.before_morning) == (1, ["rui"], 1)
    morning(clock, date(2026, 3, 16), hour=8, minute=5)
    later = send_checkpoint_mail(rt)
    assert (later.queued, later.recipients, later.already_sent) == (1, ["lia"], 1)
    assert send_checkpoint_mail(rt).queued == 0  # one a day
    sent = rows(rt, category="checkpoint")
    assert [(m.recipient, m.key) for m in sent] == [
        ("rui", "checkpoint:rui:2026-03-16"),
        ("lia", "checkpoint:lia:2026-03-16"),
    ]

    channel = Recording()
    dispatch(rt, channel=channel, settings=SETTINGS)
    by_address = {str(m["To"]): m for m in channel.sent}
    assert sorted(by_address) == ["lia@example.org", "rui@example.org"]
    text = plain(by_address["rui@example.org"])
    assert f"{first.tree_size}" in text
    [line] = [x for x in text.splitlines() if x.startswith('{"key_id"')]
    assert line == first.line()

    # the auditor keeps the line; the log written since still extends it
    kept = tmp_path / "kept.jsonl"
    kept.write_text(line + "\n", encoding="utf-8")
    add_note(rt, case_id, "visita registrada", actor="ana")
    assert verify(rt.db, against=read_checkpoint_file(kept), keyring=ring(signer)).ok

    # the next morning brings the newest checkpoint
    second = sign(rt.db, signer, at=clock.now())
    morning(clock, date(2026, 3, 17), hour=9)
    assert send_checkpoint_mail(rt).recipients == ["lia", "rui"]
    newest = rows(rt, category="checkpoint", key="checkpoint:rui:2026-03-17")
    assert [m.context["line"] for m in newest] == [second.line()]
    assert second.tree_size > first.tree_size
