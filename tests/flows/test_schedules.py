"""The schedules are defined once: ``prefect.yaml`` (server + work pool) and the served
deployments (``produzir run``) both say what :mod:`flows.schedules` says."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect.client.schemas.schedules import CronSchedule

from flows.schedules import PLANS, Plan
from flows.serve import deployments

ROOT = Path(__file__).resolve().parents[2]


def prefect_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return loaded


def yaml_deployment(name: str) -> dict[str, Any]:
    [found] = [d for d in prefect_yaml()["deployments"] if d["name"] == name]
    return found


def test_prefect_yaml_deploys_exactly_the_planned_flows() -> None:
    names = [d["name"] for d in prefect_yaml()["deployments"]]
    assert sorted(names) == sorted(p.deployment for p in PLANS)


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.full_name)
def test_prefect_yaml_has_the_schedule_of_the_code(plan: Plan) -> None:
    deployment = yaml_deployment(plan.deployment)
    assert deployment["entrypoint"] == plan.entrypoint
    expected = [{"cron": plan.cron, "timezone": plan.timezone}] if plan.cron else None
    assert deployment["schedules"] == expected
    assert deployment["work_pool"]["name"] == "produzir"


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.full_name)
def test_each_entrypoint_is_the_flow_the_plan_names_imported_from_the_package(plan: Plan) -> None:
    """A module path (no file, no folder): a worker imports it from the installed package."""
    assert ":" not in plan.entrypoint
    assert "/" not in plan.entrypoint
    module, function = plan.entrypoint.rsplit(".", 1)
    assert getattr(importlib.import_module(module), function).name == plan.flow_name


def test_prefect_yaml_ships_no_pull_step_that_names_a_folder() -> None:
    """`prefect deploy` adds a set_working_directory step with its own absolute path unless
    the file says `pull: []`; nothing in the file names a folder of the deploying machine."""
    loaded = prefect_yaml()
    assert loaded["pull"] == []
    assert all("pull" not in d for d in loaded["deployments"])
    assert str(ROOT) not in (ROOT / "prefect.yaml").read_text(encoding="utf-8")


def test_the_served_deployments_have_the_schedules_of_the_code() -> None:
    served = {d.name: d for d in deployments()}
    assert sorted(served) == sorted(p.deployment for p in PLANS)
    for plan in PLANS:
        deployment = served[plan.deployment]
        assert deployment.flow_name == plan.flow_name
        assert deployment.entrypoint == plan.entrypoint
        schedules = [s.schedule for s in deployment.schedules or []]
        if plan.cron is None:
            assert schedules == []
            continue
        [schedule] = schedules
        assert isinstance(schedule, CronSchedule)
        assert (schedule.cron, schedule.timezone) == (plan.cron, plan.timezone)


def test_the_sweep_runs_at_six_in_brasilia_and_dispatch_every_minute() -> None:
    """What the issue asks, read from the deployed file (not from the code it mirrors)."""
    sweep = yaml_deployment("daily")["schedules"][0]
    assert (sweep["cron"], sweep["timezone"]) == ("0 6 * * *", "America/Sao_Paulo")
    assert yaml_deployment("every-minute")["schedules"][0]["cron"] == "* * * * *"
    assert yaml_deployment("hourly")["schedules"][0]["cron"] == "0 * * * *"
