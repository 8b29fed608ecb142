"""The lifecycle as a Mermaid flowchart people can read, built from the lifecycle's event table.

:func:`mermaid` takes the events (anything shaped like :class:`states.lifecycle.EventSpec`) and
writes one diagram, top to bottom: states by their labels (not their codes), and each event that
moves a case drawn once, labelled:

- an event with one source state is an arrow from that state (the main path, the rejection and
  its appeal, the archiving);
- an event that applies to a group of states (suspend, cancel) is ONE arrow from a dashed group
  node named for the group ("Any state in progress"), not one arrow per state;
- an event that takes the case back to the state it left (resume, approve a reopening) is ONE
  dotted arrow to a group node "Back to the state it left (...)";
- an event that leaves the case where it is (extend, assign, note, request or refuse a
  reopening) is not drawn: no self-loops. :func:`staying` lists them, for a legend beside.

Mermaid lays the drawing out (dagre) where it is rendered: the web console's vendored copy in
the browser, which measures the labels; ``produzir lifecycle diagram`` prints the same source.
The drawing's own sentences are English msgids marked with ``M_``; ``translate`` renders them
(the edges pass their gettext; the default keeps the English).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from states.states import STATES, State, StateSpec
from states.text import M_, fill


class Event(Protocol):
    """What the drawing reads of an event (``states.lifecycle.EventSpec`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def label_pt(self) -> str: ...
    @property
    def label_en(self) -> str: ...
    @property
    def moves(self) -> Sequence[tuple[Sequence[str], str | None]]: ...
    @property
    def returns_to(self) -> Sequence[str]: ...
    @property
    def sources_for_return(self) -> Sequence[str]: ...


def _groups(states: Sequence[StateSpec]) -> tuple[dict[frozenset[str], str], ...]:
    """The names (English msgids) of the groups of ``states`` an event may start from, and of
    those it may take a case back to."""
    active = frozenset(s.code for s in states if s.kind == "active")
    closed = frozenset(s.code for s in states if s.kind == "closed")
    every = frozenset(s.code for s in states)
    rejected = frozenset({State.INDEFERIDA.value}) & every
    open_ = every - closed
    return (
        {
            active: M_("Any state in progress"),
            open_: M_("Any open state (in progress, suspended or rejected)"),
            closed: M_("Any closed state (concluded, cancelled or archived)"),
            every: M_("Any state"),
        },
        {
            active: M_("Back to the state it left (in progress)"),
            active | rejected: M_("Back to the state it left (in progress or rejected)"),
        },
    )


#: The group names of the shipped states (where an event may start / take a case back to).
SOURCE_NAMES, RETURN_NAMES = _groups(STATES)

#: the looks of the nodes (class names a reader never sees: not words of either language)
_CLASSES = (
    "classDef main fill:#e8f5ee,stroke:#7b8794,color:#1f2933",
    "classDef done fill:#c6e7d4,stroke:#2f855a,color:#1f2933",
    "classDef paused fill:#fff4e5,stroke:#b7791f,color:#1f2933",
    "classDef rej fill:#fde8e7,stroke:#c53030,color:#1f2933",
    "classDef closed fill:#edf0f3,stroke:#7b8794,color:#1f2933",
    "classDef group fill:#ffffff,stroke:#52606d,stroke-dasharray:5 4,color:#1f2933",
)


def _identity(text: str) -> str:
    return text


def _quoted(text: str) -> str:
    """A label as Mermaid reads it: in double quotes, a quote written as its entity."""
    return '"' + text.replace('"', "#quot;") + '"'


def _state_class(state: StateSpec) -> str:
    if state.role == State.CONCLUIDA.value:
        return "done"
    if state.role == State.SUSPENSA.value:
        return "paused"
    if state.role == State.INDEFERIDA.value:
        return "rej"
    if state.kind == "closed":
        return "closed"
    return "main"


@dataclass(frozen=True)
class Arrow:
    """One arrow of the drawing: its ends (state codes or group nodes), its event and label;
    ``returns`` when it takes the case back to the state it left."""

    source: str
    target: str
    event: str
    label: str
    returns: bool = False


@dataclass(frozen=True)
class Staying:
    """An event that leaves the case in its state, and the states it applies to."""

    event: str
    label: str
    states: tuple[str, ...]


class _Drawing:
    def __init__(
        self, states: Sequence[StateSpec], language: str, translate: Callable[[str], str]
    ) -> None:
        self.states = states
        self.labels = {s.code: s.label(language) for s in states}
        self.sources, self.returns = _groups(states)
        self.translate = translate
        #: (states, "from" or "back") -> the group node that stands for them
        self.groups: dict[tuple[frozenset[str], str], str] = {}

    def end(self, states: Iterable[str], role: str = "from") -> str:
        """The one end that stands for ``states``: a state, or a group node (``role`` "from"
        for where an event starts, "back" for the states it may take a case back to)."""
        found = frozenset(states)
        if len(found) == 1 and role == "from":
            return next(iter(found))
        return self.groups.setdefault((found, role), f"{role}_{len(self.groups) + 1}")

    def group_name(self, states: frozenset[str], role: str) -> str:
        table = self.sources if role == "from" else self.returns
        msgid = table.get(states)
        if msgid is not None:
            return self.translate(msgid)
        # the largest named group inside, then the other states (prorrogar: every state in
        # progress, and the superior authority's decision on an appeal)
        inside = max((g for g in table if g < states), key=len, default=frozenset[str]())
        named = [self.translate(table[inside])] if inside else []
        rest = [self.labels[s.code] for s in self.states if s.code in states - inside]
        return ", ".join(named + rest)


def _plan(
    events: Sequence[Event], language: str, drawing: _Drawing
) -> tuple[list[Arrow], list[Staying]]:
    """The arrows (one per move, from its source or the group node of its sources; one per
    return, to the group node of where it may return) and the events that stay."""
    arrows: list[Arrow] = []
    staying: list[Staying] = []
    for spec in events:
        label = spec.label_en if language == "en" else spec.label_pt
        for sources, dest in spec.moves:
            if dest is None:
                staying.append(Staying(spec.name, label, tuple(sources)))
            else:
                arrows.append(Arrow(drawing.end(sources), dest, spec.name, label))
        if spec.returns_to:
            arrows.append(
                Arrow(
                    drawing.end(spec.sources_for_return),
                    drawing.end(spec.returns_to, "back"),
                    spec.name,
                    label,
                    returns=True,
                )
            )
    return arrows, staying


def staying(events: Sequence[Event] | None = None, language: str = "pt-BR") -> list[Staying]:
    """The events that leave the case where it is (the legend beside the drawing)."""
    return _plan(_events(events), language, _Drawing(STATES, language, _identity))[1]


def _events(events: Sequence[Event] | None) -> Sequence[Event]:
    if events is None:
        from states.events import EVENTS

        return EVENTS
    return events


def mermaid(
    events: Sequence[Event] | None = None,
    language: str = "pt-BR",
    *,
    translate: Callable[[str], str] = _identity,
    version: str | None = None,
    states: Sequence[StateSpec] = STATES,
) -> str:
    """The lifecycle as Mermaid flowchart source, its labels in ``language`` ("pt-BR"/"en").

    ``events`` defaults to :data:`states.events.EVENTS`; ``translate`` renders the drawing's
    own sentences (its title, the group names) from their English msgids (gettext in
    ``language``); the title names the lifecycle's ``version`` when given; ``states`` are the
    version's (default: the shipped ones), in order, the main path first.
    """
    drawing = _Drawing(states, language, translate)
    arrows, _ = _plan(_events(events), language, drawing)
    lines: list[str] = []
    if version is None:
        title = translate(M_("PRODUZIR lifecycle"))
    else:
        title = fill(translate(M_("PRODUZIR lifecycle, version %(version)s")), {"version": version})
    # straight segments: the default curves bend through the labels of the arrows beside
    lines += ["---", f"title: {_quoted(title)}", "config:", "  flowchart:", "    curve: linear"]
    lines.append("---")
    lines.append("flowchart TB")
    lines += [f"  {c}" for c in _CLASSES]

    def node(state: StateSpec) -> str:
        return f"  {state.code}({_quoted(drawing.labels[state.code])}):::{_state_class(state)}"

    groups = set(drawing.groups.values())
    main = {s.code for s in states if s.kind == "active" or s.role == State.CONCLUIDA.value}
    # the states reached only from a group node are drawn with the group nodes, not in line
    side = {a.target for a in arrows if a.source in groups and a.target not in main}
    lines += [node(s) for s in states if s.code not in side]
    for (members, role), ident in drawing.groups.items():
        lines.append(f"  {ident}([{_quoted(drawing.group_name(members, role))}]):::group")
    lines += [node(s) for s in states if s.code in side]
    # each arrow named by its event (Mermaid's edge id: ``data-id`` in the drawing)
    taken = {s.code for s in states} | groups
    for a in arrows:
        ident = a.event if a.event not in taken else f"{a.event}_{len(taken)}"
        taken.add(ident)
        link = "-.->" if a.returns else "-->"
        lines.append(f"  {a.source} {ident}@{link}|{_quoted(a.label)}| {a.target}")
    return "\n".join(lines) + "\n"
