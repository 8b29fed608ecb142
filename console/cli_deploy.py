"""``produzir deploy check``: what is wrong with this worker's settings, one line each.

It checks, with the ``PRODUZIR_*`` and ``PREFECT_API_URL`` settings of the machine it runs on:
the database (reachable, migrated to the code's revision), the audit signing key (the file of
``PRODUZIR_AUDIT_KEY_FILE``), the SMTP server when the channel is ``smtp`` (a TCP connection
to it), and the Prefect API (its ``/health``). Every problem is one line on stdout; exit code 1
when there is one, 0 (and one "ok" line) when there is none. Nothing is written anywhere.

``produzir deploy automations`` (after ``prefect deploy --all``) creates the automations and
concurrency limits of :mod:`flows.operate` on the Prefect API.

The sentences people read come from the catalogs (msgids here, rendered by ``out``).
"""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import create_engine, make_url, text

import migrations
from console.common import command_group, out
from notifications.settings import load_settings
from states.errors import InvalidInput
from states.settings import StatesSettings, load
from states.text import N_, Text

app = command_group("Deploying on workers: check this machine's settings.")

# What the check says, one line each (msgids of the catalogs, rendered by out())
_DB_UNREACHABLE = "database unreachable (%(url)s): %(error)s"
OK = N_("ok: database, signing key, notifications and Prefect API")
TIMEOUT = 5.0


def _error(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def check_database(settings: StatesSettings) -> list[Text]:
    url = make_url(settings.resolved_database_url())
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # connecting would create an empty file: say so instead
        return [N_(_DB_UNREACHABLE, url=shown, error=N_("no such file"))]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migrations.current_revision(engine), migrations.head_revision()
    except Exception as exc:
        return [N_(_DB_UNREACHABLE, url=shown, error=_error(exc))]
    finally:
        engine.dispose()
    if current != head:
        return [
            N_(
                "database not migrated: at %(current)s, the code needs %(head)s "
                "(produzir db upgrade)",
                current=current or N_("no revision"),
                head=head,
            )
        ]
    return []


def check_key(settings: StatesSettings) -> list[Text]:
    path = settings.key_file()
    return (
        []
        if path.is_file()
        else [
            N_(
                "audit signing key missing: no file at %(path)s (PRODUZIR_AUDIT_KEY_FILE)",
                path=str(path),
            )
        ]
    )


def check_smtp() -> list[Text]:
    try:
        notify = load_settings()
    except InvalidInput as exc:
        return [N_("notification settings invalid: %(error)s", error=exc.text)]
    if notify.notify_channel != "smtp" or not notify.smtp_host:
        return []
    port = notify.resolved_smtp_port()
    try:
        socket.create_connection((notify.smtp_host, port), timeout=TIMEOUT).close()
    except OSError as exc:
        return [
            N_(
                "SMTP server unreachable (%(host)s:%(port)s): %(error)s",
                host=notify.smtp_host,
                port=str(port),
                error=_error(exc),
            )
        ]
    return []


def prefect_api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL", ""))


def check_prefect() -> list[Text]:
    url = prefect_api_url().rstrip("/")
    if not url:
        return [N_("Prefect API not set: PREFECT_API_URL is empty")]
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=TIMEOUT) as answer:  # noqa: S310
            answer.read()
    except Exception as exc:
        return [N_("Prefect API unreachable (%(url)s): %(error)s", url=url, error=_error(exc))]
    return []


@app.command("check")
def check() -> None:
    """Say what is wrong with this machine's settings, one line each (exit 1 if anything)."""
    try:
        settings = load(StatesSettings)
    except InvalidInput as exc:
        out(N_(_DB_UNREACHABLE, url="-", error=exc.text))
        raise typer.Exit(1) from None
    problems = [
        *check_database(settings),
        *check_key(settings),
        *check_smtp(),
        *check_prefect(),
    ]
    for line in problems:
        out(line)
    if problems:
        raise typer.Exit(1)
    out(OK)


@app.command("automations")
def automations(
    grace: Annotated[
        int,
        typer.Option(
            min=31,
            max=86_400,
            help="Seconds without a heartbeat before a flow run is marked crashed "
            "(more than PREFECT_FLOWS_HEARTBEAT_FREQUENCY).",
        ),
    ] = 90,  # flows.operate.HEARTBEAT_GRACE (not imported: this command line loads no Prefect)
) -> None:
    """Create or replace, on the Prefect API, the automations and limits the deployments need."""
    from flows.operate import set_up

    for name in set_up(grace):
        out(N_("set up: %(name)s", name=name))
