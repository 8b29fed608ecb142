"""Produzir deployed for real on this machine: a Prefect server, a work pool, process workers.

What the scale tests (:mod:`tests.scale.test_scale`) and ``bench/scale.py`` share, so that the
benchmark measures exactly what the test proves:

- :func:`throwaway_database`: a PostgreSQL database of its own (created, then dropped with
  ``WITH (FORCE)``), optionally a copy of a template (``CREATE DATABASE ... TEMPLATE``);
- :func:`build_portfolio`: a migrated Produzir database with staff users and ``cases`` cases,
  all of them due or late on :data:`NOW` (the sweep queues reminders and escalations for each),
  one in a hundred a rejection whose appeal window closed (the sweep archives it: a time-driven
  transition, audited), written with bulk inserts;
- :class:`Stack`: ``prefect server start`` on a free port of 127.0.0.1 with its database on
  PostgreSQL, ``prefect work-pool create``, ``prefect --no-prompt deploy --all`` from the
  repository (the shipped ``prefect.yaml``), ``produzir deploy automations``, and process
  workers (``prefect worker start --pool produzir --limit 2``), each in a temporary folder of its
  own (not the repository: the flows are imported from the installed package), every process in
  a session of its own, all killed on :meth:`Stack.close` (also after a failure);
- :func:`sweep_with_a_kill`: a sharded sweep from its deployment, one worker and its flow-run
  processes killed with SIGKILL while a shard of theirs is half done, then waited for;
- readers of what the database holds afterwards (outbox keys, transitions, shard reports, the
  audit log's verification) and of what the Prefect API says (flow runs, their states, which
  worker submitted each: the worker's "Worker 'name' submitting flow run" log line).

Everything talks to 127.0.0.1 only. Nothing here is a test; the callers assert.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

import migrations
from flows.schedules import BULK, BULK_SHARD, SWEEP, SWEEP_SHARD
from notifications.models import OutboxMessage
from states.audit_verify import Verification
from states.clock import FixedClock
from states.config import load_config
from states.db import Database
from states.lifecycle import Lifecycle
from states.models import AuditEvent, Case, Municipality
from states.progress import BulkApplied, ShardProgress
from states.signing import Keyring, Signer
from tasks.runtime import Runtime
from tasks.sweep import sweep_deadlines
from tasks.users import add_user

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
POOL = "produzir"
BRASILIA = ZoneInfo("America/Sao_Paulo")
#: The sweep's instant: Thursday 2026-03-12, 06:00 in Brasília (the daily schedule).
NOW = datetime(2026, 3, 12, 6, 0, tzinfo=BRASILIA)
TODAY = NOW.date()
#: Flow runs send a heartbeat this often (seconds; Prefect's minimum) ...
HEARTBEAT = 30
#: ... and one that sent none for this long is marked crashed (``deploy automations --grace``).
GRACE = 45
OPEN_STATES = (
    "registrada",
    "em_analise",
    "polo_definido",
    "mobilizacao",
    "capacitacao",
    "gestao",
    "legalizacao",
    "avaliacao",
)
#: Final states here: a crashed run is not, the automation schedules it again.
FINAL = {"COMPLETED", "FAILED", "CANCELLED"}
NOTE = {"text": "Visita técnica realizada."}


class HarnessError(RuntimeError):
    """Something the harness started did not do what it should (the message says what)."""


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ------------------------------------------------------------------------------ databases


@contextlib.contextmanager
def throwaway_database(
    postgres_url: str, *, template: str | None = None, prefix: str = "scale", durable: bool = False
) -> Iterator[str]:
    """A new database on the server of ``postgres_url`` (a copy of ``template`` if given); its
    URL. Dropped at the end, whoever is still connected.

    Unless ``durable``, its commits do not wait for the disk (``synchronous_commit = off``: a
    commit is still atomic and visible at once; only a crash of the PostgreSQL server itself
    could lose the last ones). On this machine's disk a commit's flush costs tens of
    milliseconds, which would make the test's thousands of one-case transactions minutes."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    server = make_url(postgres_url)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
            if not durable:  # a worker dies in these tests, never the database server
                connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def asyncpg_url(url: str) -> str:
    """The same database for Prefect's server (its driver is asyncpg)."""
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def runtime_for(url: str) -> Runtime:
    return Runtime(Database(url), Lifecycle(load_config()), FixedClock(NOW))


def build_portfolio(
    url: str, cases: int, *, rejected_every: int = 100, seed: int = 2026
) -> dict[str, Any]:
    """Migrate ``url`` and fill it: staff per state (UF), then ``cases`` cases, all due; every
    ``rejected_every``-th one a rejection to archive (each transition is a transaction)."""
    started = time.perf_counter()
    rt = runtime_for(url)
    migrations.upgrade(rt.db.engine)
    with rt.db.read() as session:
        munis = session.execute(
            select(Municipality.ibge_code, Municipality.uf).order_by(Municipality.ibge_code)
        ).all()
    for uf in sorted({uf for _, uf in munis}):
        for name, role in (
            (f"coord.{uf.lower()}", "coordinator"),
            (f"superv.{uf.lower()}", "supervisor"),
        ):
            person = {
                "username": name,
                "name": name.replace(".", " ").title(),
                "email": f"{name}@produzir.example",
                "role": role,
                "territories": [uf],
                "delivery": "immediate",
            }
            add_user(rt, person, actor="admin")
    rng = random.Random(seed)
    stamp = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    rejected = 0
    for case_id in range(1, cases + 1):
        code, uf = munis[rng.randrange(len(munis))]
        row: dict[str, Any] = {
            "id": case_id,
            "version": 3,
            "lifecycle_version": rt.lifecycle.version,
            "municipality_code": code,
            "community": f"Comunidade {case_id}",
            "forum": f"Fórum territorial {case_id % 97}",
            "forum_held_on": date(2025, 5, 20),
            "activity": "apicultura",
            "proponent": f"Associação {case_id}",
            "coordinator": f"coord.{uf.lower()}",
            "registered_at": stamp,
            "registered_by": "scale",
            "extensions_used": 0,
            "updated_at": stamp,
            "updated_by": "scale",
        }
        if (
            case_id % rejected_every == 0
        ):  # rejected, the appeal window closed: the sweep archives it
            due = TODAY - timedelta(days=rng.randint(2, 10))
            row |= {"state": "indeferida", "rejected_on": due - timedelta(days=10)}
            rejected += 1
        else:  # late by up to 15 days, or due today: a reminder and escalations
            due = TODAY - timedelta(days=rng.randint(0, 15))
            row["state"] = OPEN_STATES[case_id % len(OPEN_STATES)]
        row |= {"entered_on": due - timedelta(days=60), "due_on": due}
        rows.append(row)
    with rt.db.write() as session:
        for i in range(0, len(rows), 5000):
            session.execute(insert(Case), rows[i : i + 5000])
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)"), {"n": cases}
        )
    with rt.db.engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    rt.db.dispose()
    return {
        "cases": cases,
        "rejected_to_archive": rejected,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


# ------------------------------------------------------------------------------ what the database says


def outbox_keys(url: str) -> list[str]:
    rt = runtime_for(url)
    try:
        with rt.db.read() as session:
            return list(session.execute(select(OutboxMessage.key)).scalars())
    finally:
        rt.db.dispose()


def system_transitions(url: str) -> Counter[tuple[int, str]]:
    """How often each (case, event) was fired by the sweep (actor ``system``)."""
    rt = runtime_for(url)
    try:
        with rt.db.read() as session:
            rows = session.execute(
                select(AuditEvent.case_id, AuditEvent.event, func.count())
                .where(AuditEvent.actor == "system", AuditEvent.case_id.is_not(None))
                .group_by(AuditEvent.case_id, AuditEvent.event)
            ).all()
        return Counter({(int(c), str(e)): int(n) for c, e, n in rows})
    finally:
        rt.db.dispose()


def events_per_case(url: str, event: str) -> Counter[int]:
    rt = runtime_for(url)
    try:
        with rt.db.read() as session:
            rows = session.execute(
                select(AuditEvent.case_id, func.count())
                .where(AuditEvent.event == event)
                .group_by(AuditEvent.case_id)
            ).all()
        return Counter({int(c): int(n) for c, n in rows})
    finally:
        rt.db.dispose()


def shard_rows(url: str) -> list[ShardProgress]:
    rt = runtime_for(url)
    try:
        with rt.db.read() as session:
            found = list(
                session.execute(
                    select(ShardProgress).order_by(ShardProgress.run_key, ShardProgress.shard)
                ).scalars()
            )
            session.expunge_all()
            return found
    finally:
        rt.db.dispose()


def applied(url: str) -> int:
    rt = runtime_for(url)
    try:
        with rt.db.read() as session:
            return int(session.execute(select(func.count()).select_from(BulkApplied)).scalar_one())
    finally:
        rt.db.dispose()


def verify_log(url: str, key_file: Path) -> Verification:
    """The whole audit log verified on one snapshot, against the trusted signing key."""
    from states import audit, audit_verify

    rt = runtime_for(url)
    try:
        with rt.db.write() as session:
            audit.integrate_all(session)
        keyring = Keyring.load(None, also=Signer.load(key_file))
        with rt.db.snapshot() as session:
            return audit_verify.verify(session, keyring)
    finally:
        rt.db.dispose()


def reference_sweep(url: str, batch_size: int) -> tuple[list[str], Counter[tuple[int, str]]]:
    """One sweep of ``url`` in this process, with no Prefect: its outbox keys and transitions."""
    rt = runtime_for(url)
    try:
        sweep_deadlines(rt, now=NOW, batch_size=batch_size)
    finally:
        rt.db.dispose()
    return outbox_keys(url), system_transitions(url)


# ------------------------------------------------------------------------------ processes


def _ppids() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        found[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (flow-run processes start sessions of their own)."""
    children: dict[int, list[int]] = {}
    for child, parent in _ppids().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> list[int]:
    """SIGKILL ``pid``, everything under it, and their process groups; the pids killed."""
    victims = [pid, *descendants(pid)]
    for victim in victims:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(victim, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    return victims


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.popen.poll() is None:
            kill_tree(self.popen.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)


@dataclass
class Stack:
    """A Prefect server, the deployments, and workers; :meth:`close` kills all it started."""

    base: Path
    produzir_url: str
    prefect_db_url: str
    port: int = field(default_factory=free_port)
    procs: dict[str, Proc] = field(default_factory=dict)
    http: httpx.Client | None = None

    def __post_init__(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.key_file = self.base / "audit" / "signing-key.pem"
        if not self.key_file.exists():
            Signer.generate(self.key_file)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    # -------------------------------------------------------------------------- processes

    def env(self, name: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRODUZIR_"))}
        home = self.base / f"home-{name}"
        home.mkdir(exist_ok=True)
        env |= {
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": self.api,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_CLI_COLORS": "false",
            "PRODUZIR_DATABASE_URL": self.produzir_url,
            "PRODUZIR_DATA_DIR": str(self.base / f"data-{name}"),
            "PRODUZIR_AUDIT_KEY_FILE": str(self.key_file),
            "PRODUZIR_NOTIFY_CHANNEL": "mailbox",
            "PRODUZIR_LANG": "en",
            "NO_COLOR": "1",
        }
        return env | extra

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str], cwd: Path) -> Proc:
        cwd.mkdir(parents=True, exist_ok=True)
        out = self.base / f"{name}.log"
        with out.open("ab") as sink:
            popen = subprocess.Popen(  # noqa: S603 - our own commands
                list(args),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, out)
        self.procs[name] = proc
        return proc

    def cli(self, *args: str, timeout: float = 600) -> str:
        """A command (``prefect ...``, ``produzir ...``) from the repository's folder."""
        done = subprocess.run(  # noqa: S603
            [str(BIN / args[0]), *args[1:]],
            cwd=ROOT,
            env=self.env("cli"),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(
                f"{' '.join(args)}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def start_server(self, timeout: float = 240) -> float:
        """The Prefect server, on PostgreSQL, without its scheduler (no run starts by itself)."""
        started = time.perf_counter()
        env = self.env(
            "server",
            PREFECT_SERVER_DATABASE_CONNECTION_URL=asyncpg_url(self.prefect_db_url),
            PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
            PREFECT_UI_ENABLED="false",
            PREFECT_SERVER_API_KEEPALIVE_TIMEOUT="60",
        )
        args = [
            str(BIN / "prefect"),
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        server = self.start("server", args, env, self.base / "cwd-server")
        self.http = httpx.Client(base_url=self.api, timeout=60)
        while time.perf_counter() - started < timeout:
            if server.popen.poll() is not None:
                raise HarnessError(f"the Prefect server exited:\n{server.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if self.http.get("/health").status_code == 200:
                    return time.perf_counter() - started
            time.sleep(1)
        raise HarnessError(f"the Prefect server did not answer in {timeout} s:\n{server.tail()}")

    def deploy(self) -> None:
        """What the README's operator does: the pool, ``deploy --all``, the automations."""
        self.cli("prefect", "work-pool", "create", POOL, "--type", "process")
        self.cli("prefect", "--no-prompt", "deploy", "--all")
        self.cli("produzir", "deploy", "automations", "--grace", str(GRACE))

    def start_worker(self, name: str, timeout: float = 120) -> Proc:
        """A process worker of the pool, bounded to two runs at once, in a folder of its own."""
        env = self.env(
            name,
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY=str(HEARTBEAT),
            PREFECT_WORKER_QUERY_SECONDS="2",
        )
        args = [
            str(BIN / "prefect"),
            "worker",
            "start",
            "--pool",
            POOL,
            "--limit",
            "2",
            "--name",
            name,
        ]
        worker = self.start(name, args, env, self.base / f"cwd-{name}")
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if worker.popen.poll() is not None:
                raise HarnessError(f"worker {name} exited:\n{worker.tail()}")
            if name in self.workers():
                return worker
            time.sleep(1)
        raise HarnessError(f"worker {name} did not register in {timeout} s:\n{worker.tail()}")

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()

    def kill(self, name: str) -> list[int]:
        """SIGKILL a worker and the flow-run processes it started; the pids."""
        proc = self.procs.pop(name)
        pids = kill_tree(proc.popen.pid)
        proc.popen.wait(timeout=10)
        return pids

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
        for name in [n for n in self.procs if n != "server"] + ["server"]:
            self.stop(name)

    # -------------------------------------------------------------------------- the API

    def _api(self) -> httpx.Client:
        assert self.http is not None, "start_server() first"
        return self.http

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        answer = self._api().post(path, json=dict(body))
        answer.raise_for_status()
        return answer.json()

    def workers(self) -> list[str]:
        return [w["name"] for w in self.post(f"/work_pools/{POOL}/workers/filter", {})]

    def deployment_id(self, full_name: str) -> str:
        answer = self._api().get(f"/deployments/name/{full_name}")
        answer.raise_for_status()
        return str(answer.json()["id"])

    def create_run(self, full_name: str, parameters: Mapping[str, Any]) -> str:
        made = self.post(
            f"/deployments/{self.deployment_id(full_name)}/create_flow_run",
            {"parameters": dict(parameters)},
        )
        return str(made["id"])

    def flow_run(self, run_id: str) -> dict[str, Any]:
        answer = self._api().get(f"/flow_runs/{run_id}")
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def flow_runs(self, full_name: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"limit": 200, "sort": "EXPECTED_START_TIME_ASC"}
        if full_name is not None:
            body["deployments"] = {"id": {"any_": [self.deployment_id(full_name)]}}
        found: list[dict[str, Any]] = self.post("/flow_runs/filter", body)
        return found

    def state_history(self, run_id: str) -> list[str]:
        answer = self._api().get("/flow_run_states/", params={"flow_run_id": run_id})
        answer.raise_for_status()
        states = sorted(answer.json(), key=lambda s: s["timestamp"])
        return [s["type"] for s in states]

    def submissions(self) -> dict[str, list[str]]:
        """Flow run id -> the workers that submitted it, in order (one per attempt started):
        the ``prefect.worker.submitted-flow-run`` events (a worker that lost the race for a
        run sends none)."""
        body: dict[str, Any] = {
            "filter": {
                "event": {"name": ["prefect.worker.submitted-flow-run"]},
                "occurred": {"since": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
                "order": "ASC",
            },
            "limit": 50,  # the most a page holds
        }
        page = self.post("/events/filter", body)
        events = list(page["events"])
        while page.get("next_page"):
            answer = self._api().get(page["next_page"])
            answer.raise_for_status()
            page = answer.json()
            events += page["events"]
        found: dict[str, list[str]] = {}
        for event in sorted(events, key=lambda e: e["occurred"]):
            worker = event["resource"]["prefect.resource.name"]
            for related in event["related"]:
                if related.get("prefect.resource.role") == "flow-run":
                    run_id = related["prefect.resource.id"].removeprefix("prefect.flow-run.")
                    found.setdefault(run_id, []).append(worker)
        return found

    def wait_final(self, run_ids: Sequence[str], timeout: float) -> dict[str, dict[str, Any]]:
        started = time.perf_counter()
        final: dict[str, dict[str, Any]] = {}
        while time.perf_counter() - started < timeout:
            for run_id in run_ids:
                if run_id not in final:
                    run = self.flow_run(run_id)
                    if run["state_type"] in FINAL:
                        final[run_id] = run
            if len(final) == len(run_ids):
                return final
            time.sleep(1)
        pending = {r: self.flow_run(r)["state_type"] for r in run_ids if r not in final}
        raise HarnessError(f"flow runs not final after {timeout} s: {pending}\n{self.tails()}")

    def wait_idle(self, timeout: float) -> list[dict[str, Any]]:
        """Until every flow run on the server is final (rescheduled ones included); them all."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            runs = self.flow_runs()
            if all(r["state_type"] in FINAL for r in runs):
                return runs
            time.sleep(2)
        busy = {
            r["name"]: r["state_type"] for r in self.flow_runs() if r["state_type"] not in FINAL
        }
        raise HarnessError(f"flow runs still busy after {timeout} s: {busy}\n{self.tails()}")

    def errors(self) -> str:
        """The error logs of every flow run (for a failed assertion's message)."""
        logs = self.post(
            "/logs/filter",
            {"logs": {"level": {"ge_": 40}}, "limit": 200, "sort": "TIMESTAMP_ASC"},
        )
        return "\n".join(f"{e['flow_run_id']}: {str(e['message'])[:2000]}" for e in logs)

    def tails(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.tail(15)}" for p in self.procs.values())


@contextlib.contextmanager
def stack(base: Path, produzir_url: str, prefect_db_url: str) -> Iterator[Stack]:
    """A :class:`Stack` whose processes are all killed at the end, however it ends."""
    made = Stack(base, produzir_url, prefect_db_url)
    try:
        yield made
    finally:
        made.close()


# ------------------------------------------------------------------------------ the scenarios


@dataclass
class SweepOutcome:
    """What a sweep from its deployment did, as the Prefect API and the database say."""

    parent: dict[str, Any]
    seconds: float
    #: shard flow runs, each with the workers that submitted it and its state history
    shards: list[dict[str, Any]]
    killed: str | None = None
    killed_runs: list[str] = field(default_factory=list)

    def shards_per_worker(self) -> dict[str, int]:
        """Shard runs per worker that started them (a rescheduled run counts for each)."""
        counted: Counter[str] = Counter()
        for run in self.shards:
            counted.update(run["workers"])
        return dict(sorted(counted.items()))


def _runs_on(stack: Stack, full_name: str) -> list[dict[str, Any]]:
    """The deployment's flow runs, each with the workers that ran it (``workers``)."""
    submitted = stack.submissions()
    runs = stack.flow_runs(full_name)
    for run in runs:
        run["workers"] = submitted.get(run["id"], [])
    return runs


def run_sweep(
    stack: Stack,
    *,
    shards: int,
    batch_size: int,
    kill: bool = False,
    timeout: float = 480,
) -> SweepOutcome:
    """A sweep as of :data:`NOW` from its deployment, waited for (and every run it caused).

    With ``kill``, once both workers run shards, a worker holding a shard that has committed a
    batch but not finished is SIGKILLed with its flow-run processes: preferably one that does
    not hold the sweep's parent run (else the parent dies too and its new attempt starts the
    unfinished shards again; both cases end the same way, the first sooner)."""
    before = {r["id"] for r in stack.flow_runs(SWEEP_SHARD.full_name)}
    started = time.perf_counter()
    parent = stack.create_run(
        SWEEP.full_name, {"now": NOW.isoformat(), "shards": shards, "batch_size": batch_size}
    )
    killed: tuple[str, list[str]] | None = None
    if kill:
        killed = _kill_mid_shard(stack, parent, before, started, timeout)
    [final] = stack.wait_final([parent], timeout - (time.perf_counter() - started)).values()
    seconds = time.perf_counter() - started
    stack.wait_idle(timeout)
    shard_runs = [r for r in _runs_on(stack, SWEEP_SHARD.full_name) if r["id"] not in before]
    for run in shard_runs:
        run["history"] = stack.state_history(run["id"])
    outcome = SweepOutcome(final, seconds, shard_runs)
    if killed is not None:
        outcome.killed, outcome.killed_runs = killed
    return outcome


def _kill_mid_shard(
    stack: Stack, parent: str, before: set[str], started: float, timeout: float
) -> tuple[str, list[str]]:
    while time.perf_counter() - started < timeout:
        if stack.flow_run(parent)["state_type"] in FINAL:
            raise HarnessError("the sweep finished before a shard could be killed half-way")
        submitted = stack.submissions()
        running = [
            r
            for r in stack.flow_runs(SWEEP_SHARD.full_name)
            if r["id"] not in before and r["state_type"] == "RUNNING"
        ]
        on = {r["id"]: submitted.get(r["id"], [])[-1:] for r in running}
        half = {
            int(p.shard)
            for p in shard_rows(stack.produzir_url)
            if p.run_key == parent and p.case_cursor > 0 and not p.finished
        }
        workers = {w[0] for w in on.values() if w}
        holding = {
            w[0] for r in running if r["parameters"]["shard"] in half for w in [on[r["id"]]] if w
        }
        if len(workers) == 2 and holding:
            parent_on = submitted.get(parent, [])[-1:]
            victim = sorted(holding - set(parent_on) or holding)[0]
            mine = [r for r in stack.flow_runs() if submitted.get(r["id"], [])[-1:] == [victim]]
            if any(r["state_type"] == "PENDING" for r in mine):
                # not while a run is being handed to its process: a run a dead worker leaves
                # Pending is nobody's (no heartbeat, no automation); an operator cancels it
                time.sleep(0.5)
                continue
            held = [r["id"] for r in mine if r["state_type"] == "RUNNING"]
            stack.kill(victim)
            log(f"killed {victim} and its flow runs {held}; half-done shards {sorted(half)}")
            return victim, held
        time.sleep(0.5)
    raise HarnessError(f"no half-done shard to kill within {timeout} s\n{stack.tails()}")


def run_bulk(stack: Stack, case_ids: list[int], *, shards: int) -> str:
    """A bulk ``anotar`` of ``case_ids`` from its deployment (the ``on-demand`` one); its id."""
    return stack.create_run(
        BULK.full_name,
        {
            "case_ids": case_ids,
            "event": "anotar",
            "evidence": NOTE,
            "actor": "sofia",
            "shards": shards,
        },
    )


def kill_running(stack: Stack) -> list[str]:
    """SIGKILL the process of every running flow run (its ``infrastructure_pid``, a child of
    its worker; the workers live on); the runs."""
    killed = []
    for run in stack.flow_runs():
        pid = str(run.get("infrastructure_pid") or "").rsplit(":", 1)[-1]
        if run["state_type"] == "RUNNING" and pid.isdigit():
            kill_tree(int(pid))
            killed.append(str(run["id"]))
    return killed


def bulk_shard_runs(stack: Stack) -> list[dict[str, Any]]:
    return _runs_on(stack, BULK_SHARD.full_name)
