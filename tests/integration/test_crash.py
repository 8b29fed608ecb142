"""The dispatcher killed with SIGKILL at random moments loses nothing.

3,000 messages wait in the outbox of a SQLite file. A dispatcher process (the real
:func:`notifications.dispatch.dispatch`, writing to the local mailbox) is started and killed
with SIGKILL at a random moment, 20 times (seeded), then restarted until the outbox is drained.
Afterwards: every message is sent and has its .eml file; a message delivered twice (sent, then
killed before it was marked) happens at most once per kill and carries the same Message-ID;
SQLite's integrity check passes and the audit chain verifies.
"""

from __future__ import annotations

import email
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url

from notifications.models import OutboxMessage
from notifications.outbox import insert_rows, values_for
from notifications.render import SAMPLES
from states.clock import FixedClock
from states.directory import User
from tasks.runtime import Runtime
from tasks.users import add_user
from tests.builders import cli_users, new_case
from tests.integration.helpers import verify

MESSAGES = 3_000
KILLS = 20
SEED = 20260316
LEASE_SECONDS = 1.0
ROOT = Path(__file__).resolve().parents[2]

DISPATCHER = r"""
import sys, time
from pathlib import Path
from sqlalchemy import func, select
from notifications.channels import MailboxChannel
from notifications.dispatch import dispatch
from notifications.models import OutboxMessage
from notifications.policy import Dispatch, load_policy
from notifications.settings import load_settings
from states.clock import SystemClock
from states.db import Database

class Env:
    def __init__(self, db):
        self.db, self.clock = db, SystemClock()

url, mailbox, lease, batch = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
db = Database(url)
env = Env(db)
channel = MailboxChannel(mailbox)
policy = load_policy().model_copy(update={"dispatch": Dispatch(lease_seconds=lease)})
settings = load_settings(notify_batch_size=batch)
print("ready", flush=True)
while True:
    if dispatch(env, channel=channel, settings=settings, policy=policy).claimed:
        continue
    with db.read() as session:
        left = session.execute(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(["pending", "sending"]))
        ).scalar_one()
    if not left:
        break
    time.sleep(0.05)  # rows of a killed dispatcher: wait for their lease to end
print("drained", flush=True)
"""


def start(url: str, mailbox: Path) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PRODUZIR_")}
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", DISPATCHER, url, str(mailbox), str(LEASE_SECONDS), "50"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", (line, process.stderr.read() if process.stderr else "")
    return process


def fill_outbox(rt: Runtime, clock: FixedClock) -> None:
    add_user(
        rt,
        {
            "username": "sofia",
            "name": "Sofia Lima",
            "email": "sofia@example.org",
            "role": "supervisor",
            "territories": ["CE"],
            "delivery": "immediate",
        },
        actor="admin",
    )
    cli_users(rt, "ana")
    for _ in range(3):
        new_case(rt, coordinator="ana")  # a few audit events besides the user's
    with rt.db.write() as session:
        sofia = session.get(User, "sofia")
        assert sofia is not None
        insert_rows(
            session,
            [
                values_for(
                    key=f"crash:{n}",
                    case_id=None,
                    category="escalation",
                    template="escalation",
                    recipient=sofia,
                    context={**SAMPLES["escalation"], "case_id": n},
                    now=clock.now(),
                    domain="crash.test",
                )
                for n in range(MESSAGES)
            ],
        )


def test_sigkill_at_random_moments_loses_nothing(
    rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    fill_outbox(rt, clock)
    url = rt.db.url
    rt.db.dispose()
    mailbox = tmp_path / "mailbox"
    chance = random.Random(SEED)
    started = time.monotonic()
    kills = 0
    for _ in range(KILLS):
        process = start(url, mailbox)
        time.sleep(chance.uniform(0.1, 0.9))  # a random moment of a real process's life
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=30)
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert kills == KILLS
    with rt.db.read() as session:
        sent_before_drain = len(
            session.execute(select(OutboxMessage.id).where(OutboxMessage.status == "sent")).all()
        )
    # the kills interrupted real work: some messages went out, not all of them
    assert 0 < sent_before_drain < MESSAGES, sent_before_drain
    last = start(url, mailbox)
    out, err = last.communicate(timeout=120)
    assert last.returncode == 0, err
    assert "drained" in out
    elapsed = time.monotonic() - started

    with rt.db.read() as session:
        found = session.execute(select(OutboxMessage.status, OutboxMessage.message_id)).all()
        integrity = session.connection().exec_driver_sql("PRAGMA integrity_check").scalar()
    chain = verify(rt.db)
    assert len(found) == MESSAGES
    assert {status for status, _ in found} == {"sent"}, Counter(status for status, _ in found)
    files = sorted(mailbox.glob("*.eml"))
    delivered = Counter(
        str(email.message_from_bytes(path.read_bytes())["Message-ID"]) for path in files
    )
    expected = {message_id for _, message_id in found}
    assert set(delivered) == expected  # 0 lost, nothing foreign
    duplicates = sum(n - 1 for n in delivered.values())
    # each kill leaves at most the one message it interrupted between its delivery and its mark
    # to be delivered again (the guarantee); a message whose lease ran out is claimed again, and
    # may be the one in flight at a later kill too, so one message can be delivered three times
    # (seen once under CI load) while the total stays within the kills
    assert duplicates <= kills, (duplicates, kills)
    assert integrity == "ok"
    assert chain.ok, chain.problem
    assert make_url(url).get_backend_name() == "sqlite"
    assert elapsed < 90, f"the crash test took {elapsed:.0f} s"
    print(  # shown with -s: how the run went
        f"crash test: {kills} kills, {sent_before_drain} sent before the drain, "
        f"{duplicates} duplicates, {len(files)} files, {elapsed:.1f} s"
    )
