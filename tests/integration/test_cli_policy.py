"""The command line under the web's policy table: every command with ``--by`` × every caller.

The commands are read from the app itself, so a command added with ``--by`` and no entry in
:data:`console.policy.COMMANDS` fails here. The expected answer comes from the same table:

- ``system`` (reserved for the deadline sweep), a user that does not exist and a disabled user
  are refused on every command;
- a role the command's entry does not list is refused (an auditor on every write, anyone but an
  administrator on the administrator commands);
- a coordinator or supervisor is refused on a case (or a record of a case) outside their
  territory;
- a refusal is exit 4 with one line saying why, and nothing is written (every table keeps its
  rows); otherwise the command runs (whatever it answers, it is not a policy refusal).

Callers are the web matrix's (one per role, a coordinator of CE/PE and one of PA/AM) plus the
three impostors. The records named are of one case in Quixadá (CE) driven to follow-up.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from console.cli import app
from console.policy import COMMANDS, SYSTEM_ACTOR, case_scope
from states.clock import FixedClock
from states.config import load_config
from states.db import Database
from states.directory import User
from states.lifecycle import Lifecycle
from states.models import Base, Case
from states.records import EventCase
from tasks.followup import add_commitment, sign_protocol
from tasks.runtime import Runtime
from tasks.users import add_user, disable_user
from tests.builders import (
    cpf_for,
    drive,
    enterprises_of,
    new_case,
    participants_of,
    register_partners,
    today_of,
)
from tests.conftest import START

USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ana.coord": ("coordinator", ("CE", "PE")),
    "bia.coord": ("coordinator", ("PA", "AM")),
    "sofia.super": ("supervisor", ("CE", "PE")),
    "gil.manager": ("manager", ()),
    "rui.auditor": ("auditor", ()),
    "adm.admin": ("admin", ()),
    "off.coord": ("coordinator", ("CE",)),  # disabled
}
NOBODY = "no.such.user"
HUB = "2311306"  # the world's case has its hub in Quixadá (CE)
CALLERS = (*USERS, NOBODY, SYSTEM_ACTOR)


@dataclass(frozen=True)
class World:
    db_file: Path
    case: int
    enterprise: int
    event: int
    commitment: int
    person: int


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> World:
    """A CE case in follow-up, with its ECC, enterprises and a commitment in its hub's Protocol;
    the users."""
    folder = tmp_path_factory.mktemp("cli_policy")
    db_file = folder / "produzir.db"
    shutil.copyfile(sqlite_template, db_file)
    clock = FixedClock(START)
    rt = Runtime(Database(f"sqlite:///{db_file}"), Lifecycle(load_config()), clock=clock)
    for name, (role, territories) in USERS.items():
        add_user(
            rt,
            {
                "username": name,
                "name": name,
                "email": f"{name}@example.org",
                "role": role,
                "territories": list(territories),
            },
            actor="system",
        )
    disable_user(rt, "off.coord", actor="system")
    case = new_case(rt)
    drive(rt, clock, case, "acompanhamento")
    register_partners(rt)
    sign_protocol(rt, case, signed_on=today_of(clock), signatories=["Prefeitura"], actor="system")
    commitment = add_commitment(
        rt,
        case,
        partner="Prefeitura",
        action="Cessão do galpão",
        due_on=date(2027, 12, 1),
        actor="system",
    )
    with rt.db.read() as session:
        event = session.execute(
            select(EventCase.event_id).where(EventCase.case_id == case)
        ).scalar_one()
    world = World(
        db_file, case, enterprises_of(rt, case)[0], event, commitment, participants_of(rt, case)[0]
    )
    rt.db.dispose()
    return world


def samples(w: World, tmp: Path) -> dict[str, list[str]]:
    """A well-formed invocation of every command (it parses; it may still be refused)."""
    people_csv = tmp / "people.csv"
    people_csv.write_text(
        f"cpf,name,community,municipality_code\n{cpf_for(9001)},Maria,Boa Vista,2311306\n"
    )
    typology_csv = tmp / "typology.csv"
    typology_csv.write_text("microregion_code,pndr_class\n23019,estagnada\n")
    areas_csv = tmp / "areas.csv"
    areas_csv.write_text("municipality_code\n2311306\n")
    attendance_csv = tmp / "attendance.csv"
    attendance_csv.write_text(f"cpf,day\n{cpf_for(1)},2026-03-03\n")
    surveys_csv = tmp / "surveys.csv"
    surveys_csv.write_text(
        "cpf,wave,answered_on,work_status,income_band,sex,birth_year,household_size\n"
        f"{cpf_for(1)},entry,2026-03-02,unemployed,none,female,1990,3\n"
    )
    c, e, ev = str(w.case), str(w.enterprise), str(w.event)
    day = "2026-03-03"
    return {
        "demand.register": [
            "demand", "register", "--municipality", "2311306", "--community", "Vila",
            "--forum", "Fórum", "--forum-date", "2026-02-20", "--activity", "apicultura",
            "--proponent", "Associação",
        ],
        "case.advance": ["case", "advance", c, "anotar", "--evidence", '{"text": "x"}'],
        "case.assign": ["case", "assign", c, "ana.coord"],
        "case.suspend": ["case", "suspend", c, "--reason", "chuvas", "--until", "2027-06-01"],
        "case.resume": ["case", "resume", c],
        "case.reject": ["case", "reject", c, "--reasons", "fora da área"],
        "case.notify-decision": ["case", "notify-decision", c, "--means", "postal"],
        "case.appeal": ["case", "appeal", c, "--grounds", "nova documentação"],
        "case.reconsider": ["case", "reconsider", c, "--reasons", "reconsidero"],
        "case.forward-appeal": ["case", "forward-appeal", c, "--reasons", "mantenho"],
        "case.grant-appeal": ["case", "grant-appeal", c, "--reasons", "provido"],
        "case.deny-appeal": ["case", "deny-appeal", c, "--reasons", "negado"],
        "case.cancel": ["case", "cancel", c, "--reason", "desistiu"],
        "case.reopen": ["case", "reopen", c, "--justification", "erro"],
        "case.approve": ["case", "approve", c],
        "case.refuse": ["case", "refuse", c, "--justification", "não"],
        "case.note": ["case", "note", c, "Visita técnica realizada"],
        "person.add": [
            "person", "add", "--cpf", cpf_for(9002), "--name", "João", "--community", "Vila",
            "--municipality", "2311306", "--case", c,
        ],
        "person.show": ["person", "show", str(w.person), "--purpose", "conferir inscrição"],
        "person.report": ["person", "report", cpf_for(1)],
        "person.import": ["person", "import", str(people_csv), "--case", c],
        "person.export": ["person", "export", "--case", c],
        "person.preregister": ["person", "preregister", c, str(w.person)],
        "survey.record": [
            "survey", "record", "--case", c, "--person", str(w.person), "--wave", "entry",
            "--answered-on", "2026-03-02", "--work-status", "unemployed", "--income-band",
            "none", "--sex", "female", "--birth-year", "1990", "--household-size", "3",
        ],
        "survey.import": ["survey", "import", str(surveys_csv), "--case", c],
        "survey.list": ["survey", "list", "--case", c, "--purpose", "conferir respostas"],
        "person.rectify": ["person", "rectify", str(w.person), "--name", "Maria Gomes"],
        "person.anonymise": ["person", "anonymise", str(w.person), "--ground", "unnecessary"],
        "lgpd.request-add": [
            "lgpd", "request-add", "--kind", "access", "--channel", "email",
            "--details", "cópia dos dados", "--person", str(w.person), "--received", day,
        ],
        "lgpd.request-confirm": ["lgpd", "request-confirm", "1"],
        "lgpd.request-answer": ["lgpd", "request-answer", "1", "--answer", "declaração"],
        "lgpd.request-list": ["lgpd", "request-list"],
        "lgpd.incident-add": [
            "lgpd", "incident-add", "--description", "furto", "--data", "CPF", "--known", day,
        ],
        "lgpd.incident-notify": ["lgpd", "incident-notify", "1", "--anpd", day],
        "lgpd.incident-list": ["lgpd", "incident-list"],
        "event.create": [
            "event", "create", "--kind", "oficina", "--title", "Oficina", "--start", day,
            "--end", "2026-03-05", "--venue", "Escola", "--municipality", "2311306",
            "--instructor", "1", "--capacity", "30", "--case", c,
        ],
        "event.link": ["event", "link", ev, c],
        "event.enrol": ["event", "enrol", ev, str(w.person)],
        "event.attend": ["event", "attend", ev, str(w.person), "--day", day],
        "event.enrol-staff": ["event", "enrol-staff", ev, "1"],
        "event.attend-staff": ["event", "attend-staff", ev, "1", "--day", day],
        "staff.add": ["staff", "add", "--name", "Rita Lima", "--role", "multiplicadora"],
        "staff.deactivate": ["staff", "deactivate", "1"],
        "event.import-attendance": ["event", "import-attendance", ev, str(attendance_csv)],
        "event.complete": ["event", "complete", ev],
        "enterprise.form": [
            "enterprise", "form", "--case", c, "--name", "Mel do Sertão", "--activity", "mel",
            "--formed-on", day, "--member", str(w.person),
        ],
        "enterprise.add-member": ["enterprise", "add-member", e, str(w.person)],
        "enterprise.legal-form": ["enterprise", "legal-form", e, "associacao"],
        "enterprise.size": ["enterprise", "size", e, "none"],
        "enterprise.leave": [
            "enterprise", "leave", e, str(w.person), "--on", day, "--reason", "mudou-se daqui",
        ],
        "enterprise.plan": [
            "enterprise", "plan", e, "--document", "PN-1", "--approved-on", day,
        ],
        "enterprise.step": ["enterprise", "step", e, "founding_act", "--done-on", day],
        "enterprise.no-cnpj": ["enterprise", "no-cnpj", e, "--reason", "informal"],
        "visit.add": ["visit", "add", "--case", c, "--date", day, "--findings", "ok"],
        "hub.create": ["hub", "create", "2303931", "--designated-on", day],
        "hub.clai": ["hub", "clai", HUB, "--installed-on", day, "--member", "Prefeitura"],
        "hub.meeting": [
            "hub", "meeting", HUB, "--held-on", day, "--present", "Prefeitura",
            "--decision", "Feira mensal",
        ],
        "hub.sign": ["hub", "sign", HUB, "--signed-on", day, "--signatory", "Prefeitura"],
        "hub.commit": [
            "hub", "commit", HUB, "--partner", "SEBRAE", "--action", "curso",
            "--due", "2027-01-01",
        ],
        "hub.done": ["hub", "done", str(w.commitment), "--done-on", day],
        "partner.add": ["partner", "add", "--name", "Cáritas", "--sphere", "civil_society"],
        "partner.reach": [
            "partner", "reach", e, "--policy", "PAA", "--on", day, "--partner", "Prefeitura",
        ],
        "user.add": [
            "user", "add", "evil.admin", "--name", "Evil", "--email", "evil@example.org",
            "--role", "admin",
        ],
        "user.disable": ["user", "disable", "ana.coord"],
        "user.set-password": ["user", "set-password", "ana.coord", "--password-stdin"],
        "lifecycle.migrate": ["lifecycle", "migrate", "--to", "2026.3", "--dry-run"],
        "calendar.add-holiday": [
            "calendar", "add-holiday", "--municipality", "2311306", "--date", "2026-08-22",
            "--name", "Padroeira",
        ],
        "calendar.remove-holiday": [
            "calendar", "remove-holiday", "--municipality", "2311306", "--date", "2026-08-22",
        ],
        "calendar.add-closure": [
            "calendar", "add-closure", "--uf", "CE", "--date", "2026-10-28",
            "--name", "Dia do Servidor Público",
        ],
        "calendar.remove-closure": [
            "calendar", "remove-closure", "--municipality", "2311306", "--date", "2026-02-17",
        ],
        "territory.import-typology": [
            "territory", "import-typology", str(typology_csv), "--name", "PNDR",
            "--version", f"t-{tmp.name}", "--source", "Decreto 11.962/2024",
        ],
        "territory.import-areas": [
            "territory", "import-areas", str(areas_csv), "--name", f"Semiárido {tmp.name}",
            "--source", "Resolução Condel/Sudene", "--date", "2026-01-01",
        ],
        "notify.retry": ["notify", "retry", "1"],
        "audit.verify": ["audit", "verify"],
        "audit.prove": ["audit", "prove", c, "--out", str(tmp / "proof.json")],
        "audit.checkpoint": ["audit", "checkpoint"],
        "audit.keygen": ["audit", "keygen", "--out", str(tmp / "new-key.pem")],
    }  # fmt: skip


def checked_commands(group: typer.Typer) -> set[str]:
    """Every command of the app that takes ``--by USER``, as ``group.name`` (asked as the
    command line asks its groups, so commands made from the event declarations count)."""
    from typer.main import get_command

    found: set[str] = set()

    def walk(command: Any, prefix: str) -> None:
        if hasattr(command, "list_commands"):
            for name in command.list_commands(None):
                sub = command.get_command(None, name)
                walk(sub, f"{prefix}{name}." if hasattr(sub, "list_commands") else prefix + name)
            return
        if any(
            p.name == "by" and getattr(p, "envvar", None) == "PRODUZIR_USER"
            for p in getattr(command, "params", [])
        ):
            found.add(prefix.rstrip("."))

    walk(get_command(group), "")
    return found


def test_every_command_with_by_has_a_policy_and_a_sample(world: World, tmp_path: Path) -> None:
    assert checked_commands(app) == set(COMMANDS)
    assert set(samples(world, tmp_path)) == set(COMMANDS)


def expected(command: str, caller: str) -> str:
    """The refusal's words when the policy refuses ``caller``; "" when it allows."""
    if caller == SYSTEM_ACTOR:
        return "reserved for the deadline sweep"
    if caller == NOBODY:
        return "no such user"
    if caller == "off.coord":
        return "disabled"
    role, territories = USERS[caller]
    access = COMMANDS[command].access
    if not access.allows(role):
        return "changes nothing" if role == "auditor" and access.kind == "write" else "may not run"
    user = User(username=caller, role=role, territories=list(territories))
    scope = case_scope(user)
    if scope is not None and COMMANDS[command].targets and "CE" not in scope:
        return "outside their territory"
    return ""


def fingerprint(db: Database) -> dict[str, int]:
    """The number of rows of every table."""
    with db.read() as session:
        return {
            table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
        }


def newest_entry(db: Database, case_id: int) -> tuple[str, str, str | None]:
    """(actor, channel column, the entry's os_user) of the case's newest audit entry."""
    from states.models import AuditEvent

    with db.read() as session:
        row = session.execute(
            select(AuditEvent)
            .where(AuditEvent.case_id == case_id)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()
        assert row.data["channel"] == row.channel  # the column agrees with the hashed entry
        return row.actor, row.channel, row.data["os_user"]


REFUSAL_WORDS = (
    "reserved for the deadline sweep",
    "no such user",
    "the user is disabled",
    "may not run",
    "changes nothing",
    "outside their territory",
    "no access policy",
)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_command_line_matrix(
    world: World, command: str, caller: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_file = tmp_path / "produzir.db"
    shutil.copyfile(world.db_file, db_file)
    db = Database(f"sqlite:///{db_file}")
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    before = fingerprint(db)
    args = [*samples(world, tmp_path)[command], "--by", caller]
    result = CliRunner().invoke(app, args, input="uma senha longa o bastante\n" * 2)
    refusal = expected(command, caller)
    assert "Traceback" not in result.output
    if refusal:
        assert result.exit_code == 4, (result.exit_code, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: ")
        assert refusal in lines[0]
        assert fingerprint(db) == before
    else:
        assert not any(words in result.stderr for words in REFUSAL_WORDS), result.stderr
        assert result.exit_code != 1 or "database" not in result.stderr, result.stderr
    db.dispose()


def test_a_coordinator_cannot_create_an_administrator_but_the_first_admin_can(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sqlite_template: Path
) -> None:
    # an empty directory: the first administrator names themself
    fresh = tmp_path / "fresh.db"
    shutil.copyfile(sqlite_template, fresh)
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{fresh}")
    add = ["user", "add", "adm", "--name", "Adm", "--email", "adm@example.org", "--role"]
    first = CliRunner().invoke(app, [*add, "admin", "--by", "adm"])
    assert first.exit_code == 0, first.stderr
    # once there is one, nobody else bootstraps
    again = CliRunner().invoke(
        app,
        [
            "user",
            "add",
            "eve",
            "--name",
            "Eve",
            "--email",
            "e@example.org",
            "--role",
            "admin",
            "--by",
            "eve",
        ],
    )
    assert again.exit_code == 4
    assert "--by eve: no such user" in again.stderr
    listed = CliRunner().invoke(app, ["user", "list", "--json"])
    assert [u["username"] for u in json.loads(listed.stdout)] == ["adm"]


def test_out_of_territory_case_names_the_case_and_the_territory(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_file = tmp_path / "produzir.db"
    shutil.copyfile(world.db_file, db_file)
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{db_file}")
    result = CliRunner().invoke(app, ["case", "approve", str(world.case), "--by", "bia.coord"])
    assert result.exit_code == 4
    assert result.stderr.strip() == (
        f"error: bia.coord (coordinator) may not act on case {world.case}: "
        "it is in CE, outside their territory (AM, PA)"
    )


def test_commands_run_with_the_cli_origin_and_the_os_user(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    from states import origin
    from tasks import cases as ops

    db_file = tmp_path / "produzir.db"
    shutil.copyfile(world.db_file, db_file)
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", f"sqlite:///{db_file}")
    seen: list[origin.Origin] = []
    real = ops.advance

    def advance(*args: object, **kwargs: object) -> ops.Transition:
        seen.append(origin.current())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ops, "advance", advance)
    result = CliRunner().invoke(app, ["case", "note", str(world.case), "x", "--by", "ana.coord"])
    assert result.exit_code == 0, result.stderr
    assert seen == [origin.Origin("cli", getpass.getuser())]
    assert origin.current() == origin.Origin()  # reset after the command
    db = Database(f"sqlite:///{db_file}")
    assert newest_entry(db, world.case) == ("ana.coord", "cli", getpass.getuser())
    db.dispose()


def test_the_sweeps_transitions_keep_the_system_origin(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from states import origin
    from tasks import sweep

    db_file = tmp_path / "produzir.db"
    shutil.copyfile(world.db_file, db_file)
    clock = FixedClock(START + timedelta(days=600))
    rt = Runtime(Database(f"sqlite:///{db_file}"), Lifecycle(load_config()), clock=clock)
    rejected = new_case(rt)
    drive(rt, clock, rejected, "indeferida")
    clock.advance(timedelta(days=60))  # the appeal window closed: the sweep archives it
    seen: list[tuple[str, origin.Origin]] = []
    real = sweep.case_ops._advance_in

    def advance(*args: object, **kwargs: object) -> object:
        seen.append((str(kwargs["actor"]), origin.current()))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sweep.case_ops, "_advance_in", advance)
    with origin.use_origin("flow"):
        sweep.sweep_deadlines(rt)
    with rt.db.read() as session:
        archived = session.get(Case, rejected)
        assert archived is not None
        assert archived.state == "arquivada"
    assert seen
    assert all(s == ("system", origin.Origin("system")) for s in seen)
    assert newest_entry(rt.db, rejected) == ("system", "system", None)
    rt.db.dispose()


@pytest.mark.parametrize(
    ("coordinator", "why"),
    [
        ("bia.coord", "their territory (AM, PA) does not cover CE, the case's UF"),
        ("rui.auditor", "their role is auditor, not coordinator"),
        ("off.coord", "the user is disabled"),
        ("nobody.here", "no such user"),
    ],
)
def test_assignment_on_the_command_line_exit_2_naming_why(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, coordinator: str, why: str
) -> None:
    db_file = tmp_path / "produzir.db"
    shutil.copyfile(world.db_file, db_file)
    db = Database(f"sqlite:///{db_file}")
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", db.url)
    before = fingerprint(db)
    result = CliRunner().invoke(
        app, ["case", "assign", str(world.case), coordinator, "--by", "gil.manager"]
    )
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == f"error: coordinator {coordinator}: {why}"
    assert fingerprint(db) == before
    db.dispose()


def test_flows_write_with_the_flow_origin(world: World, tmp_path: Path) -> None:
    from flows.bulk import advance_task
    from flows.common import injected, opened_runtime
    from states import origin
    from tasks import cases as ops

    db_file = tmp_path / "produzir.db"
    shutil.copyfile(world.db_file, db_file)
    rt = Runtime(
        Database(f"sqlite:///{db_file}"), Lifecycle(load_config()), clock=FixedClock(START)
    )
    with injected(rt), opened_runtime() as opened:
        assert opened is rt
        assert origin.current() == origin.Origin("flow")
    assert origin.current() == origin.Origin()
    seen: list[origin.Origin] = []
    real = ops._advance_in

    def advance(*args: object, **kwargs: object) -> ops.Transition:
        seen.append(origin.current())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    import flows.bulk

    ops._advance_in = advance  # type: ignore[assignment]
    progress = flows.bulk.Progress
    # the shard's progress bar is a Prefect artifact: outside a flow run there is none to draw
    flows.bulk.Progress = lambda *a: lambda fraction: None  # type: ignore[assignment,misc]
    try:
        advance_task.fn(rt, [world.case], "anotar", {"text": "x"}, "ana.coord", None, "req", 0)
    finally:
        ops._advance_in = real  # type: ignore[assignment]
        flows.bulk.Progress = progress  # type: ignore[misc]
    assert seen == [origin.Origin("flow")]
    assert newest_entry(rt.db, world.case) == ("ana.coord", "flow", None)
    rt.db.dispose()
