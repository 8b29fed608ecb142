"""Dispatch as the people on the other end see it: who gets what, once, and what a failure does.

Channels here are test doubles (a recording channel, channels that fail the way SMTP servers
do), except where the command line writes to the real local mailbox. The clock is injected:
retries are "later" because the clock is moved, never because a test sleeps.
"""

from __future__ import annotations

import email
import json
import threading
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from console import cli_notify
from console.common import command_group
from notifications.dispatch import claim, dispatch, retry
from notifications.models import OutboxMessage
from notifications.outbox import enqueue, for_transition, message_id_for
from notifications.settings import load_settings
from states.clock import FixedClock
from states.directory import User
from states.errors import DeliveryFailed, InvalidInput
from states.models import Case
from tasks.cases import advance
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines
from tasks.users import add_user, disable_user
from tests.builders import cli_users, evidence_for, new_case, with_typology
from tests.integration.helpers import case_row, verify
from tests.integration.test_sweep import morning, rows, set_due, staff

SETTINGS = load_settings(notify_max_attempts=4, notify_retry_base_seconds=60, notify_batch_size=25)


class Recording:
    """A channel that keeps what it was given (thread-safe)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.sent.append(message)

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.sent]


class Failing:
    """A channel whose server answers every message with ``reply``."""

    def __init__(self, reply: str, *, transient: bool) -> None:
        self.reply, self.transient, self.calls = reply, transient, 0

    def send(self, message: EmailMessage) -> None:
        self.calls += 1
        raise DeliveryFailed(
            f"SMTP mail.example.org:587 answered: {self.reply}", transient=self.transient
        )


def overdue_case(rt: Runtime, clock: FixedClock, coordinator: str = "ana") -> int:
    """A case two working days overdue on Thursday 03-12: a due reminder and an escalation."""
    case_id = new_case(rt, coordinator=coordinator)
    set_due(rt, case_id, date(2026, 3, 10))
    morning(clock, date(2026, 3, 12))
    sweep_deadlines(rt)
    return case_id


def bruno(rt: Runtime, **extra: Any) -> None:
    add_user(
        rt,
        {
            "username": "bruno",
            "name": "Bruno Costa",
            "email": "bruno@example.org",
            "role": "coordinator",
            "territories": ["CE"],
            "delivery": "immediate",
            **extra,
        },
        actor="admin",
    )


# ------------------------------------------------------------------------ who gets what


def test_immediate_people_get_each_message_digest_people_only_their_escalations(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt, coordinator_delivery="digest")
    bruno(rt)
    anas = overdue_case(rt, clock, "ana")
    brunos = overdue_case(rt, clock, "bruno")
    channel = Recording()
    report = dispatch(rt, channel=channel, settings=SETTINGS)
    delivered = sorted((str(m["To"]), m.get_content_type()) for m in channel.sent)
    assert delivered == [
        ("bruno@example.org", "multipart/alternative"),
        ("sofia@example.org", "multipart/alternative"),
        ("sofia@example.org", "multipart/alternative"),
    ]
    assert (report.claimed, report.sent) == (3, 3)
    [waiting] = rows(rt, recipient="ana")
    assert (waiting.case_id, waiting.status) == (anas, "pending")  # for tomorrow's digest
    sent = {m.message_id: m for m in rows(rt, status="sent")}
    assert set(channel.ids()) == set(sent)
    assert all(m.sent_at == clock.now() for m in sent.values())
    assert {m.case_id for m in sent.values()} == {anas, brunos}
    for message in channel.sent:
        row = sent[str(message["Message-ID"])]
        assert row.message_id == message_id_for(row.key, SETTINGS.message_id_domain)
        text = message.get_body(("plain",))
        assert text is not None
        assert f"nº {row.case_id}" in text.get_content()
    assert dispatch(rt, channel=channel, settings=SETTINGS).claimed == 0


def test_a_disabled_recipient_and_a_case_closed_meanwhile_are_skipped_not_sent(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    bruno(rt)
    closed = overdue_case(rt, clock, "ana")
    other = overdue_case(rt, clock, "bruno")
    advance(rt, closed, "cancelar", evidence_for("cancelar", date(2026, 3, 12)), actor="ana")
    disable_user(rt, "bruno", actor="admin")
    channel = Recording()
    report = dispatch(rt, channel=channel, settings=SETTINGS)
    assert [str(m["To"]) for m in channel.sent] == ["sofia@example.org"]  # other's escalation
    skipped = {(m.case_id, m.recipient): m.last_error for m in rows(rt, status="skipped")}
    assert set(skipped) == {(closed, "ana"), (closed, "sofia"), (other, "bruno")}
    assert "cancelada" in (skipped[(closed, "ana")] or "")
    assert "disabled" in (skipped[(other, "bruno")] or "")
    assert report.skipped == 3


# ------------------------------------------------------------------------ failures


def test_temporary_failures_are_retried_later_with_growing_delays_then_failed(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    overdue_case(rt, clock)
    busy = Failing("451 4.3.0 mailbox busy, try again later", transient=True)
    delays = []
    for attempt in range(1, SETTINGS.notify_max_attempts + 1):
        before = clock.now()
        report = dispatch(rt, channel=busy, settings=SETTINGS)
        assert report.claimed == 2  # the reminder to ana and the escalation to sofia
        assert dispatch(rt, channel=busy, settings=SETTINGS).claimed == 0  # not yet
        found = rows(rt)
        assert {m.attempts for m in found} == {attempt}
        assert all("451" in (m.last_error or "") for m in found)
        if attempt < SETTINGS.notify_max_attempts:
            assert {m.status for m in found} == {"pending"}
            [wait] = {m.next_attempt_at - before for m in found}
            delays.append(wait.total_seconds())
            clock.set(found[0].next_attempt_at)
        else:
            assert {m.status for m in found} == {"failed"}
            assert report.failed == 2
    assert delays == [60, 120, 240]
    assert busy.calls == 2 * SETTINGS.notify_max_attempts


def test_a_permanent_failure_fails_at_once_is_listed_and_can_be_retried(
    rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    staff(rt)
    case_id = overdue_case(rt, clock)
    nobody = Failing("550 5.1.1 no such user", transient=False)
    report = dispatch(rt, channel=nobody, settings=SETTINGS)
    assert (report.failed, report.retried, report.sent) == (2, 0, 0)
    assert {(m.status, m.attempts) for m in rows(rt)} == {("failed", 1)}
    cli = cli_runner(rt, monkeypatch, tmp_path)
    listed = json.loads(invoke(cli, "notify", "list", "--status", "failed", "--json"))
    assert {m["case_id"] for m in listed} == {case_id}
    assert all("550 5.1.1 no such user" in m["last_error"] for m in listed)
    table = invoke(cli, "notify", "list", "--status", "failed")
    assert "550 5.1.1" in table
    first = listed[-1]["id"]
    assert f"message {first} queued again" in invoke(
        cli, "notify", "retry", str(first), "--by", "sofia"
    )
    assert "only failed messages" in invoke(
        cli, "notify", "retry", str(first), "--by", "sofia", code=2
    )
    assert "does not exist" in invoke(cli, "notify", "retry", "9999", "--by", "sofia", code=3)
    channel = Recording()
    assert dispatch(rt, channel=channel, settings=SETTINGS).sent == 1
    [again] = rows(rt, status="sent")
    assert again.id == first
    assert again.last_error is None


def test_a_message_that_cannot_be_rendered_fails_without_stopping_the_others(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    overdue_case(rt, clock)
    with rt.db.write() as session:
        ana = session.get(User, "ana")
        assert ana is not None
        enqueue(
            session,
            key="test:broken",
            case_id=None,
            category="transition",
            template="transition",
            recipient=ana,
            context={"case_id": 1},  # most placeholders missing
            now=clock.now(),
        )
    report = dispatch(rt, channel=Recording(), settings=SETTINGS)
    assert (report.sent, report.failed) == (2, 1)
    [broken] = rows(rt, key="test:broken")
    assert broken.status == "failed"
    assert "cannot render transition" in (broken.last_error or "")


def test_a_failed_send_never_undoes_the_transition_that_queued_it(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    bruno(rt)
    case_id = new_case(rt, coordinator="ana")
    moved = advance(rt, case_id, "iniciar_analise", {}, actor="bruno")
    [told] = rows(rt, case_id=case_id)  # queued in the transition's own transaction
    assert (told.category, told.recipient, told.status) == ("transition", "ana", "pending")
    assert told.context["from_state"] == "registrada"
    report = dispatch(rt, channel=Failing("554 5.7.1 rejected", transient=False), settings=SETTINGS)
    assert report.failed == 1
    case = case_row(rt.db, case_id)
    assert (case.state, case.version) == ("em_analise", moved.version)
    assert verify(rt.db).ok
    # a change the coordinator made herself tells nobody; an assignment tells the new one
    advance(rt, case_id, "anotar", {"text": "Visita feita."}, actor="bruno")
    with_typology(rt, case_id)
    approval = evidence_for("aprovar_elegibilidade", date(2026, 3, 2))
    advance(rt, case_id, "aprovar_elegibilidade", approval, actor="ana")
    advance(rt, case_id, "atribuir", {"coordinator": "bruno"}, actor="sofia")
    assert [(m.category, m.recipient) for m in rows(rt, case_id=case_id)] == [
        ("transition", "ana"),
        ("assignment", "bruno"),
    ]


def test_for_transition_tells_the_right_person_in_the_callers_transaction(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    bruno(rt, opted_out=["assignment"])
    case_id = new_case(rt, coordinator="ana")

    def queue(event: str, from_state: str, to_state: str, actor: str, **kw: Any) -> int:
        with rt.db.write() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return for_transition(
                session,
                case,
                case_version=case.version,
                event=event,
                messages=rt.lifecycle.spec(event).messages,
                from_state=from_state,
                to_state=to_state,
                actor=actor,
                now=clock.now(),
                **kw,
            )

    assert queue("iniciar_analise", "registrada", "em_analise", "ana") == 0  # her own change
    assert queue("anotar", "registrada", "registrada", "bruno") == 0  # no change of state
    assert queue("iniciar_analise", "registrada", "em_analise", "bruno") == 1
    assert queue("iniciar_analise", "registrada", "em_analise", "bruno") == 0  # same key
    with rt.db.write() as session:
        session.execute(
            Case.__table__.update().where(Case.id == case_id).values(coordinator="bruno")  # type: ignore[attr-defined]
        )
    assert queue("atribuir", "registrada", "registrada", "sofia", previous_coordinator="ana") == 1
    assert queue("atribuir", "registrada", "registrada", "bruno", previous_coordinator="ana") == 0
    told = rows(rt, case_id=case_id)
    assert [(m.category, m.recipient, m.status) for m in told] == [
        ("transition", "ana", "pending"),
        ("assignment", "bruno", "skipped"),  # bruno opted out of assignments
    ]
    assert told[0].context["contact_name"] == "Sofia Lima"
    assert told[1].context["assigned_by"] == "Sofia Lima"


# ------------------------------------------------------------------------ crash recovery


def test_rows_a_dead_dispatcher_claimed_are_sent_after_its_lease(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    overdue_case(rt, clock)
    claimed = claim(rt, at=clock.now(), size=10, lease=600)  # ...and the dispatcher dies
    assert len(claimed) == 2
    assert {m.status for m in rows(rt)} == {"sending"}
    channel = Recording()
    assert dispatch(rt, channel=channel, settings=SETTINGS).claimed == 0  # the lease holds
    clock.advance(timedelta(seconds=601))
    assert dispatch(rt, channel=channel, settings=SETTINGS).sent == 2
    assert sorted(channel.ids()) == sorted(m.message_id for m in claimed)


@pytest.mark.postgres
def test_two_dispatchers_at_once_send_each_message_once(any_rt: Runtime, clock: FixedClock) -> None:
    rt = any_rt
    staff(rt)
    with rt.db.write() as session:
        sofia = session.get(User, "sofia")
        assert sofia is not None
        for n in range(300):
            enqueue(
                session,
                key=f"test:{n}",
                case_id=None,
                category="escalation",
                template="escalation",
                recipient=sofia,
                context={
                    "recipient_name": "Sofia Lima",
                    "case_id": n,
                    "community": "Boa Vista",
                    "municipality": "Quixadá",
                    "uf": "CE",
                    "state": "gestao",
                    "obligation": None,
                    "due_on": "2026-03-02",
                    "days": 3,
                    "step": "supervisor",
                    "coordinator_name": None,
                    "coordinator_email": None,
                },
                now=clock.now(),
            )
    channel = Recording()
    settings = load_settings(notify_batch_size=7)
    barrier = threading.Barrier(2)
    reports: list[Any] = [None, None]

    def run(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            reports[i] = dispatch(rt, channel=channel, settings=settings)
        except Exception as exc:  # shown by the assertion below
            reports[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not isinstance(r, Exception) for r in reports), reports
    ids = channel.ids()
    assert len(ids) == len(set(ids)) == 300
    assert sum(r.sent for r in reports) == 300
    assert {m.status for m in rows(rt)} == {"sent"}


# ------------------------------------------------------------------------ the command line


def cli_runner(rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.setenv("PRODUZIR_MAILBOX_DIR", str(tmp_path / "mailbox"))
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt, "admin")
    monkeypatch.delenv("PRODUZIR_NOTIFY_CHANNEL", raising=False)
    return CliRunner()


#: The root app as console/cli.py registers the commands (`sweep`, the `notify` group).
root = command_group("test root")
root.add_typer(cli_notify.app, name="notify")
root.command("sweep")(cli_notify.sweep)


def invoke(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(root, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code:
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.output
        return result.stderr
    return result.stdout


def test_sweep_and_dispatch_from_the_command_line_fill_the_mailbox(
    rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    set_due(rt, case_id, date(2026, 3, 10))
    cli = cli_runner(rt, monkeypatch, tmp_path)
    out = json.loads(invoke(cli, "sweep", "--now", "2026-03-12T09:00", "--json"))
    assert (out["cases_checked"], out["reminders_queued"]) == (1, 2)
    assert "0 messages queued, 2 already queued" in invoke(cli, "sweep", "--now", "2026-03-12")
    assert "2 sent" in invoke(cli, "notify", "dispatch")
    files = sorted((tmp_path / "mailbox").glob("*.eml"))
    assert len(files) == 2
    received = {str(email.message_from_bytes(f.read_bytes())["Message-ID"]) for f in files}
    assert received == {m.message_id for m in rows(rt)}
    listed = json.loads(invoke(cli, "notify", "list", "--case", str(case_id), "--json"))
    assert {(m["status"], m["step"]) for m in listed} == {("sent", "due"), ("sent", "supervisor")}
    assert "unknown status" in invoke(cli, "notify", "list", "--status", "lost", code=2)
    assert "is not a date" in invoke(cli, "sweep", "--now", "yesterday", code=2)


def test_preview_shows_a_template_for_a_real_case(
    rt: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    cli = cli_runner(rt, monkeypatch, tmp_path)
    pt = invoke(cli, "notify", "preview", "reminder", "--case", str(case_id))
    en = invoke(cli, "notify", "preview", "reminder", "--case", str(case_id), "--lang", "en")
    assert pt.startswith("Assunto: [PRODUZIR]")  # the preview in its language, "Subject:" too
    assert en.startswith("Subject: [PRODUZIR]")
    assert f"nº {case_id}" in pt
    assert "Quixadá" in en
    assert pt != en
    assert "unknown template" in invoke(
        cli, "notify", "preview", "gossip", "--case", str(case_id), code=2
    )


def test_retry_refuses_what_is_not_failed(rt: Runtime, clock: FixedClock) -> None:
    staff(rt)
    overdue_case(rt, clock)
    [first, _] = rows(rt)
    with pytest.raises(InvalidInput, match="is pending"):
        retry(rt, first.id, actor="sofia")
    with rt.db.read() as session:
        assert session.execute(select(OutboxMessage.status)).scalars().all() == ["pending"] * 2
