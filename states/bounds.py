"""The limits of every input, and the checks every edge gets from the models.

Each limit is named here once; the pydantic models of the evidence and of the records apply
them (so the command line, the API, the web forms and the flows refuse the same things, 422 /
exit 2, naming the field and the limit), the web forms repeat them as ``maxlength``, and the
README lists them.

- a note (``anotar``): :data:`NOTE_MAX` characters; any other free text (reasons, grounds,
  findings, decisions, justifications, descriptions): :data:`TEXT_MAX`;
- a whole evidence object, as JSON: :data:`EVIDENCE_MAX_BYTES`;
- a list of names (signatories, vocations, members): :data:`LIST_MAX` items;
- a number: at most :data:`INTEGER_MAX` in size (what both databases hold);
- no NUL character anywhere (PostgreSQL cannot store it; SQLite would, so both refuse it);
- a spreadsheet import: :data:`IMPORT_MAX_BYTES` and :data:`IMPORT_MAX_ROWS` rows, each cell at
  most :data:`CELL_MAX` characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

NOTE_MAX = 2_000
TEXT_MAX = 4_000
EVIDENCE_MAX_BYTES = 32 * 1024
LIST_MAX = 200
INTEGER_MAX = 2**63 - 1
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 50_000
CELL_MAX = 1_000

# the sentences of a bound (one place, to move into the catalogs)
_NUL = "{where}contains a NUL character, which is not accepted"
_HUGE = "{where}a number of {digits} digits; at most {limit}"


def _digits(number: int) -> int:
    """How many decimal digits ``number`` has (``str()`` refuses more than 4,300)."""
    digits = max(1, math.floor((number.bit_length() - 1) * math.log10(2)))
    while number >= 10**digits:
        digits += 1
    return digits


def _walk(value: Any, path: str) -> Iterator[str]:
    """The problems of a raw value (a dict of lists of ...): NULs and out-of-range integers."""
    where = f"{path}: " if path else ""
    if isinstance(value, str):
        if "\x00" in value:
            yield _NUL.format(where=where)
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > INTEGER_MAX:
            digits = _digits(abs(value))
            yield _HUGE.format(where=where, digits=digits, limit=INTEGER_MAX)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def problems(value: Any) -> list[str]:
    """Every NUL and out-of-range number in ``value``, each naming where it is."""
    return list(_walk(value, ""))


def json_size(value: Any) -> int:
    """The size of ``value`` as compact UTF-8 JSON."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8"))


class Bounded(BaseModel):
    """Base of every input model: unknown fields refused, text stripped and at most
    :data:`TEXT_MAX` characters (a field may set less), no NUL, numbers in range."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        str_max_length=TEXT_MAX,
        defer_build=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nul_no_huge_number(cls, raw: Any) -> Any:
        found = problems(raw)
        if found:
            raise ValueError(found[0])
        return raw

    @model_validator(mode="after")
    def _numbers_in_range(self) -> Self:
        found = problems(dict(self))
        if found:
            raise ValueError(found[0])
        return self
