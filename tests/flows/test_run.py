"""``produzir run``: refuses bad settings before starting anything; starts a Prefect server and
the served flows, says where they are, and Ctrl-C stops everything it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from console import cli_run
from console.common import command_group
from flows.schedules import PLANS

ROOT = Path(__file__).resolve().parents[2]

# ``run`` as console/cli.py registers it, in a group of its own (the error mapping included).
app = command_group("produzir run, alone.")
app.command("run")(cli_run.run)


@app.callback()
def _group() -> None:
    """A group, so that ``run`` is invoked by name as in ``produzir run``."""


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "var"
    monkeypatch.setenv("PRODUZIR_DATA_DIR", str(folder))
    for name in ("PRODUZIR_DATABASE_URL", "PRODUZIR_MAILBOX_DIR", "PRODUZIR_NOTIFY_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PRODUZIR_SMTP_PORT", "abc"),
        ("PRODUZIR_NOTIFY_CHANNEL", "pigeon"),
        ("PRODUZIR_PREFECT_PORT", "http"),
        ("PRODUZIR_PREFECT_PORT", "70000"),
    ],
)
def test_invalid_settings_refuse_to_start_and_name_the_setting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["run", "--no-demo"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {variable}: ")
    assert not data_dir.exists()  # nothing migrated, nothing started


def test_a_port_already_taken_is_refused_with_the_setting_to_change(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("PRODUZIR_PREFECT_PORT", str(taken.getsockname()[1]))
        result = CliRunner().invoke(app, ["run", "--no-demo"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: PRODUZIR_PREFECT_PORT: port ")
    assert "in use" in result.stderr


STUBBORN = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_stop_terminates_in_reverse_order_and_kills_what_does_not_listen(tmp_path: Path) -> None:
    supervisor = cli_run.Supervisor(stop_timeout=1.0)
    polite = supervisor.start(
        "polite",
        [sys.executable, "-c", "import time; time.sleep(60)"],
        env=os.environ,
        log=tmp_path / "polite.log",
    )
    stubborn = supervisor.start(
        "stubborn", [sys.executable, "-c", STUBBORN], env=os.environ, log=tmp_path / "stubborn.log"
    )
    deadline = time.monotonic() + 10
    while not (tmp_path / "stubborn.log").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    grandchild = int((tmp_path / "stubborn.log").read_text().split()[0])
    assert supervisor.dead() is None

    codes = supervisor.stop()

    assert list(codes) == ["stubborn", "polite"]  # last started, first stopped
    assert codes == {"stubborn": None, "polite": -signal.SIGTERM}  # None: it had to be killed
    assert polite.process.poll() is not None
    assert stubborn.process.poll() is not None
    time.sleep(0.2)
    assert not alive(grandchild)  # what it started went with it
    assert supervisor.children == []


def test_waiting_for_a_server_that_dies_says_so_with_its_log(tmp_path: Path) -> None:
    supervisor = cli_run.Supervisor()
    child = supervisor.start(
        "Prefect server",
        [sys.executable, "-c", "import sys; print('address already in use'); sys.exit(3)"],
        env=os.environ,
        log=tmp_path / "server.log",
    )
    with pytest.raises(cli_run.ProduzirError, match="exited with 3") as raised:
        cli_run.wait_until_up(f"http://127.0.0.1:{free_port()}/api/health", child, timeout=30)
    assert "address already in use" in str(raised.value)
    supervisor.stop()


def start_run(data_dir: Path, *, stderr: int) -> tuple[subprocess.Popen[str], int, int]:
    """``produzir run --no-demo`` in a process of its own, on free ports; (it, Prefect's port,
    the web console's port)."""
    port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "PRODUZIR_DATA_DIR": str(data_dir),
        "PRODUZIR_PREFECT_PORT": str(port),
        "PRODUZIR_WEB_PORT": str(web_port),
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30",
    }
    script = "import sys; from tests.flows.test_run import app; app(['run', '--no-demo'])"
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    return process, port, web_port


def test_run_starts_the_server_and_the_flows_and_ctrl_c_stops_them(
    data_dir: Path, tmp_path: Path
) -> None:
    process, port, web_port = start_run(data_dir, stderr=subprocess.STDOUT)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C stops everything"):
                break
        banner = "".join(lines)
        assert f"Prefect UI:   http://127.0.0.1:{port}" in banner, banner
        assert f"web console:  http://127.0.0.1:{web_port}" in banner, banner
        assert answers(f"http://127.0.0.1:{web_port}/login") == 200
        assert f"mailbox:      {data_dir / 'mailbox'}" in banner
        # a development signing key, and the log as it is signed in a first checkpoint
        assert "(development)" in banner
        assert f"appended to {data_dir / 'audit' / 'checkpoints.jsonl'}" in banner
        signed = json.loads((data_dir / "audit" / "checkpoints.jsonl").read_text().splitlines()[0])
        assert signed["kind"] == "produzir-checkpoint/v1"
        api = f"http://127.0.0.1:{port}/api"
        deployments = served(api)
        assert sorted(deployments) == [
            "audit-checkpoint/every-five-minutes",
            "bulk-advance-shard/bulk-shard",
            "bulk-advance/on-demand",
            "dispatch-notifications-shard/dispatch-shard",
            "dispatch-notifications/every-minute",
            "send-digests/hourly",
            "sweep-deadlines-shard/sweep-shard",
            "sweep-deadlines/daily",
        ]
        assert (data_dir / "prefect" / "prefect.db").is_file()  # Prefect's own, in the data dir
        assert (data_dir / "produzir.db").is_file()
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(lines) + rest
    assert "stopped: web console (" in rest
    assert "flow server (" in rest
    assert "Prefect server (" in rest
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))  # nobody listens any more
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", web_port))


def answers(url: str) -> int:
    """The status of a GET, once the server listens (it starts beside the flows)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                return int(response.status)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def served(api: str) -> list[str]:
    """The deployments the API knows, as flow/deployment names, once every plan is there."""
    deadline = time.monotonic() + 60
    names: list[str] = []
    while time.monotonic() < deadline:
        request = urllib.request.Request(  # noqa: S310
            f"{api}/deployments/filter",
            data=b"{}",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            found = json.load(answer)
        flows = {}
        if found:
            request = urllib.request.Request(  # noqa: S310
                f"{api}/flows/filter", data=b"{}", headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                flows = {f["id"]: f["name"] for f in json.load(answer)}
        names = sorted(f"{flows[d['flow_id']]}/{d['name']}" for d in found)
        if len(names) >= len(PLANS):
            return names
        time.sleep(0.5)
    return names


@pytest.mark.parametrize("how", ["closed pipe", "SIGHUP", "SIGTERM"])
def test_run_stops_its_children_when_the_pipe_closes_or_on_a_signal(
    data_dir: Path, how: str
) -> None:
    process, port, web_port = start_run(data_dir, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Ctrl-C stops everything"):
                break
        assert answers(f"http://127.0.0.1:{web_port}/login") == 200
        if how == "closed pipe":  # `make run | tee log`, and tee is gone
            process.stdout.close()
        else:
            process.send_signal(signal.SIGHUP if how == "SIGHUP" else signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (listening(port) or listening(web_port)):
            time.sleep(0.2)
        assert not listening(port), f"the Prefect server still listens after {how}"
        assert not listening(web_port), f"the web console still listens after {how}"
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None and not process.stdout.closed:
            process.stdout.close()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
