"""One rule for every CSV the system writes: a cell never opens as a formula in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be taken
for a formula (``=HYPERLINK(...)``, ``@SUM(...)``) by Excel, LibreOffice or Google Sheets; it is
written with a leading apostrophe instead, which they show as text (OWASP's "CSV injection").
Numbers are written as they are. Lists and objects are written as JSON (``{`` or ``[`` first).
"""

from __future__ import annotations

import json
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """``text``, made safe to open in a spreadsheet."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: Any) -> str | int | float:
    """A value as a CSV cell: None empty, lists and objects as JSON, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise(str(value))
