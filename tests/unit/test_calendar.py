"""Working days and the deadlines counted on them: holidays by state and municipality, roll-forward
of continuous days, working-day rules, months, extensions, and suspension in both kinds.

Dates are in 2026 unless said: Thursday 03-19 is São José (a CE holiday), Wednesday 03-25 the
abolition in Ceará (the Data Magna, a CE holiday), Friday 03-06 the Pernambucan Revolution (a PE
holiday), Friday 04-03 Good Friday and Tuesday 04-21 Tiradentes (national).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest

from states.calendar import WEEKENDS_ONLY, WorkCalendar, configured_closures
from states.config import DEFAULT_FILE, DeadlineRule, load_config
from states.deadlines import due_date, extended, resumed
from states.effects import Clockwork, changes_for
from states.errors import InvalidInput
from states.lifecycle import SHIPPED_VERSIONS, Lifecycle, Outcome, load_lifecycle
from tests.builders import evidence_for

CE = WorkCalendar("CE")
PE = WorkCalendar("PE")
MUNICIPAL_DAY = date(2026, 3, 23)  # a Monday
QUIXADA = WorkCalendar("CE", [(MUNICIPAL_DAY, "Emancipação política de Quixadá")])


def d(month: int, day: int, year: int = 2026) -> date:
    return date(year, month, day)


# --- holidays by state and municipality --------------------------------------------------------


def test_sao_jose_is_a_holiday_in_ceara_but_not_in_pernambuco() -> None:
    assert CE.holiday(d(3, 19)) == "São José"
    assert not CE.is_working_day(d(3, 19))
    assert PE.holiday(d(3, 19)) is None
    assert PE.is_working_day(d(3, 19))


def test_the_data_magna_of_ceara_is_a_holiday_there_only() -> None:
    assert CE.holiday(d(3, 25)) == "Abolição da escravidão no Ceará"
    assert PE.is_working_day(d(3, 25))


def test_the_pernambucan_revolution_is_a_holiday_in_pernambuco_only() -> None:
    assert PE.holiday(d(3, 6)) == "Revolução Pernambucana de 1817"
    assert CE.is_working_day(d(3, 6))


@pytest.mark.parametrize("calendar", [CE, PE], ids=["CE", "PE"])
def test_national_holidays_count_everywhere_with_pt_br_names(calendar: WorkCalendar) -> None:
    assert calendar.holiday(d(4, 21)) == "Tiradentes"
    assert calendar.holiday(d(4, 3)) == "Sexta-feira Santa"
    assert calendar.holiday(d(11, 20)) == "Dia Nacional de Zumbi e da Consciência Negra"
    assert not calendar.is_working_day(d(4, 21))


def test_carnival_and_corpus_christi_close_the_offices_by_default() -> None:
    # pontos facultativos of the federal executive: the package lists them in its "optional"
    # category; days without office hours (Lei 9.784/1999 art. 66 §1) include those the
    # office closes on: by default the two Carnaval days and Corpus Christi
    optional = holidays.country_holidays("BR", years=2027, categories=("optional",))
    assert d(2, 9, 2027) in optional
    for calendar in (CE, PE):
        assert calendar.holiday(d(2, 8, 2027)) == "Carnaval"  # Monday
        assert calendar.holiday(d(2, 9, 2027)) == "Carnaval"  # Tuesday
        assert calendar.holiday(d(5, 27, 2027)) == "Corpus Christi"  # Thursday
        # not closing by default: Ash Wednesday, Public Servant's Day, 24 and 31 December
        for open_day in (d(2, 10, 2027), d(10, 28, 2027), d(12, 24, 2027), d(12, 31, 2027)):
            assert calendar.is_working_day(open_day), open_day


def test_a_deadline_on_carnival_tuesday_2027_moves_to_the_next_working_day() -> None:
    entered = d(1, 10, 2027)
    assert entered + timedelta(days=30) == d(2, 9, 2027)  # Carnival Tuesday
    assert due_date(DeadlineRule(days=30), entered, CE) == d(2, 10, 2027)  # Ash Wednesday
    with_ash = WorkCalendar("CE", closures=frozenset({"carnaval", "quarta_feira_de_cinzas"}))
    assert due_date(DeadlineRule(days=30), entered, with_ash) == d(2, 11, 2027)
    none = WorkCalendar("CE", closures=frozenset())
    assert due_date(DeadlineRule(days=30), entered, none) == d(2, 9, 2027)


def test_a_deadline_on_corpus_christi_2027_moves_to_friday() -> None:
    assert due_date(DeadlineRule(days=30), d(4, 27, 2027), CE) == d(5, 28, 2027)


def test_which_pontos_facultativos_close_the_offices_is_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "PRODUZIR_OFFICE_CLOSURES", "quarta_feira_de_cinzas, dia_do_servidor_publico"
    )
    configured_closures.cache_clear()
    try:
        calendar = WorkCalendar("CE")
        assert calendar.is_working_day(d(2, 9, 2027))  # Carnival no longer closes
        assert calendar.holiday(d(2, 10, 2027)) == "Quarta-feira de Cinzas"
        assert calendar.holiday(d(10, 28, 2027)) == "Dia do Servidor Público"
        monkeypatch.setenv("PRODUZIR_OFFICE_CLOSURES", "none")
        configured_closures.cache_clear()
        assert WorkCalendar("CE").is_working_day(d(5, 27, 2027))
    finally:
        monkeypatch.delenv("PRODUZIR_OFFICE_CLOSURES")
        configured_closures.cache_clear()
    assert configured_closures() == frozenset({"carnaval", "corpus_christi"})


def test_an_administrators_decision_closes_or_opens_an_office_on_a_day() -> None:
    opened = WorkCalendar("CE", decisions=[(d(2, 9, 2027), False, "expediente normal")])
    assert opened.is_working_day(d(2, 9, 2027))
    assert not opened.is_working_day(d(2, 8, 2027))  # the other Carnival day still closes
    closed = WorkCalendar("CE", decisions=[(d(10, 28, 2027), True, "Dia do Servidor Público")])
    assert closed.holiday(d(10, 28, 2027)) == "Dia do Servidor Público"
    # a decision never opens a holiday: Tiradentes stays
    holiday = WorkCalendar("CE", decisions=[(d(4, 21, 2027), False, "aberto")])
    assert not holiday.is_working_day(d(4, 21, 2027))


def test_a_municipal_holiday_counts_only_in_its_municipality() -> None:
    assert QUIXADA.holiday(MUNICIPAL_DAY) == "Emancipação política de Quixadá"
    assert not QUIXADA.is_working_day(MUNICIPAL_DAY)
    assert CE.is_working_day(MUNICIPAL_DAY)
    assert QUIXADA.holiday(d(3, 19)) == "São José"  # and the state's still apply


def test_weekends_only_knows_no_holiday() -> None:
    assert WEEKENDS_ONLY.is_working_day(d(4, 21))
    assert not WEEKENDS_ONLY.is_working_day(d(3, 7))  # a Saturday


# --- continuous days roll forward ---------------------------------------------------------------


def test_thirty_days_ending_on_a_saturday_move_to_monday() -> None:
    rule = DeadlineRule(days=30)
    entered = d(2, 5)
    assert entered + timedelta(days=30) == d(3, 7)  # a Saturday
    assert due_date(rule, entered, CE) == d(3, 9)
    assert due_date(rule, entered) == d(3, 7)  # no calendar: plain arithmetic, as before


def test_a_deadline_ending_on_a_state_holiday_moves_past_it_in_that_state_only() -> None:
    rule = DeadlineRule(days=30)
    entered = d(2, 17)  # + 30 = Thursday 03-19, São José
    assert due_date(rule, entered, CE) == d(3, 20)
    assert due_date(rule, entered, PE) == d(3, 19)


def test_a_deadline_ending_on_good_friday_moves_past_the_weekend() -> None:
    assert due_date(DeadlineRule(days=30), d(3, 4), CE) == d(4, 6)  # 04-03 is Good Friday


def test_a_deadline_ending_on_a_municipal_holiday_then_a_state_one_moves_past_both() -> None:
    tuesday = d(3, 24)
    calendar = WorkCalendar("CE", [(tuesday, "Feriado municipal")])
    assert due_date(DeadlineRule(days=10), d(3, 14), calendar) == d(3, 26)  # 24 and 25 skipped
    assert due_date(DeadlineRule(days=10), d(3, 14), CE) == tuesday


def test_a_deadline_on_a_working_day_stays() -> None:
    assert due_date(DeadlineRule(days=30), d(3, 2), CE) == d(4, 1)


def test_continuous_deadlines_end_on_the_first_working_day_from_the_nominal_day() -> None:
    rule = DeadlineRule(days=30)
    for offset in range(365):
        entered = d(1, 1) + timedelta(days=offset)
        nominal = entered + timedelta(days=30)
        due = due_date(rule, entered, QUIXADA)
        assert QUIXADA.is_working_day(due), entered
        assert due >= nominal
        skipped = [nominal + timedelta(days=i) for i in range((due - nominal).days)]
        assert not any(QUIXADA.is_working_day(s) for s in skipped), entered


# --- months --------------------------------------------------------------------------------------


def test_months_roll_forward_too() -> None:
    assert due_date(DeadlineRule(months=12), d(4, 21, 2025), CE) == d(4, 22)  # Tiradentes
    assert due_date(DeadlineRule(months=1), d(1, 31), CE) == d(3, 2)  # 02-28 is a Saturday
    assert due_date(DeadlineRule(months=1), d(1, 31)) == d(2, 28)


# --- working days --------------------------------------------------------------------------------


def test_five_working_days_across_a_weekend_and_a_holiday() -> None:
    rule = DeadlineRule(days=5, kind="working")
    monday = d(3, 16)
    # CE: 17, 18, (19 São José), 20, (21, 22 weekend), 23, 24
    assert due_date(rule, monday, CE) == d(3, 24)
    # PE: 17, 18, 19, 20, (weekend), 23
    assert due_date(rule, monday, PE) == d(3, 23)
    # Quixadá: its own holiday on 23 too
    assert due_date(rule, monday, QUIXADA) == d(3, 26)  # 25 is the Data Magna


def test_working_deadlines_count_exactly_their_working_days() -> None:
    rule = DeadlineRule(days=5, kind="working")
    for offset in range(365):
        entered = d(1, 1) + timedelta(days=offset)
        due = due_date(rule, entered, QUIXADA)
        assert QUIXADA.is_working_day(due), entered
        assert QUIXADA.working_days_between(entered, due) == 5, entered
        assert QUIXADA.working_days_between(entered, due - timedelta(days=1)) == 4, entered


def test_the_shipped_registrada_deadline_is_five_continuous_days_rolled_to_a_working_day(
    lifecycle: Lifecycle,
) -> None:
    """Lei 9.784/1999 art. 24 (5 days, extendable up to double with a justification), counted
    as art. 66 counts: continuous days (§2), rolled to the next working day (§1)."""
    rule = lifecycle.config.deadlines["registrada"]
    assert (rule.days, rule.kind, rule.extension_days, rule.max_extensions) == (
        5,
        "continuous",
        5,
        1,
    )
    # registered on Saturday 14 March 2026: the 5th day is Thursday 19, São José in Ceará
    assert due_date(rule, d(3, 14), CE) == d(3, 20)
    assert due_date(rule, d(3, 14), PE) == d(3, 19)  # a working day in Pernambuco
    # registered on Monday 16: the 5th day is Saturday 21, rolled to Monday 23
    assert due_date(rule, d(3, 16), CE) == d(3, 23)
    # extended once (art. 24 sole paragraph): 5 more continuous days, 28 March a Saturday
    assert extended(rule, d(3, 23), CE) == d(3, 30)
    working = {s for s, r in lifecycle.config.deadlines.items() if r.kind == "working"}
    assert working == set()  # every shipped deadline is continuous


def test_extensions_count_in_the_rule_kind() -> None:
    continuous = DeadlineRule(days=30, extension_days=30, max_extensions=1)
    assert extended(continuous, d(3, 20), CE) == d(4, 20)  # 04-19 is a Sunday
    assert extended(continuous, d(3, 20)) == d(4, 19)
    working = DeadlineRule(days=10, kind="working", extension_days=5, max_extensions=1)
    assert extended(working, d(3, 17), CE) == d(3, 26)  # 18, 20, 23, 24, 26


# --- the configuration ---------------------------------------------------------------------------


def config_text(tmp_path: Path, replace: tuple[str, str]) -> Path:
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    assert replace[0] in text
    path = tmp_path / "lifecycle.toml"
    path.write_text(text.replace(*replace), encoding="utf-8")
    return path


def test_an_unknown_kind_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = config_text(tmp_path, ('kind = "continuous"', 'kind = "uteis"'))
    with pytest.raises(InvalidInput) as bad:
        load_config(path)
    assert str(bad.value).startswith(f"lifecycle file {path}: deadlines.registrada.kind: ")
    assert "'continuous' or 'working'" in str(bad.value)


def test_months_in_working_days_are_refused(tmp_path: Path) -> None:
    path = config_text(
        tmp_path, ("[deadlines.acompanhamento]\n", '[deadlines.acompanhamento]\nkind = "working"\n')
    )
    with pytest.raises(InvalidInput, match=r"deadlines\.acompanhamento: .*`kind` must be"):
        load_config(path)


def test_a_rule_without_kind_is_continuous(tmp_path: Path) -> None:
    path = config_text(tmp_path, ('kind = "continuous"\n', ""))
    assert load_config(path).deadlines["registrada"].kind == "continuous"


# --- suspension pauses the clock ------------------------------------------------------------------


def test_resuming_a_continuous_deadline_adds_the_days_then_rolls_forward() -> None:
    # due Wednesday 04-01, suspended ten days: 04-11 is a Saturday
    assert resumed(d(4, 1), d(3, 5), d(3, 15), CE) == d(4, 13)
    assert resumed(d(4, 1), d(3, 5), d(3, 15)) == d(4, 11)  # no calendar: plain days


def test_resuming_a_working_deadline_adds_the_working_days_elapsed() -> None:
    # due Tuesday 03-24; suspended Tue 03-17 to Tue 03-24: 18, 20, 23, 24 elapsed (19 a holiday)
    moved = resumed(d(3, 24), d(3, 17), d(3, 24), CE, kind="working")
    assert moved == d(3, 31)  # 25 (holiday), 26, 27, 30, 31
    # the same as counting the working days left at suspension from the day of resumption
    left = CE.working_days_between(d(3, 17), d(3, 24))
    assert moved == CE.add_working_days(d(3, 24), left)


@pytest.mark.parametrize("kind", ["continuous", "working"])
def test_resuming_the_same_day_keeps_the_deadline(kind: Any) -> None:
    assert resumed(d(3, 24), d(3, 17), d(3, 17), CE, kind=kind) == d(3, 24)


def test_a_weekend_suspension_moves_a_working_deadline_not_at_all() -> None:
    assert resumed(d(3, 24), d(3, 20), d(3, 22), CE, kind="working") == d(3, 24)
    assert resumed(d(3, 24), d(3, 20), d(3, 22), CE) == d(3, 26)  # +2 days, then past the 25th


# --- the effects: what events do to the deadline --------------------------------------------------


def clockwork(state: str, **overrides: Any) -> Clockwork:
    values: dict[str, Any] = {
        "state": state,
        "previous_state": None,
        "entered_on": d(3, 2),
        "due_on": d(4, 1),
        "extensions_used": 0,
        "suspended_on": None,
        "paused_due_on": None,
    }
    return Clockwork(**(values | overrides))


def changes(
    lifecycle: Lifecycle,
    case: Clockwork,
    event: str,
    to_state: str,
    evidence: dict[str, Any] | None = None,
    *,
    today: date,
    calendar: WorkCalendar | None = CE,
) -> dict[str, Any]:
    raw = evidence if evidence is not None else evidence_for(event, today)
    outcome = Outcome(event, case.state, to_state, lifecycle.parse_evidence(event, raw))
    return changes_for(
        case, outcome, today=today, actor="ana", config=lifecycle.config, calendar=calendar
    )


def test_entering_a_state_starts_a_new_deadline_on_the_calendar(lifecycle: Lifecycle) -> None:
    case = clockwork("registrada", due_on=d(3, 9), extensions_used=0)
    result = changes(lifecycle, case, "iniciar_analise", "em_analise", today=d(3, 5))
    # 30 continuous days: Saturday 04-04 -> Monday 04-06
    assert (result["entered_on"], result["due_on"]) == (d(3, 5), d(4, 6))
    plain = changes(lifecycle, case, "iniciar_analise", "em_analise", today=d(3, 5), calendar=None)
    assert plain["due_on"] == d(4, 4)


def test_reassignment_keeps_the_deadline(lifecycle: Lifecycle) -> None:
    case = clockwork("em_analise", due_on=d(4, 6))
    result = changes(
        lifecycle, case, "atribuir", "em_analise", {"coordinator": "bia"}, today=d(3, 20)
    )
    assert result == {"coordinator": "bia"}


def test_an_extension_rolls_forward(lifecycle: Lifecycle) -> None:
    case = clockwork("em_analise", due_on=d(3, 20))
    result = changes(lifecycle, case, "prorrogar", "em_analise", today=d(3, 18))
    assert result == {"due_on": d(4, 20), "extensions_used": 1}


def test_suspend_and_resume_a_continuous_state(lifecycle: Lifecycle) -> None:
    active = clockwork("em_analise", due_on=d(4, 1))
    evidence = {"reason": "Aguardando documentos.", "expected_resume_on": "2026-03-20"}
    paused = changes(lifecycle, active, "suspender", "suspensa", evidence, today=d(3, 5))
    assert (paused["paused_due_on"], paused["suspended_on"]) == (d(4, 1), d(3, 5))
    suspended = clockwork(
        "suspensa",
        previous_state="em_analise",
        due_on=paused["due_on"],
        suspended_on=d(3, 5),
        paused_due_on=d(4, 1),
    )
    back = changes(lifecycle, suspended, "retomar", "em_analise", {}, today=d(3, 15))
    assert back["state"] == "em_analise"
    assert back["due_on"] == d(4, 13)  # 04-01 + 10 days = Saturday 04-11 -> Monday
    assert back["entered_on"] == d(3, 12)  # the clock's start moved by the pause too
    assert (back["suspended_on"], back["paused_due_on"]) == (None, None)


def test_resume_into_a_working_day_state_moves_by_the_working_days() -> None:
    # under 2026.2 (its cases keep running under it) registrada counts working days: due
    # Tuesday 03-24, suspended Friday 03-20 to Monday 03-30
    lifecycle = load_lifecycle(SHIPPED_VERSIONS / "lifecycle-2026.2.toml")
    suspended = clockwork(
        "suspensa",
        previous_state="registrada",
        entered_on=d(3, 16),
        due_on=d(4, 10),
        suspended_on=d(3, 20),
        paused_due_on=d(3, 24),
    )
    back = changes(lifecycle, suspended, "retomar", "registrada", {}, today=d(3, 30))
    # elapsed: 23, 24, 26, 27, 30 (25 a holiday) -> 24 + 5 working days: 26, 27, 30, 31, 04-01
    assert back["due_on"] == d(4, 1)
    # a continuous rule would have moved it 10 days, to Good Friday 04-03, then to Monday 04-06
    assert resumed(d(3, 24), d(3, 20), d(3, 30), CE) == d(4, 6)
