"""The lifecycle picture in a real browser, on a 1366 x 768 laptop screen.

The vendored Mermaid draws the source of ``states/diagram.py`` under the console's
Content-Security-Policy; what a reader checks: the drawing fits the screen (no sideways
scrolling, not shrunk out of reading), every state is there by its label in the reader's
language, and no label runs out of its box.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from states.lifecycle import EVENTS
from states.states import ALL, LABELS_EN, LABELS_PT
from tests.browser.conftest import problems_of

SCREEN = {"width": 1366, "height": 768}

#: for each node of the drawing: its id, its text, and the boxes of its shape and of its text
#: (the text's own extent, from a Range over it, not its container's)
MEASURE = """() => {
  const box = (r) => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                       width: r.width, height: r.height});
  const svg = document.querySelector("figure.lifecycle-figure svg");
  const nodes = [...svg.querySelectorAll("g.node")].map((node) => {
    const shape = node.querySelector(".label-container");  // the box, not the label's
    const label = node.querySelector(".label");
    const range = document.createRange();
    range.selectNodeContents(label);
    return {id: node.id, text: label.textContent.trim(),
            shape: box(shape.getBoundingClientRect()), text_box: box(range.getBoundingClientRect())};
  });
  const edges = [...svg.querySelectorAll("g.edgeLabel .label[data-id]")]
    .map((e) => [e.dataset.id, e.textContent.trim()]);
  const lines = [...svg.querySelectorAll("path.flowchart-link")].map((e) => e.dataset.id);
  const view = svg.viewBox.baseVal;
  return {svg: box(svg.getBoundingClientRect()), view_width: view.width,
          page_width: document.documentElement.scrollWidth, window_width: window.innerWidth,
          nodes, edges, lines};
}"""


def drawn(page: Page) -> dict[str, Any]:
    page.set_viewport_size(SCREEN)
    page.goto("/lifecycle")
    figure = page.locator("figure.lifecycle-figure")
    expect(figure).to_have_attribute("data-drawn", "true")
    expect(page.locator("pre.lifecycle-source")).to_be_hidden()
    measured: dict[str, Any] = page.evaluate(MEASURE)
    return measured


def state_of(node_id: str) -> str:
    """``lifecycle-drawing-flowchart-em_analise-12`` -> ``em_analise``."""
    return node_id.split("-flowchart-", 1)[1].rsplit("-", 1)[0]


def assert_fits_and_labels_inside(measured: dict[str, Any]) -> None:
    svg = measured["svg"]
    assert measured["page_width"] <= measured["window_width"] == SCREEN["width"]
    assert svg["width"] <= SCREEN["width"]
    assert svg["left"] >= 0
    assert svg["right"] <= SCREEN["width"]
    # drawn at (nearly) its own size: fitting is not bought by shrinking the labels
    assert svg["width"] / measured["view_width"] >= 0.9
    for node in measured["nodes"]:
        shape, text = node["shape"], node["text_box"]
        assert text["width"] > 0, node
        for side in ("left", "top"):
            assert shape[side] <= text[side] + 0.5, (side, node)
        for side in ("right", "bottom"):
            assert text[side] <= shape[side] + 0.5, (side, node)


@pytest.mark.parametrize(
    ("username", "labels", "group"),
    [
        ("ana.coord", LABELS_PT, "Qualquer estado em andamento"),
        ("adm.admin", LABELS_EN, "Any state in progress"),
    ],
    ids=["pt-BR", "en"],
)
def test_the_lifecycle_fits_a_laptop_screen_with_every_state_by_its_label(
    visit, username: str, labels: dict[Any, str], group: str
) -> None:
    page = visit(username)
    measured = drawn(page)
    assert_fits_and_labels_inside(measured)
    by_state = {state_of(n["id"]): n["text"] for n in measured["nodes"]}
    for state in ALL:
        assert by_state.get(state.value) == labels[state], by_state
    assert group in by_state.values()
    english = username == "adm.admin"
    moving = {
        spec.name: spec.label_en if english else spec.label_pt
        for spec in EVENTS
        if spec.returns_to or any(dest is not None for _, dest in spec.moves)
    }
    # each event that moves a case: one arrow, one label, no more
    assert sorted(measured["lines"]) == sorted(moving)
    assert sorted(map(tuple, measured["edges"])) == sorted(moving.items())
    assert problems_of(page) == []
