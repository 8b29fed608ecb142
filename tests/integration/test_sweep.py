"""The deadline sweep as a coordinator, a supervisor and management live it, day after day.

A case in Quixadá (CE) due on Friday 2026-03-20: CE keeps São José (Thursday 03-19) and the
abolition in Ceará (Wednesday 03-25), so the reminder three working days before falls on Monday
03-16 (not Tuesday), the supervisor hears on Tuesday 03-24 (two working days after) and
management on Wednesday 04-01 (seven working days after, the 25th skipped). The clock is
injected; each "day" is a sweep at 09:00 in Fortaleza.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from console.cli_user import app as user_app
from notifications.models import OutboxMessage
from notifications.policy import load_policy
from states.clock import FixedClock
from states.directory import MunicipalHoliday
from states.errors import InvalidInput
from states.models import AuditEvent, Case, Municipality
from tasks import calendar_ops
from tasks.cases import advance
from tasks.obligations import open_obligation
from tasks.runtime import Runtime
from tasks.sweep import _Calendars, sweep_deadlines
from tasks.users import add_user, disable_user
from tests.builders import cli_users, drive, evidence_for, follow_up_all, new_case
from tests.integration.helpers import case_row, verify

FORTALEZA = ZoneInfo("America/Fortaleza")
QUIXADA = 2311306
RECIFE = 2611606
DUE = date(2026, 3, 20)


# ------------------------------------------------------------------------ shared helpers


def morning(clock: FixedClock, day: date, hour: int = 9, minute: int = 0) -> datetime:
    """Set the clock to ``hour:minute`` in Fortaleza on ``day``; the instant."""
    clock.set(datetime.combine(day, time(hour, minute), FORTALEZA))
    return clock.now()


def staff(rt: Runtime, *, coordinator_delivery: str = "immediate", **coordinator: Any) -> None:
    """ana (coordinator, CE and PE), sofia (supervisor, CE), pedro (supervisor, PE), marcos
    (manager)."""
    people: list[dict[str, Any]] = [
        {
            "username": "ana",
            "name": "Ana Souza",
            "email": "ana@example.org",
            "role": "coordinator",
            "territories": ["CE", "PE"],
            "timezone": "America/Fortaleza",
            "delivery": coordinator_delivery,
            **coordinator,
        },
        {
            "username": "sofia",
            "name": "Sofia Lima",
            "email": "sofia@example.org",
            "role": "supervisor",
            "territories": ["CE"],
            "timezone": "America/Fortaleza",
            "delivery": "immediate",
        },
        {
            "username": "pedro",
            "name": "Pedro Alves",
            "email": "pedro@example.org",
            "role": "supervisor",
            "territories": ["PE"],
            "delivery": "immediate",
        },
        {
            "username": "marcos",
            "name": "Marcos Reis",
            "email": "marcos@example.org",
            "role": "manager",
            "language": "en",
            "delivery": "immediate",
        },
    ]
    for person in people:
        add_user(rt, person, actor="admin")


def set_due(rt: Runtime, case_id: int, day: date) -> None:
    """Put the case's deadline on ``day`` (what a state entered at the right time would give)."""
    with rt.db.write() as session:
        session.execute(update(Case).where(Case.id == case_id).values(due_on=day))


def rows(rt: Runtime, **where: Any) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for column, value in where.items():
        query = query.where(getattr(OutboxMessage, column) == value)
    with rt.db.read() as session:
        found = list(session.execute(query).scalars())
        session.expunge_all()
        return found


def steps_of(found: list[OutboxMessage]) -> list[tuple[str, str, str]]:
    """(step, recipient, due date) of each row, from its key."""
    out = []
    for row in found:
        parts = row.key.split(":")  # case:ID:state|obligation:X:DUE:STEP:RECIPIENT
        out.append((parts[5], parts[6], parts[4]))
    return out


def day_by_day(
    rt: Runtime, clock: FixedClock, first: date, last: date, **kw: Any
) -> dict[date, list[tuple[str, str, str]]]:
    """Sweep every day at 09:00 Fortaleza; the rows each day's sweep queued."""
    seen: dict[date, list[tuple[str, str, str]]] = {}
    known = {r.key for r in rows(rt)}
    day = first
    while day <= last:
        morning(clock, day)
        report = sweep_deadlines(rt, **kw)
        assert report.errors == []
        fresh = [r for r in rows(rt) if r.key not in known]
        known |= {r.key for r in fresh}
        assert report.reminders_queued + report.opted_out == len(fresh)
        if fresh:
            seen[day] = steps_of(fresh)
        day += timedelta(days=1)
    return seen


def policy_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------ the chain


def test_the_full_chain_for_one_case_across_days_with_the_holidays_of_ceara(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    set_due(rt, case_id, DUE)
    seen = day_by_day(rt, clock, date(2026, 3, 9), date(2026, 4, 10))
    due = DUE.isoformat()
    assert seen == {
        date(2026, 3, 16): [("before", "ana", due)],  # Thu 19 is São José
        date(2026, 3, 20): [("due", "ana", due)],
        date(2026, 3, 24): [("supervisor", "sofia", due)],  # not pedro: PE is not his
        date(2026, 4, 1): [("management", "marcos", due)],  # Wed 25 is a CE holiday
    }
    messages = rows(rt, case_id=case_id)
    assert [m.category for m in messages] == ["reminder", "reminder", "escalation", "escalation"]
    assert [m.language for m in messages] == ["pt-BR", "pt-BR", "pt-BR", "en"]
    before, on_day, supervisor, management = (m.context for m in messages)
    assert (before["step"], before["days"]) == ("before", 4)
    assert (on_day["step"], on_day["days"]) == ("due", 0)
    assert (supervisor["step"], supervisor["days"]) == ("supervisor", 4)
    assert supervisor["coordinator_name"] == "Ana Souza"
    assert before["contact_name"] == "Sofia Lima"
    assert management["step"] == "management"
    assert len({m.message_id for m in messages}) == 4


def queued_on(rt: Runtime, case_id: int) -> dict[tuple[str, str], date]:
    """(step, recipient) -> the Fortaleza date its row was queued."""
    return {
        (m.context["policy_step"], m.recipient): m.created_at.astimezone(FORTALEZA).date()
        for m in rows(rt, case_id=case_id)
    }


def test_the_same_due_date_in_pernambuco_and_with_a_municipal_holiday(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    recife = new_case(rt, coordinator="ana", municipality_code=RECIFE)
    quixada = new_case(rt, coordinator="ana")
    for case_id in (recife, quixada):
        set_due(rt, case_id, DUE)
    with rt.db.write() as session:  # Quixadá's own holiday on Monday 03-23
        session.add(
            MunicipalHoliday(
                municipality_code=QUIXADA,
                day=date(2026, 3, 23),
                name="Feriado municipal de teste",
                created_by="admin",
                created_at=clock.now(),
            )
        )
    day_by_day(rt, clock, date(2026, 3, 12), date(2026, 4, 3))
    # Recife: no PE holiday in the way, and its supervisor is pedro
    assert queued_on(rt, recife) == {
        ("before", "ana"): date(2026, 3, 17),
        ("due", "ana"): DUE,
        ("supervisor", "pedro"): date(2026, 3, 24),
        ("management", "marcos"): date(2026, 3, 31),
    }
    # Quixadá: 19 (state) before; 23 (municipal) and 25 (state) after
    assert queued_on(rt, quixada) == {
        ("before", "ana"): date(2026, 3, 16),
        ("due", "ana"): DUE,
        ("supervisor", "sofia"): date(2026, 3, 26),
        ("management", "marcos"): date(2026, 4, 2),
    }


def test_a_sweep_run_twice_queues_exactly_the_eligible_reminders_once(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    overdue, soon, later = (new_case(rt, coordinator="ana") for _ in range(3))
    set_due(rt, overdue, date(2026, 3, 10))  # 2 working days ago from Thu 03-12 -> supervisor
    set_due(rt, soon, date(2026, 3, 17))  # 3 working days ahead -> before
    set_due(rt, later, date(2026, 4, 30))  # nothing yet
    morning(clock, date(2026, 3, 12))
    first = sweep_deadlines(rt, batch_size=2)
    second = sweep_deadlines(rt, batch_size=2)
    assert sorted(steps_of(rows(rt))) == sorted(
        [
            ("due", "ana", "2026-03-10"),
            ("supervisor", "sofia", "2026-03-10"),
            ("before", "ana", "2026-03-17"),
        ]
    )
    assert (first.reminders_queued, first.already_queued) == (3, 0)
    assert (second.reminders_queued, second.already_queued) == (0, 3)
    assert first.cases_checked == 2  # the case due in April is outside the window
    assert first.batches == 1


def test_a_moved_deadline_makes_new_keys(rt: Runtime, clock: FixedClock) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    set_due(rt, case_id, DUE)
    morning(clock, DUE)
    sweep_deadlines(rt)
    assert steps_of(rows(rt)) == [("due", "ana", "2026-03-20")]
    moved = advance(rt, case_id, "prorrogar", evidence_for("prorrogar", DUE), actor="ana")
    assert moved.due_on is not None
    assert moved.due_on > DUE
    morning(clock, moved.due_on)
    sweep_deadlines(rt)
    assert steps_of(rows(rt)) == [
        ("due", "ana", "2026-03-20"),
        ("due", "ana", moved.due_on.isoformat()),
    ]


@pytest.mark.parametrize("state", ["suspensa", "cancelada", "indeferida", "concluida"])
def test_quiet_cases_get_no_reminder_and_no_escalation(
    rt: Runtime, clock: FixedClock, state: str
) -> None:
    staff(rt)
    quiet = new_case(rt, coordinator="ana")
    if state == "concluida":
        with rt.db.write() as session:  # the main path to the end is long; the state is enough
            session.execute(update(Case).where(Case.id == quiet).values(state=state))
    else:
        drive(rt, clock, quiet, state)
    set_due(rt, quiet, date(2026, 3, 2))
    with rt.db.write() as session:
        open_obligation(
            session,
            rt,
            case_id=quiet,
            kind="protocol_commitment",
            due_on=date(2026, 3, 2),
            params={"partner": "SEBRAE", "action": "curso"},
        )
    active = new_case(rt, coordinator="ana")
    set_due(rt, active, date(2026, 3, 2))
    morning(clock, date(2026, 3, 20))
    report = sweep_deadlines(rt)
    # no reminder, no escalation (a rejection past its appeal window is archived by the sweep,
    # and its coordinator is told of that transition)
    assert [m for m in rows(rt, case_id=quiet) if m.category in ("reminder", "escalation")] == []
    assert {m.case_id for m in rows(rt) if m.category != "transition"} == {active}
    assert report.obligations_checked == 0
    if state == "indeferida":  # time-driven: archived by `system`, audited like any event
        with rt.db.read() as session:
            archived = session.get(Case, quiet)
            assert archived is not None
            assert (archived.state, archived.updated_by) == ("arquivada", "system")


def test_open_obligations_are_reminded_and_escalated_like_deadlines(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    set_due(rt, case_id, date(2026, 6, 30))  # the state's own deadline is far away
    with rt.db.write() as session:
        open_id = open_obligation(
            session,
            rt,
            case_id=case_id,
            kind="registry_filing",
            due_on=DUE,
            params={"enterprise": "Cooperativa Mel do Sertão", "registry": "Junta Comercial"},
        ).id
        done = open_obligation(
            session,
            rt,
            case_id=case_id,
            kind="registry_filing",
            due_on=DUE,
            params={"enterprise": "Associação Doce Vida", "registry": "RCPJ"},
        )
        done.satisfied_on = date(2026, 3, 5)
        done.satisfied_by = "legal_step:1"
    seen = day_by_day(rt, clock, date(2026, 3, 13), date(2026, 3, 24))
    assert sorted(seen) == [date(2026, 3, 16), date(2026, 3, 20), date(2026, 3, 24)]
    found = rows(rt, case_id=case_id)
    assert {m.key.split(":")[3] for m in found} == {str(open_id)}
    assert found[0].context["obligation"] == "file Cooperativa Mel do Sertão at the Junta Comercial"
    assert found[0].context["obligation_params"]["enterprise"] == "Cooperativa Mel do Sertão"


def test_a_programme_target_is_reminded_but_never_escalated(rt: Runtime, clock: FixedClock) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")
    set_due(rt, case_id, date(2026, 6, 30))
    with rt.db.write() as session:
        open_obligation(
            session,
            rt,
            case_id=case_id,
            kind="registry_filing_target",
            due_on=DUE,
            params={
                "enterprise": "Associação Doce Vida",
                "registry": "Registro Civil de Pessoas Jurídicas",
                "days": 45,
            },
        )
    seen = day_by_day(rt, clock, date(2026, 3, 13), date(2026, 4, 3))
    # the coordinator's reminders, 3 working days before (Monday 16: Thursday 19 is São José, a
    # Ceará holiday) and on the day; no escalation after it
    assert sorted(seen) == [date(2026, 3, 16), date(2026, 3, 20)]
    assert {m.context["policy_step"] for m in rows(rt, case_id=case_id)} == {"before", "due"}


def test_opted_out_reminders_are_kept_skipped_but_escalations_always_go(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt, opted_out=["reminder", "transition"])
    case_id = new_case(rt, coordinator="ana")
    set_due(rt, case_id, date(2026, 3, 10))
    morning(clock, date(2026, 3, 12))
    report = sweep_deadlines(rt)
    by_step = {m.context["policy_step"]: m for m in rows(rt)}
    assert by_step["due"].status == "skipped"
    assert by_step["supervisor"].status == "pending"
    assert (report.opted_out, report.reminders_queued) == (1, 1)
    with pytest.raises(InvalidInput, match="escalations cannot be opted out of"):
        add_user(
            rt,
            {
                "username": "bia",
                "name": "Bia",
                "email": "bia@example.org",
                "role": "coordinator",
                "opted_out": ["escalation"],
            },
            actor="admin",
        )


def test_a_disabled_coordinator_and_a_missing_supervisor_are_counted_not_written(
    rt: Runtime, clock: FixedClock
) -> None:
    staff(rt)
    case_id = new_case(rt, coordinator="ana")  # assigned while active, then disabled
    disable_user(rt, "ana", actor="admin")
    disable_user(rt, "sofia", actor="admin")
    set_due(rt, case_id, date(2026, 3, 2))
    morning(clock, date(2026, 3, 20))
    report = sweep_deadlines(rt)
    assert steps_of(rows(rt)) == [("management", "marcos", "2026-03-02")]
    assert report.unaddressed == 2  # ana's "due" reminder, the CE supervisor's escalation


def test_one_bad_case_is_reported_and_never_stops_the_batch(rt: Runtime, clock: FixedClock) -> None:
    staff(rt)
    good_before = new_case(rt, coordinator="ana")
    bad = new_case(rt, coordinator="ana", municipality_code=RECIFE)
    good_after = new_case(rt, coordinator="ana")
    for case_id in (good_before, bad, good_after):
        set_due(rt, case_id, date(2026, 3, 10))
    with rt.db.write() as session:  # reference data gone wrong: a UF with no calendar
        session.execute(
            update(Municipality).where(Municipality.ibge_code == RECIFE).values(uf="XX")
        )
    morning(clock, date(2026, 3, 12))
    report = sweep_deadlines(rt)
    assert [e["case_id"] for e in report.errors] == [bad]
    assert "XX" in report.errors[0]["reason"]
    assert {m.case_id for m in rows(rt)} == {good_before, good_after}


# ------------------------------------------------------------------------ time-driven transitions

TIMED = """
[[escalations]]
name = "supervisor"
after_working_days = 2
to = "supervisor"

[[time_transitions]]
state = "acompanhamento"
event = "concluir_acompanhamento"
when = "due_reached"
enabled = true
"""


def test_a_time_driven_transition_fires_as_system_when_its_guard_passes(
    rt: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    staff(rt)
    policy = load_policy(policy_file(tmp_path, TIMED))
    done, missing = new_case(rt, coordinator="ana"), new_case(rt, coordinator="ana")
    for case_id in (done, missing):
        drive(rt, clock, case_id, "acompanhamento")
    entered = case_row(rt.db, done).entered_on
    clock.advance(timedelta(days=400))  # the period (12 months) is over
    follow_up_all(rt, done, entered)  # CLAI, Protocol and the visits, for one case only
    assert case_row(rt.db, done).due_on is not None
    report = sweep_deadlines(rt, policy=policy)
    assert [(t["case_id"], t["to_state"]) for t in report.transitions] == [(done, "avaliacao")]
    assert [r["case_id"] for r in report.refusals] == [missing]
    assert report.refusals[0]["event"] == "concluir_acompanhamento"
    assert case_row(rt.db, done).state == "avaliacao"
    assert case_row(rt.db, missing).state == "acompanhamento"
    with rt.db.read() as session:
        last = session.execute(
            select(AuditEvent.event, AuditEvent.actor)
            .where(AuditEvent.case_id == done)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).one()
    assert tuple(last) == ("concluir_acompanhamento", "system")
    assert verify(rt.db).ok
    # the case that moved gets no reminder for the state it left; the other is reminded
    assert {m.case_id for m in rows(rt) if m.category in ("reminder", "escalation")} == {missing}
    # the default policy ships the hook switched off
    again = new_case(rt, coordinator="ana")
    drive(rt, clock, again, "acompanhamento")
    clock.advance(timedelta(days=400))
    assert sweep_deadlines(rt).transitions == []


def test_the_policy_file_is_validated_with_the_field_named(tmp_path: Path) -> None:
    bad_event = TIMED.replace("concluir_acompanhamento", "voar")
    with pytest.raises(InvalidInput, match=r"time_transitions\.0.*unknown event 'voar'"):
        load_policy(policy_file(tmp_path, bad_event))
    wrong_state = TIMED.replace('state = "acompanhamento"', 'state = "gestao"')
    with pytest.raises(InvalidInput, match="not accepted in state gestao"):
        load_policy(policy_file(tmp_path, wrong_state))
    not_for_the_sweep = TIMED.replace('state = "acompanhamento"', 'state = "capacitacao"').replace(
        "concluir_acompanhamento", "concluir_capacitacao"
    )
    with pytest.raises(InvalidInput, match="concluir_capacitacao is not declared as one the sweep"):
        load_policy(policy_file(tmp_path, not_for_the_sweep))
    with pytest.raises(InvalidInput, match="before_due_working_days"):
        load_policy(policy_file(tmp_path, "[reminders]\nbefore_due_working_days = -1\n"))
    out_of_order = TIMED.split("[[time")[0] + TIMED.split("[[time")[0].replace("2", "1")
    with pytest.raises(InvalidInput, match="escalation"):
        load_policy(policy_file(tmp_path, out_of_order))
    shipped = load_policy()
    assert [e.after_working_days for e in shipped.escalations] == [2, 7]
    assert shipped.reminders.before_due_working_days == 3
    assert [(t.state, t.event, t.when) for t in shipped.active_transitions] == [
        ("acompanhamento", "concluir_acompanhamento", "due_reached"),
        ("indeferida", "arquivar", "due_passed"),
    ]


# ------------------------------------------------------------------------ concurrency


@pytest.mark.postgres
def test_two_sweeps_at_once_write_no_duplicates(any_rt: Runtime, clock: FixedClock) -> None:
    rt = any_rt
    staff(rt)
    cases = [new_case(rt, coordinator="ana") for _ in range(40)]
    for i, case_id in enumerate(cases):
        set_due(rt, case_id, date(2026, 3, 2) + timedelta(days=i % 20))
    morning(clock, date(2026, 3, 20))
    barrier = threading.Barrier(2)
    reports: list[Any] = [None, None]

    def run(i: int) -> None:
        barrier.wait(timeout=10)
        try:
            reports[i] = sweep_deadlines(rt, batch_size=7)
        except Exception as exc:  # the assertion below shows it
            reports[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(not isinstance(r, Exception) for r in reports), reports
    with rt.db.read() as session:
        total = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        distinct = session.execute(
            select(func.count(func.distinct(OutboxMessage.key)))
        ).scalar_one()
    assert total == distinct
    assert sum(r.reminders_queued for r in reports) == total
    alone = sweep_deadlines(rt)
    assert (alone.reminders_queued, alone.already_queued) == (0, total)


# ------------------------------------------------------------------------ users


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt, "admin")
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(user_app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code:
        assert result.stderr.startswith("error: ")
        assert "Traceback" not in result.output
        return result.stderr
    return result.stdout


def test_users_are_added_listed_and_disabled_from_the_command_line(
    cli: CliRunner, rt: Runtime
) -> None:
    run(
        cli,
        "add",
        "sofia",
        "--by",
        "admin",
        "--name",
        "Sofia Lima",
        "--email",
        "Sofia@Example.ORG",
        "--role",
        "supervisor",
        "--uf",
        "ce",
        "--uf",
        "PI",
        "--tz",
        "America/Fortaleza",
    )
    run(
        cli,
        "add",
        "ana",
        "--by",
        "admin",
        "--name",
        "Ana Souza",
        "--email",
        "ana@example.org",
        "--role",
        "coordinator",
        "--lang",
        "en",
        "--immediate",
        "--opt-out",
        "transition",
    )
    listed = {u["username"]: u for u in json.loads(run(cli, "list", "--json"))}
    assert listed["sofia"]["territories"] == ["CE", "PI"]
    assert listed["sofia"]["email"] == "Sofia@example.org"
    assert (listed["sofia"]["delivery"], listed["sofia"]["language"]) == ("digest", "pt-BR")
    assert (listed["ana"]["delivery"], listed["ana"]["opted_out"]) == ("immediate", ["transition"])
    assert "disabled" in run(cli, "disable", "ana", "--by", "admin")
    assert "already disabled" in run(cli, "disable", "ana", "--by", "admin")
    active = {u["username"] for u in json.loads(run(cli, "list", "--json", "--active-only"))}
    assert active == {"admin", "sofia"}  # admin: the administrator the commands run as
    assert "Sofia Lima" in run(cli, "list")
    with rt.db.read() as session:
        events = session.execute(
            select(AuditEvent.event, AuditEvent.entry).where(AuditEvent.record_type == "user")
        ).all()
    assert [e for e, _ in events] == ["user_added"] * 3 + ["user_disabled"]  # admin's first
    assert all("example.org" not in evidence and "Souza" not in evidence for _, evidence in events)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tz", "Mars/Olympus"], "not an IANA time zone"),
        (["--opt-out", "escalation"], "escalations cannot be opted out of"),
        (["--opt-out", "gossip"], "unknown category 'gossip'"),
        (["--uf", "ZZ"], "unknown UF ZZ"),
        (["--lang", "fr"], "unknown language 'fr'"),
        (["--role", "boss"], "unknown role 'boss'"),
        (["--email", "ana-at-example.org"], "not an e-mail address"),
    ],
)
def test_bad_user_input_is_refused_with_the_reason(
    cli: CliRunner, args: list[str], message: str
) -> None:
    base = {"--name": "Ana Souza", "--email": "ana@example.org", "--role": "coordinator"}
    for flag in ("--email", "--role"):
        if flag in args:
            base.pop(flag)
    flat = [x for pair in base.items() for x in pair]
    err = run(cli, "add", "ana", "--by", "admin", *flat, *args, code=2)
    assert message in err


def test_user_names_follow_the_rules_and_are_unique(cli: CliRunner) -> None:
    common = ["--by", "admin", "--name", "X", "--email", "x@example.org", "--role", "auditor"]
    assert "not a valid user name" in run(cli, "add", "Ana Souza", *common, code=2)
    assert "reserved for the system" in run(cli, "add", "system", *common, code=2)
    run(cli, "add", "xavier", *common)
    assert "already exists" in run(cli, "add", "xavier", *common, code=2)
    assert "user nobody does not exist" in run(cli, "disable", "nobody", "--by", "admin", code=3)


def test_the_sweep_counts_working_days_without_the_office_closures(rt: Runtime) -> None:
    # the reminder 3 working days before a deadline on Friday 2027-02-12 skips Carnival
    # (Monday 8 and Tuesday 9, closed by default): Thursday 11, Wednesday 10 ... Friday 5
    quixada, fortaleza, due = 2311306, 2304400, date(2027, 2, 12)
    policy = load_policy()

    def before(code: int) -> date:
        with rt.db.read() as session:
            return _Calendars(session, policy).steps(code, "CE", due)[0].on

    assert before(quixada) == date(2027, 2, 5)
    # Quixadá's office opens on Carnival Tuesday: its reminder comes a day later
    calendar_ops.remove_closure(rt, date(2027, 2, 9), municipality=quixada, actor="adm")
    assert before(quixada) == date(2027, 2, 9)
    assert before(fortaleza) == date(2027, 2, 5)
    # Ceará closes on Ash Wednesday too: Quixadá keeps its own decision, Fortaleza moves back
    calendar_ops.add_closure(rt, date(2027, 2, 10), "Cinzas", uf="CE", actor="adm")
    assert before(quixada) == date(2027, 2, 5)  # 11, (10 closed), 9, (8 closed), 5
    assert before(fortaleza) == date(2027, 2, 4)
