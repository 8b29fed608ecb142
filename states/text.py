"""Sentences as a code plus parameters: what domain code says, for the edges to translate.

The domain never formats a sentence for a reader. It builds a :class:`Text` — an English msgid
with ``%(name)s`` placeholders and the values that fill them — and the edges (command line,
web pages, API, e-mails) render it in the reader's language from the gettext catalogs
(``notifications/i18n.py``)::

    raise InvalidInput(N_("%(field)s is not a date: %(value)s", field="due_on", value=raw))
    return Np_("%(n)s person pre-registered; at least %(min)s needed",
               "%(n)s people pre-registered; at least %(min)s needed", n=31, min=40)

``N_`` and ``Np_`` are the extraction keywords of ``babel.cfg``: pybabel finds every msgid
here. ``str(text)`` is the English sentence (logs, tests, the untranslated fallback).

A parameter may be a str, a number, a date, another :class:`Text` (rendered in the same
language) or a :class:`Term`: a code with a label of its own (a state, an event, a role), so
``Term("state", "em_analise")`` reads "Em análise" in Portuguese and "Under review" in English.

This module imports nothing but the standard library: no gettext, no Babel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Term:
    """A code shown by its label: ``kind`` is "state", "event", "role", "legal_form", ..."""

    kind: str
    code: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True)
class Text:
    """A sentence to translate: msgid (English), its plural and count, and its parameters."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)
    plural: str | None = None
    n: int | None = None

    def english(self) -> str:
        """The sentence in English, straight from the msgid (no catalog)."""
        template = self.msgid if self.plural is None or self.n == 1 else self.plural
        return fill(template, {k: _plain(v) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.english()

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (to store, e.g. an obligation's description)."""
        out: dict[str, Any] = {"msgid": self.msgid, "params": _json_params(self.params)}
        if self.plural is not None:
            out["plural"] = self.plural
            out["n"] = self.n
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Text:
        return cls(
            str(data["msgid"]),
            _unjson_params(data.get("params") or {}),
            data.get("plural"),
            data.get("n"),
        )


def N_(msgid: str, **params: Any) -> Text:
    """A sentence to translate (an extraction keyword)."""
    return Text(msgid, params)


def Np_(singular: str, plural: str, n: int, **params: Any) -> Text:
    """A sentence with a count: ``n`` chooses the plural form and is a parameter too."""
    return Text(singular, {"n": n, **params}, plural, n)


def M_(msgid: str) -> str:
    """Mark a msgid for extraction where it is stored (a label table); the edge translates it
    where it is shown (``_(label)`` in a template, ``tr(lang, label)`` in Python)."""
    return msgid


def join(items: list[Any], separator: str = ", ") -> Text:
    """A list shown in the reader's language, item by item (each a Text, Term or value); the
    msgid is only placeholders and the separator, the same in every language."""
    return Text(
        separator.join(f"%(i{i})s" for i in range(len(items))),
        {f"i{i}": item for i, item in enumerate(items)},
    )


def fill(template: str, values: Mapping[str, Any]) -> str:
    """``template % values``; a template without placeholders is returned as it is."""
    if "%(" not in template:
        return template.replace("%%", "%")
    return template % values


def as_text(value: Text | str) -> Text:
    """A Text for a str that was never made one (shown as it is, in every language)."""
    return value if isinstance(value, Text) else Text(value, {})


def _plain(value: Any) -> Any:
    if isinstance(value, Text):
        return value.english()
    if isinstance(value, Term):
        return value.code
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Text):
            out[key] = {"$text": value.to_json()}
        elif isinstance(value, Term):
            out[key] = {"$term": [value.kind, value.code]}
        elif isinstance(value, datetime):
            out[key] = {"$datetime": value.isoformat()}
        elif isinstance(value, date):
            out[key] = {"$date": value.isoformat()}
        elif isinstance(value, Decimal):
            out[key] = {"$decimal": str(value)}
        else:
            out[key] = value
    return out


def _unjson_params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict) and len(value) == 1:
            ((tag, raw),) = value.items()
            if tag == "$text":
                out[key] = Text.from_json(raw)
                continue
            if tag == "$term":
                out[key] = Term(str(raw[0]), str(raw[1]))
                continue
            if tag == "$datetime":
                out[key] = datetime.fromisoformat(raw)
                continue
            if tag == "$date":
                out[key] = date.fromisoformat(raw)
                continue
            if tag == "$decimal":
                out[key] = Decimal(raw)
                continue
        out[key] = value
    return out
