"""The case page shows the case's hub: its cases, its CLAI with the meetings, its Protocol with
the commitments (an overdue one marked late), as a coordinator of the territory reads it."""

from __future__ import annotations

from datetime import timedelta

from tasks import hubs
from tests.builders import drive, register_partners, today_of
from tests.web.conftest import CE_CASE
from tests.web.test_pages import element, main_of, new_ce_case


def test_the_case_page_shows_its_hub_the_cases_the_clai_meetings_and_commitments(
    client_for, web_rt, clock
) -> None:
    drive(web_rt, clock, CE_CASE, "mobilizacao", actor="ana.coord")  # the hub decision: Quixadá
    other = new_ce_case(web_rt, community="Sítio Lagoa Nova", municipality_code=2303931)
    drive(web_rt, clock, other, "mobilizacao", actor="ana.coord")
    register_partners(web_rt)
    day = today_of(clock)
    hubs.install_clai(
        web_rt, 2311306, installed_on=day, members=["Prefeitura", "FAO"], actor="ana.coord"
    )
    hubs.record_meeting(
        web_rt,
        2311306,
        held_on=day,
        present=["FAO"],
        decisions=["Feira mensal aprovada."],
        actor="ana.coord",
    )
    hubs.sign_protocol(web_rt, 2311306, signed_on=day, signatories=["SEBRAE-CE"], actor="ana.coord")
    due = day + timedelta(days=3)
    hubs.add_commitment(
        web_rt, 2311306, partner="EMATERCE", action="Curso de manejo", due_on=due, actor="ana.coord"
    )
    clock.advance(timedelta(days=30))

    for case_id in (CE_CASE, other):  # the same hub on each of its cases' pages
        html = main_of(client_for("ana.coord").get(f"/cases/{case_id}").text)
        card = element(html, "section", 'data-hub="2311306"')
        assert "Quixadá (CE)" in card
        assert f'data-hub-case="{CE_CASE}"' in card
        assert f'data-hub-case="{other}"' in card
        assert "FAO, Prefeitura" in card
        assert "Feira mensal aprovada." in card
        commitment = element(card, "tr", "data-commitment=")
        assert "Curso de manejo" in commitment
        assert 'class="overdue"' in commitment
        assert "EMATERCE" in commitment
        assert "de atraso" in commitment  # the page in Portuguese by default
