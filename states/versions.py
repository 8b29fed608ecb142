"""New lifecycle versions made from an existing one: rename states, insert states.

A version is a lifecycle file (its ``version``, deadlines and thresholds) naming its states and
event declarations (``states = "module:attribute"``, ``events = "module:attribute"``).
:func:`derive` makes both from a base version's, so a version that renames a state or inserts
one between two others states only what changes::

    STATES, EVENTS = derive(
        base.STATES, base.EVENTS,
        rename={"capacitacao": ("capacitacao_campo", "Capacitação em campo", "Field training")},
        insert=[Insert("plano_negocios", "Plano de negócios", "Business plan", after="gestao",
                       event=...)],
    )

A renamed state keeps its role (the programme's rules for it still apply) and records the
name it had (``renamed_from``: a migration's default mapping). An inserted state is active:
the event that left the state before it now enters it, ``event`` leaves it for where that
event went, and every side road (suspend, cancel, extend, assign, note, resume, reopen) that
applied to the state before it applies to it too. Cases move between versions with
``produzir lifecycle migrate`` (:mod:`tasks.lifecycle_migration`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from states.events import EventSpec
from states.states import StateSpec


@dataclass(frozen=True)
class Insert:
    """A state inserted on the main path after ``after``, left by ``event``."""

    code: str
    label_pt: str
    label_en: str
    after: str
    #: the event that leaves the new state (its ``moves`` are filled in)
    event: EventSpec
    #: the step out of ``after`` that now enters the new state (needed when ``after`` has
    #: several: em_analise is left by aprovar_elegibilidade and by indeferir)
    through: str | None = None


def derive(
    states: tuple[StateSpec, ...],
    events: tuple[EventSpec, ...],
    *,
    rename: Mapping[str, tuple[str, str, str]] | None = None,
    insert: Sequence[Insert] = (),
) -> tuple[tuple[StateSpec, ...], tuple[EventSpec, ...]]:
    """The states and events of a new version: ``rename`` maps a state's code to its new
    (code, label_pt, label_en); ``insert`` adds states after others. The result is validated
    when a :class:`~states.lifecycle.Lifecycle` is built from it."""
    names = {old: new for old, (new, _, _) in (rename or {}).items()}
    kinds = {s.code: s.kind for s in states}
    for old in names:  # the side and closed states and the first one are the rules' anchors
        if kinds.get(old) != "active" or old == states[0].code:
            raise ValueError(f"rename {old}: only an active state after the first may be renamed")
    new_states = [
        dataclasses.replace(
            s, code=names[s.code], label_pt=labels[1], label_en=labels[2], renamed_from=s.code
        )
        if (labels := (rename or {}).get(s.code))
        else s
        for s in states
    ]
    new_events = [_renamed(e, names) for e in events]
    for item in insert:
        after = names.get(item.after, item.after)
        place = next(i for i, s in enumerate(new_states) if s.code == after)
        new_states.insert(
            place + 1, StateSpec(item.code, item.label_pt, item.label_en, "active", item.code)
        )
        closed = frozenset(s.code for s in new_states if s.kind == "closed")
        new_events = _inserted(new_events, after, item, closed)
    return tuple(new_states), tuple(new_events)


def _renamed(spec: EventSpec, names: Mapping[str, str]) -> EventSpec:
    def one(code: str) -> str:
        return names.get(code, code)

    return dataclasses.replace(
        spec,
        moves=tuple(
            (tuple(one(s) for s in sources), None if dest is None else one(dest))
            for sources, dest in spec.moves
        ),
        returns_to=tuple(one(s) for s in spec.returns_to),
        sources_for_return=tuple(one(s) for s in spec.sources_for_return),
    )


def _inserted(
    events: list[EventSpec], after: str, item: Insert, closed: frozenset[str]
) -> list[EventSpec]:
    """``events`` with ``item.code`` between ``after`` and the state after it."""
    steps = [
        spec.name
        for spec in events
        if spec.summary and any(s == (after,) and d not in (None, after) for s, d in spec.moves)
    ]
    if item.through is not None:
        if item.through not in steps:
            raise ValueError(f"insert {item.code}: {item.through} is not a step out of {after}")
        steps = [item.through]
    if len(steps) != 1:
        raise ValueError(
            f"insert {item.code}: {after} is left by {', '.join(steps) or 'no step'}; "
            "name the one the new state follows (through=...)"
        )
    out: list[EventSpec] = []
    following: str | None = None
    for spec in events:
        moves: list[tuple[tuple[str, ...], str | None]] = []
        for sources, dest in spec.moves:
            if spec.name == steps[0] and sources == (after,) and dest is not None:
                following = dest  # the main step out of `after` now enters the new state
                moves.append((sources, item.code))
            elif after in sources and len(sources) > 1:  # a side road of every such state
                moves.append(((*sources, item.code), dest))
            else:
                moves.append((sources, dest))
        returns_to = spec.returns_to
        if after in returns_to:
            returns_to = (*returns_to, item.code)
        sources_for_return = spec.sources_for_return
        if after in sources_for_return and len(sources_for_return) > 1:
            sources_for_return = (*sources_for_return, item.code)
        out.append(
            dataclasses.replace(
                spec,
                moves=tuple(moves),
                returns_to=returns_to,
                sources_for_return=sources_for_return,
            )
        )
    assert following is not None
    if following in closed:
        raise ValueError(
            f"insert {item.code}: {steps[0]} enters the closed state {following}, whose effect "
            "the new step would not have; insert before another step"
        )
    out.append(dataclasses.replace(item.event, moves=(((item.code,), following),)))
    return out
