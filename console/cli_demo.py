"""``produzir demo``: a realistic demo portfolio, built through the same operations as real
work, and (``--simulate-days``) days of the running system played under a moving clock."""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import lang, out, runtime
from console.output import echo, table
from console.progress import progress_bar
from notifications.catalog import tr
from states.text import N_, Np_


def demo(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only when the database has no cases.")
    ] = False,
    cases: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    seed: Annotated[int, typer.Option()] = 2026,
    simulate_days: Annotated[
        int,
        typer.Option(
            "--simulate-days",
            min=0,
            max=366,
            help="Then play N days of the running system under a moving clock (sweep 06:00, "
            "digests and dispatch 09:00, Brasília): reminders and escalations appear in the "
            "mailbox. On a database with cases, continues after its last day.",
        ),
    ] = 0,
) -> None:
    """Load a realistic demo portfolio, built through the same operations as real work."""
    from demo import DEMO_PASSWORD, load_demo

    rt = runtime()
    # the staff receive reminders; everyone below can log in to the web console
    with progress_bar(N_("loading the demo portfolio"), N_("steps")) as update:
        loaded = load_demo(
            rt,
            cases=cases,
            seed=seed,
            if_empty=if_empty or bool(simulate_days),
            progress=update,
        )
    report = loaded.report
    if report is None:
        out(
            Np_(
                "demo skipped: the database already has %(n)s case",
                "demo skipped: the database already has %(n)s cases",
                loaded.existing,
            )
        )
    else:
        out(
            N_(
                "demo loaded: %(cases)s cases, %(people)s people, %(training_events)s training "
                "events, %(enterprises)s enterprises, %(events)s audit events, %(coordinators)s "
                "coordinators; clock at %(final_date)s",
                cases=report.cases,
                people=report.people,
                training_events=sum(report.training_events.values()),
                enterprises=report.enterprises,
                events=report.events,
                coordinators=len(report.coordinators),
                final_date=report.final_date,
            )
        )
    out(N_("web console users (all with the same demo password):"))
    echo(demo_user_lines())
    out(N_("  (and the demo's own staff, e.g. ana.souza, coordinator of CE)"))
    out(N_("  password: %(password)s", password=DEMO_PASSWORD))
    if simulate_days:
        from demo.simulate import simulate

        with progress_bar(N_("simulating the days"), N_("days")) as update:
            result = simulate(rt, days=simulate_days, progress=update)
        echo(
            table(
                result.rows(),
                [
                    ("day", "day"),
                    ("weekday", ""),
                    ("queued", "queued"),
                    ("transitions", "transitions"),
                    ("reminders", "reminders"),
                    ("escalations", "escalations"),
                    ("digests", "digests"),
                    ("other", "other"),
                    ("failed", "failed"),
                ],
            )
        )
        out(
            N_(
                "%(sent)s messages sent over %(days)s days in %(mailbox)s",
                sent=result.sent,
                days=simulate_days,
                mailbox=str(result.mailbox),
            )
            if result.mailbox
            else N_(
                "%(sent)s messages sent over %(days)s days", sent=result.sent, days=simulate_days
            )
        )


def demo_user_lines() -> str:
    """The demo's web console users, one line each: name, role, territories (``produzir
    demo`` and ``produzir run`` print them)."""
    from demo import DEMO_USERS

    everywhere = tr(lang(), "all UFs")
    lines = []
    for user in DEMO_USERS:
        territories = ", ".join(user.get("territories", ())) or everywhere
        lines.append(f"  {user['username']:<14} {user['role']:<12} {territories}")
    return "\n".join(lines)
