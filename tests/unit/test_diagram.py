"""states.diagram.mermaid(): the lifecycle picture's source, drawn from the event table.

What a reader checks: states and events by their labels (not their codes), the main path in
order, each side road (suspend, resume, cancel, reopen) drawn once from a group, and nothing
drawn for the events that leave the case where it is (no self-loops).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from states import diagram
from states.lifecycle import EVENTS, Lifecycle
from states.states import ALL, LABELS_EN, LABELS_PT, MAIN_PATH

ARROW = re.compile(r'^\s*(\w+) \w+@(-->|-\.->)\|"([^"]*)"\| (\w+)$', re.M)
EDGE_ID = re.compile(r"^\s*\w+ (\w+)@", re.M)
NODE = re.compile(r'^\s*(\w+)\(\[?"([^"]*)"\]?\)(?::::\w+)?$', re.M)

MAIN_PATH_EVENTS = {
    "Iniciar análise": ("registrada", "em_analise"),
    "Aprovar elegibilidade": ("em_analise", "polo_definido"),
    "Formalizar polo": ("polo_definido", "mobilizacao"),
    "Concluir mobilização": ("mobilizacao", "capacitacao"),
    "Concluir capacitação (ECC)": ("capacitacao", "gestao"),
    "Concluir oficinas de gestão": ("gestao", "legalizacao"),
    "Concluir legalização": ("legalizacao", "acompanhamento"),
    "Concluir acompanhamento": ("acompanhamento", "avaliacao"),
    "Concluir avaliação": ("avaliacao", "concluida"),
}
SIDE_ROADS = ("Suspender", "Retomar", "Cancelar", "Aprovar reabertura")
STAYING = (
    "notificar_decisao",
    "prorrogar",
    "solicitar_reabertura",
    "recusar_reabertura",
    "atribuir",
    "anotar",
)


@pytest.fixture(scope="module")
def source() -> str:
    return diagram.mermaid(EVENTS, "pt-BR", version="2026.9")


def arrows(text: str) -> list[tuple[str, str, str, str]]:
    return ARROW.findall(text)


def nodes(text: str) -> dict[str, str]:
    return dict(NODE.findall(text))


def test_a_mermaid_flowchart_top_to_bottom_with_its_title(source: str) -> None:
    lines = source.splitlines()
    assert lines[:2] == ["---", 'title: "PRODUZIR lifecycle, version 2026.9"']
    body = lines[lines.index("---", 1) + 1 :]
    assert body[0] == "flowchart TB"


def test_every_state_is_a_node_shown_by_its_label_not_its_code(source: str) -> None:
    shown = nodes(source)
    for state in ALL:
        assert shown[state.value] == LABELS_PT[state]
    labels = set(shown.values())
    assert not labels & {s.value for s in ALL}
    for _, _, label, _ in arrows(source):
        assert label not in {spec.name for spec in EVENTS}


def test_in_english_the_labels_are_english() -> None:
    text = diagram.mermaid(EVENTS, "en")
    shown = nodes(text)
    for state in ALL:
        assert shown[state.value] == LABELS_EN[state]
    assert "Start review" in {label for _, _, label, _ in arrows(text)}


def test_the_main_path_is_an_arrow_per_step_in_order(source: str) -> None:
    drawn = {label: (a, b) for a, link, label, b in arrows(source) if link == "-->"}
    for label, ends in MAIN_PATH_EVENTS.items():
        assert drawn[label] == ends
    positions = [source.index(f"  {s.value}(") for s in MAIN_PATH]
    assert positions == sorted(positions)


def test_the_rejection_its_appeal_and_the_archiving_are_drawn(source: str) -> None:
    found = {(a, label, b) for a, _, label, b in arrows(source)}
    assert ("em_analise", "Indeferir", "indeferida") in found
    # 2026.3: the appeal goes to the authority that decided, then perhaps to the superior one
    assert ("indeferida", "Recorrer do indeferimento", "em_reconsideracao") in found
    assert ("indeferida", "Arquivar", "arquivada") in found
    assert ("em_reconsideracao", "Reconsiderar a decisão", "em_analise") in found
    assert ("em_reconsideracao", "Encaminhar à autoridade superior", "recurso_superior") in found
    assert ("recurso_superior", "Dar provimento ao recurso", "em_analise") in found
    assert ("recurso_superior", "Negar provimento ao recurso", "arquivada") in found


def test_each_side_road_is_drawn_once_from_or_to_a_named_group(source: str) -> None:
    drawn = arrows(source)
    shown = nodes(source)
    for road in SIDE_ROADS:
        assert [label for _, _, label, _ in drawn].count(road) == 1, road
    ends = {label: (a, link, b) for a, link, label, b in drawn}
    assert shown[ends["Suspender"][0]] == "Any state in progress"
    assert ends["Suspender"][2] == "suspensa"
    assert ends["Retomar"][:2] == ("suspensa", "-.->")
    assert shown[ends["Retomar"][2]] == "Back to the state it left (in progress)"
    assert shown[ends["Cancelar"][0]].startswith("Any open state")
    assert ends["Cancelar"][2] == "cancelada"
    assert shown[ends["Aprovar reabertura"][0]].startswith("Any closed state")
    assert ends["Aprovar reabertura"][1] == "-.->"
    assert len(drawn) == len(MAIN_PATH_EVENTS) + 7 + len(SIDE_ROADS)


def test_each_arrow_is_named_by_its_event_once(source: str) -> None:
    moving = [
        spec.name
        for spec in EVENTS
        if spec.returns_to or any(dest is not None for _, dest in spec.moves)
    ]
    assert EDGE_ID.findall(source) == moving


def test_no_self_loops_and_the_events_that_stay_are_listed_not_drawn(source: str) -> None:
    drawn = arrows(source)
    assert all(a != b for a, _, _, b in drawn)
    assert "[internal]" not in source
    labels = {label for _, _, label, _ in drawn}
    staying = diagram.staying(EVENTS, "pt-BR")
    assert [s.event for s in staying] == list(STAYING)
    assert not labels & {s.label for s in staying}


def test_the_group_names_go_through_translate() -> None:
    text = diagram.mermaid(EVENTS, "pt-BR", translate=lambda msgid: f"<{msgid}>")
    assert '(["<Any state in progress>"])' in text
    assert 'title: "<PRODUZIR lifecycle>"' in text


@dataclass(frozen=True)
class FakeEvent:
    name: str
    label_pt: str
    label_en: str
    moves: tuple[tuple[tuple[str, ...], str | None], ...] = ()
    returns_to: tuple[str, ...] = ()
    sources_for_return: tuple[str, ...] = ()


def test_drawn_from_the_table_it_is_given() -> None:
    active = tuple(s.value for s in MAIN_PATH[:-1])
    events = (
        FakeEvent("avancar", "Avançar", "Advance", ((("registrada",), "em_analise"),)),
        FakeEvent("pausar", "Pausar", "Pause", ((active, "suspensa"),)),
        FakeEvent("olhar", "Olhar", "Look", ((active, None),)),
    )
    text = diagram.mermaid(events, "en")
    drawn = arrows(text)
    source, _, label, target = drawn[0]
    assert (source, label, target) == ("registrada", "Advance", "em_analise")
    assert [label for _, _, label, _ in drawn] == ["Advance", "Pause"]
    assert nodes(text)[drawn[1][0]] == "Any state in progress"


def test_the_lifecycle_hands_its_picture_to_the_diagram(lifecycle: Lifecycle) -> None:
    assert lifecycle.mermaid() == diagram.mermaid(EVENTS, "en", version=lifecycle.version)
