"""Deadline arithmetic and the lifecycle configuration file's validation."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from states.config import DEFAULT_FILE, DeadlineRule, load_config
from states.deadlines import add_months, due_date, extended, local_date, resumed
from states.errors import InvalidInput
from states.states import ACTIVE, APPEAL

# --- deadlines --------------------------------------------------------------------------------


def test_due_date_in_days() -> None:
    assert due_date(DeadlineRule(days=30), date(2026, 3, 2)) == date(2026, 4, 1)


def test_due_date_in_days_crosses_the_year() -> None:
    assert due_date(DeadlineRule(days=5), date(2025, 12, 29)) == date(2026, 1, 3)


def test_due_date_in_months() -> None:
    assert due_date(DeadlineRule(months=12), date(2025, 3, 2)) == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("entered", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 15), date(2027, 1, 15)),
    ],
)
def test_due_date_one_month_clamps_to_the_month_end(entered: date, due: date) -> None:
    assert due_date(DeadlineRule(months=1), entered) == due


def test_add_months_backwards() -> None:
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2026, 1, 15), -12) == date(2025, 1, 15)


def test_extended_adds_the_extension_days() -> None:
    rule = DeadlineRule(days=30, extension_days=30, max_extensions=1)
    assert extended(rule, date(2026, 4, 1)) == date(2026, 5, 1)


def test_resumed_moves_the_deadline_by_the_days_suspended() -> None:
    moved = resumed(date(2026, 3, 20), date(2026, 3, 5), date(2026, 3, 15))
    assert moved == date(2026, 3, 30)


def test_resumed_the_same_day_keeps_the_deadline() -> None:
    assert resumed(date(2026, 3, 20), date(2026, 3, 5), date(2026, 3, 5)) == date(2026, 3, 20)


def test_resumed_without_a_paused_deadline_has_none() -> None:
    assert resumed(None, date(2026, 3, 5), date(2026, 3, 15)) is None


def test_local_date_across_a_timezone_boundary() -> None:
    instant = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert local_date(instant, "America/Sao_Paulo") == date(2026, 3, 2)
    assert local_date(instant, "UTC") == date(2026, 3, 3)


def test_local_date_after_the_local_midnight() -> None:
    instant = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    assert local_date(instant, "America/Sao_Paulo") == date(2026, 3, 3)


def test_local_date_in_another_brazilian_zone() -> None:
    instant = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)  # 23:30 in Manaus (UTC-4)
    assert local_date(instant, "America/Manaus") == date(2026, 3, 2)


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "give exactly one of `days` or `months`"),
        ({"days": 5, "months": 1}, "give exactly one of `days` or `months`"),
        ({"days": 0}, "greater than 0"),
        ({"days": -5}, "greater than 0"),
        ({"days": 5, "max_extensions": 1}, "`max_extensions` needs `extension_days`"),
    ],
)
def test_invalid_deadline_rules_are_refused(fields: dict[str, int], expected: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expected)):
        DeadlineRule(**fields)


# --- the configuration file -------------------------------------------------------------------


def test_shipped_config_loads() -> None:
    config = load_config()
    assert config.version
    assert re.fullmatch(r"\d{4}\.\d+", config.version)
    assert set(config.deadlines) == {s.value for s in (*ACTIVE, *APPEAL)}


def test_shipped_config_matches_the_domain_defaults() -> None:
    config = load_config()
    review = config.deadlines["em_analise"]
    assert (review.days, review.extension_days, review.max_extensions) == (30, 30, 1)
    assert config.deadlines["acompanhamento"].months == 12
    # the appeal: 5 days to reconsider (Lei 9.784 art. 56 §1), 30 + 30 to decide (art. 59 §§1-2)
    assert config.deadlines["em_reconsideracao"].days == 5
    superior = config.deadlines["recurso_superior"]
    assert (superior.days, superior.extension_days, superior.max_extensions) == (30, 30, 1)
    t = config.thresholds
    assert (t.min_participants, t.min_attendance, t.max_ecc_days) == (40, 0.75, 60)
    assert (t.max_filing_days, t.visit_interval_days, t.appeal_days) == (30, 90, 10)


def shipped() -> str:
    return DEFAULT_FILE.read_text(encoding="utf-8")


def refused(tmp_path: Path, text: str) -> tuple[str, Path]:
    path = tmp_path / "lifecycle.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as bad:
        load_config(path)
    message = str(bad.value)
    assert message.startswith(f"lifecycle file {path}: ")
    assert "\n" not in message.strip()
    return message, path


def test_a_copy_of_the_shipped_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "lifecycle.toml"
    path.write_text(shipped().replace('version = "2026.3"', 'version = "2027.1"'), "utf-8")
    assert load_config(path).version == "2027.1"


def test_deadline_for_an_unknown_state_is_refused(tmp_path: Path) -> None:
    message, _ = refused(tmp_path, shipped() + "\n[deadlines.aprovada]\ndays = 5\n")
    assert "deadlines for unknown states: aprovada" in message


def test_missing_state_is_refused(tmp_path: Path) -> None:
    text = shipped().replace("[deadlines.gestao]\ndays = 30\n", "")
    assert text != shipped()
    message, _ = refused(tmp_path, text)
    assert "no deadline for states: gestao" in message


def test_negative_days_are_refused(tmp_path: Path) -> None:
    text = shipped().replace("[deadlines.gestao]\ndays = 30", "[deadlines.gestao]\ndays = -30")
    assert text != shipped()
    message, _ = refused(tmp_path, text)
    assert "deadlines.gestao.days" in message
    assert "greater than 0" in message


def test_both_days_and_months_are_refused(tmp_path: Path) -> None:
    text = shipped().replace(
        "[deadlines.acompanhamento]\n", "[deadlines.acompanhamento]\ndays = 5\n"
    )
    assert text != shipped()
    message, _ = refused(tmp_path, text)
    assert "deadlines.acompanhamento" in message
    assert "exactly one of `days` or `months`" in message


def test_missing_threshold_is_refused(tmp_path: Path) -> None:
    text = shipped().replace("appeal_days = 10\n", "")
    assert text != shipped()
    message, _ = refused(tmp_path, text)
    assert "thresholds.appeal_days" in message


def test_bad_toml_is_refused(tmp_path: Path) -> None:
    message, _ = refused(tmp_path, 'version = "2026.1"\n[deadlines.registrada\ndays = 5\n')
    assert "not valid TOML" in message


def test_unreadable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(
        InvalidInput, match=f"lifecycle file {re.escape(str(path))}: cannot be read"
    ):
        load_config(path)
