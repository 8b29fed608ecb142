"""The staff roster and the training it takes part in (issues 11 and 12).

- the roster: a user of the system or an external multiplier (name, role, organisation,
  optional contact, active flag); each refusal names what is wrong and writes nothing; the
  history names nobody;
- an event's instructors are chosen from the roster by number (an unknown or inactive number is
  refused); the history keeps the numbers;
- an ECM trains the programme's staff and multipliers (DOMAIN.md, "ECM trains the programme's
  own people"): a community participant is refused, a staff member in an ECC or Oficina too;
  its certificate follows the lifecycle's ``min_attendance`` of its session days;
- an ECM's attendance sheet names staff by number;
- the command line (``produzir staff``, ``event enrol-staff``, ``event attend-staff``) under the
  policy;
- migration 0013 turns the events' free-text instructors into staff members, and back.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from typer.testing import CliRunner

import migrations
from console import cli_event, cli_staff
from console.cli import app
from states.db import Database
from states.errors import InvalidInput, NotAllowed, NotFound
from states.models import AuditEvent
from states.records import (
    EventInstructor,
    StaffAttendance,
    StaffEnrolment,
    StaffMember,
    TrainingEvent,
)
from tasks.people import register_person
from tasks.runtime import Runtime
from tasks.staff import add_staff, deactivate_staff, list_staff, show_staff
from tasks.trainings import (
    complete_event,
    create_event,
    enrol,
    enrol_staff,
    event_summary,
    import_attendance,
    record_staff_attendance,
)
from tasks.users import disable_user
from tests.builders import COORDINATOR, QUIXADA, cli_users, cpf_for, today_of

# ------------------------------------------------------------------------------ helpers

RITA = {"name": "Rita de Cássia Moura", "role": "multiplicadora", "organisation": "SEBRAE-CE"}


def counts(rt: Runtime) -> dict[str, int]:
    """Rows of every table a roster or ECM operation writes."""
    with rt.db.read() as s:
        return {
            model.__name__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (
                StaffMember,
                EventInstructor,
                StaffEnrolment,
                StaffAttendance,
                TrainingEvent,
                AuditEvent,
            )
        }


def external(rt: Runtime, name: str, **more: Any) -> int:
    return add_staff(rt, {"name": name, "role": "multiplicador", **more}, actor=COORDINATOR)


def event(
    rt: Runtime, kind: str, start: date, end: date, instructors: list[int], **more: Any
) -> int:
    return create_event(
        rt,
        {
            "kind": kind,
            "title": f"{kind.upper()} Sertão Central",
            "start_on": start.isoformat(),
            "end_on": end.isoformat(),
            "venue": "Campus do IFCE",
            "municipality_code": QUIXADA,
            "instructor_ids": instructors,
            "capacity": more.pop("capacity", 30),
            **more,
        },
        actor=COORDINATOR,
    )


@pytest.fixture
def users(rt: Runtime) -> None:
    cli_users(rt)


@pytest.fixture
def ecm(rt: Runtime) -> tuple[int, int, list[int]]:
    """A 4-day ECM that ended yesterday, its instructor and 4 staff members (not enrolled)."""
    today = today_of(rt.clock)  # type: ignore[arg-type]
    instructor = add_staff(rt, RITA, actor=COORDINATOR)
    trainees = [external(rt, f"Multiplicador {n}") for n in range(4)]
    event_id = event(rt, "ecm", today - timedelta(days=4), today - timedelta(days=1), [instructor])
    return event_id, instructor, trainees


def staff_entries(rt: Runtime) -> list[AuditEvent]:
    with rt.db.read() as s:
        rows = s.execute(
            select(AuditEvent).where(AuditEvent.record_type == "staff").order_by(AuditEvent.seq)
        )
        found = list(rows.scalars())
        s.expunge_all()
        return found


# ------------------------------------------------------------------------------ the roster


def test_a_user_and_an_external_multiplier_join_the_roster(rt: Runtime, users: None) -> None:
    ana = add_staff(rt, {"username": "ana", "role": "coordenadora"}, actor="admin")
    rita = add_staff(
        rt, {**RITA, "email": "rita@example.org", "phone": "85 98888-7777"}, actor="admin"
    )

    roster = {r["staff_id"]: r for r in list_staff(rt)}
    assert roster[ana]["kind"] == "user"
    assert (roster[ana]["name"], roster[ana]["email"]) == ("Ana", "ana@example.org")  # the user's
    assert roster[rita]["kind"] == "external"
    assert (roster[rita]["name"], roster[rita]["organisation"]) == (
        "Rita de Cássia Moura",
        "SEBRAE-CE",
    )
    assert roster[rita]["phone"] == "85 98888-7777"
    assert all(r["active"] for r in roster.values())
    # the user's name and e-mail are not copied into the roster
    with rt.db.read() as s:
        member = s.get(StaffMember, ana)
        assert member is not None
        assert (member.name, member.email) == (None, None)
    # the history says who was added by number, kind, role and organisation: no name, no contact
    entries = staff_entries(rt)
    assert [e.event for e in entries] == ["equipe_incluida", "equipe_incluida"]
    assert entries[1].evidence == {
        "staff_id": rita,
        "kind": "external",
        "username": None,
        "role": "multiplicadora",
        "organisation": "SEBRAE-CE",
        "active": True,
    }
    for entry in entries:
        assert "Rita" not in entry.entry
        assert "rita@" not in entry.entry
        assert "98888" not in entry.entry
        assert "Ana" not in entry.entry


@pytest.mark.parametrize(
    ("raw", "error", "words"),
    [
        ({"role": "instrutor"}, InvalidInput, "give either a user name"),
        (
            {"username": "ana", "name": "Ana Maria", "role": "instrutor"},
            InvalidInput,
            "give either a user name",
        ),
        ({"name": "Rita", "role": "  "}, InvalidInput, "role"),
        ({"name": "Rita", "role": "instrutor", "email": "rita"}, InvalidInput, "not an e-mail"),
        ({"name": "Rita", "role": "instrutor", "phone": "abc"}, InvalidInput, "not a phone"),
        (
            {"username": "ana", "role": "instrutor", "email": "ana@example.org"},
            InvalidInput,
            "a user's contact is the user's own",
        ),
        ({"username": "ninguem", "role": "instrutor"}, NotFound, "user ninguem does not exist"),
    ],
    ids=["neither", "both", "blank-role", "bad-email", "bad-phone", "user-contact", "no-user"],
)
def test_a_bad_staff_record_is_refused_and_nothing_is_written(
    rt: Runtime, users: None, raw: dict[str, Any], error: type[Exception], words: str
) -> None:
    before = counts(rt)
    with pytest.raises(error, match=words):
        add_staff(rt, raw, actor="admin")
    assert counts(rt) == before


def test_a_user_joins_the_roster_once_and_a_disabled_user_not_at_all(
    rt: Runtime, users: None
) -> None:
    ana = add_staff(rt, {"username": "ana", "role": "coordenadora"}, actor="admin")
    disable_user(rt, "bia", actor="admin")
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"user ana is already staff member {ana}"):
        add_staff(rt, {"username": "ana", "role": "instrutora"}, actor="admin")
    with pytest.raises(InvalidInput, match="user bia is disabled"):
        add_staff(rt, {"username": "bia", "role": "instrutora"}, actor="admin")
    assert counts(rt) == before


def test_deactivating_takes_a_member_off_the_choices(rt: Runtime, users: None) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    rita = add_staff(rt, RITA, actor="admin")
    earlier = event(rt, "ecc", today, today + timedelta(days=40), [rita])

    assert deactivate_staff(rt, rita, actor="admin").changed
    assert not deactivate_staff(rt, rita, actor="admin").changed  # already inactive: a no-op

    assert [e.event for e in staff_entries(rt)] == ["equipe_incluida", "equipe_desativada"]
    (row,) = list_staff(rt)
    assert row["active"] is False
    assert list_staff(rt, include_inactive=False) == []
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"staff member {rita} is inactive"):
        event(rt, "ecc", today, today + timedelta(days=40), [rita])
    assert counts(rt) == before
    # the event they instructed keeps them
    assert [i["staff_id"] for i in event_summary(rt, earlier)["instructors"]] == [rita]
    with pytest.raises(NotFound, match="staff 999 does not exist"):
        deactivate_staff(rt, 999, actor="admin")


def test_a_disabled_user_on_the_roster_is_inactive(rt: Runtime, users: None) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    bia = add_staff(rt, {"username": "bia", "role": "instrutora"}, actor="admin")
    disable_user(rt, "bia", actor="admin")
    assert list_staff(rt)[0]["active"] is False
    with pytest.raises(InvalidInput, match=f"staff member {bia} is inactive"):
        event(rt, "oficina", today, today, [bia])


# ------------------------------------------------------------------------------ instructors


def test_an_unknown_instructor_is_refused_and_nothing_is_written(rt: Runtime) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    rita = add_staff(rt, RITA, actor=COORDINATOR)
    before = counts(rt)
    with pytest.raises(InvalidInput, match="staff member 404 is not on the roster"):
        event(rt, "ecc", today, today, [rita, 404])
    assert counts(rt) == before


def test_the_history_of_an_event_names_its_instructors_by_number(rt: Runtime) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    rita = add_staff(rt, RITA, actor=COORDINATOR)
    lima = external(rt, "João Lima")
    event_id = event(rt, "ecc", today, today, [lima, rita, lima])  # a repeat counts once
    with rt.db.read() as s:
        entry = s.execute(
            select(AuditEvent).where(
                AuditEvent.event == "evento_planejado", AuditEvent.record_id == event_id
            )
        ).scalar_one()
        assert entry.evidence["instructor_ids"] == [lima, rita]
        assert "Lima" not in entry.entry
        assert "Rita" not in entry.entry
    shown = show_staff(rt, rita)
    assert [e["event_id"] for e in shown["instructs"]] == [event_id]


# ------------------------------------------------------------------------------ the ECM


def test_an_ecm_refuses_a_community_participant(
    rt: Runtime, ecm: tuple[int, int, list[int]]
) -> None:
    event_id, _, _ = ecm
    person = register_person(
        rt,
        {
            "cpf": cpf_for(700_001),
            "name": "Maria das Dores",
            "community": "Sítio Riacho Verde",
            "municipality_code": QUIXADA,
        },
        actor=COORDINATOR,
    ).person_id
    before = counts(rt)
    with pytest.raises(NotAllowed) as caught:
        enrol(rt, event_id, [person], actor=COORDINATOR)
    assert str(caught.value) == (
        f"event {event_id} is an ECM: it trains the programme's staff and multipliers, not "
        f"community participants such as person {person}; enrol staff members of the roster"
    )
    assert counts(rt) == before


@pytest.mark.parametrize("kind", ["ecc", "oficina"])
def test_an_ecc_or_oficina_refuses_a_staff_member(rt: Runtime, kind: str) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    rita = add_staff(rt, RITA, actor=COORDINATOR)
    trainee = external(rt, "Multiplicador")
    event_id = event(rt, kind, today, today, [rita])
    before = counts(rt)
    with pytest.raises(NotAllowed, match=f"staff member {trainee} may instruct it, not enrol"):
        enrol_staff(rt, event_id, [trainee], actor=COORDINATOR)
    assert counts(rt) == before


def test_an_ecm_refuses_its_instructor_an_inactive_member_a_repeat_and_beyond_capacity(
    rt: Runtime, ecm: tuple[int, int, list[int]]
) -> None:
    event_id, instructor, trainees = ecm
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"staff member {instructor} instructs event"):
        enrol_staff(rt, event_id, [instructor], actor=COORDINATOR)
    deactivate_staff(rt, trainees[3], actor=COORDINATOR)
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"staff member {trainees[3]} is inactive"):
        enrol_staff(rt, event_id, [trainees[0], trainees[3]], actor=COORDINATOR)  # all or none
    with pytest.raises(NotFound, match="staff 999 does not exist"):
        enrol_staff(rt, event_id, [999], actor=COORDINATOR)
    assert counts(rt) == before
    enrol_staff(rt, event_id, trainees[:1], actor=COORDINATOR)
    with pytest.raises(InvalidInput, match="is already enrolled"):
        enrol_staff(rt, event_id, trainees[:1], actor=COORDINATOR)
    small = event(rt, "ecm", today_of(rt.clock), today_of(rt.clock), [instructor], capacity=1)  # type: ignore[arg-type]
    enrol_staff(rt, small, trainees[:1], actor=COORDINATOR)
    with pytest.raises(NotAllowed, match=f"event {small} is full: 1 of 1 places taken"):
        enrol_staff(rt, small, trainees[1:2], actor=COORDINATOR)


def test_an_ecm_certifies_the_staff_present_on_the_share_of_its_session_days(
    rt: Runtime, ecm: tuple[int, int, list[int]]
) -> None:
    event_id, _, trainees = ecm
    today = today_of(rt.clock)  # type: ignore[arg-type]
    start = today - timedelta(days=4)
    days = [start + timedelta(days=d) for d in range(4)]
    enrol_staff(rt, event_id, trainees[:3], actor=COORDINATOR)
    enrol_staff(rt, event_id, trainees[3:], actor=COORDINATOR, certification=False)
    # min_attendance (75 %) of 4 session days: 3 days
    assert rt.lifecycle.config.thresholds.min_attendance == 0.75
    record_staff_attendance(rt, event_id, trainees[0], days, actor=COORDINATOR)
    record_staff_attendance(rt, event_id, trainees[1], days[:3], actor=COORDINATOR)
    record_staff_attendance(rt, event_id, trainees[2], days[:2], actor=COORDINATOR)
    record_staff_attendance(rt, event_id, trainees[3], days, actor=COORDINATOR)

    report = complete_event(rt, event_id, actor=COORDINATOR)
    summary = event_summary(rt, event_id)

    assert report.held_on == today
    assert summary["days_needed_for_certificate"] == 3
    assert {sid: (p["days_attended"], p["certified"]) for sid, p in summary["staff"].items()} == {
        trainees[0]: (4, True),
        trainees[1]: (3, True),
        trainees[2]: (2, False),
        trainees[3]: (4, False),  # enrolled without seeking a certificate
    }
    assert summary["people"] == {}
    assert (summary["enrolled"], summary["certified"]) == (4, 2)
    assert summary["attendance_by_day"][start.isoformat()] == 4
    shown = show_staff(rt, trainees[1])
    assert shown["ecm"] == [
        {
            "event_id": event_id,
            "title": "ECM Sertão Central",
            "held_on": today.isoformat(),
            "days_attended": 3,
            "session_days": 4,
            "certified": True,
        }
    ]
    with pytest.raises(NotAllowed, match="its attendance is closed"):
        record_staff_attendance(rt, event_id, trainees[2], days[2:], actor=COORDINATOR)


def test_staff_attendance_is_only_for_the_enrolled_on_session_days_not_in_the_future(
    rt: Runtime, ecm: tuple[int, int, list[int]]
) -> None:
    event_id, _, trainees = ecm
    today = today_of(rt.clock)  # type: ignore[arg-type]
    enrol_staff(rt, event_id, trainees[:1], actor=COORDINATOR)
    before = counts(rt)
    with pytest.raises(InvalidInput, match=f"staff member {trainees[1]} is not enrolled"):
        record_staff_attendance(
            rt, event_id, trainees[1], [today - timedelta(days=1)], actor=COORDINATOR
        )
    with pytest.raises(InvalidInput, match="is outside event"):
        record_staff_attendance(rt, event_id, trainees[0], [today], actor=COORDINATOR)
    assert counts(rt) == before


def test_an_ecm_attendance_sheet_names_staff_by_number(
    rt: Runtime, ecm: tuple[int, int, list[int]]
) -> None:
    event_id, _, trainees = ecm
    today = today_of(rt.clock)  # type: ignore[arg-type]
    start = today - timedelta(days=4)
    days = [(start + timedelta(days=d)).isoformat() for d in range(4)]
    enrol_staff(rt, event_id, trainees[:2], actor=COORDINATOR)
    wide = "staff;" + ";".join(days) + f"\n{trainees[0]};x;x;x;\n{trainees[1]};x;;x;x\n"

    result = import_attendance(rt, event_id, wide, actor=COORDINATOR)

    assert (result.shape, result.rows, result.people, result.added) == ("wide", 2, 2, 6)
    people = event_summary(rt, event_id)["staff"]
    assert (people[trainees[0]]["days_attended"], people[trainees[1]]["days_attended"]) == (3, 3)


def test_a_bad_ecm_sheet_is_refused_whole(rt: Runtime, ecm: tuple[int, int, list[int]]) -> None:
    event_id, _, trainees = ecm
    today = today_of(rt.clock)  # type: ignore[arg-type]
    day = (today - timedelta(days=2)).isoformat()
    enrol_staff(rt, event_id, trainees[:1], actor=COORDINATOR)
    before = counts(rt)
    with pytest.raises(InvalidInput, match="an ECM trains staff: the header needs one `staff`"):
        import_attendance(rt, event_id, f"cpf,day\n{cpf_for(1)},{day}\n", actor=COORDINATOR)
    sheet = (
        f"staff,day\n{trainees[0]},{day}\n{trainees[1]},{day}\n999,{day}\nRita,{day}\n"
        f"{trainees[0]},{day}\n"
    )
    with pytest.raises(InvalidInput) as caught:
        import_attendance(rt, event_id, sheet, actor=COORDINATOR)
    message = str(caught.value)
    assert "4 of 5 rows are wrong; nothing was recorded" in message
    assert f"line 3: staff member {trainees[1]} is not enrolled in event {event_id}" in message
    assert "line 4: staff member 999 is not on the roster" in message
    assert "line 5: staff 'Rita' is not a staff number" in message
    assert "line 6: this staff number and day are already on line 2" in message
    assert counts(rt) == before


# ------------------------------------------------------------------------------ command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The whole `produzir` app on the test's database and clock."""
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    from_settings = cli_event.runtime

    def runtime() -> Runtime:
        made = from_settings()
        made.clock = rt.clock
        return made

    monkeypatch.setattr(cli_event, "runtime", runtime)
    monkeypatch.setattr(cli_staff, "runtime", runtime)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    return result.stdout if code == 0 else result.stderr


def test_the_staff_commands(cli: CliRunner, rt: Runtime) -> None:
    admin = ("--by", "admin")
    out = run(cli, "staff", "add", "--user", "ana", "--role", "coordenadora", *admin)
    assert out.strip() == "staff member 1 added"
    rita = json.loads(
        run(
            cli, "staff", "add", "--name", "Rita de Cássia Moura", "--role", "multiplicadora",
            "--organisation", "SEBRAE-CE", "--email", "rita@example.org", *admin, "--json",
        )
    )["staff_id"]  # fmt: skip
    # a coordinator chooses from the roster but does not change it
    err = run(cli, "staff", "add", "--name", "X", "--role", "r", "--by", "ana", code=4)
    assert "ana (coordinator) may not run `staff add`" in err
    err = run(cli, "staff", "add", "--name", "X", "--user", "bia", "--role", "r", *admin, code=2)
    assert "give either a user name" in err

    listed = run(cli, "staff", "list")
    assert "Rita de Cássia Moura" in listed
    assert "2 staff members" in listed
    shown = json.loads(run(cli, "staff", "show", str(rita), "--json"))
    assert (shown["name"], shown["organisation"], shown["active"]) == (
        "Rita de Cássia Moura",
        "SEBRAE-CE",
        True,
    )
    assert run(cli, "staff", "deactivate", str(rita), *admin).strip() == (
        f"staff member {rita} deactivated"
    )
    assert "already inactive" in run(cli, "staff", "deactivate", str(rita), *admin)
    assert json.loads(run(cli, "staff", "list", "--active-only", "--json"))[0]["staff_id"] == 1
    assert run(cli, "staff", "show", "99", code=3).startswith("error: staff member 99 does not")


def test_the_ecm_commands(cli: CliRunner, rt: Runtime) -> None:
    today = today_of(rt.clock)  # type: ignore[arg-type]
    start = today - timedelta(days=2)
    rita = add_staff(rt, RITA, actor="admin")
    trainees = [external(rt, f"Multiplicador {n}") for n in range(2)]
    by = ("--by", "ana")
    out = run(
        cli, "event", "create", *by, "--kind", "ecm", "--title", "ECM Nordeste",
        "--start", start.isoformat(), "--end", (today - timedelta(days=1)).isoformat(),
        "--venue", "Campus do IFCE", "--municipality", str(QUIXADA),
        "--instructor", str(rita), "--capacity", "30",
    )  # fmt: skip
    event_id = out.split()[1]
    out = run(cli, "event", "enrol-staff", event_id, *map(str, trainees), *by)
    assert out.strip() == f"event {event_id}: 2 staff members enrolled"
    err = run(cli, "event", "create", *by, "--kind", "ecc", "--title", "ECC",
              "--start", start.isoformat(), "--end", today.isoformat(), "--venue", "Escola",
              "--municipality", str(QUIXADA), "--instructor", "77", "--capacity", "30", code=2)  # fmt: skip
    assert "staff member 77 is not on the roster" in err
    out = run(
        cli, "event", "attend-staff", event_id, str(trainees[0]), *by,
        "--day", start.isoformat(), "--day", (start + timedelta(days=1)).isoformat(),
    )  # fmt: skip
    assert out.strip() == f"event {event_id}: staff member {trainees[0]}: 2 days recorded"
    shown = run(cli, "event", "show", event_id)
    assert "Rita de Cássia Moura (SEBRAE-CE)" in shown
    assert "per staff member" in shown
    shown_json = json.loads(run(cli, "event", "show", event_id, "--json"))
    assert shown_json["staff"][str(trainees[0])]["certified"] is True
    assert shown_json["staff"][str(trainees[1])]["certified"] is False


# ------------------------------------------------------------------------------ migration 0013


def test_migration_0013_turns_free_text_instructors_into_staff_and_back(
    empty_db: Database,
) -> None:
    migrations.upgrade(empty_db.engine, "0012")
    now = datetime(2026, 3, 2, 13, 0)
    with empty_db.engine.begin() as connection:
        for event_id, names in ((1, ["Maria Souza", "João Lima"]), (2, ["Maria Souza"]), (3, [])):
            connection.execute(
                text(
                    "INSERT INTO training_events (id, kind, title, start_on, end_on, venue, "
                    "municipality_code, instructors, capacity, created_at, created_by) VALUES "
                    "(:id, 'ecc', 'ECC', :day, :day, 'Escola', :m, :names, 40, :now, 'ana')"
                ),
                {
                    "id": event_id,
                    "day": date(2026, 3, 2),
                    "m": QUIXADA,
                    "names": json.dumps(names),
                    "now": now,
                },
            )

    migrations.upgrade(empty_db.engine)

    with empty_db.engine.connect() as connection:
        staff = connection.execute(
            text("SELECT id, name, username, role, active FROM staff ORDER BY id")
        ).all()
        links = connection.execute(
            text("SELECT event_id, staff_id FROM event_instructors ORDER BY event_id, staff_id")
        ).all()
        columns = {c[1] for c in connection.exec_driver_sql(
            "SELECT 0, column_name FROM information_schema.columns "
            "WHERE table_name = 'training_events' AND table_schema = current_schema()"
        )} if empty_db.engine.dialect.name == "postgresql" else {
            row[1] for row in connection.exec_driver_sql("PRAGMA table_info(training_events)")
        }  # fmt: skip
    by_name = {name: staff_id for staff_id, name, *_ in staff}
    assert [(name, user, role, bool(active)) for _, name, user, role, active in staff] == [
        ("Maria Souza", None, "instrutor", True),
        ("João Lima", None, "instrutor", True),
    ]
    assert [tuple(link) for link in links] == [
        (1, by_name["Maria Souza"]),
        (1, by_name["João Lima"]),
        (2, by_name["Maria Souza"]),
    ]
    assert "instructors" not in columns  # one place for a name: the roster

    migrations.downgrade(empty_db.engine, "0012")

    with empty_db.engine.connect() as connection:
        back = connection.execute(
            text("SELECT id, instructors FROM training_events ORDER BY id")
        ).all()
    restored = {i: json.loads(v) if isinstance(v, str) else v for i, v in back}
    assert restored == {1: ["Maria Souza", "João Lima"], 2: ["Maria Souza"], 3: []}
    assert "staff" not in set(inspect(empty_db.engine).get_table_names())


def test_the_roster_and_an_ecm_on_either_database(any_rt: Runtime) -> None:
    """The same rules on SQLite and PostgreSQL: the instructor from the roster, the staff
    enrolled, a participant refused, the certificate from the share of the session days."""
    rt = any_rt
    today = today_of(rt.clock)  # type: ignore[arg-type]
    instructor = add_staff(rt, RITA, actor=COORDINATOR)
    trainees = [external(rt, f"Multiplicador {n}") for n in range(2)]
    start = today - timedelta(days=4)
    event_id = event(rt, "ecm", start, today - timedelta(days=1), [instructor])
    enrol_staff(rt, event_id, trainees, actor=COORDINATOR)
    person = register_person(
        rt,
        {
            "cpf": cpf_for(700_002),
            "name": "Francisca Alves",
            "community": "Sítio Riacho Verde",
            "municipality_code": QUIXADA,
        },
        actor=COORDINATOR,
    ).person_id
    with pytest.raises(NotAllowed, match="is an ECM"):
        enrol(rt, event_id, [person], actor=COORDINATOR)
    days = [start + timedelta(days=d) for d in range(4)]
    record_staff_attendance(rt, event_id, trainees[0], days[:3], actor=COORDINATOR)
    record_staff_attendance(rt, event_id, trainees[1], days[:2], actor=COORDINATOR)
    summary = event_summary(rt, event_id)
    assert [summary["staff"][t]["certified"] for t in trainees] == [True, False]
    assert [i["name"] for i in summary["instructors"]] == ["Rita de Cássia Moura"]
