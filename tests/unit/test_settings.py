"""The settings convention and its one loader: every settings class reads ``PRODUZIR_`` + the
field's name (no aliases), every variable is in the README's settings table, and a wrong
setting is refused with the variable, its value and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from console.cli_run import RunSettings
from console.web.settings import WebSettings
from demo.settings import DemoSettings
from notifications.i18n import render
from notifications.policy import PolicySettings
from notifications.settings import NotificationSettings
from states.calendar import CalendarSettings
from states.errors import InvalidInput
from states.settings import StatesSettings, load, variable
from tasks.settings import LgpdSettings, TasksSettings

CLASSES: list[type[BaseSettings]] = [
    StatesSettings,
    CalendarSettings,
    TasksSettings,
    LgpdSettings,
    NotificationSettings,
    PolicySettings,
    WebSettings,
    RunSettings,
    DemoSettings,
]
README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_a_field_is_its_variable_and_the_readme_lists_it(cls: type[BaseSettings]) -> None:
    assert cls.model_config.get("env_prefix") == "PRODUZIR_"
    for name, field in cls.model_fields.items():
        assert (field.alias, field.validation_alias) == (None, None), name
        assert f"`{variable(cls, name)}`" in README, f"{variable(cls, name)} is not in README"


def refusal(cls: type[BaseSettings], monkeypatch: pytest.MonkeyPatch, **env: str) -> InvalidInput:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(InvalidInput) as refused:
        load(cls)
    return refused.value


@pytest.mark.parametrize(
    ("cls", "name", "value", "says"),
    [
        (StatesSettings, "PRODUZIR_SQLITE_BUSY_TIMEOUT_MS", "soon", "'soon' is not a number"),
        (StatesSettings, "PRODUZIR_SQLITE_BUSY_TIMEOUT_MS", "1.5", "'1.5' is not a whole number"),
        (StatesSettings, "PRODUZIR_AUDIT_CHECKPOINT_MINUTES", "0", "'0' must be at least 1"),
        (StatesSettings, "PRODUZIR_AUDIT_CHECKPOINT_MINUTES", "2000", "'2000' must be at most"),
        (StatesSettings, "PRODUZIR_AUDIT_LOG_ID", "x" * 65, "must have at most 64 characters"),
        (
            StatesSettings,
            "PRODUZIR_DATABASE_URL",
            "mysql://db",
            "'mysql://db' is not a sqlite:// or postgresql:// URL",
        ),
        (
            CalendarSettings,
            "PRODUZIR_OFFICE_CLOSURES",
            "carnaval,natal",
            "'natal' is not a ponto facultativo; they are: carnaval,",
        ),
        (WebSettings, "PRODUZIR_ENV", "staging", "'staging' is not one of development, test,"),
        (WebSettings, "PRODUZIR_SESSION_HOURS", "0", "'0' must be more than 0"),
        (RunSettings, "PRODUZIR_PREFECT_PORT", "70000", "'70000' must be at most 65535"),
    ],
)
def test_a_bad_setting_names_the_variable_its_value_and_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, cls: type[BaseSettings], name: str, value: str, says: str
) -> None:
    refused = refusal(cls, monkeypatch, **{name: value})
    assert str(refused).startswith(f"{name}: ")
    assert says in str(refused)
    assert refused.field == name


def test_every_problem_is_said_at_once_and_in_portuguese(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = refusal(
        NotificationSettings,
        monkeypatch,
        PRODUZIR_SMTP_PORT="abc",
        PRODUZIR_NOTIFY_MAX_ATTEMPTS="0",
    )
    assert str(refused) == (
        "PRODUZIR_SMTP_PORT: 'abc' is not a number; "
        "PRODUZIR_NOTIFY_MAX_ATTEMPTS: '0' must be at least 1"
    )
    assert render(refused.text, "pt-BR") == (
        "PRODUZIR_SMTP_PORT: 'abc' não é um número; "
        "PRODUZIR_NOTIFY_MAX_ATTEMPTS: '0' deve ser no mínimo 1"
    )


def test_a_secret_is_named_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = refusal(TasksSettings, monkeypatch, PRODUZIR_PSEUDONYM_KEY="curta-demais")
    assert refused.field == "PRODUZIR_PSEUDONYM_KEY"
    assert "too short: 12 characters" in str(refused)
    assert "curta-demais" not in str(refused)
    short = refusal(
        WebSettings, monkeypatch, PRODUZIR_ENV="production", PRODUZIR_SECRET_KEY="s3gredo"
    )
    assert str(short).startswith("PRODUZIR_SECRET_KEY: too short (7 characters")
    assert "s3gredo" not in str(short)


def test_a_rule_across_settings_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    refused = refusal(NotificationSettings, monkeypatch, PRODUZIR_NOTIFY_CHANNEL="smtp")
    assert refused.field == "PRODUZIR_SMTP_HOST"
    assert str(refused) == "PRODUZIR_SMTP_HOST: required when PRODUZIR_NOTIFY_CHANNEL is smtp"


def test_overrides_are_field_names(tmp_path: Path) -> None:
    settings = load(NotificationSettings, notify_channel="smtp", smtp_host="mail.example.org")
    assert (settings.notify_channel, settings.resolved_smtp_port()) == ("smtp", 587)
    assert load(StatesSettings, data_dir=tmp_path).resolved_database_url().endswith("produzir.db")
