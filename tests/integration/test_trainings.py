"""Training events as a coordinator records them: planning, enrolment, attendance (by hand and
from a CSV sheet), the ECC guard judged on the records, and the bulk completion of an ECC that
serves several cases. Every refusal writes nothing; the audit chain holds no personal data."""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console import cli_event
from console.cli_event import app
from notifications.i18n import date_text
from states import indicators
from states.clock import FixedClock
from states.errors import GuardFailed, InvalidInput, NotAllowed
from states.models import AuditEvent
from states.records import Attendance, Enrolment, EventCase, Person, TrainingEvent
from tasks import cases
from tasks.enterprises import form_enterprise
from tasks.people import register_person
from tasks.runtime import Runtime
from tasks.trainings import (
    EventFilter,
    complete_event,
    create_event,
    enrol,
    event_summary,
    import_attendance,
    list_events,
    record_attendance,
)
from tests.builders import (
    COORDINATOR,
    ENTERPRISES,
    QUIXADA,
    add_participants,
    cli_users,
    cpf_for,
    drive,
    hold_ecc,
    instructors,
    new_case,
    participants_of,
    today_of,
)
from tests.integration.helpers import case_row, verify, version_of

# ------------------------------------------------------------------------------ helpers

#: the instructor every event of these tests has: staff member 1 of the roster
INSTRUCTOR = 1


@pytest.fixture(autouse=True)
def roster(rt: Runtime) -> None:
    """Staff member 1: the instructor these tests' events choose from the roster."""
    assert instructors(rt, "Maria Souza") == [INSTRUCTOR]


def counts(rt: Runtime) -> dict[str, int]:
    """Rows of every table an event operation writes."""
    with rt.db.read() as s:
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (TrainingEvent, EventCase, Enrolment, Attendance, AuditEvent)
        }


def register_people(rt: Runtime, count: int, *, first: int = 900_000) -> list[tuple[int, str]]:
    """``count`` people in no case; (person id, CPF) pairs."""
    people = []
    for i in range(count):
        person = register_person(
            rt,
            {
                "cpf": cpf_for(first + i),
                "name": f"Pessoa Avulsa {first + i}",
                "community": "Sítio Riacho Verde",
                "municipality_code": QUIXADA,
            },
            actor=COORDINATOR,
        )
        people.append((person.person_id, person.cpf))
    return people


def plan(rt: Runtime, start: date, end: date, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "kind": "ecc",
        "title": "ECC Sertão Central",
        "start_on": start.isoformat(),
        "end_on": end.isoformat(),
        "venue": "Escola Municipal José de Alencar",
        "municipality_code": QUIXADA,
        "instructor_ids": [INSTRUCTOR],
        "capacity": 45,
    }
    values.update(overrides)
    return create_event(rt, values, actor=COORDINATOR)


def days_from(start: date, count: int) -> list[date]:
    return [start + timedelta(days=d) for d in range(count)]


def case_in_capacitacao(rt: Runtime, clock: FixedClock) -> int:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "capacitacao")  # pre-registers 40 participants on the way
    return case_id


def form_groups(rt: Runtime, clock: FixedClock, case_id: int, event_id: int) -> None:
    ids = participants_of(rt, case_id)
    for name, members in zip(ENTERPRISES, (ids[:22], ids[22:34]), strict=True):
        form_enterprise(
            rt,
            {
                "case_id": case_id,
                "name": name,
                "activity": "apicultura",
                "formed_on": today_of(clock).isoformat(),
                "formed_at_event_id": event_id,
                "member_ids": members,
            },
            actor=COORDINATOR,
        )


def start_of(rt: Runtime, event_id: int) -> date:
    with rt.db.read() as s:
        event = s.get(TrainingEvent, event_id)
        assert event is not None
        return event.start_on


def attend(rt: Runtime, event_id: int, people: list[int], days: int) -> None:
    start = start_of(rt, event_id)
    for person_id in people:
        record_attendance(rt, event_id, person_id, days_from(start, days), actor=COORDINATOR)


def audit_rows(rt: Runtime, **where: Any) -> list[AuditEvent]:
    with rt.db.read() as s:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        for column, value in where.items():
            query = query.where(getattr(AuditEvent, column) == value)
        rows = list(s.execute(query).scalars())
        s.expunge_all()  # keep their loaded values after the read session rolls back
        return rows


def assert_chain_intact_and_free_of_personal_data(rt: Runtime) -> None:
    assert verify(rt.db).ok
    with rt.db.read() as s:
        people = list(s.execute(select(Person.name, Person.cpf)))
        texts = [
            " ".join(str(v) for v in (e.evidence, e.changes, e.note, e.actor))
            for e in s.execute(select(AuditEvent)).scalars()
        ]
    assert people, "the test registered nobody"
    blob = "\n".join(texts)
    for name, cpf in people:
        formatted = f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
        assert name not in blob
        assert cpf not in blob
        assert formatted not in blob


def thresholds(rt: Runtime) -> Any:
    return rt.lifecycle.config.thresholds


# ------------------------------------------------------------------------------ bad input


def test_event_dates_in_the_wrong_order_are_refused(rt: Runtime) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    before = counts(rt)
    with pytest.raises(InvalidInput, match=r"end_on .* is before start_on"):
        plan(rt, today, today - timedelta(days=1))
    assert counts(rt) == before


@pytest.fixture
def small_event(rt: Runtime) -> tuple[int, list[int], int]:
    """A 10-day ECC ending yesterday, 3 places taken by 3 people; a 4th person not enrolled."""
    today = today_of(rt.clock)  # type: ignore[arg-type]
    people = [pid for pid, _ in register_people(rt, 4)]
    event_id = plan(rt, today - timedelta(days=10), today - timedelta(days=1), capacity=3)
    enrol(rt, event_id, people[:3], actor=COORDINATOR)
    return event_id, people[:3], people[3]


def test_attendance_for_a_person_not_enrolled_is_refused(
    rt: Runtime, small_event: tuple[int, list[int], int]
) -> None:
    event_id, _, outsider = small_event
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"person {outsider} is not enrolled in event"):
        attend(rt, event_id, [outsider], 2)
    assert counts(rt) == before


def test_attendance_outside_the_event_dates_is_refused(
    rt: Runtime, small_event: tuple[int, list[int], int]
) -> None:
    event_id, people, _ = small_event
    start = start_of(rt, event_id)
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"{start - timedelta(days=1)} is outside event"):
        record_attendance(
            rt, event_id, people[0], [start, start - timedelta(days=1)], actor=COORDINATOR
        )
    today = today_of(rt.clock)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=f"{today} is outside event"):  # the day after it ends
        record_attendance(rt, event_id, people[0], [today], actor=COORDINATOR)
    assert counts(rt) == before


def test_attendance_in_the_future_is_refused(rt: Runtime) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    ((person, _),) = register_people(rt, 1)
    event_id = plan(rt, today - timedelta(days=2), today + timedelta(days=5))
    enrol(rt, event_id, [person], actor=COORDINATOR)
    before = counts(rt)
    tomorrow = today + timedelta(days=1)
    with pytest.raises(InvalidInput, match=f"{tomorrow} is in the future \\(today is {today}\\)"):
        record_attendance(rt, event_id, person, [today, tomorrow], actor=COORDINATOR)
    assert counts(rt) == before
    assert record_attendance(rt, event_id, person, [today], actor=COORDINATOR) == 1


def test_enrolment_beyond_capacity_is_refused_and_writes_nothing(
    rt: Runtime, small_event: tuple[int, list[int], int]
) -> None:
    event_id, _, outsider = small_event
    before = counts(rt)
    with pytest.raises(NotAllowed, match=f"event {event_id} is full: 3 of 3 places taken"):
        enrol(rt, event_id, [outsider], actor=COORDINATOR)
    assert counts(rt) == before


def test_an_event_without_an_instructor_is_refused(rt: Runtime) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    before = counts(rt)
    with pytest.raises(InvalidInput, match="instructor_ids"):
        plan(rt, today, today, instructor_ids=[])
    assert counts(rt) == before


def test_the_history_names_the_instructors_by_their_staff_number_only(rt: Runtime) -> None:
    """Instructors are people (LGPD): the roster keeps their names, where they can be corrected
    or erased; the append-only history keeps their staff numbers."""
    from sqlalchemy import select

    from states.models import AuditEvent

    today = today_of(rt.clock)  # type: ignore[arg-type]
    (batista,) = instructors(rt, "João Batista", organisation="SEBRAE-CE")
    event_id = plan(rt, today, today, instructor_ids=[INSTRUCTOR, batista])
    with rt.db.read() as session:
        entry = session.execute(
            select(AuditEvent).where(
                AuditEvent.record_type == "event", AuditEvent.record_id == event_id
            )
        ).scalar_one()
        assert entry.evidence["instructor_ids"] == [INSTRUCTOR, batista]
        assert "Souza" not in entry.entry
        assert "Batista" not in entry.entry
    names = [
        (i["staff_id"], i["name"], i["organisation"])
        for i in event_summary(rt, event_id)["instructors"]
    ]
    assert names == [(INSTRUCTOR, "Maria Souza", None), (batista, "João Batista", "SEBRAE-CE")]


# ------------------------------------------------------------------------------ the ECC guard


def test_the_numbers_these_tests_use_come_from_the_configuration(rt: Runtime) -> None:
    t = thresholds(rt)
    assert math.ceil(t.min_attendance * 44) == 33
    assert math.ceil(t.min_certified_share * 40) == 30
    assert t.max_ecc_days == 60


def test_ecc_with_just_enough_certified_participants_moves_the_case(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = case_in_capacitacao(rt, clock)
    event_id = hold_ecc(rt, clock, [case_id], attended=0, complete=False)
    people = participants_of(rt, case_id)
    attend(rt, event_id, people[:30], 33)  # exactly the 75 % of 44 days
    attend(rt, event_id, people[30:], 32)  # one day short each

    report = complete_event(rt, event_id, actor=COORDINATOR)

    assert [(o.case_id, o.result) for o in report.outcomes] == [(case_id, "moved")]
    assert case_row(rt.db, case_id).state == "gestao"
    summary = event_summary(rt, event_id)
    assert summary["enrolled_for_certification"] == 40
    assert summary["days_needed_for_certificate"] == 33
    assert summary["certified"] == 30
    assert summary["people"][people[0]] == {
        "days_attended": 33,
        "certification": True,
        "certified": True,
    }
    assert summary["people"][people[-1]]["certified"] is False
    move = audit_rows(rt, case_id=case_id, event="concluir_capacitacao")
    assert len(move) == 1
    checked = move[0].evidence["records_checked"]["ecc"]
    assert sorted(checked["certification_attendance"]) == [32] * 10 + [33] * 30


def test_ecc_one_certified_participant_short_is_refused_with_the_numbers(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = case_in_capacitacao(rt, clock)
    event_id = hold_ecc(rt, clock, [case_id], attended=0, complete=False)
    people = participants_of(rt, case_id)
    attend(rt, event_id, people[:29], 33)
    attend(rt, event_id, people[29:], 32)
    version = version_of(rt.db, case_id)

    report = complete_event(rt, event_id, actor=COORDINATOR)

    (outcome,) = report.outcomes
    assert outcome.result == "refused"
    assert outcome.reason == (
        f"ECC {event_id}: 29 of 40 certified participants attended ≥ 75%; 30 needed"
    )
    assert case_row(rt.db, case_id).state == "capacitacao"
    assert version_of(rt.db, case_id) == version
    assert event_summary(rt, event_id)["held_on"] == today_of(clock).isoformat()


@pytest.mark.parametrize(("days", "moves"), [(60, True), (61, False)])
def test_ecc_length_at_and_over_the_maximum(
    rt: Runtime, clock: FixedClock, days: int, moves: bool
) -> None:
    case_id = case_in_capacitacao(rt, clock)
    attended = math.ceil(thresholds(rt).min_attendance * days)
    event_id = hold_ecc(rt, clock, [case_id], days=days, attended=attended, complete=False)

    (outcome,) = complete_event(rt, event_id, actor=COORDINATOR).outcomes

    if moves:
        assert outcome.result == "moved"
        assert case_row(rt.db, case_id).state == "gestao"
    else:
        assert outcome.result == "refused"
        assert f"ECC {event_id} lasted 61 days; at most 60 are accepted" in outcome.detail
        assert case_row(rt.db, case_id).state == "capacitacao"


# --- session days: the 75 % is of the days the ECC meets, not of its calendar span ---------------

MARCH_1_2027, APRIL_14_2027 = date(2027, 3, 1), date(2027, 4, 14)  # a Monday, a Wednesday


def weekdays_of(start: date, end: date) -> list[date]:
    return [d for d in days_from(start, (end - start).days + 1) if d.isoweekday() <= 5]


def test_a_monday_to_friday_45_day_ecc_certifies_its_participants(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = case_in_capacitacao(rt, clock)
    clock.advance(timedelta(days=(APRIL_14_2027 - today_of(clock)).days))
    assert (APRIL_14_2027 - MARCH_1_2027).days + 1 == 45
    sessions = weekdays_of(MARCH_1_2027, APRIL_14_2027)
    assert len(sessions) == 33  # 75 % of them is 25 days; 75 % of the 45-day span would be 34
    event_id = plan(rt, MARCH_1_2027, APRIL_14_2027, weekdays=[1, 2, 3, 4, 5], case_ids=[case_id])
    people = participants_of(rt, case_id)
    enrol(rt, event_id, people, actor=COORDINATOR)
    before = counts(rt)
    with pytest.raises(InvalidInput, match="2027-03-06 is not a session day of event"):
        record_attendance(rt, event_id, people[0], [date(2027, 3, 6)], actor=COORDINATOR)
    assert counts(rt) == before
    for person_id in people[:30]:
        record_attendance(rt, event_id, person_id, sessions[:25], actor=COORDINATOR)
    for person_id in people[30:]:
        record_attendance(rt, event_id, person_id, sessions[:24], actor=COORDINATOR)
    form_groups(rt, clock, case_id, event_id)

    report = complete_event(rt, event_id, actor=COORDINATOR)

    assert [(o.case_id, o.result) for o in report.outcomes] == [(case_id, "moved")]
    summary = event_summary(rt, event_id)
    assert (summary["days"], summary["session_days"]) == (45, 33)
    assert (summary["days_needed_for_certificate"], summary["certified"]) == (25, 30)
    assert list(summary["attendance_by_day"]) == [d.isoformat() for d in sessions]
    [move] = audit_rows(rt, case_id=case_id, event="concluir_capacitacao")
    assert move.evidence["records_checked"]["ecc"]["session_days"] == 33
    # the indicators count the certified as the guard does
    with rt.db.read() as session:
        [row] = [
            r
            for r in indicators.by_case(session, min_attendance=thresholds(rt).min_attendance)
            if r.group.get("case_id") == case_id
        ]
    assert row.people_certified == 30
    assert_chain_intact_and_free_of_personal_data(rt)


def test_session_days_as_a_pattern_with_exceptions_or_as_a_list(
    rt: Runtime, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=(APRIL_14_2027 - today_of(clock)).days))
    good_friday = date(2027, 3, 26)
    patterned = plan(
        rt, MARCH_1_2027, APRIL_14_2027, weekdays=[1, 2, 3, 4, 5], skip_days=[good_friday]
    )
    assert event_summary(rt, patterned)["session_days"] == 32
    listed = [date(2027, 3, 6), date(2027, 3, 13), date(2027, 3, 20)]  # three Saturdays
    explicit = plan(rt, MARCH_1_2027, APRIL_14_2027, session_days=listed)
    summary = event_summary(rt, explicit)
    assert (summary["session_days"], summary["days_needed_for_certificate"]) == (3, 3)
    # an event recorded with neither meets every day of its span, as before
    assert event_summary(rt, plan(rt, MARCH_1_2027, APRIL_14_2027))["session_days"] == 45
    saturdays = [d for d in days_from(MARCH_1_2027, 45) if d.isoweekday() == 6]
    before = counts(rt)
    for bad, match in (
        ({"session_days": [date(2027, 4, 15)]}, "outside"),
        ({"session_days": listed, "weekdays": [6]}, "either as a list"),
        ({"weekdays": [6], "skip_days": saturdays}, "no session day"),
        ({"weekdays": [8]}, "weekdays"),
    ):
        with pytest.raises(InvalidInput, match=match):
            plan(rt, MARCH_1_2027, APRIL_14_2027, **bad)
    assert counts(rt) == before
    # a sheet with a day the event does not meet is refused whole
    [(person_id, cpf)] = register_people(rt, 1)
    enrol(rt, patterned, [person_id], actor=COORDINATOR)
    sheet = f"cpf,day\n{cpf},2027-03-25\n{cpf},{good_friday.isoformat()}\n"
    with pytest.raises(InvalidInput, match="line 3: 2027-03-26 is not a session day"):
        import_attendance(rt, patterned, sheet, actor=COORDINATOR)
    assert attendance_of(rt, patterned) == {}


def conclude(rt: Runtime, case_id: int, event_id: int) -> str:
    """Fire concluir_capacitacao by hand; the guard's refusal sentence."""
    version = version_of(rt.db, case_id)
    with pytest.raises(GuardFailed) as refused:
        cases.advance(rt, case_id, "concluir_capacitacao", {"ecc_id": event_id}, actor=COORDINATOR)
    assert case_row(rt.db, case_id).state == "capacitacao"
    assert version_of(rt.db, case_id) == version
    return refused.value.reason


def test_ecc_not_yet_held_is_refused(rt: Runtime, clock: FixedClock) -> None:
    case_id = case_in_capacitacao(rt, clock)
    event_id = hold_ecc(rt, clock, [case_id], complete=False)
    today = today_of(clock)
    assert conclude(rt, case_id, event_id) == (
        f"ECC {event_id} has not been recorded as held (it ends on {today})"
    )


def test_ecc_that_does_not_serve_the_case_is_refused(rt: Runtime, clock: FixedClock) -> None:
    case_id = case_in_capacitacao(rt, clock)
    other = new_case(rt, community="Sítio Pedra Branca")
    add_participants(rt, other, 3)
    event_id = hold_ecc(rt, clock, [other], groups=False)
    assert conclude(rt, case_id, event_id) == f"ECC {event_id} does not serve this case"


def test_an_oficina_given_as_the_ecc_is_refused(rt: Runtime, clock: FixedClock) -> None:
    case_id = case_in_capacitacao(rt, clock)
    today = today_of(clock)
    event_id = plan(rt, today, today, kind="oficina", case_ids=[case_id])
    assert conclude(rt, case_id, event_id) == f"event {event_id} is a oficina, not an ECC"


def test_ecc_without_an_enterprise_group_for_the_case_is_refused(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = case_in_capacitacao(rt, clock)
    event_id = hold_ecc(rt, clock, [case_id], groups=False)  # completing tries to move it
    assert case_row(rt.db, case_id).state == "capacitacao"
    assert conclude(rt, case_id, event_id) == (
        f"ECC {event_id} formed no enterprise group for this case; at least one is needed"
    )


# ------------------------------------------------------------------------------ bulk completion


def three_cases(rt: Runtime, clock: FixedClock) -> tuple[int, int, int, int]:
    """One ECC serving: a case ready to move, one without enterprise groups, one still in
    mobilizacao; everyone enrolled attends enough days. (event, ready, no groups, early)"""
    ready = case_in_capacitacao(rt, clock)
    no_groups = new_case(rt, community="Sítio Pedra Branca")
    add_participants(rt, no_groups)
    drive(rt, clock, no_groups, "capacitacao")
    early = new_case(rt, community="Vila Nova")
    drive(rt, clock, early, "mobilizacao")
    add_participants(rt, early, 5)
    event_id = hold_ecc(rt, clock, [ready, no_groups, early], groups=False, complete=False)
    form_groups(rt, clock, ready, event_id)
    return event_id, ready, no_groups, early


def test_completing_an_ecc_moves_the_ready_cases_and_reports_the_others(
    rt: Runtime, clock: FixedClock
) -> None:
    event_id, ready, no_groups, early = three_cases(rt, clock)
    versions = {c: version_of(rt.db, c) for c in (ready, no_groups, early)}

    report = complete_event(rt, event_id, actor=COORDINATOR)

    assert report.held_on == today_of(clock)
    assert [(o.case_id, o.result) for o in report.outcomes] == [
        (ready, "moved"),
        (no_groups, "refused"),
        (early, "skipped"),
    ]
    assert report.outcomes[0].detail == "capacitacao -> gestao"
    assert report.outcomes[1].reason == (
        f"ECC {event_id} formed no enterprise group for this case; at least one is needed"
    )
    assert report.outcomes[1].detail == (
        f"concluir_capacitacao refused for case {no_groups}: {report.outcomes[1].reason}"
    )
    assert report.outcomes[2].detail == "case is in mobilizacao, not capacitacao"
    assert [case_row(rt.db, c).state for c in (ready, no_groups, early)] == [
        "gestao",
        "capacitacao",
        "mobilizacao",
    ]
    assert version_of(rt.db, ready) == versions[ready] + 1
    assert version_of(rt.db, no_groups) == versions[no_groups]
    assert version_of(rt.db, early) == versions[early]
    assert len(audit_rows(rt, case_id=ready, event="concluir_capacitacao")) == 1
    assert audit_rows(rt, case_id=no_groups, event="concluir_capacitacao") == []
    assert audit_rows(rt, case_id=early, event="concluir_capacitacao") == []
    held = audit_rows(rt, event="evento_realizado", record_id=event_id)
    assert len(held) == 1

    before = counts(rt)
    with pytest.raises(NotAllowed, match=f"event {event_id} was already recorded as held"):
        complete_event(rt, event_id, actor=COORDINATOR)
    # the records the guard judged are closed: no attendance after the event is held
    with pytest.raises(NotAllowed, match="its attendance is closed"):
        record_attendance(
            rt, event_id, participants_of(rt, ready)[0], [today_of(clock)], actor=COORDINATOR
        )
    assert counts(rt) == before
    assert_chain_intact_and_free_of_personal_data(rt)


def test_event_summary_and_list(rt: Runtime, clock: FixedClock) -> None:
    case_id = new_case(rt)
    people = add_participants(rt, case_id, 4)
    today = today_of(clock)
    ecc = plan(rt, today - timedelta(days=3), today, case_ids=[case_id])
    oficina = plan(rt, today + timedelta(days=10), today + timedelta(days=11), kind="oficina")
    enrol(rt, ecc, people[:3], actor=COORDINATOR)
    enrol(rt, ecc, people[3:], actor=COORDINATOR, certification=False)
    attend(rt, ecc, people[:2], 3)  # ceil(0.75 * 4) = 3: certified
    attend(rt, ecc, people[2:], 2)
    complete_event(rt, ecc, actor=COORDINATOR)

    summary = event_summary(rt, ecc)

    assert summary["kind"] == "ecc"
    assert summary["days"] == 4
    assert summary["municipality"] == "Quixadá (CE)"
    assert summary["instructors"] == [
        {
            "staff_id": INSTRUCTOR,
            "name": "Maria Souza",
            "role": "instrutor",
            "organisation": None,
            "label": "Maria Souza",
        }
    ]
    assert summary["cases"] == [{"case_id": case_id, "state": "registrada"}]
    assert (summary["enrolled"], summary["enrolled_for_certification"]) == (4, 3)
    start = today - timedelta(days=3)
    assert summary["attendance_by_day"] == {
        start.isoformat(): 4,
        (start + timedelta(days=1)).isoformat(): 4,
        (start + timedelta(days=2)).isoformat(): 2,
        today.isoformat(): 0,
    }
    assert {pid: (p["days_attended"], p["certified"]) for pid, p in summary["people"].items()} == {
        people[0]: (3, True),
        people[1]: (3, True),
        people[2]: (2, False),
        people[3]: (2, False),
    }
    dumped = json.dumps(summary, default=str)
    assert "Participante" not in dumped
    assert not re.search(r"\d{11}", dumped)  # no CPF

    def ids(**f: Any) -> list[int]:
        return [e["event_id"] for e in list_events(rt, EventFilter(**f))]

    assert ids() == [oficina, ecc]
    assert ids(kind="ecc") == [ecc]
    assert ids(case_id=case_id) == [ecc]
    assert ids(held=True) == [ecc]
    assert ids(held=False) == [oficina]
    assert ids(municipality_code=2304400) == []  # Fortaleza
    with pytest.raises(InvalidInput, match="unknown event kind 'curso'"):
        EventFilter(kind="curso")


# ------------------------------------------------------------------------------ CSV import


@pytest.fixture
def sheet_event(rt: Runtime) -> tuple[int, list[tuple[int, str]], date]:
    """A 29-day ECC ending 3 days from now (26 days so far), 40 of 41 people enrolled;
    (event, people, first day)."""
    today = today_of(rt.clock)  # type: ignore[arg-type]
    start = today - timedelta(days=25)
    people = register_people(rt, 41)
    event_id = plan(rt, start, today + timedelta(days=3))
    enrol(rt, event_id, [pid for pid, _ in people[:40]], actor=COORDINATOR)
    return event_id, people, start


def attendance_of(rt: Runtime, event_id: int) -> dict[int, set[date]]:
    with rt.db.read() as s:
        found: dict[int, set[date]] = {}
        for person_id, day in s.execute(
            select(Attendance.person_id, Attendance.day).where(Attendance.event_id == event_id)
        ):
            found.setdefault(person_id, set()).add(day)
        return found


def formatted(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def test_long_sheet_is_recorded_and_reimporting_it_adds_nothing(
    rt: Runtime, sheet_event: tuple[int, list[tuple[int, str]], date]
) -> None:
    event_id, people, start = sheet_event
    rows = ["cpf,day"]
    expected: dict[int, set[date]] = {}
    for n, (pid, cpf) in enumerate(people[:30]):
        for day in days_from(start, 1 + n % 17):  # 1 to 17 days, up to today
            rows.append(f"{formatted(cpf) if n % 2 else cpf},{day.isoformat()}")
            expected.setdefault(pid, set()).add(day)
    text = "\ufeff" + "\r\n".join(rows) + "\r\n"
    before = counts(rt)

    result = import_attendance(rt, event_id, text, actor=COORDINATOR)

    total = sum(len(d) for d in expected.values())
    assert (result.shape, result.rows, result.people, result.added) == ("long", total, 30, total)
    assert attendance_of(rt, event_id) == expected
    written = counts(rt)
    assert written["Attendance"] == before["Attendance"] + total
    # one audit event per person recorded, and one for the import
    assert written["AuditEvent"] == before["AuditEvent"] + 30 + 1

    again = import_attendance(rt, event_id, text, actor=COORDINATOR)
    assert (again.added, again.already) == (0, total)
    assert attendance_of(rt, event_id) == expected
    assert_chain_intact_and_free_of_personal_data(rt)


def test_wide_sheet_with_semicolons_and_a_name_column(
    rt: Runtime, sheet_event: tuple[int, list[tuple[int, str]], date]
) -> None:
    event_id, people, start = sheet_event
    days = days_from(start, 4)
    header = "CPF;Nome;" + ";".join(d.isoformat() for d in days)
    marks = [
        ("x", "X", "", "0"),  # 2 days
        ("1", "P", "p", "x"),  # 4 days
        ("F", "f", "0", ""),  # absent throughout
    ]
    lines = [header] + [
        f"{cpf};Pessoa {pid};" + ";".join(m) for (pid, cpf), m in zip(people, marks, strict=False)
    ]
    result = import_attendance(rt, event_id, "\n".join(lines), actor=COORDINATOR)

    assert (result.shape, result.rows, result.people, result.added) == ("wide", 3, 2, 6)
    assert attendance_of(rt, event_id) == {
        people[0][0]: {days[0], days[1]},
        people[1][0]: set(days),
    }
    per_day = event_summary(rt, event_id)["attendance_by_day"]
    assert [per_day[d.isoformat()] for d in days] == [2, 2, 1, 1]
    assert_chain_intact_and_free_of_personal_data(rt)


def test_a_cpf_that_lost_its_leading_zero_in_a_spreadsheet_is_found(
    rt: Runtime, sheet_event: tuple[int, list[tuple[int, str]], date]
) -> None:
    event_id, _, start = sheet_event
    digits = [0, 0, 1, 2, 3, 4, 5, 6, 7]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False))
        digits.append((total * 10 % 11) % 10)
    cpf = "".join(map(str, digits))
    person = register_person(
        rt,
        {"cpf": cpf, "name": "Zélia Zero", "community": "Vila Nova", "municipality_code": QUIXADA},
        actor=COORDINATOR,
    ).person_id
    enrol(rt, event_id, [person], actor=COORDINATOR)

    result = import_attendance(rt, event_id, f"cpf,day\n{int(cpf)},{start}\n", actor=COORDINATOR)

    assert result.added == 1
    assert attendance_of(rt, event_id) == {person: {start}}


def test_a_bad_row_at_line_734_is_named_and_nothing_is_written(
    rt: Runtime, sheet_event: tuple[int, list[tuple[int, str]], date]
) -> None:
    event_id, people, start = sheet_event
    rows = ["cpf,day"] + [
        f"{cpf},{day.isoformat()}" for _, cpf in people[:40] for day in days_from(start, 26)
    ]
    assert len(rows) > 734
    too_early = start - timedelta(days=1)
    rows[733] = f"{rows[733].split(',')[0]},{too_early.isoformat()}"  # line 734 of the file
    before = counts(rt)

    with pytest.raises(InvalidInput) as refused:
        import_attendance(rt, event_id, "\n".join(rows) + "\n", actor=COORDINATOR)

    message = str(refused.value)
    bad_lines = re.findall(r"^line (\d+): (.*)$", message, re.MULTILINE)
    end = start + timedelta(days=28)
    assert bad_lines == [
        ("734", f"{too_early} is outside event {event_id}'s dates ({start} to {end})")
    ]
    assert "nothing was recorded" in message
    assert counts(rt) == before


def test_every_bad_row_is_listed(
    rt: Runtime, sheet_event: tuple[int, list[tuple[int, str]], date]
) -> None:
    event_id, people, start = sheet_event
    today = today_of(rt.clock)  # type: ignore[arg-type]
    (_, cpf0), (_, cpf1) = people[0], people[1]
    outsider_id, outsider_cpf = people[40]
    unregistered = cpf_for(123_456)
    lines = [
        "cpf;day",  # 1
        f"{cpf0};{start}",  # 2 fine
        "123.456.789-00;" + str(start),  # 3 invalid CPF
        f"{unregistered};{start}",  # 4 valid CPF, nobody registered with it
        f"{outsider_cpf};{start}",  # 5 not enrolled
        f"{cpf1};{start - timedelta(days=1)}",  # 6 before the event
        f"{cpf1};{today + timedelta(days=1)}",  # 7 in the future
        f"{cpf0};{start.strftime('%d/%m/%Y')}",  # 8 the same day as line 2
        f"{cpf1};2026-02-30",  # 9 not a date
        f"{cpf1};{start}",  # 10 fine
        f";{start}",  # 11 no CPF
    ]
    before = counts(rt)

    with pytest.raises(InvalidInput) as refused:
        import_attendance(rt, event_id, "\n".join(lines), actor=COORDINATOR)

    bad = dict(re.findall(r"^line (\d+): (.*)$", str(refused.value), re.MULTILINE))
    assert str(refused.value).startswith(
        f"attendance for event {event_id}: 8 of 10 rows are wrong; nothing was recorded"
    )
    assert sorted(bad, key=int) == ["3", "4", "5", "6", "7", "8", "9", "11"]
    assert bad["3"] == "'123.456.789-00' is not a valid CPF"
    assert bad["4"] == "no person is registered with this CPF"
    assert bad["5"] == f"person {outsider_id} is not enrolled in event {event_id}"
    assert bad["6"].startswith(f"{start - timedelta(days=1)} is outside event {event_id}'s dates")
    assert bad["7"] == f"{today + timedelta(days=1)} is in the future (today is {today})"
    assert bad["8"] == "this CPF and day are already on line 2"
    assert bad["9"] == "day '2026-02-30' is not a date (YYYY-MM-DD)"
    assert bad["11"] == "the CPF is empty"
    assert counts(rt) == before


def test_a_wide_sheet_with_bad_marks_repeated_people_and_a_bad_header(
    rt: Runtime, sheet_event: tuple[int, list[tuple[int, str]], date]
) -> None:
    event_id, people, start = sheet_event
    days = ",".join(d.isoformat() for d in days_from(start, 2))
    (_, cpf0), (_, cpf1) = people[0], people[1]
    before = counts(rt)

    with pytest.raises(InvalidInput) as refused:
        import_attendance(
            rt,
            event_id,
            f"cpf,{days}\n{cpf0},x,y\n{cpf1},x,\n{cpf0},,x\n",
            actor=COORDINATOR,
        )
    bad = dict(re.findall(r"^line (\d+): (.*)$", str(refused.value), re.MULTILINE))
    assert bad == {
        "2": f"column {start + timedelta(days=1)}: 'y' is not a mark "
        "(x, 1 or P for present; empty, 0 or F for absent)",
        "4": "this CPF is already on line 2",
    }

    outside = (start - timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput, match=r"^line 1: column 3 'ontem' is not a date"):
        import_attendance(rt, event_id, f"cpf,{start},ontem\n{cpf0},x,x\n", actor=COORDINATOR)
    with pytest.raises(InvalidInput, match=f"\nline 2: {outside} is outside event"):
        import_attendance(rt, event_id, f"cpf,{outside}\n{cpf0},x\n", actor=COORDINATOR)
    with pytest.raises(InvalidInput, match="header but no rows"):
        import_attendance(rt, event_id, "cpf,day\n\n", actor=COORDINATOR)
    with pytest.raises(InvalidInput, match="one `cpf` column"):
        import_attendance(rt, event_id, "nome,dia\nAna,2026-03-01\n", actor=COORDINATOR)
    assert counts(rt) == before


# ------------------------------------------------------------------------------ the command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose `produzir event` talks to the test's database, on the test's clock."""
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    from_settings = cli_event.runtime

    def runtime() -> Runtime:
        made = from_settings()
        made.clock = rt.clock
        return made

    monkeypatch.setattr(cli_event, "runtime", runtime)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code != 0:
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.stderr


def test_command_line_plans_enrols_imports_and_completes_an_ecc(
    cli: CliRunner, rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    ready = case_in_capacitacao(rt, clock)
    no_groups = new_case(rt, community="Sítio Pedra Branca")
    add_participants(rt, no_groups)
    drive(rt, clock, no_groups, "capacitacao")
    early = new_case(rt, community="Vila Nova")
    today = today_of(clock)
    start = today - timedelta(days=43)
    by = ("--by", "ana")

    out = run(
        cli, "create", *by, "--kind", "ecc", "--title", "ECC Sertão Central",
        "--start", start.isoformat(), "--end", today.isoformat(),
        "--venue", "Escola Municipal", "--municipality", str(QUIXADA),
        "--instructor", str(INSTRUCTOR),
        "--capacity", "80", "--case", str(ready), "--case", str(no_groups),
    )  # fmt: skip
    match = re.match(r"event (\d+) planned", out)
    assert match, out
    event_id = match.group(1)
    assert f"event {event_id} serves case {early}" in run(cli, "link", event_id, str(early), *by)
    people = participants_of(rt, ready) + participants_of(rt, no_groups)
    out = run(cli, "enrol", event_id, *map(str, people), *by)
    assert out.strip() == f"event {event_id}: 80 enrolled for certification"

    with rt.db.read() as s:
        cpfs = dict(s.execute(select(Person.id, Person.cpf)).all())
    sheet = tmp_path / "presenca.csv"
    days = days_from(start, 33)
    sheet.write_text(
        "cpf;" + ";".join(d.strftime("%d/%m/%Y") for d in days) + "\n"
        + "\n".join(f"{cpfs[p]};" + ";".join("x" for _ in days) for p in people) + "\n",
        encoding="utf-8-sig",
    )  # fmt: skip
    out = run(cli, "import-attendance", event_id, str(sheet), *by)
    assert f"80 people, {80 * 33} person-days recorded (0 already recorded)" in out
    form_groups(rt, clock, ready, int(event_id))

    out = run(cli, "complete", event_id, *by)

    lines = out.strip().splitlines()
    assert lines[0] == f"event {event_id} recorded as held on {date_text(today_of(clock), 'en')}"
    assert lines[1] == f"case {ready}: moved: capacitacao -> gestao"
    assert lines[2] == (
        f"case {no_groups}: refused: ECC {event_id} formed no enterprise group for this case; "
        "at least one is needed"
    )
    assert lines[3] == f"case {early}: skipped: case is in registrada, not capacitacao"
    assert lines[4] == "1 moved, 1 refused, 1 skipped"
    assert [case_row(rt.db, c).state for c in (ready, no_groups, early)] == [
        "gestao",
        "capacitacao",
        "registrada",
    ]

    err = run(cli, "complete", event_id, *by, code=4)
    assert f"event {event_id} was already recorded as held" in err

    shown = json.loads(run(cli, "show", event_id, "--json"))
    assert shown["certified"] == 80
    assert shown["cases"][0] == {"case_id": ready, "state": "gestao"}
    assert set(shown["people"]) == {str(p) for p in people}
    table = run(cli, "show", event_id)
    assert "attendance per day" in table
    assert "Participante" not in table
    assert cpfs[people[0]] not in table

    listed = json.loads(run(cli, "list", "--case", str(early), "--json"))
    assert [e["event_id"] for e in listed] == [int(event_id)]
    assert json.loads(run(cli, "list", "--open", "--json")) == []
    assert_chain_intact_and_free_of_personal_data(rt)


def test_command_line_refusals_exit_with_their_codes_and_write_nothing(
    cli: CliRunner, rt: Runtime, tmp_path: Path
) -> None:
    ((person, cpf),) = register_people(rt, 1)
    base = [
        "create", "--by", "ana", "--kind", "oficina", "--title", "Oficina de Gestão",
        "--venue", "Câmara Municipal", "--municipality", str(QUIXADA),
        "--instructor", str(INSTRUCTOR), "--capacity", "1",
    ]  # fmt: skip
    before = counts(rt)
    err = run(cli, *base, "--start", "2026-03-05", "--end", "2026-03-02", code=2)
    assert "end_on 2026-03-02 is before start_on 2026-03-05" in err
    assert "--start" in run(cli, *base, "--start", "05/03/2026", "--end", "2026-03-06", code=2)
    assert counts(rt) == before

    out = run(cli, *base, "--start", "2099-03-02", "--end", "2099-03-03")
    event_id = re.match(r"event (\d+) planned", out).group(1)  # type: ignore[union-attr]
    run(cli, "enrol", event_id, str(person), "--by", "ana", "--no-certification")
    (other,) = register_people(rt, 1, first=950_000)
    after_setup = counts(rt)
    err = run(cli, "enrol", event_id, str(other[0]), "--by", "ana", code=4)
    assert f"event {event_id} is full: 1 of 1 places taken" in err
    err = run(cli, "attend", event_id, str(person), "--day", "2099-03-02", "--by", "ana",
              code=2)  # fmt: skip
    assert "Mar 2, 2099 is in the future" in err  # dates as the reader writes them (Babel)
    sheet = tmp_path / "bad.csv"
    sheet.write_text(f"cpf,day\n{cpf},2099-03-01\n{cpf},2099-03-02\n", encoding="utf-8")
    err = run(cli, "import-attendance", event_id, str(sheet), "--by", "ana", code=2)
    assert (
        f"line 2: Mar 1, 2099 is outside event {event_id}'s dates (Mar 2, 2099 to Mar 3, 2099)"
        in err
    )
    assert "line 3: Mar 2, 2099 is in the future (today is Mar 2, 2026)" in err
    err = run(cli, "complete", event_id, "--by", "ana", code=4)
    assert "it cannot be held yet" in err
    assert run(cli, "show", "999", code=3).startswith("error: training event 999 does not exist")
    assert counts(rt) == after_setup


def test_command_line_plans_an_ecc_held_monday_to_friday(cli: CliRunner, rt: Runtime) -> None:
    by = ("--by", "ana")
    out = run(
        cli, "create", *by, "--kind", "ecc", "--title", "ECC Sertão Central",
        "--start", "2027-03-01", "--end", "2027-04-14",
        "--venue", "Escola Municipal", "--municipality", str(QUIXADA),
        "--instructor", str(INSTRUCTOR), "--capacity", "80",
        "--weekdays", "seg-sex", "--skip", "2027-03-26",
    )  # fmt: skip
    match = re.match(r"event (\d+) planned", out)
    assert match, out
    shown = json.loads(run(cli, "show", match.group(1), "--json"))
    assert (shown["days"], shown["session_days"]) == (45, 32)
    assert "2027-03-06" not in shown["attendance_by_day"]
    assert "2027-03-26" not in shown["attendance_by_day"]
    assert cli_event.parse_weekdays("mon,wed,fri") == [1, 3, 5]
    assert cli_event.parse_weekdays("6-1") == [1, 6, 7]
    refused = run(
        cli, "create", *by, "--kind", "ecc", "--title", "ECC",
        "--start", "2027-03-01", "--end", "2027-04-14",
        "--venue", "Escola", "--municipality", str(QUIXADA),
        "--instructor", str(INSTRUCTOR), "--capacity", "80", "--weekdays", "lun-vie",
        code=2,
    )  # fmt: skip
    assert "--weekdays: 'lun' is not a day of the week" in refused
