"""The appeal against a rejection as Lei 9.784/1999 writes it, on real dates in Quixadá (CE).

Ceará keeps São José (Thursday 2026-03-19) and the abolition in Ceará (Wednesday 03-25); Dia do
Trabalho (Friday 05-01) is national. The window of 10 days counts from the proponent's ciência
(art. 59), not from the decision; the authority that decided may reconsider within 5 days, or
forwards the appeal to the superior authority (art. 56 §1), which decides within 30 days,
extendable once by 30 (art. 59 §§1-2). Each "day" is the clock at 09:00 in Fortaleza, and the
deadline sweep runs as it does in production.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from states.clock import FixedClock
from states.db import Database
from states.errors import GuardFailed, InvalidInput, TransitionNotAllowed
from states.lifecycle import SHIPPED_VERSIONS, Lifecycle, load_lifecycle
from states.models import AuditEvent
from tasks import cases as ops
from tasks.cases import advance
from tasks.lifecycle_migration import migrate
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines
from tests.builders import drive, new_case
from tests.integration.helpers import case_row, verify
from tests.integration.test_sweep import morning, rows, staff, steps_of

REASONS = "Demanda fora das áreas prioritárias da PNDR em vigor."
GROUNDS = "A associação juntou a documentação que faltava e a ata do fórum."
DECISION = "Os documentos juntados ao recurso comprovam a atuação na comunidade."


def rejected_case(rt: Runtime, clock: FixedClock, decided_on: date, **notice: object) -> int:
    """A case in Quixadá rejected on ``decided_on`` (the ciência as ``notice`` gives it)."""
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    drive(rt, clock, case_id, "em_analise", actor="ana")
    morning(clock, decided_on)
    ops.reject(rt, case_id, decided_on=decided_on, reasons=REASONS, actor="sofia", **notice)  # type: ignore[arg-type]
    return case_id


def notified(rt: Runtime, clock: FixedClock, case_id: int, day: date, means: str) -> None:
    """The proponent's ciência, recorded on the day it happened."""
    morning(clock, day)
    ops.notify_decision(rt, case_id, notified_on=day, means=means, actor="ana")


def decide(rt: Runtime, case_id: int, event: str, day: date, actor: str = "sofia") -> None:
    advance(rt, case_id, event, {"decided_on": day, "reasons": DECISION}, actor=actor)


def test_the_window_starts_only_at_the_ciencia(rt: Runtime, clock: FixedClock) -> None:
    case_id = rejected_case(rt, clock, date(2026, 3, 5))
    row = case_row(rt.db, case_id)
    assert (row.state, row.rejected_on, row.due_on) == ("indeferida", date(2026, 3, 5), None)
    # two months on, the ciência still not recorded: the sweep leaves the case alone
    morning(clock, date(2026, 5, 5))
    report = sweep_deadlines(rt)
    assert report.transitions == []
    assert case_row(rt.db, case_id).state == "indeferida"
    with pytest.raises(GuardFailed, match="ciência of the rejection is not recorded"):
        advance(rt, case_id, "arquivar", {}, actor="ana")
    # the proponent is told by post on Monday 05-04: 10 days, to Thursday 05-14
    ops.notify_decision(rt, case_id, notified_on=date(2026, 5, 4), means="postal", actor="ana")
    assert case_row(rt.db, case_id).due_on == date(2026, 5, 14)
    with pytest.raises(
        GuardFailed, match="already recorded; the appeal window runs until 2026-05-14"
    ):
        ops.notify_decision(rt, case_id, notified_on=date(2026, 5, 5), means="pessoal", actor="ana")
    morning(clock, date(2026, 5, 14))  # the window's last day: still open
    assert sweep_deadlines(rt).transitions == []
    morning(clock, date(2026, 5, 15))
    report = sweep_deadlines(rt)
    assert [(t["case_id"], t["event"]) for t in report.transitions] == [(case_id, "arquivar")]
    row = case_row(rt.db, case_id)
    assert (row.state, row.updated_by) == ("arquivada", "system")
    verify(rt.db)


def test_an_appeal_12_days_after_the_decision_is_in_time_from_the_ciencia(
    rt: Runtime, clock: FixedClock
) -> None:
    # decided Thursday 03-05 (then 20 days before the appeal: too late under 2026.2), the
    # proponent told in the case file 12 days later, Tuesday 03-17
    case_id = rejected_case(rt, clock, date(2026, 3, 5))
    notified(rt, clock, case_id, date(2026, 3, 17), "pessoal")
    assert case_row(rt.db, case_id).due_on == date(2026, 3, 27)  # 03-17 + 10
    morning(clock, date(2026, 3, 25))  # 20 days after the decision, 8 after the ciência
    ops.appeal(rt, case_id, filed_on=date(2026, 3, 25), grounds=GROUNDS, actor="ana")
    row = case_row(rt.db, case_id)
    # with the authority that decided: 5 days from the filing, Monday 03-30
    assert (row.state, row.due_on) == ("em_reconsideracao", date(2026, 3, 30))
    assert row.rejected_on == date(2026, 3, 5)  # the rejection stands meanwhile


def test_an_appeal_after_the_window_from_the_ciencia_is_refused(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = rejected_case(rt, clock, date(2026, 3, 5))
    notified(rt, clock, case_id, date(2026, 3, 9), "eletronica")
    # 03-09 + 10 = Thursday 03-19, São José in Ceará: the window runs to Friday 03-20
    assert case_row(rt.db, case_id).due_on == date(2026, 3, 20)
    morning(clock, date(2026, 3, 23))
    with pytest.raises(GuardFailed) as refused:
        ops.appeal(rt, case_id, filed_on=date(2026, 3, 23), grounds=GROUNDS, actor="ana")
    assert refused.value.reason == (
        "the appeal was filed on 2026-03-23, after the window of 10 days from the proponent's "
        "ciência closed on 2026-03-20"
    )
    assert case_row(rt.db, case_id).state == "indeferida"  # nothing written


def test_a_reconsideration_refused_is_forwarded_and_the_superior_grants_it(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = rejected_case(rt, clock, date(2026, 3, 5))
    notified(rt, clock, case_id, date(2026, 3, 17), "pessoal")
    morning(clock, date(2026, 3, 25))
    ops.appeal(rt, case_id, filed_on=date(2026, 3, 25), grounds=GROUNDS, actor="ana")
    # the authority lets its 5 days pass: the coordinator is reminded on the day (the reminder
    # 3 working days before fell before the filing), the supervisor told 2 working days after
    for day in (date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1)):
        morning(clock, day)
        sweep_deadlines(rt)
    deadline = [m for m in rows(rt, case_id=case_id) if m.category in ("reminder", "escalation")]
    assert steps_of(deadline) == [
        ("due", "ana", "2026-03-30"),
        ("supervisor", "sofia", "2026-03-30"),
    ]
    # it does not reconsider and forwards the appeal on Wednesday 04-01: the superior authority
    # has 30 days, to Friday 05-01 (Dia do Trabalho), so Monday 05-04
    decide(rt, case_id, "encaminhar_recurso", date(2026, 4, 1))
    row = case_row(rt.db, case_id)
    assert (row.state, row.due_on, row.extensions_used) == ("recurso_superior", date(2026, 5, 4), 0)
    with pytest.raises(TransitionNotAllowed):
        decide(rt, case_id, "reconsiderar", date(2026, 4, 1))
    # extended once by 30 days with a justification (art. 59 §1), never twice
    morning(clock, date(2026, 4, 28))
    advance(
        rt,
        case_id,
        "prorrogar",
        {"justification": "Parecer jurídico pendente sobre a documentação juntada."},
        actor="sofia",
    )
    row = case_row(rt.db, case_id)
    assert (row.due_on, row.extensions_used) == (date(2026, 6, 3), 1)
    with pytest.raises(GuardFailed, match="already extended once, the maximum"):
        advance(
            rt,
            case_id,
            "prorrogar",
            {"justification": "Mais um parecer jurídico sobre o mesmo recurso."},
            actor="sofia",
        )
    # the superior authority grants the appeal on Wednesday 05-20: back to review, 30 days
    morning(clock, date(2026, 5, 20))
    decide(rt, case_id, "prover_recurso", date(2026, 5, 20), actor="marcos")
    row = case_row(rt.db, case_id)
    assert (row.state, row.rejected_on, row.due_on) == ("em_analise", None, date(2026, 6, 19))
    with rt.db.read() as session:
        events = [
            e.event
            for e in session.query(AuditEvent)
            .filter(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq)
        ]
    assert events[-6:] == [
        "indeferir",
        "notificar_decisao",
        "recorrer",
        "encaminhar_recurso",
        "prorrogar",
        "prover_recurso",
    ]
    verify(rt.db)


def test_the_authority_reconsiders_within_its_5_days(rt: Runtime, clock: FixedClock) -> None:
    case_id = rejected_case(
        rt, clock, date(2026, 3, 5), notified_on=date(2026, 3, 5), means="pessoal"
    )
    morning(clock, date(2026, 3, 10))
    ops.appeal(rt, case_id, filed_on=date(2026, 3, 10), grounds=GROUNDS, actor="ana")
    morning(clock, date(2026, 3, 12))
    decide(rt, case_id, "reconsiderar", date(2026, 3, 12))
    row = case_row(rt.db, case_id)
    # back to review: 30 days from Thursday 03-12, Saturday 04-11, so Monday 04-13
    assert (row.state, row.rejected_on, row.due_on) == ("em_analise", None, date(2026, 4, 13))


def test_a_denied_appeal_archives_the_case_and_a_reopening_reviews_it(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = rejected_case(rt, clock, date(2026, 3, 5))
    notified(rt, clock, case_id, date(2026, 3, 6), "postal")
    morning(clock, date(2026, 3, 10))
    ops.appeal(rt, case_id, filed_on=date(2026, 3, 10), grounds=GROUNDS, actor="ana")
    decide(rt, case_id, "encaminhar_recurso", date(2026, 3, 10))
    morning(clock, date(2026, 4, 2))
    decide(rt, case_id, "negar_provimento", date(2026, 4, 2), actor="marcos")
    row = case_row(rt.db, case_id)
    # the rejection is final: the case is closed, and no deadline chases it
    assert (row.state, row.due_on) == ("arquivada", None)
    with pytest.raises(TransitionNotAllowed):
        ops.appeal(rt, case_id, filed_on=date(2026, 4, 2), grounds=GROUNDS, actor="ana")
    morning(clock, date(2026, 6, 1))
    assert sweep_deadlines(rt).transitions == []
    # a review of the decision (a third instance, new facts) is a reopening by two people
    ops.request_reopening(
        rt, case_id, justification="Fato novo: a microrregião foi reclassificada.", actor="ana"
    )
    ops.approve_reopening(rt, case_id, actor="sofia")
    row = case_row(rt.db, case_id)
    assert (row.state, row.due_on) == ("em_analise", date(2026, 7, 1))


def test_registrada_is_5_continuous_days_rolled_to_a_working_day(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    # registered on Monday 03-02: the 5th day is Saturday 03-07, so Monday 03-09
    monday = new_case(rt, coordinator="ana")
    assert case_row(rt.db, monday).due_on == date(2026, 3, 9)
    # registered on Saturday 03-14: the 5th day is São José in Ceará, so Friday 03-20
    morning(clock, date(2026, 3, 14))
    saturday = new_case(rt, coordinator="ana")
    assert case_row(rt.db, saturday).due_on == date(2026, 3, 20)
    # extendable up to double with a justification (art. 24 sole paragraph): 5 more days,
    # Wednesday 03-25 is the abolition in Ceará, so Thursday 03-26; once only
    morning(clock, date(2026, 3, 18))
    justification = {"justification": "A demanda chegou sem a ata do fórum; pedida ao proponente."}
    advance(rt, saturday, "prorrogar", justification, actor="ana")
    assert case_row(rt.db, saturday).due_on == date(2026, 3, 26)
    with pytest.raises(GuardFailed, match="already extended once"):
        advance(rt, saturday, "prorrogar", justification, actor="ana")
    assert case_row(rt.db, saturday).due_on - date(2026, 3, 14) <= timedelta(days=12)


def test_cases_under_2026_2_keep_its_rules_until_migrated_to_2026_3(
    sqlite_db: Database, lifecycle: Lifecycle, clock: FixedClock
) -> None:
    old = load_lifecycle(SHIPPED_VERSIONS / "lifecycle-2026.2.toml")
    before = Runtime(sqlite_db, old, clock, others=(lifecycle,))
    staff(before)
    morning(clock, date(2026, 3, 16))  # Monday
    waiting = new_case(before, coordinator="ana")
    # 2026.2: 5 working days (17, 18, 20, 23, 24: São José on the 19th)
    row = case_row(sqlite_db, waiting)
    assert (row.lifecycle_version, row.due_on) == ("2026.2", date(2026, 3, 24))
    rejected = new_case(before, coordinator="ana")
    drive(before, clock, rejected, "em_analise", actor="ana")
    ops.reject(before, rejected, decided_on=date(2026, 3, 17), reasons=REASONS, actor="sofia")
    # 2026.2 counted the window from the decision, and its appeal went straight back to review
    assert case_row(sqlite_db, rejected).due_on == date(2026, 3, 27)
    with pytest.raises(InvalidInput, match="unknown event 'notificar_decisao'"):
        ops.notify_decision(
            before, rejected, notified_on=date(2026, 3, 17), means="postal", actor="ana"
        )
    now = Runtime(sqlite_db, lifecycle, clock, others=(old,))
    moved = migrate(now, "2026.3", {}, actor="admin")
    assert {p.case_id for p in moved.moved} == {waiting, rejected}
    row = case_row(sqlite_db, waiting)
    # 2026.3: 5 continuous days from the day it entered, Saturday 03-21, so Monday 03-23
    assert (row.lifecycle_version, row.state, row.due_on) == (
        "2026.3",
        "registrada",
        date(2026, 3, 23),
    )
    row = case_row(sqlite_db, rejected)
    # 2026.3 counts the window from the ciência, which 2026.2 did not record: not started
    assert (row.lifecycle_version, row.state, row.due_on) == ("2026.3", "indeferida", None)
    planned = next(p for p in moved.cases if p.case_id == rejected)
    assert [event for event, _ in planned.would_refuse] == ["arquivar"]
    morning(clock, date(2026, 4, 30))  # long after the decision's 10 days
    assert sweep_deadlines(now).transitions == []
    ops.notify_decision(now, rejected, notified_on=date(2026, 4, 30), means="postal", actor="ana")
    assert case_row(sqlite_db, rejected).due_on == date(2026, 5, 11)  # 05-10 a Sunday
    # its appeal now goes to the authority that decided
    morning(clock, date(2026, 5, 4))
    ops.appeal(now, rejected, filed_on=date(2026, 5, 4), grounds=GROUNDS, actor="ana")
    assert case_row(sqlite_db, rejected).state == "em_reconsideracao"
    verify(sqlite_db)


def test_a_case_cancelled_during_its_appeal_reopens_where_it_was(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = rejected_case(rt, clock, date(2026, 3, 5))
    notified(rt, clock, case_id, date(2026, 3, 5), "pessoal")
    ops.appeal(rt, case_id, filed_on=date(2026, 3, 5), grounds=GROUNDS, actor="ana")
    morning(clock, date(2026, 3, 6))
    ops.cancel(
        rt, case_id, kind="desistencia", reason="A associação desistiu da demanda.", actor="ana"
    )
    ops.request_reopening(
        rt, case_id, justification="A desistência foi registrada no caso errado.", actor="ana"
    )
    morning(clock, date(2026, 3, 9))
    ops.approve_reopening(rt, case_id, actor="sofia")
    row = case_row(rt.db, case_id)
    # back with the authority that decided, with its 5 days afresh: Saturday 03-14, so 03-16
    assert (row.state, row.due_on) == ("em_reconsideracao", date(2026, 3, 16))
