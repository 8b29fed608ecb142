"""Message templates: both languages, locale formatting, escaping, StrictUndefined, the
administrators' overrides (refused at save time when they reach outside the sandbox), and the
preview of a real case."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from jinja2 import Environment, meta, nodes
from sqlalchemy import func, select

from notifications.models import TemplateOverride
from notifications.render import (
    DERIVED,
    PARTS,
    PLACEHOLDERS,
    TEMPLATES,
    builtin_source,
    delete_override,
    preview,
    render,
    save_override,
)
from states import queries
from states.clock import FixedClock
from states.directory import LANGUAGES, User
from states.errors import InvalidInput, NotFound
from tasks.cases import advance, assign
from tasks.runtime import Runtime
from tests.builders import cli_users, new_case

NOW = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
CASE: dict[str, Any] = {
    "recipient_name": "Maria das Dores",
    "case_id": 4321,
    "community": "Comunidade Quilombola Sítio Veiga",
    "municipality": "Quixadá",
    "uf": "CE",
    "state": "em_analise",
}
CONTACT = {"contact_name": "José Ribamar", "contact_email": "jose.ribamar@example.org"}
#: the templates about cases (the checkpoint e-mail is about the audit log, the LGPD deadline
#: about a register that belongs to no case: both tested below)
CASE_TEMPLATES = tuple(name for name in TEMPLATES if name not in ("checkpoint", "lgpd_deadline"))
LINE = (
    '{"key_id":"9c1d3f2a0b7e4a65","kind":"produzir-checkpoint/v1","log":"produzir",'
    '"root_hash":"' + "ab" * 32 + '","signature":"c2lnbmVk","timestamp":'
    '"2026-03-02T09:00:00.000000Z","tree_size":1234567}'
)


def context_for(name: str, **changes: Any) -> dict[str, Any]:
    """A complete context for ``name``, written here independently of render.SAMPLES."""
    contexts: dict[str, dict[str, Any]] = {
        "reminder": {
            **CASE,
            "obligation": None,
            "due_on": "2026-03-02",
            "days": 0,
            "step": "due",
            **CONTACT,
        },
        "escalation": {
            **CASE,
            "obligation": "Protocolo na Junta Comercial: Cooperativa Mel do Sertão",
            "due_on": "2026-02-20",
            "days": 10,
            "step": "supervisor",
            "coordinator_name": "Maria das Dores",
            "coordinator_email": "maria@example.org",
        },
        "assignment": {**CASE, "due_on": "2026-03-02", "assigned_by": "Carla", **CONTACT},
        "transition": {
            **CASE,
            "state": "polo_definido",
            "event": "aprovar_elegibilidade",
            "from_state": "em_analise",
            "actor": "Carla",
            "note": None,
            "due_on": "2026-03-02",
            **CONTACT,
        },
        "digest": {
            "recipient_name": "Maria das Dores",
            "day": "2026-03-02",
            "items": [
                {
                    "category": "reminder",
                    "case_id": 4321,
                    "community": CASE["community"],
                    "municipality": "Quixadá",
                    "uf": "CE",
                    "state": "em_analise",
                    "obligation": None,
                    "due_on": "2026-03-02",
                    "days": 0,
                    "step": "due",
                }
            ],
        },
        "checkpoint": {
            "recipient_name": "Rui Auditor",
            "day": "2026-03-02",
            "log": "produzir",
            "tree_size": 1234567,
            "root_hash": "ab" * 32,
            "signed_at": "2026-03-02T09:00:00.000000Z",
            "key_id": "9c1d3f2a0b7e4a65",
            "line": LINE,
        },
    }
    return {**contexts[name], **changes}


# --- built-in templates -------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", CASE_TEMPLATES)
def test_every_template_renders_in_both_languages(name: str, language: str) -> None:
    context = context_for(name)
    message = render(name, language, context)
    long_dates = {  # babel's long format, per language
        "2026-03-02": {"pt-BR": "2 de março de 2026", "en": "March 2, 2026"},
        "2026-02-20": {"pt-BR": "20 de fevereiro de 2026", "en": "February 20, 2026"},
    }
    expected_date = long_dates[context.get("due_on") or context["day"]][language]

    assert message.subject
    assert "\n" not in message.subject
    assert message.subject.startswith("[PRODUZIR]")
    if name != "digest":  # the digest's subject counts; its body lists the cases
        assert "4321" in message.subject
    for body in (message.text, message.html):
        assert "4321" in body
        assert "Sítio Veiga" in body
        assert "Quixadá/CE" in body
        assert expected_date in body
    assert f'<html lang="{language}">' in message.html
    assert message.html.rstrip().endswith("</html>")
    assert "<" not in message.text.replace("<jose.ribamar@example.org>", "").replace(
        "<maria@example.org>", ""
    )


@pytest.mark.parametrize(
    ("language", "register", "subject", "rule"),
    [
        (
            "pt-BR",
            "request",
            "[PRODUZIR] LGPD: requisição de titular 7: declaração completa, prazo em 3 dias, "
            "22 de fevereiro de 2027",
            "em até 15 dias (LGPD art. 19 II)",
        ),
        (
            "en",
            "incident",
            "[PRODUZIR] LGPD: incident 7: notices to the ANPD and to the people, due in 3 days, "
            "February 22, 2027",
            "within 3 working days (Resolução CD/ANPD 15/2024)",
        ),
    ],
)
def test_the_lgpd_deadline_message_names_the_register_and_its_rule(
    language: str, register: str, subject: str, rule: str
) -> None:
    context = {
        "recipient_name": "Adm Sistema",
        "register": register,
        "number": 7,
        "since": "2027-02-05",
        "due_on": "2027-02-22",
        "days": 3,
        "step": "before",
    }
    message = render("lgpd_deadline", language, context)
    assert message.subject == subject
    for body in (message.text, " ".join(message.html.split())):
        assert rule in body
    assert ("incident-notify 7" if register == "incident" else "request-answer 7") in message.text
    assert f'<html lang="{language}">' in message.html


@pytest.mark.parametrize(
    ("language", "subject", "count"),
    [
        ("pt-BR", "Ponto de controle do registro de auditoria de 2 de março de 2026", "1.234.567"),
        ("en", "Audit log checkpoint for March 2, 2026", "1,234,567"),
    ],
)
def test_the_checkpoint_mail_carries_the_line_to_keep(
    language: str, subject: str, count: str
) -> None:
    message = render("checkpoint", language, context_for("checkpoint"))
    assert message.subject == f"[PRODUZIR] {subject}: {count} " + (
        "entradas" if language == "pt-BR" else "entries"
    )
    # the line verify --against reads, whole and unwrapped, in both bodies
    assert LINE in message.text.splitlines()
    escaped = LINE.replace('"', "&#34;")
    assert escaped + "</pre>" in message.html  # escaped as HTML, kept whole
    for body in (message.text, message.html):
        assert "ab" * 32 in body
        assert "9c1d3f2a0b7e4a65" in body
        assert "produzir audit verify --against" in body
        assert count in body
    one = render("checkpoint", language, context_for("checkpoint", tree_size=1)).subject
    assert one.endswith(": 1 entrada" if language == "pt-BR" else ": 1 entry")


def test_dates_numbers_and_labels_follow_the_language() -> None:
    pt = render("reminder", "pt-BR", context_for("reminder", due_on="2026-03-05", days=3))
    en = render("reminder", "en", context_for("reminder", due_on="2026-03-05", days=3))

    # babel's long and full formats for 2026-03-05 (a Thursday)
    assert "quinta-feira, 5 de março de 2026" in pt.text
    assert "Thursday, March 5, 2026" in en.text
    assert "March" not in pt.text
    assert "março" not in en.text
    assert "prazo vence hoje" in pt.subject
    assert "due today" in en.subject
    assert "Em análise" in pt.text
    assert "Under review" in en.text

    before_pt = render("reminder", "pt-BR", context_for("reminder", step="before", days=1))
    before_en = render("reminder", "en", context_for("reminder", step="before", days=3))
    assert "vence em 1 dia:" in before_pt.text
    assert "due in 3 days" in before_en.subject

    many = [dict(context_for("digest")["items"][0], case_id=n) for n in range(1234)]
    digest_pt = render("digest", "pt-BR", context_for("digest", items=many))
    digest_en = render("digest", "en", context_for("digest", items=many))
    assert "1.234 avisos" in digest_pt.text
    assert "1,234 notices" in digest_en.text
    assert "1.234 para hoje" in digest_pt.subject
    assert "02/03/2026" in digest_pt.html  # the short pt-BR date in the digest's table


def test_digest_groups_items_by_what_they_need() -> None:
    item = context_for("digest")["items"][0]
    items = [
        dict(item, case_id=1, category="escalation", step="supervisor", days=9),
        dict(item, case_id=2, step="late", days=2, obligation="Visita de acompanhamento"),
        dict(item, case_id=3, step="due", days=0),
        dict(item, case_id=4, step="before", days=3, due_on="2026-03-05"),
        dict(item, case_id=5, category="assignment", step=None, days=None),
    ]
    text = render("digest", "en", context_for("digest", items=items)).text

    overdue = text.index("OVERDUE (2)")
    today = text.index("DUE TODAY (1)")
    coming = text.index("COMING UP (1)")
    news = text.index("NEWS (1)")
    assert overdue < text.index("Case 1 ") < text.index("Case 2 ") < today
    assert today < text.index("Case 3 ") < coming < text.index("Case 4 ") < news
    assert news < text.index("Case 5 ")
    assert "Visita de acompanhamento: was due on March 2, 2026, 2 days ago" in text
    assert "(escalated)" in text


def test_html_escapes_what_people_typed_and_text_keeps_it() -> None:
    hostile = "Vila <script>alert('x')</script> & Cia"
    message = render("reminder", "pt-BR", context_for("reminder", community=hostile))

    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Cia" in message.html
    assert hostile in message.text  # plain text is not HTML: shown as typed
    assert hostile in message.subject


def test_a_missing_placeholder_raises_instead_of_rendering_blank() -> None:
    context = context_for("reminder")
    del context["community"]
    with pytest.raises(InvalidInput, match="lacks community"):
        render("reminder", "pt-BR", context)

    broken_item = context_for("digest")
    del broken_item["items"][0]["community"]  # StrictUndefined inside the loop
    with pytest.raises(InvalidInput, match="community"):
        render("digest", "en", broken_item)


def test_unknown_template_or_language_lists_the_known_ones() -> None:
    with pytest.raises(
        InvalidInput, match="reminder, escalation, assignment, transition, digest, checkpoint"
    ):
        render("welcome", "pt-BR", {})
    with pytest.raises(InvalidInput, match="languages are: pt-BR, en"):
        render("reminder", "es", context_for("reminder"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_built_in_templates_use_only_documented_placeholders(name: str, language: str) -> None:
    env = Environment(autoescape=True)  # parsing only
    env.filters.update({"date": str, "number": str, "days": str})
    used: set[str] = set()
    for part in PARTS:
        tree = env.parse(builtin_source(name, language, part))
        macros = {
            alias if isinstance(alias, str) else alias[-1]
            for node in tree.find_all(nodes.FromImport)
            for alias in node.names
        }
        used |= meta.find_undeclared_variables(tree) - macros
    documented = set(PLACEHOLDERS[name])
    assert used <= documented, f"undocumented: {sorted(used - documented)}"
    given = documented - DERIVED[name] - {"state", "event", "from_state"}  # read as labels
    assert given <= used, f"documented but never used: {sorted(given - used)}"


# --- overrides ----------------------------------------------------------------------------


def _overrides(rt: Runtime) -> int:
    with rt.db.read() as session:
        return int(session.execute(select(func.count()).select_from(TemplateOverride)).scalar())


def test_a_valid_override_replaces_that_part_only(rt: Runtime) -> None:
    body = "Lembrete PRODUZIR: {{ community }}, {{ due_on|date('short') }} ({{ days|days }})"
    with rt.db.write() as session:
        save_override(
            session,
            name="reminder",
            language="pt-BR",
            part="subject",
            body=body,
            actor="admin",
            now=NOW,
        )
        save_override(
            session,
            name="reminder",
            language="pt-BR",
            part="html",
            body="<p>{{ community }}</p>",
            actor="admin",
            now=NOW,
        )
    context = context_for("reminder", community="Vila <b>")

    with rt.db.read() as session:
        overridden = render("reminder", "pt-BR", context, session=session)
        english = render("reminder", "en", context, session=session)
    built_in = render("reminder", "pt-BR", context)

    assert overridden.subject == "Lembrete PRODUZIR: Vila <b>, 02/03/2026 (0 dias)"
    assert overridden.html == "<p>Vila &lt;b&gt;</p>\n"  # overrides of html are autoescaped
    assert overridden.text == built_in.text
    assert english.subject.startswith("[PRODUZIR] Case 4321")
    with rt.db.write() as session:
        assert delete_override(session, name="reminder", language="pt-BR", part="subject")
    with rt.db.read() as session:
        assert render("reminder", "pt-BR", context, session=session).subject == built_in.subject


def test_an_override_with_an_unknown_placeholder_is_refused_with_its_name(rt: Runtime) -> None:
    with rt.db.write() as session, pytest.raises(InvalidInput) as refused:
        save_override(
            session,
            name="reminder",
            language="en",
            part="text",
            body="Dear {{ recipient_name }}, see {{ web_link }} and {{ cpf }}.",
            actor="admin",
            now=NOW,
        )
    assert "unknown placeholders cpf, web_link" in str(refused.value)
    assert "known: case_id, case_url, community" in str(refused.value)
    assert _overrides(rt) == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ ''.__class__.__mro__ }}", "'__class__'"),
        ("{{ community|attr('__class__') }}", "'attr' filter"),
        ("{{ x|attr('__class__') }}", "'attr' filter"),
        ("{{ cycler.__init__.__globals__ }}", "'__init__'"),
        ("{{ self.__init__ }}", "'self'"),
        ("{{ joiner.__init__.__globals__['os'] }}", "'__globals__'"),
        ("{{ community['__class__'] }}", "'__class__'"),
        ("{{ namespace() }}", "unknown placeholder namespace"),
        ("{{ lipsum() }}", "unknown placeholder lipsum"),
        ("{{ range(99) }}", "unknown placeholder range"),
        ("{% include 'reminder.text.j2' %}", "includes other templates"),
        ("{{ community * 100000 }}", "the sandbox stopped it"),
        ("{{ community.upper( }}", "does not parse"),
        ("{{ community|no_such_filter }}", "No filter named 'no_such_filter'"),
    ],
)
def test_sandbox_escapes_are_refused_at_save_time(rt: Runtime, body: str, reason: str) -> None:
    with rt.db.write() as session, pytest.raises(InvalidInput) as refused:
        save_override(
            session,
            name="reminder",
            language="pt-BR",
            part="html",
            body=body,
            actor="admin",
            now=NOW,
        )
    assert reason in str(refused.value)
    assert str(refused.value).startswith("template reminder (pt-BR, html)")
    assert _overrides(rt) == 0


def test_an_override_that_fails_on_the_sample_case_is_refused(rt: Runtime) -> None:
    with rt.db.write() as session, pytest.raises(InvalidInput, match="nope"):
        save_override(
            session,
            name="digest",
            language="en",
            part="text",
            body="{% for item in items %}{{ item.nope }}{% endfor %}",
            actor="admin",
            now=NOW,
        )
    assert _overrides(rt) == 0


def test_an_override_broken_by_real_data_falls_back_to_the_built_in(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with rt.db.write() as session:  # stored without save_override's checks, as if data changed
        session.add(
            TemplateOverride(
                name="reminder",
                language="en",
                part="subject",
                body="{{ community.missing }}",
                updated_by="admin",
                updated_at=NOW,
            )
        )
    with rt.db.read() as session:
        message = render("reminder", "en", context_for("reminder"), session=session)

    assert message.subject == render("reminder", "en", context_for("reminder")).subject
    assert "template reminder (en, subject): the override failed" in caplog.text


def test_a_malformed_date_in_the_context_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match=r"template reminder \(pt-BR, subject\): ValueError"):
        render("reminder", "pt-BR", context_for("reminder", step="before", due_on="2026-13-01"))


# --- preview of a real case ---------------------------------------------------------------


def _add_user(rt: Runtime, username: str, name: str, role: str, territories: list[str]) -> None:
    with rt.db.write() as session:
        session.add(
            User(
                username=username,
                name=name,
                email=f"{username}@example.org",
                role=role,
                territories=territories,
                language="pt-BR",
                timezone="America/Fortaleza",
                delivery="immediate",
                opted_out=[],
                active=True,
                created_at=NOW,
            )
        )


def test_preview_renders_a_real_case(rt: Runtime) -> None:
    _add_user(rt, "ana", "Ana Paula Holanda", "coordinator", ["CE"])
    _add_user(rt, "bia", "Beatriz Sobral", "supervisor", ["CE", "PI"])
    case_id = new_case(rt, community="Assentamento Lagoa Nova")
    assign(rt, case_id, "ana", actor="bia")
    today = rt.today()
    with rt.db.read() as session:
        detail = queries.case_detail(session, case_id, today=today)
        pt = preview(session, "reminder", case_id, "pt-BR", today=today)
        en = preview(session, "reminder", case_id, "en", today=today)

    due = datetime.fromisoformat(detail["due_on"]).date()
    months_pt = ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho"]
    months_en = ["January", "February", "March", "April", "May", "June", "July"]
    assert f"{due.day} de {months_pt[due.month - 1]} de {due.year}" in pt.text
    assert f"{months_en[due.month - 1]} {due.day}, {due.year}" in en.text
    for message in (pt, en):
        assert f"{case_id}" in message.subject
        assert "Assentamento Lagoa Nova" in message.text
        assert "Quixadá/CE" in message.text
        assert "Ana Paula Holanda" in message.text  # the coordinator, by name
        assert "Beatriz Sobral <bia@example.org>" in message.text  # whom to ask
    assert "Registrada" in pt.text
    assert "Registered" in en.text


def test_preview_of_an_assignment_a_transition_and_an_escalation(
    rt: Runtime, clock: FixedClock
) -> None:
    case_id = new_case(rt)
    cli_users(rt, "carla")  # a coordinator of the case's UF
    assign(rt, case_id, "carla", actor="diretor")
    with rt.db.read() as session:
        with pytest.raises(InvalidInput, match="not changed state since it was registered"):
            preview(session, "transition", case_id, "en", today=rt.today())
        with pytest.raises(InvalidInput, match="is not overdue"):
            preview(session, "escalation", case_id, "en", today=rt.today())
    advance(rt, case_id, "iniciar_analise", {}, actor="carla", note="Documentação completa.")
    with rt.db.read() as session:
        due = date.fromisoformat(queries.case_detail(session, case_id, today=rt.today())["due_on"])
    clock.set(datetime.combine(due + timedelta(days=3), time(15), UTC))
    today = rt.today()
    with rt.db.read() as session:
        assigned = preview(session, "assignment", case_id, "pt-BR", today=today)
        moved = preview(session, "transition", case_id, "en", today=today)
        escalated = preview(session, "escalation", case_id, "en", today=today)

    assert "diretor atribuiu a você a coordenação do caso" in assigned.text
    assert "Start review (Registered → Under review)" in moved.subject
    assert 'carla recorded "Start review"' in moved.text
    assert "Note:          Documentação completa." in moved.text
    assert "3 days late" in escalated.subject
    assert "Coordinator:  Carla" in escalated.text  # the user's name


def test_preview_uses_overrides_and_refuses_unknown_cases(rt: Runtime) -> None:
    case_id = new_case(rt, community="Sítio Cajazeiras")
    with rt.db.write() as session:
        save_override(
            session,
            name="reminder",
            language="en",
            part="subject",
            body="Due: {{ community }} ({{ municipality }}/{{ uf }})",
            actor="admin",
            now=NOW,
        )
    with rt.db.read() as session:
        message = preview(session, "reminder", case_id, "en", today=rt.today())
        assert message.subject == "Due: Sítio Cajazeiras (Quixadá/CE)"
        with pytest.raises(NotFound, match="case 999 does not exist"):
            preview(session, "reminder", 999, "en", today=rt.today())
        with pytest.raises(InvalidInput, match="unknown template 'welcome'"):
            preview(session, "welcome", case_id, "en", today=rt.today())
