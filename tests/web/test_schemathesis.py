"""schemathesis against the API's own OpenAPI schema: no answer is a server error, and every
answer (the errors too) has a status the schema documents, the content type it documents, and
a body that matches its schema.

The schema is read from the app (``/api/v1/openapi.json``, served by an app built only for
that), one test per operation is generated from it, and each request is sent in process to
the test's own app (a fresh database: ``app`` of tests/web/conftest.py) with the Bearer token
of ana.coord, a coordinator of CE/PE: her territory holds CE_CASE, the schema's example case
number; other numbers are mostly 404. Kept small (a few examples per operation, examples
derandomised) so the whole run stays well under a minute.

(``schemathesis.pytest.from_fixture`` would load the schema from the ``app`` fixture itself,
but schemathesis 4.32 sets ``Function._nodeid``, which pytest 9.2 no longer has.)
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from console.web import auth
from console.web.app import OPENAPI_URL, create_app
from console.web.settings import WebSettings
from states.config import load_config
from states.db import Database
from states.lifecycle import Lifecycle
from tasks.runtime import Runtime
from tests.web.conftest import SECRET

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _schema_app() -> FastAPI:
    """The app, only to serve its schema (no database is touched)."""
    rt = Runtime(Database("sqlite://"), Lifecycle(load_config()))
    return create_app(rt, WebSettings(env="test", secret_key=SECRET))


schema = schemathesis.openapi.from_asgi(OPENAPI_URL, _schema_app())


@pytest.fixture
def coordinator_token(web_rt: Runtime) -> str:
    return auth.create_token(web_rt, "ana.coord", "schemathesis").token


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_keeps_to_its_schema(case, app: FastAPI, coordinator_token: str) -> None:
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {coordinator_token}"},
        checks=CHECKS,
    )
