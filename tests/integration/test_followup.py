"""Follow-up as a coordinator records it: visits (never before the enterprise or the case
existed, never in the future), the "a visit every 90 days" rule kept as dated obligations, the
Protocol's commitments, the ``acompanhamento`` guard read from these records just below and at
its thresholds, and the ``visit``, ``hub``, ``protocol`` and ``obligation`` commands (the CLAI
and the Protocol are the case's hub's: tests/integration/test_hubs.py has the hub's own tests).

Every refusal is checked to leave the database as it was; every test ends with the audit chain
verified.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from console.cli_enterprise import obligation_app, protocol_app, visit_app
from console.cli_hub import hub_app
from notifications.i18n import date_text
from states.deadlines import add_months
from states.errors import GuardFailed, InvalidInput, NotAllowed
from tasks.cases import advance
from tasks.followup import (
    add_commitment,
    follow_up_detail,
    fulfil_commitment,
    install_clai,
    list_visits,
    record_visit,
    sign_protocol,
)
from tasks.obligations import ends_on_working_day, list_obligations
from tasks.runtime import Runtime
from tests.builders import (
    COORDINATOR,
    add_participants,
    cli_users,
    drive,
    enterprises_of,
    evidence_for,
    new_case,
    register_partners,
)
from tests.integration.helpers import case_row, verify
from tests.integration.test_enterprises import form, refused, today


@pytest.fixture(autouse=True)
def _chain_verifies(rt: Runtime) -> Iterator[None]:
    yield
    result = verify(rt.db)
    assert result.ok, result.problem


def visit(rt: Runtime, case_id: int, on: date, **extra: Any) -> int:
    values = {"case_id": case_id, "visited_on": on.isoformat(), "findings": "Em funcionamento."}
    return record_visit(rt, values | extra, actor=COORDINATOR)


def move_to(rt: Runtime, day: date) -> None:
    """Move the fixed clock forward to ``day`` (same time of day)."""
    rt.clock.advance(timedelta(days=(day - today(rt)).days))  # type: ignore[attr-defined]
    assert today(rt) == day


def in_follow_up(rt: Runtime) -> tuple[int, date, date]:
    """A case just entered in acompanhamento: its id, the day it entered, the period's end."""
    case_id = new_case(rt)
    drive(rt, rt.clock, case_id, "acompanhamento")  # type: ignore[arg-type]
    register_partners(rt)  # the CLAI, the Protocol and the commitments name partners
    entered = case_row(rt.db, case_id).entered_on
    assert entered == today(rt)
    return case_id, entered, add_months(entered, 12)


def visits_due(rt: Runtime, case_id: int, on: date | None = None) -> list[dict[str, Any]]:
    with rt.db.read() as session:
        return list_obligations(
            session, today=on or today(rt), case_id=case_id, open_only=False, kind="follow_up_visit"
        )


def working(rt: Runtime, case_id: int, day: date) -> date:
    """``day``, or the next working day of the case's municipality (Lei 9.784/1999 art. 66 §1):
    a dated obligation ends on a working day."""
    with rt.db.read() as session:
        return ends_on_working_day(session, case_id, day)


def open_visits_due(rt: Runtime, case_id: int) -> list[str]:
    return [o["due_on"] for o in visits_due(rt, case_id) if o["satisfied_on"] is None]


# ------------------------------------------------------------------ visits


def test_a_visit_before_the_enterprise_or_the_case_existed_or_in_the_future_is_refused(
    rt: Runtime,
) -> None:
    case_id = new_case(rt)
    registered = today(rt)
    people = add_participants(rt, case_id, 2)
    move_to(rt, registered + timedelta(days=5))
    enterprise_id = form(rt, case_id, people)
    formed = today(rt)
    move_to(rt, formed + timedelta(days=30))

    with refused(rt, InvalidInput, f"before enterprise {enterprise_id} existed \\(formed on"):
        visit(rt, case_id, formed - timedelta(days=1), enterprise_id=enterprise_id)
    with refused(rt, InvalidInput, f"is before case {case_id} was registered"):
        visit(rt, case_id, registered - timedelta(days=1))
    with refused(rt, InvalidInput, "is in the future"):
        visit(rt, case_id, today(rt) + timedelta(days=1), enterprise_id=enterprise_id)
    other_case = new_case(rt, community="Sítio Riacho Fundo")
    with refused(rt, InvalidInput, f"belongs to case {case_id}, not {other_case}"):
        visit(rt, other_case, today(rt), enterprise_id=enterprise_id)
    with refused(rt, InvalidInput, "describe an enterprise: give enterprise_id"):
        visit(rt, case_id, today(rt), active=True)

    visit_id = visit(
        rt,
        case_id,
        formed,
        enterprise_id=enterprise_id,
        active=True,
        members=2,
        monthly_income="1850.00",
    )
    with rt.db.read() as session:
        [shown] = list_visits(session, case_id)
    assert (shown["id"], shown["visited_on"], shown["monthly_income"], shown["visitor"]) == (
        visit_id,
        formed.isoformat(),
        "1850.00",
        COORDINATOR,
    )


def test_a_visit_is_due_every_90_days_within_the_period(rt: Runtime) -> None:
    case_id, entered, end = in_follow_up(rt)
    assert open_visits_due(rt, case_id) == [
        working(rt, case_id, entered + timedelta(days=90)).isoformat()
    ]

    move_to(rt, entered + timedelta(days=150))
    first = visit(rt, case_id, entered + timedelta(days=40))
    [satisfied, following] = visits_due(rt, case_id)
    assert (satisfied["satisfied_on"], satisfied["satisfied_by"], satisfied["days_late"]) == (
        (entered + timedelta(days=40)).isoformat(),
        f"visit:{first}",
        0,
    )
    assert following["due_on"] == working(rt, case_id, entered + timedelta(days=130)).isoformat()
    # an earlier visit entered late changes nothing: the latest visit set the next date
    visit(rt, case_id, entered + timedelta(days=20))
    assert open_visits_due(rt, case_id) == [
        working(rt, case_id, entered + timedelta(days=130)).isoformat()
    ]

    # exactly on the due date is on time
    visit(rt, case_id, entered + timedelta(days=130))
    assert visits_due(rt, case_id)[1]["days_late"] == 0
    assert open_visits_due(rt, case_id) == [
        working(rt, case_id, entered + timedelta(days=220)).isoformat()
    ]

    move_to(rt, entered + timedelta(days=300))
    visit(rt, case_id, entered + timedelta(days=230))  # 10 days after the nominal day
    late = (
        entered + timedelta(days=230) - working(rt, case_id, entered + timedelta(days=220))
    ).days
    assert [o["days_late"] for o in visits_due(rt, case_id)] == [0, 0, late, 0]
    assert open_visits_due(rt, case_id) == [
        working(rt, case_id, entered + timedelta(days=320)).isoformat()
    ]
    # a visit whose 90 days reach past the period's end leaves nothing due
    last = end - timedelta(days=90)
    visit(rt, case_id, last)
    assert open_visits_due(rt, case_id) == []
    assert [o["satisfied_on"] for o in visits_due(rt, case_id)][-1] == last.isoformat()


def test_a_suspension_in_follow_up_keeps_one_visit_due_moved_by_the_pause(rt: Runtime) -> None:
    case_id, entered, _ = in_follow_up(rt)
    move_to(rt, entered + timedelta(days=5))
    advance(rt, case_id, "suspender", evidence_for("suspender", today(rt)), actor=COORDINATOR)
    move_to(rt, entered + timedelta(days=25))
    advance(rt, case_id, "retomar", {}, actor=COORDINATOR)
    assert open_visits_due(rt, case_id) == [
        working(rt, case_id, entered + timedelta(days=110)).isoformat()
    ]


def test_nothing_is_due_in_a_cancelled_case(rt: Runtime) -> None:
    case_id, entered, _ = in_follow_up(rt)
    advance(rt, case_id, "cancelar", evidence_for("cancelar", today(rt)), actor=COORDINATOR)
    late = entered + timedelta(days=100)
    with rt.db.read() as session:
        assert list_obligations(session, today=late, overdue=True) == []
        kept = list_obligations(session, today=late, open_only=False, include_closed_cases=True)
    assert [(o["case_id"], o["kind"], o["days_late"]) for o in kept] == [
        (case_id, "registry_filing", 0),
        (case_id, "follow_up_visit", 10),
    ]


# ------------------------------------------------------------------ the Protocol


def test_commitments_are_obligations_until_done(rt: Runtime) -> None:
    case_id, entered, _ = in_follow_up(rt)
    signed = entered + timedelta(days=3)
    due = entered + timedelta(days=30)
    move_to(rt, entered + timedelta(days=40))
    with refused(rt, NotAllowed, "hub 2311306 has no signed Protocol"):
        add_commitment(
            rt,
            case_id,
            partner="EMATERCE",
            action="Assistência técnica",
            due_on=due,
            actor=COORDINATOR,
        )
    sign_protocol(rt, case_id, signed_on=signed, signatories=["Prefeitura"], actor=COORDINATOR)
    with refused(rt, InvalidInput, "is before the Protocol was signed"):
        add_commitment(
            rt,
            case_id,
            partner="EMATERCE",
            action="Assistência técnica",
            due_on=signed - timedelta(days=1),
            actor=COORDINATOR,
        )
    commitment = add_commitment(
        rt,
        case_id,
        partner="EMATERCE",
        action="Assistência técnica mensal",
        due_on=due,
        actor=COORDINATOR,
    )
    with rt.db.read() as session:
        [row] = list_obligations(
            session, today=today(rt), case_id=case_id, kind="protocol_commitment"
        )
    assert (row["due_on"], row["record"], row["days_late"]) == (
        due.isoformat(),
        f"commitment:{commitment}",
        10,
    )
    assert "EMATERCE: Assistência técnica mensal" in row["description"]

    with refused(rt, InvalidInput, "is before the Protocol was signed"):
        fulfil_commitment(rt, commitment, done_on=signed - timedelta(days=1), actor=COORDINATOR)
    fulfil_commitment(rt, commitment, done_on=due + timedelta(days=3), actor=COORDINATOR)
    with refused(rt, NotAllowed, f"commitment {commitment} was already done"):
        fulfil_commitment(rt, commitment, done_on=due, actor=COORDINATOR)
    with rt.db.read() as session:
        assert (
            list_obligations(session, today=today(rt), case_id=case_id, kind="protocol_commitment")
            == []
        )
        [done] = list_obligations(
            session, today=today(rt), case_id=case_id, kind="protocol_commitment", open_only=False
        )
        shown = follow_up_detail(session, case_id, today=today(rt), follow_up_months=12)
    assert (done["satisfied_by"], done["days_late"]) == (f"commitment:{commitment}", 3)
    assert shown["commitments"][0]["done_on"] == (due + timedelta(days=3)).isoformat()


# ------------------------------------------------------------------ leaving acompanhamento


def test_a_commitment_due_on_carnival_tuesday_2027_is_due_on_ash_wednesday(rt: Runtime) -> None:
    # the two Carnaval days are pontos facultativos the offices close on (the default):
    # a commitment due on Tuesday 2027-02-09 is due on the next working day
    case_id, entered, _ = in_follow_up(rt)
    sign_protocol(rt, case_id, signed_on=entered, signatories=["Prefeitura"], actor=COORDINATOR)
    add_commitment(
        rt,
        case_id,
        partner="SEBRAE",
        action="Oficina de comercialização",
        due_on=date(2027, 2, 9),
        actor=COORDINATOR,
    )
    with rt.db.read() as session:
        [row] = list_obligations(
            session, today=today(rt), case_id=case_id, kind="protocol_commitment"
        )
    assert row["due_on"] == "2027-02-10"


def every_90_days(rt: Runtime, case_id: int, entered: date, *, gap: int = 90) -> None:
    """Visits 90 days after the start, then ``gap``, then every 90 days to the period's end."""
    first = entered + timedelta(days=90)
    for day in (first, first + timedelta(days=gap)):
        visit(rt, case_id, day)
    for n in (1, 2):
        visit(rt, case_id, first + timedelta(days=gap + 90 * n))


def leave(rt: Runtime, case_id: int) -> str:
    return advance(rt, case_id, "concluir_acompanhamento", {}, actor=COORDINATOR).to_state


def test_leaving_follow_up_needs_the_12_months_the_clai_and_the_protocol(rt: Runtime) -> None:
    case_id, entered, end = in_follow_up(rt)
    move_to(rt, end - timedelta(days=1))
    every_90_days(rt, case_id, entered)
    with refused(rt, GuardFailed, f"the 12-month follow-up started on {entered} and ends on {end}"):
        leave(rt, case_id)

    move_to(rt, end)
    with refused(rt, GuardFailed, "the Comitê Local de Ação Integrada \\(CLAI\\) has not been"):
        leave(rt, case_id)
    install_clai(
        rt,
        case_id,
        installed_on=entered + timedelta(days=10),
        members=["Prefeitura", "EMATERCE"],
        actor=COORDINATOR,
    )
    with refused(rt, GuardFailed, "the Protocolo de Ações Integradas has not been signed"):
        leave(rt, case_id)
    sign_protocol(
        rt,
        case_id,
        signed_on=entered + timedelta(days=20),
        signatories=["Prefeitura", "SEBRAE-CE"],
        actor=COORDINATOR,
    )
    assert leave(rt, case_id) == "avaliacao"
    with rt.db.read() as session:
        assert list_obligations(session, today=today(rt), case_id=case_id) == []


@pytest.mark.parametrize(("gap", "passes"), [(90, True), (91, False)])
def test_leaving_follow_up_needs_a_visit_at_most_every_90_days(
    rt: Runtime, gap: int, passes: bool
) -> None:
    case_id, entered, end = in_follow_up(rt)
    move_to(rt, end)
    install_clai(rt, case_id, installed_on=entered, members=["Prefeitura"], actor=COORDINATOR)
    sign_protocol(rt, case_id, signed_on=entered, signatories=["Prefeitura"], actor=COORDINATOR)
    every_90_days(rt, case_id, entered, gap=gap)
    if passes:
        assert leave(rt, case_id) == "avaliacao"
        return
    first = entered + timedelta(days=90)
    with refused(
        rt,
        GuardFailed,
        f"{gap} days passed between {first} and {first + timedelta(days=gap)} without a visit",
    ):
        leave(rt, case_id)


# ------------------------------------------------------------------ the command line


@pytest.fixture
def cli(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PRODUZIR_DATABASE_URL", rt.db.url)
    monkeypatch.delenv("PRODUZIR_USER", raising=False)
    cli_users(rt)
    return CliRunner()


def run(cli: CliRunner, app: Any, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    if code:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), result.stderr
        return lines[0]
    return result.stdout


def test_obligation_list_overdue_shows_a_missed_visit_with_its_days_late(
    cli: CliRunner, rt: Runtime
) -> None:
    case_id, entered, _ = in_follow_up(rt)
    due = entered + timedelta(days=90)
    late = json.loads(
        run(
            cli,
            obligation_app,
            "list",
            "--overdue",
            "--as-of",
            str(due + timedelta(days=10)),
            "--json",
        )
    )
    assert [(o["case_id"], o["kind"], o["due_on"], o["days_late"]) for o in late] == [
        (case_id, "follow_up_visit", due.isoformat(), 10)
    ]
    table = run(cli, obligation_app, "list", "--overdue", "--as-of", str(due + timedelta(days=10)))
    assert "follow_up_visit" in table
    assert f"1 obligation, 1 overdue on {date_text(due + timedelta(days=10), 'en')}" in table
    # due today is not overdue yet
    on_due = run(cli, obligation_app, "list", "--overdue", "--as-of", str(due), "--json")
    assert json.loads(on_due) == []
    assert "give --overdue or --all" in run(
        cli, obligation_app, "list", "--overdue", "--all", code=2
    )


HUB = "2311306"  # the builders' hub decision names Quixadá


def test_the_visit_hub_and_protocol_commands(cli: CliRunner, rt: Runtime) -> None:
    case_id, entered, _ = in_follow_up(rt)
    case = str(case_id)
    day = str(entered + timedelta(days=30))
    out = run(
        cli,
        visit_app,
        "add",
        "--case",
        case,
        "--date",
        day,
        "--by",
        "ana",
        "--findings",
        "Grupo produzindo e vendendo na feira.",
    )
    assert f"next visit due {entered + timedelta(days=120)}" in out
    error = run(
        cli,
        visit_app,
        "add",
        "--case",
        case,
        "--date",
        day,
        "--by",
        "ana",
        "--findings",
        "x",
        "--inactive",
        code=2,
    )
    assert "give enterprise_id" in error
    enterprise_id = enterprises_of(rt, case_id)[0]
    run(
        cli,
        visit_app,
        "add",
        "--case",
        case,
        "--enterprise",
        str(enterprise_id),
        "--date",
        day,
        "--by",
        "ana",
        "--findings",
        "Parou.",
        "--inactive",
        "--members",
        "18",
        "--income",
        "950.50",
    )
    visits = json.loads(run(cli, visit_app, "list", "--case", case, "--json"))
    assert [
        (v["enterprise_id"], v["active"], v["members"], v["monthly_income"]) for v in visits
    ] == [
        (None, None, None, None),
        (enterprise_id, False, 18, "950.50"),
    ]

    run(
        cli,
        hub_app,
        "clai",
        HUB,
        "--installed-on",
        day,
        "--member",
        "Prefeitura",
        "--member",
        "EMATERCE",
        "--by",
        "ana",
    )
    assert "already has its CLAI" in run(
        cli,
        hub_app,
        "clai",
        HUB,
        "--installed-on",
        day,
        "--member",
        "X",
        "--by",
        "ana",
        code=4,
    )
    run(
        cli,
        hub_app,
        "sign",
        HUB,
        "--signed-on",
        day,
        "--signatory",
        "Prefeitura",
        "--by",
        "ana",
    )
    out = run(
        cli,
        hub_app,
        "commit",
        HUB,
        "--partner",
        "SEBRAE-CE",
        "--action",
        "Oficina de comercialização",
        "--due",
        str(entered + timedelta(days=60)),
        "--by",
        "ana",
    )
    assert out.startswith("commitment 1 added")
    run(
        cli,
        hub_app,
        "done",
        "1",
        "--done-on",
        str(entered + timedelta(days=65)),
        "--by",
        "ana",
    )

    shown = json.loads(run(cli, protocol_app, "show", case, "--json"))
    assert shown["hub"] == int(HUB)
    assert shown["clai"] == {"installed_on": day, "members": ["EMATERCE", "Prefeitura"]}
    assert shown["protocol"]["signatories"] == ["Prefeitura"]
    # late from the working day the due date moves to (Lei 9.784/1999 art. 66 §1)
    due = working(rt, case_id, entered + timedelta(days=60))
    late = (entered + timedelta(days=65) - due).days
    assert [(c["partner"], c["days_late"]) for c in shown["commitments"]] == [("SEBRAE-CE", late)]
    assert shown["visits"] == [day, day]
    assert shown["next_visit_due"] == str(entered + timedelta(days=120))
    assert shown["follow_up_ends"] == str(add_months(entered, 12))
    assert "Oficina de comercialização" in run(cli, protocol_app, "show", case)


def test_the_history_keeps_no_visit_findings_only_the_record_does(rt: Runtime) -> None:
    """Findings are free text that may name people (LGPD): the visit's record keeps them, where
    they can be corrected or erased; the append-only history keeps only their length."""
    from sqlalchemy import select

    from states.models import AuditEvent
    from states.records import Visit

    case_id, entered, _ = in_follow_up(rt)
    move_to(rt, entered + timedelta(days=10))
    findings = "Dona Maria José da Silva relatou queda nas vendas."
    visit_id = visit(rt, case_id, entered + timedelta(days=5), findings=findings)
    with rt.db.read() as session:
        row = session.get(Visit, visit_id)
        assert row is not None
        entry = session.execute(
            select(AuditEvent).where(
                AuditEvent.record_type == "visit", AuditEvent.record_id == visit_id
            )
        ).scalar_one()
        assert row.findings == findings
        assert entry.evidence["findings_chars"] == len(findings)
        assert "findings" not in entry.evidence
        assert "Maria" not in entry.entry
