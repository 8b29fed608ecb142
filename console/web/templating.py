"""Pages from Jinja2 templates, in Portuguese first and in English for those who prefer it.

:func:`render` is how a route answers with a page::

    return render(request, "web/board.html", {"rows": rows}, status_code=200)

Templates live in ``console/web/templates/`` and are named from there (``web/base.html``);
pages extend ``web/base.html`` and fill ``{% block title %}`` and ``{% block content %}``.
Every template gets, besides the route's context:

``user``        the logged-in :class:`~states.directory.User` (None on the login page)
``csrf_token``  the session's CSRF token: every POST form carries
                ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``
``lang``        ``pt-BR`` or ``en`` (the user's language; the login page: ``?lang=``)
``tz``          the user's time zone (IANA), for ``datetime``
``nav``         the navigation links the user may follow (see :data:`NAV`)
``request``     the request; ``url(name, **params)`` a route's path; ``static(file)`` a
                static file's address (with a version, so browsers may cache it)

Texts are written in Portuguese and translated with ``{{ t("Texto em português") }}`` or, with
values, ``{{ t("{n} casos", n=total) }}``; the English is in :data:`EN` (add a module's own
with :func:`add_messages`). A text with no English shows in Portuguese.

Filters (babel, the user's locale): ``date`` (``2 de mar. de 2026`` / ``Mar 2, 2026``; a
format: short, medium, long, full), ``datetime`` (in the user's time zone), ``number``,
``percent`` (0.25 → 25%), ``days`` (3 dias / 3 days), ``state`` (a state's label),
``event`` (an event's label), ``role`` (a role's name). Rendering is strict: an undefined name is an error, not a blank.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.routing import NoMatchFound

from console.web.auth import Authenticated
from console.web.policy import POLICY
from states.directory import LANGUAGES, User
from states.lifecycle import EVENTS_BY_NAME
from states.states import LABELS_EN, LABELS_PT, State

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
DEFAULT_LANGUAGE = "pt-BR"
DEFAULT_TIMEZONE = "America/Sao_Paulo"
_LOCALES = {"pt-BR": "pt_BR", "en": "en"}

#: English for the Portuguese texts of the pages: the Portuguese is the key.
EN: dict[str, str] = {
    # layout
    "Ir para o conteúdo": "Skip to content",
    "Navegação principal": "Main navigation",
    "Painel": "Board",
    "Prazos": "Due",
    "Indicadores": "Indicators",
    "Ciclo de vida": "Lifecycle",
    "Auditoria": "Audit",
    "Tokens de API": "API tokens",
    "Sair": "Log out",
    "Programa PRODUZIR": "PRODUZIR programme",
    # roles (ROLE_LABELS)
    "coordenador(a)": "coordinator",
    "supervisor(a)": "supervisor",
    "gestor(a)": "manager",
    "auditor(a)": "auditor",
    "administrador(a)": "administrator",
    # login
    "Entrar": "Log in",
    "Entrar no PRODUZIR": "Log in to PRODUZIR",
    "Usuário": "User name",
    "Senha": "Password",
    "English": "English",
    "Português": "Português",
    "Não foi possível entrar: usuário ou senha incorretos, ou acesso bloqueado por algum tempo "
    "após tentativas repetidas.": "Could not log in: wrong user name or password, or access "
    "blocked for a while after repeated attempts.",
    "O formulário expirou. Tente de novo.": "The form expired. Please try again.",
    "Informe o usuário e a senha.": "Enter your user name and password.",
    "Você saiu.": "You have logged out.",
    # tokens
    "Seus tokens de API": "Your API tokens",
    "Um token permite que um programa use a API em seu nome, com o seu papel e o seu "
    "território. Envie-o no cabeçalho": "A token lets a program use the API on your behalf, "
    "with your role and your territory. Send it in the header",
    "Novo token": "New token",
    "Nome": "Name",
    "para que serve, ex.: planilha de acompanhamento": "what it is for, e.g. follow-up spreadsheet",
    "Criar token": "Create token",
    "Copie o token agora: ele não será mostrado de novo.": "Copy the token now: it will not be "
    "shown again.",
    "Início": "Starts with",
    "Criado em": "Created",
    "Último uso": "Last used",
    "Situação": "Status",
    "ativo": "active",
    "revogado em {when}": "revoked on {when}",
    "Revogar": "Revoke",
    "nunca": "never",
    "Você ainda não tem tokens.": "You have no tokens yet.",
    # errors
    "Não encontrado": "Not found",
    "Acesso negado": "Access denied",
    "Dados inválidos": "Invalid data",
    "Conflito": "Conflict",
    "Login necessário": "Login required",
    "Erro": "Error",
    "Voltar ao painel": "Back to the board",
}


#: Each role's name, in Portuguese (translated with :data:`EN`).
ROLE_LABELS = {
    "coordinator": "coordenador(a)",
    "supervisor": "supervisor(a)",
    "manager": "gestor(a)",
    "auditor": "auditor(a)",
    "admin": "administrador(a)",
}


def add_messages(english: Mapping[str, str]) -> None:
    """Add the English of a module's Portuguese texts; ValueError on a clash."""
    for pt, en in english.items():
        if EN.get(pt, en) != en:
            raise ValueError(f"two translations of {pt!r}: {EN[pt]!r} and {en!r}")
        EN[pt] = en


def translate(text: str, language: str, **values: Any) -> str:
    """``text`` (Portuguese) in ``language``, with ``{name}`` placeholders filled."""
    out = EN.get(text, text) if language == "en" else text
    return out.format(**values) if values else out


# --- navigation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    active: bool


#: The layout's links: route name and Portuguese label. A link shows once its route exists
#: and the user's role may follow it (POLICY).
NAV: tuple[tuple[str, str], ...] = (
    ("board", "Painel"),
    ("due", "Prazos"),
    ("indicators", "Indicadores"),
    ("lifecycle", "Ciclo de vida"),
    ("audit.verify", "Auditoria"),
    ("tokens.list", "Tokens de API"),
)


def nav_for(request: Request, user: User | None, language: str) -> list[NavItem]:
    if user is None:
        return []
    items = []
    for name, label in NAV:
        access = POLICY.get(name)
        if access is None or not access.allows(user.role):
            continue
        try:
            href = str(request.app.url_path_for(name))
        except NoMatchFound:
            continue
        here = request.url.path
        active = here == href if href == "/" else here.startswith(href)
        items.append(NavItem(href, translate(label, language), active))
    return items


# --- filters ----------------------------------------------------------------------------------


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _filters(language: str) -> dict[str, Callable[..., str]]:
    locale = _LOCALES[language]
    labels = LABELS_EN if language == "en" else LABELS_PT

    def date_(value: Any, fmt: str = "medium") -> str:
        if value is None:
            return "—"
        return format_date(_as_date(value), format=fmt, locale=locale)

    @pass_context
    def datetime_(context: Context, value: Any, fmt: str = "short") -> str:
        if value is None:
            return "—"
        instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        zone = ZoneInfo(str(context.get("tz") or DEFAULT_TIMEZONE))
        return format_datetime(instant, format=fmt, tzinfo=zone, locale=locale)

    def number(value: Any, digits: int | None = None) -> str:
        if value is None:
            return "—"
        if digits is None:
            return format_decimal(value, locale=locale)
        return format_decimal(
            value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=locale
        )

    def percent(value: Any) -> str:
        return "—" if value is None else format_percent(value, locale=locale)

    def days(value: Any) -> str:
        count = int(value)
        if language == "pt-BR":
            word = "dia" if abs(count) == 1 else "dias"
        else:
            word = "day" if abs(count) == 1 else "days"
        return f"{format_decimal(count, locale=locale)} {word}"

    def state(value: Any) -> str:
        try:
            return labels[State(str(value))]
        except ValueError:
            return str(value)

    def event(value: Any) -> str:
        spec = EVENTS_BY_NAME.get(str(value))
        if spec is None:
            return str(value)
        return spec.label_en if language == "en" else spec.label_pt

    def role(value: Any) -> str:
        return translate(ROLE_LABELS.get(str(value), str(value)), language)

    return {
        "role": role,
        "date": date_,
        "datetime": datetime_,
        "number": number,
        "percent": percent,
        "days": days,
        "state": state,
        "event": event,
    }


@cache
def environment(language: str) -> Environment:
    """The templates' environment for one language (compiled templates are kept)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(_filters(language))

    def t(text: str, **values: Any) -> str:
        return translate(text, language, **values)

    env.globals.update({"t": t, "lang": language, "static": static_url})
    return env


@cache
def static_url(name: str) -> str:
    """The address of a file in ``console/web/static`` with a version of its content."""
    path = STATIC_DIR / name
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"
    return f"/static/{name}?v={version}"


# --- rendering --------------------------------------------------------------------------------


def current_user(request: Request) -> User | None:
    auth = getattr(request.state, "auth", None)
    return auth.user if isinstance(auth, Authenticated) else None


def language_of(request: Request) -> str:
    """The user's language; before login, ``?lang=`` if it names one; else Portuguese."""
    user = current_user(request)
    if user is not None and user.language in LANGUAGES:
        return user.language
    asked = request.query_params.get("lang")
    return asked if asked in LANGUAGES else DEFAULT_LANGUAGE


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` rendered for the request's user in their language."""
    language = language_of(request)
    auth = getattr(request.state, "auth", None)
    user = current_user(request)

    def url(name: str, **params: Any) -> str:
        return str(request.app.url_path_for(name, **params))

    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "csrf_token": auth.csrf_token if isinstance(auth, Authenticated) else None,
        "tz": user.timezone if user is not None else DEFAULT_TIMEZONE,
        "nav": nav_for(request, user, language),
        "url": url,
    }
    values.update(context or {})
    html = environment(language).get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
