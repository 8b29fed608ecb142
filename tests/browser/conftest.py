"""Fixtures of the browser tests: Debian's Chromium driven by Playwright against the live server.

- ``browser``: one headless Chromium (``/usr/bin/chromium``, Debian's package) per session.
  When it is not installed the tests are skipped with the reason, except under ``CI=true``,
  where they fail: CI must run them (``.ci/run`` installs the ``chromium`` package).
- ``visit``: ``visit(username)`` -> a :class:`~playwright.sync_api.Page` in a fresh browser
  context (its own cookies), 1280 px wide, already logged in through the login form of the
  ``live_server`` (:mod:`tests.web.conftest`: the demo users, ``CE_CASE``, ``PA_CASE``, a
  fixed clock). Every page it opens is watched: a failed request (a stylesheet, a script) or an
  error on the browser's console (a Content-Security-Policy refusal...) is recorded in
  ``page.problems`` (see :func:`problems_of`).
- ``showcase``: more cases in ana.coord's territory (CE and PE) in several states, built through
  the operations on the fixed clock, so that the screenshots show a lived-in board, a case with
  its records and indicators with something to draw — the same pictures on every run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)

from states.clock import FixedClock
from states.states import State
from tasks.cases import add_note
from tasks.demands import register_demand
from tasks.runtime import Runtime
from tests.builders import demand, drive
from tests.web import conftest as web
from tests.web.conftest import PASSWORD, LiveServer

# the live server and what it stands on: pytest finds the fixtures a conftest holds
web_template = web.web_template
web_rt = web.web_rt
web_settings = web.web_settings
app = web.app
live_server = web.live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
WIDTH, HEIGHT = 1280, 900
TIMEOUT_MS = 15_000
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        message = f"{CHROMIUM} is not installed (Debian package `chromium`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: under CI=true the browser tests must run")
        pytest.skip(message)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


class WatchedPage:
    """What went wrong while a page loaded: failed requests, console errors."""

    def __init__(self, page: Page) -> None:
        self.problems: list[str] = []
        page.on("response", self._response)
        page.on("requestfailed", self._failed)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))

    def _failed(self, request: Request) -> None:
        # a navigation that turns into a download is "aborted" by the browser: not a problem
        if request.resource_type != "document":
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")  # a CSP refusal, a script

    def _response(self, response: Response) -> None:
        # pages answered 403, 404, 409, 422 are what the tests ask for (and Chromium logs each
        # as a console error); anything else the page loads (styles, scripts) must load
        if response.status >= 400 and response.request.resource_type != "document":
            self.problems.append(f"{response.status} {response.url}")


_WATCHERS: dict[int, WatchedPage] = {}


def problems_of(page: Page) -> list[str]:
    """Failed static files, failed requests and console errors seen by ``page`` so far."""
    return list(_WATCHERS[id(page)].problems)


def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as a person would; lands on the board."""
    page.goto("/login")
    page.get_by_label("Usuário").fill(username)
    page.get_by_label("Senha").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Entrar").click()
    assert urlsplit(page.url).path == "/", page.url
    assert page.locator(f'.who .name[data-username="{username}"]').count() == 1, page.url


@pytest.fixture
def visit(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[str], Page]]:
    """``visit(username)``: a logged-in page in a browser context of its own."""
    contexts: list[BrowserContext] = []

    def open_as(username: str) -> Page:
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": WIDTH, "height": HEIGHT},
            locale="pt-BR",
            timezone_id="America/Sao_Paulo",
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        _WATCHERS[id(page)] = WatchedPage(page)
        log_in(page, username)
        return page

    yield open_as
    for context in contexts:
        for page in context.pages:
            _WATCHERS.pop(id(page), None)
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """A full-page picture of ``page`` (1280 px wide) into docs/screenshots/``name``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.evaluate("window.scrollTo(0, 0)")  # sticky parts (the actions column) in their place
    page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
    return path


# --- data for the pictures ----------------------------------------------------------------------


@dataclass(frozen=True)
class Showcase:
    """The cases built for the pictures: id -> state; the case with records linked (people,
    an ECC, enterprises: its history is long), and the case pictured (a short history)."""

    states: dict[int, str]
    rich_case: int
    pictured_case: int


#: (IBGE code, community, activity, the state the case is driven to), in the order built
SHOWCASE_CASES = (
    (2304202, "Comunidade Sítio Baixio", "artesanato em palha", State.EM_ANALISE),
    (2313302, "Assentamento Cachoeira", "caprinocultura", State.GESTAO),
    (2611101, "Projeto Nilo Coelho", "fruticultura irrigada", State.POLO_DEFINIDO),
    (2312908, "Assentamento Santa Bárbara", "apicultura", State.MOBILIZACAO),
    (2613909, "Sítio Carnaubeira", "ovinocultura", State.INDEFERIDA),
    (2302800, "Comunidade Lagoa do Mato", "piscicultura", State.SUSPENSA),
    (2604106, "Alto do Moura", "artesanato em barro", State.REGISTRADA),
    (2606002, "Comunidade Sítio Brejinho", "bovinocultura de leite", State.EM_ANALISE),
)


PICTURED_NOTE = "Reunião de mobilização com 32 famílias na sede da associação."


def build_showcase(rt: Runtime, clock: FixedClock) -> Showcase:
    states: dict[int, str] = {}
    rich = pictured = 0
    for code, community, activity, target in SHOWCASE_CASES:
        case_id = register_demand(
            rt,
            demand(
                municipality_code=code,
                community=community,
                activity=activity,
                proponent=f"Associação {community}",
                forum_held_on=date(2026, 2, 20),
                coordinator="ana.coord",
            ),
            actor="sofia.super",
        ).case_id
        drive(rt, clock, case_id, target.value, actor="ana.coord")
        states[case_id] = target.value
        if target == State.GESTAO:
            rich = case_id
        elif target == State.MOBILIZACAO:
            pictured = case_id
            add_note(rt, case_id, PICTURED_NOTE, actor="ana.coord")
    return Showcase(states, rich, pictured)


@pytest.fixture
def showcase(live_server: LiveServer, clock: FixedClock) -> Showcase:
    return build_showcase(live_server.rt, clock)
