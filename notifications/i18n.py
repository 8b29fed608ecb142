"""The reader's language: gettext catalogs (Babel), and rendering a Text in pt-BR or English.

Every sentence a person reads comes from the catalogs in ``notifications/locales/``
(``messages.pot``; ``pt_BR`` and ``en``, ``LC_MESSAGES/messages.po``). The msgids are English;
the English catalog copies them, so both languages are complete and checked alike. The .po
files are compiled the first time a language is used (:mod:`notifications.catalog`; no binary
in the repository); ``make catalogs`` extracts and updates them, ``make lint`` checks them.

At the edges::

    tr(lang, "Not found")                       # gettext
    ntr(lang, "%(n)s case", "%(n)s cases", n)   # ngettext (then % {"n": ...})
    render(error.text, lang)                    # a states.text.Text, params formatted

Parameters are formatted for the locale: dates and datetimes with Babel, numbers with Babel's
decimal format (except identifiers: keys ``id``, ``*_id``, ``year``, ``code``, ``version``,
``cpf``, ``cnpj``, ``hub``, ``commitment``, ``*_version``, ... shown as they are), nested Texts
rendered in the same language, and :class:`~states.text.Term` codes by their label.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from notifications import codes
from notifications.catalog import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LOCALES,
    LOCALES_DIR,
    language_for_cli,
    normalise,
    ntr,
    po_path,
    tr,
    translations,
)
from states.text import Term, Text, fill

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LOCALES",
    "LOCALES_DIR",
    "date_text",
    "datetime_text",
    "jinja_install",
    "language_for_cli",
    "normalise",
    "ntr",
    "number_text",
    "po_path",
    "render",
    "term_text",
    "tr",
    "translations",
]

DEFAULT_TIMEZONE = "America/Sao_Paulo"

_RAW_KEYS = {
    "id",
    "year",
    "code",
    "version",
    "cpf",
    "cnpj",
    "seq",
    "uf",
    "ibge",
    "municipality",
    "case",
    "key",
    "hub",
    "commitment",
    "meeting",
    "partner",
}


def date_text(value: date | datetime | None, language: str, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, format=fmt, locale=LOCALES[language])


def datetime_text(
    value: datetime | None, language: str, fmt: str = "short", tz: str = DEFAULT_TIMEZONE
) -> str:
    if value is None:
        return "—"
    return format_datetime(value, format=fmt, tzinfo=ZoneInfo(tz), locale=LOCALES[language])


def number_text(
    value: int | float | Decimal | None, language: str, digits: int | None = None
) -> str:
    if value is None:
        return "—"
    if digits is None:
        return format_decimal(value, locale=LOCALES[language])
    pattern = f"#,##0.{'0' * digits}" if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=LOCALES[language])


def term_text(term: Term, language: str) -> str:
    """A code's label in ``language`` (the code itself when it has none)."""
    text = codes.term_text(term.kind, term.code)
    if text is not None:
        return render(text, language)
    return codes.term_label(term.kind, term.code, language)


def _param(key: str, value: Any, language: str) -> Any:
    if isinstance(value, Text):
        return render(value, language)
    if isinstance(value, Term):
        return term_text(value, language)
    if isinstance(value, datetime):
        return datetime_text(value, language)
    if isinstance(value, date):
        return date_text(value, language)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        if key in _RAW_KEYS or key.endswith(("_id", "_version", "_code", "_year")):
            return value
        return number_text(value, language)
    return value


def render(text: Text | str, language: str) -> str:
    """``text`` in ``language``: its msgid translated, its parameters formatted and filled."""
    if not isinstance(text, Text):
        return text
    catalog = translations(language)
    if text.plural is not None:
        template = catalog.ngettext(text.msgid, text.plural, int(text.n or 0))
    else:
        template = catalog.gettext(text.msgid) if text.msgid else ""
    values = {k: _param(k, v, language) for k, v in text.params.items()}
    return fill(template, values)


def jinja_install(env: Any, language: str) -> None:
    """Give a Jinja2 environment (with ``jinja2.ext.i18n``) the catalog of ``language``
    (newstyle: ``_("%(n)s cases", n=3)``) and the ``render`` filter: a Text rendered, a str
    (a msgid kept in a variable) translated."""
    env.install_gettext_translations(translations(language), newstyle=True)
    env.filters["render"] = lambda value: (
        render(value, language) if isinstance(value, Text) else tr(language, str(value))
    )
