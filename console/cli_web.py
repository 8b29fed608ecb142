"""``produzir web``: serve the web console and the JSON API with uvicorn.

Listens on ``PRODUZIR_WEB_HOST``:``PRODUZIR_WEB_PORT`` (default http://127.0.0.1:8000; the
options override them). Behind a TLS proxy on the same host, uvicorn trusts its
``X-Forwarded-Proto`` (``--forwarded-allow-ips``), so cookies get the Secure attribute; or set
``PRODUZIR_COOKIE_SECURE=true``. Registered in console/cli.py as the ``web`` command.
"""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from console.common import out, runtime
from console.web.app import create_app
from console.web.settings import load_web_settings
from states.text import N_


def web(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default PRODUZIR_WEB_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default PRODUZIR_WEB_PORT)."),
    ] = None,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated)."
        ),
    ] = "127.0.0.1",
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the web console and the JSON API (/api/v1; schema at /api/v1/openapi.json)."""
    settings = load_web_settings()
    app = create_app(runtime(), settings)
    bind_host = host or settings.web_host
    bind_port = port or settings.web_port
    out(
        N_(
            "PRODUZIR web console on %(url)s (%(env)s)",
            url="http://" + bind_host + ":" + str(bind_port),
            env=settings.env,
        )
    )
    uvicorn.run(
        app,
        host=bind_host,
        port=bind_port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
        server_header=False,
    )
