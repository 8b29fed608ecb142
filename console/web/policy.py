"""Who may do what in the web console and the API: the policy table and territory scoping.

Every route has a name (FastAPI's ``name=``) and :data:`POLICY` maps each name to an
:class:`Access`: its kind and the roles allowed.

- ``public``: anyone, logged in or not (the login form, the API schema).
- ``read``: the roles listed may look (GET); the page or answer holds nothing it may not see.
- ``write``: the roles listed may change programme data (POST). An auditor is never among them:
  an auditor reads everything and writes nothing (403).
- ``own``: the user's own account (log out, their API tokens, who am I): every role, auditors
  too; a GET or a POST.

Every POST in a browser session must carry the session's CSRF token (API calls with a Bearer
token need none). :func:`check_routes` refuses, at start, a route without a policy, a read that
is not a GET or a write that is: the access matrix test runs every route against every role
from this same table.

Territories: a coordinator or supervisor sees only cases in the UFs of their territory
(:func:`case_scope`; none means nothing); managers, auditors and administrators see every case.
A case outside the user's territory does not exist for them: :func:`require_case` raises
:class:`~states.errors.NotFound` (404), exactly as for a case number that does not exist.
Routes with a ``{case_id}`` path parameter are checked automatically before they run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from fastapi.routing import iter_route_contexts
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from states.directory import ROLES, User
from states.errors import NotFound
from states.models import Case, Municipality

Kind = Literal["public", "read", "write", "own"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Access:
    """One route's rule: what kind of action it is and which roles may take it."""

    kind: Kind
    roles: frozenset[str]

    @property
    def is_public(self) -> bool:
        return self.kind == "public"

    def allows(self, role: str) -> bool:
        if self.kind == "public":
            return True
        if self.kind == "write" and role == "auditor":
            return False
        return role in self.roles


def public() -> Access:
    return Access("public", frozenset(ROLES))


def read(*roles: str) -> Access:
    return Access("read", _known(roles))


def write(*roles: str) -> Access:
    if "auditor" in roles:
        raise ValueError("an auditor writes nothing")
    return Access("write", _known(roles))


def own() -> Access:
    return Access("own", frozenset(ROLES))


def _known(roles: Iterable[str]) -> frozenset[str]:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}; roles are: {', '.join(ROLES)}")
    return frozenset(roles)


EVERYONE = tuple(ROLES)
#: who works cases: coordinators and supervisors in their territory, managers everywhere
CASEWORK = ("coordinator", "supervisor", "manager")
#: who reads the audit trail, the chain verification, the exports and the access log
AUDIT = ("auditor", "manager", "admin")

#: route name -> access. Pages and API alike; the README's roles table is made from it
#: (:func:`markdown_table`).
POLICY: dict[str, Access] = {
    # --- the login and the user's own account (console/web/account.py)
    "login.form": public(),
    "login.submit": public(),
    "logout": own(),
    "tokens.list": own(),
    "tokens.create": own(),
    "tokens.revoke": own(),
    "api.me": own(),
    "openapi": public(),
    # --- pages (console/web/pages.py)
    "board": read(*EVERYONE),
    "due": read(*EVERYONE),
    "case": read(*EVERYONE),
    "case.advance": write(*CASEWORK),
    "bulk": read(*CASEWORK),
    "bulk.apply": write(*CASEWORK),
    "lifecycle": read(*EVERYONE),
    "indicators": read(*EVERYONE),
    "audit.case": read(*AUDIT),
    "audit.verify": read(*AUDIT),
    "audit.proof": read(*AUDIT),
    "audit.export": read(*AUDIT),
    "audit.access_log": read(*AUDIT),
    # --- the JSON API under /api/v1 (console/web/api.py)
    "api.cases.list": read(*EVERYONE),
    "api.cases.detail": read(*EVERYONE),
    "api.cases.events": read(*EVERYONE),
    "api.cases.advance": write(*CASEWORK),
    "api.cases.history": read(*EVERYONE),
    "api.audit.verify": read(*AUDIT),
    "api.audit.checkpoints": read(*AUDIT),
    "api.audit.checkpoints.latest": read(*AUDIT),
    "api.cases.proof": read(*AUDIT),
    "api.indicators": read(*EVERYONE),
}

#: Roles whose territory limits the cases they see.
SCOPED_ROLES = frozenset({"coordinator", "supervisor"})


def access_for(name: str) -> Access | None:
    return POLICY.get(name)


def case_scope(user: User) -> frozenset[str] | None:
    """The UFs whose cases ``user`` may see; None = every case. A coordinator or supervisor
    with no territory sees none."""
    if user.role in SCOPED_ROLES:
        return frozenset(uf.upper() for uf in user.territories)
    return None


def in_scope(user: User, uf: str) -> bool:
    scope = case_scope(user)
    return scope is None or uf.upper() in scope


def require_case(session: Session, user: User, case_id: int) -> str:
    """The case's UF, when ``user`` may see the case; NotFound (404) when the case does not
    exist *or* lies outside the user's territory (the same error: no hint it exists)."""
    uf = session.execute(
        select(Municipality.uf)
        .join(Case, Case.municipality_code == Municipality.ibge_code)
        .where(Case.id == case_id)
    ).scalar_one_or_none()
    if uf is None or not in_scope(user, uf):
        raise NotFound("case", case_id)
    return uf


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
            problems.append(f"{where}: no entry in console.web.policy.POLICY")
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
