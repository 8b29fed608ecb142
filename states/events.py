"""The events of the PRODUZIR lifecycle, each declared once with every part it has.

An :class:`EventSpec` is the one place for an event: its labels in pt-BR and English, the
evidence model it takes, the guard that judges that evidence, where it applies (``moves``), what
it changes on the case beyond the move itself (``effect``), the programme records its guard reads
(``reads``), the checks of its evidence against the records (``checks``), the messages it causes
(``messages``), whether a time-driven sweep may fire it (``sweep``), its command on the command
line (``command`` and ``cli``) and the sentence the README's lifecycle table shows (``summary``).

The command line, the JSON API's schema, the web forms, the README's lifecycle table and the
diagram are derived from these declarations; :func:`validate` refuses, when a lifecycle is
built, a declaration that lacks a part or names something that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from states import deadlines
from states import evidence as ev
from states import guards as g
from states.calendar import WorkCalendar
from states.config import CONTINUOUS, LifecycleConfig
from states.states import ACTIVE, ALL, APPEAL, CLOSED, State

_ACTIVE = tuple(s.value for s in ACTIVE)
_APPEAL = tuple(s.value for s in APPEAL)
#: the open states of lifecycles 2026.1 and 2026.2, and of 2026.3 on (the appeal's too)
_OPEN_2026_2 = (*_ACTIVE, State.SUSPENSA.value, State.INDEFERIDA.value)
_OPEN = (*_OPEN_2026_2, *_APPEAL)
_CLOSED = tuple(s.value for s in CLOSED)
_EVERY_2026_2 = tuple(s.value for s in ALL if s not in APPEAL)
_EVERY = tuple(s.value for s in ALL)
#: Where a reopened case may return to.
_REOPEN_TARGETS = (*_ACTIVE, State.INDEFERIDA.value)

#: The records a guard may read (:mod:`states.record_views` loads each kind).
RECORD_KINDS = frozenset({"participants", "ecc", "enterprises", "follow_up", "typology"})
#: The checks of evidence against the records (:mod:`states.record_views` runs each).
CHECKS = frozenset({"hub_municipality", "assignee"})
#: What an event tells people: ``assignment`` (the new coordinator hears of it) and
#: ``transition`` (the coordinator hears of a change of state they did not make).
MESSAGES = frozenset({"assignment", "transition"})


@dataclass(frozen=True)
class Change:
    """What an effect reads: the case's tracked columns before the event, and the event."""

    case: Clockwork
    event: str
    from_state: str
    to_state: str
    evidence: ev.Evidence
    today: date
    actor: str
    config: LifecycleConfig
    #: the working-day calendar of the case's municipality; None = plain date arithmetic
    calendar: WorkCalendar | None


@dataclass(frozen=True)
class Clockwork:
    """The tracked columns of a case, as the effects read them."""

    state: str
    previous_state: str | None
    entered_on: date
    due_on: date | None
    extensions_used: int
    suspended_on: date | None
    paused_due_on: date | None


#: An effect: the columns the event changes beyond entering its destination (a dict).
Effect = Callable[[Change], dict[str, Any]]


def no_change(change: Change) -> dict[str, Any]:
    """The event changes nothing beyond the move itself."""
    return {}


@dataclass(frozen=True)
class EventSpec:
    """One event of the lifecycle, declared whole."""

    name: str
    label_pt: str
    label_en: str
    evidence: type[ev.Evidence]
    guard: g.Guard
    #: what the README's lifecycle table says the guard checks (English, with the thresholds as
    #: ``{min_participants}``...; '' for the side roads, listed apart)
    summary: str
    #: (sources, destination); destination None = the case stays where it is.
    moves: tuple[tuple[tuple[str, ...], str | None], ...] = ()
    #: the destination is the state recorded in ``previous_state`` (one of these).
    returns_to: tuple[str, ...] = ()
    sources_for_return: tuple[str, ...] = ()
    effect: Effect = no_change
    #: the programme records the guard reads (:data:`RECORD_KINDS`)
    reads: frozenset[str] = frozenset()
    #: checks of the evidence against the records (:data:`CHECKS`); a failure is bad input
    checks: tuple[str, ...] = ()
    #: the messages the event causes (:data:`MESSAGES`)
    messages: tuple[str, ...] = ("transition",)
    #: whether the deadline sweep may fire the event by itself (it then takes no evidence)
    sweep: bool = False
    #: its command under ``produzir case`` (None: only through ``produzir case advance``)
    command: str | None = None
    #: per evidence field, how the command line takes it: ``"ARG"`` (a positional argument),
    #: ``"--name"`` (an option of another name), ``"--name=VALUE"`` (with a default; ``today``
    #: for a date is the day the command runs)
    cli: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def sources(self) -> tuple[str, ...]:
        found: list[str] = []
        for sources, _ in self.moves:
            found.extend(s for s in sources if s not in found)
        found.extend(s for s in self.sources_for_return if s not in found)
        return tuple(found)

    @property
    def moving(self) -> bool:
        """Whether the event can change the case's state."""
        return bool(self.returns_to) or any(dest is not None for _, dest in self.moves)


class DeclarationError(ValueError):
    """A lifecycle declaration that lacks a part or names something that does not exist."""


def validate(events: Iterable[EventSpec], states: Iterable[str]) -> None:
    """Refuse (:class:`DeclarationError`, naming the event and the part) a declaration that
    lacks a part, repeats a name or a command, or names a state, record kind, check, message
    or evidence field that does not exist."""
    known = set(states)
    names: set[str] = set()
    commands: set[str] = set()
    problems: list[str] = []
    for spec in events:
        where = f"event {spec.name or '(unnamed)'}"
        if not spec.name or not spec.name.isidentifier():
            problems.append(f"{where}: the name must be a code like `iniciar_analise`")
        if spec.name in names:
            problems.append(f"{where}: declared twice")
        names.add(spec.name)
        for part in ("label_pt", "label_en"):
            if not str(getattr(spec, part)).strip():
                problems.append(f"{where}: no {part}")
        if not (isinstance(spec.evidence, type) and issubclass(spec.evidence, ev.Evidence)):
            problems.append(f"{where}: evidence must be a states.evidence.Evidence model")
        for part in ("guard", "effect"):
            if not callable(getattr(spec, part)):
                problems.append(f"{where}: no {part} (a function)")
        if not spec.moves and not spec.returns_to:
            problems.append(f"{where}: no moves: it applies nowhere")
        if spec.returns_to and not spec.sources_for_return:
            problems.append(f"{where}: returns_to without sources_for_return")
        named = {s for sources, _ in spec.moves for s in sources}
        named |= {d for _, d in spec.moves if d is not None}
        named |= set(spec.returns_to) | set(spec.sources_for_return)
        for state in sorted(named - known):
            problems.append(f"{where}: unknown state {state}")
        for kind in sorted(spec.reads - RECORD_KINDS):
            problems.append(f"{where}: reads unknown records {kind}")
        for check in spec.checks:
            if check not in CHECKS:
                problems.append(f"{where}: unknown check {check}")
        for message in spec.messages:
            if message not in MESSAGES:
                problems.append(f"{where}: unknown message {message}")
        fields = getattr(spec.evidence, "model_fields", {})
        if spec.sweep:
            required = [n for n, f in fields.items() if f.is_required()]
            if required:
                problems.append(
                    f"{where}: a sweep fires it, but it needs evidence ({', '.join(required)})"
                )
        if spec.command is not None:
            if spec.command in commands:
                problems.append(f"{where}: command {spec.command} declared twice")
            commands.add(spec.command)
        elif spec.cli:
            problems.append(f"{where}: cli options without a command")
        for name in spec.cli:
            if name not in fields:
                problems.append(f"{where}: cli names {name}, not a field of its evidence")
    if problems:
        raise DeclarationError("; ".join(problems))


def _step(source: State, dest: State) -> tuple[tuple[str, ...], str]:
    return ((source.value,), dest.value)


# --- the effects ------------------------------------------------------------------------------


def _extended(change: Change) -> dict[str, Any]:
    rule = change.config.deadlines[change.from_state]
    assert change.case.due_on is not None
    return {
        "due_on": deadlines.extended(rule, change.case.due_on, change.calendar),
        "extensions_used": change.case.extensions_used + 1,
    }


def _suspended(change: Change) -> dict[str, Any]:
    assert isinstance(change.evidence, ev.Suspension)
    case = change.case
    return {
        "previous_state": change.from_state,
        "entered_on": case.entered_on,
        "extensions_used": case.extensions_used,
        "suspended_on": change.today,
        "paused_due_on": case.due_on,
        "expected_resume_on": change.evidence.expected_resume_on,
        "due_on": change.evidence.expected_resume_on,
    }


def _resumed(change: Change) -> dict[str, Any]:
    case = change.case
    assert case.suspended_on is not None
    paused = change.today - case.suspended_on
    back = change.config.deadlines.get(change.to_state)  # the rule of the state it returns to
    return {
        "previous_state": None,
        "entered_on": case.entered_on + paused,
        "extensions_used": case.extensions_used,
        "due_on": deadlines.resumed(
            case.paused_due_on,
            case.suspended_on,
            change.today,
            change.calendar,
            kind=back.kind if back else CONTINUOUS,
        ),
        "suspended_on": None,
        "paused_due_on": None,
        "expected_resume_on": None,
    }


def _rejected(change: Change) -> dict[str, Any]:
    assert isinstance(change.evidence, ev.Rejection)
    # The appeal window ends on a working day (Lei 9.784/1999 art. 66 §1); the guard
    # `appeal_in_time` reads this deadline.
    closes = change.evidence.decided_on + timedelta(days=change.config.thresholds.appeal_days)
    return {
        "rejected_on": change.evidence.decided_on,
        "due_on": change.calendar.roll_forward(closes) if change.calendar else closes,
    }


def _window(change: Change, notified_on: date) -> date:
    """The appeal window's last day: ``appeal_days`` after the ciência, rolled to a working day
    (Lei 9.784/1999 arts. 59 and 66 §1)."""
    closes = notified_on + timedelta(days=change.config.thresholds.appeal_days)
    return change.calendar.roll_forward(closes) if change.calendar else closes


def _rejected_on_notice(change: Change) -> dict[str, Any]:
    assert isinstance(change.evidence, ev.NotifiedRejection)
    notified = change.evidence.notified_on
    # no ciência recorded: the window has not started, and nothing archives the case
    return {
        "rejected_on": change.evidence.decided_on,
        "due_on": None if notified is None else _window(change, notified),
    }


def _notified(change: Change) -> dict[str, Any]:
    assert isinstance(change.evidence, ev.Notice)
    return {"due_on": _window(change, change.evidence.notified_on)}


def _appealed_to_authority(change: Change) -> dict[str, Any]:
    """The authority that decided has the appeal; its days to reconsider count from the filing
    (Lei 9.784/1999 art. 56 §1). The rejection stands until the appeal is decided."""
    assert isinstance(change.evidence, ev.Appeal)
    rule = change.config.deadlines.get(change.to_state)
    if rule is None:
        return {}
    return {"due_on": deadlines.due_date(rule, change.evidence.filed_on, change.calendar)}


def _denied(change: Change) -> dict[str, Any]:
    """The superior authority denied the appeal: the rejection is final and the case archived;
    a reopening (a review of the decision, Lei 9.784/1999 arts. 53 and 65) returns it to
    ``em_analise``."""
    return {"previous_state": State.EM_ANALISE.value}


def _remember_source(change: Change) -> dict[str, Any]:
    return {"previous_state": change.from_state}


def _appealed(change: Change) -> dict[str, Any]:
    return {"rejected_on": None}


def _cancelled(change: Change) -> dict[str, Any]:
    suspended = change.from_state == State.SUSPENSA.value
    return {
        "previous_state": change.case.previous_state if suspended else change.from_state,
        "suspended_on": None,
        "paused_due_on": None,
        "expected_resume_on": None,
    }


def _reopening_requested(change: Change) -> dict[str, Any]:
    return {"reopen_requested_by": change.actor}


def _reopening_refused(change: Change) -> dict[str, Any]:
    return {"reopen_requested_by": None}


def _reopened(change: Change) -> dict[str, Any]:
    changes: dict[str, Any] = {"previous_state": None, "reopen_requested_by": None}
    if change.to_state == State.INDEFERIDA.value:
        changes["due_on"] = None
    return changes


def _hub_formalised(change: Change) -> dict[str, Any]:
    assert isinstance(change.evidence, ev.HubDecision)
    return {"hub_municipality_code": change.evidence.hub_municipality_code}


def _assigned(change: Change) -> dict[str, Any]:
    assert isinstance(change.evidence, ev.Assignment)
    return {"coordinator": change.evidence.coordinator}


# --- the declarations -------------------------------------------------------------------------

#: The events of lifecycles 2026.1 and 2026.2 (an appeal went straight back to ``em_analise``,
#: its window counted from the decision); cases under them keep running with these.
EVENTS_2026_2: tuple[EventSpec, ...] = (
    EventSpec(
        "iniciar_analise",
        "Iniciar análise",
        "Start review",
        ev.NoEvidence,
        g.demand_complete,
        "the demand record is complete",
        (_step(State.REGISTRADA, State.EM_ANALISE),),
    ),
    EventSpec(
        "aprovar_elegibilidade",
        "Aprovar elegibilidade",
        "Approve eligibility",
        ev.EligibilityDecision,
        g.eligible,
        "decision; the demand's microregion has an eligible class ({eligible_classes}) in the "
        "PNDR typology in force (records: its name and version are recorded)",
        (_step(State.EM_ANALISE, State.POLO_DEFINIDO),),
        reads=frozenset({"typology"}),
    ),
    EventSpec(
        "indeferir",
        "Indeferir",
        "Reject",
        ev.Rejection,
        g.rejection_reasoned,
        "reasoned rejection (at least {min_reason_chars} characters)",
        (_step(State.EM_ANALISE, State.INDEFERIDA),),
        effect=_rejected,
        command="reject",
        cli=MappingProxyType({"decided_on": "--decided-on=today"}),
    ),
    EventSpec(
        "recorrer",
        "Recorrer do indeferimento",
        "Appeal the rejection",
        ev.Appeal,
        g.appeal_in_time,
        "an appeal filed within {appeal_days} days of the rejection (the window ends on a working day) returns to `em_analise`",
        (_step(State.INDEFERIDA, State.EM_ANALISE),),
        effect=_appealed,
        command="appeal",
        cli=MappingProxyType({"filed_on": "--filed-on=today"}),
    ),
    EventSpec(
        "arquivar",
        "Arquivar",
        "Archive",
        ev.NoEvidence,
        g.appeal_window_closed,
        "once the appeal window has closed (the deadline sweep archives it as `system`)",
        (_step(State.INDEFERIDA, State.ARQUIVADA),),
        effect=_remember_source,
        sweep=True,
    ),
    EventSpec(
        "formalizar_polo",
        "Formalizar polo",
        "Formalise the hub",
        ev.HubDecision,
        g.hub_adhered,
        "hub decision + signed adhesion term",
        (_step(State.POLO_DEFINIDO, State.MOBILIZACAO),),
        effect=_hub_formalised,
        checks=("hub_municipality",),
    ),
    EventSpec(
        "concluir_mobilizacao",
        "Concluir mobilização",
        "Complete mobilisation",
        ev.Mobilisation,
        g.mobilised,
        "diagnosis of vocations, ≥ {min_participants} people pre-registered (records)",
        (_step(State.MOBILIZACAO, State.CAPACITACAO),),
        reads=frozenset({"participants"}),
    ),
    EventSpec(
        "concluir_capacitacao",
        "Concluir capacitação (ECC)",
        "Complete field training (ECC)",
        ev.FieldTraining,
        g.trained,
        "an ECC record held for the case, ≤ {max_ecc_days} days long, ≥ {min_certified_share:.0%} of the case's certifying participants attended ≥ {min_attendance:.0%} of its session days, ≥ 1 enterprise formed at it",
        (_step(State.CAPACITACAO, State.GESTAO),),
        reads=frozenset({"ecc"}),
    ),
    EventSpec(
        "concluir_gestao",
        "Concluir oficinas de gestão",
        "Complete business workshops",
        ev.NoEvidence,
        g.plans_for_all,
        "a business plan recorded for each enterprise",
        (_step(State.GESTAO, State.LEGALIZACAO),),
        reads=frozenset({"enterprises"}),
    ),
    EventSpec(
        "concluir_legalizacao",
        "Concluir legalização",
        "Complete legalisation",
        ev.NoEvidence,
        g.legalised,
        "each enterprise with a legal form meeting its member minimum (cooperativa 20, cooperativa de trabalho 7, MEI exactly 1) and a CNPJ (numeric or alphanumeric) or a recorded reason; registry filing ≤ {max_filing_days} days after the founding act is a dated obligation",
        (_step(State.LEGALIZACAO, State.ACOMPANHAMENTO),),
        reads=frozenset({"enterprises"}),
    ),
    EventSpec(
        "concluir_acompanhamento",
        "Concluir acompanhamento",
        "Complete follow-up",
        ev.NoEvidence,
        g.followed_up,
        "CLAI installed, Protocol signed, {follow_up_months} months elapsed with a visit at least every {visit_interval_days} days (records)",
        (_step(State.ACOMPANHAMENTO, State.AVALIACAO),),
        reads=frozenset({"follow_up"}),
        sweep=True,
    ),
    EventSpec(
        "concluir_avaliacao",
        "Concluir avaliação",
        "Complete evaluation",
        ev.Evaluation,
        g.evaluated,
        "partner report, indicators",
        (_step(State.AVALIACAO, State.CONCLUIDA),),
        effect=_remember_source,
        reads=frozenset({"enterprises"}),
    ),
    EventSpec(
        "prorrogar",
        "Prorrogar prazo",
        "Extend the deadline",
        ev.Justification,
        g.extension_available,
        "",
        ((_ACTIVE, None),),
        effect=_extended,
    ),
    EventSpec(
        "suspender",
        "Suspender",
        "Suspend",
        ev.Suspension,
        g.suspension_reasoned,
        "",
        ((_ACTIVE, State.SUSPENSA.value),),
        effect=_suspended,
        command="suspend",
        cli=MappingProxyType({"expected_resume_on": "--until"}),
    ),
    EventSpec(
        "retomar",
        "Retomar",
        "Resume",
        ev.NoEvidence,
        g.nothing,
        "returns to the state it left; the deadline moves by the time suspended",
        returns_to=_ACTIVE,
        sources_for_return=(State.SUSPENSA.value,),
        effect=_resumed,
        # a policy may resume a suspension by itself on its expected resume date
        sweep=True,
        command="resume",
    ),
    EventSpec(
        "cancelar",
        "Cancelar",
        "Cancel",
        ev.Cancellation,
        g.cancellation_reasoned,
        "",
        ((_OPEN_2026_2, State.CANCELADA.value),),
        effect=_cancelled,
        command="cancel",
        cli=MappingProxyType({"kind": "--kind=desistencia"}),
    ),
    EventSpec(
        "solicitar_reabertura",
        "Solicitar reabertura",
        "Request reopening",
        ev.Justification,
        g.reopening_requested,
        "",
        ((_CLOSED, None),),
        effect=_reopening_requested,
        command="reopen",
    ),
    EventSpec(
        "aprovar_reabertura",
        "Aprovar reabertura",
        "Approve reopening",
        ev.NoEvidence,
        g.second_person,
        "",
        returns_to=_REOPEN_TARGETS,
        sources_for_return=_CLOSED,
        effect=_reopened,
        command="approve",
    ),
    EventSpec(
        "recusar_reabertura",
        "Recusar reabertura",
        "Refuse reopening",
        ev.Justification,
        g.second_person,
        "",
        ((_CLOSED, None),),
        effect=_reopening_refused,
        command="refuse",
    ),
    EventSpec(
        "atribuir",
        "Atribuir coordenador",
        "Assign a coordinator",
        ev.Assignment,
        g.nothing,
        "",
        ((_OPEN_2026_2, None),),
        effect=_assigned,
        checks=("assignee",),
        messages=("assignment",),
        command="assign",
        cli=MappingProxyType({"coordinator": "ARG"}),
    ),
    EventSpec(
        "anotar",
        "Anotar",
        "Add a note",
        ev.Note,
        g.nothing,
        "",
        ((_EVERY_2026_2, None),),
        command="note",
        cli=MappingProxyType({"text": "ARG"}),
    ),
)


# --- lifecycle 2026.3: the appeal as Lei 9.784/1999 writes it --------------------------------


def _appeal_decision(
    name: str,
    label_pt: str,
    label_en: str,
    summary: str,
    move: tuple[State, State],
    *,
    effect: Effect = no_change,
    command: str,
) -> EventSpec:
    return EventSpec(
        name,
        label_pt,
        label_en,
        ev.AppealDecision,
        g.appeal_decided,
        summary,
        (_step(*move),),
        effect=effect,
        command=command,
        cli=MappingProxyType({"decided_on": "--decided-on=today"}),
    )


_APPEAL_2026_3: dict[str, EventSpec] = {
    "notificar_decisao": EventSpec(
        "notificar_decisao",
        "Registrar ciência do indeferimento",
        "Record the notice of the rejection",
        ev.Notice,
        g.decision_notified,
        "",
        (((State.INDEFERIDA.value,), None),),
        effect=_notified,
        messages=(),
        command="notify-decision",
        cli=MappingProxyType({"notified_on": "--notified-on=today"}),
    ),
    "reconsiderar": _appeal_decision(
        "reconsiderar",
        "Reconsiderar a decisão",
        "Reconsider the decision",
        "the authority that decided reconsiders (a reasoned decision): back to review",
        (State.EM_RECONSIDERACAO, State.EM_ANALISE),
        effect=_appealed,
        command="reconsider",
    ),
    "encaminhar_recurso": _appeal_decision(
        "encaminhar_recurso",
        "Encaminhar à autoridade superior",
        "Forward to the superior authority",
        "the authority that decided does not reconsider (a reasoned decision) and forwards the "
        "appeal to the superior authority",
        (State.EM_RECONSIDERACAO, State.RECURSO_SUPERIOR),
        command="forward-appeal",
    ),
    "prover_recurso": _appeal_decision(
        "prover_recurso",
        "Dar provimento ao recurso",
        "Grant the appeal",
        "the superior authority grants the appeal (a reasoned decision): back to review",
        (State.RECURSO_SUPERIOR, State.EM_ANALISE),
        effect=_appealed,
        command="grant-appeal",
    ),
    "negar_provimento": _appeal_decision(
        "negar_provimento",
        "Negar provimento ao recurso",
        "Deny the appeal",
        "the superior authority denies the appeal (a reasoned decision): the rejection is final",
        (State.RECURSO_SUPERIOR, State.ARQUIVADA),
        effect=_denied,
        command="deny-appeal",
    ),
}


def _as_of_2026_3(spec: EventSpec) -> tuple[EventSpec, ...]:
    """One event of 2026.2 as 2026.3 declares it (followed by the events 2026.3 adds there)."""
    match spec.name:
        case "indeferir":
            return (
                replace(
                    spec,
                    evidence=ev.NotifiedRejection,
                    guard=g.rejection_notified,
                    summary="reasoned rejection (at least {min_reason_chars} characters), with the "
                    "proponent's ciência (when and how) if given at once",
                    effect=_rejected_on_notice,
                ),
            )
        case "recorrer":
            return (
                replace(
                    spec,
                    guard=g.appeal_after_notice,
                    summary="an appeal filed within {appeal_days} days of the proponent's ciência "
                    "(the window ends on a working day; before the ciência is recorded it has not "
                    "started) goes to the authority that decided",
                    moves=(_step(State.INDEFERIDA, State.EM_RECONSIDERACAO),),
                    effect=_appealed_to_authority,
                ),
            )
        case "arquivar":
            return (
                replace(
                    spec,
                    guard=g.appeal_window_over,
                    summary="once the appeal window counted from the recorded ciência has closed "
                    "(the deadline sweep archives it as `system`; never before the ciência)",
                ),
                _APPEAL_2026_3["notificar_decisao"],
                _APPEAL_2026_3["reconsiderar"],
                _APPEAL_2026_3["encaminhar_recurso"],
                _APPEAL_2026_3["prover_recurso"],
                _APPEAL_2026_3["negar_provimento"],
            )
        case "prorrogar":  # the superior authority's 30 days, extendable (art. 59 §1)
            return (replace(spec, moves=(((*_ACTIVE, State.RECURSO_SUPERIOR.value), None),)),)
        case "cancelar":
            return (replace(spec, moves=((_OPEN, State.CANCELADA.value),)),)
        case "atribuir":
            return (replace(spec, moves=((_OPEN, None),)),)
        case "anotar":
            return (replace(spec, moves=((_EVERY, None),)),)
        case "aprovar_reabertura":  # a case cancelled while its appeal was pending returns there
            return (replace(spec, returns_to=(*_REOPEN_TARGETS, *_APPEAL)),)
    return (spec,)


#: The events of the lifecycle (2026.3 on): the appeal's window counts from the ciência, and the
#: appeal passes through the authority that decided (reconsideration) and the superior one.
EVENTS: tuple[EventSpec, ...] = tuple(e for spec in EVENTS_2026_2 for e in _as_of_2026_3(spec))
