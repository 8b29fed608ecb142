"""Keeping the gettext catalogs: ``python -m notifications.catalogs update|check``.

``update`` (``make catalogs``) runs ``pybabel extract`` over the sources and templates
(``babel.cfg``, the keywords below) into ``notifications/locales/messages.pot``, then
``pybabel update`` for pt_BR and en (``init`` the first time), and fills every English msgstr
with its msgid (English is the source language: its catalog is a copy, so both are complete).
New pt-BR entries are left empty, to translate by hand.

``check`` (``make lint``, so CI runs it) fails, naming each entry, when the catalogs are not
complete: a msgid in the sources that the template (.pot) lacks, a pt-BR or English entry
that is fuzzy or has no translation, or a placeholder set that differs from its msgid's; and
it runs ``pybabel compile`` for each language (into a temporary folder; no .mo is kept).
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = Path(__file__).resolve().parent / "locales"
POT = LOCALES / "messages.pot"
LANGS = ("pt_BR", "en")
#: extraction keywords: jinja2's and gettext's defaults, plus ours
KEYWORDS = ("N_", "Np_:1,2", "M_", "tr:2", "ntr:2,3", "translate:1")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _pybabel(*args: str) -> None:
    subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [sys.executable, "-m", "babel.messages.frontend", "-q", *args], check=True, cwd=ROOT
    )


def _extract(output: Path) -> None:
    keywords = [f"-k{k}" for k in KEYWORDS]
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        *keywords,
        "--no-location",
        "--sort-output",
        "--omit-header",
        "--no-wrap",
        "-o",
        str(output),
        ".",
    )


def _po(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _write(path: Path, catalog: Catalog) -> None:
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False, no_location=True, sort_output=True)


def update() -> None:
    """Extract, update both catalogs, copy the English."""
    _extract(POT)
    for lang in LANGS:
        po = _po(lang)
        if not po.exists():
            po.parent.mkdir(parents=True, exist_ok=True)
            _pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", lang, "--no-wrap")
        else:
            _pybabel(
                "update",
                "-i",
                str(POT),
                "-d",
                str(LOCALES),
                "-l",
                lang,
                "--no-wrap",
                "--no-fuzzy-matching",
                "--ignore-obsolete",
            )
    english = _read(_po("en"), "en")
    for message in english:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        if isinstance(message.id, tuple | list):
            message.string = (message.id[0], message.id[1])
        else:
            message.string = message.id
    _write(_po("en"), english)


def problems() -> list[str]:
    """What is wrong with the catalogs, one line each; empty when they are complete."""
    found: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "fresh.pot"
        _extract(fresh)
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in _read(fresh) if m.id}
    for lang in LANGS:
        catalog = _read(_po(lang), lang)
        have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
        for msgid in sorted(wanted - have):
            found.append(f"{lang}: missing {msgid!r} (run make catalogs)")
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            strings = (
                message.string if isinstance(message.string, tuple | list) else [message.string]
            )
            if message.fuzzy:
                found.append(f"{lang}: fuzzy {key!r}")
            if not all(strings):
                found.append(f"{lang}: untranslated {key!r}")
                continue
            expected = set(_PLACEHOLDER.findall(key))
            if isinstance(message.id, tuple | list):
                expected |= set(_PLACEHOLDER.findall(message.id[1]))
            for string in strings:
                if set(_PLACEHOLDER.findall(string or "")) - expected - {"n"}:
                    found.append(f"{lang}: placeholders of {key!r} differ in {string!r}")
        with tempfile.TemporaryDirectory() as tmp:
            result = subprocess.run(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "babel.messages.frontend",
                    "compile",
                    "-i",
                    str(_po(lang)),
                    "-o",
                    str(Path(tmp) / "messages.mo"),
                    "-l",
                    lang,
                    "--statistics",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                found.append(f"{lang}: pybabel compile failed: {result.stderr.strip()}")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "check":
        found = problems()
        for line in found:
            print(line, file=sys.stderr)
        if not found:
            print("catalogs complete: pt_BR and en")
        return 1 if found else 0
    print("usage: python -m notifications.catalogs update|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


#: keyword arguments whose literal is a sentence people read: Typer's help texts, an event's
#: ``summary`` (states/events.py; also its sixth positional argument) and an evidence field's ``description`` (states/evidence.py)
_DECLARED_TEXTS = ("help", "short_help", "epilog", "summary", "description")


def _cli_strings(source: str) -> list[tuple[int, str]]:
    """The sentences of a command-line module that Typer shows, as (line, text): every
    ``help=``/``short_help=``/``epilog=`` (and ``summary=``/``description=``) given as a literal, the first argument of
    ``command_group(...)``, the help line of a ``Lazy(...)`` entry, the docstring of each
    function registered with ``@<app>.command``/``@<app>.callback``, and the column titles of
    ``table(rows, [(key, title), ...])``."""
    import ast

    found: list[tuple[int, str]] = []

    def literal(node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
            return node.value
        return None

    def name_of(func: ast.AST) -> str | None:
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
        return None

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = name_of(node.func)
            for keyword in node.keywords:
                text = literal(keyword.value)
                if keyword.arg in _DECLARED_TEXTS and text:
                    found.append((keyword.value.lineno, text))
            if called == "command_group" and node.args and (text := literal(node.args[0])):
                found.append((node.lineno, text))
            if called == "Lazy" and len(node.args) >= 3 and (text := literal(node.args[2])):
                found.append((node.lineno, text))
            if called == "EventSpec" and len(node.args) >= 6 and (text := literal(node.args[5])):
                found.append((node.lineno, text))  # its summary (states.events.EventSpec)
            if called == "table" and len(node.args) >= 2 and isinstance(node.args[1], ast.List):
                for column in node.args[1].elts:
                    is_pair = isinstance(column, ast.Tuple) and len(column.elts) == 2
                    if is_pair and (text := literal(column.elts[1])):  # type: ignore[attr-defined]
                        found.append((column.lineno, text))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            registered = any(
                isinstance(d, ast.Call) and name_of(d.func) in ("command", "callback")
                for d in node.decorator_list
            )
            doc = ast.get_docstring(node, clean=True)
            if registered and doc:
                found.append((node.lineno, doc))
    return found


def extract_cli(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Any:
    """Babel extractor for the command line's modules (``babel.cfg``): what the Python
    extractor finds (``N_``, ``M_``, ...), plus the help texts Typer shows
    (:func:`_cli_strings`), which :func:`console.common.localise` looks up at run time."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)
    for line, text in _cli_strings(source.decode("utf-8")):
        yield line, None, text, []
