"""``produzir demo``: a realistic demo portfolio, built through the same operations as real
work, and (``--simulate-days``) days of the running system played under a moving clock."""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import runtime
from console.output import echo, table


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
    from demo import DEMO_PASSWORD, DEMO_USERS, load_demo

    rt = runtime()
    # the staff receive reminders; everyone below can log in to the web console
    loaded = load_demo(rt, cases=cases, seed=seed, if_empty=if_empty or bool(simulate_days))
    report = loaded.report
    if report is None:
        echo(f"demo skipped: the database already has {loaded.existing} cases")
    else:
        echo(
            f"demo loaded: {report.cases} cases, {report.people} people, "
            f"{sum(report.training_events.values())} training events, "
            f"{report.enterprises} enterprises, "
            f"{report.events} audit events, {len(report.coordinators)} coordinators; "
            f"clock at {report.final_date}"
        )
    echo("web console users (all with the same demo password):")
    for user in DEMO_USERS:
        territories = ", ".join(user.get("territories", ())) or "all UFs"
        echo(f"  {user['username']:<14} {user['role']:<12} {territories}")
    echo("  (and the demo's own staff, e.g. ana.souza, coordinator of CE)")
    echo(f"  password: {DEMO_PASSWORD}")
    if simulate_days:
        from demo.simulate import simulate

        result = simulate(rt, days=simulate_days)
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
        echo(
            f"{result.sent} messages sent over {simulate_days} days"
            + (f" in {result.mailbox}" if result.mailbox else "")
        )
