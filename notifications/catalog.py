"""The gettext catalogs themselves, quick to open: the command line's help and its first
sentence need them before anything heavy is imported.

A language's catalog is ``locales/<locale>/LC_MESSAGES/messages.po``; the first process that
uses it compiles it to ``messages.mo`` beside it (ignored by git) and later ones read that, with
the standard library's gettext only (no Babel, no domain code). The .mo is rebuilt when the .po
is newer; where the folder cannot be written (an installed, read-only package), the catalog is
compiled in memory each time instead.
"""

from __future__ import annotations

import gettext
import io
import locale as _locale
import os
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
#: Our language codes and Babel's locales.
LOCALES: dict[str, str] = {"pt-BR": "pt_BR", "en": "en"}
DEFAULT_LANGUAGE = "pt-BR"


def po_path(language: str) -> Path:
    return LOCALES_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compiled(po: Path) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=po.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


def _mo_bytes(language: str) -> bytes:
    po = po_path(language)
    mo = po.with_suffix(".mo")
    try:
        if mo.stat().st_mtime_ns >= po.stat().st_mtime_ns:
            return mo.read_bytes()
    except OSError:
        pass
    data = _compiled(po)
    try:  # write it atomically: another process may be reading or writing it too
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, mo)
    except OSError:
        pass  # a read-only install: compiled in memory every time
    return data


@cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``language`` ("pt-BR" or "en"); KeyError on another."""
    if language not in LOCALES:
        raise KeyError(language)
    return gettext.GNUTranslations(io.BytesIO(_mo_bytes(language)))


def tr(language: str, msgid: str) -> str:
    """gettext: ``msgid`` (English) in ``language``."""
    return translations(language).gettext(msgid)


def ntr(language: str, singular: str, plural: str, n: int) -> str:
    """ngettext: the form of ``singular``/``plural`` for ``n`` in ``language``."""
    return translations(language).ngettext(singular, plural, n)


def normalise(language: str | None) -> str:
    """``pt-BR``/``pt_BR``/``pt``/``pt_BR.UTF-8`` → "pt-BR", ``en*`` → "en", else the default."""
    if not language:
        return DEFAULT_LANGUAGE
    head = language.split(".")[0].replace("_", "-").lower()
    if head.startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def language_for_cli(environ: Mapping[str, str] | None = None) -> str:
    """The command line's language: ``PRODUZIR_LANG``, else the locale (LC_ALL, LC_MESSAGES,
    LANG), else pt-BR. "C"/"POSIX" count as no choice."""
    env = os.environ if environ is None else environ
    asked = env.get("PRODUZIR_LANG")
    if asked:
        return normalise(asked)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return normalise(value)
    if environ is None:
        found = (
            _locale.getlocale(_locale.LC_MESSAGES)[0] if hasattr(_locale, "LC_MESSAGES") else None
        )
        if found and found not in ("C", "POSIX"):
            return normalise(found)
    return DEFAULT_LANGUAGE
