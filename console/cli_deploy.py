"""``produzir deploy check``: what is wrong with this worker's settings, one line each.

It checks, with the ``PRODUZIR_*`` and ``PREFECT_API_URL`` settings of the machine it runs on:
the database (reachable, migrated to the code's revision), the audit signing key (the file of
``PRODUZIR_AUDIT_KEY_FILE``), the SMTP server when the channel is ``smtp`` (a TCP connection
to it), and the Prefect API (its ``/health``). Every problem is one line on stdout; exit code 1
when there is one, 0 (and one "ok" line) when there is none. Nothing is written anywhere.

``produzir deploy automations`` (after ``prefect deploy --all``) creates the automations and
concurrency limits of :mod:`flows.operate` on the Prefect API.

The sentences people read are in :data:`MESSAGES`, in one place, for the translation catalogs.
"""

from __future__ import annotations

import os
import socket
import urllib.request
from pathlib import Path

import typer
from sqlalchemy import create_engine, make_url, text

import migrations
from console.output import echo
from notifications.settings import load_settings
from states.errors import InvalidInput
from states.settings import StatesSettings

app = typer.Typer(help="Deploying on workers: check this machine's settings.")

#: What the check says (one line each), with their parameters.
MESSAGES = {
    "db_unreachable": "database unreachable ({url}): {error}",
    "db_not_migrated": "database not migrated: at {current}, the code needs {head} "
    "(produzir db upgrade)",
    "key_missing": "audit signing key missing: no file at {path} (PRODUZIR_AUDIT_KEY_FILE)",
    "notify_invalid": "notification settings invalid: {error}",
    "smtp_unreachable": "SMTP server unreachable ({host}:{port}): {error}",
    "prefect_unset": "Prefect API not set: PREFECT_API_URL is empty",
    "prefect_unreachable": "Prefect API unreachable ({url}): {error}",
    "no_file": "no such file",
    "set_up": "set up: {name}",
    "ok": "ok: database, signing key, notifications and Prefect API",
}
TIMEOUT = 5.0


def _error(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def check_database(settings: StatesSettings) -> list[str]:
    url = make_url(settings.resolved_database_url())
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        # connecting would create an empty file: say so instead
        return [MESSAGES["db_unreachable"].format(url=shown, error=MESSAGES["no_file"])]
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, head = migrations.current_revision(engine), migrations.head_revision()
    except Exception as exc:
        return [MESSAGES["db_unreachable"].format(url=shown, error=_error(exc))]
    finally:
        engine.dispose()
    if current != head:
        return [MESSAGES["db_not_migrated"].format(current=current or "none", head=head)]
    return []


def check_key(settings: StatesSettings) -> list[str]:
    path = settings.key_file()
    return [] if path.is_file() else [MESSAGES["key_missing"].format(path=path)]


def check_smtp() -> list[str]:
    try:
        notify = load_settings()
    except InvalidInput as exc:
        return [MESSAGES["notify_invalid"].format(error=exc)]
    if notify.channel != "smtp" or not notify.smtp_host:
        return []
    port = notify.resolved_smtp_port()
    try:
        socket.create_connection((notify.smtp_host, port), timeout=TIMEOUT).close()
    except OSError as exc:
        return [
            MESSAGES["smtp_unreachable"].format(host=notify.smtp_host, port=port, error=_error(exc))
        ]
    return []


def prefect_api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL", ""))


def check_prefect() -> list[str]:
    url = prefect_api_url().rstrip("/")
    if not url:
        return [MESSAGES["prefect_unset"]]
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=TIMEOUT) as answer:  # noqa: S310
            answer.read()
    except Exception as exc:
        return [MESSAGES["prefect_unreachable"].format(url=url, error=_error(exc))]
    return []


@app.command("check")
def check() -> None:
    """Say what is wrong with this machine's settings, one line each (exit 1 if anything)."""
    try:
        settings = StatesSettings()
    except ValueError as exc:
        echo(MESSAGES["db_unreachable"].format(url="-", error=_error(exc)))
        raise typer.Exit(1) from None
    problems = [
        *check_database(settings),
        *check_key(settings),
        *check_smtp(),
        *check_prefect(),
    ]
    for line in problems:
        echo(line)
    if problems:
        raise typer.Exit(1)
    echo(MESSAGES["ok"])


@app.command("automations")
def automations() -> None:
    """Create or replace, on the Prefect API, the automations and limits the deployments need."""
    from flows.operate import set_up

    for name in set_up():
        echo(MESSAGES["set_up"].format(name=name))
