"""The daily checkpoint e-mail: the newest signed checkpoint, sent to every auditor.

A checkpoint kept outside the system is what lets an auditor prove later that the log was not
rewritten (``produzir audit verify --against FILE``). So that every auditor holds one without
having to fetch it, :func:`send_checkpoint_mail` writes, once a day per active auditor, after
the policy's morning hour in the auditor's own time zone (the digest's), one outbox row (key
``checkpoint:<user>:<local date>``, template ``checkpoint``) carrying the newest stored
checkpoint: its fields and the exact JSON line to keep. It is idempotent (the key), runs with
the daily digests (:mod:`flows.notify`), and sends nothing before the first checkpoint. The
message is not optional: it cannot be opted out of, like an escalation, and it never waits for
a digest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from notifications.digest import morning_date
from notifications.outbox import Env, Recipient, default_domain, insert_rows, values_for
from notifications.policy import CHECKPOINT, Policy, current_policy
from states import checkpoints
from states.directory import User


@dataclass
class CheckpointMailReport:
    """What one run did."""

    queued: int = 0
    before_morning: int = 0
    already_sent: int = 0
    tree_size: int | None = None
    recipients: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def checkpoint_key(username: str, local_date: str) -> str:
    return f"checkpoint:{username}:{local_date}"


def send_checkpoint_mail(
    rt: Env, *, now: datetime | None = None, policy: Policy | None = None
) -> CheckpointMailReport:
    """Queue today's checkpoint e-mail of every auditor whose morning has come."""
    policy = policy or current_policy()
    now = now or rt.clock.now()
    report = CheckpointMailReport()
    with rt.db.read() as session:
        latest = checkpoints.latest(session)
        auditors = [
            Recipient.of(u)
            for u in session.execute(
                select(User)
                .where(User.active.is_(True), User.role == "auditor")
                .order_by(User.username)
            ).scalars()
        ]
    if latest is None:
        return report
    _, checkpoint = latest
    report.tree_size = checkpoint.tree_size
    domain = default_domain()
    rows = []
    for person in auditors:
        day = morning_date(person, now, policy)
        if day is None:
            report.before_morning += 1
            continue
        context = {
            "recipient_name": person.name,
            "day": day,
            "log": checkpoint.log,
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "signed_at": checkpoint.timestamp,
            "key_id": checkpoint.key_id,
            "line": checkpoint.line(),
        }
        rows.append(
            values_for(
                key=checkpoint_key(person.username, day),
                case_id=None,
                category=CHECKPOINT,
                template=CHECKPOINT,
                recipient=person,
                context=context,
                now=now,
                domain=domain,
            )
        )
    with rt.db.write() as session:
        queued = set(insert_rows(session, rows))
    report.queued = len(queued)
    report.already_sent = len(rows) - len(queued)
    report.recipients = sorted(r["recipient"] for r in rows if r["key"] in queued)
    return report
