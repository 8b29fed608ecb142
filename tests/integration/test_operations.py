"""The operations end to end on SQLite: bad input changes nothing, and what the good ones do.

Every refusal must be the right error type with a one-line message naming the problem, and
leave the number of cases, the number of audit events and the case's version as they were.
The programme's steps are judged on the records (``tests.builders`` creates them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from states import queries
from states.clock import FixedClock
from states.errors import Conflict, GuardFailed, InvalidInput, NotFound, TransitionNotAllowed
from tasks import cases
from tasks.cases import advance
from tasks.demands import DemandInput, register_demand
from tasks.runtime import Runtime
from tasks.trainings import create_event
from tests.builders import (
    QUIXADA,
    add_participants,
    cli_users,
    demand,
    drive,
    evidence_for,
    new_case,
    today_of,
    with_typology,
)
from tests.integration.helpers import case_row, count_cases, count_events, version_of

REASON = "Aguardando documentação da prefeitura municipal."


def snapshot(rt: Runtime, case_id: int) -> tuple[int, int, int]:
    return count_cases(rt.db), count_events(rt.db), version_of(rt.db, case_id)


# Each bad call takes (runtime, an existing case in the given state, today).
BadCall = Callable[[Runtime, int, date], Any]


def unknown_municipality(rt: Runtime, _case: int, _today: date) -> Any:
    return register_demand(rt, demand(municipality_code=1234567), actor="ana")


def invalid_cnpj(rt: Runtime, _case: int, _today: date) -> Any:
    raw = {**demand().model_dump(mode="json"), "proponent_cnpj": "11.222.333/0001-00"}
    return register_demand(rt, DemandInput.parse(raw), actor="ana")


def forum_in_the_future(rt: Runtime, _case: int, today: date) -> Any:
    return register_demand(rt, demand(forum_held_on=today + timedelta(days=1)), actor="ana")


def ecc_dates_reversed(rt: Runtime, case_id: int, today: date) -> Any:
    return create_event(
        rt,
        {
            "kind": "ecc",
            "title": "ECC Sertão Central",
            "start_on": today.isoformat(),
            "end_on": (today - timedelta(days=1)).isoformat(),
            "venue": "Escola Municipal José de Alencar",
            "municipality_code": QUIXADA,
            "instructor_ids": [1],  # the dates are refused first
            "capacity": 45,
            "case_ids": [case_id],
        },
        actor="ana",
    )


def unknown_ecc(rt: Runtime, case_id: int, _today: date) -> Any:
    return advance(rt, case_id, "concluir_capacitacao", {"ecc_id": 999}, actor="ana")


def event_not_allowed(rt: Runtime, case_id: int, today: date) -> Any:
    return advance(
        rt, case_id, "concluir_gestao", evidence_for("concluir_gestao", today), actor="ana"
    )


def evidence_missing_a_field(rt: Runtime, case_id: int, today: date) -> Any:
    evidence = evidence_for("suspender", today)
    del evidence["reason"]
    return advance(rt, case_id, "suspender", evidence, actor="ana")


def no_such_case(rt: Runtime, _case: int, today: date) -> Any:
    return advance(rt, 999_999, "anotar", evidence_for("anotar", today), actor="ana")


def no_participants(rt: Runtime, case_id: int, today: date) -> Any:
    evidence = evidence_for("concluir_mobilizacao", today)
    return advance(rt, case_id, "concluir_mobilizacao", evidence, actor="ana")


def invalid_actor(rt: Runtime, case_id: int, today: date) -> Any:
    return advance(rt, case_id, "anotar", evidence_for("anotar", today), actor="Ana Silva")


@pytest.mark.parametrize(
    ("state", "call", "error", "words"),
    [
        pytest.param(
            "registrada",
            unknown_municipality,
            InvalidInput,
            "municipality 1234567 is not in IBGE's list",
            id="unknown-municipality",
        ),
        pytest.param(
            "registrada",
            invalid_cnpj,
            InvalidInput,
            "proponent_cnpj: '11.222.333/0001-00' is not a valid CNPJ",
            id="invalid-cnpj",
        ),
        pytest.param(
            "registrada",
            forum_in_the_future,
            InvalidInput,
            "forum_held_on 2026-03-03 is in the future",
            id="forum-in-the-future",
        ),
        pytest.param(
            "capacitacao",
            ecc_dates_reversed,
            InvalidInput,
            "event: end_on 2026-03-05 is before start_on 2026-03-06",
            id="ecc-dates-reversed",
        ),
        pytest.param(
            "capacitacao",
            unknown_ecc,
            GuardFailed,
            "concluir_capacitacao refused for case 1: ECC 999 does not exist",
            id="unknown-ecc",
        ),
        pytest.param(
            "registrada",
            event_not_allowed,
            TransitionNotAllowed,
            "concluir_gestao is not allowed: case 1 is in state registrada",
            id="event-not-allowed",
        ),
        pytest.param(
            "em_analise",
            evidence_missing_a_field,
            InvalidInput,
            "evidence for suspender: reason: Field required",
            id="evidence-missing-a-field",
        ),
        pytest.param(
            "registrada", no_such_case, NotFound, "case 999999 does not exist", id="no-such-case"
        ),
        pytest.param(
            "mobilizacao",
            no_participants,
            GuardFailed,
            "0 participants pre-registered; at least 40 needed",
            id="no-participants",
        ),
        pytest.param(
            "registrada",
            invalid_actor,
            InvalidInput,
            "actor: 'Ana Silva' is not a valid user name",
            id="invalid-actor",
        ),
    ],
)
def test_bad_input_changes_nothing(
    rt: Runtime,
    clock: FixedClock,
    state: str,
    call: BadCall,
    error: type[Exception],
    words: str,
) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, state)
    before = snapshot(rt, case_id)

    with pytest.raises(error) as caught:
        call(rt, case_id, today_of(clock))

    assert type(caught.value) is error
    message = str(caught.value)
    assert "\n" not in message
    assert words in message
    assert snapshot(rt, case_id) == before


def test_39_pre_registered_participants_are_refused_and_40_pass(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "mobilizacao")
    people = add_participants(rt, case_id, 39)
    evidence = evidence_for("concluir_mobilizacao", today_of(clock))
    before = snapshot(rt, case_id)

    with pytest.raises(GuardFailed) as refused:
        advance(rt, case_id, "concluir_mobilizacao", evidence, actor="ana")

    assert refused.value.reason == "39 participants pre-registered; at least 40 needed"
    assert snapshot(rt, case_id) == before

    add_participants(rt, case_id, 1, first=max(people) + 10_000)
    moved = advance(rt, case_id, "concluir_mobilizacao", evidence, actor="ana")

    assert (moved.from_state, moved.to_state) == ("mobilizacao", "capacitacao")
    with rt.db.read() as session:
        last = queries.history(session, case_id)[-1]
    # the auditor sees the number the guard judged, stored with the event
    assert last["event"] == "concluir_mobilizacao"
    assert last["evidence"]["records_checked"] == {"participants": 40}


def test_history_and_the_case_as_it_was_between_two_events(rt: Runtime, clock: FixedClock) -> None:
    case_id = new_case(rt)
    registered_at = clock.now()
    clock.advance(timedelta(days=1))
    started = advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    started_at = clock.now()
    clock.advance(timedelta(days=2))
    with_typology(rt, case_id)
    advance(
        rt,
        case_id,
        "aprovar_elegibilidade",
        evidence_for("aprovar_elegibilidade", today_of(clock)),
        actor="bia",
        note="Conferido com a tipologia da PNDR.",
    )

    with rt.db.read() as session:
        events = queries.history(session, case_id)
        then = queries.case_at(session, case_id, started_at + timedelta(hours=12))
        at_registration = queries.case_at(session, case_id, registered_at)
        with pytest.raises(NotFound, match="registered later"):
            queries.case_at(session, case_id, registered_at - timedelta(seconds=1))

    assert [(e["event"], e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        ("registrar", None, "registrada", "ana"),
        ("iniciar_analise", "registrada", "em_analise", "ana"),
        ("aprovar_elegibilidade", "em_analise", "polo_definido", "bia"),
    ]
    assert [e["case_version"] for e in events] == [1, 2, 3]
    # each entry is in the log's tree, in the order it was written, from the channel it used
    assert [e["leaf_index"] for e in events] == sorted(e["leaf_index"] for e in events)
    assert all(e["channel"] == "system" for e in events)  # the tests call the operations
    assert events[2]["note"] == "Conferido com a tipologia da PNDR."
    checked = events[2]["evidence"]["records_checked"]["typology"]
    assert (checked["pndr_class"], checked["microregion_code"]) == ("estagnada", 23019)

    now = case_row(rt.db, case_id)
    assert now.state == "polo_definido"
    assert then["state"] == "em_analise"
    assert (then["version"], then["last_event"]) == (2, "iniciar_analise")
    assert started.due_on is not None
    assert then["due_on"] == started.due_on.isoformat() != now.due_on.isoformat()
    assert (at_registration["state"], at_registration["version"]) == ("registrada", 1)


def test_a_suspension_of_thirteen_days_moves_the_deadline_by_thirteen_days(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "em_analise")
    due = case_row(rt.db, case_id).due_on
    # 13 days after Thursday 2026-04-02 is a working day (Wednesday): no roll-forward to a
    # working day blurs the shift
    assert due == date(2026, 4, 2)

    cases.suspend(
        rt,
        case_id,
        reason=REASON,
        expected_resume_on=today_of(clock) + timedelta(days=30),
        actor="ana",
    )
    clock.advance(timedelta(days=13))
    resumed = cases.resume(rt, case_id, actor="ana")

    assert resumed.to_state == "em_analise"
    case = case_row(rt.db, case_id)
    assert case.state == "em_analise"
    assert case.due_on == resumed.due_on == due + timedelta(days=13) == date(2026, 4, 15)
    assert (case.suspended_on, case.paused_due_on) == (None, None)


def test_reopening_needs_a_second_person_and_returns_to_the_state_it_left(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "em_analise")
    cases.cancel(rt, case_id, kind="desistencia", reason=REASON, actor="ana")
    cases.request_reopening(rt, case_id, justification=REASON, actor="ana")
    before = snapshot(rt, case_id)

    with pytest.raises(GuardFailed, match="ana requested the reopening; a different person"):
        cases.approve_reopening(rt, case_id, actor="ana")
    assert snapshot(rt, case_id) == before
    assert case_row(rt.db, case_id).state == "cancelada"

    approved = cases.approve_reopening(rt, case_id, actor="bia")

    assert (approved.from_state, approved.to_state) == ("cancelada", "em_analise")
    case = case_row(rt.db, case_id)
    assert case.state == "em_analise"
    assert (case.reopen_requested_by, case.previous_state) == (None, None)


def test_assigning_a_coordinator_does_not_change_the_deadline(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "em_analise")
    due = case_row(rt.db, case_id).due_on
    clock.advance(timedelta(days=5))

    cli_users(rt, "bia")  # a coordinator of the case's UF
    assigned = cases.assign(rt, case_id, "bia", actor="ana")

    case = case_row(rt.db, case_id)
    assert case.coordinator == "bia"
    assert (case.state, case.due_on, assigned.due_on) == ("em_analise", due, due)


def test_an_outdated_expected_version_is_a_conflict_naming_who_changed_the_case(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    seen = version_of(rt.db, case_id)
    clock.advance(timedelta(hours=2))
    cases.add_note(rt, case_id, "Ligação para a associação.", actor="ana")
    before = snapshot(rt, case_id)

    with pytest.raises(Conflict) as caught:
        cases.add_note(rt, case_id, "Visita agendada.", actor="bia", expect_version=seen)

    when = clock.now().isoformat(timespec="seconds")
    assert f"case {case_id} was changed by ana at {when}" in str(caught.value)
    assert f"you expected {seen}" in str(caught.value)
    assert snapshot(rt, case_id) == before
