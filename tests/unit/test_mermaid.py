"""Lifecycle.mermaid(): the diagram drawn from the same table the engine runs."""

from __future__ import annotations

import re

import pytest

from states.lifecycle import Lifecycle
from states.states import ALL

MAIN_PATH_EVENTS = {
    "iniciar_analise": ("registrada", "em_analise"),
    "aprovar_elegibilidade": ("em_analise", "polo_definido"),
    "formalizar_polo": ("polo_definido", "mobilizacao"),
    "concluir_mobilizacao": ("mobilizacao", "capacitacao"),
    "concluir_capacitacao": ("capacitacao", "gestao"),
    "concluir_gestao": ("gestao", "legalizacao"),
    "concluir_legalizacao": ("legalizacao", "acompanhamento"),
    "concluir_acompanhamento": ("acompanhamento", "avaliacao"),
    "concluir_avaliacao": ("avaliacao", "concluida"),
}


@pytest.fixture(scope="module")
def diagram(lifecycle: Lifecycle) -> str:
    return lifecycle.mermaid()


def test_starts_like_a_mermaid_state_diagram(diagram: str, lifecycle: Lifecycle) -> None:
    lines = [line.strip() for line in diagram.strip().splitlines()]
    body = lines[lines.index("---", 1) + 1 :] if lines[0] == "---" else lines
    assert body[0] == "stateDiagram-v2"
    assert f"PRODUZIR lifecycle {lifecycle.version}" in diagram


def test_every_state_appears(diagram: str) -> None:
    for state in ALL:
        assert re.search(rf"^\s*state \"{state.value}\" as {state.value}$", diagram, re.M), state


def test_every_main_path_event_is_an_arrow(diagram: str) -> None:
    for event, (source, dest) in MAIN_PATH_EVENTS.items():
        assert re.search(rf"^\s*{source} --> {dest}: {event}$", diagram, re.M), event


def test_side_paths_are_drawn(diagram: str) -> None:
    for arrow in (
        "em_analise --> indeferida: indeferir",
        "indeferida --> em_analise: recorrer",
        "gestao --> suspensa: suspender",
        "suspensa --> gestao: retomar",
        "suspensa --> cancelada: cancelar",
        "concluida --> avaliacao: aprovar_reabertura",
    ):
        assert arrow in diagram


def test_starts_in_registrada(diagram: str) -> None:
    assert re.search(r"^\s*\[\*\] --> registrada$", diagram, re.M)


def test_closed_states_do_not_move_forward(diagram: str) -> None:
    for closed in ("concluida", "cancelada"):
        leaving = re.findall(rf"^\s*{closed} --> (\w+): (\w+)", diagram, re.M)
        assert leaving
        assert {event for dest, event in leaving if dest != closed} == {"aprovar_reabertura"}
