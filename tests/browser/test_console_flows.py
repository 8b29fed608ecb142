"""The console in a real browser: what a coordinator and an auditor do, click by click.

Each test logs in through the login form (``visit``), reads what a person reads on the page
(the row marked overdue, the sentence next to the form, the newest entry of the timeline, the
verification's verdict, the downloaded file) and checks it against the database underneath.
The screenshots of the README (docs/screenshots) are taken here, on data built the same way on
every run.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from states import audit
from states.models import AuditEvent, Case
from states.states import State
from tasks.cases import add_note, advance
from tasks.runtime import Runtime
from tests.browser.conftest import PICTURED_NOTE, problems_of, screenshot
from tests.builders import today_of, with_typology
from tests.conftest import START
from tests.web.conftest import CE_CASE, PA_CASE


def case_now(rt: Runtime, case_id: int) -> tuple[str, int]:
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.state, case.version


def history_of(rt: Runtime, case_id: int) -> list[AuditEvent]:
    with rt.db.read() as session:
        rows = list(
            session.execute(
                select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
            ).scalars()
        )
        session.expunge_all()
        return rows


def listed_cases(page: Page) -> list[int]:
    return [
        int(n)
        for n in page.locator("main tr[data-case]").evaluate_all(
            "rows => rows.map(r => r.dataset.case)"
        )
    ]


def forms_of(page: Page) -> list[tuple[str, str]]:
    """(method, action path) of every form on the page."""
    found = page.locator("form").evaluate_all(
        "forms => forms.map(f => [f.method, new URL(f.action).pathname])"
    )
    return [(method, action) for method, action in found]


# --- a coordinator works an overdue case ------------------------------------------------------


def test_a_coordinator_reads_the_guards_reason_then_advances_an_overdue_case(
    visit, live_server, clock
) -> None:
    rt = live_server.rt
    advance(rt, CE_CASE, "iniciar_analise", {}, actor="ana.coord")
    with rt.db.read() as session:
        due_on = session.get(Case, CE_CASE).due_on
    clock.set(START + timedelta(days=40))  # em_analise has 30 days: now past them
    today = today_of(clock)
    days_late = (today - due_on).days
    assert days_late > 0

    page = visit("ana.coord")
    page.get_by_label("só atrasados").check()
    page.get_by_role("button", name="Filtrar").click()
    page.wait_for_url(re.compile(r"overdue=true"))
    assert listed_cases(page) == [CE_CASE]
    row = page.locator(f'main tr[data-case="{CE_CASE}"]')
    expect(row).to_have_class(re.compile(r"\boverdue\b"))
    expect(row.locator(".due.late")).to_have_text(f"{days_late} dias de atraso")

    row.get_by_role("link", name="Assentamento Boa Vista").click()
    page.wait_for_url(f"**/cases/{CE_CASE}")
    expect(page.locator(".deadline-card .due.late")).to_have_text(f"{days_late} dias de atraso")
    expect(page.locator(".case-head [data-state]")).to_have_attribute("data-state", "em_analise")

    # the reasoned decision is the evidence the guard wants: a one-word decision is refused
    # (the PNDR class is read from the typology in force, never typed in the form)
    with_typology(rt, CE_CASE)
    page.locator('details[data-event="aprovar_elegibilidade"] > summary').click()
    form = page.locator('form[data-event="aprovar_elegibilidade"]')
    expect(form.get_by_label("Código IBGE da microrregião")).to_have_count(0)
    form.get_by_label("Data da decisão").fill(today.isoformat())
    form.get_by_label("Decisão fundamentada").fill("Elegível.")
    before = case_now(rt, CE_CASE)
    with page.expect_response(lambda r: r.url.endswith("/advance")) as refused:
        form.get_by_role("button", name="Aprovar elegibilidade").click()
    assert refused.value.status == 409
    page.wait_for_load_state()

    minimum = rt.lifecycle.config.thresholds.min_reason_chars
    form = page.locator('form[data-event="aprovar_elegibilidade"]')
    expect(form.locator(".refusal .reason")).to_have_text(
        f"o campo decisão tem 9 caracteres; é necessário um texto fundamentado de pelo menos "
        f"{minimum}"
    )  # in the coordinator's language
    expect(form).to_be_visible()  # its section came back open, with what was typed
    expect(form.get_by_label("Decisão fundamentada")).to_have_value("Elegível.")
    expect(form.get_by_label("Data da decisão")).to_have_value(today.isoformat())
    assert case_now(rt, CE_CASE) == before  # nothing written

    decision = "Demanda elegível: microrregião prioritária da PNDR, no Semiárido."
    form.get_by_label("Decisão fundamentada").fill(decision)
    with page.expect_response(lambda r: r.url.endswith("/advance")) as moved:
        form.get_by_role("button", name="Aprovar elegibilidade").click()
    assert moved.value.status == 303
    page.wait_for_url(f"**/cases/{CE_CASE}?ok=aprovar_elegibilidade")

    assert case_now(rt, CE_CASE) == (State.POLO_DEFINIDO.value, before[1] + 1)
    expect(page.locator(".notice.flash")).to_contain_text(
        "Feito: Aprovar elegibilidade. Estado atual: Polo definido."
    )
    newest = page.locator("ol.timeline > li").first
    last = history_of(rt, CE_CASE)[-1]
    expect(newest).to_have_attribute("data-event", "aprovar_elegibilidade")
    expect(newest).to_have_attribute("data-seq", str(last.seq))
    expect(newest.locator(".who")).to_contain_text("ana.coord")
    expect(newest.locator(".what [data-state]")).to_have_count(2)
    expect(newest.locator(".what [data-state]").first).to_have_attribute("data-state", "em_analise")
    expect(newest.locator(".what [data-state]").last).to_have_attribute(
        "data-state", "polo_definido"
    )
    newest.locator("details > summary").click()
    expect(newest.locator("pre")).to_contain_text(decision)
    expect(page.locator(".deadline-card .due.late")).to_have_count(0)  # a new state, a new clock
    assert problems_of(page) == []


# --- an auditor checks ------------------------------------------------------------------------


def test_an_auditor_sees_no_write_control_verifies_the_chain_and_exports_a_history(
    visit, live_server, tmp_path: Path
) -> None:
    rt = live_server.rt
    advance(rt, CE_CASE, "iniciar_analise", {}, actor="ana.coord")
    add_note(rt, CE_CASE, "Reunião com a associação na sede.", actor="sofia.super")
    page = visit("rui.auditor")

    for path in (
        "/",
        "/due",
        f"/cases/{CE_CASE}",
        f"/cases/{PA_CASE}",
        f"/audit/cases/{CE_CASE}",
        "/audit/verify",
        "/audit/export",
        "/indicators",
        "/lifecycle",
    ):
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, path
        posts = [action for method, action in forms_of(page) if method == "post"]
        assert posts == ["/logout"], (path, posts)
        controls = page.locator(
            "details.action, form.action-form, #bulk-form, input[type=checkbox][name=case_id], "
            "button:has-text('Aprovar'), button:has-text('Iniciar')"
        )
        assert controls.count() == 0, (
            path,
            controls.evaluate_all("es => es.map(e => e.outerHTML)"),
        )
    page.goto(f"/cases/{CE_CASE}")
    expect(page.locator(".case-actions")).to_contain_text(
        "Nenhuma ação disponível para o seu papel."
    )

    # and the server refuses a post made by hand, with the session's own CSRF token
    token = page.locator('form[action="/logout"] input[name=csrf_token]').get_attribute("value")
    before = case_now(rt, CE_CASE)
    refused = page.request.post(
        f"/cases/{CE_CASE}/advance",
        form={"csrf_token": token or "", "event": "anotar", "ev.text": "tentativa"},
    )
    assert refused.status == 403
    assert case_now(rt, CE_CASE) == before

    # the log: verified on request from the start, intact, every entry checked, the root shown
    page.goto("/audit/verify")
    expect(page.locator("section.verification")).to_have_count(0)
    page.get_by_role("button", name="Verificar tudo desde o início").click()
    verdict = page.locator("section.verification")
    expect(verdict).to_have_attribute("data-ok", "true")
    expect(verdict.locator("h2")).to_contain_text("Registro íntegro")
    with rt.db.read() as session:
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        size, root = audit.tree_state(session)
    assert size == events
    expect(verdict).to_contain_text(f"{events} entradas conferidas a partir da folha 0.")
    expect(verdict.locator(".root-hash")).to_have_text(root)

    # the case's history on screen, then downloaded as CSV: the same events, in order
    page.goto(f"/audit/cases/{CE_CASE}")
    history = history_of(rt, CE_CASE)
    on_screen = page.locator("table.audit-events tr[data-seq]").evaluate_all(
        "rows => rows.map(r => Number(r.dataset.seq))"
    )
    assert on_screen == [e.seq for e in history]
    with page.expect_download() as started:
        page.get_by_role("link", name="Exportar este histórico (CSV)").click()
    download = started.value
    assert download.suggested_filename == f"produzir-audit-case-{CE_CASE}.csv"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(int(r["seq"]), r["event"], r["actor"], r["entry"]) for r in rows] == [
        (e.seq, e.event, e.actor, e.entry) for e in history
    ]
    assert {r["case_id"] for r in rows} == {str(CE_CASE)}
    assert rows[-1]["event"] == "anotar"
    assert json.loads(rows[-1]["evidence"]) == {"text": "Reunião com a associação na sede."}
    assert [r["to_state"] for r in rows][:2] == [State.REGISTRADA.value, State.EM_ANALISE.value]
    assert problems_of(page) == []


# --- territories ------------------------------------------------------------------------------


def test_a_coordinator_cannot_open_another_territorys_case(visit, live_server) -> None:
    bia = visit("bia.coord")  # PA and AM; CE_CASE is in Quixadá (CE)
    assert listed_cases(bia) == [PA_CASE]
    answer = bia.goto(f"/cases/{CE_CASE}")
    assert answer is not None
    assert answer.status == 404
    expect(bia.locator("main h1")).to_have_text("Não encontrado")
    hidden = bia.locator("main").inner_text()
    assert "Assentamento Boa Vista" not in bia.content()
    assert "Quixadá" not in bia.content()
    # exactly what a case number that does not exist gives: no hint the case is there
    missing = 987_654
    assert bia.goto(f"/cases/{missing}").status == 404
    assert bia.locator("main").inner_text().replace(str(missing), "#") == hidden.replace(
        str(CE_CASE), "#"
    )
    # her own case opens
    own = bia.goto(f"/cases/{PA_CASE}")
    assert own is not None
    assert own.status == 200
    expect(bia.locator(".case-head h1")).to_contain_text("Comunidade Ilha Grande")

    ana = visit("ana.coord")  # and the other way round
    assert ana.goto(f"/cases/{PA_CASE}").status == 404
    expect(ana.locator("main h1")).to_have_text("Não encontrado")
    assert problems_of(bia) == []
    assert problems_of(ana) == []


# --- the README's pictures --------------------------------------------------------------------


def test_screenshots_of_the_board_a_case_and_the_indicators(visit, live_server, showcase) -> None:
    rt = live_server.rt
    page = visit("ana.coord")
    mine = sorted([CE_CASE, *showcase.states], reverse=True)  # newest first
    assert listed_cases(page) == mine
    expect(page.locator('.chips a[data-state="all"] .n')).to_have_text(str(len(mine)))
    for state in {*showcase.states.values(), State.REGISTRADA.value}:
        count = sum(1 for s in [State.REGISTRADA.value, *showcase.states.values()] if s == state)
        expect(page.locator(f'.chips a[data-state="{state}"] .n')).to_have_text(str(count))
    expect(page.locator("main tr.overdue")).not_to_have_count(0)
    assert (
        page.evaluate("getComputedStyle(document.querySelector('header.topbar')).display")
        != "inline"
    )  # the stylesheets were applied
    _assert_shot(screenshot(page, "board.png"))

    page.goto(f"/cases/{showcase.rich_case}")
    expect(page.locator(".case-head [data-state]")).to_have_attribute("data-state", "gestao")
    expect(page.locator("[data-participants]")).to_have_attribute("data-participants", "40")
    expect(page.locator("li[data-training]")).to_have_count(1)
    expect(page.locator("tr[data-enterprise]")).to_have_count(2)
    expect(page.locator('details[data-event="concluir_gestao"]')).to_have_count(1)

    # the picture: a case with a short history, one action opened on its evidence form
    page.goto(f"/cases/{showcase.pictured_case}")
    expect(page.locator(".case-head [data-state]")).to_have_attribute("data-state", "mobilizacao")
    entries = page.locator("ol.timeline > li")
    expect(entries).to_have_count(len(history_of(rt, showcase.pictured_case)))
    expect(entries.first).to_have_attribute("data-event", "anotar")
    entries.first.locator("details > summary").click()
    expect(entries.first.locator("pre")).to_contain_text(PICTURED_NOTE)
    offered = page.locator("details.action").evaluate_all("ds => ds.map(d => d.dataset.event)")
    assert offered == rt.lifecycle.allowed_events(State.MOBILIZACAO.value)
    page.locator('details[data-event="concluir_mobilizacao"] > summary').click()
    expect(page.locator('form[data-event="concluir_mobilizacao"]')).to_be_visible()
    _assert_shot(screenshot(page, "case.png"))

    page.goto("/indicators")
    charts = page.locator("main svg")
    expect(charts).not_to_have_count(0)
    assert charts.count() >= 3
    for chart in charts.all():
        box = chart.bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 40
    expect(page.locator("main .total-cases")).to_contain_text(str(len(mine)))
    _assert_shot(screenshot(page, "indicators.png"))
    assert problems_of(page) == []
    assert case_now(rt, showcase.rich_case)[0] == State.GESTAO.value


def _assert_shot(path: Path) -> None:
    """A PNG, 1280 px wide, taller than the window when the page is long, not tiny."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 1280, width
    assert height >= 600, height
    assert len(data) > 20_000, len(data)


def test_screenshots_in_portuguese_of_the_due_list_a_refusal_and_an_email(
    visit, live_server, showcase, monkeypatch
) -> None:
    """docs/screenshots/due.png, refusal.png and email.png, as a pt-BR coordinator sees them."""
    from notifications.render import preview

    rt = live_server.rt
    page = visit("ana.coord")  # language pt-BR
    page.goto("/due")
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")
    expect(page.locator("main h1")).to_contain_text("Prazos")
    expect(page.locator("main tr[data-case]")).not_to_have_count(0)
    _assert_shot(screenshot(page, "due.png"))

    # a refusal: the guard's sentence in Portuguese beside the form, nothing written
    before = case_now(rt, showcase.pictured_case)
    page.goto(f"/cases/{showcase.pictured_case}")
    page.locator('details[data-event="suspender"] > summary').click()
    form = page.locator('form[data-event="suspender"]')
    form.locator('textarea[name="ev.reason"]').fill("chuvas")
    resume_on = (rt.today() + timedelta(days=20)).isoformat()
    form.locator('input[name="ev.expected_resume_on"]').fill(resume_on)
    form.locator('button[type="submit"]').click()
    refusal = page.locator(".refusal")
    expect(refusal).to_contain_text("Recusado")
    expect(refusal).to_contain_text("o campo motivo da suspensão tem 6 caracteres")
    assert case_now(rt, showcase.pictured_case) == before
    refusal.scroll_into_view_if_needed()
    _assert_shot(screenshot(page, "refusal.png"))

    # an e-mail: the reminder of the pictured case, in pt-BR, with the link to its page
    monkeypatch.setenv("PRODUZIR_PUBLIC_URL", live_server.url)
    with rt.db.read() as session:
        message = preview(session, "reminder", showcase.pictured_case, "pt-BR", today=rt.today())
    assert f"{live_server.url}/cases/{showcase.pictured_case}" in message.text
    page.set_content(message.html)
    expect(page.locator("body")).to_contain_text("Olá")
    page.locator(f'a[href="{live_server.url}/cases/{showcase.pictured_case}"]').click()
    expect(page.locator(".case-head [data-state]")).to_have_attribute("data-state", "mobilizacao")
    page.set_content(message.html)
    _assert_shot(screenshot(page, "email.png"))
