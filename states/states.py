"""The states of a PRODUZIR case: codes, pt-BR and English labels, and their groups."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    """A case's state; the value is the code stored in the database."""

    REGISTRADA = "registrada"
    EM_ANALISE = "em_analise"
    POLO_DEFINIDO = "polo_definido"
    MOBILIZACAO = "mobilizacao"
    CAPACITACAO = "capacitacao"
    GESTAO = "gestao"
    LEGALIZACAO = "legalizacao"
    ACOMPANHAMENTO = "acompanhamento"
    AVALIACAO = "avaliacao"
    CONCLUIDA = "concluida"
    SUSPENSA = "suspensa"
    INDEFERIDA = "indeferida"
    EM_RECONSIDERACAO = "em_reconsideracao"
    RECURSO_SUPERIOR = "recurso_superior"
    CANCELADA = "cancelada"
    ARQUIVADA = "arquivada"


#: The main path, in order.
MAIN_PATH: tuple[State, ...] = (
    State.REGISTRADA,
    State.EM_ANALISE,
    State.POLO_DEFINIDO,
    State.MOBILIZACAO,
    State.CAPACITACAO,
    State.GESTAO,
    State.LEGALIZACAO,
    State.ACOMPANHAMENTO,
    State.AVALIACAO,
    State.CONCLUIDA,
)

#: States in which work is under way: each has a deadline, and a case can be suspended there.
ACTIVE: tuple[State, ...] = MAIN_PATH[:-1]

#: The appeal against a rejection (Lei 9.784/1999 arts. 56 §1 and 59 §§1-2): with the authority
#: that decided, who may reconsider it, then with the superior authority, who decides it. Side
#: states (out of the main path, not suspendable) with a deadline of their own.
APPEAL: tuple[State, ...] = (State.EM_RECONSIDERACAO, State.RECURSO_SUPERIOR)

#: States whose deadline comes from the lifecycle file's ``[deadlines]``.
DEADLINE_STATES: tuple[str, ...] = tuple(s.value for s in (*ACTIVE, *APPEAL))

#: Closed states: leaving them needs a reopening approved by a second person.
CLOSED: tuple[State, ...] = (State.CONCLUIDA, State.CANCELADA, State.ARQUIVADA)

#: Every state in display order.
ALL: tuple[State, ...] = (
    *MAIN_PATH,
    State.SUSPENSA,
    State.INDEFERIDA,
    State.EM_RECONSIDERACAO,
    State.RECURSO_SUPERIOR,
    State.CANCELADA,
    State.ARQUIVADA,
)

LABELS_PT: dict[State, str] = {
    State.REGISTRADA: "Registrada",
    State.EM_ANALISE: "Em análise",
    State.POLO_DEFINIDO: "Polo definido",
    State.MOBILIZACAO: "Diagnóstico e mobilização",
    State.CAPACITACAO: "Capacitação em campo (ECC)",
    State.GESTAO: "Oficinas de gestão",
    State.LEGALIZACAO: "Legalização",
    State.ACOMPANHAMENTO: "Acompanhamento",
    State.AVALIACAO: "Avaliação e monitoramento",
    State.CONCLUIDA: "Concluída",
    State.SUSPENSA: "Suspensa",
    State.INDEFERIDA: "Indeferida",
    State.EM_RECONSIDERACAO: "Recurso: reconsideração",
    State.RECURSO_SUPERIOR: "Recurso: autoridade superior",
    State.CANCELADA: "Cancelada",
    State.ARQUIVADA: "Arquivada",
}

LABELS_EN: dict[State, str] = {
    State.REGISTRADA: "Registered",
    State.EM_ANALISE: "Under review",
    State.POLO_DEFINIDO: "Hub defined",
    State.MOBILIZACAO: "Diagnosis and mobilisation",
    State.CAPACITACAO: "Field training (ECC)",
    State.GESTAO: "Business workshops",
    State.LEGALIZACAO: "Legalisation",
    State.ACOMPANHAMENTO: "Follow-up",
    State.AVALIACAO: "Evaluation and monitoring",
    State.CONCLUIDA: "Concluded",
    State.SUSPENSA: "Suspended",
    State.INDEFERIDA: "Rejected",
    State.EM_RECONSIDERACAO: "Appeal: reconsideration",
    State.RECURSO_SUPERIOR: "Appeal: superior authority",
    State.CANCELADA: "Cancelled",
    State.ARQUIVADA: "Archived",
}


@dataclass(frozen=True)
class StateSpec:
    """A state as a lifecycle version declares it.

    ``role`` is the state of the base lifecycle it plays (the code the programme's rules know:
    ECC work happens in the ``capacitacao`` role, follow-up visits in ``acompanhamento``...);
    a renamed state keeps its role, a state a version inserts plays its own. ``kind``: ``active``
    (work under way: a deadline, suspendable), ``side`` (``suspensa``, ``indeferida``: open,
    out of the main path) or ``closed`` (only a reopening leaves it). ``renamed_from`` names the
    state of the version it derives from that it renames (a migration's default mapping).
    """

    code: str
    label_pt: str
    label_en: str
    kind: str
    role: str
    renamed_from: str | None = None

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_pt


def _kind(state: State) -> str:
    if state in ACTIVE:
        return "active"
    return "closed" if state in CLOSED else "side"


#: The states of the base lifecycle, in display order (lifecycle 2026.3 on).
STATES: tuple[StateSpec, ...] = tuple(
    StateSpec(s.value, LABELS_PT[s], LABELS_EN[s], _kind(s), s.value) for s in ALL
)

#: The states of lifecycles 2026.1 and 2026.2: the appeal went straight back to review.
STATES_2026_2: tuple[StateSpec, ...] = tuple(
    s for s in STATES if s.code not in {a.value for a in APPEAL}
)

#: the states of the lifecycle versions built in this process, by code (renamed or inserted
#: ones too: filters accept them, pages label them)
_DECLARED: dict[str, StateSpec] = {}


def declare(states: tuple[StateSpec, ...]) -> None:
    """Make a lifecycle version's states known (the first declaration of a code is kept)."""
    for spec in states:
        _DECLARED.setdefault(spec.code, spec)


def declared(code: str) -> StateSpec | None:
    """The state ``code`` as a loaded lifecycle version declares it."""
    return _DECLARED.get(code)


def known_codes() -> list[str]:
    """Every state code known: the shipped ones, in order, then those versions added."""
    shipped = [s.value for s in ALL]
    return shipped + sorted(set(_DECLARED) - set(shipped))


def overdue_codes() -> tuple[str, ...]:
    """The states whose cases are overdue once past their deadline: in progress (active), under
    appeal or suspended, the shipped ones first, then those other loaded versions declare."""
    base = (*DEADLINE_STATES, State.SUSPENSA.value)
    extra = sorted(
        code
        for code, spec in _DECLARED.items()
        if code not in base and (spec.kind == "active" or spec.role == State.SUSPENSA.value)
    )
    return (*base, *extra)
