"""The flows under Prefect's test harness, as an operator sees them: what they did to the data,
and the summary each run publishes in Prefect's UI (read back through Prefect's client).

The database and the clock are the test's own (:func:`flows.common.injected`); the harness
(one temporary Prefect server) is started once for the session.
"""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
)
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

import notifications.dispatch
from flows.bulk import bulk_advance
from flows.common import injected, is_transient, opened_runtime
from flows.deadlines import sweep_deadlines
from flows.notify import dispatch_notifications, dispatch_task, send_digests
from states.clock import FixedClock
from states.db import Database
from states.errors import (
    Conflict,
    DeliveryFailed,
    GuardFailed,
    InvalidInput,
    NotFound,
    TransitionNotAllowed,
)
from states.lifecycle import Lifecycle
from states.models import AuditEvent, Case, Municipality
from tasks.cases import advance
from tasks.runtime import Runtime
from tests.builders import evidence_for, new_case, with_typology
from tests.flows.conftest import at_fortaleza, outbox, set_due, staff

pytestmark = pytest.mark.usefixtures("prefect")

RECIFE = 2611606
THURSDAY = date(2026, 3, 12)


def artifact(state: Any, key: str) -> str:
    """The Markdown the flow run published under ``key`` (exactly one)."""
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[key]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
            )
        )
    assert len(found) == 1, found
    assert found[0].type == "markdown"
    return str(found[0].data)


@pytest.fixture
def flow_rt(rt: Runtime) -> Iterator[Runtime]:
    with injected(rt):
        yield rt


class Recording:
    """A channel that keeps what it was given (thread-safe)."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.sent.append(message)


class Failing:
    """A channel whose SMTP server answers every message with ``reply``."""

    def __init__(self, reply: str, *, transient: bool) -> None:
        self.reply, self.transient, self.calls = reply, transient, 0

    def send(self, message: EmailMessage) -> None:
        self.calls += 1
        raise DeliveryFailed(f"SMTP answered: {self.reply}", transient=self.transient)


def overdue_and_soon(rt: Runtime, clock: FixedClock) -> tuple[int, int]:
    """On Thursday 03-12: a case two working days late (ana's reminder and sofia's escalation)
    and one due in three working days (ana's reminder before)."""
    staff(rt)
    late, soon = new_case(rt, coordinator="ana"), new_case(rt, coordinator="ana")
    set_due(rt, late, date(2026, 3, 10))
    set_due(rt, soon, date(2026, 3, 17))
    at_fortaleza(clock, THURSDAY)
    return late, soon


# ------------------------------------------------------------------------------ sweep


def test_the_sweep_flow_queues_the_reminders_once_and_publishes_its_summary(
    flow_rt: Runtime, clock: FixedClock
) -> None:
    rt = flow_rt
    late, soon = overdue_and_soon(rt, clock)
    bad = new_case(rt, coordinator="ana", municipality_code=RECIFE)
    set_due(rt, bad, date(2026, 3, 10))
    with rt.db.write() as session:  # reference data gone wrong: a UF with no calendar
        session.execute(
            update(Municipality).where(Municipality.ibge_code == RECIFE).values(uf="XX")
        )

    state = sweep_deadlines(return_state=True)

    assert state.is_completed()
    report = state.result()
    queued = sorted((m.case_id, m.recipient, m.context["policy_step"]) for m in outbox(rt))
    assert queued == [(late, "ana", "due"), (late, "sofia", "supervisor"), (soon, "ana", "before")]
    assert (report["reminders_queued"], report["failed"]) == (3, 1)
    assert [e["case_id"] for e in report["errors"]] == [bad]
    summary = artifact(state, "sweep-deadlines")
    assert "| messages queued | 3 |" in summary
    assert "| cases failed | 1 |" in summary
    assert f"| {bad} | - | " in summary
    assert "XX" in summary

    again = sweep_deadlines(return_state=True)
    assert len(outbox(rt)) == 3
    assert "| messages queued | 0 |" in artifact(again, "sweep-deadlines")
    assert "| already queued | 3 |" in artifact(again, "sweep-deadlines")


def test_the_sweep_flow_sweeps_as_of_the_moment_it_is_given(
    flow_rt: Runtime, clock: FixedClock
) -> None:
    rt = flow_rt
    _late, soon = overdue_and_soon(rt, clock)
    wednesday = at_fortaleza(FixedClock(clock.now()), date(2026, 3, 11))  # rt's clock stays
    report = sweep_deadlines(now=wednesday)
    assert report["as_of"].startswith("2026-03-11")
    assert soon not in {m.case_id for m in outbox(rt)}  # its reminder is due on Thursday


# ------------------------------------------------------------------------------ bulk advance


def test_bulk_advance_moves_what_it_can_and_says_why_the_others_were_refused(
    flow_rt: Runtime, clock: FixedClock
) -> None:
    rt = flow_rt
    quixada = [new_case(rt) for _ in range(2)]
    recife = new_case(rt, municipality_code=RECIFE)
    untouched = new_case(rt)
    for case_id in [*quixada, recife]:
        advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    today = date(2026, 3, 2)
    missing = 999_999
    with_typology(rt, quixada[0])  # Quixadá's microregion is classified, Recife's is not

    state = bulk_advance(
        case_ids=[*quixada, recife, untouched, missing, quixada[0]],
        event="aprovar_elegibilidade",
        evidence=evidence_for("aprovar_elegibilidade", today),
        actor="sofia",
        return_state=True,
    )

    assert state.is_completed()
    report = state.result()
    assert report["requested"] == 5  # each case once
    assert [(m["case_id"], m["to_state"]) for m in report["moved"]] == [
        (quixada[0], "polo_definido"),
        (quixada[1], "polo_definido"),
    ]
    refused = {r["case_id"]: r for r in report["refused"]}
    assert set(refused) == {recife, untouched, missing}
    assert refused[recife]["code"] == "guard_failed"
    assert "microregion" in refused[recife]["reason"]
    assert refused[untouched]["code"] == "transition_not_allowed"
    assert refused[missing]["code"] == "not_found"
    with rt.db.read() as session:
        states = dict(session.execute(select(Case.id, Case.state)).all())
        actors = set(
            session.execute(
                select(AuditEvent.actor).where(AuditEvent.event == "aprovar_elegibilidade")
            ).scalars()
        )
    assert (states[recife], states[untouched]) == ("em_analise", "registrada")
    assert actors == {"sofia"}
    summary = artifact(state, "bulk-advance")
    assert "| moved | 2 |" in summary
    assert "| refused | 3 |" in summary
    assert f"| {recife} | guard_failed | " in summary


def test_bulk_advance_with_bad_evidence_fails_before_touching_any_case(
    flow_rt: Runtime,
) -> None:
    rt = flow_rt
    case_id = new_case(rt)
    advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    state = bulk_advance(
        case_ids=[case_id],
        event="aprovar_elegibilidade",
        evidence={"decision": "sem data"},
        actor="sofia",
        return_state=True,
    )
    assert state.is_failed()
    with pytest.raises(InvalidInput, match="aprovar_elegibilidade"):
        state.result()
    with rt.db.read() as session:
        assert session.get(Case, case_id).state == "em_analise"


# ------------------------------------------------------------------------------ dispatch


def test_dispatch_writes_each_message_to_the_mailbox_of_the_settings(
    flow_rt: Runtime, clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = flow_rt
    overdue_and_soon(rt, clock)
    sweep_deadlines()
    mailbox = tmp_path / "mailbox"
    monkeypatch.setenv("PRODUZIR_MAILBOX_DIR", str(mailbox))

    state = dispatch_notifications(return_state=True)

    assert state.is_completed()
    files = sorted(mailbox.glob("*.eml"))
    messages = [email.message_from_bytes(f.read_bytes()) for f in files]
    assert sorted(m["To"] for m in messages) == [
        "ana@example.org",
        "ana@example.org",
        "sofia@example.org",
    ]
    rows = {m.message_id: m for m in outbox(rt)}
    assert {m["Message-ID"] for m in messages} == set(rows)
    assert {m.status for m in rows.values()} == {"sent"}
    assert "| sent | 3 |" in artifact(state, "dispatch-notifications")
    assert dispatch_notifications()["claimed"] == 0  # nothing sent twice


def test_a_permanent_failure_is_not_retried_a_temporary_one_is_tried_again_later(
    rt: Runtime, clock: FixedClock
) -> None:
    overdue_and_soon(rt, clock)
    with injected(rt):
        sweep_deadlines()
    refused = Failing("550 5.1.1 mailbox unknown", transient=False)
    with injected(rt, channel=refused):
        state = dispatch_notifications(return_state=True)
    assert state.is_completed()  # the run did its job: the failures are in the outbox
    assert refused.calls == 3  # once per message: never retried
    assert {(m.status, m.attempts) for m in outbox(rt)} == {("failed", 1)}
    summary = artifact(state, "dispatch-notifications")
    assert "| failed (permanent, or out of attempts) | 3 |" in summary
    assert "550 5.1.1 mailbox unknown" in summary

    for row in outbox(rt):  # an administrator puts them back: `produzir notify retry`
        notifications.dispatch.retry(rt, row.id, actor="admin")
    busy = Failing("421 4.7.0 try again later", transient=True)
    with injected(rt, channel=busy):
        state = dispatch_notifications(return_state=True)
    assert busy.calls == 3
    assert {m.status for m in outbox(rt)} == {"pending"}
    assert all(m.next_attempt_at > clock.now() for m in outbox(rt))
    assert "will retry" in artifact(state, "dispatch-notifications")

    working = Recording()
    with injected(rt, channel=working):
        assert dispatch_notifications()["claimed"] == 0  # not before its time
        clock.advance(timedelta(hours=1))
        assert dispatch_notifications()["sent"] == 3
    assert len(working.sent) == 3


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("SELECT 1", {}, Exception("database is locked")), True),
        (DeliveryFailed("SMTP answered: 421 busy", transient=True), True),
        (DeliveryFailed("SMTP answered: 554 rejected", transient=False), False),
        (InvalidInput("PRODUZIR_SMTP_PORT: 'abc' is not a number"), False),
        (GuardFailed(1, "concluir_gestao", "no business plan"), False),
        (ValueError("a bug"), False),
    ],
    ids=["locked-db", "smtp-4xx", "smtp-5xx", "bad-settings", "guard", "bug"],
)
def test_the_dispatch_task_retries_transient_errors_only(
    rt: Runtime,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    transient: bool,
) -> None:
    overdue_and_soon(rt, clock)
    with injected(rt):
        sweep_deadlines()
    real = notifications.dispatch.dispatch
    calls: list[int] = []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(notifications.dispatch, "dispatch", fails_once)
    channel = Recording()

    @flow(name="dispatch-without-waiting")
    def dispatch_without_waiting() -> int:
        with opened_runtime() as flow_runtime:
            quick = dispatch_task.with_options(retry_delay_seconds=0)
            return quick(flow_runtime, channel, None, None).sent

    with injected(rt, channel=channel):
        state = dispatch_without_waiting(return_state=True)
    if transient:
        assert state.is_completed()
        assert state.result() == 3
        assert len(calls) == 2
    else:
        assert state.is_failed()
        assert len(calls) == 1
        assert channel.sent == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OperationalError("UPDATE", {}, Exception("could not serialize access")), True),
        (ConnectionResetError("peer reset"), True),
        (TimeoutError("timed out"), True),
        (DeliveryFailed("timeout", transient=True), True),
        (DeliveryFailed("550", transient=False), False),
        (NotFound("case", 7), False),
        (TransitionNotAllowed(7, "cancelar", "concluida", []), False),
        (KeyError("bug"), False),
    ],
)
def test_what_counts_as_transient(error: BaseException, expected: bool) -> None:
    assert is_transient(error) is expected


def test_a_conflict_is_a_user_error_not_retried() -> None:
    conflict = Conflict(7, 2, 3, "ana", datetime(2026, 3, 2, tzinfo=UTC))
    assert is_transient(conflict) is False


# ------------------------------------------------------------------------------ digests


def test_the_digest_flow_writes_one_digest_a_day_after_the_local_morning(
    flow_rt: Runtime, clock: FixedClock
) -> None:
    rt = flow_rt
    staff(rt, coordinator_delivery="digest")
    late = new_case(rt, coordinator="ana")
    set_due(rt, late, date(2026, 3, 10))
    at_fortaleza(clock, THURSDAY, hour=5)
    sweep_deadlines()
    early = send_digests(return_state=True)
    assert early.result()["digests"] == 0  # 05:00 in Fortaleza: before ana's morning
    at_fortaleza(clock, THURSDAY, hour=8)
    state = send_digests(return_state=True)
    assert (state.result()["digests"], state.result()["recipients"]) == (1, ["ana"])
    assert send_digests()["digests"] == 0  # one a day
    [digest] = [m for m in outbox(rt) if m.category == "digest"]
    assert (digest.recipient, digest.status) == ("ana", "pending")
    assert "| digests written | 1 |" in artifact(state, "send-digests")


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
def test_two_dispatch_flows_at_once_on_postgresql_send_each_message_once(
    postgres_db: Database,
    lifecycle: Lifecycle,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt = Runtime(postgres_db, lifecycle, clock)
    staff(rt)
    for _ in range(15):
        set_due(rt, new_case(rt, coordinator="ana"), date(2026, 3, 10))
    at_fortaleza(clock, THURSDAY)
    monkeypatch.setenv("PRODUZIR_NOTIFY_BATCH_SIZE", "4")
    channel = Recording()
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = dispatch_notifications(return_state=True)
        except Exception as exc:  # shown by the assertion below
            results[i] = exc

    with injected(rt, channel=channel):
        sweep_deadlines()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    assert all(not isinstance(r, Exception) and r.is_completed() for r in results), results
    ids = [str(m["Message-ID"]) for m in channel.sent]
    assert len(ids) == 30 == len(set(ids))  # 15 reminders to ana, 15 escalations to sofia
    assert sum(r.result()["sent"] for r in results) == 30
    assert {m.status for m in outbox(rt)} == {"sent"}


@pytest.mark.postgres
def test_two_sweep_flows_at_once_on_postgresql_queue_each_reminder_once(
    postgres_db: Database, lifecycle: Lifecycle, clock: FixedClock
) -> None:
    rt = Runtime(postgres_db, lifecycle, clock)
    staff(rt)
    for i in range(20):
        set_due(rt, new_case(rt, coordinator="ana"), date(2026, 3, 2) + timedelta(days=i % 10))
    at_fortaleza(clock, THURSDAY)
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = sweep_deadlines(batch_size=3, return_state=True)
        except Exception as exc:  # shown by the assertion below
            results[i] = exc

    with injected(rt):
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        alone = sweep_deadlines()
    assert all(not isinstance(r, Exception) and r.is_completed() for r in results), results
    keys = [m.key for m in outbox(rt)]
    assert len(keys) == len(set(keys)) > 0
    assert sum(r.result()["reminders_queued"] for r in results) == len(keys)
    assert (alone["reminders_queued"], alone["already_queued"]) == (0, len(keys))
