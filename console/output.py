"""How the command line prints: aligned tables for people, JSON and CSV for programs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import typer

from console import csv_cells


def _words() -> tuple[str, str]:
    from notifications.catalog import language_for_cli, tr

    language = language_for_cli()
    return tr(language, "yes"), tr(language, "no")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        yes, no = _words()
        return yes if value else no
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def table(rows: Iterable[Mapping[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Rows as an aligned plain-text table; ``columns`` are (key, heading) pairs, the headings
    in English and shown in the command line's language (the catalogs have them:
    ``notifications.catalogs.extract_cli`` extracts the headings of every ``table(...)`` call)."""
    from notifications.catalog import language_for_cli, tr

    language = language_for_cli()
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    headings = [tr(language, heading) if heading else heading for _, heading in columns]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headings, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
    return "\n".join(lines)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def as_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        # no cell opens as a formula in a spreadsheet (console.csv_cells)
        writer.writerow([csv_cells.cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def echo(text: str) -> None:
    typer.echo(text)


def fields(record: Mapping[str, Any]) -> str:
    """A record as ``key: value`` lines."""
    width = max((len(k) for k in record), default=0)
    return "\n".join(f"{k.ljust(width)}  {_cell(v)}" for k, v in record.items())
