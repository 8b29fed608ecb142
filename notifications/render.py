"""Messages from templates: the built-in ones (pt-BR and English) and administrators' overrides.

:func:`render` turns a template name, a language and a context of plain data (what an outbox
row stores) into a :class:`Rendered` message: a one-line subject, plain text and HTML. The
context each template takes is documented in :data:`PLACEHOLDERS`; a few more values are
derived at render time in the recipient's language (:data:`DERIVED`: state labels, what a
state needs to be completed, the digest's groups). Dates and numbers go through babel for the
locale: ``{{ due_on|date }}`` → ``2 de março de 2026`` / ``March 2, 2026``,
``{{ n|number }}``, ``{{ days|days }}`` → ``3 dias`` / ``3 days``.

Built-in templates live in ``notifications/templates/<language>/`` (package data, read with
importlib.resources). They render with StrictUndefined and HTML autoescaping.

An administrator's override (table ``template_overrides``, one row per template, language and
part) replaces one part of one template. It renders in Jinja2's immutable sandbox with no
globals, only the documented placeholders and the locale filters. :func:`save_override`
refuses, at save time and with the reason, a body that does not parse, names an unknown
placeholder, reaches for attributes starting with ``_``, uses the ``attr`` filter, includes
or imports templates, or fails (or trips the sandbox) when rendered with a sample context.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import (
    Environment,
    FunctionLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    meta,
    nodes,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.codes import obligation_text
from notifications.i18n import render as render_text
from notifications.models import TemplateOverride
from notifications.settings import public_url
from states import queries
from states.directory import LANGUAGES, User
from states.errors import InvalidInput
from states.lifecycle import EVENTS_BY_NAME
from states.records import Obligation
from states.states import LABELS_EN, LABELS_PT, State, declared
from states.text import N_

log = logging.getLogger(__name__)

TEMPLATES = (
    "reminder",
    "escalation",
    "assignment",
    "transition",
    "digest",
    "checkpoint",
    "lgpd_deadline",
)
PARTS = ("subject", "text", "html")
_LOCALES = {"pt-BR": "pt_BR", "en": "en"}
MAX_OVERRIDE_CHARS = 20_000
#: the most characters one render of a part may produce; an override whose sample render
#: produces more is refused when it is saved
MAX_RENDER_CHARS = 100_000

# --- what each template receives ------------------------------------------------------------

_CASE: dict[str, str] = {
    "recipient_name": "name of the person the message is for",
    "case_id": "case number (integer)",
    "community": "the community that raised the demand",
    "municipality": "the municipality's name",
    "uf": "the municipality's state (two letters, e.g. CE)",
    "state": "the case's state code (e.g. em_analise)",
    "state_label": "DERIVED: the state's name in the message's language",
    "state_task": "DERIVED: what completes the state, as a verb phrase in the message's language "
    "(e.g. 'record the eligibility decision ...')",
    "case_url": "DERIVED: the case's page in the web console (PRODUZIR_PUBLIC_URL/cases/N)",
    "due_url": "DERIVED: the due list in the web console (PRODUZIR_PUBLIC_URL/due)",
}
_DEADLINE: dict[str, str] = {
    "obligation": "what is due when it is a dated obligation (its description, e.g. the "
    "registry filing of an enterprise), or null when it is the state's own deadline",
    "due_on": "the due date (ISO date, YYYY-MM-DD)",
}
_CONTACT: dict[str, str] = {
    "contact_name": "whom to ask for help: the territory's supervisor (null: a generic line)",
    "contact_email": "the contact's e-mail address (may be null)",
}
_ITEM: dict[str, str] = {
    "category": "reminder | escalation | assignment | transition",
    "case_id": "case number",
    "community": "the community",
    "municipality": "the municipality's name",
    "uf": "the municipality's state",
    "state": "the case's state code",
    "state_label": "DERIVED: the state's name in the message's language",
    "case_url": "DERIVED: the case's page in the web console",
    "obligation": "the obligation's description, or null for the state's deadline",
    "due_on": "due date (ISO) or null",
    "days": "days until the due date (upcoming) or since it (overdue); 0 on the day; may be "
    "null for assignment and transition items",
    "step": "before | due | late (reminders), the escalation level (escalations), null otherwise",
}

#: The documented placeholders of each template: name -> description. "DERIVED" ones are
#: computed at render time from the others (any value given for them is replaced).
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "reminder": {
        **_CASE,
        **_DEADLINE,
        "days": "whole calendar days until the due date (step before), 0 on the day (step "
        "due), or since it (step late)",
        "step": "before | due | late",
        **_CONTACT,
    },
    "escalation": {
        **_CASE,
        **_DEADLINE,
        "days": "whole calendar days since the due date",
        "step": "who is being told: supervisor (the territory's) | management (the programme's)",
        "coordinator_name": "the case's coordinator, whom to talk to (null: none assigned)",
        "coordinator_email": "the coordinator's e-mail address (may be null)",
    },
    "assignment": {
        **_CASE,
        "due_on": "the current state's deadline (ISO date) or null",
        "assigned_by": "who made the assignment (name or user name)",
        **_CONTACT,
    },
    "transition": {
        **_CASE,
        "event": "the event's code (e.g. aprovar_elegibilidade)",
        "event_label": "DERIVED: the event's name in the message's language",
        "from_state": "the state the case left (code)",
        "from_state_label": "DERIVED: its name in the message's language",
        "actor": "who recorded the event",
        "note": "the note recorded with the event, or null",
        "due_on": "the new state's deadline (ISO date) or null",
        **_CONTACT,
    },
    "digest": {
        "recipient_name": "name of the person the digest is for",
        "day": "the digest's date (ISO date)",
        "due_url": "DERIVED: the due list in the web console (PRODUZIR_PUBLIC_URL/due)",
        "items": "list of items, each a mapping with: "
        + "; ".join(f"{k}: {v}" for k, v in _ITEM.items()),
        "overdue": "DERIVED: the items past their due date (escalations and late reminders)",
        "due_today": "DERIVED: the items due today",
        "upcoming": "DERIVED: the items due later",
        "updates": "DERIVED: assignments and transitions",
    },
    "checkpoint": {
        "recipient_name": "name of the auditor the message is for",
        "day": "the message's date (ISO date)",
        "log": "the log's identifier (PRODUZIR_AUDIT_LOG_ID)",
        "tree_size": "how many entries the checkpoint covers",
        "root_hash": "the Merkle tree's root hash (64 hex digits)",
        "signed_at": "when it was signed (UTC, as signed: YYYY-MM-DDTHH:MM:SS.ffffffZ)",
        "key_id": "the id of the key that signed it",
        "line": "the checkpoint as one JSON line, exactly as produzir audit verify --against "
        "reads it",
        "verify_url": "DERIVED: the log's verification page in the web console "
        "(PRODUZIR_PUBLIC_URL/audit/verify)",
    },
}
PLACEHOLDERS["lgpd_deadline"] = {
    "recipient_name": "name of the administrator (or manager) the message is for",
    "register": "request (a data subject's request, LGPD art. 19 II) | incident (Resolução "
    "CD/ANPD 15/2024)",
    "number": "the request's or incident's number",
    "since": "the day the request was received or the incident known (ISO date)",
    "due_on": "the due date (ISO date)",
    "days": "whole calendar days until the due date (step before), 0 on the day, or since it",
    "step": "before | due | late (to the administrators), supervisor | management (escalations)",
}
ITEM_PLACEHOLDERS = _ITEM

#: The placeholders computed at render time, per template.
DERIVED: dict[str, frozenset[str]] = {
    name: frozenset(k for k, v in spec.items() if v.startswith("DERIVED"))
    for name, spec in PLACEHOLDERS.items()
}

#: What completes each state (pt-BR, English): completes "é preciso ..." / "you need to ...".
STATE_TASKS: dict[str, tuple[str, str]] = {
    "registrada": (
        "iniciar a análise da demanda",
        "start the review of the demand",
    ),
    "em_analise": (
        "registrar a decisão de elegibilidade, com a classificação territorial (PNDR) usada",
        "record the eligibility decision with the territorial classification (PNDR) used",
    ),
    "polo_definido": (
        "registrar a decisão sobre o polo e o termo de adesão do município e dos parceiros",
        "record the hub decision and the adhesion term of the municipality and partners",
    ),
    "mobilizacao": (
        "concluir o diagnóstico das vocações produtivas e pré-cadastrar os participantes",
        "complete the diagnosis of productive vocations and pre-register the participants",
    ),
    "capacitacao": (
        "realizar o ECC, registrar a frequência dos participantes e formar os grupos dos "
        "empreendimentos",
        "hold the ECC, record the participants' attendance and form the enterprise groups",
    ),
    "gestao": (
        "registrar o plano de negócios de cada empreendimento",
        "record a business plan for each enterprise",
    ),
    "legalizacao": (
        "registrar, para cada empreendimento, a forma jurídica, a ata de fundação, o "
        "protocolo no registro e o CNPJ (ou o motivo de não tê-lo)",
        "record, for each enterprise, its legal form, founding act, registry filing and CNPJ "
        "(or why it has none)",
    ),
    "acompanhamento": (
        "instalar o CLAI, assinar o Protocolo de Ações Integradas e registrar as visitas "
        "periódicas de acompanhamento",
        "install the CLAI, sign the Protocol of Integrated Actions and record the periodic "
        "follow-up visits",
    ),
    "avaliacao": (
        "registrar o relatório da instituição parceira e os indicadores (empreendimentos "
        "ativos, membros, renda)",
        "record the partner institution's report and the indicators (active enterprises, "
        "members, income)",
    ),
    "suspensa": (
        "retomar o caso ou registrar a nova previsão de retomada",
        "resume the case or record a new expected resume date",
    ),
    "indeferida": (
        "registrar a ciência do proponente, aguardar o prazo de recurso ou registrar o recurso "
        "da comunidade",
        "record the proponent's notice of the decision, wait for the appeal window to close or "
        "record the community's appeal",
    ),
    "em_reconsideracao": (
        "obter da autoridade que indeferiu a reconsideração da decisão ou o encaminhamento do "
        "recurso à autoridade superior (Lei 9.784/1999, art. 56 §1)",
        "have the authority that rejected the demand reconsider its decision or forward the "
        "appeal to the superior authority (Lei 9.784/1999 art. 56 §1)",
    ),
    "recurso_superior": (
        "obter a decisão da autoridade superior sobre o recurso (Lei 9.784/1999, art. 59 §1)",
        "have the superior authority decide the appeal (Lei 9.784/1999 art. 59 §1)",
    ),
}

# --- sample contexts (save-time test renders) -------------------------------------------------

_SAMPLE_CASE: dict[str, Any] = {
    "recipient_name": "Ana Souza",
    "case_id": 1234,
    "community": "Assentamento Boa Vista",
    "municipality": "Quixadá",
    "uf": "CE",
    "state": "em_analise",
}
_SAMPLE_CONTACT = {"contact_name": "Bruno Lima", "contact_email": "bruno.lima@example.org"}
_SAMPLE_ITEMS: list[dict[str, Any]] = [
    {
        "category": category,
        "case_id": 1200 + n,
        "community": "Assentamento Boa Vista",
        "municipality": "Quixadá",
        "uf": "CE",
        "state": "legalizacao",
        "obligation": obligation,
        "due_on": due_on,
        "days": days,
        "step": step,
    }
    for n, (category, obligation, due_on, days, step) in enumerate(
        [
            ("escalation", None, "2026-02-20", 10, "supervisor"),
            ("reminder", "Protocolo no registro: Cooperativa Mel", "2026-02-27", 3, "late"),
            ("reminder", None, "2026-03-02", 0, "due"),
            ("reminder", "Visita de acompanhamento", "2026-03-05", 3, "before"),
            ("assignment", None, "2026-04-01", None, None),
            ("transition", None, None, None, None),
        ]
    )
]

#: A context each template renders with: what overrides are test-rendered with at save time.
SAMPLES: dict[str, dict[str, Any]] = {
    "reminder": {
        **_SAMPLE_CASE,
        "obligation": None,
        "due_on": "2026-03-05",
        "days": 3,
        "step": "before",
        **_SAMPLE_CONTACT,
    },
    "escalation": {
        **_SAMPLE_CASE,
        "obligation": "Protocolo no registro: Cooperativa Mel do Sertão",
        "due_on": "2026-02-20",
        "days": 10,
        "step": "supervisor",
        "coordinator_name": "Ana Souza",
        "coordinator_email": "ana.souza@example.org",
    },
    "assignment": {
        **_SAMPLE_CASE,
        "due_on": "2026-04-01",
        "assigned_by": "Carla Mendes",
        **_SAMPLE_CONTACT,
    },
    "transition": {
        **_SAMPLE_CASE,
        "state": "polo_definido",
        "event": "aprovar_elegibilidade",
        "from_state": "em_analise",
        "actor": "Carla Mendes",
        "note": "Microrregião prioritária da PNDR.",
        "due_on": "2026-04-01",
        **_SAMPLE_CONTACT,
    },
    "digest": {"recipient_name": "Ana Souza", "day": "2026-03-02", "items": _SAMPLE_ITEMS},
    "checkpoint": {
        "recipient_name": "Rui Alves",
        "day": "2026-03-02",
        "log": "produzir",
        "tree_size": 48213,
        "root_hash": "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        "signed_at": "2026-03-02T10:05:00.000000Z",
        "key_id": "3f2a9c1d0b7e4a65",
        "line": '{"key_id":"3f2a9c1d0b7e4a65","kind":"produzir-checkpoint/v1","log":"produzir",'
        '"root_hash":"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",'
        '"signature":"(sample)","timestamp":"2026-03-02T10:05:00.000000Z","tree_size":48213}',
    },
    "lgpd_deadline": {
        "recipient_name": "Adm Sistema",
        "register": "request",
        "number": 7,
        "since": "2027-02-05",
        "due_on": "2027-02-22",
        "days": 3,
        "step": "before",
    },
}


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel: one-line subject, plain text and HTML."""

    subject: str
    text: str
    html: str


# --- validation of names ------------------------------------------------------------------


def check_known(name: str, language: str, part: str | None = None) -> None:
    """InvalidInput listing the known ones when the template, language or part is unknown."""
    if name not in TEMPLATES:
        raise InvalidInput(
            N_(
                "unknown template %(name)s; templates are: %(value)s",
                name=repr(name),
                value=", ".join(TEMPLATES),
            ),
            field="template",
        )
    if language not in LANGUAGES:
        raise InvalidInput(
            N_(
                "unknown language %(language)s; languages are: %(value)s",
                language=repr(language),
                value=", ".join(LANGUAGES),
            ),
            field="language",
        )
    if part is not None and part not in PARTS:
        raise InvalidInput(
            N_(
                "unknown part %(part)s; parts are: %(value)s",
                part=repr(part),
                value=", ".join(PARTS),
            ),
            field="part",
        )


# --- locale filters ---------------------------------------------------------------------------


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _filters(language: str) -> dict[str, Callable[..., str]]:
    locale = _LOCALES[language]

    def date_(value: Any, fmt: str = "long") -> str:
        if value is None:
            return "—"
        if fmt not in ("short", "medium", "long", "full"):
            raise ValueError(f"date format {fmt!r}: use short, medium, long or full")
        return format_date(_as_date(value), format=fmt, locale=locale)

    def number(value: Any) -> str:
        return format_decimal(value, locale=locale)

    def days(value: Any) -> str:
        count = int(value)
        if language == "pt-BR":
            word = "dia" if abs(count) == 1 else "dias"
        else:
            word = "day" if abs(count) == 1 else "days"
        return f"{format_decimal(count, locale=locale)} {word}"

    return {"date": date_, "number": number, "days": days}


_ENV_OPTIONS: dict[str, Any] = {
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
}

# --- built-in templates -----------------------------------------------------------------------


def _resource_loader(language: str) -> FunctionLoader:
    root = resources.files("notifications") / "templates"

    def load(name: str) -> str:
        for folder in (language, "common"):
            candidate = root / folder / name
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8")
        raise TemplateNotFound(name)

    return FunctionLoader(load)


@cache
def _builtin_env(language: str) -> Environment:
    env = Environment(
        loader=_resource_loader(language),
        autoescape=select_autoescape(["html.j2"], default_for_string=False, default=False),
        auto_reload=False,
        **_ENV_OPTIONS,
    )
    env.filters.update(_filters(language))
    return env


def builtin_source(name: str, language: str, part: str) -> str:
    """The built-in template's source (a starting point for an administrator's override)."""
    check_known(name, language, part)
    return (
        resources.files("notifications") / "templates" / language / f"{name}.{part}.j2"
    ).read_text(encoding="utf-8")


# --- the sandbox for overrides ----------------------------------------------------------------

_MAX_REPEAT = 10_000


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox, with no globals and no way to build huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("exponent too large")
        if operator == "*":
            sizes = [
                a
                for a, b in ((left, right), (right, left))
                if isinstance(a, int) and isinstance(b, str | list | tuple)
            ]
            if any(size > _MAX_REPEAT for size in sizes):
                raise SecurityError("repetition too large")
            for a, b in ((left, right), (right, left)):
                if (
                    isinstance(a, int)
                    and isinstance(b, str | list | tuple)
                    and a * len(b) > MAX_RENDER_CHARS
                ):
                    raise SecurityError(
                        f"a repetition of {a * len(b)} items; at most {MAX_RENDER_CHARS}"
                    )
        return super().call_binop(context, operator, left, right)


@cache
def _sandbox(language: str, html: bool) -> _Sandbox:
    env = _Sandbox(autoescape=html, **_ENV_OPTIONS)
    env.globals.clear()  # no range, cycler, joiner, namespace, lipsum, dict
    env.filters.update(_filters(language))
    return env


@lru_cache(maxsize=256)
def _compiled(language: str, part: str, body: str) -> Template:
    return _sandbox(language, part == "html").from_string(body)


_FORBIDDEN_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.Include: "includes other templates",
    nodes.Import: "imports other templates",
    nodes.FromImport: "imports other templates",
    nodes.Extends: "extends another template",
}
_SPECIAL_NAMES = frozenset({"self", "super", "varargs", "kwargs"})


def _escape_attempts(tree: nodes.Template) -> Iterator[str]:
    """Reasons the template reaches outside its data, found in its syntax tree."""
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            yield f"reads the attribute {node.attr!r} (names starting with '_' are not allowed)"
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
            and node.arg.value.startswith("_")
        ):
            yield f"reads the item {node.arg.value!r} (names starting with '_' are not allowed)"
        elif isinstance(node, nodes.Filter | nodes.Test) and node.name == "attr":
            yield "uses the 'attr' filter, which is not allowed"
        elif isinstance(node, nodes.Name) and node.name in _SPECIAL_NAMES:
            yield f"uses {node.name!r}, which is not allowed"
        elif isinstance(node, nodes.Const) and (
            isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
            and abs(node.value) > 1_000_000
        ):
            yield f"uses the constant {node.value}, larger than any placeholder needs"
        elif type(node) in _FORBIDDEN_STATEMENTS:
            yield _FORBIDDEN_STATEMENTS[type(node)]


def validate_override(name: str, language: str, part: str, body: str) -> None:
    """InvalidInput with the reason(s) when ``body`` may not be saved as that override."""
    check_known(name, language, part)
    where = f"template {name} ({language}, {part})"
    if len(body) > MAX_OVERRIDE_CHARS:
        raise InvalidInput(
            N_(
                "%(where)s: %(value)s characters, at most %(MAX_OVERRIDE_CHARS)s",
                where=where,
                value=len(body),
                MAX_OVERRIDE_CHARS=MAX_OVERRIDE_CHARS,
            ),
            field="body",
        )
    env = _sandbox(language, part == "html")
    try:
        tree = env.parse(body)
    except TemplateSyntaxError as exc:
        raise InvalidInput(
            N_(
                "%(where)s does not parse: line %(lineno)s: %(message)s",
                where=where,
                lineno=exc.lineno,
                message=exc.message,
            ),
            field="body",
        ) from None
    problems = list(dict.fromkeys(_escape_attempts(tree)))
    allowed = set(PLACEHOLDERS[name])
    try:
        undeclared = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as exc:  # an unknown filter or test, found when compiling
        raise InvalidInput(
            N_(
                "%(where)s does not compile: line %(lineno)s: %(message)s",
                where=where,
                lineno=exc.lineno,
                message=exc.message,
            ),
            field="body",
        ) from None
    unknown = sorted(undeclared - allowed - _SPECIAL_NAMES)
    if unknown:
        problems.append(
            f"unknown placeholder{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(known: {', '.join(sorted(allowed))})"
        )
    if problems:
        raise InvalidInput(
            N_("%(where)s refused: %(value)s", where=where, value="; ".join(problems)), field="body"
        )
    try:
        template = env.from_string(body)
        size = 0
        for chunk in template.generate(_prepare(name, language, SAMPLES[name])):
            size += len(chunk)
            if size > MAX_RENDER_CHARS:
                raise InvalidInput(
                    f"{where} refused: its sample render is over {MAX_RENDER_CHARS} characters",
                    field="body",
                )
    except SecurityError as exc:
        raise InvalidInput(
            N_("%(where)s refused: the sandbox stopped it: %(exc)s", where=where, exc=exc),
            field="body",
        ) from None
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise InvalidInput(
            N_(
                "%(where)s refused: it fails with the sample context: %(name__)s: %(exc)s",
                where=where,
                name__=type(exc).__name__,
                exc=exc,
            ),
            field="body",
        ) from None


def save_override(
    session: Session,
    *,
    name: str,
    language: str,
    part: str,
    body: str,
    actor: str,
    now: datetime,
) -> TemplateOverride:
    """Validate and store (insert or replace) an administrator's override of one part."""
    validate_override(name, language, part, body)
    row = session.get(TemplateOverride, (name, language, part))
    if row is None:
        row = TemplateOverride(name=name, language=language, part=part)
        session.add(row)
    row.body = body
    row.updated_by = actor
    row.updated_at = now
    session.flush()
    return row


def delete_override(session: Session, *, name: str, language: str, part: str) -> bool:
    """Go back to the built-in part; False when there was no override."""
    check_known(name, language, part)
    row = session.get(TemplateOverride, (name, language, part))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def _overrides(session: Session, name: str, language: str) -> dict[str, str]:
    rows = session.execute(
        select(TemplateOverride.part, TemplateOverride.body).where(
            TemplateOverride.name == name, TemplateOverride.language == language
        )
    )
    return {part: body for part, body in rows}


# --- rendering ----------------------------------------------------------------------------


def _label(code: Any, language: str) -> str:
    try:
        state = State(code)
    except ValueError:  # a state only another lifecycle version has: its own label
        found = declared(str(code))
        return found.label(language) if found is not None else str(code)
    return (LABELS_PT if language == "pt-BR" else LABELS_EN)[state]


def _task(code: Any, language: str) -> str:
    pt, en = STATE_TASKS.get(str(code), ("", ""))
    return pt if language == "pt-BR" else en


def _when(item: Mapping[str, Any]) -> str:
    category, step = item.get("category"), item.get("step")
    if category == "escalation" or step == "late":
        return "overdue"
    if step == "due":
        return "due_today"
    if step == "before":
        return "upcoming"
    return "updates"


def _obligation(context: Mapping[str, Any], language: str) -> str:
    """An obligation is stored as kind + parameters: its sentence in the reader's language
    (rows written before that keep their stored description)."""
    text = obligation_text(
        str(context.get("obligation_kind")),
        context.get("obligation_params"),
        str(context.get("obligation")),
    )
    return render_text(text, language)


def _prepare(name: str, language: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """The documented placeholders from ``context`` plus the derived ones."""
    spec = PLACEHOLDERS[name]
    missing = [k for k in spec if k not in DERIVED[name] and k not in context]
    if missing:
        raise InvalidInput(
            N_(
                "template %(name)s: the context lacks %(value)s",
                name=name,
                value=", ".join(missing),
            ),
            field=missing[0],
        )
    values = {k: context[k] for k in spec if k not in DERIVED[name]}
    base = public_url()
    if "case_id" in values:
        values["case_url"] = f"{base}/cases/{values['case_id']}"
    values["due_url"] = f"{base}/due"
    if name == "checkpoint":
        values["verify_url"] = f"{base}/audit/verify"
    if values.get("obligation"):
        values["obligation"] = _obligation(context, language)
    if "state" in values:
        values["state_label"] = _label(values["state"], language)
        values["state_task"] = _task(values["state"], language)
    if name == "transition":
        values["from_state_label"] = _label(values["from_state"], language)
        event = EVENTS_BY_NAME.get(str(values["event"]))
        values["event_label"] = (
            str(values["event"])
            if event is None
            else (event.label_pt if language == "pt-BR" else event.label_en)
        )
    if name == "digest":
        items = values["items"]
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise InvalidInput(
                N_("template digest: items must be a list of mappings"), field="items"
            )
        prepared = [
            {
                **i,
                "state_label": _label(i.get("state"), language),
                "case_url": f"{base}/cases/{i.get('case_id')}",
                "obligation": _obligation(i, language) if i.get("obligation") else None,
            }
            for i in items
        ]
        values["items"] = prepared
        for group in ("overdue", "due_today", "upcoming", "updates"):
            values[group] = [i for i in prepared if _when(i) == group]
    return values


def _render_part(
    name: str, language: str, part: str, values: dict[str, Any], override: str | None
) -> str:
    where = f"template {name} ({language}, {part})"
    if override is not None:
        try:
            return _compiled(language, part, override).render(values)
        except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
            # A saved override was validated; if real data still breaks it, the message goes
            # out with the built-in part rather than not at all.
            log.warning(
                "%s: the override failed (%s: %s); using the built-in",
                where,
                type(exc).__name__,
                exc,
            )
    try:
        return _builtin_env(language).get_template(f"{name}.{part}.j2").render(values)
    except UndefinedError as exc:
        raise InvalidInput(
            N_("%(where)s: %(message)s", where=where, message=exc.message), field="context"
        ) from exc
    except (TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise InvalidInput(
            N_("%(where)s: %(name__)s: %(exc)s", where=where, name__=type(exc).__name__, exc=exc),
            field="context",
        ) from exc


def render(
    name: str, language: str, context: Mapping[str, Any], *, session: Session | None = None
) -> Rendered:
    """The message for ``context`` in ``language``; overrides apply when a session is given."""
    check_known(name, language)
    values = _prepare(name, language, context)
    overrides = _overrides(session, name, language) if session is not None else {}
    parts = {
        part: _render_part(name, language, part, values, overrides.get(part)) for part in PARTS
    }
    return Rendered(
        subject=" ".join(parts["subject"].split()),
        text=parts["text"].strip() + "\n",
        html=parts["html"].strip() + "\n",
    )


# --- preview of a real case ------------------------------------------------------------------


def _user(session: Session, username: str | None) -> User | None:
    return session.get(User, username) if username else None


def _supervisor(session: Session, uf: str) -> User | None:
    rows = session.execute(
        select(User).where(User.role == "supervisor", User.active.is_(True)).order_by(User.username)
    ).scalars()
    return next((u for u in rows if not u.territories or uf in u.territories), None)


def case_context(
    session: Session, name: str, case_id: int, *, today: date, language: str = "pt-BR"
) -> dict[str, Any]:
    """The context ``name`` would get for case ``case_id`` today (the case's state deadline,
    or its earliest open obligation when the state has none)."""
    check_known(name, language)
    detail = queries.case_detail(session, case_id, today=today)
    coordinator = _user(session, detail["coordinator"])
    supervisor = _supervisor(session, detail["uf"])
    someone = "coordenação do caso" if language == "pt-BR" else "case coordinator"
    base: dict[str, Any] = {
        "recipient_name": coordinator.name if coordinator else detail["coordinator"] or someone,
        "case_id": case_id,
        "community": detail["community"],
        "municipality": detail["municipality"],
        "uf": detail["uf"],
        "state": detail["state"],
        "contact_name": supervisor.name if supervisor else None,
        "contact_email": supervisor.email if supervisor else None,
    }
    due_on: str | None = detail["due_on"]
    obligation: str | None = None
    obligation_kind: str | None = None
    obligation_params: dict[str, Any] | None = None
    if due_on is None:
        first = session.execute(
            select(Obligation)
            .where(Obligation.case_id == case_id, Obligation.satisfied_on.is_(None))
            .order_by(Obligation.due_on, Obligation.id)
            .limit(1)
        ).scalar_one_or_none()
        if first is not None:
            due_on, obligation = first.due_on.isoformat(), first.description
            obligation_kind, obligation_params = first.kind, first.params
    days = (date.fromisoformat(due_on) - today).days if due_on else None
    step = None if days is None else "before" if days > 0 else "due" if days == 0 else "late"
    history = queries.history(session, case_id)
    if name in ("reminder", "escalation", "digest") and due_on is None:
        raise InvalidInput(
            N_(
                "case %(case_id)s has no deadline in state %(value)s and no open obligation: there is nothing for a %(name)s to say",
                case_id=case_id,
                value=detail["state"],
                name=name,
            ),
            field="case",
        )
    if name == "reminder":
        return {
            **base,
            "obligation": obligation,
            "obligation_kind": obligation_kind,
            "obligation_params": obligation_params,
            "due_on": due_on,
            "days": abs(days or 0),
            "step": step,
        }
    if name == "escalation":
        if step != "late":
            raise InvalidInput(
                N_(
                    "case %(case_id)s is not overdue (due on %(due_on)s): no escalation would be sent today; preview a late case, or the reminder",
                    case_id=case_id,
                    due_on=due_on,
                ),
                field="case",
            )
        supervisor_name = base["contact_name"] or (
            "supervisão do território" if language == "pt-BR" else "territory supervisor"
        )
        return {
            **{k: v for k, v in base.items() if not k.startswith("contact_")},
            "recipient_name": supervisor_name,
            "obligation": obligation,
            "obligation_kind": obligation_kind,
            "obligation_params": obligation_params,
            "due_on": due_on,
            "days": abs(days or 0),
            "step": "supervisor",
            "coordinator_name": coordinator.name if coordinator else detail["coordinator"],
            "coordinator_email": coordinator.email if coordinator else None,
        }
    if name == "assignment":
        assigned = [e for e in history if e["event"] == "atribuir"]
        by = assigned[-1]["actor"] if assigned else detail["updated_by"]
        return {**base, "due_on": detail["due_on"], "assigned_by": by}
    if name == "transition":
        moves = [
            e for e in history if e["from_state"] and e["to_state"] not in (None, e["from_state"])
        ]
        if not moves:
            raise InvalidInput(
                N_(
                    "case %(case_id)s has not changed state since it was registered: no transition to preview",
                    case_id=case_id,
                ),
                field="case",
            )
        last = moves[-1]
        return {
            **base,
            "event": last["event"],
            "from_state": last["from_state"],
            "actor": last["actor"],
            "note": last["note"],
            "due_on": detail["due_on"],
        }
    item = {
        "category": "escalation" if step == "late" else "reminder",
        **{k: base[k] for k in ("case_id", "community", "municipality", "uf", "state")},
        "obligation": obligation,
        "obligation_kind": obligation_kind,
        "obligation_params": obligation_params,
        "due_on": due_on,
        "days": abs(days or 0),
        "step": step,
    }
    return {"recipient_name": base["recipient_name"], "day": today.isoformat(), "items": [item]}


def preview(
    session: Session,
    name: str,
    case_id: int,
    language: str = "pt-BR",
    *,
    today: date,
) -> Rendered:
    """What ``name`` would say about case ``case_id`` today, overrides included
    (``produzir notify preview TEMPLATE --case ID [--lang en]``)."""
    context = case_context(session, name, case_id, today=today, language=language)
    return render(name, language, context, session=session)


__all__ = [
    "DERIVED",
    "ITEM_PLACEHOLDERS",
    "PARTS",
    "PLACEHOLDERS",
    "SAMPLES",
    "TEMPLATES",
    "Rendered",
    "builtin_source",
    "case_context",
    "check_known",
    "delete_override",
    "preview",
    "render",
    "save_override",
    "validate_override",
]
