"""The calendar as an administrator keeps it (`produzir calendar ...`) and as deadlines use it.

March 2026 in Ceará: 22 weekdays, less São José (Thursday 03-19) and the abolition in Ceará
(Wednesday 03-25) = 20 working days; a municipal holiday on Monday 03-23 makes Quixadá's 19.
The clock is injected (Monday 2026-03-02, 10:00 in Fortaleza).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli_calendar import app
from states.calendar import calendar_for
from states.clock import FixedClock
from states.directory import MunicipalHoliday
from states.errors import InvalidInput
from states.models import AuditEvent
from tasks import calendar_ops, cases
from tasks.runtime import Runtime
from tests.builders import cli_users, evidence_for, new_case, today_of, with_typology
from tests.integration.helpers import case_row, verify

QUIXADA = 2311306
FORTALEZA = 2304400
RECIFE = 2611606
HOLIDAY = date(2026, 3, 23)
HOLIDAY_NAME = "Feriado municipal de Quixadá"


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose `produzir calendar` talks to the test's database."""
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), result.stderr
        return result.stderr
    return result.stdout


def add(cli: CliRunner, *, municipality: int = QUIXADA, day: date = HOLIDAY, code: int = 0) -> str:
    return run(
        cli,
        "add-holiday",
        "--municipality",
        str(municipality),
        "--date",
        day.isoformat(),
        "--name",
        HOLIDAY_NAME,
        "--by",
        "admin",
        code=code,
    )


def show(cli: CliRunner, *extra: str) -> dict[str, Any]:
    return json.loads(run(cli, "show", "--uf", "CE", "--year", "2026", *extra, "--json"))


def holiday_events(rt: Runtime) -> list[dict[str, Any]]:
    columns = (AuditEvent.event, AuditEvent.actor, AuditEvent.record_id, AuditEvent.case_id)
    with rt.db.read() as session:
        rows = session.execute(
            select(*columns, AuditEvent.entry)
            .where(AuditEvent.record_type == "holiday")
            .order_by(AuditEvent.seq)
        ).all()
        return [{**r._asdict(), "evidence": json.loads(r.entry)["evidence"]} for r in rows]


def march(listing: dict[str, Any]) -> int:
    return next(m["working_days"] for m in listing["months"] if m["month"] == "2026-03")


# --- the command line --------------------------------------------------------------------------


def test_add_holiday_then_show_lists_it_and_counts_it(cli: CliRunner, rt: Runtime) -> None:
    before = show(cli, "--municipality", str(QUIXADA))
    assert march(before) == 20

    out = add(cli)
    assert f"holiday Mar 23, 2026 ({HOLIDAY_NAME}) added to municipality {QUIXADA}" in out

    listing = show(cli, "--municipality", str(QUIXADA))
    assert listing["municipality"] == {"code": QUIXADA, "name": "Quixadá", "uf": "CE"}
    days = {(h["date"], h["scope"]): h for h in listing["holidays"]}
    assert days[(HOLIDAY.isoformat(), "municipal")] == {
        "date": "2026-03-23",
        "weekday": "Mon",
        "scope": "municipal",
        "name": HOLIDAY_NAME,
    }
    assert days[("2026-03-19", "state")]["name"] == "São José"
    assert days[("2026-04-21", "national")]["name"] == "Tiradentes"
    assert march(listing) == 19
    assert listing["working_days"] == before["working_days"] - 1
    dates = [h["date"] for h in listing["holidays"]]
    assert dates == sorted(dates)

    # the state's own listing does not show Quixadá's holiday
    state = show(cli)
    assert state["municipality"] is None
    assert "municipal" not in {h["scope"] for h in state["holidays"]}
    assert march(state) == 20

    table = run(cli, "show", "--uf", "CE", "--year", "2026", "--municipality", str(QUIXADA))
    assert "calendar of Quixadá (2311306), CE, 2026" in table
    line = next(row for row in table.splitlines() if row.startswith("2026-03-23"))
    assert "municipal" in line
    assert HOLIDAY_NAME in line


def test_adding_a_holiday_is_audited_without_breaking_the_chain(
    cli: CliRunner, rt: Runtime
) -> None:
    add(cli)
    run(
        cli,
        "remove-holiday",
        "--municipality",
        str(QUIXADA),
        "--date",
        HOLIDAY.isoformat(),
        "--by",
        "admin",
    )
    events = holiday_events(rt)
    assert [(e["event"], e["actor"], e["record_id"], e["case_id"]) for e in events] == [
        ("holiday_added", "admin", QUIXADA, None),
        ("holiday_removed", "admin", QUIXADA, None),
    ]
    assert events[0]["evidence"] == {
        "municipality_code": QUIXADA,
        "day": HOLIDAY.isoformat(),
        "name": HOLIDAY_NAME,
    }
    assert verify(rt.db).ok
    assert march(show(cli, "--municipality", str(QUIXADA))) == 20


def test_a_duplicate_holiday_is_refused_and_nothing_is_written(cli: CliRunner, rt: Runtime) -> None:
    add(cli)
    error = add(cli, code=2)
    assert f"municipality {QUIXADA} already has a holiday on Mar 23, 2026 ({HOLIDAY_NAME})" in error
    assert len(holiday_events(rt)) == 1
    with rt.db.read() as session:
        assert session.execute(select(func.count()).select_from(MunicipalHoliday)).scalar() == 1


def test_an_unknown_municipality_is_refused(cli: CliRunner, rt: Runtime) -> None:
    error = add(cli, municipality=2399999, code=2)
    assert "municipality 2399999 is not in IBGE's list of municipalities" in error
    assert "is not an IBGE municipality code" in add(cli, municipality=123, code=2)
    assert holiday_events(rt) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add-holiday", "--municipality", str(QUIXADA), "--date", "2026-02-30", "--name", "X"),
         "date: '2026-02-30' is not a date (YYYY-MM-DD)"),
        (("add-holiday", "--municipality", str(QUIXADA), "--date", "2026-03-23", "--name", " "),
         "holiday: name: String should have at least 1 character"),
        (("show", "--uf", "XX", "--year", "2026"), "uf: unknown UF 'XX'"),
        (("show", "--uf", "CE", "--year", "1500"), "year: 1500 is not between"),
        (("show", "--uf", "CE", "--year", "2026", "--municipality", str(RECIFE)),
         f"municipality {RECIFE} (Recife) is in PE, not in CE"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_in_one_line(
    cli: CliRunner, rt: Runtime, args: tuple[str, ...], message: str
) -> None:
    by = ("--by", "admin") if args[0] == "add-holiday" else ()
    assert message in run(cli, *args, *by, code=2)


def test_removing_a_holiday_that_does_not_exist_is_not_found(cli: CliRunner) -> None:
    error = run(
        cli, "remove-holiday", "--municipality", str(QUIXADA), "--date", "2026-03-23",
        "--by", "admin", code=3,
    )  # fmt: skip
    assert f"holiday on 2026-03-23 in municipality {QUIXADA} does not exist" in error


def test_pernambuco_lists_its_own_state_holiday(cli: CliRunner) -> None:
    listing = json.loads(run(cli, "show", "--uf", "pe", "--year", "2026", "--json"))
    state = {h["date"]: h["name"] for h in listing["holidays"] if h["scope"] == "state"}
    assert state == {"2026-03-06": "Revolução Pernambucana de 1817"}


# --- the operations, on both backends ----------------------------------------------------------


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def go(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = calls[index]()
        except Exception as exc:  # the test looks at what each one got
            results[index] = exc

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_administrators_adding_the_same_holiday_at_once_add_it_once(any_rt: Runtime) -> None:
    results = race(
        [
            lambda who=who: calendar_ops.add_holiday(
                any_rt, QUIXADA, HOLIDAY, HOLIDAY_NAME, actor=who
            )
            for who in ("admin", "bia")
        ]
    )
    added = [r for r in results if isinstance(r, calendar_ops.HolidayChange)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert (len(added), len(refused)) == (1, 1), results
    assert "already has a holiday on 2026-03-23" in str(refused[0])
    assert len(holiday_events(any_rt)) == 1
    assert verify(any_rt.db).ok
    with any_rt.db.read() as session:
        assert calendar_for(session, QUIXADA).holiday(HOLIDAY) == HOLIDAY_NAME


def test_calendar_for_reads_the_state_and_the_municipal_holidays(any_rt: Runtime) -> None:
    calendar_ops.add_holiday(any_rt, QUIXADA, HOLIDAY, HOLIDAY_NAME, actor="admin")
    with any_rt.db.read() as session:
        quixada, fortaleza, recife = (
            calendar_for(session, code) for code in (QUIXADA, FORTALEZA, RECIFE)
        )
    assert quixada.holiday(HOLIDAY) == HOLIDAY_NAME
    assert fortaleza.is_working_day(HOLIDAY)  # another municipality of the same state
    assert quixada.holiday(date(2026, 3, 19)) == fortaleza.holiday(date(2026, 3, 19)) == "São José"
    assert recife.is_working_day(date(2026, 3, 19))


def test_adding_a_holiday_says_how_many_open_cases_are_due_that_day(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    cli_users(rt, "bia")  # a coordinator of the case's UF
    cases.advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    due = case_row(rt.db, case_id).due_on
    assert due is not None
    change = calendar_ops.add_holiday(rt, QUIXADA, due, HOLIDAY_NAME, actor="admin")
    assert change.cases_due_that_day == 1
    assert case_row(rt.db, case_id).due_on == due  # a deadline already set does not move
    other = calendar_ops.add_holiday(rt, QUIXADA, due + timedelta(days=1), "Outro", actor="admin")
    assert other.cases_due_that_day == 0
    # closing the UF's offices that day says so too, and moves nothing either
    closed = calendar_ops.add_closure(rt, due, "Ponto facultativo", uf="CE", actor="admin")
    assert closed.cases_due_that_day == 1
    assert case_row(rt.db, case_id).due_on == due


# --- deadlines on the municipality's calendar, end to end --------------------------------------


def test_entering_a_state_skips_the_municipal_holiday(rt: Runtime, clock: FixedClock) -> None:
    today = today_of(clock)  # Monday 03-02: 30 days later is Wednesday 04-01
    nominal = today + timedelta(days=30)
    calendar_ops.add_holiday(rt, QUIXADA, nominal, HOLIDAY_NAME, actor="admin")
    quixada, fortaleza = new_case(rt), new_case(rt, municipality_code=FORTALEZA)

    for case_id in (quixada, fortaleza):
        moved = cases.advance(rt, case_id, "iniciar_analise", {}, actor="ana")
        assert moved.to_state == "em_analise"

    assert case_row(rt.db, fortaleza).due_on == nominal
    assert case_row(rt.db, quixada).due_on == nominal + timedelta(days=1)  # Thursday 04-02


def test_a_deadline_on_carnival_tuesday_2027_moves_to_the_next_working_day(
    rt: Runtime, clock: FixedClock
) -> None:
    # em_analise's 30 continuous days from Sunday 2027-01-10 end on Carnival Tuesday
    # 2027-02-09, a ponto facultativo the offices close on: the deadline is Wednesday 02-10
    clock.advance(timedelta(days=(date(2027, 1, 10) - today_of(clock)).days))
    assert today_of(clock) + timedelta(days=30) == date(2027, 2, 9)
    fortaleza, quixada = new_case(rt, municipality_code=FORTALEZA), new_case(rt)
    # Quixadá's office opens that day
    calendar_ops.remove_closure(rt, date(2027, 2, 9), municipality=QUIXADA, actor="admin")
    for case_id in (fortaleza, quixada):
        cases.advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    assert case_row(rt.db, fortaleza).due_on == date(2027, 2, 10)
    assert case_row(rt.db, quixada).due_on == date(2027, 2, 9)


def test_reassignment_keeps_the_deadline_and_a_new_state_resets_it(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    cli_users(rt, "bia")  # a coordinator of the case's UF
    cases.advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    due = case_row(rt.db, case_id).due_on
    clock.advance(timedelta(days=3))
    assigned = cases.assign(rt, case_id, "bia", actor="ana")
    assert assigned.due_on == case_row(rt.db, case_id).due_on == due

    clock.advance(timedelta(days=1))  # Friday 03-06: 30 days later is Sunday 04-05
    today = today_of(clock)
    with_typology(rt, case_id)
    evidence = evidence_for("aprovar_elegibilidade", today)
    moved = cases.advance(rt, case_id, "aprovar_elegibilidade", evidence, actor="bia")
    assert moved.to_state == "polo_definido"
    case = case_row(rt.db, case_id)
    assert case.entered_on == today
    assert case.due_on == moved.due_on == date(2026, 4, 6)


def test_a_suspension_moves_the_deadline_by_the_pause_then_rolls_forward(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    cli_users(rt, "bia")  # a coordinator of the case's UF
    cases.advance(rt, case_id, "iniciar_analise", {}, actor="ana")
    due = case_row(rt.db, case_id).due_on
    assert due == date(2026, 4, 1)
    cases.suspend(
        rt, case_id, reason="Aguardando documentos da associação.",
        expected_resume_on=date(2026, 3, 20), actor="ana",
    )  # fmt: skip
    clock.advance(timedelta(days=10))
    resumed = cases.resume(rt, case_id, actor="ana")
    # 04-01 + 10 days = Saturday 04-11 -> Monday 04-13
    assert resumed.due_on == case_row(rt.db, case_id).due_on == date(2026, 4, 13)


def test_a_demand_registered_in_a_municipality_with_a_holiday_skips_it(
    rt: Runtime, clock: FixedClock
) -> None:
    # registrada: 5 continuous days from Monday 03-02 end on Saturday 03-07, so Monday 03-09;
    # Quixadá's holiday then
    calendar_ops.add_holiday(rt, QUIXADA, date(2026, 3, 9), HOLIDAY_NAME, actor="admin")
    quixada, fortaleza = new_case(rt), new_case(rt, municipality_code=FORTALEZA)
    assert case_row(rt.db, fortaleza).due_on == date(2026, 3, 9)
    assert case_row(rt.db, quixada).due_on == date(2026, 3, 10)


# ------------------------------------------------------------------ office closures (2027)


def closure(cli: CliRunner, command: str, *args: str, code: int = 0) -> str:
    return run(cli, command, *args, "--by", "admin", code=code)


def works(rt: Runtime, municipality: int, day: date) -> bool:
    with rt.db.read() as session:
        return calendar_for(session, municipality).is_working_day(day)


def test_pontos_facultativos_close_the_offices_and_an_administrator_adjusts_them(
    cli: CliRunner, rt: Runtime
) -> None:
    carnival_tuesday, ash_wednesday = date(2027, 2, 9), date(2027, 2, 10)
    servants_day = date(2027, 10, 28)  # a Thursday: a ponto facultativo not closing by default
    listing = json.loads(run(cli, "show", "--uf", "CE", "--year", "2027", "--json"))
    closures = {h["date"]: h["name"] for h in listing["holidays"] if h["scope"] == "closure"}
    assert closures == {
        "2027-02-08": "Carnaval",
        "2027-02-09": "Carnaval",
        "2027-05-27": "Corpus Christi",
    }
    assert not works(rt, QUIXADA, carnival_tuesday)
    assert works(rt, QUIXADA, ash_wednesday)

    # Ceará closes its offices on the Public Servant's Day; Pernambuco does not
    out = closure(cli, "add-closure", "--uf", "CE", "--date", str(servants_day), "--name", "Dia do Servidor Público")  # fmt: skip
    assert out.startswith("the offices of CE close on")
    assert "Dia do Servidor Público" in out
    assert not works(rt, QUIXADA, servants_day)
    assert not works(rt, FORTALEZA, servants_day)
    assert works(rt, RECIFE, servants_day)
    closure(cli, "add-closure", "--uf", "CE", "--date", str(servants_day), "--name", "x", code=2)

    # Quixadá's office opens on Carnival Tuesday; Fortaleza's stays closed
    closure(cli, "remove-closure", "--municipality", str(QUIXADA), "--date", str(carnival_tuesday))
    assert works(rt, QUIXADA, carnival_tuesday)
    assert not works(rt, FORTALEZA, carnival_tuesday)
    shown = json.loads(
        run(cli, "show", "--uf", "CE", "--year", "2027", "--municipality", str(QUIXADA), "--json")
    )
    assert "2027-02-09" not in {h["date"] for h in shown["holidays"]}
    # and closes again when the administrator says so
    closure(cli, "add-closure", "--municipality", str(QUIXADA), "--date", str(carnival_tuesday), "--name", "Carnaval")  # fmt: skip
    assert not works(rt, QUIXADA, carnival_tuesday)

    # removing the UF's own closure gives the day back; nothing to remove on a working day
    closure(cli, "remove-closure", "--uf", "CE", "--date", str(servants_day))
    assert works(rt, QUIXADA, servants_day)
    closure(cli, "remove-closure", "--uf", "CE", "--date", str(ash_wednesday), code=3)
    closure(cli, "remove-closure", "--uf", "CE", "--municipality", str(QUIXADA), "--date", str(ash_wednesday), code=2)  # fmt: skip

    with rt.db.read() as session:
        events = [
            (e.event, e.record_type, e.record_id, e.evidence["scope"])
            for e in session.execute(
                select(AuditEvent)
                .where(AuditEvent.record_type == "closure")
                .order_by(AuditEvent.seq)
            ).scalars()
        ]
    assert events == [
        ("office_closed", "closure", 23, "uf:CE"),
        ("office_reopened", "closure", QUIXADA, f"municipality:{QUIXADA}"),
        ("office_closed", "closure", QUIXADA, f"municipality:{QUIXADA}"),
        ("office_reopened", "closure", 23, "uf:CE"),
    ]
    assert verify(rt.db).ok


def test_a_case_deadline_on_carnival_tuesday_2027_moves_to_ash_wednesday(rt: Runtime) -> None:
    with rt.db.read() as session:
        calendar = calendar_for(session, QUIXADA)
    assert calendar.roll_forward(date(2027, 2, 9)) == date(2027, 2, 10)
    assert calendar.roll_forward(date(2027, 2, 6)) == date(2027, 2, 10)  # Saturday to Wednesday
