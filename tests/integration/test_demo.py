"""The demo portfolio, checked the way a user would check it after `produzir demo`.

The demo is built once for the module (200 cases on SQLite, through the real operations); the
tests read it back with the same queries the console uses (the case list and summary, a case's
detail, its history replayed to a date, the audit chain's verification, the dated obligations)
and with plain reads of the programme's records: people, training events and attendance,
enterprises and their legal steps, follow-up.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app
from demo import (
    DEMO_START,
    DEMO_USERS,
    FINAL_AT,
    MANAGER,
    SUPERVISORS,
    DemoReport,
    build_demo,
    demo_is_needed,
    load_demo,
    tables,
)
from states import audit, queries
from states.clock import FixedClock
from states.directory import User
from states.errors import InvalidInput
from states.lifecycle import Lifecycle
from states.models import AuditEvent, Case, Municipality
from states.records import (
    Attendance,
    CaseParticipant,
    Clai,
    Commitment,
    Enrolment,
    Enterprise,
    EnterpriseMember,
    EventCase,
    LegalStep,
    Person,
    PriorityArea,
    Protocol,
    TrainingEvent,
    Typology,
    Visit,
    session_days,
)
from states.states import ALL, State
from tasks import obligations
from tasks.enterprises import STEP_RULES
from tasks.runtime import Runtime
from tests.conftest import sqlite_copy
from tests.integration.helpers import verify

CASES = 200
SEED = 2026
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Dates that are plans when recorded, not facts: they may be later than the recording day.
PLANNED = {
    "suspender": {"expected_resume_on"},
    "evento_planejado": {"start_on", "end_on"},
    "compromisso": {"due_on"},
}
LEAVES_CAPACITACAO = "concluir_capacitacao"


def fresh_runtime(template: Path, folder: Path, lifecycle: Lifecycle) -> Runtime:
    return Runtime(sqlite_copy(template, folder), lifecycle, FixedClock(DEMO_START))


def build(rt: Runtime, *, cases: int = CASES, seed: int = SEED) -> DemoReport:
    assert isinstance(rt.clock, FixedClock)
    return build_demo(rt, rt.clock, cases=cases, seed=seed)


@pytest.fixture(scope="module")
def demo(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Runtime, DemoReport]]:
    rt = fresh_runtime(sqlite_template, tmp_path_factory.mktemp("demo"), lifecycle)
    assert demo_is_needed(rt)
    report = build(rt)
    yield rt, report
    rt.db.dispose()


def head_hash(rt: Runtime) -> str:
    """The root of the log's Merkle tree: equal roots, equal logs."""
    with rt.db.read() as session:
        return audit.tree_state(session)[1]


def loaded(rt: Runtime, model: type[Any]) -> list[Any]:
    """Every row of a records table, detached from the (rolled back) read session."""
    with rt.db.read() as session:
        rows = list(session.execute(select(model)).scalars())
        session.expunge_all()
    return rows


# --------------------------------------------------------------------------- cases


def test_the_demo_has_the_cases_and_events_it_reports(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    with rt.db.read() as session:
        cases = session.execute(select(func.count()).select_from(Case)).scalar_one()
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert report.cases == cases == CASES
    assert report.events == events
    assert events > 5 * cases  # histories, not just registrations
    assert not demo_is_needed(rt)


def test_every_state_has_cases_and_the_summary_agrees(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    with rt.db.read() as session:
        summary = queries.summary(session, today=rt.today())
    per_state = {row["state"]: row["cases"] for row in summary}
    assert per_state == report.per_state
    empty = [s.value for s in ALL if per_state[s.value] == 0]
    assert not empty, f"no case in {empty}"
    assert sum(per_state.values()) == CASES


def test_cases_are_shared_among_coordinators(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    with rt.db.read() as session:
        rows = session.execute(
            select(Case.coordinator, func.count()).group_by(Case.coordinator)
        ).all()
    per_coordinator = dict(rows)
    assert None not in per_coordinator, "every case is assigned with `atribuir`"
    assert len(per_coordinator) >= 5
    assert sorted(per_coordinator) == report.coordinators


def test_the_clock_ends_on_the_final_date(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    assert rt.clock.now() == FINAL_AT
    assert report.final_date == rt.today() == date(2026, 11, 20)


def test_the_audit_log_verifies_over_every_event(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    result = verify(rt.db, backstop=False)
    with rt.db.read() as session:
        rows = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert result.ok, result.problem
    assert result.checked == rows == result.tree_size
    assert result.pending == 0  # every writer integrated its own entries on SQLite


def test_every_case_now_equals_its_history_replayed(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    at, today = rt.clock.now(), rt.today()
    with rt.db.read() as session:
        ids = list(session.execute(select(Case.id).order_by(Case.id)).scalars())
        for case_id in ids:
            now = queries.case_detail(session, case_id, today=today)
            replayed = queries.case_at(session, case_id, at)
            for column in ("state", "coordinator", "due_on"):
                assert replayed[column] == now[column], (case_id, column)
            assert replayed["version"] == now["version"], case_id


def test_histories_move_forward_in_time(demo: tuple[Runtime, DemoReport]) -> None:
    """Events are in time order, inside the demo's period, and nothing in the evidence is
    dated later than the day it was recorded, except what is a plan by nature (the expected
    resume date of a suspension, a training event's dates when it is planned, the due date of
    a commitment)."""
    rt, _ = demo
    with rt.db.read() as session:
        rows = session.execute(
            select(
                AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.event, AuditEvent.entry
            ).order_by(AuditEvent.seq)
        ).all()
    instants = [row.occurred_at for row in rows]
    assert instants == sorted(instants)
    assert instants[0] >= DEMO_START
    assert instants[-1] <= FINAL_AT
    late: list[tuple[int, str, str, str]] = []
    for seq, occurred_at, event, evidence in rows:
        day = occurred_at.date().isoformat()
        for key, value in _dated(json.loads(evidence)["evidence"]):
            if key not in PLANNED.get(event, ()) and value > day:
                late.append((seq, event, key, value))
    assert not late, late[:5]


def _dated(value: object, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _dated(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _dated(item, key)
    elif isinstance(value, str) and ISO_DATE.match(value):
        yield key, value


def test_some_cases_are_overdue(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    today = rt.today()
    overdue = queries.CaseFilter(overdue=True)
    with rt.db.read() as session:
        listed = queries.list_cases(session, overdue, today=today, limit=1000)
        counted = queries.count_cases(session, overdue, today=today)
    assert listed, "`case list --overdue` shows nothing"
    assert counted == len(listed)
    assert all(row["overdue"] and row["days_late"] > 0 for row in listed)
    assert counted < CASES // 3  # a portfolio being worked on, not abandoned


def test_histories_show_the_lifecycle_side_roads(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    with rt.db.read() as session:
        events = session.execute(
            select(AuditEvent.case_id, AuditEvent.event, AuditEvent.actor)
            .where(AuditEvent.record_type.is_(None))
            .order_by(AuditEvent.seq)
        ).all()
    names = {e.event for e in events}
    for wanted in (
        "prorrogar",
        "suspender",
        "retomar",
        "indeferir",
        "recorrer",
        "cancelar",
        "anotar",
        "solicitar_reabertura",
        "aprovar_reabertura",
        "recusar_reabertura",
    ):
        assert wanted in names, f"no {wanted} in the demo"
    requested: dict[int, str] = {}
    approvals = []
    for case_id, event, actor in events:
        if event == "solicitar_reabertura":
            requested[case_id] = actor
        elif event == "aprovar_reabertura":
            approvals.append((requested[case_id], actor))
    assert approvals
    assert all(asked != decided for asked, decided in approvals)


# --------------------------------------------------------------------------- people


def test_hundreds_of_people_and_forty_in_every_trained_case(
    demo: tuple[Runtime, DemoReport],
) -> None:
    rt, report = demo
    with rt.db.read() as session:
        people = session.execute(select(func.count()).select_from(Person)).scalar_one()
        per_case = dict(
            session.execute(
                select(CaseParticipant.case_id, func.count()).group_by(CaseParticipant.case_id)
            ).all()
        )
        trained = set(
            session.execute(
                select(AuditEvent.case_id).where(
                    AuditEvent.event == "concluir_mobilizacao",
                    AuditEvent.to_state == State.CAPACITACAO.value,
                )
            ).scalars()
        )
        several = session.execute(
            select(CaseParticipant.person_id)
            .group_by(CaseParticipant.person_id)
            .having(func.count() > 1)
        ).all()
    assert report.people == people >= 300
    assert trained
    short = {c: per_case.get(c, 0) for c in trained if per_case.get(c, 0) < 40}
    assert not short, f"cases that left mobilisation with fewer than 40 people: {short}"
    assert several, "nobody takes part in two cases"


def test_evidence_names_no_person(demo: tuple[Runtime, DemoReport]) -> None:
    """No CPF and no participant's name in any audit event (they can never be erased)."""
    rt, _ = demo
    cpf_like = re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b")
    digits = re.compile(r"(?<![0-9A-Z])[0-9]{11}(?![0-9A-Z])")
    word = re.compile(r"\w+")
    with rt.db.read() as session:
        people = session.execute(select(Person.cpf, Person.name)).all()
        texts = list(session.execute(select(AuditEvent.entry)).scalars())  # whole entries
    cpfs = {p.cpf for p in people}
    names = {tuple(word.findall(p.name.casefold())) for p in people}
    assert len(cpfs) == len(people)
    assert all(len(n) == 3 for n in names)
    with_cpf, with_name = [], []
    for text in texts:
        if cpf_like.search(text.replace('"', " ")) or cpfs.intersection(digits.findall(text)):
            with_cpf.append(text)
        words = word.findall(text.casefold())
        if names.intersection(zip(words, words[1:], words[2:], strict=False)):
            with_name.append(text)
    assert not with_cpf, with_cpf[:3]
    assert not with_name, with_name[:3]


# --------------------------------------------------------------------------- training


def test_eccs_have_daily_attendance_and_some_serve_several_cases(
    demo: tuple[Runtime, DemoReport],
) -> None:
    rt, report = demo
    with rt.db.read() as session:
        kinds = dict(
            session.execute(
                select(TrainingEvent.kind, func.count()).group_by(TrainingEvent.kind)
            ).all()
        )
        served = defaultdict(set)
        for event_id, case_id in session.execute(select(EventCase.event_id, EventCase.case_id)):
            served[event_id].add(case_id)
        moved_by: dict[int, set[int]] = defaultdict(set)
        for case_id, evidence in session.execute(
            select(AuditEvent.case_id, AuditEvent.entry).where(
                AuditEvent.event == LEAVES_CAPACITACAO
            )
        ):
            moved_by[json.loads(evidence)["evidence"]["ecc_id"]].add(case_id)
        held_eccs = (
            session.execute(
                select(TrainingEvent).where(
                    TrainingEvent.kind == "ecc", TrainingEvent.held_on.is_not(None)
                )
            )
            .scalars()
            .all()
        )
        session.expunge_all()
        state_of = dict(session.execute(select(Case.id, Case.state)).all())
        per_event_day: dict[int, set[date]] = defaultdict(set)
        for event_id, day in session.execute(
            select(Attendance.event_id, Attendance.day).distinct()
        ):
            per_event_day[event_id].add(day)
    assert report.training_events == kinds
    assert kinds.get("ecc", 0) >= 20
    assert kinds.get("oficina", 0) > 0
    assert kinds.get("ecm", 0) > 0
    shared = {e: cases for e, cases in served.items() if len(cases) > 1 and e in moved_by}
    assert shared, "no ECC served several cases"
    assert any(moved_by[e] == cases for e, cases in shared.items()), (
        "no shared ECC moved all its cases at once"
    )
    held_ids = {ecc.id for ecc in held_eccs}
    refused = [
        e
        for e in held_ids - set(moved_by)
        if served[e] and all(state_of[c] == State.CAPACITACAO.value for c in served[e])
    ]
    assert refused, "no ECC held with too few attending (the bulk operation refusing a case)"
    for ecc in held_eccs:
        assert ecc.held_on is not None
        assert ecc.held_on >= ecc.end_on
        length = (ecc.end_on - ecc.start_on).days + 1
        assert 41 <= length <= 45
        # the demo's ECCs meet Monday to Friday: (nearly) every session day has someone
        # recorded, and nobody on a day the ECC does not meet
        sessions = [d for d in session_days(ecc) if d.isoweekday() <= 5]
        assert sessions == session_days(ecc), ecc.id
        assert per_event_day[ecc.id] <= set(sessions), ecc.id
        assert len(per_event_day[ecc.id]) >= len(sessions) - 1, ecc.id


def test_certified_attendance_reached_the_threshold_of_each_moved_case(
    demo: tuple[Runtime, DemoReport],
) -> None:
    rt, _ = demo
    t = rt.lifecycle.config.thresholds
    with rt.db.read() as session:
        moved = {
            json.loads(e)["evidence"]["ecc_id"]
            for e in session.execute(
                select(AuditEvent.entry).where(AuditEvent.event == LEAVES_CAPACITACAO)
            ).scalars()
        }
        for event_id in sorted(moved):
            ecc = session.get(TrainingEvent, event_id)
            assert ecc is not None
            # the 75 % is of the days the ECC met, not of its calendar span
            needed = math.ceil(t.min_attendance * len(session_days(ecc)))
            certified = set(
                session.execute(
                    select(Enrolment.person_id).where(
                        Enrolment.event_id == event_id, Enrolment.certification.is_(True)
                    )
                ).scalars()
            )
            attended = dict(
                session.execute(
                    select(Attendance.person_id, func.count())
                    .where(Attendance.event_id == event_id)
                    .group_by(Attendance.person_id)
                ).all()
            )
            reached = sum(1 for p in certified if attended.get(p, 0) >= needed)
            assert reached >= math.ceil(t.min_certified_share * len(certified)), event_id


# --------------------------------------------------------------------------- enterprises


def test_enterprises_in_every_legal_form_with_their_members(
    demo: tuple[Runtime, DemoReport],
) -> None:
    rt, report = demo
    with rt.db.read() as session:
        members = dict(
            session.execute(
                select(EnterpriseMember.enterprise_id, func.count()).group_by(
                    EnterpriseMember.enterprise_id
                )
            ).all()
        )
    enterprises = loaded(rt, Enterprise)
    forms = Counter(e.legal_form for e in enterprises)
    # every form the portfolio draws (the legacy me_epp cannot be chosen any more)
    assert set(tables.FORMS) <= set(forms), f"forms present: {forms}"
    assert report.enterprises == len(enterprises)
    minimum = {"cooperativa": 20, "cooperativa_trabalho": 7}
    for e in enterprises:
        n = members.get(e.id, 0)
        if e.legal_form == "mei":
            assert n == 1, e.name
        elif e.legal_form in minimum:
            assert n >= minimum[e.legal_form], e.name
        assert n >= 1
        assert e.formed_at_event_id is not None


def test_every_legalisation_step_is_somewhere(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    steps = loaded(rt, LegalStep)
    enterprises = {e.id: e for e in loaded(rt, Enterprise)}
    names = {s.step for s in steps}
    assert names == set(STEP_RULES)
    assert any(s.step == "licence" and s.waived_reason for s in steps), "no licence waived"
    assert any(s.step == "licence" and not s.waived_reason for s in steps)
    cnpj = {s.enterprise_id: s for s in steps if s.step == "cnpj"}
    alphanumeric = [s for s in cnpj.values() if not (s.reference or "").isdigit()]
    assert alphanumeric, "no alphanumeric CNPJ"
    assert all(s.done_on >= date(2026, 7, 1) for s in alphanumeric)
    assert all(enterprises[i].cnpj == s.reference for i, s in cnpj.items())
    assert any(e.no_cnpj_reason for e in enterprises.values()), "no recorded no-CNPJ reason"
    by_enterprise: dict[int, set[str]] = defaultdict(set)
    for s in steps:
        by_enterprise[s.enterprise_id].add(s.step)

    def having(wanted: str, *, without: str) -> list[int]:
        return [i for i, got in by_enterprise.items() if wanted in got and without not in got]

    assert having("founding_act", without="registry_filing"), "none only founded"
    assert having("registry_filing", without="cnpj"), "none filed and waiting for a CNPJ"
    assert having("registry_correction_requested", without="registry_correction_filed")
    assert having("registry_correction_filed", without="(nothing)")
    for i, got in by_enterprise.items():
        if "ocb_registration" in got:
            assert enterprises[i].legal_form in ("cooperativa", "cooperativa_trabalho")
        if "caf" in got:
            assert enterprises[i].family_agriculture


# --------------------------------------------------------------------------- follow-up


def test_follow_up_has_visits_clai_and_protocols(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    t = rt.lifecycle.config.thresholds
    with rt.db.read() as session:
        left = list(
            session.execute(
                select(AuditEvent.case_id).where(AuditEvent.event == "concluir_acompanhamento")
            ).scalars()
        )
        visits: dict[int, list[date]] = defaultdict(list)
        for v in session.execute(select(Visit)).scalars():
            visits[v.case_id].append(v.visited_on)
            assert v.active is not None
            assert v.members is not None
            assert v.monthly_income is not None
        hub_of = dict(
            session.execute(
                select(Case.id, Case.hub_municipality_code).where(
                    Case.hub_municipality_code.is_not(None)
                )
            ).all()
        )
        clai = set(session.execute(select(Clai.hub_code)).scalars())
        protocols = set(session.execute(select(Protocol.hub_code)).scalars())
    assert left, "no case finished its follow-up"
    assert report.visits == sum(len(v) for v in visits.values())
    for case_id in left:
        assert hub_of[case_id] in clai  # the hub's CLAI and Protocol, shared by its cases
        assert hub_of[case_id] in protocols
        days = sorted(set(visits[case_id]))
        assert days, case_id
        assert max(((b - a).days for a, b in pairwise(days)), default=0) <= t.visit_interval_days
    today = rt.today()
    commitments = loaded(rt, Commitment)
    assert any(c.done_on for c in commitments), "no commitment kept"
    assert any(c.done_on is None and c.due_on < today for c in commitments), "none overdue"


def test_hubs_serve_several_cases_with_clai_meetings_and_partners_of_every_sphere(
    demo: tuple[Runtime, DemoReport],
) -> None:
    from states.records import ClaiMeeting, Hub, Partner

    rt, _ = demo
    with rt.db.read() as session:
        served = Counter(
            session.execute(
                select(Case.hub_municipality_code).where(Case.hub_municipality_code.is_not(None))
            ).scalars()
        )
        hubs = set(session.execute(select(Hub.municipality_code)).scalars())
        spheres = set(session.execute(select(Partner.sphere)).scalars())
        meetings = session.execute(select(func.count()).select_from(ClaiMeeting)).scalar_one()
        ufs = session.execute(
            select(Case.hub_municipality_code, Municipality.uf)
            .join(Municipality, Municipality.ibge_code == Case.municipality_code)
            .where(Case.hub_municipality_code.is_not(None))
        ).all()
        hub_ufs = dict(session.execute(select(Municipality.ibge_code, Municipality.uf)).all())
    assert set(served) == hubs
    assert max(served.values()) >= 3, "no hub serves several cases"
    assert spheres == {"federal", "state", "municipal", "civil_society", "international"}
    assert meetings > 0
    assert all(hub_ufs[hub] == uf for hub, uf in ufs)  # every hub in its cases' territory


def test_some_dated_obligations_are_overdue(demo: tuple[Runtime, DemoReport]) -> None:
    rt, report = demo
    today = rt.today()
    with rt.db.read() as session:
        overdue = obligations.list_obligations(session, today=today, overdue=True, limit=10_000)
        every = obligations.list_obligations(
            session, today=today, open_only=False, include_closed_cases=True, limit=100_000
        )
    assert overdue, "no overdue obligation"
    assert report.overdue_obligations == len(overdue)
    assert len({o["kind"] for o in overdue}) >= 2
    # the duties the demo plays are each kept somewhere; it records no surveys, sets no RCPJ
    # target, its MEIs earn far below the cap and nobody leaves a cooperative, so those kinds
    # do not arise
    played = set(obligations.KINDS) - {
        obligations.SURVEY_WAVE,
        obligations.REGISTRY_FILING_TARGET,
        obligations.MEI_REVENUE_CAP,
        obligations.MEMBERSHIP_MINIMUM,
    }
    assert {o["kind"] for o in every if o["satisfied_on"]} == played
    assert len(overdue) < len(every) // 4  # most duties were kept


# --------------------------------------------------------------------------- the build


def test_the_same_seed_builds_the_same_portfolio(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    built = []
    for attempt in ("first", "again"):
        rt = fresh_runtime(sqlite_template, tmp_path / attempt, lifecycle)
        try:
            built.append((build(rt, cases=30), head_hash(rt)))
        finally:
            rt.db.dispose()
    (first, first_hash), (again, again_hash) = built
    assert again == first
    assert again_hash == first_hash


def test_another_seed_builds_another_portfolio(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    hashes = []
    for seed in (1, 2):
        rt = fresh_runtime(sqlite_template, tmp_path / str(seed), lifecycle)
        try:
            build(rt, cases=20, seed=seed)
            hashes.append(head_hash(rt))
        finally:
            rt.db.dispose()
    assert hashes[0] != hashes[1]


def test_the_demo_refuses_a_database_that_has_cases(demo: tuple[Runtime, DemoReport]) -> None:
    rt, _ = demo
    with pytest.raises(InvalidInput, match="already has cases"):
        build(rt, cases=1)


# --------------------------------------------------------------------------- load_demo


def test_load_demo_builds_an_empty_database_then_adds_only_who_is_missing(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    rt = fresh_runtime(sqlite_template, tmp_path, lifecycle)
    told: list[str] = []
    try:
        first = load_demo(rt, cases=12, building=lambda: told.append("building"))
        assert told == ["building"]
        assert first.report is not None
        assert first.report.cases == 12
        assert first.existing == 0
        assert first.staff_added == []  # the build registered them; now they get the password
        assert first.users_added == [user["username"] for user in DEMO_USERS]
        with rt.db.read() as session:
            names = set(session.execute(select(User.username)).scalars())
            no_password = session.execute(
                select(User.username).where(User.password_hash.is_(None))
            ).all()
        assert set(SUPERVISORS.values()) | {MANAGER} <= names
        assert no_password == []  # the staff can log in too

        again = load_demo(rt, cases=12, building=lambda: told.append("building"))
        assert told == ["building"]
        assert (again.report, again.existing) == (None, 12)
        assert again.staff_added == again.users_added == []
        with pytest.raises(InvalidInput, match="already has cases"):
            load_demo(rt, cases=12, if_empty=False)
    finally:
        rt.db.dispose()


def test_produzir_demo_says_what_it_loaded_and_skips_a_database_with_cases(
    sqlite_template: Path, lifecycle: Lifecycle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = fresh_runtime(sqlite_template, tmp_path, lifecycle)
    rt.db.dispose()
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    loaded = CliRunner().invoke(app, ["demo", "--cases", "12", "--seed", "7"])
    assert loaded.exit_code == 0, loaded.output
    lines = loaded.stdout.splitlines()
    assert lines[0].startswith("demo loaded: 12 cases, ")
    assert lines[0].endswith("clock at Nov 20, 2026")
    assert lines[1] == "web console users (all with the same demo password):"
    assert [line.split()[0] for line in lines[2:8]] == [u["username"] for u in DEMO_USERS]
    assert lines[-1] == "  password: produzir-demo-2026"

    skipped = CliRunner().invoke(app, ["demo", "--if-empty"])
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.splitlines()[0] == "demo skipped: the database already has 12 cases"
    assert skipped.stdout.splitlines()[1:] == lines[1:]


def test_the_demo_typology_and_areas_are_illustrative_and_labelled_so(
    demo: tuple[Runtime, DemoReport], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, _ = demo
    with rt.db.read() as session:
        typologies = [
            (t.name, t.version, t.illustrative, t.source)
            for t in session.execute(select(Typology)).scalars()
        ]
        areas = [
            (a.name, a.illustrative, a.source)
            for a in session.execute(select(PriorityArea)).scalars()
        ]
        approvals = [
            e.evidence
            for e in session.execute(
                select(AuditEvent).where(AuditEvent.event == "aprovar_elegibilidade")
            ).scalars()
        ]
        case_id = session.execute(select(Case.id).order_by(Case.id).limit(1)).scalar_one()
        detail = queries.case_detail(session, case_id, today=rt.today())
    # one illustrative typology, never presented as the ministry's
    assert [t[:3] for t in typologies] == [("PNDR", "demo-2024", True)]
    assert typologies[0][3].startswith("ilustrativo")
    assert {a[0] for a in areas} >= {"Semiárido", "Faixa de Fronteira", "Amazônia Legal"}
    assert all(
        illustrative and source.startswith("ilustrativo") for _, illustrative, source in areas
    )
    # every eligibility decision names the (illustrative) typology it read, no typed class
    assert approvals
    for evidence in approvals:
        checked = evidence["records_checked"]["typology"]
        assert (checked["name"], checked["version"], checked["illustrative"]) == (
            "PNDR",
            "demo-2024",
            True,
        )
        assert checked["pndr_class"] in rt.lifecycle.config.thresholds.eligible_classes
        assert "pndr_class" not in evidence
        assert "ilustrativ" in evidence["decision"]
    # shown on the case and by `produzir territory show` with the label
    assert detail["pndr_typology"] == "PNDR demo-2024 (ilustrativo)"
    assert detail["priority_areas"]
    assert all(label.endswith("(ilustrativo)") for label in detail["priority_areas"])
    assert detail["module"] in {"nordeste", "amazonia", None}
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    shown = CliRunner().invoke(app, ["territory", "show"])
    assert shown.exit_code == 0, shown.output
    assert "PNDR (ilustrativo)" in shown.stdout
    assert "Semiárido (ilustrativo)" in shown.stdout
