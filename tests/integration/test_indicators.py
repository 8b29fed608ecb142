"""The indicators a coordinator checks, per programme, UF, hub and case, on a small portfolio
built through the real operations, with figures counted by hand.

The portfolio (SQLite; the programme figures of a smaller one run on PostgreSQL too):

- case A (Quixadá, CE; hub Quixadá): 40 participants + Q; in acompanhamento. Its ECC (44 days,
  33 needed) serves A and B: 30 of A's 40 attended 33 days, 10 attended 32 (just short); Q is
  enrolled without certification and attended all 44. Three enterprises: a cooperative of 22
  (CNPJ), an association of 12 and a group of 6 (no CNPJ, a reason), visited: the cooperative
  active at R$ 2,300.50 (after R$ 1,500.00), the association active then inactive at R$ 0.00
  (and a later visit that recorded no status), the group active at R$ 640.25.
- case B (Quixadá, CE; hub Quixadá): 40 participants + P, who is also A's; at the same ECC 30 of
  them attended 40 days, 10 attended 5; no enterprise group, so it stays in capacitacao.
- case C (Petrolina, PE; hub Petrolina): 7 participants, in mobilizacao; a held Oficina and a
  planned ECC serve it: neither trains anyone yet.
- case D (Petrolina, PE): em_analise, no hub. Case E (Quixadá, CE): registrada.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import event
from typer.testing import CliRunner

from console.cli_indicators import indicators as indicators_command
from console.common import command_group
from states import indicators, queries
from states.clock import FixedClock
from states.errors import InvalidInput
from states.indicators import IndicatorRow
from states.lifecycle import Lifecycle
from states.states import ALL
from tasks.cases import advance
from tasks.enterprises import form_enterprise
from tasks.followup import record_visit
from tasks.people import preregister
from tasks.runtime import Runtime
from tasks.trainings import complete_event, create_event, enrol, record_attendance
from tests.builders import (
    COORDINATOR,
    QUIXADA,
    add_participants,
    drive,
    enterprises_of,
    evidence_for,
    instructors,
    legalise_all,
    new_case,
    participants_of,
    plan_all,
    today_of,
)
from tests.conftest import START, sqlite_copy

PETROLINA = 2611101  # Petrolina (PE)
MIN_ATTENDANCE = 0.75


@dataclass(frozen=True)
class Portfolio:
    a: int
    b: int
    c: int
    d: int
    e: int


def _event(rt: Runtime, kind: str, start: date, end: date, cases: list[int], hub: int) -> int:
    return create_event(
        rt,
        {
            "kind": kind,
            "title": f"{kind.upper()} de teste",
            "start_on": start.isoformat(),
            "end_on": end.isoformat(),
            "venue": "Escola Municipal",
            "municipality_code": hub,
            "instructor_ids": instructors(rt, "Maria Souza"),
            "capacity": 100,
            "case_ids": cases,
        },
        actor=COORDINATOR,
    )


def _attend(rt: Runtime, event_id: int, people: list[int], start: date, days: int) -> None:
    for person in people:
        record_attendance(
            rt,
            event_id,
            person,
            [start + timedelta(days=d) for d in range(days)],
            actor=COORDINATOR,
        )


def _visit(rt: Runtime, case_id: int, enterprise_id: int, on: date, **found: Any) -> None:
    record_visit(
        rt,
        {
            "case_id": case_id,
            "enterprise_id": enterprise_id,
            "visited_on": on.isoformat(),
            "findings": "Visita de acompanhamento.",
            **found,
        },
        actor=COORDINATOR,
    )


def _hub_in(rt: Runtime, clock: FixedClock, case_id: int, hub: int) -> None:
    """Drive the case to polo_definido and formalise the hub in ``hub``."""
    drive(rt, clock, case_id, "polo_definido")
    evidence = evidence_for("formalizar_polo", today_of(clock))
    evidence["hub_municipality_code"] = hub
    advance(rt, case_id, "formalizar_polo", evidence, actor=COORDINATOR)


def build(rt: Runtime, clock: FixedClock) -> Portfolio:
    a, b = new_case(rt), new_case(rt, community="Sítio Lagoa Seca")
    c = new_case(rt, municipality_code=PETROLINA, community="Vila Nova")
    d = new_case(rt, municipality_code=PETROLINA, community="Projeto Maria Tereza")
    e = new_case(rt, community="Distrito de Juatama")
    for case_id in (a, b):
        drive(rt, clock, case_id, "capacitacao")  # adds 40 participants each on the way
    drive(rt, clock, d, "em_analise")
    _hub_in(rt, clock, c, PETROLINA)
    c_people = add_participants(rt, c, 7)

    a_people, b_people = participants_of(rt, a), participants_of(rt, b)
    assert len(a_people) == len(b_people) == 40
    p = a_people[0]
    preregister(rt, b, p, actor=COORDINATOR)  # P takes part in A and in B
    q = add_participants(rt, a, 1, first=90_000)[0]  # Q: in A, enrolled without certification

    # The ECC: 44 days ending today, serving A and B.
    clock.advance(timedelta(days=44))
    today = today_of(clock)
    start = today - timedelta(days=43)
    ecc = _event(rt, "ecc", start, today, [a, b], QUIXADA)
    enrol(rt, ecc, a_people + b_people, actor=COORDINATOR)
    enrol(rt, ecc, [q], actor=COORDINATOR, certification=False)
    _attend(rt, ecc, a_people[:30], start, 33)
    _attend(rt, ecc, a_people[30:], start, 32)
    _attend(rt, ecc, [q], start, 44)
    _attend(rt, ecc, b_people[:30], start, 40)
    _attend(rt, ecc, b_people[30:], start, 5)
    for name, members in (
        ("Cooperativa Mel do Sertão", a_people[:22]),
        ("Associação Doce Vida", a_people[22:34]),
        ("Grupo Horta Comunitária", a_people[34:40]),
    ):
        form_enterprise(
            rt,
            {
                "case_id": a,
                "name": name,
                "activity": "apicultura",
                "formed_on": today.isoformat(),
                "formed_at_event_id": ecc,
                "member_ids": members,
            },
            actor=COORDINATOR,
        )
    # C: a held Oficina (not an ECC) and a planned ECC, both with C's people enrolled.
    oficina = _event(rt, "oficina", today - timedelta(days=1), today, [c], PETROLINA)
    enrol(rt, oficina, c_people, actor=COORDINATOR)
    _attend(rt, oficina, c_people, today - timedelta(days=1), 2)
    complete_event(rt, oficina, actor=COORDINATOR)
    planned = _event(
        rt, "ecc", today + timedelta(days=30), today + timedelta(days=70), [c], PETROLINA
    )
    enrol(rt, planned, c_people, actor=COORDINATOR)

    completion = complete_event(rt, ecc, actor=COORDINATOR)
    assert {o.case_id: o.result for o in completion.outcomes} == {a: "moved", b: "refused"}

    # A through gestao and legalizacao into acompanhamento.
    clock.advance(timedelta(days=2))
    plan_all(rt, a, today_of(clock))
    advance(rt, a, "concluir_gestao", {}, actor=COORDINATOR)
    clock.advance(timedelta(days=2))
    legalise_all(rt, a, today_of(clock))
    advance(rt, a, "concluir_legalizacao", {}, actor=COORDINATOR)

    coop, association, group = enterprises_of(rt, a)
    first = today_of(clock)
    clock.advance(timedelta(days=130))
    _visit(rt, a, coop, first + timedelta(days=10), active=True, monthly_income="1500.00")
    _visit(rt, a, coop, first + timedelta(days=100), active=True, monthly_income="2300.50")
    _visit(rt, a, association, first + timedelta(days=10), active=True, monthly_income="800.00")
    _visit(rt, a, association, first + timedelta(days=100), active=False, monthly_income="0.00")
    _visit(rt, a, association, first + timedelta(days=120), monthly_income="999.99")
    _visit(rt, a, group, first + timedelta(days=90), active=True, monthly_income="640.25")
    return Portfolio(a, b, c, d, e)


@pytest.fixture(scope="module")
def portfolio_file(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, lifecycle: Lifecycle
) -> tuple[Path, Portfolio]:
    """The portfolio, built once for the module in a database file each test copies."""
    folder = tmp_path_factory.mktemp("portfolio")
    db = sqlite_copy(sqlite_template, folder)
    clock = FixedClock(START)
    built = build(Runtime(db, lifecycle, clock), clock)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return folder / "produzir.db", built


@pytest.fixture
def portfolio(
    portfolio_file: tuple[Path, Portfolio], tmp_path: Path, lifecycle: Lifecycle
) -> Iterator[tuple[Runtime, Portfolio]]:
    path, built = portfolio_file
    db = sqlite_copy(path, tmp_path / "db")
    yield Runtime(db, lifecycle, FixedClock(START)), built
    db.dispose()


def rows(rt: Runtime, by: str, uf: str | None = None) -> list[IndicatorRow]:
    with rt.db.read() as session:
        return indicators.indicators(session, by, min_attendance=MIN_ATTENDANCE, uf=uf)


def states(**counts: int) -> dict[str, int]:
    """Every state at 0 but those given."""
    return {s.value: counts.get(s.value, 0) for s in ALL}


def figures(row: IndicatorRow) -> tuple[Any, ...]:
    return (
        row.cases,
        row.people_preregistered,
        row.people_trained,
        row.people_certified,
        row.enterprises_formed,
        row.enterprises_legalised,
        row.enterprises_active,
        row.enterprises_inactive,
        row.members,
        row.monthly_income,
    )


NOTHING = (0, 0, 0, 0, 0, 0, 0, Decimal("0.00"))  # from people_trained on


def test_programme(portfolio: tuple[Runtime, Portfolio]) -> None:
    rt, _ = portfolio
    (row,) = rows(rt, "programme")
    assert row.group == {}
    assert row.by_state == states(
        registrada=1, em_analise=1, mobilizacao=1, capacitacao=1, acompanhamento=1
    )
    # 41 in A, 41 in B of whom P is also A's, 7 in C: 88 people.
    assert figures(row) == (5, 88, 81, 60, 3, 1, 2, 1, 40, Decimal("2940.75"))
    assert row.as_dict()["monthly_income"] == "2940.75"


def test_the_certified_are_the_people_the_ecc_guard_counted(
    portfolio: tuple[Runtime, Portfolio],
) -> None:
    rt, p = portfolio
    with rt.db.read() as session:
        (moved,) = [
            e for e in queries.history(session, p.a) if e["event"] == "concluir_capacitacao"
        ]
        (row,) = [
            r
            for r in indicators.by_case(session, min_attendance=MIN_ATTENDANCE)
            if r.group.get("case_id") == p.a
        ]
    attendance = moved["evidence"]["records_checked"]["ecc"]["certification_attendance"]
    # the shared ECC judges each case on its own people: A's 40 (not B's; Q is not certifying)
    assert len(attendance) == 40
    assert sum(1 for days in attendance if days >= 33) == row.people_certified


def test_per_uf(portfolio: tuple[Runtime, Portfolio]) -> None:
    rt, _ = portfolio
    ce, pe = rows(rt, "uf")
    assert (ce.group, pe.group) == ({"uf": "CE"}, {"uf": "PE"})
    assert ce.by_state == states(registrada=1, capacitacao=1, acompanhamento=1)
    assert figures(ce) == (3, 81, 81, 60, 3, 1, 2, 1, 40, Decimal("2940.75"))
    assert pe.by_state == states(em_analise=1, mobilizacao=1)
    assert figures(pe) == (2, 7, *NOTHING)


def test_per_hub(portfolio: tuple[Runtime, Portfolio]) -> None:
    rt, _ = portfolio
    quixada, petrolina, none = rows(rt, "hub")
    assert quixada.group == {"hub_municipality_code": QUIXADA, "hub": "Quixadá", "hub_uf": "CE"}
    assert quixada.by_state == states(capacitacao=1, acompanhamento=1)
    assert figures(quixada) == (2, 81, 81, 60, 3, 1, 2, 1, 40, Decimal("2940.75"))
    assert petrolina.group == {
        "hub_municipality_code": PETROLINA,
        "hub": "Petrolina",
        "hub_uf": "PE",
    }
    assert figures(petrolina) == (1, 7, *NOTHING)
    assert none.group == {"hub_municipality_code": None, "hub": None, "hub_uf": None}
    assert none.by_state == states(registrada=1, em_analise=1)
    assert figures(none) == (2, 0, *NOTHING)


def test_per_case(portfolio: tuple[Runtime, Portfolio]) -> None:
    rt, p = portfolio
    found = {row.group["case_id"]: row for row in rows(rt, "case")}
    assert list(found) == sorted([p.a, p.b, p.c, p.d, p.e])
    a, b = found[p.a], found[p.b]
    assert (a.group["state"], a.group["uf"], a.group["municipality"]) == (
        "acompanhamento",
        "CE",
        "Quixadá",
    )
    assert a.group["hub_municipality_code"] == QUIXADA
    assert a.by_state == states(acompanhamento=1)
    # Q is trained (enrolled in the held ECC) but not certified (enrolled without certification)
    assert figures(a) == (1, 41, 41, 30, 3, 1, 2, 1, 40, Decimal("2940.75"))
    # P counts in B as well: pre-registered there, at an ECC serving B, 33+ days attended
    assert figures(b) == (1, 41, 41, 31, 0, 0, 0, 0, 0, Decimal("0.00"))
    assert figures(found[p.c]) == (1, 7, *NOTHING)
    assert found[p.c].group["hub_municipality_code"] == PETROLINA
    for case_id in (p.d, p.e):
        assert figures(found[case_id]) == (1, 0, *NOTHING)


def test_one_uf_only(portfolio: tuple[Runtime, Portfolio]) -> None:
    rt, p = portfolio
    (pe,) = rows(rt, "programme", uf="pe")
    assert figures(pe) == (2, 7, *NOTHING)
    assert [r.group["case_id"] for r in rows(rt, "case", uf="PE")] == [p.c, p.d]
    assert [r.group["hub"] for r in rows(rt, "hub", uf="PE")] == ["Petrolina", None]


def test_a_stricter_attendance_certifies_fewer(portfolio: tuple[Runtime, Portfolio]) -> None:
    rt, _ = portfolio
    # 0.8 x 44 days = 35.2: 36 days needed; only B's 30 (40 days) reach it.
    with rt.db.read() as session:
        row = indicators.programme(session, min_attendance=0.8)
    assert row.people_certified == 30


def test_an_empty_programme_is_one_row_of_zeros(rt: Runtime) -> None:
    (row,) = rows(rt, "programme")
    assert figures(row) == (0, 0, *NOTHING)
    assert row.by_state == states()
    assert rows(rt, "uf") == rows(rt, "hub") == rows(rt, "case") == []


@pytest.mark.parametrize(
    ("by", "uf", "says"),
    [
        (
            "municipio",
            None,
            "unknown grouping 'municipio'; use one of: programme, uf, module, hub, case",
        ),
        ("uf", "Ceará", "'Ceará' is not a UF"),
    ],
)
def test_bad_grouping_or_uf_is_refused(rt: Runtime, by: str, uf: str | None, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        rows(rt, by, uf)


def test_the_query_count_does_not_grow_with_the_cases(
    portfolio: tuple[Runtime, Portfolio],
) -> None:
    rt, _ = portfolio
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def queries_for(by: str) -> int:
        statements.clear()
        event.listen(rt.db.engine, "before_cursor_execute", count)
        try:
            rows(rt, by)
        finally:
            event.remove(rt.db.engine, "before_cursor_execute", count)
        return len(statements)

    before = {by: queries_for(by) for by in indicators.LEVELS}
    for i in range(6):
        case_id = new_case(rt, community=f"Comunidade {i}")
        add_participants(rt, case_id, 2, first=80_000 + 10 * i)
    after = {by: queries_for(by) for by in indicators.LEVELS}
    assert before == after
    assert max(after.values()) <= 10


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli(
    portfolio: tuple[Runtime, Portfolio], monkeypatch: pytest.MonkeyPatch
) -> tuple[CliRunner, typer.Typer]:
    """`produzir indicators` on the portfolio (registered here as console/cli.py will)."""
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", portfolio[0].db.url)
    app = command_group("test")
    app.command("indicators")(indicators_command)
    app.command("noop", hidden=True)(lambda: None)  # keeps `indicators` a sub-command
    return CliRunner(), app


def run(cli: tuple[CliRunner, typer.Typer], *args: str, code: int = 0) -> str:
    runner, app = cli
    result = runner.invoke(app, ["indicators", *args])
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    return result.stdout if code == 0 else result.stderr


def test_cli_json_per_uf(cli: tuple[CliRunner, typer.Typer]) -> None:
    out = json.loads(run(cli, "--by", "uf", "--json"))
    assert (out["by"], out["uf"]) == ("uf", None)
    ce, pe = out["rows"]
    assert ce["uf"] == "CE"
    assert ce["people_certified"] == 60
    assert ce["monthly_income"] == "2940.75"
    assert ce["by_state"]["acompanhamento"] == 1
    assert (pe["uf"], pe["cases"], pe["people_preregistered"]) == ("PE", 2, 7)


def test_cli_table_of_the_programme(cli: tuple[CliRunner, typer.Typer]) -> None:
    out = run(cli)
    header, _rule, line, states_line = out.strip().splitlines()
    assert "certified" in header
    assert line.split() == ["PRODUZIR", "5", "88", "81", "60", "3", "1", "2", "1", "40", "2940.75"]
    assert states_line == (
        "demands by state: registrada 1, em_analise 1, mobilizacao 1, capacitacao 1, "
        "acompanhamento 1"
    )


def test_cli_hub_of_one_uf(cli: tuple[CliRunner, typer.Typer]) -> None:
    out = run(cli, "--by", "hub", "--uf", "CE")
    assert "Quixadá (CE)" in out
    assert "(no hub yet)" in out
    assert "Petrolina" not in out


@pytest.mark.parametrize(
    ("args", "says"),
    [(["--by", "municipio"], "unknown grouping 'municipio'"), (["--uf", "Ceará"], "not a UF")],
)
def test_cli_bad_options_exit_2(
    cli: tuple[CliRunner, typer.Typer], args: list[str], says: str
) -> None:
    err = run(cli, *args, code=2)
    assert err.startswith("error: ")
    assert says in err


def _timeliness_now(rt: Runtime, by: str, since: date) -> dict[str, Any]:
    """What `indicators --timeliness` should print: states.indicators on today's date (the
    command runs with the system clock)."""
    today = Runtime(rt.db, rt.lifecycle).today()
    start = indicators.period_start(since)
    with rt.db.read() as session:
        times = indicators.cycle_times(session, since=start)
        results = indicators.deadline_results(session, by, today=today, since=start)
    return {
        "by": by,
        "uf": None,
        "since": since.isoformat(),
        "cycle_times": [t.as_dict() for t in times.values()],
        "deadlines": [r.as_dict() for r in results],
    }


def test_cli_timeliness_json_is_the_audit_trail_figures(
    portfolio: tuple[Runtime, Portfolio], cli: tuple[CliRunner, typer.Typer]
) -> None:
    rt = portfolio[0]
    out = json.loads(run(cli, "--timeliness", "--by", "uf", "--since", "2026-01-01", "--json"))
    assert out == _timeliness_now(rt, "uf", date(2026, 1, 1))
    stays = {t["state"]: t["stays"] for t in out["cycle_times"]}
    assert stays["registrada"] == 4  # every case but the one still registered left it
    in_order = [s.value for s in ALL]
    listed = [t["state"] for t in out["cycle_times"]]
    assert listed == sorted(listed, key=in_order.index)  # in the lifecycle's order
    assert [d["key"] for d in out["deadlines"]] == ["CE", "PE"]
    for d in out["deadlines"]:
        assert d["total"] == d["met"] + d["missed"] + d["overdue_now"]

    [whole] = json.loads(run(cli, "--timeliness", "--since", "2026-01-01", "--json"))["deadlines"]
    assert whole["key"] is None
    assert whole["met"] == sum(d["met"] for d in out["deadlines"])
    assert whole["missed"] == sum(d["missed"] for d in out["deadlines"])

    later = json.loads(run(cli, "--timeliness", "--since", "2099-01-01", "--json"))
    assert later["cycle_times"] == []  # no stay ended since then
    assert later["deadlines"][0]["met"] == later["deadlines"][0]["missed"] == 0


def test_cli_timeliness_tables(
    portfolio: tuple[Runtime, Portfolio], cli: tuple[CliRunner, typer.Typer]
) -> None:
    expected = _timeliness_now(portfolio[0], "coordinator", date(2026, 1, 1))
    out = run(cli, "--timeliness", "--by", "coordinator", "--since", "2026-01-01")
    lines = out.strip().splitlines()
    assert lines[0] == "time per stage: the median days of the stays ended since Jan 1, 2026"
    assert lines[1].split() == ["state", "median", "days", "stays"]
    registrada = next(t for t in expected["cycle_times"] if t["state"] == "registrada")
    assert lines[3].split() == ["registrada", f"{registrada['median_days']:.1f}", "4"]
    at = lines.index("deadlines: met or missed by the stays ended since Jan 1, 2026, overdue now")
    assert lines[at + 1].split() == ["coordinator", "met", "missed", "overdue", "now", "total"]
    rows = [line.split() for line in lines[at + 3 :]]
    assert rows == [
        [
            d["key"] or "no",
            *(["coordinator"] if d["key"] is None else []),
            str(d["met"]),
            str(d["missed"]),
            str(d["overdue_now"]),
            str(d["total"]),
        ]
        for d in expected["deadlines"]
    ]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--by", "hub"], "unknown grouping 'hub'; use one of: programme, uf, coordinator"),
        (["--since", "ontem"], "since: 'ontem' is not a date"),
        (["--uf", "Ceará"], "not a UF"),
    ],
)
def test_cli_timeliness_bad_options_exit_2(
    cli: tuple[CliRunner, typer.Typer], args: list[str], says: str
) -> None:
    err = run(cli, "--timeliness", *args, code=2)
    assert says in err


# --- PostgreSQL too -----------------------------------------------------------------------


def test_programme_figures_on_both_databases(any_rt: Runtime, clock: FixedClock) -> None:
    """One case through acompanhamento with the builders' ECC (40 people, 33 of 44 days each;
    a cooperative of 22 with a CNPJ and an association of 12), one case registered in PE."""
    case_id = new_case(any_rt)
    new_case(any_rt, municipality_code=PETROLINA)
    drive(any_rt, clock, case_id, "acompanhamento")
    coop, association = enterprises_of(any_rt, case_id)
    visited = today_of(clock)
    clock.advance(timedelta(days=30))
    _visit(
        any_rt, case_id, coop, visited + timedelta(days=5), active=True, monthly_income="1850.25"
    )
    _visit(any_rt, case_id, association, visited + timedelta(days=5), active=False)

    with any_rt.db.read() as session:
        row = indicators.programme(session, min_attendance=MIN_ATTENDANCE)
        ce, pe = indicators.by_uf(session, min_attendance=MIN_ATTENDANCE)
        (hub, none) = indicators.by_hub(session, min_attendance=MIN_ATTENDANCE)

    assert row.by_state == states(registrada=1, acompanhamento=1)
    assert figures(row) == (2, 40, 40, 40, 2, 1, 1, 1, 34, Decimal("1850.25"))
    assert (ce.group["uf"], ce.cases, ce.people_certified, pe.group["uf"], pe.cases) == (
        "CE",
        1,
        40,
        "PE",
        1,
    )
    assert (hub.group["hub"], hub.enterprises_active, none.group["hub"], none.cases) == (
        "Quixadá",
        1,
        None,
        1,
    )
