"""The side steps of ``produzir case``, one command per declared event, made from its declaration.

An event that declares a ``command`` (:attr:`states.events.EventSpec.command`) gets
``produzir case <command> CASE_ID ... --by USER``: one option per field of its evidence model
(``--field-name``, or the name its ``cli`` hint gives; ``ARG`` makes it a positional argument;
``--name=VALUE`` gives a default, ``today`` for a date being the day the command runs), dates
checked as dates, ``--expect-version``, and ``--note`` where the evidence asks for nothing.
Every other event is fired with ``produzir case advance CASE_ID EVENT --evidence JSON``.

The commands come from the lifecycle the settings name (``PRODUZIR_LIFECYCLE_FILE``), so an
event added to a lifecycle's declarations appears here without touching this file.
"""

from __future__ import annotations

import inspect
import types
import typing
from datetime import date
from typing import Annotated, Any

import typer
from pydantic.fields import FieldInfo

from console.common import By, CaseId, ExpectVersion, parse_date, runtime
from console.common import CommandGroup as _Group
from console.output import echo
from states.events import EventSpec
from states.lifecycle import Lifecycle, load_lifecycle
from states.settings import StatesSettings, load
from tasks import cases as ops

#: evidence field kinds a command-line option takes as text (others: ``case advance --evidence``)
_SIMPLE = (str, int, float, bool, date)


def settings_lifecycle() -> Lifecycle:
    """The lifecycle of the settings (its declarations), without opening the database."""
    return load_lifecycle(load(StatesSettings).lifecycle_file)


def done(result: ops.Transition) -> None:
    """What a change did, in one line."""
    moved = (
        f"{result.from_state} -> {result.to_state}"
        if result.from_state != result.to_state
        else f"stays {result.to_state}"
    )
    due = f", due {result.due_on}" if result.due_on else ""
    echo(f"case {result.case_id}: {result.event}: {moved} (version {result.version}{due})")


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


def _describe(name: str, info: FieldInfo) -> str:
    base = _base(info.annotation)
    if typing.get_origin(base) is typing.Literal:
        return f"{name}: one of {', '.join(str(v) for v in typing.get_args(base))}."
    if base is date:
        return f"{name} (YYYY-MM-DD)."
    return info.description or f"{name}."


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
    for name, info in fields.items():
        hint = spec.cli.get(name, "")
        flag, _, default_text = hint.partition("=")
        help_text = _describe(name, info)
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
            help_text += " Default: today."
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
    command.__doc__ = f"{spec.label_en} ({spec.name}, «{spec.label_pt}»)." + (
        f" The guard checks: {spec.summary}." if spec.summary else ""
    )
    holder = typer.Typer(add_completion=False)
    holder.command(spec.command)(command)
    made = typer.main.get_command(holder)
    made.name = spec.command
    return made


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
        return self.checked(cmd_name, event_command(spec)) if spec is not None else None
