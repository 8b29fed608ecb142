"""The participants' surveys and the outcome indicators, as a coordinator records and reads them.

A case driven through its ECC (44 session days ending on ``ecc_end``, 40 participants, two
enterprise groups of 22 and 12) by the real operations; surveys recorded at entry (the ECC's
first day) and 6 months after its end; the outcomes counted by hand.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app
from states import outcomes
from states.calendar import calendar_for
from states.clock import FixedClock
from states.deadlines import add_months
from states.errors import InvalidInput, NotFound
from states.records import DataAccess, Survey
from tasks import obligations
from tasks.followup import record_visit
from tasks.people import ImportRejected, data_subject_report, register_person
from tasks.runtime import Runtime
from tasks.surveys import ecc_end_of, import_surveys, list_surveys, record_survey
from tasks.users import add_user
from tests.builders import (
    COORDINATOR,
    QUIXADA,
    cli_users,
    cpf_for,
    drive,
    enterprises_of,
    new_case,
    participants_of,
    today_of,
)
from tests.integration.helpers import verify


def answers(wave: str, on: date, **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "wave": wave,
        "answered_on": on.isoformat(),
        "work_status": "unemployed",
        "income_band": "none",
        "sex": "female",
        "birth_year": 1990,
        "household_size": 4,
    }
    values.update(overrides)
    return values


def surveys(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.execute(select(func.count()).select_from(Survey)).scalar_one())


@pytest.fixture
def trained(rt: Runtime, clock: FixedClock) -> tuple[int, date, list[int]]:
    """A case whose ECC was held (it is in gestao): (case, the ECC's last day, participants)."""
    case_id = new_case(rt)
    drive(rt, clock, case_id, "gestao")
    with rt.db.read() as session:
        end = ecc_end_of(session, case_id)
    assert end is not None
    return case_id, end, participants_of(rt, case_id)


def record_entry_and_month_6(
    rt: Runtime, clock: FixedClock, case_id: int, end: date, rows: list[dict[str, Any]]
) -> date:
    """For each (person, entry answers, month-6 answers) of ``rows``: both surveys; the clock
    moved to 6 months after the ECC. The month-6 day."""
    start = end - timedelta(days=43)
    for row in rows:
        record_survey(
            rt, case_id, row["person"], answers("entry", start, **row["entry"]), actor=COORDINATOR
        )
    day = add_months(end, 6)
    clock.advance(timedelta(days=(day - today_of(clock)).days + 1))
    for row in rows:
        record_survey(
            rt, case_id, row["person"], answers("month_6", day, **row["later"]), actor=COORDINATOR
        )
    return day


def test_outcomes_from_entry_and_6_months(rt: Runtime, clock: FixedClock, trained) -> None:
    case_id, end, people = trained
    rows = []
    for i, person in enumerate(people[:12]):  # 7 women, 5 men
        sex = "female" if i < 7 else "male"
        entry = {"sex": sex, "work_status": "informal" if i == 0 else "unemployed"}
        if i < 6:  # six now work in an enterprise, earning ½ to 1 minimum wage
            later = {"sex": sex, "work_status": "enterprise", "income_band": "half_to_1"}
        elif i == 11:  # one lost income
            entry["income_band"] = "up_to_half"
            later = {"sex": sex}
        else:
            later = {"sex": sex}
        rows.append({"person": person, "entry": entry, "later": later})
    record_entry_and_month_6(rt, clock, case_id, end, rows)
    with rt.db.read() as session:
        (programme,) = outcomes.outcomes(session, wave="month_6", today=rt.today())
        by_sex = outcomes.outcomes(session, "sex", wave="month_6", today=rt.today())
        at_12 = outcomes.outcomes(session, wave="month_12", today=rt.today())
    assert programme.as_dict() == {
        "by": "programme",
        "wave": "month_6",
        "suppressed": False,
        "people": 12,
        "occupied_at_entry": 1,  # the informal worker
        "occupied_at_wave": 6,
        "occupations_created": 5,
        "income_up": 6,
        "income_same": 5,
        "income_down": 1,
        "enterprises_12m": 0,  # formed 6 months ago: not yet 12 months old
        "enterprises_alive_12m": 0,
    }
    assert [(r.group["sex"], r.people, r.occupations_created) for r in by_sex] == [
        ("female", 7, 5),  # six occupied now, one already was
        ("male", 5, 0),
    ]
    # nobody answered the 12-month survey: a row of no one, suppressed
    assert [r.as_dict()["suppressed"] for r in at_12] == [True]
    assert at_12[0].people is None


def test_a_group_of_4_is_suppressed_and_a_group_of_5_shown(
    rt: Runtime, clock: FixedClock, trained
) -> None:
    case_id, end, people = trained
    rows = [
        {
            "person": person,
            "entry": {"sex": "female" if i < 4 else "male", "birth_year": 1950 if i < 4 else 2000},
            "later": {"sex": "female" if i < 4 else "male", "birth_year": 1950 if i < 4 else 2000},
        }
        for i, person in enumerate(people[:9])
    ]
    record_entry_and_month_6(rt, clock, case_id, end, rows)
    with rt.db.read() as session:
        by_sex = outcomes.outcomes(session, "sex", wave="month_6", today=rt.today())
        by_age = outcomes.outcomes(session, "age_band", wave="month_6", today=rt.today())
    assert [r.as_dict() for r in by_sex] == [
        {"by": "sex", "sex": "female", "wave": "month_6", "suppressed": True}
        | dict.fromkeys(outcomes.OUTCOME_FIGURES),
        {
            "by": "sex",
            "sex": "male",
            "wave": "month_6",
            "suppressed": False,
            "people": 5,
            "occupied_at_entry": 0,
            "occupied_at_wave": 0,
            "occupations_created": 0,
            "income_up": 0,
            "income_same": 5,
            "income_down": 0,
            "enterprises_12m": 0,
            "enterprises_alive_12m": 0,
        },
    ]
    # age at entry (in 2026): born 2000 -> 18 to 29 (5 people), born 1950 -> 60 or more (4)
    assert [(r.group["age_band"], r.suppressed, r.people) for r in by_age] == [
        ("18_29", False, 5),
        ("60_plus", True, None),
    ]


def test_enterprises_alive_at_12_months(rt: Runtime, clock: FixedClock, trained) -> None:
    case_id, end, people = trained
    cooperative, association = enterprises_of(rt, case_id)  # members: people[:22], [22:34]
    start = end - timedelta(days=43)
    chosen = people[:3] + people[22:25]  # three members of each
    for person in chosen:
        record_survey(rt, case_id, person, answers("entry", start), actor=COORDINATOR)
    year_on = add_months(end, 12)
    clock.advance(timedelta(days=(year_on - today_of(clock)).days + 2))
    for person in chosen:
        later = answers("month_12", year_on, work_status="enterprise", income_band="1_to_2")
        record_survey(rt, case_id, person, later, actor=COORDINATOR)
    for enterprise, active, on in (
        (cooperative, True, year_on),
        (association, True, year_on - timedelta(days=30)),  # before its 12 months: not counted
        (association, False, year_on + timedelta(days=1)),
    ):
        record_visit(
            rt,
            {
                "case_id": case_id,
                "enterprise_id": enterprise,
                "visited_on": on.isoformat(),
                "findings": "Visita de acompanhamento.",
                "active": active,
            },
            actor=COORDINATOR,
        )
    with rt.db.read() as session:
        (row,) = outcomes.outcomes(session, wave="month_12", today=rt.today())
    assert (row.people, row.occupations_created, row.income_up) == (6, 6, 6)
    assert (row.enterprises_12m, row.enterprises_alive_12m) == (2, 1)


# ------------------------------------------------------------------------- bad input


def test_each_bad_survey_is_refused_naming_the_field(
    rt: Runtime, clock: FixedClock, trained
) -> None:
    case_id, end, people = trained
    start = end - timedelta(days=43)
    clock.advance(timedelta(days=3))
    outsider = register_person(
        rt,
        {
            "cpf": cpf_for(9_999),
            "name": "Pessoa de Fora",
            "community": "Outra",
            "municipality_code": QUIXADA,
        },
        actor=COORDINATOR,
    ).person_id
    cases = [
        (outsider, answers("entry", start), "person", f"person {outsider} is not a participant"),
        (people[0], answers("wave_3", start), "wave", "wave: unknown 'wave_3'"),
        (people[0], answers("entry", start, work_status="retired"), "work_status", "unknown"),
        (people[0], answers("entry", start, income_band="rich"), "income_band", "unknown 'rich'"),
        (people[0], answers("entry", start, birth_year=2031), "birth_year", "in the future"),
        (people[0], answers("entry", start, birth_year=1850), "birth_year", "176 years old"),
        (people[0], answers("entry", start, birth_year=2020), "birth_year", "6 years old"),
        (people[0], answers("entry", start, household_size=0), "household_size", "from 1 to 30"),
        (people[0], answers("entry", end + timedelta(days=1)), "answered_on", "before the ECC"),
        (people[0], answers("month_6", end), "answered_on", "is answered from"),
        (people[0], answers("entry", start, sex=""), "sex", "sex: missing"),
    ]
    for person, raw, field, words in cases:
        with pytest.raises(InvalidInput, match=words) as refused:
            record_survey(rt, case_id, person, raw, actor=COORDINATOR)
        assert refused.value.field == field, (raw, refused.value)
    with pytest.raises(NotFound):
        record_survey(rt, case_id, 99_999, answers("entry", start), actor=COORDINATOR)
    assert surveys(rt) == 0

    first = record_survey(rt, case_id, people[0], answers("entry", start), actor=COORDINATOR)
    with pytest.raises(InvalidInput, match="already answered the entry survey") as twice:
        record_survey(rt, case_id, people[0], answers("entry", start), actor=COORDINATOR)
    assert twice.value.field == "wave"
    with pytest.raises(InvalidInput, match="no ecc_end survey"):
        record_survey(
            rt, case_id, people[0], answers("ecc_end", end), actor=COORDINATOR, correct=True
        )
    fixed = record_survey(
        rt, case_id, people[0], answers("entry", start, household_size=5), actor="bia", correct=True
    )
    assert (fixed.survey_id, fixed.corrected) == (first.survey_id, True)
    with rt.db.read() as session:
        row = session.get(Survey, first.survey_id)
        assert row is not None
        assert (row.household_size, row.recorded_by, row.corrected_by) == (5, COORDINATOR, "bia")
    assert surveys(rt) == 1


def test_a_case_without_a_held_ecc_takes_only_entry_surveys(rt: Runtime, clock) -> None:
    case_id = new_case(rt)
    drive(rt, clock, case_id, "mobilizacao")
    from tests.builders import add_participants

    (person,) = add_participants(rt, case_id, 1)
    today = today_of(clock)
    with pytest.raises(InvalidInput, match="has no held ECC yet"):
        record_survey(rt, case_id, person, answers("ecc_end", today), actor=COORDINATOR)
    record_survey(rt, case_id, person, answers("entry", today), actor=COORDINATOR)
    assert surveys(rt) == 1


# ------------------------------------------------------------------------- imports

HEADER = "cpf,wave,answered_on,work_status,income_band,sex,birth_year,household_size"


def line(cpf: str, on: date, *, wave: str = "entry", **more: str) -> str:
    v = {
        "work_status": "unemployed",
        "income_band": "none",
        "sex": "female",
        "birth_year": "1990",
        "household_size": "3",
    } | more
    return ",".join(
        [cpf, wave, on.isoformat()]
        + [v[k] for k in ("work_status", "income_band", "sex", "birth_year", "household_size")]
    )


def test_an_import_with_bad_rows_writes_nothing_and_names_every_line(
    rt: Runtime, clock: FixedClock, trained
) -> None:
    case_id, end, people = trained
    start = end - timedelta(days=43)
    with rt.db.read() as session:
        from states.records import Person

        cpfs = [session.get(Person, p).cpf for p in people[:4]]  # type: ignore[union-attr]
    record_survey(rt, case_id, people[3], answers("entry", start), actor=COORDINATOR)
    text = "\n".join(
        [
            HEADER,
            line(cpfs[0], start),
            line(cpfs[1], start, wave="wave_9"),
            line(cpfs[2], start, birth_year="3000"),
            line(cpfs[0], start),  # the same person and wave again
            line(cpf_for(777_777), start),  # nobody
            line(cpfs[3], start),  # already answered
            line(cpfs[1], start, income_band="lots", sex="x"),
        ]
    )
    before = surveys(rt)
    with pytest.raises(ImportRejected) as refused:
        import_surveys(rt, text.encode(), case_id=case_id, actor=COORDINATOR)
    problems = dict(refused.value.problems)
    assert sorted(problems) == [3, 4, 5, 6, 7, 8]
    assert "wave: unknown 'wave_9'" in problems[3]
    assert "birth year 3000 is in the future" in problems[4]
    assert "again (line 2)" in problems[5]
    assert problems[6] == f"no person with CPF {cpf_for(777_777)}"
    assert "already answered the entry survey" in problems[7]
    assert "income_band: unknown 'lots'" in problems[8]
    assert "sex: unknown 'x'" in problems[8]
    assert str(refused.value).startswith(
        "surveys file: 6 bad rows, nothing was imported:\nline 3: "
    )
    assert surveys(rt) == before


def test_xlsx_and_windows_1252_imports(rt: Runtime, clock: FixedClock, trained) -> None:
    case_id, end, people = trained
    start = end - timedelta(days=43)
    from states.records import Person

    with rt.db.read() as session:
        cpfs = [session.get(Person, p).cpf for p in people[:4]]  # type: ignore[union-attr]
    # Excel's "CSV" in Portuguese: Windows-1252, `;`, accented headers, DD/MM/YYYY dates
    header = "CPF;Onda;Data;Situação de trabalho;Faixa de renda;Sexo;Ano de nascimento;Moradores"
    rows = [
        f"{cpfs[0]};entry;{start:%d/%m/%Y};unemployed;none;female;1988;5",
        f"{cpfs[1]};entry;{start:%d/%m/%Y};informal;up_to_half;male;1979;2",
    ]
    data = "\r\n".join([header, *rows]).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    report = import_surveys(rt, data, case_id=case_id, actor=COORDINATOR)
    assert (report.recorded, report.corrected) == (2, 0)

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append([int(cpfs[2]), "entry", start, "self_employed", "1_to_2", "female", 1985, 4])
    sheet.append([cpfs[3], "entry", start.isoformat(), "unemployed", "none", "male", 2000.0, 1])
    sheet.append([None] * 8)  # a blank row is skipped
    sheet.append([cpfs[0], "entry", start, "unemployed", "none", "female", 1988, 6])  # correct
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ImportRejected, match=r"line 5: person \d+ already answered"):
        import_surveys(rt, buffer.getvalue(), case_id=case_id, actor=COORDINATOR)
    report = import_surveys(rt, buffer.getvalue(), case_id=case_id, actor=COORDINATOR, correct=True)
    assert (report.recorded, report.corrected) == (2, 1)
    with rt.db.read() as session:
        got = {
            (s.person_id, s.work_status, s.birth_year, s.household_size)
            for s in session.execute(select(Survey)).scalars()
        }
    assert got == {
        (people[0], "unemployed", 1988, 6),
        (people[1], "informal", 1979, 2),
        (people[2], "self_employed", 1985, 4),
        (people[3], "unemployed", 2000, 1),
    }
    with pytest.raises(InvalidInput, match=r"not a readable \.xlsx"):
        import_surveys(rt, b"PK\x03\x04broken", case_id=case_id, actor=COORDINATOR)
    assert verify(rt.db).ok


# ------------------------------------------------------------------------- reading


def test_list_logs_each_person_and_the_statement_includes_the_surveys(
    rt: Runtime, clock: FixedClock, trained
) -> None:
    case_id, end, people = trained
    start = end - timedelta(days=43)
    for person in people[:2]:
        record_survey(rt, case_id, person, answers("entry", start), actor=COORDINATOR)
    rows = list_surveys(rt, case_id, actor=COORDINATOR, purpose="check the baseline")
    assert [(r["person_id"], r["wave"]) for r in rows] == [
        (people[0], "entry"),
        (people[1], "entry"),
    ]
    with rt.db.read() as session:
        logged = session.execute(
            select(DataAccess.person_id).where(DataAccess.purpose == "check the baseline")
        ).scalars()
        assert sorted(logged) == people[:2]
        from states.records import Person

        cpf = session.get(Person, people[0]).cpf  # type: ignore[union-attr]
    report = data_subject_report(rt, cpf, actor=COORDINATOR)
    assert [(s["wave"], s["work_status"], s["birth_year"]) for s in report["surveys"]] == [
        ("entry", "unemployed", 1990)
    ]
    assert "LGPD, Lei 13.709/2018, art. 6 III" in report["survey_purpose"]
    assert [h["event"] for h in report["history"]].count("pesquisa_registrada") == 1


# ------------------------------------------------------------------------- command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt, "ana", "admin")
    add_user(
        rt,
        {
            "username": "rui",
            "name": "Rui",
            "email": "rui@example.org",
            "role": "auditor",
            "territories": [],
        },
        actor="system",
    )
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.stderr


def test_the_survey_commands(cli: CliRunner, rt: Runtime, clock: FixedClock, trained, tmp_path):
    case_id, end, people = trained
    start = end - timedelta(days=43)
    record = [
        "survey", "record", "--case", str(case_id), "--person", str(people[0]), "--wave",
        "entry", "--answered-on", start.isoformat(), "--work-status", "unemployed",
        "--income-band", "none", "--sex", "male", "--birth-year", "1980",
        "--household-size", "2", "--by", "ana",
    ]  # fmt: skip
    printed = run(cli, *record)
    assert printed.startswith("Purpose (LGPD, Lei 13.709/2018, art. 6 III): ")
    assert printed.splitlines()[-1].endswith(f"person {people[0]}, wave entry, case {case_id}")
    err = run(cli, *record, code=2)
    assert f"error: person {people[0]} already answered the entry survey" in err
    run(cli, *record, "--correct")
    bad = [*record]
    bad[bad.index("--birth-year") + 1] = "1066"
    assert "the person would be 960 years old" in run(cli, *bad, code=2)

    with rt.db.read() as session:
        from states.records import Person

        cpf = session.get(Person, people[1]).cpf  # type: ignore[union-attr]
    file = tmp_path / "surveys.csv"
    file.write_text(
        "\n".join([HEADER, line(cpf, start), line(cpf, start, household_size="0")]),
        encoding="utf-8",
    )
    err = run(cli, "survey", "import", str(file), "--case", str(case_id), "--by", "ana", code=2)
    assert err.splitlines() == [
        "error: surveys file: 1 bad row, nothing was imported:",
        "line 3: household_size: '0' is not a number of people from 1 to 30",
    ]
    file.write_text("\n".join([HEADER, line(cpf, start)]), encoding="utf-8")
    out = run(cli, "survey", "import", str(file), "--case", str(case_id), "--by", "ana")
    assert out.splitlines()[-1] == f"case {case_id}: 1 survey recorded, 0 corrected"

    listed = run(
        cli, "survey", "list", "--case", str(case_id), "--by", "ana", "--purpose", "conferir"
    )
    assert [row.split()[:2] for row in listed.splitlines()[2:]] == [
        [str(people[0]), "entry"],
        [str(people[1]), "entry"],
    ]
    with rt.db.read() as session:
        first_cpf = session.get(Person, people[0]).cpf  # type: ignore[union-attr]
    statement = run(cli, "person", "report", first_cpf, "--by", "ana")
    surveys_part = statement[statement.index("Surveys (baseline and outcomes)") :]
    assert "entry" in surveys_part.splitlines()[3]  # the header, the rule, then the survey
    assert "Purpose (LGPD, Lei 13.709/2018, art. 6 III)" in surveys_part
    # an auditor reads the aggregates, never the answers
    err = run(
        cli, "survey", "list", "--case", str(case_id), "--by", "rui", "--purpose", "ver", code=4
    )
    assert err.strip() == "error: rui (auditor) may not run `survey list`"
    table = run(cli, "indicators", "--outcomes", "--by", "sex", "--wave", "month_6")
    assert "groups of fewer than 5 people suppressed" in table
    assert run(cli, "indicators", "--outcomes", "--wave", "month_9", code=2).startswith(
        "error: unknown wave 'month_9'"
    )


def test_record_import_and_outcomes_on_both_databases(any_rt: Runtime, clock: FixedClock) -> None:
    rt = any_rt
    case_id = new_case(rt)
    drive(rt, clock, case_id, "gestao")
    with rt.db.read() as session:
        end = ecc_end_of(session, case_id)
        from states.records import Person

        people = participants_of(rt, case_id)[:6]
        cpfs = [session.get(Person, p).cpf for p in people]  # type: ignore[union-attr]
    assert end is not None
    start = end - timedelta(days=43)
    for person in people:
        record_survey(rt, case_id, person, answers("entry", start), actor=COORDINATOR)
    day = add_months(end, 6)
    clock.advance(timedelta(days=(day - today_of(clock)).days + 1))
    text = "\n".join(
        [HEADER]
        + [line(cpf, day, wave="month_6", work_status="enterprise") for cpf in cpfs[:5]]
        + [line(cpfs[5], day, wave="month_6", sex="male")]
    )
    report = import_surveys(rt, text.encode(), case_id=case_id, actor=COORDINATOR)
    assert report.recorded == 6
    with rt.db.read() as session:
        rows = outcomes.outcomes(session, "module", wave="month_6", today=rt.today())
        (programme,) = outcomes.outcomes(
            session, wave="month_6", today=rt.today(), ufs=frozenset({"CE"})
        )
        elsewhere = outcomes.outcomes(session, wave="month_6", today=rt.today(), uf="PA")
    assert [(r.people, r.occupations_created) for r in rows] == [(6, 5)]
    assert (programme.people, programme.occupied_at_wave, programme.income_same) == (6, 5, 6)
    assert [r.suppressed for r in elsewhere] == [True]
    assert verify(rt.db).ok


def test_the_6_and_12_month_waves_are_dated_obligations(
    rt: Runtime, clock: FixedClock, trained
) -> None:
    case_id, end, people = trained
    start = end - timedelta(days=43)
    for person in people[:3]:
        record_survey(rt, case_id, person, answers("entry", start), actor=COORDINATOR)

    def duties() -> list[tuple[str, date, str | None]]:
        with rt.db.read() as session:
            rows = obligations.list_obligations(
                session, today=rt.today(), case_id=case_id, open_only=False, kind="survey_wave"
            )
        return [
            (o["description"], date.fromisoformat(o["due_on"]), o["satisfied_by"]) for o in rows
        ]

    with rt.db.read() as session:
        calendar = calendar_for(session, QUIXADA)
    six, twelve = (calendar.roll_forward(add_months(end, n)) for n in (6, 12))
    assert duties() == [
        ("the 6-month survey of the participants who answered at entry", six, None),
        ("the 12-month survey of the participants who answered at entry", twelve, None),
    ]
    clock.advance(timedelta(days=(add_months(end, 6) - today_of(clock)).days + 1))
    day = add_months(end, 6)
    for person in people[:2]:
        record_survey(rt, case_id, person, answers("month_6", day), actor=COORDINATOR)
    assert [d[2] for d in duties()] == [None, None]  # one of the three still to answer
    last = record_survey(rt, case_id, people[2], answers("month_6", day), actor=COORDINATOR)
    assert [d[2] for d in duties()] == [f"survey:{last.survey_id}", None]
