"""The ``produzir`` command line.

Exit codes: 0 ok; 1 unexpected or database not ready; 2 usage or invalid input; 3 not found;
4 not allowed by the lifecycle or a guard; 5 conflict (someone else changed the case).
Errors are one line on standard error, ``error: ...``; no tracebacks for user errors.

Every command and group is named in :data:`COMMANDS` with the module that holds it, and that
module is imported only when the command runs or its own help is asked (:class:`LazyGroup`):
``produzir --help`` imports no command, ``produzir case show`` only the case commands, and
Prefect, FastAPI and Jinja2 are imported only by the commands that use them. A new group is a
module with a ``typer.Typer`` made by :func:`console.common.command_group`, and one line here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import Lazy, LazyGroup

#: Every command of ``produzir``, in the order ``produzir --help`` lists them: its module, the
#: ``typer.Typer`` (a group) or the function (a command) in it, and its help line.
COMMANDS: dict[str, Lazy] = {
    "indicators": Lazy(
        "console.cli_indicators",
        "indicators",
        "The programme's indicators: demands by state, people trained and certified, "
        "enterprises\nformed / legalised / active at their last visit, members, monthly income; "
        "with\n--timeliness, the time per stage and the deadlines met and missed; with --outcomes, the\n"
        "outcomes of the participants' surveys.",
    ),
    "sweep": Lazy(
        "console.cli_notify",
        "sweep",
        "Queue the reminders and escalations due now, and fire time-driven transitions.",
    ),
    "web": Lazy(
        "console.cli_web",
        "web",
        "Serve the web console and the JSON API (/api/v1; schema at /api/v1/openapi.json).",
    ),
    "run": Lazy(
        "console.cli_run",
        "run",
        "Run the system: a local Prefect server, the flows on their schedules, the web "
        "console,\nthe mailbox.",
    ),
    "demo": Lazy(
        "console.cli_demo",
        "demo",
        "Load a realistic demo portfolio, built through the same operations as real work.",
    ),
    "db": Lazy("console.cli_db", "app", "The database: migrations."),
    "demand": Lazy("console.cli_demand", "app", "Community demands."),
    "case": Lazy(
        "console.cli_case",
        "app",
        "Cases: list, show, advance, and one command per side step of the lifecycle.",
    ),
    "audit": Lazy(
        "console.cli_audit",
        "app",
        "The audit log: verify it, sign checkpoints, prove a case's history, keys.",
    ),
    "lifecycle": Lazy("console.cli_lifecycle", "app", "The lifecycle definition."),
    "person": Lazy(
        "console.cli_person",
        "app",
        "Participants: register, read (logged), report, import and export (pseudonymised).",
    ),
    "survey": Lazy(
        "console.cli_survey",
        "app",
        "Participants' surveys at entry, the ECC's end, 6 and 12 months: record, import, list.",
    ),
    "lgpd": Lazy(
        "console.cli_lgpd",
        "app",
        "LGPD registers: data subjects' requests and security incidents (administrators).",
    ),
    "event": Lazy("console.cli_event", "app", "Training events: ECC, Oficina de Gestão, ECM."),
    "enterprise": Lazy(
        "console.cli_enterprise",
        "enterprise_app",
        "Enterprises: members, legal form, business plan, legalisation steps.",
    ),
    "visit": Lazy("console.cli_enterprise", "visit_app", "Follow-up visits."),
    "protocol": Lazy(
        "console.cli_enterprise",
        "protocol_app",
        "A case's follow-up: its hub's CLAI and Protocol, its visits, the next visit due.",
    ),
    "hub": Lazy(
        "console.cli_hub",
        "hub_app",
        "Hubs (polos): their cases, CLAI (members, meetings) and Protocol of Integrated Actions.",
    ),
    "partner": Lazy(
        "console.cli_hub",
        "partner_app",
        "The register of partner institutions, and the public policies enterprises reached.",
    ),
    "obligation": Lazy(
        "console.cli_enterprise",
        "obligation_app",
        "Dated obligations: registry filings, corrections, visits, commitments.",
    ),
    "staff": Lazy(
        "console.cli_staff",
        "app",
        "Staff and multipliers: the roster of instructors and ECM trainees.",
    ),
    "user": Lazy(
        "console.cli_user",
        "app",
        "Staff users: coordinators, supervisors, managers, auditors, administrators.",
    ),
    "calendar": Lazy(
        "console.cli_calendar",
        "app",
        "Working-day calendar: national, state and municipal holidays.",
    ),
    "territory": Lazy(
        "console.cli_territory",
        "app",
        "Territory: PNDR typologies, priority areas and regional modules.",
    ),
    "notify": Lazy(
        "console.cli_notify",
        "app",
        "Notifications: the outbox, its dispatch, the daily digests, template previews.",
    ),
    "deploy": Lazy(
        "console.cli_deploy", "app", "Deploying on workers: check this machine's settings."
    ),
}


class Produzir(LazyGroup):
    """``produzir``: the commands of :data:`COMMANDS`."""

    lazy = COMMANDS


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"produzir {version('produzir')}")
        raise typer.Exit()


app = typer.Typer(
    name="produzir",
    cls=Produzir,
    help="Produzir: the PRODUZIR case engine (see README.md).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def produzir(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    pass


def main() -> None:
    """Entry point of the ``produzir`` script."""
    app()
