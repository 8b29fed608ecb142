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

Texts come from the gettext catalogs (``notifications/locales``, see ``notifications/i18n.py``)
through ``jinja2.ext.i18n``: msgids are English, ``{{ _("Case board") }}``, with values
``{{ _("History of case %(id)s", id=case.id) }}``, counts with ``ngettext`` or
``{% trans count=n %}…{% pluralize %}…{% endtrans %}``; a label stored in Python as
``M_("...")`` is shown with ``{{ _(label) }}``; a :class:`~states.text.Text` (an error's
sentence) with ``{{ text|render }}``.

Filters (babel, the user's locale): ``date`` (``2 de mar. de 2026`` / ``Mar 2, 2026``; a
format: short, medium, long, full), ``datetime`` (in the user's time zone), ``number``,
``percent`` (0.25 → 25%), ``days`` (1 dia, 3 dias / 1 day, 3 days: ngettext), ``state`` (a state's label),
``event`` (an event's label), ``role`` (a role's name), ``obligation`` (what an obligation
row asks, from its kind and parameters). Rendering is strict: an undefined name is an error, not a blank.
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
from notifications.codes import obligation_text, term_text
from notifications.i18n import jinja_install, ntr, tr
from notifications.i18n import render as render_text
from states.directory import LANGUAGES, User
from states.lifecycle import EVENTS_BY_NAME
from states.states import LABELS_EN, LABELS_PT, State, declared
from states.text import M_, fill

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
DEFAULT_LANGUAGE = "pt-BR"
DEFAULT_TIMEZONE = "America/Sao_Paulo"
_LOCALES = {"pt-BR": "pt_BR", "en": "en"}

#: Each role's name (a msgid).
ROLE_LABELS = {
    "coordinator": M_("coordinator"),
    "supervisor": M_("supervisor"),
    "manager": M_("manager"),
    "auditor": M_("auditor"),
    "admin": M_("administrator"),
}


def translate(msgid: str, language: str, **values: Any) -> str:
    """``msgid`` (English, ``%(name)s`` placeholders) from the catalog of ``language``, filled."""
    return fill(tr(language, msgid), values) if values else tr(language, msgid)


# --- navigation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    active: bool


#: The layout's links: route name and Portuguese label. A link shows once its route exists
#: and the user's role may follow it (POLICY).
NAV: tuple[tuple[str, str], ...] = (
    ("board", M_("Board")),
    ("due", M_("Due")),
    ("indicators", M_("Indicators")),
    ("lifecycle", M_("Lifecycle")),
    ("audit.verify", M_("Audit")),
    ("tokens.list", M_("API tokens")),
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
        return ntr(language, "%(n)s day", "%(n)s days", abs(count)) % {
            "n": format_decimal(count, locale=locale)
        }

    def state(value: Any) -> str:
        """The state's label; a state only another lifecycle version has (renamed, inserted)
        by that version's declaration."""
        try:
            return labels[State(str(value))]
        except ValueError:
            found = declared(str(value))
            return found.label(language) if found is not None else str(value)

    @pass_context
    def event(context: Context, value: Any) -> str:
        """The event's label: from the declarations of the app's lifecycle (the default
        table's when rendered outside a request)."""
        app = getattr(context.get("request"), "app", None)
        runtime = getattr(getattr(app, "state", None), "runtime", None)
        name = str(value)
        spec = runtime.event_spec(name) if runtime is not None else EVENTS_BY_NAME.get(name)
        if spec is None:
            other = term_text("history_event", str(value))
            return str(value) if other is None else render_text(other, language)
        return spec.label_en if language == "en" else spec.label_pt

    def obligation(item: Any) -> str:
        """What an obligation (a row with kind, params, description) asks, in the language."""
        get = item.get if isinstance(item, Mapping) else lambda k, d=None: getattr(item, k, d)
        text = obligation_text(str(get("kind")), get("params"), str(get("description") or ""))
        return render_text(text, language)

    def cnpj(value: Any) -> str:
        """A CNPJ as people write it: 12.ABC.345/01DE-35 (numeric or alphanumeric)."""
        raw = "".join(ch for ch in str(value) if ch.isalnum()).upper()
        if len(raw) != 14:
            return str(value)
        return f"{raw[:2]}.{raw[2:5]}.{raw[5:8]}/{raw[8:12]}-{raw[12:]}"

    def role(value: Any) -> str:
        return translate(ROLE_LABELS.get(str(value), str(value)), language)

    return {
        "role": role,
        "obligation": obligation,
        "cnpj": cnpj,
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
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(["html", "svg", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(_filters(language))
    jinja_install(env, language)
    env.globals.update({"lang": language, "static": static_url})
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


def _accepted(request: Request) -> str | None:
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("pt"):
            return "pt-BR"
        if tag.startswith("en"):
            return "en"
    return None


def language_of(request: Request, *, api: bool = False) -> str:
    """The reader's language. A page: the user's; before login ``?lang=`` if it names one,
    else ``Accept-Language``; else Portuguese. The API (``api=True``): ``Accept-Language``
    first (a program says what it wants), then the token's user's language, else Portuguese."""
    accepted = _accepted(request)
    if api and accepted:
        return accepted
    user = current_user(request)
    if user is not None and user.language in LANGUAGES:
        return user.language
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    return accepted or DEFAULT_LANGUAGE


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
