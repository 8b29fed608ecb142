"""The PRODUZIR lifecycle: its events, and the one shared state machine that runs them.

The events are declared in :mod:`states.events` (:data:`~states.events.EVENTS`), each whole:
evidence model, guard, where it applies, effect, records, messages. A :class:`Lifecycle` is
built from a configuration and a table of declarations (the default one unless told), which it
validates first. One ``transitions.Machine`` is built from the table (``auto_transitions`` off), with one subject attached
for good: for the duration of one :meth:`Lifecycle.fire` (under a lock) the subject holds a
case's facts and state, and is emptied after (attaching a fresh model on every call cost more
than the rest of the guard). Callbacks only record: the guard's refusal sentence lands on the
subject, nothing else happens inside the machine.

``suspensa`` remembers the state it left; ``retomar`` returns there. ``aprovar_reabertura``
returns a closed case to the state it left the same way. Both are written as one transition per
possible destination, taken only when it is the recorded one.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from transitions import Machine, MachineError

from states import evidence as ev
from states import guards as g
from states.config import WORKING, LifecycleConfig, load_config
from states.errors import GuardFailed, InvalidInput, TransitionNotAllowed
from states.events import EVENTS, DeclarationError, EventSpec, validate
from states.states import APPEAL, STATES, State, StateSpec, declare
from states.text import N_, Term, Text

__all__ = ["EVENTS", "EVENTS_BY_NAME", "EventSpec", "Lifecycle", "Outcome", "load_lifecycle"]

_APPEAL_ROLES = frozenset(s.value for s in APPEAL)

#: The lifecycle's events (declared in :mod:`states.events`), by name.
EVENTS_BY_NAME: dict[str, EventSpec] = {e.name: e for e in EVENTS}


@dataclass
class _Subject:
    """What the machine sees of a case while it judges it: facts in, refusal out."""

    ctx: g.GuardContext | None = None
    refusal: Text | None = None
    state: str = field(default="")


def _condition(guard: g.Guard) -> Callable[[Any], bool]:
    def check(event_data: Any) -> bool:
        subject: _Subject = event_data.model
        assert subject.ctx is not None
        reason = guard(subject.ctx)
        if reason is not None:
            subject.refusal = reason
            return False
        return True

    return check


def _returns_to(state: str) -> Callable[[Any], bool]:
    def check(event_data: Any) -> bool:
        subject: _Subject = event_data.model
        assert subject.ctx is not None
        return subject.ctx.facts.previous_state == state

    return check


def machine_transitions(events: tuple[EventSpec, ...] = EVENTS) -> list[dict[str, Any]]:
    """The transitions of ``events`` in the form ``transitions.Machine`` takes."""
    table: list[dict[str, Any]] = []
    for spec in events:
        for sources, dest in spec.moves:
            table.append(
                {
                    "trigger": spec.name,
                    "source": list(sources),
                    "dest": dest,
                    "conditions": [_condition(spec.guard)],
                }
            )
        for dest in spec.returns_to:
            table.append(
                {
                    "trigger": spec.name,
                    "source": list(spec.sources_for_return),
                    "dest": dest,
                    "conditions": [_returns_to(dest), _condition(spec.guard)],
                }
            )
    return table


@dataclass(frozen=True)
class Outcome:
    """What firing an event decided."""

    event: str
    from_state: str
    to_state: str
    evidence: ev.Evidence
    #: the event's declaration (None in an outcome made by hand: the default table's is used)
    spec: EventSpec | None = None


class Lifecycle:
    """The lifecycle definition plus its configuration, with ONE shared machine.

    ``events`` is the table of declarations (default: :data:`states.events.EVENTS`); it is
    validated here, so a lifecycle that lacks a part never starts
    (:class:`states.events.DeclarationError`).
    """

    def __init__(
        self,
        config: LifecycleConfig,
        events: tuple[EventSpec, ...] = EVENTS,
        states: tuple[StateSpec, ...] = STATES,
    ) -> None:
        codes = [s.code for s in states]
        validate(events, codes)
        # the states in progress, and those of the appeal, have a deadline of the file's
        timed = [s.code for s in states if s.kind == "active" or s.role in _APPEAL_ROLES]
        missing = [c for c in timed if c not in config.deadlines]
        unknown = sorted(set(config.deadlines) - set(timed))
        if missing or unknown:
            raise DeclarationError(
                f"lifecycle {config.version}: deadlines: "
                + "; ".join(
                    ([f"none for states {', '.join(missing)}"] if missing else [])
                    + ([f"for unknown states {', '.join(unknown)}"] if unknown else [])
                )
            )
        self.config = config
        self.version = config.version
        self.events = events
        self.states = states
        declare(states)
        self.by_name: dict[str, EventSpec] = {e.name: e for e in events}
        self._states = {s.code: s for s in states}
        self._machine = Machine(
            model=None,
            states=codes,
            transitions=machine_transitions(events),
            initial=codes[0],
            auto_transitions=False,
            send_event=True,
        )
        self._lock = threading.Lock()
        #: the machine's one model, loaded with a case inside judge() (guarded by _lock)
        self._subject = _Subject()
        self._machine.add_model(self._subject)
        self._triggers: dict[str, list[str]] = {
            state: [e.name for e in events if state in e.sources] for state in codes
        }
        for spec in events:  # a summary naming a threshold that does not exist
            try:
                self.summary(spec)
            except (KeyError, ValueError, IndexError) as exc:
                raise DeclarationError(f"event {spec.name}: summary: {exc!r}") from None

    def allowed_events(self, state: str) -> list[str]:
        """The events the state accepts (guards not yet checked), in definition order; none for
        a state this version does not have (a case under another version)."""
        return list(self._triggers.get(state, ()))

    def state(self, code: str) -> StateSpec | None:
        """The state ``code`` of this version (None when it has no such state)."""
        return self._states.get(code)

    def role(self, code: str) -> str:
        """The base state ``code`` plays in this version (itself for a state it inserted or
        does not know)."""
        found = self._states.get(code)
        return found.role if found else code

    def summary(self, spec: EventSpec, template: str | None = None) -> str:
        """What the event's guard checks, with this lifecycle's thresholds filled in (into
        ``template``, the summary's translation, when given)."""
        thresholds = self.config.thresholds
        values = {
            **thresholds.model_dump(),
            "eligible_classes": ", ".join(thresholds.eligible_classes),
        }
        return (template or spec.summary).format(**values)

    def markdown_table(self) -> str:
        """The README's lifecycle table, made from the declarations and the deadlines."""
        lines = [
            "| state | label | leaves with (event: evidence the guard checks) | deadline |",
            "|---|---|---|---|",
        ]
        for state in self.states:
            leaving = [
                f"`{e.name}`: {self.summary(e)}"
                for e in self.events
                if e.summary and state.code in e.sources and e.moving
            ]
            if state.kind == "closed":
                leaving.insert(0, "terminal (reopening only)")
            lines.append(
                f"| `{state.code}` | {state.label_pt} | {'; or '.join(leaving) or '—'} "
                f"| {self._deadline_text(state.code)} |"
            )
        return "\n".join(lines) + "\n"

    def _deadline_text(self, state: str) -> str:
        rule = self.config.deadlines.get(state)
        if rule is None:
            return {
                State.SUSPENSA.value: "expected resume date",
                State.INDEFERIDA.value: self._appeal_window_text(),
            }.get(state, "—")
        unit = "months" if rule.months else ("working days" if rule.kind == WORKING else "days")
        text = f"{rule.months or rule.days} {unit}"
        if rule.max_extensions:
            times = {1: "once", 2: "twice"}.get(rule.max_extensions, f"{rule.max_extensions} times")
            text += f", extendable {times} by {rule.extension_days}"
        return text

    def _appeal_window_text(self) -> str:
        days = self.config.thresholds.appeal_days
        if State.EM_RECONSIDERACAO.value in self._states:
            return f"the appeal window ({days} days from the proponent's ciência)"
        return f"the appeal window ({days} days)"

    def command(self, name: str) -> EventSpec | None:
        """The event whose command under ``produzir case`` is ``name``."""
        return next((e for e in self.events if e.command == name), None)

    def spec(self, event: str) -> EventSpec:
        try:
            return self.by_name[event]
        except KeyError:
            raise InvalidInput(
                N_(
                    "unknown event %(event)s; events are: %(value)s",
                    event=repr(event),
                    value=", ".join(self.by_name),
                ),
                field="event",
            ) from None

    def check_accepted(self, case_id: int | None, state: str, event: str) -> None:
        """Raise :class:`TransitionNotAllowed` unless ``state`` accepts ``event``."""
        if event not in self._triggers.get(state, ()):
            raise TransitionNotAllowed(case_id, event, state, self.allowed_events(state))

    def parse_evidence(self, event: str, raw: Any) -> ev.Evidence:
        """Validate raw evidence for ``event``."""
        return ev.parse(self.spec(event).evidence, event, raw)

    def fire(
        self,
        facts: g.CaseFacts,
        event: str,
        evidence: ev.Evidence,
        *,
        actor: str,
        today: date,
        records: g.Records | None = None,
    ) -> Outcome:
        """Ask the machine whether ``event`` may happen now; the destination, or an error.

        Raises :class:`TransitionNotAllowed` when the state does not accept the event and
        :class:`GuardFailed` with the guard's sentence when the evidence is not enough.
        """
        spec = self.spec(event)
        evidence = self.evidence_for(spec, evidence)
        self.check_accepted(facts.case_id, facts.state, event)
        return self.judge(spec, facts, evidence, actor=actor, today=today, records=records)

    @staticmethod
    def evidence_for(
        spec: EventSpec, evidence: Mapping[str, Any] | ev.Evidence | None
    ) -> ev.Evidence:
        """The event's evidence, validated: raw evidence parsed by its model, or a model
        instance checked to be of the event's model; InvalidInput otherwise."""
        if not isinstance(evidence, ev.Evidence):
            return ev.parse(spec.evidence, spec.name, dict(evidence or {}))
        if not isinstance(evidence, spec.evidence):
            raise InvalidInput(
                N_(
                    "evidence for %(event)s must be %(name__)s",
                    event=spec.name,
                    name__=spec.evidence.__name__,
                ),
                field="evidence",
            )
        return evidence

    def judge(
        self,
        spec: EventSpec,
        facts: g.CaseFacts,
        evidence: ev.Evidence,
        *,
        actor: str,
        today: date,
        records: g.Records | None = None,
    ) -> Outcome:
        """The guard's and the machine's verdict on an event the state accepts, with evidence
        already validated (:meth:`fire` checks both first): the destination, or
        :class:`GuardFailed`."""
        ctx = g.GuardContext(
            facts=facts,
            evidence=evidence,
            actor=actor,
            today=today,
            thresholds=self.config.thresholds,
            deadline_rule=self.config.deadlines.get(facts.state),
            records=records or g.Records(),
        )
        subject = self._subject
        with self._lock:
            subject.ctx, subject.refusal = ctx, None
            self._machine.set_state(facts.state, model=subject)
            try:
                moved = getattr(subject, "trigger")(spec.name)  # noqa: B009 - set by transitions
            except MachineError:
                raise TransitionNotAllowed(
                    facts.case_id, spec.name, facts.state, self.allowed_events(facts.state)
                ) from None
            finally:
                to_state, refusal = subject.state, subject.refusal
                subject.ctx, subject.refusal = None, None
        if not moved:
            reason = refusal or N_(
                "the case has no recorded state to return to from %(state)s",
                state=Term("state", facts.state),
            )
            raise GuardFailed(facts.case_id, spec.name, reason)
        return Outcome(spec.name, facts.state, to_state, evidence, spec)

    def mermaid(self, language: str = "en") -> str:
        """The lifecycle as a Mermaid flowchart (:func:`states.diagram.mermaid`); its own
        sentences in English, the states and events in ``language``."""
        from states import diagram

        return diagram.mermaid(self.events, language, version=self.version, states=self.states)


def declared_events(reference: str, where: Path | None = None) -> tuple[EventSpec, ...]:
    """The event declarations ``module:attribute`` names (a lifecycle file's ``events``)."""
    return _declared(reference, EventSpec, N_("events"), where)


def declared_states(reference: str, where: Path | None = None) -> tuple[StateSpec, ...]:
    """The states ``module:attribute`` names (a lifecycle file's ``states``)."""
    return _declared(reference, StateSpec, N_("states"), where)


_D = TypeVar("_D")


def _declared(reference: str, kind: type[_D], part: Text, where: Path | None) -> tuple[_D, ...]:
    module_name, _, attribute = reference.partition(":")
    what = N_("lifecycle file %(path)s: %(part)s", path=where, part=part) if where else part
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            N_(
                "%(what)s: %(value)s cannot be imported (%(exc)s)",
                what=what,
                value=reference,
                exc=exc,
            )
        ) from None
    if not isinstance(found, tuple) or not all(isinstance(e, kind) for e in found):
        raise InvalidInput(
            N_(
                "%(what)s: %(value)s is not a tuple of %(kind)s",
                what=what,
                value=reference,
                kind=kind.__name__,
            )
        )
    return found


#: Earlier versions of the shipped lifecycle, kept so the cases that still run under them do
#: (each case runs under the version it records): when the shipped file's version changes, the
#: file of the version it replaces goes here (with the declarations it named).
SHIPPED_VERSIONS = Path(__file__).with_name("lifecycles")


def shipped_lifecycle_files() -> list[Path]:
    """The files of :data:`SHIPPED_VERSIONS`, loaded besides the current lifecycle."""
    return sorted(SHIPPED_VERSIONS.glob("*.toml"))


@lru_cache(maxsize=8)
def load_lifecycle(path: Path | None = None) -> Lifecycle:
    """The lifecycle a file describes (default ``states/lifecycle.toml``), with the event
    declarations it names, validated; built once per file."""
    config = load_config(path)
    events = declared_events(config.events, path)
    states = declared_states(config.states, path)
    try:
        return Lifecycle(config, events, states)
    except ValueError as exc:  # DeclarationError: a declaration lacks a part
        raise InvalidInput(
            N_("lifecycle %(version)s: %(exc)s", version=config.version, exc=exc)
        ) from None
