"""``produzir case``: list, summary, show, events, advance, history, and the side steps of the
lifecycle, one command per declared event, made from its declaration.

An event that declares a ``command`` (:attr:`states.events.EventSpec.command`) gets
``produzir case <command> CASE_ID ... --by USER``: one option per field of its evidence model
(``--field-name``, or the name its ``cli`` hint gives; ``ARG`` makes it a positional argument;
``--name=VALUE`` gives a default, ``today`` for a date being the day the command runs), dates
checked as dates, ``--expect-version``, and ``--note`` where the evidence asks for nothing.
Every other event is fired with ``produzir case advance CASE_ID EVENT --evidence JSON``.

The commands come from the lifecycle the settings name (``PRODUZIR_LIFECYCLE_FILE``), so an
event added to a lifecycle's declarations appears here without touching this file. The read
commands (``list``, ``show``) import no more than they read with: the write path
(:mod:`tasks.cases`) is imported by the commands that change a case.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from console.common import (
    By,
    CaseId,
    ExpectVersion,
    Json,
    localise,
    out,
    parse_date,
    parse_instant,
    parse_json_object,
    read_json_file,
    runtime,
)
from console.common import CommandGroup as _Group
from console.output import as_csv, as_json, echo, fields, table
from states import queries
from states.errors import InvalidInput
from states.states import LABELS_PT, State
from states.text import N_, Np_

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

    from states.events import EventSpec
    from states.lifecycle import Lifecycle
    from tasks import cases as ops

#: evidence field kinds a command-line option takes as text (others: ``case advance --evidence``)
_SIMPLE = (str, int, float, bool, date)


def settings_lifecycle() -> Lifecycle:
    """The lifecycle of the settings (its declarations), without opening the database."""
    from states.lifecycle import load_lifecycle
    from states.settings import StatesSettings, load

    return load_lifecycle(load(StatesSettings).lifecycle_file)


def done(result: ops.Transition) -> None:
    """What a change did, in one line."""
    params = {
        "case_id": result.case_id,
        "event": result.event,
        "from_state": result.from_state,
        "to_state": result.to_state,
        "version": result.version,
        "due_on": result.due_on,
    }
    if result.from_state != result.to_state:
        text = (
            N_(
                "case %(case_id)s: %(event)s: %(from_state)s -> %(to_state)s (version %(version)s, "
                "due %(due_on)s)",
                **params,
            )
            if result.due_on
            else N_(
                "case %(case_id)s: %(event)s: %(from_state)s -> %(to_state)s (version %(version)s)",
                **params,
            )
        )
    else:
        text = (
            N_(
                "case %(case_id)s: %(event)s: stays %(to_state)s (version %(version)s, due "
                "%(due_on)s)",
                **params,
            )
            if result.due_on
            else N_(
                "case %(case_id)s: %(event)s: stays %(to_state)s (version %(version)s)", **params
            )
        )
    out(text)


def _base(annotation: Any) -> Any:
    """``date`` for ``date | None``; the annotation itself otherwise."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _simple(info: FieldInfo) -> bool:
    base = _base(info.annotation)
    if typing.get_origin(base) is typing.Literal:
        return True
    return isinstance(base, type) and issubclass(base, _SIMPLE)


def _describe(name: str, info: FieldInfo, language: str, *, today: bool = False) -> str:
    """The help of the option of evidence field ``name``, in ``language``."""
    from notifications.catalog import tr

    base = _base(info.annotation)
    if typing.get_origin(base) is typing.Literal:
        values = ", ".join(str(v) for v in typing.get_args(base))
        text = tr(language, "%(field)s: one of %(values)s.") % {"field": name, "values": values}
    elif base is date:
        text = tr(language, "%(field)s (YYYY-MM-DD).") % {"field": name}
    else:
        text = tr(language, info.description) if info.description else f"{name}."
    if today:
        text += " " + tr(language, "Default: today.")
    return text


def event_command(spec: EventSpec) -> Any:
    """The ``produzir case <command>`` of one declared event (a click command, made by Typer)."""
    assert spec.command is not None
    params: list[inspect.Parameter] = [
        inspect.Parameter("case_id", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=CaseId)
    ]
    options: list[inspect.Parameter] = []
    dates: dict[str, str] = {}  # evidence field -> its option, parsed as a date
    today: set[str] = set()  # date fields that default to the day the command runs
    fields = {n: f for n, f in spec.evidence.model_fields.items() if _simple(f)}
    helps: dict[str, Any] = {}  # evidence field -> its help in a language
    for name, info in fields.items():
        hint = spec.cli.get(name, "")
        flag, _, default_text = hint.partition("=")
        helps[name] = functools.partial(_describe, name, info, today=default_text == "today")
        help_text = helps[name]("en")
        default: Any = inspect.Parameter.empty
        if flag == "ARG":
            annotation: Any = Annotated[str, typer.Argument(help=help_text, show_default=False)]
            params.append(
                inspect.Parameter(
                    name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation
                )
            )
            continue
        flag = flag or "--" + name.replace("_", "-")
        if default_text == "today":
            today.add(name)
        if default_text and default_text != "today":
            default = default_text
        elif default_text == "today" or not info.is_required():
            default = None
        kind = str if default is inspect.Parameter.empty or default_text else str | None
        if _base(info.annotation) is date:
            dates[name] = flag
        options.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[kind, typer.Option(flag, help=help_text)],
                default=default,
            )
        )
    params.append(inspect.Parameter("by", inspect.Parameter.KEYWORD_ONLY, annotation=By))
    params.extend(options)
    takes_note = not any(f.is_required() for f in spec.evidence.model_fields.values())
    if takes_note:
        note_option = Annotated[str | None, typer.Option(help="A note for the history.")]
        params.append(
            inspect.Parameter(
                "note", inspect.Parameter.KEYWORD_ONLY, annotation=note_option, default=None
            )
        )
    params.append(
        inspect.Parameter(
            "expect_version", inspect.Parameter.KEYWORD_ONLY, annotation=ExpectVersion, default=None
        )
    )

    def command(**given: Any) -> None:
        from tasks import cases as ops

        rt = runtime()
        evidence: dict[str, Any] = {}
        for name in fields:
            value = given.get(name)
            if value is None and name in today:
                value = rt.today()
            elif value is not None and name in dates:
                value = parse_date(value, dates[name])
            if value is not None:
                evidence[name] = value
        done(
            ops.advance(
                rt,
                given["case_id"],
                spec.name,
                evidence,
                actor=given["by"],
                note=given.get("note"),
                expect_version=given.get("expect_version"),
            )
        )

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = command_doc(spec)
    holder = typer.Typer(add_completion=False)
    holder.command(spec.command)(command)
    made = typer.main.get_command(holder)
    made.name = spec.command
    made.produzir_help = functools.partial(_event_help, spec)  # type: ignore[attr-defined]
    for param in made.params:
        if param.name in helps:
            param.produzir_help = helps[param.name]  # type: ignore[attr-defined]
    return made


def _event_help(spec: EventSpec, language: str) -> str:
    """The help of an event's command, in ``language`` (:func:`console.common.localise`)."""
    from notifications.catalog import tr

    if language == "en":
        return str(command_doc(spec))
    text = tr(language, "%(label)s (%(event)s).") % {"label": spec.label_pt, "event": spec.name}
    if spec.summary:
        summary = settings_lifecycle().summary(spec, tr(language, spec.summary))
        text += " " + tr(language, "The guard checks: %(summary)s.") % {"summary": summary}
    return text


def command_doc(spec: EventSpec) -> str:
    """The English help of an event's command."""
    return f"{spec.label_en} ({spec.name}, «{spec.label_pt}»)." + (
        f" The guard checks: {settings_lifecycle().summary(spec)}." if spec.summary else ""
    )


class CaseGroup(_Group):
    """``produzir case``: its own commands, and one per event that declares a command."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = list(super().list_commands(ctx))
        names += [e.command for e in settings_lifecycle().events if e.command]
        return sorted(set(names))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return super().get_command(ctx, cmd_name)
        spec = settings_lifecycle().command(cmd_name)
        if spec is None:
            return None
        return self.checked(cmd_name, localise(event_command(spec), ctx))


app = typer.Typer(
    name="case",
    cls=CaseGroup,
    help="Cases: list, show, advance, and one command per side step of the lifecycle.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("list")
def case_list(
    state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
    municipality: Annotated[str | None, typer.Option(help="IBGE code or part of the name.")] = None,
    uf: Annotated[str | None, typer.Option(help="Only this UF (e.g. CE).")] = None,
    coordinator: Annotated[str | None, typer.Option(help="Only this coordinator's.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past due.")] = False,
    search: Annotated[
        str | None, typer.Option(help="Community or municipality name contains.")
    ] = None,
    module: Annotated[
        str | None, typer.Option(help="Only this regional module (see `produzir territory show`).")
    ] = None,
    area: Annotated[
        str | None,
        typer.Option(help="Only the cases in this priority area (its name, e.g. Semiárido)."),
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
        module=module,
        priority_area=area,
    )
    rt = runtime()
    today = rt.today()
    with rt.db.read() as session:
        if area is not None:
            _known_area(session, area)
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
    out(Np_("%(shown)s of %(n)s case", "%(shown)s of %(n)s cases", total, shown=len(rows)))


def _known_area(session: Any, name: str) -> None:
    """Refuse a priority area that was never imported, naming those that were."""
    from sqlalchemy import select

    from states.records import PriorityArea

    names = sorted(set(session.execute(select(PriorityArea.name)).scalars()))
    if name not in names:
        raise InvalidInput(
            N_(
                "unknown priority area %(area)s; the areas imported are: %(value)s",
                area=repr(name),
                value=", ".join(names) or "-",
            ),
            field="area",
        )


@app.command("summary")
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
    all_cases = sum(r["cases"] for r in rows)
    out(Np_("%(n)s case in all", "%(n)s cases in all", all_cases))


@app.command("show")
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


@app.command("events")
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


@app.command("advance")
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
    from tasks import cases as ops

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


@app.command("history")
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
