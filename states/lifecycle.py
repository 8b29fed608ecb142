"""The PRODUZIR lifecycle: its events, and the one shared state machine that runs them.

The definition is a table (:data:`EVENTS`): each event names the evidence model it takes, the
guard that judges that evidence, and the (source, destination) pairs where it applies. One
``transitions.Machine`` is built from it (``auto_transitions`` off), with one subject attached
for good: for the duration of one :meth:`Lifecycle.fire` (under a lock) the subject holds a
case's facts and state, and is emptied after (attaching a fresh model on every call cost more
than the rest of the guard). Callbacks only record: the guard's refusal sentence lands on the
subject, nothing else happens inside the machine.

``suspensa`` remembers the state it left; ``retomar`` returns there. ``aprovar_reabertura``
returns a closed case to the state it left the same way. Both are written as one transition per
possible destination, taken only when it is the recorded one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from transitions import Machine, MachineError

from states import evidence as ev
from states import guards as g
from states.config import LifecycleConfig
from states.errors import GuardFailed, InvalidInput, TransitionNotAllowed
from states.states import ACTIVE, ALL, CLOSED, State
from states.text import N_, Term, Text

_ACTIVE = [s.value for s in ACTIVE]
_OPEN = [*_ACTIVE, State.SUSPENSA.value, State.INDEFERIDA.value]
_CLOSED = [s.value for s in CLOSED]
#: Where a reopened case may return to.
_REOPEN_TARGETS = [*_ACTIVE, State.INDEFERIDA.value]


@dataclass(frozen=True)
class EventSpec:
    """One event of the lifecycle."""

    name: str
    label_pt: str
    label_en: str
    evidence: type[ev.Evidence]
    guard: g.Guard
    #: (sources, destination); destination None = the case stays where it is.
    moves: tuple[tuple[tuple[str, ...], str | None], ...] = ()
    #: the destination is the state recorded in ``previous_state`` (one of these).
    returns_to: tuple[str, ...] = ()
    sources_for_return: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        found: list[str] = []
        for sources, _ in self.moves:
            found.extend(s for s in sources if s not in found)
        found.extend(s for s in self.sources_for_return if s not in found)
        return tuple(found)


def _step(source: State, dest: State) -> tuple[tuple[str, ...], str]:
    return ((source.value,), dest.value)


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(
        "iniciar_analise",
        "Iniciar análise",
        "Start review",
        ev.NoEvidence,
        g.demand_complete,
        (_step(State.REGISTRADA, State.EM_ANALISE),),
    ),
    EventSpec(
        "aprovar_elegibilidade",
        "Aprovar elegibilidade",
        "Approve eligibility",
        ev.EligibilityDecision,
        g.eligible,
        (_step(State.EM_ANALISE, State.POLO_DEFINIDO),),
    ),
    EventSpec(
        "indeferir",
        "Indeferir",
        "Reject",
        ev.Rejection,
        g.rejection_reasoned,
        (_step(State.EM_ANALISE, State.INDEFERIDA),),
    ),
    EventSpec(
        "recorrer",
        "Recorrer do indeferimento",
        "Appeal the rejection",
        ev.Appeal,
        g.appeal_in_time,
        (_step(State.INDEFERIDA, State.EM_ANALISE),),
    ),
    EventSpec(
        "arquivar",
        "Arquivar",
        "Archive",
        ev.NoEvidence,
        g.appeal_window_closed,
        (_step(State.INDEFERIDA, State.ARQUIVADA),),
    ),
    EventSpec(
        "formalizar_polo",
        "Formalizar polo",
        "Formalise the hub",
        ev.HubDecision,
        g.hub_adhered,
        (_step(State.POLO_DEFINIDO, State.MOBILIZACAO),),
    ),
    EventSpec(
        "concluir_mobilizacao",
        "Concluir mobilização",
        "Complete mobilisation",
        ev.Mobilisation,
        g.mobilised,
        (_step(State.MOBILIZACAO, State.CAPACITACAO),),
    ),
    EventSpec(
        "concluir_capacitacao",
        "Concluir capacitação (ECC)",
        "Complete field training (ECC)",
        ev.FieldTraining,
        g.trained,
        (_step(State.CAPACITACAO, State.GESTAO),),
    ),
    EventSpec(
        "concluir_gestao",
        "Concluir oficinas de gestão",
        "Complete business workshops",
        ev.NoEvidence,
        g.plans_for_all,
        (_step(State.GESTAO, State.LEGALIZACAO),),
    ),
    EventSpec(
        "concluir_legalizacao",
        "Concluir legalização",
        "Complete legalisation",
        ev.NoEvidence,
        g.legalised,
        (_step(State.LEGALIZACAO, State.ACOMPANHAMENTO),),
    ),
    EventSpec(
        "concluir_acompanhamento",
        "Concluir acompanhamento",
        "Complete follow-up",
        ev.NoEvidence,
        g.followed_up,
        (_step(State.ACOMPANHAMENTO, State.AVALIACAO),),
    ),
    EventSpec(
        "concluir_avaliacao",
        "Concluir avaliação",
        "Complete evaluation",
        ev.Evaluation,
        g.evaluated,
        (_step(State.AVALIACAO, State.CONCLUIDA),),
    ),
    EventSpec(
        "prorrogar",
        "Prorrogar prazo",
        "Extend the deadline",
        ev.Justification,
        g.extension_available,
        ((tuple(_ACTIVE), None),),
    ),
    EventSpec(
        "suspender",
        "Suspender",
        "Suspend",
        ev.Suspension,
        g.suspension_reasoned,
        ((tuple(_ACTIVE), State.SUSPENSA.value),),
    ),
    EventSpec(
        "retomar",
        "Retomar",
        "Resume",
        ev.NoEvidence,
        g.nothing,
        returns_to=tuple(_ACTIVE),
        sources_for_return=(State.SUSPENSA.value,),
    ),
    EventSpec(
        "cancelar",
        "Cancelar",
        "Cancel",
        ev.Cancellation,
        g.cancellation_reasoned,
        ((tuple(_OPEN), State.CANCELADA.value),),
    ),
    EventSpec(
        "solicitar_reabertura",
        "Solicitar reabertura",
        "Request reopening",
        ev.Justification,
        g.reopening_requested,
        ((tuple(_CLOSED), None),),
    ),
    EventSpec(
        "aprovar_reabertura",
        "Aprovar reabertura",
        "Approve reopening",
        ev.NoEvidence,
        g.second_person,
        returns_to=tuple(_REOPEN_TARGETS),
        sources_for_return=tuple(_CLOSED),
    ),
    EventSpec(
        "recusar_reabertura",
        "Recusar reabertura",
        "Refuse reopening",
        ev.Justification,
        g.second_person,
        ((tuple(_CLOSED), None),),
    ),
    EventSpec(
        "atribuir",
        "Atribuir coordenador",
        "Assign a coordinator",
        ev.Assignment,
        g.nothing,
        ((tuple(_OPEN), None),),
    ),
    EventSpec(
        "anotar",
        "Anotar",
        "Add a note",
        ev.Note,
        g.nothing,
        ((tuple(s.value for s in ALL), None),),
    ),
)

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


def machine_transitions() -> list[dict[str, Any]]:
    """The transitions of :data:`EVENTS` in the form ``transitions.Machine`` takes."""
    table: list[dict[str, Any]] = []
    for spec in EVENTS:
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


class Lifecycle:
    """The lifecycle definition plus its configuration, with ONE shared machine."""

    def __init__(self, config: LifecycleConfig) -> None:
        self.config = config
        self.version = config.version
        self._machine = Machine(
            model=None,
            states=[s.value for s in ALL],
            transitions=machine_transitions(),
            initial=State.REGISTRADA.value,
            auto_transitions=False,
            send_event=True,
        )
        self._lock = threading.Lock()
        #: the machine's one model, loaded with a case inside fire() (guarded by _lock)
        self._subject = _Subject()
        self._machine.add_model(self._subject)
        self._triggers: dict[str, list[str]] = {
            s.value: [e.name for e in EVENTS if s.value in e.sources] for s in ALL
        }

    def allowed_events(self, state: str) -> list[str]:
        """The events the state accepts (guards not yet checked), in definition order."""
        return list(self._triggers[state])

    def spec(self, event: str) -> EventSpec:
        try:
            return EVENTS_BY_NAME[event]
        except KeyError:
            raise InvalidInput(
                N_(
                    "unknown event %(event)s; events are: %(value)s",
                    event=repr(event),
                    value=", ".join(EVENTS_BY_NAME),
                ),
                field="event",
            ) from None

    def check_accepted(self, case_id: int | None, state: str, event: str) -> None:
        """Raise :class:`TransitionNotAllowed` unless ``state`` accepts ``event``."""
        if event not in self._triggers[state]:
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
        if not isinstance(evidence, spec.evidence):
            raise InvalidInput(
                N_(
                    "evidence for %(event)s must be %(name__)s",
                    event=event,
                    name__=spec.evidence.__name__,
                ),
                field="evidence",
            )
        self.check_accepted(facts.case_id, facts.state, event)
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
                moved = getattr(subject, "trigger")(event)  # noqa: B009 - set by transitions
            except MachineError:  # pragma: no cover - _triggers already said it is accepted
                raise TransitionNotAllowed(
                    facts.case_id, event, facts.state, self.allowed_events(facts.state)
                ) from None
            finally:
                to_state, refusal = subject.state, subject.refusal
                subject.ctx, subject.refusal = None, None
        if not moved:
            reason = refusal or N_(
                "the case has no recorded state to return to from %(state)s",
                state=Term("state", facts.state),
            )
            raise GuardFailed(facts.case_id, event, reason)
        return Outcome(event, facts.state, to_state, evidence)

    def mermaid(self) -> str:
        """The lifecycle as a Mermaid state diagram, from the same table the engine runs."""
        from transitions.extensions import GraphMachine

        graph = GraphMachine(
            model=None,
            states=[s.value for s in ALL],
            transitions=machine_transitions(),
            initial=State.REGISTRADA.value,
            auto_transitions=False,
            graph_engine="mermaid",
            title=f"PRODUZIR lifecycle {self.version}",
            show_conditions=False,
        )
        holder = _Subject()
        graph.add_model(holder)
        source: str = getattr(holder, "get_graph")().draw(None)  # noqa: B009
        return source
