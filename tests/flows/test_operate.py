"""The automations and limits ``produzir deploy automations`` sets up on the Prefect API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from typer.testing import CliRunner

from console.cli import app
from flows.operate import LIMITED_SHARDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.usefixtures("prefect")
def test_the_automations_and_shard_limits_are_set_up_once_however_often_it_runs() -> None:
    for _ in range(2):
        result = CliRunner().invoke(app, ["deploy", "automations"])
        assert result.exit_code == 0, result.stdout
    assert "set up: produzir-sweep-shard-0" in result.stdout
    with get_client(sync_client=True) as client:
        lost = client.read_automations_by_name("produzir: flow run lost its heartbeats")
        again = client.read_automations_by_name("produzir: reschedule a crashed flow run")
        limits = {
            gcl.name: gcl.limit
            for gcl in client.read_global_concurrency_limits(limit=200)
            if gcl.name.startswith("produzir-sweep-shard-")
        }
    assert (len(lost), len(again)) == (1, 1)
    assert lost[0].actions[0].state == StateType.CRASHED  # type: ignore[union-attr]
    assert again[0].actions[0].state == StateType.SCHEDULED  # type: ignore[union-attr]
    assert limits == {f"produzir-sweep-shard-{i}": 1 for i in range(LIMITED_SHARDS)}


@pytest.mark.usefixtures("prefect")
def test_the_heartbeat_grace_is_the_operators_choice_above_the_heartbeat_frequency() -> None:
    result = CliRunner().invoke(app, ["deploy", "automations", "--grace", "45"])
    assert result.exit_code == 0, result.stdout
    with get_client(sync_client=True) as client:
        [lost] = client.read_automations_by_name("produzir: flow run lost its heartbeats")
    assert lost.trigger.within == timedelta(seconds=45)  # type: ignore[union-attr]
    refused = CliRunner().invoke(app, ["deploy", "automations", "--grace", "30"])
    assert refused.exit_code == 2  # not more than the smallest heartbeat frequency (30 s)
    CliRunner().invoke(app, ["deploy", "automations"])  # back to the default for the others


def test_one_sweep_at_a_time_and_a_bound_on_dispatchers_are_deployed() -> None:
    deployed = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    limits = {d["name"]: d.get("concurrency_limit") for d in deployed["deployments"]}
    assert limits["daily"] == 1
    assert limits["dispatch-shard"] == 4
