"""Pictures drawn on the server as SVG: bar charts with their numbers beside, and the lifecycle.

Nothing here runs in the browser and nothing is fetched: each function returns the markup of
one ``<svg>`` (``markupsafe.Markup``, its texts escaped) to put in a page.

- :func:`bar_chart`, :func:`stacked_chart` and :func:`funnel`: one row per item, the label on
  the left, the bar, and the number written beside it (formatted by the caller, in the user's
  locale); each bar has a ``<title>`` too.
- :func:`lifecycle`: the lifecycle drawn from :data:`states.lifecycle.EVENTS`, the table the
  engine runs: the main path left to right, the side states below, an arrow per move labelled
  with its event. Events that move a case from (or back to) *any* state in progress start (or
  end) at the bar drawn under those states; events that leave the case where it is are listed
  by :func:`staying_events` for the page to show beside the picture.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

from states.lifecycle import EVENTS, EventSpec
from states.states import ACTIVE, ALL, CLOSED, LABELS_EN, LABELS_PT, MAIN_PATH, State

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


# --- the lifecycle ----------------------------------------------------------------------------

BOX_W, BOX_H, GAP = 124, 60, 90
STEP = BOX_W + GAP
MARGIN = 24
MAIN_Y = 52
BAR_Y = MAIN_Y + BOX_H + 36
SIDE_Y = BAR_Y + 160
BELOW_Y = SIDE_Y + BOX_H + 34


@dataclass(frozen=True)
class _End:
    """Where an arrow starts or ends: a state, or the bar under a group of main-path states."""

    state: str | None = None
    group: frozenset[str] | None = None


@dataclass
class _Edge:
    source: _End
    target: _End
    label: str
    event: str
    returns: bool = False


@dataclass
class _Layout:
    column: dict[str, int] = field(default_factory=dict)
    side: set[str] = field(default_factory=set)
    bars: dict[frozenset[str], float] = field(default_factory=dict)  # group -> y

    def x(self, state: str) -> float:
        return MARGIN + self.column[state] * STEP

    def y(self, state: str) -> float:
        return SIDE_Y if state in self.side else MAIN_Y

    def centre(self, state: str) -> float:
        return self.x(state) + BOX_W / 2


_MAIN = [s.value for s in MAIN_PATH]
_SIDE = [s.value for s in ALL if s not in MAIN_PATH]


def _ends(states: Iterable[str]) -> list[_End]:
    """The states as arrow ends: two or more main-path states make one bar; others stay."""
    states = list(states)
    main = frozenset(s for s in states if s in _MAIN)
    ends = [_End(group=main)] if len(main) > 1 else [_End(state=s) for s in main]
    ends += [_End(state=s) for s in states if s not in _MAIN]
    return ends


def _edges(language: str) -> list[_Edge]:
    """Every move of the lifecycle's table as arrows (the events that stay are left out)."""
    edges: list[_Edge] = []
    for spec in EVENTS:
        label = spec.label_en if language == "en" else spec.label_pt
        for sources, dest in spec.moves:
            if dest is None:
                continue
            for source in _ends(sources):
                edges.append(_Edge(source, _End(state=dest), label, spec.name))
        if spec.returns_to:
            main_targets = [s for s in spec.returns_to if s in _MAIN]
            targets = _ends(main_targets) if len(main_targets) > 1 else _ends(spec.returns_to)
            for source_state in spec.sources_for_return:
                for target in targets:
                    edges.append(
                        _Edge(_End(state=source_state), target, label, spec.name, returns=True)
                    )
    return edges


def _layout(edges: Sequence[_Edge]) -> _Layout:
    layout = _Layout()
    for i, state in enumerate(_MAIN):
        layout.column[state] = i
    taken: set[int] = set()
    middle = len(_MAIN) // 2

    def free_near(want: int) -> int:
        for distance in range(len(_MAIN) + len(_SIDE)):
            for slot in (want + distance, want - distance):
                if slot >= 0 and slot not in taken:
                    return slot
        raise AssertionError("no slot")  # pragma: no cover

    for state in _SIDE:
        anchors = [
            layout.column[other.state]
            for e in edges
            for this, other in ((e.source, e.target), (e.target, e.source))
            if this.state == state and other.state in _MAIN
        ]
        neighbours = [
            layout.column[other.state]
            for e in edges
            for this, other in ((e.source, e.target), (e.target, e.source))
            if this.state == state and other.state in layout.side
        ]
        if anchors:
            want = round(sum(anchors) / len(anchors))
        elif neighbours:
            want = max(neighbours) + 1
        else:
            want = middle
        slot = free_near(want)
        taken.add(slot)
        layout.column[state] = slot
        layout.side.add(state)
    groups = sorted(
        {end.group for e in edges for end in (e.source, e.target) if end.group}, key=len
    )
    for i, group in enumerate(groups):
        layout.bars[group] = BAR_Y + 14 * i
    return layout


def _wrap(text: str, width: int = 16) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _label(x: float, y: float, text: str, *, anchor: str = "middle", width: int = 16) -> str:
    """A label of a few lines, on a white ground so it reads over the lines it crosses."""
    lines = _wrap(text, width)
    line_h = 13
    longest = max(len(line) for line in lines)
    w = longest * 6.4 + 8
    h = line_h * len(lines) + 4
    left = {"middle": x - w / 2, "start": x - 4, "end": x - w + 4}[anchor]
    top = y - h + 3
    out = [
        f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(w)}" height="{_n(h)}" '
        'fill="#ffffff" opacity="0.92" rx="3"/>'
    ]
    for i, line in enumerate(lines):
        ly = top + 2 + line_h * (i + 1) - 3
        out.append(
            f'<text x="{_n(x)}" y="{_n(ly)}" text-anchor="{anchor}" font-size="11.5" '
            f'fill="#1f2933">{escape(line)}</text>'
        )
    return "".join(out)


def _path(points: Sequence[tuple[float, float]], *, event: str, dashed: bool = False) -> str:
    d = "M" + " L".join(f"{_n(x)},{_n(y)}" for x, y in points)
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    return (
        f'<g class="edge" data-event="{_attr(event)}">'
        f'<path d="{d}" fill="none" stroke="#ffffff" stroke-width="7"/>'
        f'<path d="{d}" fill="none" stroke="#334e68" stroke-width="1.6"{dash} '
        'marker-end="url(#lc-arrow)"/></g>'
    )


def _spread(n: int, step: float = 30) -> list[float]:
    """``n`` offsets around a centre (never the centre itself for one: the bar's ticks are
    there)."""
    if n == 1:
        return [14]
    return [(i - (n - 1) / 2) * step for i in range(n)]


_FILL = {
    "main": "#e8f5ee",
    "end": "#c6e7d4",
    "suspensa": "#fff4e5",
    "closed": "#edf0f3",
    "refused": "#fde8e7",
}


def _box(layout: _Layout, state: str, language: str) -> str:
    labels = LABELS_EN if language == "en" else LABELS_PT
    x, y = layout.x(state), layout.y(state)
    if state == State.SUSPENSA.value:
        fill = _FILL["suspensa"]
    elif state == State.INDEFERIDA.value:
        fill = _FILL["refused"]
    elif state in (s.value for s in CLOSED):
        fill = _FILL["end"] if state == State.CONCLUIDA.value else _FILL["closed"]
    else:
        fill = _FILL["main"]
    lines = _wrap(labels[State(state)], 16)
    text_y = y + BOX_H / 2 - (len(lines) - 1) * 7.5 - 2
    texts = "".join(
        f'<text x="{_n(x + BOX_W / 2)}" y="{_n(text_y + i * 15)}" text-anchor="middle" '
        f'font-size="13" font-weight="600" fill="#1f2933">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    code = (
        f'<text x="{_n(x + BOX_W / 2)}" y="{_n(y + BOX_H - 7)}" text-anchor="middle" '
        f'font-size="10" fill="{MUTED}">{escape(state)}</text>'
    )
    return (
        f'<g class="state" data-state="{_attr(state)}"><title>{escape(labels[State(state)])}'
        f"</title>"
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{BOX_W}" height="{BOX_H}" rx="9" '
        f'fill="{fill}" stroke="#7b8794" stroke-width="1.2"/>{texts}{code}</g>'
    )


def _kind(end: _End, layout: _Layout) -> str:
    if end.group is not None:
        return "bar"
    return "side" if end.state in layout.side else "main"


def lifecycle(language: str = "pt-BR") -> Markup:
    """The lifecycle as one SVG, in ``language`` (``pt-BR`` or ``en``)."""
    edges = _edges(language)
    layout = _layout(edges)
    columns = max(layout.column.values()) + 1
    width = MARGIN * 2 + columns * STEP - GAP
    below = [
        e
        for e in edges
        if _kind(e.source, layout) == _kind(e.target, layout) == "side"
        and abs(layout.column[e.source.state or ""] - layout.column[e.target.state or ""]) > 1
    ]
    height = BELOW_Y + 22 * len(below) + 24
    title = "PRODUZIR lifecycle" if language == "en" else "Ciclo de vida do PRODUZIR"
    out = [
        _svg_open(width, height, title, "lifecycle"),
        '<defs><marker id="lc-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#334e68"/></marker></defs>',
    ]
    spans: dict[frozenset[str], tuple[float, float]] = {}
    for group, y in layout.bars.items():
        xs = sorted(layout.centre(s) for s in group)
        spans[group] = (xs[0] - 20, xs[-1] + 20)
        out.append(
            f'<g class="group" data-states="{_attr(" ".join(sorted(group)))}">'
            f'<line x1="{_n(xs[0] - 20)}" y1="{_n(y)}" x2="{_n(xs[-1] + 20)}" y2="{_n(y)}" '
            'stroke="#334e68" stroke-width="4" stroke-linecap="round"/>'
            + "".join(
                f'<line x1="{_n(x)}" y1="{MAIN_Y + BOX_H}" x2="{_n(x)}" y2="{_n(y)}" '
                'stroke="#9aa5b1" stroke-width="1.2" stroke-dasharray="3 3"/>'
                for x in xs
            )
            + "</g>"
        )
    # arrows between the rows: spread those that meet the same box
    meeting: dict[str, list[_Edge]] = {}
    for e in edges:
        kinds = {_kind(e.source, layout), _kind(e.target, layout)}
        if "side" in kinds and kinds != {"side"}:
            for end in (e.source, e.target):
                if end.state is not None:
                    meeting.setdefault(end.state, []).append(e)
    offsets: dict[tuple[int, str], float] = {}
    for state, found in meeting.items():
        for e, offset in zip(found, _spread(len(found)), strict=True):
            offsets[(id(e), state)] = offset

    labels: list[str] = []
    below_index = 0
    for e in edges:
        s, t = e.source, e.target
        ks, kt = _kind(s, layout), _kind(t, layout)
        if ks == kt == "main":
            assert s.state is not None
            assert t.state is not None
            sx, tx = layout.x(s.state), layout.x(t.state)
            y = MAIN_Y + BOX_H / 2
            if layout.column[t.state] == layout.column[s.state] + 1:
                out.append(_path([(sx + BOX_W, y), (tx - 2, y)], event=e.event))
                labels.append(_label((sx + BOX_W + tx) / 2, y - 8, e.label, width=14))
            else:  # an arc over the main path
                top = MAIN_Y - 16
                a, b = sx + BOX_W / 2, tx + BOX_W / 2
                out.append(_path([(a, MAIN_Y), (a, top), (b, top), (b, MAIN_Y - 2)], event=e.event))
                labels.append(_label((a + b) / 2, top - 2, e.label, width=40))
        elif ks == kt == "side":
            assert s.state is not None
            assert t.state is not None
            a, b = layout.column[s.state], layout.column[t.state]
            sx, tx = layout.x(s.state), layout.x(t.state)
            if abs(a - b) == 1:
                y = SIDE_Y + BOX_H / 2
                x1, x2 = (sx + BOX_W, tx - 2) if b > a else (sx, tx + BOX_W + 2)
                out.append(_path([(x1, y), (x2, y)], event=e.event, dashed=e.returns))
                labels.append(_label((x1 + x2) / 2, y - 8, e.label, width=14))
            else:  # under the side row
                y = BELOW_Y + 22 * below_index
                below_index += 1
                x1, x2 = sx + BOX_W / 2 + 10, tx + BOX_W / 2 - 10
                out.append(
                    _path(
                        [(x1, SIDE_Y + BOX_H), (x1, y), (x2, y), (x2, SIDE_Y + BOX_H + 2)],
                        event=e.event,
                        dashed=e.returns,
                    )
                )
                labels.append(_label((x1 + x2) / 2, y + 15, e.label, width=60))
        elif "side" not in (ks, kt):  # a main state and a bar it is not under
            main_end, bar_end = (s, t) if ks == "main" else (t, s)
            assert main_end.state is not None
            assert bar_end.group is not None
            y = layout.bars[bar_end.group]
            left, right = spans[bar_end.group]
            x = layout.centre(main_end.state)
            edge_x = right + 4 if x > right else left - 4
            points = [(x, MAIN_Y + BOX_H), (x, y), (edge_x, y)]
            if ks == "bar":
                points.reverse()
            out.append(_path(points, event=e.event, dashed=e.returns))
            labels.append(_label((x + edge_x) / 2, y + 28, e.label, width=18))
        else:  # between a side state and the main row (a state or a bar)
            side, other = (s, t) if ks == "side" else (t, s)
            assert side.state is not None
            offset = offsets.get((id(e), side.state), 0.0)
            side_x = layout.centre(side.state) + offset
            if other.group is not None:
                top_y = layout.bars[other.group] + 3
                left, right = spans[other.group]
                top_x = min(max(side_x, left), right)
            else:
                assert other.state is not None
                top_y = MAIN_Y + BOX_H + 2
                top_x = layout.centre(other.state) + offsets.get((id(e), other.state), 0.0)
            points = [(top_x, top_y), (side_x, SIDE_Y - 2)]
            if side is s:  # up from the side row
                points = [(side_x, SIDE_Y), (top_x, top_y)]
            out.append(_path(points, event=e.event, dashed=e.returns))
            mid_y = (SIDE_Y + top_y) / 2 + (16 if offset > 0 else 0)
            mid_x = (side_x + top_x) / 2 + (6 if offset >= 0 else -6)
            labels.append(_label(mid_x, mid_y, e.label, anchor="start" if offset >= 0 else "end"))
    out.extend(_box(layout, state, language) for state in (*_MAIN, *_SIDE))
    out.extend(labels)
    out.append("</svg>")
    return _markup(out)


@dataclass(frozen=True)
class StayingEvent:
    """An event that leaves the case in its state, and where it may happen."""

    name: str
    label: str
    where: str


def staying_events(language: str, describe: Callable[[Sequence[str]], str]) -> list[StayingEvent]:
    """The events that do not move the case (extensions, notes, assignments, reopening
    requests), with the states they apply to as ``describe`` names them."""
    found = []
    for spec in EVENTS:
        for sources, dest in spec.moves:
            if dest is None:
                found.append(
                    StayingEvent(
                        spec.name,
                        spec.label_en if language == "en" else spec.label_pt,
                        describe(sources),
                    )
                )
    return found


def events_that_move() -> list[EventSpec]:
    """The events drawn as arrows."""
    return [
        spec
        for spec in EVENTS
        if spec.returns_to or any(dest is not None for _, dest in spec.moves)
    ]


ACTIVE_STATES = frozenset(s.value for s in ACTIVE)
