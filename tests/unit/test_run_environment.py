"""What ``produzir run`` gives the processes it starts: one flow run at a time unless the
environment says otherwise (issue 14: each flow run is a process of its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli_run import FLOW_RUN_LIMIT, _environment


def test_the_served_flows_run_one_at_a_time_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_RUNNER_PROCESS_LIMIT", raising=False)
    env = _environment(tmp_path / "prefect", tmp_path, "http://127.0.0.1:4200/api")
    assert env["PREFECT_RUNNER_PROCESS_LIMIT"] == str(FLOW_RUN_LIMIT) == "1"
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4200/api"
    monkeypatch.setenv("PREFECT_RUNNER_PROCESS_LIMIT", "4")
    env = _environment(tmp_path / "prefect", tmp_path, "http://127.0.0.1:4200/api")
    assert env["PREFECT_RUNNER_PROCESS_LIMIT"] == "4"
