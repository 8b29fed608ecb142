"""The case page shows where a demand came from when it was not a forum, and a programme target
as a target, beside the obligations the law sets (issue 11)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from tasks import obligations
from tasks.demands import register_demand
from tasks.enterprises import form_enterprise, set_legal_form, set_size_category
from tests.builders import add_participants, demand, today_of
from tests.web.test_pages import element, main_of


def test_the_case_page_shows_the_channel_and_a_target_as_a_target(client_for, web_rt, clock):
    union = "Sindicato dos Trabalhadores Rurais de Quixadá"
    case_id = register_demand(
        web_rt,
        demand(
            community="Sítio Riacho Fundo",
            coordinator="ana.coord",
            demand_channel="sindicato",
            forum=union,
        ),
        actor="ana.coord",
    ).case_id
    today = today_of(clock)
    with web_rt.db.write() as session:
        obligations.open_obligation(
            session,
            web_rt,
            case_id=case_id,
            kind=obligations.REGISTRY_FILING_TARGET,
            due_on=today - timedelta(days=3),
            params={
                "enterprise": "Associação Riacho Fundo",
                "registry": "Registro Civil de Pessoas Jurídicas",
                "days": 45,
            },
        )
    page = client_for("ana.coord").get(f"/cases/{case_id}")
    assert page.status_code == 200
    html = main_of(page.text)
    channel = unescape(element(html, "dd", 'data-channel="sindicato"'))
    assert "sindicato" in channel
    assert union in channel
    assert "Canal da demanda" in html
    target = unescape(element(html, "li", 'data-target="programme"'))
    assert "meta do programa (sem prazo legal)" in target
    assert "além da meta" in target
    assert "de atraso" not in target


def test_a_forum_demand_still_shows_its_forum(client_for, web_rt):
    case_id = register_demand(
        web_rt, demand(community="Sítio Novo", coordinator="ana.coord"), actor="ana.coord"
    ).case_id
    html = main_of(client_for("ana.coord").get(f"/cases/{case_id}").text)
    forum = unescape(element(html, "dd", 'data-channel="forum"'))
    assert "Fórum Territorial do Sertão Central" in forum
    assert "Canal da demanda" not in html


def test_the_case_page_shows_an_enterprises_size_beside_its_form(client_for, web_rt, clock):
    case_id = register_demand(
        web_rt, demand(community="Sítio Novo", coordinator="ana.coord"), actor="ana.coord"
    ).case_id
    people = add_participants(web_rt, case_id, 2)
    firm = form_enterprise(
        web_rt,
        {
            "case_id": case_id,
            "name": "Mercearia Boa Vista",
            "activity": "comércio",
            "formed_on": today_of(clock).isoformat(),
            "member_ids": people,
        },
        actor="ana.coord",
    )
    set_legal_form(web_rt, firm, "sociedade_limitada", actor="ana.coord")
    set_size_category(web_rt, firm, "me", actor="ana.coord")
    html = main_of(client_for("ana.coord").get(f"/cases/{case_id}").text)
    cell = unescape(element(html, "td", 'data-size="me"'))
    assert "sociedade limitada · ME" in cell
