"""The states of a PRODUZIR case: codes, pt-BR and English labels, and their groups."""

from __future__ import annotations

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
DEADLINE_STATES: tuple[str, ...] = tuple(s.value for s in ACTIVE)

#: Closed states: leaving them needs a reopening approved by a second person.
CLOSED: tuple[State, ...] = (State.CONCLUIDA, State.CANCELADA, State.ARQUIVADA)

#: Every state in display order.
ALL: tuple[State, ...] = (
    *MAIN_PATH,
    State.SUSPENSA,
    State.INDEFERIDA,
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
    State.CANCELADA: "Cancelled",
    State.ARQUIVADA: "Archived",
}
