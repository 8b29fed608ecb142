"""The ``produzir`` command line.

Exit codes: 0 ok; 1 unexpected or database not ready; 2 usage or invalid input; 3 not found;
4 not allowed by the lifecycle or a guard; 5 conflict (someone else changed the case).
Errors are one line on standard error, ``error: ...``; no tracebacks for user errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

import migrations
from console import (
    cli_audit,
    cli_calendar,
    cli_deploy,
    cli_enterprise,
    cli_event,
    cli_indicators,
    cli_notify,
    cli_person,
    cli_run,
    cli_user,
    cli_web,
)
from console.cli_case import CaseGroup, done
from console.common import (
    By,
    CaseId,
    ExpectVersion,
    Json,
    lang,
    out,
    parse_instant,
    parse_json_object,
    read_json_file,
    runtime,
)
from console.common import command_group as _app
from console.output import as_csv, as_json, echo, fields, table
from notifications.i18n import normalise, render, tr
from states import diagram, queries
from states.errors import InvalidInput
from states.states import LABELS_PT, State
from states.text import N_, Np_
from tasks import cases as ops
from tasks.demands import DemandInput, register_demand

app = _app("Produzir: the PRODUZIR case engine (see README.md).", "produzir")
db_app = _app("The database: migrations.", "db")
demand_app = _app("Community demands.", "demand")
case_app = typer.Typer(
    name="case",
    cls=CaseGroup,
    help="Cases: list, show, advance, and one command per side step of the lifecycle.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
lifecycle_app = _app("The lifecycle definition.", "lifecycle")
app.add_typer(db_app, name="db")
app.add_typer(demand_app, name="demand")
app.add_typer(case_app, name="case")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(lifecycle_app, name="lifecycle")
app.add_typer(cli_person.app, name="person")
app.add_typer(cli_event.app, name="event")
app.add_typer(cli_enterprise.enterprise_app, name="enterprise")
app.add_typer(cli_enterprise.visit_app, name="visit")
app.add_typer(cli_enterprise.protocol_app, name="protocol")
app.add_typer(cli_enterprise.obligation_app, name="obligation")
app.command("indicators")(cli_indicators.indicators)
app.add_typer(cli_user.app, name="user")
app.add_typer(cli_calendar.app, name="calendar")
app.add_typer(__import__("console.cli_territory").cli_territory.app, name="territory")
app.add_typer(cli_notify.app, name="notify")
app.add_typer(cli_deploy.app, name="deploy")
app.command("sweep")(cli_notify.sweep)
app.command("web")(cli_web.web)
app.command("run")(cli_run.run)


# ---------------------------------------------------------------------------------- db


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the newest schema (loads the IBGE municipalities)."""
    rt = runtime(migrated=False)
    migrations.upgrade(rt.db.engine)
    echo(f"database at revision {migrations.current_revision(rt.db.engine)} ({rt.db.dialect})")


# ---------------------------------------------------------------------------------- demand


@demand_app.command("register")
def demand_register(
    by: By,
    municipality: Annotated[
        int | None, typer.Option(help="IBGE code of the municipality (7 digits).")
    ] = None,
    community: Annotated[str | None, typer.Option(help="The community.")] = None,
    forum: Annotated[str | None, typer.Option(help="The development forum.")] = None,
    forum_date: Annotated[
        str | None, typer.Option(help="When the forum was held (YYYY-MM-DD).")
    ] = None,
    activity: Annotated[str | None, typer.Option(help="The productive activity.")] = None,
    proponent: Annotated[str | None, typer.Option(help="The proponent organisation.")] = None,
    cnpj: Annotated[str | None, typer.Option(help="The proponent's CNPJ.")] = None,
    description: Annotated[str | None, typer.Option(help="What the community asks.")] = None,
    coordinator: Annotated[str | None, typer.Option(help="Coordinator to assign.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="The demand as a JSON object instead.")
    ] = None,
    as_json_: Json = False,
) -> None:
    """Register a community's demand: a new case in `registrada`."""
    raw: dict[str, Any] = read_json_file(file, "demand file") if file else {}
    given = {
        "municipality_code": municipality,
        "community": community,
        "forum": forum,
        "forum_held_on": forum_date,
        "activity": activity,
        "proponent": proponent,
        "proponent_cnpj": cnpj,
        "description": description,
        "coordinator": coordinator,
    }
    raw.update({k: v for k, v in given.items() if v is not None})
    demand = DemandInput.parse(raw)
    rt = runtime()
    result = register_demand(rt, demand, actor=by)
    if as_json_:
        echo(as_json(result.__dict__))
    else:
        echo(f"case {result.case_id} registered: {result.state}, due {result.due_on}")


# ---------------------------------------------------------------------------------- case


@case_app.command("list")
def case_list(
    state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
    municipality: Annotated[str | None, typer.Option(help="IBGE code or part of the name.")] = None,
    uf: Annotated[str | None, typer.Option(help="Only this UF (e.g. CE).")] = None,
    coordinator: Annotated[str | None, typer.Option(help="Only this coordinator's.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past due.")] = False,
    search: Annotated[
        str | None, typer.Option(help="Community or municipality name contains.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json_: Json = False,
) -> None:
    """List cases, most overdue first."""
    f = queries.CaseFilter(
        state=state,
        municipality=municipality,
        uf=uf,
        coordinator=coordinator,
        overdue=overdue,
        search=search,
    )
    rt = runtime()
    today = rt.today()
    with rt.db.read() as session:
        rows = queries.list_cases(session, f, today=today, limit=limit, offset=offset)
        total = queries.count_cases(session, f, today=today)
    if as_json_:
        echo(as_json({"total": total, "limit": limit, "offset": offset, "cases": rows}))
        return
    echo(
        table(
            rows,
            [
                ("id", "case"),
                ("state", "state"),
                ("municipality", "municipality"),
                ("uf", "UF"),
                ("community", "community"),
                ("coordinator", "coordinator"),
                ("due_on", "due"),
                ("days_late", "late"),
            ],
        )
    )
    echo(f"{len(rows)} of {total} cases")


@case_app.command("summary")
def case_summary(as_json_: Json = False) -> None:
    """Cases per state, with how many are overdue."""
    rt = runtime()
    with rt.db.read() as session:
        rows = queries.summary(session, today=rt.today())
    if as_json_:
        echo(as_json(rows))
        return
    for row in rows:
        row["label"] = LABELS_PT[State(row["state"])]
    echo(
        table(rows, [("state", "state"), ("label", ""), ("cases", "cases"), ("overdue", "overdue")])
    )
    echo(f"{sum(r['cases'] for r in rows)} cases in all")


@case_app.command("show")
def case_show(
    case_id: CaseId,
    at: Annotated[
        str | None,
        typer.Option(help="Show the case as it was then: a date or an ISO datetime."),
    ] = None,
    as_json_: Json = False,
) -> None:
    """One case now, or as it was at a past moment (rebuilt from its events)."""
    rt = runtime()
    with rt.db.read() as session:
        if at is not None:
            record = queries.case_at(session, case_id, parse_instant(at, "--at"))
        else:
            record = queries.case_detail(session, case_id, today=rt.today())
            lifecycle = rt.lifecycle_for(record["lifecycle_version"])  # the case's own version
            record["allowed_events"] = lifecycle.allowed_events(record["state"])
    echo(as_json(record) if as_json_ else fields(record))


@case_app.command("events")
def case_events(case_id: CaseId, as_json_: Json = False) -> None:
    """The events the case's current state accepts, and the evidence each needs."""
    rt = runtime()
    with rt.db.read() as session:
        record = queries.case_detail(session, case_id, today=rt.today())
    lifecycle = rt.lifecycle_for(record["lifecycle_version"])  # the case's own version
    specs = [lifecycle.spec(name) for name in lifecycle.allowed_events(record["state"])]
    rows = [
        {
            "event": spec.name,
            "label": spec.label_pt,
            "evidence": ", ".join(spec.evidence.model_fields) or "-",
        }
        for spec in specs
    ]
    if as_json_:
        echo(
            as_json(
                {
                    "case": case_id,
                    "state": record["state"],
                    "version": record["version"],
                    "events": rows,
                }
            )
        )
    else:
        echo(table(rows, [("event", "event"), ("label", ""), ("evidence", "evidence fields")]))


@case_app.command("advance")
def case_advance(
    case_id: CaseId,
    event: Annotated[str, typer.Argument(help="The event (see `produzir lifecycle show`).")],
    by: By,
    evidence_file: Annotated[
        Path | None, typer.Option("--evidence-file", help="The evidence as a JSON object.")
    ] = None,
    evidence: Annotated[
        str | None, typer.Option("--evidence", help="The evidence as inline JSON.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note for the history.")] = None,
    expect_version: ExpectVersion = None,
) -> None:
    """Fire an event on the case with the evidence its guard needs."""
    if evidence_file is not None and evidence is not None:
        raise InvalidInput(N_("give --evidence-file or --evidence, not both"), field="evidence")
    raw: dict[str, Any] = {}
    if evidence_file is not None:
        raw = read_json_file(evidence_file, "evidence file")
    elif evidence is not None:
        raw = parse_json_object(evidence, "--evidence")
    rt = runtime()
    done(ops.advance(rt, case_id, event, raw, actor=by, note=note, expect_version=expect_version))


HISTORY_COLUMNS = (
    "seq",
    "occurred_at",
    "event",
    "from_state",
    "to_state",
    "actor",
    "note",
    "evidence",
    "changes",
    "case_version",
    "lifecycle_version",
    "channel",
    "leaf_index",
)


@case_app.command("history")
def case_history(
    case_id: CaseId,
    as_json_: Json = False,
    as_csv_: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """The case's complete history: who did what, when, why, with which evidence."""
    if as_json_ and as_csv_:
        raise InvalidInput(N_("give --json or --csv, not both"))
    rt = runtime()
    with rt.db.read() as session:
        events = queries.history(session, case_id)
    if as_json_:
        echo(as_json(events))
    elif as_csv_:
        sys.stdout.write(as_csv(events, HISTORY_COLUMNS))
    else:
        for e in events:
            e["move"] = (
                f"{e['from_state'] or '-'} -> {e['to_state']}"
                if e["from_state"] != e["to_state"]
                else e["to_state"]
            )
        echo(
            table(
                events,
                [
                    ("seq", "seq"),
                    ("occurred_at", "when (UTC)"),
                    ("event", "event"),
                    ("move", "state"),
                    ("actor", "by"),
                    ("note", "note"),
                ],
            )
        )


# ---------------------------------------------------------------------------------- lifecycle


@lifecycle_app.command("diagram")
def lifecycle_diagram(
    language: Annotated[
        str,
        typer.Option("--lang", help="pt-BR or en (default: the command line's language)."),
    ] = "",
) -> None:
    """Print the lifecycle as a Mermaid flowchart (the picture of the web console's
    /lifecycle page), its states and events by their labels."""
    chosen = normalise(language) if language else lang()
    lc = runtime(migrated=False).lifecycle
    echo(
        diagram.mermaid(
            lc.events,
            chosen,
            translate=lambda m: tr(chosen, m),
            version=lc.version,
            states=lc.states,
        )
    )


@lifecycle_app.command("show")
def lifecycle_show(as_json_: Json = False) -> None:
    """The states with their deadlines, and the events with their evidence."""
    lc = runtime(migrated=False).lifecycle
    events: list[dict[str, Any]] = [
        {
            "event": e.name,
            "label": e.label_pt,
            "from": list(e.sources),
            "to": sorted({d for _, d in e.moves if d} | set(e.returns_to)) or ["(stays)"],
            "evidence": list(e.evidence.model_fields),
            "command": f"case {e.command}" if e.command else f"case advance ID {e.name}",
            "sweep": e.sweep,
        }
        for e in lc.events
    ]
    deadlines = {
        state: rule.model_dump(exclude_defaults=True) for state, rule in lc.config.deadlines.items()
    }
    if as_json_:
        echo(
            as_json(
                {
                    "version": lc.version,
                    "deadlines": deadlines,
                    "thresholds": lc.config.thresholds.model_dump(),
                    "events": events,
                }
            )
        )
        return
    echo(f"lifecycle version {lc.version}\n")
    echo(
        table(
            [
                {
                    "state": s.value,
                    "label": LABELS_PT[s],
                    "deadline": _rule_text(deadlines.get(s.value)),
                }
                for s in State
            ],
            [("state", "state"), ("label", ""), ("deadline", "deadline")],
        )
    )
    for e in events:
        echo(f"\n{e['event']} ({e['label']})")
        echo(f"  from:     {', '.join(e['from'])}")
        echo(f"  to:       {', '.join(e['to'])}")
        echo(f"  evidence: {', '.join(e['evidence']) or '-'}")
        echo(f"  command:  produzir {e['command']}")


@lifecycle_app.command("migrate")
def lifecycle_migrate(
    to: Annotated[str, typer.Option("--to", help="The version to move the cases to.")],
    by: By,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="old_state=new_state, for a state the target has under another name or not "
            "at all (repeat for several).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would happen; change nothing.")
    ] = False,
    as_json_: Json = False,
) -> None:
    """Move every case under another lifecycle version to VERSION: the state it lands in, its
    new deadline, the guards that would now refuse; cases that cannot move stay (listed)."""
    from tasks import lifecycle_migration as lm

    rt = runtime()
    pairs = lm.parse_mapping(mapping or [], rt.lifecycle_for(to))
    result = lm.plan(rt, to, pairs) if dry_run else lm.migrate(rt, to, pairs, actor=by)
    language = lang()
    rows: list[dict[str, Any]] = [
        {
            "case": p.case_id,
            "from_version": p.from_version,
            "from_state": p.from_state,
            "to_state": p.to_state,
            "due_on": p.due_on.isoformat() if p.due_on else None,
            "previous_state": p.previous_state,
            "would_refuse": [
                {"event": event, "reason": render(reason, language)}
                for event, reason in p.would_refuse
            ],
            "cannot_move": render(p.problem, language) if p.problem else None,
            "seq": p.seq,
        }
        for p in result.cases
    ]
    if as_json_:
        echo(as_json({"to_version": to, "dry_run": dry_run, "map": pairs, "cases": rows}))
        return
    for row in rows:
        row["move"] = f"{row['from_state']} -> {row['to_state'] or '(stays)'}"
        row["note"] = row["cannot_move"] or "; ".join(
            render(N_("%(event)s would refuse: %(reason)s", **w), language)
            for w in row["would_refuse"]
        )
    echo(
        table(
            rows,
            [
                ("case", "case"),
                ("from_version", "from"),
                ("move", "state"),
                ("due_on", "due"),
                ("note", "cannot move / would refuse now"),
            ],
        )
    )
    moved, refused = len(result.moved), len(result.refused)
    if dry_run:
        summary = Np_(
            "%(n)s case would move to %(version)s",
            "%(n)s cases would move to %(version)s",
            moved,
            version=to,
        )
    else:
        summary = Np_(
            "%(n)s case moved to %(version)s", "%(n)s cases moved to %(version)s", moved, version=to
        )
    stays = Np_(
        "%(n)s case cannot move and stays as it is",
        "%(n)s cases cannot move and stay as they are",
        refused,
    )
    echo("")
    out(summary)
    out(stays)


@lifecycle_app.command("table")
def lifecycle_table() -> None:
    """Print the README's lifecycle table (Markdown), made from the event declarations."""
    echo(runtime(migrated=False).lifecycle.markdown_table().rstrip("\n"))


def _rule_text(rule: dict[str, Any] | None) -> str:
    if not rule:
        return "-"
    unit = "working days" if rule.get("kind") == "working" else "days"
    text = f"{rule['days']} {unit}" if "days" in rule else f"{rule['months']} months"
    if rule.get("max_extensions"):
        text += f", extendable {rule['max_extensions']}x by {rule['extension_days']} days"
    return text


# ---------------------------------------------------------------------------------- demo


@app.command("demo")
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


def main() -> None:
    """Entry point of the ``produzir`` script."""
    app()
