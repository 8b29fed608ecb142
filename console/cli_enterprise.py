"""Command groups for enterprises, follow-up visits, a case's follow-up (its hub's CLAI and
Protocol) and the dated obligations: ``produzir enterprise|visit|protocol|obligation ...``.

Writes go through :mod:`tasks.enterprises` and :mod:`tasks.followup` (each one transaction,
audited); reads print a table, or JSON with ``--json``. Errors and exit codes are the ones of
:mod:`console.cli`. Members are shown as person ids: a person's data is read through the people
commands, which log the access.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, one_of, parse_date, runtime
from console.common import out as say
from console.output import as_json, echo, fields, table
from states.errors import InvalidInput
from states.evidence import CHOOSABLE_FORMS, SizeCategory
from states.text import M_, N_, Np_
from tasks import enterprises as ent
from tasks import followup, obligations

enterprise_app = command_group(
    "Enterprises: members, legal form, business plan, legalisation steps.", "enterprise"
)
visit_app = command_group("Follow-up visits.", "visit")
protocol_app = command_group(
    "A case's follow-up: its hub's CLAI and Protocol, its visits, the next visit due.", "protocol"
)
obligation_app = command_group(
    "Dated obligations: registry filings, corrections, visits, commitments.", "obligation"
)

EnterpriseId = Annotated[int, typer.Argument(help="The enterprise number.")]
CaseArg = Annotated[int, typer.Argument(help="The case number.")]


def _date(value: str, what: str) -> date:
    return parse_date(value, what)


# ---------------------------------------------------------------------------------- enterprise


@enterprise_app.command("form")
def enterprise_form(
    by: By,
    case: Annotated[int, typer.Option("--case", help="The case the enterprise belongs to.")],
    name: Annotated[str, typer.Option(help="The enterprise's name.")],
    activity: Annotated[str, typer.Option(help="Its productive activity.")],
    formed_on: Annotated[str, typer.Option("--formed-on", help="When it formed (YYYY-MM-DD).")],
    event: Annotated[
        int | None, typer.Option("--event", help="The training event (ECC) it formed at.")
    ] = None,
    family_agriculture: Annotated[
        bool, typer.Option("--family-agriculture", help="Family agriculture (CAF applies).")
    ] = False,
    member: Annotated[
        list[int] | None,
        typer.Option("--member", help="A member (person id, a participant of the case); repeat."),
    ] = None,
) -> None:
    """Record an enterprise group formed by participants of a case."""
    rt = runtime()
    members = list(member or [])
    enterprise_id = ent.form_enterprise(
        rt,
        {
            "case_id": case,
            "name": name,
            "activity": activity,
            "formed_on": _date(formed_on, "--formed-on"),
            "formed_at_event_id": event,
            "family_agriculture": family_agriculture,
            "member_ids": members,
        },
        actor=by,
    )
    say(
        Np_(
            "enterprise %(enterprise_id)s formed in case %(case_id)s (%(n)s member)",
            "enterprise %(enterprise_id)s formed in case %(case_id)s (%(n)s members)",
            len(members),
            enterprise_id=enterprise_id,
            case_id=case,
        )
    )


@enterprise_app.command("add-member")
def enterprise_add_member(
    enterprise_id: EnterpriseId,
    person: Annotated[list[int], typer.Argument(help="Person ids (participants of the case).")],
    by: By,
) -> None:
    """Add participants of the case as members (all or none)."""
    rt = runtime()
    added = ent.add_members(rt, enterprise_id, person, actor=by)
    with rt.db.read() as session:
        total = ent.member_count(session, enterprise_id)
    say(
        Np_(
            "enterprise %(enterprise_id)s: %(n)s member added (%(total)s in all)",
            "enterprise %(enterprise_id)s: %(n)s members added (%(total)s in all)",
            added,
            enterprise_id=enterprise_id,
            total=total,
        )
    )


@enterprise_app.command("legal-form")
def enterprise_legal_form(
    enterprise_id: EnterpriseId,
    form: Annotated[str, typer.Argument(help=one_of(f.value for f in CHOOSABLE_FORMS))],
    by: By,
) -> None:
    """Choose the legal form; its member minimum must already be met."""
    ent.set_legal_form(runtime(), enterprise_id, form, actor=by)
    say(
        N_(
            "enterprise %(enterprise_id)s: legal form %(form)s",
            enterprise_id=enterprise_id,
            form=form,
        )
    )


@enterprise_app.command("size")
def enterprise_size(
    enterprise_id: EnterpriseId,
    size: Annotated[
        str,
        typer.Argument(
            help=one_of(
                (c.value for c in SizeCategory),
                M_(
                    "One of: %(values)s, or none (LC 123/2006 art. 3; not for cooperatives but "
                    "consumer cooperatives)."
                ),
            )
        ),
    ],
    by: By,
) -> None:
    """Choose the size category (ME or EPP), beside a legal form that can take it."""
    ent.set_size_category(runtime(), enterprise_id, None if size == "none" else size, actor=by)
    say(
        N_(
            "enterprise %(enterprise_id)s: size category %(size)s",
            enterprise_id=enterprise_id,
            size=size,
        )
    )


@enterprise_app.command("leave")
def enterprise_leave(
    enterprise_id: EnterpriseId,
    person: Annotated[int, typer.Argument(help="The member who leaves (person id).")],
    by: By,
    left_on: Annotated[str, typer.Option("--on", help="When the member left (YYYY-MM-DD).")],
    reason: Annotated[str, typer.Option(help="Why the member left.")],
) -> None:
    """Record that a member left; a cooperative below its minimum gets an obligation to restore
    it (Lei 5.764/1971 art. 63 IV)."""
    rt = runtime()
    opened = ent.member_leaves(
        rt, enterprise_id, person, left_on=_date(left_on, "--on"), reason=reason, actor=by
    )
    with rt.db.read() as session:
        total = ent.member_count(session, enterprise_id)
    say(
        Np_(
            "enterprise %(enterprise_id)s: person %(person_id)s left on %(day)s (%(n)s member)",
            "enterprise %(enterprise_id)s: person %(person_id)s left on %(day)s (%(n)s members)",
            total,
            enterprise_id=enterprise_id,
            person_id=person,
            day=_date(left_on, "--on"),
        )
    )
    if opened is not None:
        say(
            N_(
                "obligation %(id)s: %(description)s (due %(due_on)s)",
                id=opened.id,
                description=opened.description,
                due_on=opened.due_on,
            )
        )


@enterprise_app.command("plan")
def enterprise_plan(
    enterprise_id: EnterpriseId,
    by: By,
    document: Annotated[str, typer.Option(help="The business plan's document reference.")],
    approved_on: Annotated[
        str, typer.Option("--approved-on", help="When it was approved (YYYY-MM-DD).")
    ],
) -> None:
    """Record the enterprise's business plan."""
    ent.set_business_plan(
        runtime(),
        enterprise_id,
        document=document,
        approved_on=_date(approved_on, "--approved-on"),
        actor=by,
    )
    say(
        N_(
            "enterprise %(enterprise_id)s: business plan %(document)s",
            enterprise_id=enterprise_id,
            document=document.strip(),
        )
    )


@enterprise_app.command("step")
def enterprise_step(
    enterprise_id: EnterpriseId,
    step: Annotated[str, typer.Argument(help=one_of(ent.STEP_RULES))],
    by: By,
    done_on: Annotated[str, typer.Option("--done-on", help="When it was done (YYYY-MM-DD).")],
    reference: Annotated[
        str | None,
        typer.Option(help="Protocol number, registry, the CNPJ for the cnpj step, ..."),
    ] = None,
    waived_reason: Annotated[
        str | None, typer.Option("--waived-reason", help="Why the step is waived (licence).")
    ] = None,
) -> None:
    """Record a legalisation step, in legal order."""
    rt = runtime()
    ent.record_step(
        rt,
        enterprise_id,
        step,
        done_on=_date(done_on, "--done-on"),
        reference=reference,
        waived_reason=waived_reason,
        actor=by,
    )
    with rt.db.read() as session:
        detail = ent.enterprise_detail(session, enterprise_id)
    upcoming = ", ".join(detail["next_steps"] or [])
    say(
        N_(
            "enterprise %(enterprise_id)s: %(step)s recorded; next: %(steps)s",
            enterprise_id=enterprise_id,
            step=step,
            steps=upcoming,
        )
        if upcoming
        else N_(
            "enterprise %(enterprise_id)s: %(step)s recorded; no step left",
            enterprise_id=enterprise_id,
            step=step,
        )
    )


@enterprise_app.command("no-cnpj")
def enterprise_no_cnpj(
    enterprise_id: EnterpriseId,
    by: By,
    reason: Annotated[str, typer.Option(help="Why the enterprise will not get a CNPJ.")],
) -> None:
    """Record why an enterprise will not be legalised (it then does not hold the case)."""
    ent.set_no_cnpj_reason(runtime(), enterprise_id, reason, actor=by)
    say(N_("enterprise %(enterprise_id)s: reason recorded", enterprise_id=enterprise_id))


@enterprise_app.command("show")
def enterprise_show(enterprise_id: EnterpriseId, as_json_: Json = False) -> None:
    """One enterprise: members, legal form, plan, steps done and remaining, CNPJ, visits."""
    rt = runtime()
    with rt.db.read() as session:
        d = ent.enterprise_detail(session, enterprise_id, today=rt.today())
    if as_json_:
        echo(as_json(d))
        return
    plan = d["business_plan"]
    head: dict[str, Any] = {
        "enterprise": f"{d['id']} {d['name']}",
        "case": d["case_id"],
        "activity": d["activity"],
        "formed_on": d["formed_on"],
        "family_agriculture": d["family_agriculture"],
        "members": f"{d['members']} ({', '.join(map(str, d['member_ids'])) or 'none'})",
        "former_members": len(d["former_members"]) or None,
        "legal_form": d["legal_form"],
        "size_category": d["size_category"],
        "registry": d["registry"],
        "filing_deadline": d["filing_deadline_basis"],
        "business_plan": f"{plan['document']} ({plan['approved_on']})" if plan else None,
        "cnpj": d["cnpj"] or (f"none: {d['no_cnpj_reason']}" if d["no_cnpj_reason"] else None),
        "remaining_steps": d["remaining_steps"],
        "next_steps": d["next_steps"],
    }
    echo(fields(head))
    if d["steps"]:
        echo("")
        echo(
            table(
                d["steps"],
                [
                    ("step", "step"),
                    ("done_on", "done on"),
                    ("reference", "reference"),
                    ("waived_reason", "waived because"),
                    ("recorded_by", "by"),
                ],
            )
        )
    if d["obligations"]:
        echo("")
        echo(_obligation_table(d["obligations"]))
    if d["visits"]:
        echo("")
        echo(_visit_table(d["visits"]))


@enterprise_app.command("list")
def enterprise_list(
    case: Annotated[int | None, typer.Option("--case", help="Only this case's.")] = None,
    form: Annotated[str | None, typer.Option("--form", help="Only this legal form.")] = None,
    as_json_: Json = False,
) -> None:
    """Enterprises with their legal form, members and legalisation progress."""
    rt = runtime()
    with rt.db.read() as session:
        rows = ent.list_enterprises(session, case_id=case, legal_form=form)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("id", "id"),
                ("case_id", "case"),
                ("name", "name"),
                ("legal_form", "form"),
                ("members", "members"),
                ("business_plan", "plan"),
                ("last_step", "last step"),
                ("cnpj", "cnpj"),
            ],
        )
    )
    say(Np_("%(n)s enterprise", "%(n)s enterprises", len(rows)))


# ---------------------------------------------------------------------------------- visit


def _visit_table(rows: list[dict[str, Any]]) -> str:
    return table(
        rows,
        [
            ("id", "visit"),
            ("visited_on", "date"),
            ("enterprise_id", "enterprise"),
            ("visitor", "by"),
            ("active", "active"),
            ("members", "members"),
            ("monthly_income", "income"),
            ("findings", "findings"),
        ],
    )


@visit_app.command("add")
def visit_add(
    by: By,
    case: Annotated[int, typer.Option("--case", help="The case visited.")],
    visited_on: Annotated[str, typer.Option("--date", help="The visit's date (YYYY-MM-DD).")],
    findings: Annotated[str, typer.Option(help="What the visit found.")],
    enterprise: Annotated[
        int | None, typer.Option("--enterprise", help="The enterprise visited.")
    ] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Is the enterprise still active?"),
    ] = None,
    members: Annotated[
        int | None, typer.Option("--members", help="The enterprise's members now.")
    ] = None,
    income: Annotated[
        str | None, typer.Option("--income", help="Its monthly income (BRL, e.g. 1850.00).")
    ] = None,
    visitor: Annotated[str | None, typer.Option(help="Who visited (default: --by).")] = None,
) -> None:
    """Record a follow-up visit; it satisfies the visit due and opens the next."""
    rt = runtime()
    visit_id = followup.record_visit(
        rt,
        {
            "case_id": case,
            "visited_on": _date(visited_on, "--date"),
            "findings": findings,
            "enterprise_id": enterprise,
            "active": active,
            "members": members,
            "monthly_income": income,
            "visitor": visitor,
        },
        actor=by,
    )
    with rt.db.read() as session:
        due = obligations.list_obligations(
            session, today=rt.today(), case_id=case, kind=obligations.FOLLOW_UP_VISIT
        )
    say(
        N_(
            "visit %(visit_id)s recorded for case %(case_id)s; next visit due %(due_on)s",
            visit_id=visit_id,
            case_id=case,
            due_on=due[0]["due_on"],
        )
        if due
        else N_("visit %(visit_id)s recorded for case %(case_id)s", visit_id=visit_id, case_id=case)
    )


@visit_app.command("list")
def visit_list(
    case: Annotated[int, typer.Option("--case", help="The case.")],
    as_json_: Json = False,
) -> None:
    """The case's visits, oldest first."""
    rt = runtime()
    with rt.db.read() as session:
        rows = followup.list_visits(session, case)
    if as_json_:
        echo(as_json(rows))
        return
    echo(_visit_table(rows))
    say(Np_("%(n)s visit", "%(n)s visits", len(rows)))


# ---------------------------------------------------------------------------------- protocol


@protocol_app.callback()
def protocol_group() -> None:
    """A case's follow-up: its hub's CLAI and Protocol, its visits, the next visit due."""
    # a callback keeps `show` a sub-command while it is the group's only command


@protocol_app.command("show")
def protocol_show(case_id: CaseArg, as_json_: Json = False) -> None:
    """The case's follow-up: its hub's CLAI and Protocol (with the commitments), its visits and
    the next visit due (the CLAI and the Protocol are kept with ``produzir hub``)."""
    rt = runtime()
    with rt.db.read() as session:
        d = followup.follow_up_detail(
            session,
            case_id,
            today=rt.today(),
            follow_up_months=rt.lifecycle.config.thresholds.follow_up_months,
        )
    if as_json_:
        echo(as_json(d))
        return
    clai, protocol = d["clai"], d["protocol"]
    echo(
        fields(
            {
                "case": d["case_id"],
                "state": d["state"],
                "hub": d["hub"],
                "clai": (
                    f"installed {clai['installed_on']}: {', '.join(clai['members'])}"
                    if clai
                    else "not installed"
                ),
                "protocol": (
                    f"signed {protocol['signed_on']}: {', '.join(protocol['signatories'])}"
                    if protocol
                    else "not signed"
                ),
                "follow_up": (
                    f"{d['follow_up_since']} to {d['follow_up_ends']}"
                    if d["follow_up_since"]
                    else None
                ),
                "visits": len(d["visits"]),
                "next_visit_due": d["next_visit_due"],
            }
        )
    )
    if d["commitments"]:
        echo("")
        echo(
            table(
                d["commitments"],
                [
                    ("id", "commitment"),
                    ("partner", "partner"),
                    ("action", "action"),
                    ("due_on", "due"),
                    ("done_on", "done"),
                    ("days_late", "days late"),
                ],
            )
        )


# ---------------------------------------------------------------------------------- obligation


def _obligation_table(rows: list[dict[str, Any]]) -> str:
    return table(
        rows,
        [
            ("id", "id"),
            ("case_id", "case"),
            ("kind", "kind"),
            ("description", "what"),
            ("due_on", "due"),
            ("satisfied_on", "satisfied"),
            ("days_late", "days late"),
        ],
    )


@obligation_app.callback()
def obligation_group() -> None:
    """Dated obligations: registry filings, corrections, visits, commitments."""
    # a callback keeps `list` a sub-command even while it is the group's only command


@obligation_app.command("list")
def obligation_list(
    case: Annotated[int | None, typer.Option("--case", help="Only this case's.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open ones past their due date.")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Satisfied ones too (and closed cases').")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Judge lateness on this date (default today)."),
    ] = None,
    as_json_: Json = False,
) -> None:
    """Open dated obligations, earliest due first, with the days late."""
    if overdue and all_:
        raise InvalidInput(N_("give --overdue or --all, not both"))
    rt = runtime()
    today = _date(as_of, "--as-of") if as_of else rt.today()
    with rt.db.read() as session:
        rows = obligations.list_obligations(
            session,
            today=today,
            case_id=case,
            open_only=not all_,
            overdue=overdue,
            include_closed_cases=all_,
        )
    if as_json_:
        echo(as_json(rows))
        return
    echo(_obligation_table(rows))
    late = sum(1 for r in rows if r["satisfied_on"] is None and r["days_late"])
    say(
        Np_(
            "%(n)s obligation, %(late)s overdue on %(today)s",
            "%(n)s obligations, %(late)s overdue on %(today)s",
            len(rows),
            late=late,
            today=today,
        )
    )
