"""``produzir lifecycle``: the lifecycle definition (its states, deadlines and events, the
diagram, the README's table) and the migration of cases to another version of it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, lang, out, runtime
from console.output import as_json, echo, table
from states.states import LABELS_PT, State
from states.text import N_, Np_

app = command_group("The lifecycle definition.", "lifecycle")


@app.command("diagram")
def lifecycle_diagram(
    language: Annotated[
        str,
        typer.Option("--lang", help="pt-BR or en (default: the command line's language)."),
    ] = "",
) -> None:
    """Print the lifecycle as a Mermaid flowchart (the picture of the web console's
    /lifecycle page), its states and events by their labels."""
    from notifications.i18n import normalise, tr
    from states import diagram

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


@app.command("show")
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
    out(N_("lifecycle version %(version)s", version=lc.version))
    echo("")
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
        echo("")
        out(N_("%(event)s (%(label)s)", event=e["event"], label=e["label"]))
        out(N_("  from:     %(states)s", states=", ".join(e["from"])))
        out(N_("  to:       %(states)s", states=", ".join(e["to"])))
        out(N_("  evidence: %(fields)s", fields=", ".join(e["evidence"]) or "-"))
        command = "produzir " + str(e["command"])
        out(N_("  command:  %(command)s", command=command))


@app.command("migrate")
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
    from notifications.i18n import render
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


@app.command("table")
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
