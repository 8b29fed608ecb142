"""The territory on the web console: the case page shows the PNDR class in force (and its
typology, "(ilustrativo)" when illustrative), the priority areas and the module; the board
filters by module and priority area."""

from __future__ import annotations

from tasks import territory
from tests.web.conftest import CE_CASE, PA_CASE
from tests.web.test_pages import case_rows, element, main_of

QUIXADA = 2311306


def test_the_case_page_shows_the_territory(client_for, web_rt) -> None:
    page = client_for("ana.coord").get(f"/cases/{CE_CASE}").text
    assert "nenhuma tipologia da PNDR importada" in element(page, "dd", 'data-territory="pndr"')
    territory.import_typology(
        web_rt, "microregion_code,pndr_class\n23019,estagnada\n", name="PNDR",
        version="demo", source="ilustrativo", illustrative=True, actor="adm.admin",
    )  # fmt: skip
    territory.import_areas(
        web_rt, f"municipality_code\n{QUIXADA}\n", name="Semiárido", source="ilustrativo",
        as_of=web_rt.today(), illustrative=True, actor="adm.admin",
    )  # fmt: skip
    page = main_of(client_for("ana.coord").get(f"/cases/{CE_CASE}").text)
    assert "estagnada · PNDR demo (ilustrativo)" in element(page, "dd", 'data-territory="pndr"')
    assert "Semiárido (ilustrativo)" in element(page, "dd", 'data-territory="areas"')
    assert "Nordeste" in element(page, "dd", 'data-territory="module"')


def test_the_board_filters_by_module_and_area(client_for, web_rt) -> None:
    territory.import_areas(
        web_rt, f"municipality_code\n{QUIXADA}\n", name="Semiárido", source="Sudene",
        as_of=web_rt.today(), actor="adm.admin",
    )  # fmt: skip
    manager = client_for("gil.manager")
    assert case_rows(manager.get("/?module=amazonia").text) == [PA_CASE]
    assert case_rows(manager.get("/?module=nordeste").text) == [CE_CASE]
    assert case_rows(manager.get("/?area=Semi%C3%A1rido").text) == [CE_CASE]
    refused = manager.get("/?module=sul").text
    assert "módulo desconhecido" in refused
    assert case_rows(refused) == []
