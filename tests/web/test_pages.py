"""The console's pages, as a coordinator, a supervisor, a manager, an auditor see them.

Each test reads what a person would read on the page (rows, chips, the sentence next to a
form, the timeline) through the HTML's own markers (``data-case``, ``data-event``...), and
checks it against the database or the operations underneath.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from console.web import pages_queries
from console.web.pages_common import uf_clause
from console.web.templating import translate
from states import audit, diagram, indicators, queries
from states.directory import User
from states.lifecycle import EVENTS
from states.models import AuditEvent, Case
from states.records import DataAccess
from states.states import ALL, LABELS_PT, State
from tasks import obligations
from tasks.cases import add_note, advance
from tasks.demands import register_demand
from tests.builders import (
    add_participants,
    demand,
    drive,
    evidence_for,
    today_of,
    with_typology,
)
from tests.web.conftest import BELEM, CE_CASE, PA_CASE, csrf_of

FORTALEZA = 2304400


# --- reading pages ------------------------------------------------------------------------------


def main_of(html: str) -> str:
    """The page's own content (not the layout's header with its logout form)."""
    return html[html.index("<main") : html.index("</main>")]


def element(html: str, tag: str, marker: str) -> str:
    """The first ``<tag ...marker...>...</tag>`` (no nesting of the same tag inside)."""
    start = html.find(f"<{tag}")
    while start != -1:
        end_of_open = html.index(">", start)
        if marker in html[start:end_of_open]:
            close = html.index(f"</{tag}>", end_of_open)
            return html[start : close + len(tag) + 3]
        start = html.find(f"<{tag}", start + 1)
    raise AssertionError(f"no <{tag}> with {marker!r}")


def action_form(html: str, event: str) -> str:
    return element(html, "form", f'data-event="{event}"')


def case_rows(html: str) -> list[int]:
    table = main_of(html)
    return [int(n) for n in re.findall(r'<tr data-case="(\d+)"', table)]


def chip_count(html: str, state: str) -> int:
    chip = element(html, "a", f'data-state="{state}"')
    found = re.search(r'<span class="n">([\d.,]+)</span>', chip)
    assert found, chip
    return int(found.group(1).replace(".", "").replace(",", ""))


def timeline(html: str) -> list[str]:
    """The events of the history timeline, newest first."""
    history = element(html, "ol", 'class="timeline"')
    return re.findall(r'<li data-seq="\d+" data-event="([^"]+)"', history)


def state_of(rt, case_id: int) -> tuple[str, int]:
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.state, case.version


def post_action(client, rt, case_id: int, event: str, fields: dict[str, str], version=None):
    if version is None:
        version = state_of(rt, case_id)[1]
    data = {
        "csrf_token": csrf_of(rt, client),
        "event": event,
        "expected_version": str(version),
        **fields,
    }
    return client.post(f"/cases/{case_id}/advance", data=data)


def new_ce_case(rt, community: str = "Sítio Novo", **overrides) -> int:
    return register_demand(
        rt, demand(community=community, coordinator="ana.coord", **overrides), actor="ana.coord"
    ).case_id


# --- the board ----------------------------------------------------------------------------------


def test_a_coordinator_board_lists_only_the_cases_of_their_territory(client_for, web_rt) -> None:
    fortaleza = new_ce_case(web_rt, "Comunidade do Serviluz", municipality_code=FORTALEZA)

    ana = client_for("ana.coord").get("/")
    assert ana.status_code == 200
    assert sorted(case_rows(ana.text)) == sorted([CE_CASE, fortaleza])
    assert chip_count(ana.text, "all") == 2
    assert chip_count(ana.text, "registrada") == 2

    bia = client_for("bia.coord").get("/")
    assert case_rows(bia.text) == [PA_CASE]
    # a UF outside the territory in the filter shows nothing, not the other territory
    assert case_rows(client_for("ana.coord").get("/?uf=PA").text) == []

    manager = client_for("gil.manager").get("/")
    assert sorted(case_rows(manager.text)) == sorted([CE_CASE, PA_CASE, fortaleza])

    # the chips follow each change at once
    advance(web_rt, fortaleza, "iniciar_analise", {}, actor="ana.coord")
    again = client_for("ana.coord").get("/").text
    assert (chip_count(again, "registrada"), chip_count(again, "em_analise")) == (1, 1)


def test_the_board_filters_and_searches(client_for, web_rt, clock) -> None:
    other = new_ce_case(web_rt, "Vila do Mel", municipality_code=FORTALEZA, activity="pesca")
    advance(web_rt, other, "iniciar_analise", {}, actor="ana.coord")
    ana = client_for("ana.coord")

    assert case_rows(ana.get("/?q=vila do mel").text) == [other]
    assert case_rows(ana.get("/?q=Quixad").text) == [CE_CASE]  # the municipality's name
    assert case_rows(ana.get(f"/?municipality={FORTALEZA}").text) == [other]
    assert case_rows(ana.get("/?activity=pesca").text) == [other]
    assert case_rows(ana.get("/?state=em_analise").text) == [other]
    by_state = ana.get("/?state=em_analise").text
    assert chip_count(by_state, "em_analise") == 1
    assert chip_count(by_state, "registrada") == 1
    assert case_rows(ana.get("/?coordinator=bia.coord").text) == []
    # by deadline: the registered case (due in 5 working days) before the one under review (30)
    assert case_rows(ana.get("/?order=due").text) == [CE_CASE, other]
    assert case_rows(ana.get("/?order=recent").text) == [other, CE_CASE]

    # registrada has 5 working days: ten days later the registered case is overdue
    clock.advance(timedelta(days=10))
    ana = client_for("ana.coord")  # a new login: the first session has expired
    overdue = ana.get("/?overdue=true").text
    assert case_rows(overdue) == [CE_CASE]
    row = element(main_of(overdue), "tr", f'data-case="{CE_CASE}"')
    assert "de atraso" in row

    wrong = ana.get("/?uf=Ceará")
    assert "não é uma UF" in wrong.text


def test_the_board_pages_by_fifty(client_for, web_rt) -> None:
    for i in range(55):
        new_ce_case(web_rt, f"Comunidade {i:02d}")
    ana = client_for("ana.coord")

    first = ana.get("/").text
    assert len(case_rows(first)) == 50
    assert "1–50 de 56" in first
    follow = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert follow
    second = ana.get(follow.group(1).replace("&amp;", "&")).text
    rows = case_rows(second)
    assert len(rows) == 6
    assert not set(rows) & set(case_rows(first))
    assert 'rel="next"' not in second


# --- the due list -------------------------------------------------------------------------------


def test_due_lists_overdue_deadlines_and_obligations_most_late_first(
    client_for, web_rt, clock
) -> None:
    clock.advance(timedelta(days=10))  # the registered cases are past their 5 working days
    today = today_of(clock)
    with web_rt.db.write() as session:
        obligations.open_obligation(
            session,
            web_rt,
            case_id=CE_CASE,
            kind=obligations.REGISTRY_FILING,
            due_on=today - timedelta(days=30),
            params={"enterprise": "Mel do Sertão", "registry": "Junta Comercial"},
        )
        obligations.open_obligation(
            session,
            web_rt,
            case_id=CE_CASE,
            kind=obligations.FOLLOW_UP_VISIT,
            due_on=today + timedelta(days=60),  # not due soon: not listed
            params={"interval": 90},
        )
    page = client_for("ana.coord").get("/due")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-case="(\d+)" data-what="(\w+)"(?: data-kind="(\w+)")?', page.text)
    assert rows == [
        (str(CE_CASE), "obligation", "registry_filing"),
        (str(CE_CASE), "deadline", ""),
    ]
    obligation = element(main_of(page.text), "tr", 'data-what="obligation"')
    assert "Protocolo no registro" in obligation
    assert "30 dias de atraso" in obligation
    deadline = element(main_of(page.text), "tr", 'data-what="deadline"')
    assert "Prazo do estado: Registrada" in deadline

    # the other territory's coordinator sees only theirs (the PA case)
    bia = client_for("bia.coord").get("/due").text
    assert re.findall(r'<tr data-case="(\d+)"', main_of(bia)) == [str(PA_CASE)]


# --- the case page ------------------------------------------------------------------------------


def test_the_case_page_offers_only_what_the_lifecycle_allows_now(client_for, web_rt) -> None:
    page = client_for("ana.coord").get(f"/cases/{CE_CASE}")
    assert page.status_code == 200
    offered = re.findall(
        r'<form method="post" action="/cases/1/advance" class="action-form" '
        r'data-event="([^"]+)"',
        page.text,
    )
    assert offered == web_rt.lifecycle.allowed_events(State.REGISTRADA.value)
    assert "aprovar_elegibilidade" not in offered
    # each form asks what its evidence model holds
    suspend = action_form(page.text, "suspender")
    assert 'name="ev.expected_resume_on"' in suspend
    assert re.search(r'name="ev.expected_resume_on" value="" type="date"', suspend)
    assert '<textarea id="f-suspender-reason" name="ev.reason"' in suspend
    cancel = action_form(page.text, "cancelar")
    assert re.search(r'<select id="f-cancelar-kind" name="ev.kind"', cancel)
    assert 'value="desistencia"' in cancel
    assert 'value="inviabilidade"' in cancel
    assert f'name="expected_version" value="{state_of(web_rt, CE_CASE)[1]}"' in suspend
    assert "Este evento não pede evidências." in action_form(page.text, "iniciar_analise")
    # the summary and the deadline
    assert "Quixadá (CE)" in page.text
    assert "faltam" in element(page.text, "section", 'class="card deadline-card"')


def test_nested_evidence_is_a_fieldset_and_lists_are_one_item_a_line(client_for, web_rt) -> None:
    advance(web_rt, CE_CASE, "iniciar_analise", {}, actor="ana.coord")
    page = client_for("ana.coord").get(f"/cases/{CE_CASE}").text
    approve = action_form(page, "aprovar_elegibilidade")
    assert 'type="date"' in element(approve, "div", 'data-field="decided_on"')
    # the PNDR class is read from the typology in force, never typed
    assert "ev.pndr_class" not in approve
    assert "ev.microregion_code" not in approve

    with_typology(web_rt, CE_CASE)
    advance(
        web_rt,
        CE_CASE,
        "aprovar_elegibilidade",
        evidence_for("aprovar_elegibilidade", web_rt.today()),
        actor="ana.coord",
    )
    hub = action_form(client_for("ana.coord").get(f"/cases/{CE_CASE}").text, "formalizar_polo")
    fieldset = element(hub, "fieldset", 'data-field="adhesion_term"')
    assert "<legend>Termo de adesão" in fieldset
    assert 'name="ev.adhesion_term.signatories"' in fieldset
    assert "um por linha" in fieldset

    advance(
        web_rt,
        CE_CASE,
        "formalizar_polo",
        evidence_for("formalizar_polo", web_rt.today()),
        actor="ana.coord",
    )
    summary = element(client_for("ana.coord").get(f"/cases/{CE_CASE}").text, "dl", "facts")
    assert "<dt>Polo</dt><dd>Quixadá (CE)" in summary


def test_a_refused_action_shows_the_guards_sentence_by_its_form_and_keeps_the_input(
    client_for, web_rt
) -> None:
    ana = client_for("ana.coord")
    before = state_of(web_rt, CE_CASE)
    resume_on = (web_rt.today() + timedelta(days=20)).isoformat()
    answer = post_action(
        ana,
        web_rt,
        CE_CASE,
        "suspender",
        {"ev.reason": "chuvas", "ev.expected_resume_on": resume_on, "note": "ligar na segunda"},
    )
    assert answer.status_code == 409
    form = action_form(answer.text, "suspender")
    refusal = element(form, "div", 'class="refusal"')
    assert (
        "o campo motivo da suspensão tem 6 caracteres; é necessário um texto fundamentado de "
        "pelo menos 20" in unescape(refusal)
    )
    assert ">chuvas</textarea>" in form
    assert f'value="{resume_on}" type="date"' in form
    assert ">ligar na segunda</textarea>" in form
    assert element(answer.text, "details", 'data-event="suspender"').startswith(
        '<details class="action" id="action-suspender" data-event="suspender" open'
    )
    assert state_of(web_rt, CE_CASE) == before  # nothing was written


def test_a_wrong_field_is_named_next_to_that_field(client_for, web_rt) -> None:
    ana = client_for("ana.coord")
    answer = post_action(
        ana,
        web_rt,
        CE_CASE,
        "suspender",
        {
            "ev.reason": "Aguardando a liberação da área pela prefeitura.",
            "ev.expected_resume_on": "",
        },
    )
    assert answer.status_code == 422
    form = action_form(answer.text, "suspender")
    field = element(form, "div", 'data-field="expected_resume_on"')
    assert "Campo obrigatório." in field
    assert 'aria-invalid="true"' in field
    assert "Campo obrigatório." not in element(form, "div", 'data-field="reason"')
    assert ">Aguardando a liberação da área pela prefeitura.</textarea>" in form

    bad_date = post_action(
        ana,
        web_rt,
        CE_CASE,
        "suspender",
        {"ev.reason": "Aguardando a liberação da área.", "ev.expected_resume_on": "31/02/2026"},
    )
    assert bad_date.status_code == 422
    assert "Data inválida" in element(
        action_form(bad_date.text, "suspender"), "div", 'data-field="expected_resume_on"'
    )


def test_without_the_evidence_the_reason_then_with_it_the_case_moves(
    client_for, web_rt, clock
) -> None:
    drive(web_rt, clock, CE_CASE, State.MOBILIZACAO.value, actor="ana.coord")
    ana = client_for("ana.coord")
    today = today_of(clock).isoformat()
    fields = {"ev.diagnosis.completed_on": today, "ev.diagnosis.vocations": "apicultura\nmel"}

    refused = post_action(ana, web_rt, CE_CASE, "concluir_mobilizacao", fields)
    assert refused.status_code == 409
    form = action_form(refused.text, "concluir_mobilizacao")
    minimum = web_rt.lifecycle.config.thresholds.min_participants
    assert f"0 participante pré-cadastrado; são necessários pelo menos {minimum}" in form
    assert ">apicultura\nmel</textarea>" in form
    assert state_of(web_rt, CE_CASE)[0] == State.MOBILIZACAO.value

    add_participants(web_rt, CE_CASE, minimum)
    moved = post_action(ana, web_rt, CE_CASE, "concluir_mobilizacao", fields)
    assert moved.status_code == 303
    assert moved.headers["location"] == f"/cases/{CE_CASE}?ok=concluir_mobilizacao"
    page = ana.get(moved.headers["location"]).text
    assert state_of(web_rt, CE_CASE)[0] == State.CAPACITACAO.value
    assert "Feito: Concluir mobilização. Estado atual: Capacitação em campo (ECC)." in page
    assert timeline(page)[0] == "concluir_mobilizacao"
    newest = element(page, "li", 'data-event="concluir_mobilizacao"')
    assert "ana.coord" in newest
    assert "apicultura" in newest  # its evidence


def test_providing_the_evidence_advances_and_the_history_shows_it(client_for, web_rt) -> None:
    ana = client_for("ana.coord")
    history_before = timeline(ana.get(f"/cases/{CE_CASE}").text)
    resume_on = (web_rt.today() + timedelta(days=20)).isoformat()
    answer = post_action(
        ana,
        web_rt,
        CE_CASE,
        "suspender",
        {
            "ev.reason": "Aguardando a liberação da área pela prefeitura.",
            "ev.expected_resume_on": resume_on,
        },
    )
    assert answer.status_code == 303
    page = ana.get(answer.headers["location"]).text
    assert timeline(page) == ["suspender", *history_before]
    assert state_of(web_rt, CE_CASE)[0] == State.SUSPENSA.value
    # the page now offers what a suspended case accepts
    offered = re.findall(r'class="action-form" data-event="([^"]+)"', page)
    assert offered == web_rt.lifecycle.allowed_events(State.SUSPENSA.value)


def test_a_conflict_says_who_changed_the_case_and_keeps_what_was_typed(client_for, web_rt) -> None:
    ana = client_for("ana.coord")
    seen = state_of(web_rt, CE_CASE)[1]
    add_note(web_rt, CE_CASE, "Reunião com a associação.", actor="sofia.super")
    reason = "Aguardando a liberação da área pela prefeitura."
    answer = post_action(
        ana,
        web_rt,
        CE_CASE,
        "suspender",
        {"ev.reason": reason, "ev.expected_resume_on": "2026-04-01"},
        version=seen,
    )
    assert answer.status_code == 409
    notice = element(answer.text, "section", 'class="warning conflict"')
    assert 'data-changed-by="sofia.super"' in notice
    assert "alterado por sofia.super" in notice
    assert f'<a href="/cases/{CE_CASE}">' in notice  # the reload
    form = action_form(answer.text, "suspender")
    assert f">{reason}</textarea>" in form
    assert f'name="expected_version" value="{seen + 1}"' in form
    assert state_of(web_rt, CE_CASE) == (State.REGISTRADA.value, seen + 1)


@pytest.mark.parametrize("username", ["rui.auditor", "adm.admin"])
def test_who_may_not_act_sees_no_write_control_and_is_refused(client_for, web_rt, username):
    client = client_for(username)
    page = client.get(f"/cases/{CE_CASE}")
    assert page.status_code == 200
    content = main_of(page.text)
    assert 'method="post"' not in content.lower()
    assert "<button" not in content
    assert "action-form" not in content
    refused = post_action(client, web_rt, CE_CASE, "iniciar_analise", {})
    assert refused.status_code == 403
    assert state_of(web_rt, CE_CASE)[0] == State.REGISTRADA.value


def test_another_territorys_case_does_not_exist_for_a_coordinator(client_for, web_rt) -> None:
    bia = client_for("bia.coord")
    assert bia.get(f"/cases/{CE_CASE}").status_code == 404
    assert post_action(bia, web_rt, CE_CASE, "iniciar_analise", {}).status_code == 404
    assert state_of(web_rt, CE_CASE)[0] == State.REGISTRADA.value


def test_people_are_counted_and_named_only_on_request_with_the_access_logged(
    client_for, web_rt
) -> None:
    ids = add_participants(web_rt, CE_CASE, 3, first=500)
    ana = client_for("ana.coord")
    page = ana.get(f"/cases/{CE_CASE}").text
    assert 'data-participants="3"' in page
    assert "Participante 500" not in page
    with web_rt.db.read() as session:
        assert session.execute(select(DataAccess)).first() is None

    named = ana.get(f"/cases/{CE_CASE}?people=1").text
    for n in (500, 501, 502):
        assert f"Participante {n}" in named
    with web_rt.db.read() as session:
        rows = session.execute(select(DataAccess).order_by(DataAccess.id)).scalars().all()
        assert [(r.actor, r.person_id, r.channel) for r in rows] == [
            ("ana.coord", i, "web") for i in ids
        ]
        assert all(r.purpose.startswith("case page") for r in rows)

    log = client_for("rui.auditor").get("/audit/access-log")
    assert log.status_code == 200
    listed = re.findall(
        r'<tr data-person="(\d+)" data-actor="([^"]+)" data-channel="(\w+)"', log.text
    )
    assert sorted(listed) == sorted((str(i), "ana.coord", "web") for i in ids)
    assert "case page (case 1)" in log.text
    assert "Participante" not in log.text  # the log holds no personal data
    only_one = client_for("rui.auditor").get(f"/audit/access-log?person_id={ids[1]}").text
    assert re.findall(r'<tr data-person="(\d+)"', only_one) == [str(ids[1])]


# --- bulk ---------------------------------------------------------------------------------------


def test_bulk_applies_one_event_case_by_case_with_each_result(client_for, web_rt) -> None:
    second = new_ce_case(web_rt, "Sítio Boa Esperança")
    third = new_ce_case(web_rt, "Sítio Lagoa Seca")
    advance(web_rt, third, "iniciar_analise", {}, actor="ana.coord")  # no longer registrada
    ana = client_for("ana.coord")

    board = ana.get("/").text
    assert 'id="bulk-form"' in board
    assert f'name="case_id" value="{second}" form="bulk-form"' in board

    form = ana.get(
        f"/bulk?case_id={CE_CASE}&case_id={second}&case_id={third}&event=iniciar_analise"
    )
    assert form.status_code == 200
    assert case_rows(form.text) == [CE_CASE, second, third]
    assert "o estado atual não aceita este evento" in element(
        main_of(form.text), "tr", f'data-case="{third}"'
    )
    data = {
        "csrf_token": csrf_of(web_rt, ana),
        "event": "iniciar_analise",
        "case_id": [str(CE_CASE), str(second), str(third)],
        "note": "lote de março",
    }
    result = ana.post("/bulk", data=data)
    assert result.status_code == 200
    moved = element(result.text, "table", 'class="list moved"')
    assert sorted(int(n) for n in re.findall(r'data-case="(\d+)"', moved)) == [CE_CASE, second]
    refused = element(result.text, "table", 'class="list refused"')
    assert re.findall(r'data-case="(\d+)" data-code="(\w+)"', refused) == [
        (str(third), "transition_not_allowed")
    ]
    assert "Iniciar análise não é permitido: o caso" in refused
    assert state_of(web_rt, CE_CASE)[0] == State.EM_ANALISE.value
    assert state_of(web_rt, second)[0] == State.EM_ANALISE.value


def test_bulk_refuses_a_case_of_another_territory_before_writing(client_for, web_rt) -> None:
    ana = client_for("ana.coord")
    assert ana.get(f"/bulk?case_id={CE_CASE}&case_id={PA_CASE}").status_code == 404
    answer = ana.post(
        "/bulk",
        data={
            "csrf_token": csrf_of(web_rt, ana),
            "event": "iniciar_analise",
            "case_id": [str(CE_CASE), str(PA_CASE)],
        },
    )
    assert answer.status_code == 404
    assert state_of(web_rt, CE_CASE)[0] == State.REGISTRADA.value


def test_bulk_evidence_errors_are_shown_by_their_fields(client_for, web_rt) -> None:
    ana = client_for("ana.coord")
    answer = ana.post(
        "/bulk",
        data={
            "csrf_token": csrf_of(web_rt, ana),
            "event": "cancelar",
            "case_id": [str(CE_CASE)],
            "ev.reason": "A associação desistiu da demanda.",
        },
    )
    assert answer.status_code == 422
    assert "Campo obrigatório." in element(answer.text, "div", 'data-field="kind"')
    assert ">A associação desistiu da demanda.</textarea>" in answer.text
    assert state_of(web_rt, CE_CASE)[0] == State.REGISTRADA.value


# --- the auditor's pages ------------------------------------------------------------------------


def test_audit_verify_shows_an_intact_log_and_its_root(client_for, web_rt) -> None:
    auditor = client_for("rui.auditor")
    landing = auditor.get("/audit/verify")
    assert landing.status_code == 200
    assert "Verificar agora" in landing.text
    page = auditor.get("/audit/verify?run=true&full=true").text
    with web_rt.db.read() as session:
        size, root = audit.tree_state(session)
        rows = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    result = element(page, "section", "verification")
    assert 'data-ok="true"' in result
    assert "Registro íntegro" in result
    assert root in result
    assert size == rows
    assert f"{rows} entradas conferidas a partir da folha 0." in result


def test_audit_verify_names_the_first_broken_event(client_for, web_rt) -> None:
    with web_rt.db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
        seq = connection.exec_driver_sql(
            "SELECT min(seq) FROM audit_events WHERE case_id = 1"
        ).scalar_one()
        connection.exec_driver_sql(
            "UPDATE audit_events SET actor = 'mallory' WHERE seq = ?", (seq,)
        )
    page = client_for("rui.auditor").get("/audit/verify?run=true").text
    result = element(page, "section", "verification")
    assert 'data-ok="false"' in result
    with web_rt.db.engine.connect() as connection:
        leaf = connection.exec_driver_sql(
            "SELECT leaf_index FROM audit_events WHERE seq = ?", (seq,)
        ).scalar_one()
    assert f'data-leaf="{leaf}" data-kind="changed"' in result
    assert "alterado" in result


def test_audit_export_gives_a_cases_history_as_csv_and_json(client_for, web_rt) -> None:
    advance(web_rt, CE_CASE, "iniciar_analise", {}, actor="ana.coord")
    with web_rt.db.read() as session:
        history = queries.history(session, CE_CASE)
    auditor = client_for("rui.auditor")

    as_csv = auditor.get(f"/audit/export?case_id={CE_CASE}&format=csv")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.headers["content-disposition"] == (
        'attachment; filename="produzir-audit-case-1.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in history]
    assert [r["event"] for r in rows] == [e["event"] for e in history]
    assert [r["entry"] for r in rows] == [e["entry"] for e in history]
    assert json.loads(rows[0]["changes"]) == history[0]["changes"]

    as_json = auditor.get(f"/audit/export?case_id={CE_CASE}&format=json")
    assert as_json.headers["content-disposition"].endswith('.json"')
    data = as_json.json()
    assert [(r["seq"], r["event"], r["actor"]) for r in data] == [
        (e["seq"], e["event"], e["actor"]) for e in history
    ]
    assert data[-1]["evidence"] == history[-1]["evidence"]

    # a period: the day's events of every case (the test's clock: 2 March 2026)
    period = auditor.get("/audit/export?from=2026-03-02&to=2026-03-02&format=json").json()
    cases = {r["case_id"] for r in period}
    assert {CE_CASE, PA_CASE} <= cases
    assert not auditor.get("/audit/export?from=2026-03-03&format=json").json()

    nothing = auditor.get("/audit/export?format=csv")
    assert nothing.status_code == 422
    assert "Informe um caso ou um período." in nothing.text


def test_audit_case_history_filters_and_shows_the_case_at_a_date(client_for, web_rt, clock) -> None:
    clock.advance(timedelta(days=3))
    advance(web_rt, CE_CASE, "iniciar_analise", {}, actor="ana.coord")
    add_note(web_rt, CE_CASE, "Documentos conferidos.", actor="gil.manager")
    auditor = client_for("rui.auditor")

    full = auditor.get(f"/audit/cases/{CE_CASE}").text
    events = re.findall(r'<tr data-seq="\d+" data-event="(\w+)" data-actor="([^"]+)"', full)
    with web_rt.db.read() as session:
        history = queries.history(session, CE_CASE)
    assert events == [(e["event"], e["actor"]) for e in history]

    by_actor = auditor.get(f"/audit/cases/{CE_CASE}?actor=gil.manager").text
    assert re.findall(r'data-event="(\w+)" data-actor="', by_actor) == ["anotar"]
    by_event = auditor.get(f"/audit/cases/{CE_CASE}?event=iniciar_analise").text
    assert re.findall(r'data-event="(\w+)" data-actor="', by_event) == ["iniciar_analise"]
    by_period = auditor.get(f"/audit/cases/{CE_CASE}?to=2026-03-03").text
    assert [e for e, _ in re.findall(r'data-event="(\w+)" data-actor="([^"]+)"', by_period)] == [
        history[0]["event"]
    ]

    before = auditor.get(f"/audit/cases/{CE_CASE}?at=2026-03-03").text
    assert "Registrada" in element(before, "dl", "as-of-facts")
    after = auditor.get(f"/audit/cases/{CE_CASE}?at=2026-03-05").text
    assert "Em análise" in element(after, "dl", "as-of-facts")
    too_early = auditor.get(f"/audit/cases/{CE_CASE}?at=2026-01-01").text
    assert "it was registered later" in too_early


# --- for everyone -------------------------------------------------------------------------------


def test_the_lifecycle_page_carries_the_diagram_source_and_its_drawing_script(
    client_for, web_rt
) -> None:
    page = client_for("ana.coord").get("/lifecycle")
    assert page.status_code == 200
    source = unescape(element(page.text, "pre", "lifecycle-source"))
    assert source.removeprefix('<pre class="lifecycle-source">').removesuffix("</pre>") == (
        diagram.mermaid(
            EVENTS,
            "pt-BR",
            translate=lambda msgid: translate(msgid, "pt-BR"),
            version=web_rt.lifecycle.version,
        )
    )
    for state in ALL:
        assert f'("{LABELS_PT[state]}")' in source
    assert "Qualquer estado em andamento" in source
    scripts = re.findall(r'<script src="([^"?]+)', page.text)
    assert scripts[-2:] == ["/static/vendor/mermaid/mermaid.min.js", "/static/lifecycle.js"]
    staying = element(page.text, "table", "staying")
    assert set(re.findall(r'data-event="(\w+)"', staying)) == {
        s.event for s in diagram.staying(EVENTS)
    }
    assert "estados em andamento" in element(staying, "tr", 'data-event="prorrogar"')


def test_the_lifecycle_in_english_for_who_prefers_it(client_for) -> None:
    page = client_for("adm.admin").get("/lifecycle").text
    assert "A case&#39;s lifecycle" in page or "A case's lifecycle" in page
    source = unescape(element(page, "pre", "lifecycle-source"))
    assert '("Under review")' in source
    assert "Any state in progress" in source


def test_the_indicators_have_charts_with_their_numbers(client_for, web_rt, clock) -> None:
    new_ce_case(web_rt, "Comunidade do Serviluz", municipality_code=FORTALEZA)
    clock.advance(timedelta(days=2))
    advance(web_rt, CE_CASE, "iniciar_analise", {}, actor="ana.coord")
    clock.advance(timedelta(days=10))  # the Fortaleza case is now past its 5 working days

    page = client_for("ana.coord").get("/indicators")
    assert page.status_code == 200
    html = page.text
    assert '<span class="total-cases">2</span>' in html
    funnel = element(html, "svg", "funnel")
    registered = element(funnel, "g", 'data-key="registrada"')
    assert ">1</text>" in registered
    assert ">1</text>" in element(funnel, "g", 'data-key="em_analise"')
    assert ">0</text>" in element(funnel, "g", 'data-key="capacitacao"')
    # the stay in registrada: two days
    times = element(html, "section", 'id="cycle-time"')
    assert "2,0 dias · 1 estadias" in element(times, "g", 'data-key="registrada"')
    # deadlines: CE met one (left registrada in time) and has one overdue now
    by_uf = element(html, "section", 'id="deadlines"')
    assert "1 cumpridos · 0 perdidos · 1 atrasados" in element(by_uf, "g", 'data-key="CE"')
    assert 'data-key="PA"' not in html  # not the coordinator's territory
    people = element(html, "section", 'id="people"')
    assert "<svg" in people
    assert 'data-key="people_trained"' in people

    manager = client_for("gil.manager").get("/indicators").text
    assert '<span class="total-cases">3</span>' in manager
    assert 'data-key="PA"' in element(manager, "section", 'id="deadlines"')


# --- the audit-trail figures (states.indicators), on SQLite and PostgreSQL ---------------------------


def _user(role: str, territories: list[str]) -> User:
    return User(username="u", role=role, territories=territories)


def test_cycle_times_and_deadlines_from_the_audit_trail(any_rt, clock) -> None:
    rt = any_rt
    quick = register_demand(rt, demand(community="Rápida"), actor="ana").case_id
    slow = register_demand(rt, demand(community="Lenta"), actor="ana").case_id
    belem = register_demand(
        rt, demand(community="Belém", municipality_code=BELEM), actor="bia"
    ).case_id
    clock.advance(timedelta(days=1))
    advance(rt, quick, "iniciar_analise", {}, actor="ana")
    clock.advance(timedelta(days=2))
    advance(rt, belem, "iniciar_analise", {}, actor="bia")
    clock.advance(timedelta(days=17))  # 20 days: past 5 working days
    advance(rt, slow, "iniciar_analise", {}, actor="ana")
    today = today_of(clock)

    with rt.db.read() as session:
        everywhere = indicators.cycle_times(session)
        assert everywhere["registrada"].stays == 3
        assert everywhere["registrada"].median_days == pytest.approx(3.0)
        ce = indicators.cycle_times(session, ufs={"CE"})
        assert ce["registrada"].stays == 2
        assert ce["registrada"].median_days == pytest.approx(10.5)  # (1 + 20) / 2
        results = indicators.deadline_results(session, "uf", today=today)
        assert [(r.key, r.met, r.missed, r.overdue_now) for r in results] == [
            ("CE", 1, 1, 0),
            ("PA", 1, 0, 0),
        ]
        later = indicators.deadline_results(
            session, "uf", today=today, since=rt.clock.now() - timedelta(hours=1)
        )
        assert [(r.key, r.met, r.missed) for r in later] == [("CE", 0, 1)]
        [whole] = indicators.deadline_results(session, "programme", today=today)
        assert (whole.key, whole.met, whole.missed, whole.total) == (None, 2, 1, 3)
        pa = indicators.deadline_results(session, "uf", today=today, ufs={"PA"})
        assert [(r.key, r.met) for r in pa] == [("PA", 1)]
        assert indicators.deadline_results(session, "uf", today=today, ufs=set()) == []
        assert indicators.cycle_times(session, ufs=set()) == {}


def test_due_rows_merge_deadlines_and_obligations_on_every_backend(any_rt, clock) -> None:
    rt = any_rt
    case_id = register_demand(rt, demand(), actor="ana").case_id
    clock.advance(timedelta(days=12))
    today = today_of(clock)
    with rt.db.write() as session:
        obligations.open_obligation(
            session,
            rt,
            case_id=case_id,
            kind=obligations.PROTOCOL_COMMITMENT,
            due_on=today - timedelta(days=40),
            params={"partner": "SEBRAE", "action": "curso"},
        )
    with rt.db.read() as session:
        rows, more = pages_queries.due_rows(
            session, today=today, until=today + timedelta(days=7), scope=None
        )
        first, more_after_first = pages_queries.due_rows(
            session, today=today, until=today + timedelta(days=7), scope=None, limit=1
        )
        second, _ = pages_queries.due_rows(
            session, today=today, until=today + timedelta(days=7), scope=None, limit=1, offset=1
        )
        pa_only = uf_clause(_user("coordinator", ["PA"]))
        elsewhere, _ = pages_queries.due_rows(
            session, today=today, until=today + timedelta(days=7), scope=pa_only
        )
    assert not more
    assert [(r["what"], r["kind"]) for r in rows] == [
        ("obligation", "protocol_commitment"),
        ("deadline", None),
    ]
    assert rows[0]["days_late"] == 40
    assert isinstance(rows[1]["due_on"], date)
    assert rows[1]["days_late"] == (today - rows[1]["due_on"]).days > 0
    assert (first, second, more_after_first) == (rows[:1], rows[1:], True)
    assert elsewhere == []
