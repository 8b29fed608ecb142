"""Who may do what, in the web console, the API and the command line: one policy table.

:data:`POLICY` maps every web and API route name (FastAPI's ``name=``) to an :class:`Access`:
its kind and the roles allowed; :data:`COMMANDS` does the same for every command line command
that takes ``--by`` (``case.advance``, ``user.add``, ...), with the parameters that name the
records it acts on (so the territory is checked on the case they belong to). Both edges import
this module; it imports no web or command-line framework.

- ``public``: anyone, logged in or not (the login form, the API schema).
- ``read``: the roles listed may look (GET); the page or answer holds nothing it may not see.
- ``write``: the roles listed may change programme data (POST). An auditor is never among them:
  an auditor reads everything and writes nothing (403; on the command line exit 4).
- ``own``: the user's own account (log out, their API tokens, who am I): every role, auditors
  too; a GET or a POST.
- administrator commands (users, the calendar, the territory's imports) are writes for ``admin`` alone.

Territories: a coordinator or supervisor sees only cases in the UFs of their territory
(:func:`case_scope`; none means nothing); managers, auditors and administrators see every case.
On the web a case outside the user's territory does not exist for them: :func:`require_case`
raises :class:`~states.errors.NotFound` (404), exactly as for a case number that does not exist.
The command line says why instead (exit 4): whoever runs it can read the database anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from states.directory import ROLES, User
from states.errors import NotAllowed, NotFound
from states.lifecycle import EVENTS, Lifecycle
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
#: who keeps the hubs and the register of partners: administrators, coordinators in their territory
HUBWORK = ("admin", "coordinator")
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
    "case.surveys": read(*CASEWORK),
    "case.surveys.record": write(*CASEWORK),
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
    "api.indicators.timeliness": read(*EVERYONE),
    "api.indicators.outcomes": read(*EVERYONE),
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


# --- the command line ------------------------------------------------------------------------

#: What a command's parameter names, for the territory check: the case it belongs to.
Target = Literal["case", "enterprise", "event", "commitment", "municipality", "hub"]


@dataclass(frozen=True)
class Command:
    """One command's rule: the access (kind and roles) and which of its parameters name the
    records it acts on (parameter -> what it names), whose cases must lie in the territory."""

    access: Access
    targets: Mapping[str, Target]


def _cmd(access: Access, **targets: Target) -> Command:
    return Command(access, dict(targets))


def admin() -> Access:
    """An administrator command (users, the calendar, the outbox, audit checkpoints and keys)."""
    return write("admin")


_CASE: dict[str, Target] = {"case_id": "case"}

#: command (group.name, as typed: ``produzir case advance`` -> ``case.advance``) -> its rule.
#: Every command that takes ``--by`` is here (a test and the command line itself refuse one
#: that is not); commands without ``--by`` only read, or are the system's own (sweep, dispatch).
COMMANDS: dict[str, Command] = {
    "demand.register": _cmd(write(*CASEWORK), municipality="municipality"),
    "case.advance": Command(write(*CASEWORK), _CASE),
    # one command per event that declares one (console/cli_case.py), under the same rule
    **{f"case.{e.command}": Command(write(*CASEWORK), _CASE) for e in EVENTS if e.command},
    "person.add": _cmd(write(*CASEWORK), case="case"),
    "person.show": _cmd(read(*EVERYONE)),
    "person.report": _cmd(read(*EVERYONE)),
    "person.import": _cmd(write(*CASEWORK), case="case"),
    "person.export": _cmd(read(*CASEWORK, "admin"), case="case"),
    "person.preregister": _cmd(write(*CASEWORK), case_id="case"),
    # the surveys (console/cli_survey.py): answers by person, for the case's coordinators only;
    # auditors read the outcome indicators (aggregates, small groups suppressed)
    "survey.record": _cmd(write(*CASEWORK), case="case"),
    "survey.import": _cmd(write(*CASEWORK), case="case"),
    "survey.list": _cmd(read(*CASEWORK), case="case"),
    # the LGPD rights and registers (console/cli_lgpd.py): the administrator's, as the controller's
    # encarregado acts through them; auditors read the registers
    "person.rectify": _cmd(admin()),
    "person.anonymise": _cmd(admin()),
    "lgpd.request-add": _cmd(admin()),
    "lgpd.request-confirm": _cmd(admin()),
    "lgpd.request-answer": _cmd(admin()),
    "lgpd.request-list": _cmd(read("admin", "auditor")),
    "lgpd.incident-add": _cmd(admin()),
    "lgpd.incident-notify": _cmd(admin()),
    "lgpd.incident-list": _cmd(read("admin", "auditor")),
    "event.create": _cmd(write(*CASEWORK), case="case"),
    "event.link": _cmd(write(*CASEWORK), event_id="event", case_id="case"),
    "event.enrol": _cmd(write(*CASEWORK), event_id="event"),
    "event.enrol-staff": _cmd(write(*CASEWORK), event_id="event"),
    "event.attend": _cmd(write(*CASEWORK), event_id="event"),
    "event.attend-staff": _cmd(write(*CASEWORK), event_id="event"),
    "event.import-attendance": _cmd(write(*CASEWORK), event_id="event"),
    "event.complete": _cmd(write(*CASEWORK), event_id="event"),
    "enterprise.form": _cmd(write(*CASEWORK), case="case"),
    "enterprise.add-member": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "enterprise.legal-form": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "enterprise.size": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "enterprise.leave": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "enterprise.plan": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "enterprise.step": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "enterprise.no-cnpj": _cmd(write(*CASEWORK), enterprise_id="enterprise"),
    "visit.add": _cmd(write(*CASEWORK), case="case"),
    # the programme's records around the cases: hubs (their CLAI and Protocol) and the register
    # of partners, kept by administrators and by the coordinators of the territory
    "hub.create": _cmd(write(*HUBWORK), municipality="municipality"),
    "hub.clai": _cmd(write(*HUBWORK), hub="hub"),
    "hub.meeting": _cmd(write(*HUBWORK), hub="hub"),
    "hub.sign": _cmd(write(*HUBWORK), hub="hub"),
    "hub.commit": _cmd(write(*HUBWORK), hub="hub"),
    "hub.done": _cmd(write(*HUBWORK), commitment_id="commitment"),
    "partner.add": _cmd(write(*HUBWORK)),
    "partner.reach": _cmd(write(*HUBWORK), enterprise_id="enterprise"),
    # the roster: administrators and managers (the whole programme's); a staff member has no
    # territory, so a coordinator chooses from it but does not change it
    "staff.add": _cmd(write("admin", "manager")),
    "staff.deactivate": _cmd(write("admin", "manager")),
    "user.add": _cmd(admin()),
    "user.disable": _cmd(admin()),
    "user.set-password": _cmd(admin()),
    "lifecycle.migrate": _cmd(admin()),
    "calendar.add-holiday": _cmd(admin()),
    "calendar.remove-holiday": _cmd(admin()),
    "calendar.add-closure": _cmd(admin()),
    "calendar.remove-closure": _cmd(admin()),
    "territory.import-typology": _cmd(admin()),
    "territory.import-areas": _cmd(admin()),
    "notify.retry": _cmd(write("supervisor", "manager", "admin")),
    # the audit log (console/cli_audit.py): read as the auditor's pages are; signing and keys
    # are the administrator's (check-proof and public-key use no database and take no --by)
    "audit.verify": _cmd(read(*AUDIT)),
    "audit.prove": _cmd(read(*AUDIT), case_id="case"),
    "audit.checkpoint": _cmd(admin()),
    "audit.keygen": _cmd(admin()),
}

#: The actor of the deadline sweep's time-driven transitions: nobody else may act as it.
SYSTEM_ACTOR = "system"


class Refused(NotAllowed):
    """The command line's ``--by`` may not run this command (exit 4; nothing is written)."""

    code = "forbidden"
    http_status = 403

    def __init__(self, message: str, *, actor: str, command: str) -> None:
        super().__init__(message)
        self.actor = actor
        self.command = command


# the sentences of a refusal (one place, to move into the catalogs)
_NO_POLICY = "{command}: no access policy for this command"
_RESERVED = "--by {actor}: reserved for the deadline sweep"
_NO_USER = "--by {actor}: no such user"
_DISABLED = "--by {actor}: the user is disabled"
_ROLE = "{actor} ({role}) may not run `{command}`"
_AUDITOR = "{actor} is an auditor: an auditor reads everything and changes nothing"
_TERRITORY = (
    "{actor} ({role}) may not act on {what}: it is in {uf}, outside their territory ({scope})"
)


def _target_cases(session: Session, kind: Target, value: object) -> list[tuple[str, str]]:
    """(what, UF) of the cases a parameter's value names (empty when it names nothing: the
    operation then answers not found)."""
    from states.records import Commitment, Enterprise, EventCase

    values = value if isinstance(value, list | tuple) else [value]
    ids = [v for v in values if isinstance(v, int) and 0 < v < 2**31]
    if not ids:
        return []
    uf_of = (
        select(Case.id, Municipality.uf)
        .join(Municipality, Case.municipality_code == Municipality.ibge_code)
        .order_by(Case.id)
    )
    if kind in ("municipality", "hub"):
        rows = session.execute(
            select(Municipality.ibge_code, Municipality.uf).where(Municipality.ibge_code.in_(ids))
        )
        return [(f"{kind} {code}", uf) for code, uf in rows]
    if kind == "commitment":
        rows = session.execute(
            select(Commitment.id, Municipality.uf)
            .join(Municipality, Municipality.ibge_code == Commitment.hub_code)
            .where(Commitment.id.in_(ids))
        )
        return [(f"commitment {cid}", uf) for cid, uf in rows]
    if kind == "case":
        query = uf_of.where(Case.id.in_(ids))
    elif kind == "enterprise":
        query = uf_of.where(Case.id.in_(select(Enterprise.case_id).where(Enterprise.id.in_(ids))))
    elif kind == "event":
        query = uf_of.where(
            Case.id.in_(select(EventCase.case_id).where(EventCase.event_id.in_(ids)))
        )
    else:  # pragma: no cover - every kind is handled above
        return []
    return [(f"case {case_id}", uf) for case_id, uf in session.execute(query)]


def _no_active_admin(session: Session) -> bool:
    found = session.execute(
        select(User.username).where(User.role == "admin", User.active.is_(True)).limit(1)
    ).first()
    return found is None


def rule_for(command: str, lifecycle: Lifecycle | None = None) -> Command | None:
    """The rule of ``command``; an event command of ``lifecycle`` (``case.<command>`` of a
    declaration the default table does not have) takes the rule of every event command."""
    rule = COMMANDS.get(command)
    group, _, name = command.partition(".")
    if rule is None and lifecycle is not None and group == "case" and lifecycle.command(name):
        rule = COMMANDS["case.advance"]
    return rule


def check_command(
    session: Session,
    command: str,
    params: Mapping[str, object],
    *,
    lifecycle: Lifecycle | None = None,
) -> User:
    """The user ``params["by"]`` names, when they may run ``command`` with these parameters;
    :class:`Refused` (exit 4) naming why otherwise: no policy for the command, ``system``
    (reserved for the deadline sweep), no such user, a disabled user, a role the command does
    not allow, or a case outside the user's territory.

    The first administrator of an empty directory creates themself: ``user add NAME --role
    admin --by NAME`` is allowed while no active administrator exists."""
    actor = str(params.get("by") or "").strip().lower()
    rule = rule_for(command, lifecycle)

    def refuse(template: str, **more: object) -> Refused:
        return Refused(
            template.format(actor=actor, command=command.replace(".", " "), **more),
            actor=actor,
            command=command,
        )

    if rule is None:
        raise refuse(_NO_POLICY)
    if actor == SYSTEM_ACTOR:
        raise refuse(_RESERVED)
    user = session.get(User, actor)
    if user is None:
        if (
            command == "user.add"
            and str(params.get("username") or "").strip().lower() == actor
            and params.get("role") == "admin"
            and _no_active_admin(session)
        ):
            return User(username=actor, role="admin", territories=[], active=True)
        raise refuse(_NO_USER)
    if not user.active:
        raise refuse(_DISABLED)
    if not rule.access.allows(user.role):
        if user.role == "auditor" and rule.access.kind == "write":
            raise refuse(_AUDITOR)
        raise refuse(_ROLE, role=user.role)
    scope = case_scope(user)
    if scope is not None:
        for parameter, kind in rule.targets.items():
            for what, uf in _target_cases(session, kind, params.get(parameter)):
                if uf.upper() not in scope:
                    raise refuse(
                        _TERRITORY,
                        role=user.role,
                        what=what,
                        uf=uf,
                        scope=", ".join(sorted(scope)) or "none",
                    )
    return user
