"""Portuguese all the way through, English complete: every page, message template and error
code rendered in pt-BR and in English, with no msgid left untranslated and no sentence of the
other language in the output; and the catalogs themselves complete (what ``make lint`` runs)."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import update

from notifications import catalogs
from notifications.i18n import po_path, render
from notifications.render import PLACEHOLDERS, SAMPLES
from notifications.render import render as render_message
from states.directory import User
from states.errors import (
    Conflict,
    DeliveryFailed,
    GuardFailed,
    InvalidInput,
    NotAllowed,
    NotFound,
    TransitionNotAllowed,
)
from states.text import N_, Np_
from tests.web.conftest import CE_CASE

#: words that only English sentences use (a pt-BR page showing one has an English sentence)
ENGLISH = {
    "the", "is", "are", "was", "has", "have", "not", "with", "which", "must", "needed",
    "should", "been", "cannot", "does", "your", "you", "and", "of", "at", "least", "refused",
    "allowed", "due", "late", "left", "days", "none", "case", "cases",
}  # fmt: skip
#: words that only Portuguese sentences use
PORTUGUESE = {
    "não", "está", "você", "deve", "foi", "já", "prazo", "prazos", "recusado", "atrasado",
    "nenhum", "nenhuma", "sem", "vence", "dias", "caso", "casos", "é", "são",
}  # fmt: skip
#: msgids whose Portuguese is rightly the same as the English (names, codes, formats)
SAME_IN_BOTH = re.compile(
    r"^(%\(\w+\)s[\W]*)+$|^(ECC|ECM|CLAI|RCPJ|Junta Comercial|UF|UFs|CNPJ|CPF|token|Total|total|E-mail|JSON|CSV|"
    r"PRODUZIR.*|Português|English|e-mail|%\(\w+\)s: %\(\w+\)s|ECC %\(ecc_id\)s|Status|Chain head)$"
)

PAGES = (
    "/",
    "/?overdue=true",
    "/due",
    "/bulk",
    f"/cases/{CE_CASE}",
    f"/cases/{CE_CASE}/surveys",
    "/lifecycle",
    "/indicators",
    "/tokens",
    f"/audit/cases/{CE_CASE}",
    f"/audit/cases/{CE_CASE}?at=2026-03-02",
    "/audit/verify",
    "/audit/verify?run=true",
    "/audit/verify?run=true&full=true",
    "/audit/export",
    "/audit/access-log",
    "/no/such/page",
    "/?uf=Ceará",
)


def visible_text(page: str) -> str:
    """What a reader sees: no tags, scripts or styles, entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"https?://\S+", " ", html.unescape(page))  # addresses are not sentences


def foreign_words(text: str, language: str) -> set[str]:
    words = set(re.findall(r"[a-zà-ú]+", text.lower()))
    return words & (ENGLISH if language == "pt-BR" else PORTUGUESE)


def set_language(rt: Any, username: str, language: str) -> None:
    with rt.db.write() as session:
        session.execute(update(User).where(User.username == username).values(language=language))


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_every_page_speaks_one_language(client_for, web_rt, language) -> None:
    for username in ("ana.coord", "rui.auditor", "gil.manager"):
        set_language(web_rt, username, language)
    found: dict[str, set[str]] = {}
    for username, paths in (
        ("ana.coord", [p for p in PAGES if not p.startswith("/audit")]),
        ("rui.auditor", [p for p in PAGES if p.startswith("/audit")]),
    ):
        client = client_for(username)
        for path in paths:
            page = client.get(path)
            assert page.status_code in (200, 404, 422), (path, page.status_code)
            assert f'<html lang="{language}">' in page.text, path
            words = foreign_words(visible_text(page.text), language)
            if words:
                found[path] = words
    # a refusal, shown by its form
    client = client_for("ana.coord")
    token = auth_token(web_rt, client)
    refused = client.post(
        f"/cases/{CE_CASE}/advance",
        data={
            "csrf_token": token,
            "event": "suspender",
            "expected_version": "1",
            "ev.reason": "chuvas",
            "ev.expected_resume_on": (web_rt.today() + timedelta(days=9)).isoformat(),
        },
    )
    assert refused.status_code == 409
    words = foreign_words(visible_text(refused.text), language)
    if words:
        found["refusal"] = words
    assert found == {}


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_a_broken_audit_log_is_named_in_the_language(client_for, web_rt, language) -> None:
    """The verification's problem (its kind and what is wrong) comes from the catalogs."""
    set_language(web_rt, "rui.auditor", language)
    with web_rt.db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        connection.exec_driver_sql(
            "UPDATE audit_events SET entry = replace(entry, 'ana.coord', 'mallory') "
            "WHERE seq = (SELECT min(seq) FROM audit_events WHERE case_id = 1)"
        )
    page = client_for("rui.auditor").get("/audit/verify?run=true&full=true")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert 'data-ok="false"' in page.text
    assert foreign_words(text, language) == set(), text
    if language == "pt-BR":
        assert "Registro ADULTERADO" in text
        assert "não corresponde ao hash da sua folha" in text
    else:
        assert "Log TAMPERED WITH" in text
        assert "does not match its leaf hash" in text


def auth_token(rt: Any, client: Any) -> str:
    from tests.web.conftest import csrf_of

    return csrf_of(rt, client)


def every_error() -> list[Any]:
    """One of each error code, with the sentences the domain raises most."""
    return [
        InvalidInput(N_("%(what)s: %(value)s is not a date (YYYY-MM-DD)", what="on", value="x")),
        NotFound("case", 7),
        NotFound("person", 3),
        NotAllowed(N_("hub %(hub)s has no signed Protocol to add commitments to", hub=2311306)),
        TransitionNotAllowed(7, "iniciar_analise", "polo_definido", ["formalizar_polo", "anotar"]),
        GuardFailed(
            7,
            "concluir_mobilizacao",
            Np_(
                "%(n)s participant pre-registered; at least %(needed)s needed",
                "%(n)s participants pre-registered; at least %(needed)s needed",
                31,
                needed=40,
            ),
        ),
        Conflict(7, 3, 4, "ana.coord", datetime(2026, 3, 2, 13, 0, tzinfo=auth_utc())),
        DeliveryFailed(N_("%(server)s: connection refused", server="smtp"), transient=True),
    ]


def auth_utc() -> Any:
    from datetime import UTC

    return UTC


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_every_error_code_is_rendered_in_the_language(language) -> None:
    for error in every_error():
        sentence = render(error.text, language)
        assert foreign_words(sentence, language) == set(), (error.code, sentence)
    # plurals: one and many
    one = render(Np_("%(n)s day", "%(n)s days", 1), language)
    assert one == ("1 dia" if language == "pt-BR" else "1 day")
    assert render(Np_("%(n)s day", "%(n)s days", 2), language).endswith("s")


@pytest.mark.parametrize("language", ["pt-BR", "en"])
@pytest.mark.parametrize("name", sorted(PLACEHOLDERS))
def test_every_message_template_speaks_one_language(name, language) -> None:
    message = render_message(name, language, SAMPLES[name])
    for part in (message.subject, visible_text(message.text), visible_text(message.html)):
        assert foreign_words(part, language) == set(), (name, part)


@pytest.mark.parametrize("locale", ["pt_BR", "en"])
def test_every_msgid_has_its_translation(locale) -> None:
    with po_path("pt-BR" if locale == "pt_BR" else "en").open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    untranslated, same = [], []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        key = message.id if isinstance(message.id, str) else message.id[0]
        if message.fuzzy or not all(strings):
            untranslated.append(key)
        if locale == "pt_BR" and strings[0] == key and not SAME_IN_BOTH.match(key):
            same.append(key)
    assert untranslated == []
    assert same == []  # a Portuguese "translation" that is still the English


def test_the_catalogs_are_complete_and_compile() -> None:
    """What make lint (so CI) runs: every msgid of the sources in both catalogs, none fuzzy or
    empty, pybabel compile clean."""
    assert catalogs.problems() == []


def test_dates_and_numbers_follow_the_language() -> None:
    text = N_("due on %(due_on)s, %(n)s people", due_on=date(2027, 1, 4), n=1234)
    assert render(text, "en") == "due on Jan 4, 2027, 1,234 people"
    # not in the catalog: the English msgid, with the Portuguese formats
    assert render(text, "pt-BR") == "due on 4 de jan. de 2027, 1.234 people"


def test_counts_take_their_plural_form() -> None:
    """The issue's examples: "faltam 1 dia", "1 recusados", "1 days recorded"."""
    from console.web.templating import environment

    for language, one, two in (
        ("pt-BR", "falta 1 dia", "faltam 2 dias"),
        ("en", "1 day left", "2 days left"),
    ):
        macros = environment(language).get_template("web/_macros.html").module
        assert one in str(macros.deadline(date(2026, 3, 3), 1, False))  # type: ignore[attr-defined]
        assert two in str(macros.deadline(date(2026, 3, 4), 2, False))  # type: ignore[attr-defined]
    bulk = environment("pt-BR").from_string(
        '{{ ngettext("%(num)s refused", "%(num)s refused", n, num=n) }}'
    )
    assert (bulk.render(n=1), bulk.render(n=3)) == ("1 recusado", "3 recusados")
