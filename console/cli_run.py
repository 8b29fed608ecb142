"""``produzir run``: the running system on the embedded default, stopped with Ctrl-C.

It migrates the database, loads the demo portfolio when the database is empty (with its staff
users, so that reminders have someone to go to) and sweeps once, in a process of its own
(``produzir run --prepare-only``, so that the supervisor does not keep the load's memory), then
starts these and watches them:

1. a local Prefect server (``prefect server start``) with its own SQLite database under the
   project's data folder (``PREFECT_HOME = <PRODUZIR_DATA_DIR>/prefect``), on
   ``PRODUZIR_PREFECT_HOST``:``PRODUZIR_PREFECT_PORT`` (default 127.0.0.1:4200);
2. once its API answers, the flows served on their schedules (``python -m flows.serve``) with
   ``PREFECT_API_URL`` pointing at it: the daily deadline sweep, the dispatch every minute to the
   local mailbox (or SMTP, per the notification settings), the hourly digests; one flow run at
   a time (``PREFECT_RUNNER_PROCESS_LIMIT``, default :data:`FLOW_RUN_LIMIT`: each run is a
   process of its own, and at start the schedules fire several at once);
3. the web console (``produzir web``), started beside the server (it needs no Prefect), so it
   answers while the server is still starting.

It prints where the Prefect UI, the mailbox and the logs are. Ctrl-C (SIGINT), SIGTERM, SIGHUP
(the terminal closed) or a closed standard output (``make run | tee log`` whose reader ended)
stops what it started, in order (the web console, the flows, then the server): each child runs
in a process group of its own and gets SIGTERM, then SIGKILL if it has not stopped within
:data:`STOP_TIMEOUT` seconds, then its whole group gets SIGKILL (the flow runs it started). The
children are stopped before anything more is printed, and printing to a closed pipe is not an
error. If any process dies, the others are stopped and the command exits with 1.

Invalid settings refuse to start (exit 2, naming the variable) before anything is started:
the notification settings (:func:`notifications.settings.load_settings`) and the two above.
Nothing points outside the data folder unless a setting says so; the parent process imports no
Prefect. Registered in console/cli.py as the ``run`` command.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from console.common import out, runtime
from console.output import echo
from console.progress import fraction, progress_bar
from console.web.settings import load_web_settings
from notifications.settings import load_settings
from states.errors import InvalidInput, ProduzirError
from states.settings import PREFIX, StatesSettings, load
from states.text import M_, N_, Np_, Text, join

if TYPE_CHECKING:  # the supervisor imports no database code: only --prepare-only needs it
    from tasks.runtime import Runtime

#: Seconds a child has to stop after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT = 15.0
#: Seconds the Prefect server has to answer its health check.
START_TIMEOUT = 120.0
#: Flow runs the served flows run at once (``PREFECT_RUNNER_PROCESS_LIMIT``, unless set).
FLOW_RUN_LIMIT = 1


class RunSettings(BaseSettings):
    """Where the local Prefect server listens."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    prefect_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Address the local Prefect server (API and UI) listens on "
        "(PRODUZIR_PREFECT_HOST).",
    )
    prefect_port: int = Field(
        default=4200,
        ge=1,
        le=65535,
        description="Port of the local Prefect server (PRODUZIR_PREFECT_PORT).",
    )


def load_run_settings() -> RunSettings:
    """The settings, or InvalidInput naming the variable (:func:`states.settings.load`)."""
    return load(RunSettings)


# ------------------------------------------------------------------------------ processes


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Supervisor:
    """The processes ``run`` started, stopped in the reverse order (SIGTERM, then SIGKILL)."""

    stop_timeout: float = STOP_TIMEOUT
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, argv: list[str], *, env: Mapping[str, str], log: Path) -> Child:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
                argv,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def stop_first(self, child: Child) -> None:
        """Stop ``child`` before the others, whenever it was started."""
        self.children.remove(child)
        self.children.append(child)

    def dead(self) -> Child | None:
        """A child that exited, if any."""
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop(self) -> dict[str, int | None]:
        """Stop every child, last started first; each one's exit code (None: killed)."""
        codes: dict[str, int | None] = {}
        for child in reversed(self.children):
            codes[child.name] = _stop(child.process, self.stop_timeout)
        self.children.clear()
        return codes


def _stop(process: subprocess.Popen[bytes], timeout: float) -> int | None:
    """SIGTERM to the child, SIGKILL after ``timeout``; then SIGKILL to whatever it left
    behind in its process group (flow runs it started); its exit code, None if killed."""
    code: int | None
    if process.poll() is not None:
        code = process.returncode
    else:
        process.terminate()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = None
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # its own group (start_new_session)
    return code


def wait_until_up(url: str, child: Child, *, timeout: float = START_TIMEOUT) -> None:
    """Return once ``url`` answers 200; ProduzirError if the child dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise ProduzirError(
                N_(
                    "the %(name)s exited with %(returncode)s before it answered: see %(log)s\n%(value)s",
                    name=child.name,
                    returncode=child.process.returncode,
                    log=child.log,
                    value=_tail(child.log),
                )
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310  (http://host)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise ProduzirError(
        N_(
            "the %(name)s did not answer %(url)s within %(timeout)s s: see %(log)s",
            name=child.name,
            url=url,
            timeout=format(timeout, ".0f"),
            log=child.log,
        )
    )


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def say(text: Text | str) -> None:
    """Print ``text`` in the reader's language; a closed standard output (the pipe's reader
    gone) is not an error."""
    with contextlib.suppress(BrokenPipeError, OSError, ValueError):
        out(text)


def stdout_closed() -> bool:
    """Whether standard output is a pipe (or socket) whose reader has gone away."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return False  # not a real file (a test runner's capture): nothing to watch
    poller = select.poll()
    poller.register(fd, 0)  # only errors and hang-ups are reported
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


class _Stop:
    """SIGINT / SIGTERM / SIGHUP turned into a flag the main loop reads."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {}

    def __enter__(self) -> _Stop:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum


# ------------------------------------------------------------------------------ the command


def _environment(home: Path, data_dir: Path, api_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PRODUZIR_DATA_DIR=str(data_dir),  # absolute: flow runs may start in another folder
    )
    # one flow run at a time (each is a process of some 150 MB; at start the schedules fire
    # several at once); a limit of one's own in the environment wins
    env.setdefault("PREFECT_RUNNER_PROCESS_LIMIT", str(FLOW_RUN_LIMIT))
    mailbox = env.get("PRODUZIR_MAILBOX_DIR")
    if mailbox:
        env["PRODUZIR_MAILBOX_DIR"] = str(Path(mailbox).resolve())
    return env


def _prepare(demo: bool, cases: int) -> None:
    """Migrate; load the demo portfolio when the database has no case."""
    import migrations

    rt = runtime(migrated=False)
    migrations.upgrade(rt.db.engine)
    say(
        N_(
            "database at revision %(revision)s (%(dialect)s)",
            revision=migrations.current_revision(rt.db.engine),
            dialect=rt.db.dialect,
        )
    )
    # a development signing key for the audit log's checkpoints, in the data folder
    from tasks import audit_log

    made = audit_log.ensure_key(rt)
    if made is not None:
        say(
            N_(
                "audit signing key %(key)s created at %(file)s (development)",
                key=made.key_id,
                file=str(rt.settings.key_file()),
            )
        )
    if demo:
        _load_demo(rt, cases)
    signed = audit_log.backstop(rt, force=True).published
    if signed is not None:
        say(
            Np_(
                "audit checkpoint: %(n)s entry signed, appended to %(file)s",
                "audit checkpoint: %(n)s entries signed, appended to %(file)s",
                signed.checkpoint.tree_size,
                file=str(signed.file),
            )
        )


def _prepare_apart(demo: bool, cases: int) -> None:
    """:func:`_prepare` in a process of its own (``produzir run --prepare-only``), on this
    terminal: the memory the demo load takes is given back when it ends, instead of staying
    with the supervisor for as long as the system runs. Its exit code, when not 0, is ours."""
    argv = [str(Path(sys.executable).parent / "produzir"), "run", "--prepare-only"]
    argv += ["--demo" if demo else "--no-demo", "--cases", str(cases)]
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
    done = subprocess.run(argv, check=False)  # noqa: S603  (our own command)
    if done.returncode:
        raise typer.Exit(done.returncode)


def _load_demo(rt: Runtime, cases: int) -> None:
    """The demo portfolio when the database has no case, its staff, and a first sweep."""
    from console.cli_demo import demo_user_lines
    from demo import DEMO_PASSWORD, load_demo

    def building() -> None:
        say(
            Np_(
                "loading the demo portfolio (%(n)s case; about a minute)...",
                "loading the demo portfolio (%(n)s cases; about a minute)...",
                cases,
            )
        )

    # on an empty database; then someone to remind (its coordinators, supervisors, manager)
    # and to log in
    with progress_bar(N_("loading the demo portfolio"), N_("steps")) as update:
        report = load_demo(rt, cases=cases, building=building, progress=update).report
    if report is not None:
        say(
            N_(
                "demo loaded: %(cases)s cases, %(events)s audit events",
                cases=report.cases,
                events=report.events,
            )
        )
    say(N_("web console users (password: %(password)s):", password=DEMO_PASSWORD))
    echo(demo_user_lines())
    say(N_("  and the demo's staff, e.g. ana.souza (coordinator of CE)"))
    # a first sweep now (the schedule's next one is at 06:00): the dispatcher, every minute,
    # then fills the mailbox with what is due and late today; sweeps are idempotent
    from tasks.sweep import sweep_deadlines

    with progress_bar(N_("sweeping the deadlines")) as update:
        swept = sweep_deadlines(rt, on_batch=fraction(update))
    say(
        Np_(
            "first sweep: %(n)s reminder or escalation queued",
            "first sweep: %(n)s reminders and escalations queued",
            swept.reminders_queued,
        )
    )
    rt.db.dispose()


def run(
    demo: Annotated[
        bool,
        typer.Option("--demo/--no-demo", help="Load the demo portfolio into an empty database."),
    ] = True,
    cases: Annotated[int, typer.Option(min=1, max=100_000, help="Demo cases.")] = 200,
    prepare_only: Annotated[
        bool,
        typer.Option(
            "--prepare-only",
            hidden=True,
            help="Only migrate, load the demo and sweep, then exit (what run does first, in a "
            "process of its own).",
        ),
    ] = False,
) -> None:
    """Run the system: a local Prefect server, the flows on their schedules, the web console,
    the mailbox."""
    if prepare_only:
        _prepare(demo, cases)
        return
    notify = load_settings()  # invalid settings: exit 2, naming the variable
    where = load_run_settings()
    if port_in_use(where.prefect_host, where.prefect_port):
        raise InvalidInput(
            N_(
                "PRODUZIR_PREFECT_PORT: port %(port)s on %(host)s is in use (another Prefect server?); choose a free one",
                port=where.prefect_port,
                host=where.prefect_host,
            ),
            field="PRODUZIR_PREFECT_PORT",
        )
    web = load_web_settings()  # invalid settings: exit 2, naming the variable
    if port_in_use(web.web_host, web.web_port):
        raise InvalidInput(
            N_(
                "PRODUZIR_WEB_PORT: port %(web_port)s on %(web_host)s is in use; choose a free one",
                web_port=web.web_port,
                web_host=web.web_host,
            ),
            field="PRODUZIR_WEB_PORT",
        )
    data_dir = load(StatesSettings).data_dir.resolve()
    home = data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    _prepare_apart(demo, cases)

    url = f"http://{_url_host(where.prefect_host)}:{where.prefect_port}"
    env = _environment(home, data_dir, f"{url}/api")
    mailbox = (
        notify.resolved_mailbox_dir().resolve() if notify.notify_channel == "mailbox" else None
    )
    supervisor = Supervisor()
    code = 0
    with _Stop() as stop:
        try:
            server = supervisor.start(
                M_("Prefect server"),
                [
                    sys.executable,
                    "-m",
                    "prefect",
                    "server",
                    "start",
                    "--host",
                    where.prefect_host,
                    "--port",
                    str(where.prefect_port),
                ],
                env=env,
                log=home / "server.log",
            )
            say(
                N_(
                    "starting the Prefect server on %(url)s (log: %(log)s)...",
                    url=url,
                    log=str(server.log),
                )
            )
            # the web console needs no Prefect: it starts while the server does
            console = supervisor.start(
                M_("web console"),
                [str(Path(sys.executable).parent / "produzir"), "web"],
                env=env,
                log=home / "web.log",
            )
            wait_until_up(f"{url}/api/health", server)
            flows = supervisor.start(
                M_("flow server"),
                [sys.executable, "-m", "flows.serve"],
                env=env,
                log=home / "flows.log",
            )
            supervisor.stop_first(console)  # people's door closes first
            console_url = f"http://{_url_host(web.web_host)}:{web.web_port}"
            _banner(
                url, console_url, mailbox, notify.notify_channel, server.log, flows.log, console.log
            )
            while stop.signal is None and not stdout_closed():
                dead = supervisor.dead()
                if dead is not None:
                    say(
                        N_(
                            "the %(process)s exited with %(code)s: see %(log)s\n%(tail)s",
                            process=N_(dead.name),
                            code=str(dead.process.returncode),
                            log=str(dead.log),
                            tail=_tail(dead.log),
                        )
                    )
                    code = 1
                    break
                time.sleep(0.5)
        finally:
            # stop first: a print to a dead pipe must never leave the children running
            codes = supervisor.stop()
    if codes:
        stopped = [
            N_("%(process)s (%(how)s)", process=N_(name), how=_how(c)) for name, c in codes.items()
        ]
        say(N_("stopped: %(processes)s", processes=join(stopped)))
    if code:
        raise typer.Exit(code)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):  # noqa: S104  (listening everywhere; browse locally)
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _how(code: int | None) -> Text:
    return N_("killed") if code is None else N_("exit %(code)s", code=str(code))


def _banner(url: str, console: str, mailbox: Path | None, channel: str, *logs: Path) -> None:
    lines: list[Text | str] = [
        "",
        N_("Produzir is running."),
        N_("  web console:  %(url)s  (the users above)", url=console),
        N_("  Prefect UI:   %(url)s  (flow runs, their summaries under Artifacts)", url=url),
    ]
    if mailbox is not None:
        lines.append(
            N_("  mailbox:      %(folder)s  (each message an .eml file)", folder=str(mailbox))
        )
    else:
        lines.append(N_("  messages go out by %(channel)s", channel=channel))
    lines += [
        N_("  schedules:    sweep daily 06:00 (Brasília), dispatch every minute, digests hourly"),
        N_("                (a sweep now: Deployments > sweep-deadlines/daily > Run, in the UI)"),
        N_("  logs:         %(files)s", files=", ".join(str(p) for p in logs)),
        N_("Ctrl-C stops everything."),
        "",
    ]
    for line in lines:
        say(line)
