"""Charts drawn on the server as SVG: bar charts with their numbers beside.

Nothing here runs in the browser and nothing is fetched: each function returns the markup of
one ``<svg>`` (``markupsafe.Markup``, its texts escaped) to put in a page.

- :func:`bar_chart`, :func:`stacked_chart` and :func:`funnel`: one row per item, the label on
  the left, the bar, and the number written beside it (formatted by the caller, in the user's
  locale); each bar has a ``<title>`` too.

The lifecycle is not drawn here: ``states/diagram.py`` writes it as Mermaid source, laid out in
the browser (``/lifecycle``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BRAND = "#0b6e4f"
MET = "#2f855a"
MISSED = "#c53030"
LATE = "#dd6b20"
MUTED = "#52606d"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
_ids = itertools.count(1)


def _attr(value: object) -> str:
    return str(escape(str(value)))


def _markup(parts: Iterable[str]) -> Markup:
    """The finished SVG: every text and attribute in ``parts`` went through ``escape``."""
    return Markup("".join(parts))  # noqa: S704 - built here, its texts escaped


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg_open(width: float, height: float, title: str, css_class: str, desc: str = "") -> str:
    ident = f"svg{next(_ids)}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'width="{_n(width)}" height="{_n(height)}" class="{css_class}" role="img" '
        f'aria-labelledby="{ident}-t{f" {ident}-d" if desc else ""}" '
        f'font-family="{_attr(FONT)}">'
        f'<title id="{ident}-t">{escape(title)}</title>'
    )
    if desc:
        head += f'<desc id="{ident}-d">{escape(desc)}</desc>'
    return head


# --- bar charts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One row of a chart: its label, its value and the number written beside it."""

    label: str
    value: float
    text: str
    href: str | None = None
    key: str | None = None  # a data-key attribute (e.g. the state's code)


def _row_text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 13,
    fill: str = "#1f2933",
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def _link(href: str | None, inner: str) -> str:
    return f'<a href="{_attr(href)}">{inner}</a>' if href else inner


def _text_width(texts: Iterable[str], size: float = 13) -> float:
    """About how wide a line of text is (no font metrics on the server: a generous guess)."""
    return max((len(t) for t in texts), default=0) * size * 0.58 + 12


def _label_width(labels: Iterable[str]) -> float:
    return min(max(_text_width(labels), 90), 320)


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    bar_width: int = 380,
    color: str = BRAND,
) -> Markup:
    """Horizontal bars, the number beside each."""
    row, bar_h, top = 28, 18, 6
    label_width = _label_width(b.label for b in bars)
    width = label_width + bar_width + _text_width((b.text for b in bars), 13) + 8
    height = top * 2 + row * max(len(bars), 1)
    most = max((b.value for b in bars), default=0) or 1
    scale = bar_width / most
    out = [_svg_open(width, height, title, "chart bar-chart", _desc(bars))]
    for i, b in enumerate(bars):
        y = top + i * row
        length = max(b.value * scale, 2 if b.value > 0 else 0)
        key = f' data-key="{_attr(b.key)}"' if b.key else ""
        body = (
            _row_text(label_width - 8, y + 14, b.label, anchor="end")
            + f'<rect x="{_n(label_width)}" y="{y}" width="{_n(length)}" height="{bar_h}" '
            f'rx="2" fill="{color}"><title>{escape(b.label)}: {escape(b.text)}</title></rect>'
            + _row_text(label_width + length + 6, y + 14, b.text, weight="600")
        )
        out.append(f'<g class="bar"{key}>{_link(b.href, body)}</g>')
    out.append("</svg>")
    return _markup(out)


def funnel(bars: Sequence[Bar], *, title: str, span: int = 420) -> Markup:
    """A funnel: bars centred on one axis, as the cases go down the path."""
    row, bar_h, top = 30, 22, 6
    label_width = _label_width(b.label for b in bars)
    width = label_width + span + _text_width((b.text for b in bars), 13) + 8
    height = top * 2 + row * max(len(bars), 1)
    most = max((b.value for b in bars), default=0) or 1
    centre = label_width + span / 2
    out = [_svg_open(width, height, title, "chart funnel", _desc(bars))]
    for i, b in enumerate(bars):
        y = top + i * row
        length = max(b.value / most * span, 2 if b.value > 0 else 0)
        key = f' data-key="{_attr(b.key)}"' if b.key else ""
        shade = 0.55 + 0.45 * (1 - i / max(len(bars), 1))
        body = (
            _row_text(label_width - 8, y + 16, b.label, anchor="end")
            + f'<rect x="{_n(centre - length / 2)}" y="{y}" width="{_n(length)}" '
            f'height="{bar_h}" rx="3" fill="{BRAND}" opacity="{_n(shade)}">'
            f"<title>{escape(b.label)}: {escape(b.text)}</title></rect>"
            + _row_text(label_width + span + 8, y + 16, b.text, weight="600")
        )
        out.append(f'<g class="bar"{key}>{_link(b.href, body)}</g>')
    out.append("</svg>")
    return _markup(out)


@dataclass(frozen=True)
class Segment:
    name: str
    value: float
    color: str


@dataclass(frozen=True)
class StackedBar:
    label: str
    segments: tuple[Segment, ...]
    text: str
    key: str | None = None

    @property
    def total(self) -> float:
        return sum(s.value for s in self.segments)


def stacked_chart(
    bars: Sequence[StackedBar],
    *,
    title: str,
    legend: Sequence[tuple[str, str]],
    bar_width: int = 380,
) -> Markup:
    """Bars made of segments (e.g. met, missed, overdue now), with a legend and the numbers."""
    row, bar_h, top = 28, 18, 30
    label_width = _label_width(b.label for b in bars)
    width = label_width + bar_width + _text_width((b.text for b in bars), 12) + 8
    height = top + 8 + row * max(len(bars), 1)
    most = max((b.total for b in bars), default=0) or 1
    scale = bar_width / most
    out = [_svg_open(width, height, title, "chart stacked-chart")]
    x = label_width
    for name, color in legend:
        out.append(
            f'<rect x="{_n(x)}" y="6" width="12" height="12" rx="2" fill="{color}"/>'
            + _row_text(x + 17, 16, name, size=12, fill=MUTED)
        )
        x += 30 + 7 * len(name)
    for i, b in enumerate(bars):
        y = top + i * row
        key = f' data-key="{_attr(b.key)}"' if b.key else ""
        parts = [_row_text(label_width - 8, y + 14, b.label, anchor="end")]
        at = float(label_width)
        for s in b.segments:
            if s.value <= 0:
                continue
            length = s.value * scale
            parts.append(
                f'<rect x="{_n(at)}" y="{y}" width="{_n(length)}" height="{bar_h}" '
                f'fill="{s.color}" data-segment="{_attr(s.name)}"><title>{escape(b.label)} · '
                f"{escape(s.name)}: {escape(_plain_number(s.value))}</title></rect>"
            )
            at += length
        parts.append(_row_text(at + 6, y + 14, b.text, size=12, weight="600"))
        out.append(f'<g class="bar"{key}>{"".join(parts)}</g>')
    out.append("</svg>")
    return _markup(out)


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _desc(bars: Iterable[Bar]) -> str:
    return "; ".join(f"{b.label}: {b.text}" for b in bars)
