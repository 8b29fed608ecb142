"""What every part of the command line shares: error mapping, the runtime, option types and
the parsers of dates, datetimes and JSON files.

Messages are in the reader's language: ``PRODUZIR_LANG`` (``pt-BR`` or ``en``), else the
locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else pt-BR (:func:`out` renders a Text).

Exit codes: 0 ok; 1 unexpected or database not ready; 2 usage or invalid input; 3 not found;
4 not allowed (the lifecycle, a guard, or ``--by`` may not run the command); 5 conflict (someone
else changed the case); 6 delivery failed; 7 busy (the database stayed locked: try again).

Every command that takes ``--by`` is checked against :data:`console.policy.COMMANDS` before it
runs (:func:`console.policy.check_command`): the user must exist, be active, and have a role and
a territory that allow the command on the records it names. Every command runs with the origin
``cli`` and the operating-system user (:mod:`states.origin`), which the audit log records.
"""

from __future__ import annotations

import functools
import getpass
import importlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from typer._click.exceptions import UsageError
from typer.core import TyperCommand, TyperGroup

from states.errors import Busy, InvalidInput, ProduzirError
from states.origin import use_origin
from states.text import M_, N_, Text

if TYPE_CHECKING:
    from tasks.runtime import Runtime

BRASILIA = ZoneInfo("America/Sao_Paulo")


ROOT = "produzir"
_CHECKED_RUNTIME: ContextVar[Runtime | None] = ContextVar("produzir_cli_runtime", default=None)


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry
        return None


#: Typer's own words in its help screens (``typer.rich_utils``), in the catalogs: set in the
#: command line's language when a help screen is shown (:func:`_localised_help`).
TYPER_WORDS: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": M_("Arguments"),
    "OPTIONS_PANEL_TITLE": M_("Options"),
    "COMMANDS_PANEL_TITLE": M_("Commands"),
    "ERRORS_PANEL_TITLE": M_("Error"),
    "ABORTED_TEXT": M_("Aborted."),
    "DEFAULT_STRING": M_("[default: {}]"),
    "ENVVAR_STRING": M_("[env var: {}]"),
    "REQUIRED_LONG_STRING": M_("[required]"),
    "DEPRECATED_STRING": M_("(deprecated) "),
    "RICH_HELP": M_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
#: Click's help option and Typer's completion options, whose help Typer writes in English.
TYPER_HELP = (
    M_("Show this message and exit."),
    M_("Install completion for the current shell."),
    M_("Show completion for the current shell, to copy it or customize the installation."),
)
_ENGLISH = "_produzir_english"
#: help texts made from values (:func:`one_of`): the English text -> its text in a language
_MADE: dict[str, Callable[[str], str]] = {}


def one_of(values: Iterable[Any], sentence: str = M_("One of: %(values)s.")) -> str:
    """The help of an option that takes one of ``values`` (codes), "One of: a, b." (or
    ``sentence``, a msgid with ``%(values)s``), shown in the command line's language by
    :func:`localise`."""
    listed = ", ".join(str(v) for v in values)

    def made(language: str) -> str:
        from notifications.catalog import tr

        return tr(language, sentence) % {"values": listed}

    english = made("en")
    _MADE[english] = made
    return english


def localise(command: Any, ctx: Any = None) -> Any:
    """``command`` (a click command or group, or None) with its help and its parameters' help
    in the command line's language, from the catalogs (the English texts are the msgids:
    ``notifications.catalogs.extract_cli`` extracts them). A command or parameter whose help is
    made at run time gives it as ``produzir_help(language)``. The English is kept on each
    object, so the same process may later show another language (tests do)."""
    if command is None:
        return None
    from notifications.catalog import language_for_cli, tr

    language = language_for_cli()
    things: list[tuple[Any, tuple[str, ...]]] = [(command, ("help", "short_help", "epilog"))]
    things += [(p, ("help",)) for p in command.params]
    if ctx is not None and getattr(command, "add_help_option", False):
        option = command.get_help_option(ctx)
        if option is not None:
            things.append((option, ("help",)))
            if not getattr(option.callback, "_produzir_localised", False):
                option.callback = _localised_help(option.callback)
    for thing, attributes in things:
        english = thing.__dict__.setdefault(
            _ENGLISH, {a: getattr(thing, a, None) for a in attributes}
        )
        for attribute in attributes:
            text = english.get(attribute)
            if text:
                made_text = _MADE.get(text)
                setattr(thing, attribute, made_text(language) if made_text else tr(language, text))
        made = getattr(thing, "produzir_help", None)
        if made is not None:
            thing.help = made(language)
    return command


def _localised_help(callback: Callable[..., Any]) -> Callable[..., Any]:
    """The help option's callback, showing Typer's own words in the command line's language."""

    @functools.wraps(callback)
    def show(ctx: Any, param: Any, value: Any) -> Any:
        if value and not ctx.resilient_parsing:
            from typer import rich_utils

            from notifications.catalog import language_for_cli, tr

            language = language_for_cli()
            for name, english in TYPER_WORDS.items():
                setattr(rich_utils, name, tr(language, english))
        return callback(ctx, param, value)

    show._produzir_localised = True  # type: ignore[attr-defined]
    return show


class CommandGroup(TyperGroup):
    """Maps Produzir's errors to one line and an exit code, wherever they are raised; checks
    ``--by`` against the policy before a command runs; sets the origin ``cli``; shows its
    commands' help in the command line's language (:func:`localise`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        localise(self, ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        if ctx.parent is None:  # the outermost group: the whole command runs as "cli"
            with use_origin("cli", _os_user()):
                return self._invoke(ctx)
        return self._invoke(ctx)

    def _invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ProduzirError as exc:
            out(N_("error: %(message)s", message=exc.text), err=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            from states.db import is_busy

            if is_busy(exc):
                out(N_("error: %(message)s", message=Busy().text), err=True)
                raise typer.Exit(Busy.exit_code) from None
            orig = getattr(exc, "orig", None)
            first = str(orig).strip().splitlines()[0] if orig else str(exc)
            out(N_("error: database: %(detail)s", detail=first), err=True)
            raise typer.Exit(1) from None

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self.checked(cmd_name, localise(super().get_command(ctx, cmd_name), ctx))

    def checked(self, cmd_name: str, found: Any) -> Any:
        """``found`` (a command of this group, or None), its ``--by`` checked against the
        policy before it runs."""
        if (
            found is not None
            and not isinstance(found, TyperGroup)
            and found.callback is not None
            and not getattr(found.callback, "_policy_checked", False)
            and any(_is_actor(p) for p in found.params)
        ):
            name = cmd_name if self.name in (None, ROOT) else f"{self.name}.{cmd_name}"
            found.callback = _checked(name, found.callback)
        return found


@dataclass(frozen=True)
class Lazy:
    """A command of a :class:`LazyGroup`, imported only when it runs or its own help is asked:
    ``attribute`` of ``module`` (a ``typer.Typer``, for a group of commands, or the function
    of one command), and ``help``, the line the group's ``--help`` shows for it (the same as
    the command's own help: a test checks it)."""

    module: str
    attribute: str
    help: str


def load(name: str, entry: Lazy) -> Any:
    """The click command (or group) ``entry`` names, called ``name``."""
    found = getattr(importlib.import_module(entry.module), entry.attribute)
    if isinstance(found, typer.Typer):
        command: Any = typer.main.get_group(found)
    else:
        holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        holder.command(name)(found)
        command = typer.main.get_command(holder)
    command.name = name
    return command


class LazyGroup(CommandGroup):
    """A group whose commands are named in :attr:`lazy` and imported only when one is run (or
    its own help asked): the group's ``--help`` and shell completion list them by name with
    their help line, without importing them. Each is checked against the policy as every
    command of a :class:`CommandGroup` is."""

    #: the commands, in the order ``--help`` lists them
    lazy: Mapping[str, Lazy] = {}
    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.lazy, *(n for n in super().list_commands(ctx) if n not in self.lazy)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = self.lazy.get(cmd_name)
        if entry is not None and cmd_name not in self.commands:
            if self._listing:  # a stand-in, for the list: the name and the help line
                return localise(TyperCommand(cmd_name, help=entry.help))
            self.add_command(load(cmd_name, entry), cmd_name)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """As Typer's, the close names it suggests for a typo taken from every command (Typer
        looks only at those already imported)."""
        suggest, self.suggest_commands = self.suggest_commands, False
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if suggest and matches:
                names = ", ".join(f"{m!r}" for m in matches)
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {names}?"
            raise
        finally:
            self.suggest_commands = suggest

    @contextmanager
    def _names_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def format_help(self, ctx: Any, formatter: Any) -> None:
        with self._names_only():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        with self._names_only():
            return super().shell_complete(ctx, incomplete)


def _is_actor(param: Any) -> bool:
    """The ``--by USER`` option (:data:`By`), not another option named ``--by``."""
    return param.name == "by" and getattr(param, "envvar", None) == "PRODUZIR_USER"


def _checked(command: str, callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback``, run only when its ``--by`` may run ``command`` (else Refused, exit 4)."""

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from console.policy import check_command
        from tasks.runtime import Runtime

        rt = Runtime.open(check_migrated=True)
        with rt.db.read() as session:
            check_command(session, command, kwargs, lifecycle=rt.lifecycle)
        token = _CHECKED_RUNTIME.set(rt)  # the command uses the same runtime
        try:
            return callback(*args, **kwargs)
        finally:
            _CHECKED_RUNTIME.reset(token)

    run._policy_checked = True  # type: ignore[attr-defined]
    return run


def _is_database_error(exc: Exception) -> bool:
    """Whether ``exc`` is SQLAlchemy's OperationalError or ProgrammingError (looked up only
    once SQLAlchemy is loaded: a command that never opened the database raised neither)."""
    errors = sys.modules.get("sqlalchemy.exc")
    return errors is not None and isinstance(
        exc, (errors.OperationalError, errors.ProgrammingError)
    )


def lang() -> str:
    """The command line's language."""
    from notifications.i18n import language_for_cli

    return language_for_cli()


def out(text: Text | str, *, err: bool = False) -> None:
    """Print a sentence in the command line's language."""
    from notifications.i18n import language_for_cli, render

    typer.echo(render(text, language_for_cli()), err=err)


def command_group(help_text: str, name: str | None = None) -> typer.Typer:
    """A group of commands (``produzir <name> ...``) that checks each against the policy."""
    return typer.Typer(
        name=name,
        cls=CommandGroup,
        help=help_text,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )


By = Annotated[str, typer.Option("--by", envvar="PRODUZIR_USER", help="Who does it (user name).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ExpectVersion = Annotated[
    int | None,
    typer.Option("--expect-version", help="Refuse (exit 5) unless the case is at this version."),
]
CaseId = Annotated[int, typer.Argument(help="The case number.")]


def runtime(*, migrated: bool = True) -> Runtime:
    """The runtime from PRODUZIR_* settings; refuses a database that is not migrated. (A
    command checked against the policy gets the runtime the check used.)"""
    checked = _CHECKED_RUNTIME.get()
    if checked is not None:
        return checked
    from tasks.runtime import Runtime

    return Runtime.open(check_migrated=migrated)


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            N_("%(what)s: %(value)s is not a date (YYYY-MM-DD)", what=what, value=repr(value)),
            field=what,
        ) from None


def parse_instant(value: str, what: str) -> datetime:
    """A date (the end of that day, Brasília time) or an ISO datetime (Brasília if no offset)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1), time(), BRASILIA) - timedelta(
                microseconds=1
            )
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            N_(
                "%(what)s: %(value)s is not a date or an ISO datetime", what=what, value=repr(value)
            ),
            field=what,
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=BRASILIA)
    return instant.astimezone(UTC)


def read_json_file(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            N_(
                "%(what)s %(path)s: cannot be read (%(strerror)s)",
                what=what,
                path=path,
                strerror=exc.strerror,
            ),
            field=what,
        ) from None
    return parse_json_object(text, f"{what} {path}")


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            N_(
                "%(what)s: not valid JSON (line %(lineno)s, column %(colno)s: %(msg)s)",
                what=what,
                lineno=exc.lineno,
                colno=exc.colno,
                msg=exc.msg,
            ),
            field="evidence",
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        detail = str(exc).splitlines()[0]
        raise InvalidInput(
            N_("%(what)s: %(detail)s", what=what, detail=detail), field="evidence"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInput(N_("%(what)s: must be a JSON object", what=what), field="evidence")
    return value
