"""The web console's routes against the policy table of :mod:`console.policy`.

Every route has a name (FastAPI's ``name=``) and :data:`~console.policy.POLICY` maps each name
to an :class:`~console.policy.Access`. Every POST in a browser session must carry the session's
CSRF token (API calls with a Bearer token need none). :func:`check_routes` refuses, at start, a
route without a policy, a read that is not a GET or a write that is: the access matrix test runs
every route against every role from this same table. Routes with a ``{case_id}`` path parameter
are checked automatically before they run (:func:`~console.policy.require_case`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute

from console.policy import (
    AUDIT,
    CASEWORK,
    EVERYONE,
    POLICY,
    SAFE_METHODS,
    SCOPED_ROLES,
    Access,
    access_for,
    case_scope,
    in_scope,
    own,
    public,
    read,
    require_case,
    write,
)

__all__ = [
    "AUDIT",
    "CASEWORK",
    "EVERYONE",
    "POLICY",
    "SAFE_METHODS",
    "SCOPED_ROLES",
    "Access",
    "RouteInfo",
    "access_for",
    "app_routes",
    "case_scope",
    "check_routes",
    "in_scope",
    "markdown_table",
    "own",
    "public",
    "read",
    "require_case",
    "write",
]


# --- the routes against the table -----------------------------------------------------------


@dataclass(frozen=True)
class RouteInfo:
    """One HTTP route as the app serves it: its name, full path and methods."""

    name: str
    path: str
    methods: frozenset[str]

    @property
    def label(self) -> str:
        return f"{'/'.join(sorted(self.methods))} {self.path} [{self.name}]"


def app_routes(routes: Sequence[BaseRoute]) -> list[RouteInfo]:
    """Every HTTP route of ``app.routes``, those of included routers too, with their full
    paths (mounts such as /static are left out: they are public files)."""
    found = []
    for context in iter_route_contexts(routes):
        methods = context.methods
        if not methods or context.name is None or context.path is None:
            continue
        found.append(
            RouteInfo(context.name, context.path, frozenset(methods) - {"HEAD", "OPTIONS"})
        )
    return found


def check_routes(routes: Sequence[BaseRoute]) -> None:
    """RuntimeError naming every route without a policy entry, every read that is not a GET
    and every write that is."""
    problems = []
    for route in app_routes(routes):
        access = POLICY.get(route.name)
        where = f"{'/'.join(sorted(route.methods))} {route.path} (name {route.name!r})"
        if access is None:
            problems.append(f"{where}: no entry in console.policy.POLICY")
        elif access.kind == "read" and not route.methods <= SAFE_METHODS:
            problems.append(f"{where}: a read must be a GET")
        elif access.kind == "write" and route.methods & SAFE_METHODS:
            problems.append(f"{where}: a write must not be a GET")
    if problems:
        raise RuntimeError("routes against the policy:\n" + "\n".join(problems))


def markdown_table(routes: Sequence[BaseRoute] | None = None) -> str:
    """The roles × routes table (README): ✓ allowed, — refused (403); "own" = the user's own
    account. Given ``app.routes``, a column shows each route's method and path."""
    columns = ("coordinator", "supervisor", "manager", "auditor", "admin")
    where = {r.name: f"{'/'.join(sorted(r.methods))} `{r.path}`" for r in app_routes(routes or [])}
    head = ["route", *(["method and path"] if routes is not None else []), "kind", *columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, access in POLICY.items():
        if access.kind == "public":
            cells = ["anyone"] * len(columns)
        else:
            cells = ["✓" if access.allows(role) else "—" for role in columns]
        path = [where.get(name, "(not yet)")] if routes is not None else []
        lines.append("| " + " | ".join([f"`{name}`", *path, access.kind, *cells]) + " |")
    return "\n".join(lines)
