"""``produzir hub ...`` and ``produzir partner ...``: the programme's records around the cases.

A hub (polo) is a municipality serving several cases of its territory; its CLAI (members,
meetings) and its Protocol of Integrated Actions (signatories, dated commitments) are shared by
its cases (:mod:`tasks.hubs`). The register of partner institutions (name, CNPJ, sphere) is
what they name, by number or registered name; ``partner reach`` records a public policy an
enterprise reached through a partner (:mod:`tasks.partners`). Writes are for administrators and
the coordinators of the hub's territory (:mod:`console.policy`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import By, Json, command_group, parse_date, runtime
from console.common import out as say
from console.output import as_json, echo, fields, table
from states.text import N_, Np_
from tasks import hubs, partners

hub_app = command_group(
    "Hubs (polos): their cases, CLAI (members, meetings) and Protocol of Integrated Actions.",
    "hub",
)
partner_app = command_group(
    "The register of partner institutions, and the public policies enterprises reached.",
    "partner",
)

HubArg = Annotated[int, typer.Argument(help="The hub: its municipality's IBGE code.")]


@hub_app.command("create")
def hub_create(
    municipality: Annotated[int, typer.Argument(help="The municipality's IBGE code.")],
    by: By,
    designated_on: Annotated[
        str, typer.Option("--designated-on", help="When it was chosen as hub (YYYY-MM-DD).")
    ],
) -> None:
    """Designate a municipality as a development hub (a hub decision of a case does it too)."""
    code = hubs.create_hub(
        runtime(),
        municipality,
        designated_on=parse_date(designated_on, "--designated-on"),
        actor=by,
    )
    say(
        N_(
            "hub %(hub)s designated on %(day)s",
            hub=code,
            day=parse_date(designated_on, "--designated-on"),
        )
    )


@hub_app.command("list")
def hub_list(as_json_: Json = False) -> None:
    """The hubs, by UF and name, with their cases and whether CLAI and Protocol exist."""
    rt = runtime()
    with rt.db.read() as session:
        rows = hubs.list_hubs(session)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("hub", "hub"),
                ("name", "municipality"),
                ("uf", "UF"),
                ("designated_on", "designated"),
                ("cases", "cases"),
                ("clai", "CLAI"),
                ("protocol", "Protocol"),
            ],
        )
    )
    say(Np_("%(n)s hub", "%(n)s hubs", len(rows)))


@hub_app.command("show")
def hub_show(hub: HubArg, as_json_: Json = False) -> None:
    """The hub: its cases, CLAI with its meetings, Protocol with its commitments."""
    rt = runtime()
    with rt.db.read() as session:
        d = hubs.hub_detail(session, hub, today=rt.today())
    if as_json_:
        echo(as_json(d))
        return
    clai, protocol = d["clai"], d["protocol"]
    echo(
        fields(
            {
                "hub": f"{d['hub']} {d['name']} ({d['uf']})",
                "designated": d["designated_on"],
                "cases": ", ".join(str(c["id"]) for c in d["cases"]) or None,
                "clai": (
                    f"installed {clai['installed_on']}: {', '.join(clai['members'])}"
                    if clai
                    else "not installed"
                ),
                "meetings": len(d["meetings"]),
                "protocol": (
                    f"signed {protocol['signed_on']}: {', '.join(protocol['signatories'])}"
                    if protocol
                    else "not signed"
                ),
            }
        )
    )
    if d["meetings"]:
        echo("")
        echo(
            table(
                [
                    {
                        **m,
                        "present": ", ".join(m["present"]),
                        "decisions": "; ".join(m["decisions"]),
                    }
                    for m in d["meetings"]
                ],
                [
                    ("id", "meeting"),
                    ("held_on", "held"),
                    ("present", "present"),
                    ("decisions", "decisions"),
                ],
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


@hub_app.command("clai")
def hub_clai(
    hub: HubArg,
    by: By,
    installed_on: Annotated[
        str, typer.Option("--installed-on", help="When the CLAI was installed (YYYY-MM-DD).")
    ],
    member: Annotated[
        list[str], typer.Option("--member", help="A member partner (number or name); repeat.")
    ],
) -> None:
    """Record the installation of the hub's Comitê Local de Ação Integrada (CLAI)."""
    hubs.install_clai(
        runtime(),
        hub,
        installed_on=parse_date(installed_on, "--installed-on"),
        members=member,
        actor=by,
    )
    say(N_("hub %(hub)s: CLAI installed", hub=hub))


@hub_app.command("meeting")
def hub_meeting(
    hub: HubArg,
    by: By,
    held_on: Annotated[str, typer.Option("--held-on", help="When it met (YYYY-MM-DD).")],
    present: Annotated[
        list[str], typer.Option("--present", help="A partner present (number or name); repeat.")
    ],
    decision: Annotated[list[str], typer.Option("--decision", help="A decision taken; repeat.")],
) -> None:
    """Record a meeting of the hub's CLAI: date, institutions present, decisions."""
    meeting = hubs.record_meeting(
        runtime(),
        hub,
        held_on=parse_date(held_on, "--held-on"),
        present=present,
        decisions=decision,
        actor=by,
    )
    say(
        N_(
            "hub %(hub)s: CLAI meeting %(meeting)s on %(day)s",
            hub=hub,
            meeting=meeting,
            day=parse_date(held_on, "--held-on"),
        )
    )


@hub_app.command("sign")
def hub_sign(
    hub: HubArg,
    by: By,
    signed_on: Annotated[
        str, typer.Option("--signed-on", help="When the Protocol was signed (YYYY-MM-DD).")
    ],
    signatory: Annotated[
        list[str], typer.Option("--signatory", help="A signatory partner (number or name); repeat.")
    ],
) -> None:
    """Record the signing of the hub's Protocolo de Ações Integradas."""
    hubs.sign_protocol(
        runtime(),
        hub,
        signed_on=parse_date(signed_on, "--signed-on"),
        signatories=signatory,
        actor=by,
    )
    say(N_("hub %(hub)s: Protocol signed", hub=hub))


@hub_app.command("commit")
def hub_commit(
    hub: HubArg,
    by: By,
    partner: Annotated[str, typer.Option(help="The partner (number or name).")],
    action: Annotated[str, typer.Option(help="What it commits to do.")],
    due: Annotated[str, typer.Option("--due", help="By when (YYYY-MM-DD).")],
) -> None:
    """Add a partner's commitment to the hub's Protocol: an obligation of each of its cases."""
    commitment = hubs.add_commitment(
        runtime(), hub, partner=partner, action=action, due_on=parse_date(due, "--due"), actor=by
    )
    say(
        N_(
            "commitment %(commitment)s added to the Protocol of hub %(hub)s, due %(due_on)s",
            commitment=commitment,
            hub=hub,
            due_on=parse_date(due, "--due"),
        )
    )


@hub_app.command("done")
def hub_done(
    commitment_id: Annotated[int, typer.Argument(help="The commitment number.")],
    by: By,
    done_on: Annotated[str, typer.Option("--done-on", help="When it was done (YYYY-MM-DD).")],
) -> None:
    """Record that a partner kept a commitment (for every case of the hub)."""
    hubs.fulfil_commitment(
        runtime(), commitment_id, done_on=parse_date(done_on, "--done-on"), actor=by
    )
    say(
        N_(
            "commitment %(commitment)s done on %(day)s",
            commitment=commitment_id,
            day=parse_date(done_on, "--done-on"),
        )
    )


# ---------------------------------------------------------------------------------- partners


@partner_app.command("add")
def partner_add(
    by: By,
    name: Annotated[str, typer.Option("--name", help="The institution's name.")],
    sphere: Annotated[
        str,
        typer.Option("--sphere", help="federal, state, municipal, civil_society or international."),
    ],
    cnpj: Annotated[
        str | None, typer.Option("--cnpj", help="Its CNPJ (none for an international body).")
    ] = None,
) -> None:
    """Register a partner institution."""
    pid = partners.add_partner(runtime(), name=name, sphere=sphere, cnpj=cnpj, actor=by)
    say(N_("partner %(partner)s: %(name)s", partner=pid, name=name))


@partner_app.command("list")
def partner_list(
    sphere: Annotated[str | None, typer.Option("--sphere", help="Only this sphere's.")] = None,
    as_json_: Json = False,
) -> None:
    """The register of partner institutions, by name."""
    rt = runtime()
    with rt.db.read() as session:
        rows = partners.list_partners(session, sphere=sphere)
    if as_json_:
        echo(as_json(rows))
        return
    echo(table(rows, [("id", "partner"), ("name", "name"), ("cnpj", "CNPJ"), ("sphere", "sphere")]))
    say(Np_("%(n)s partner", "%(n)s partners", len(rows)))


@partner_app.command("reach")
def partner_reach(
    enterprise_id: Annotated[int, typer.Argument(help="The enterprise number.")],
    by: By,
    policy: Annotated[str, typer.Option("--policy", help="The public policy (PAA, PNAE, ...).")],
    on: Annotated[str, typer.Option("--on", help="When the enterprise reached it (YYYY-MM-DD).")],
    partner: Annotated[str, typer.Option("--partner", help="The partner that brought it.")],
) -> None:
    """Record a public policy an enterprise reached, through a partner (convergence)."""
    rid = partners.record_policy(
        runtime(),
        enterprise_id,
        policy=policy,
        reached_on=parse_date(on, "--on"),
        partner=partner,
        actor=by,
    )
    say(
        N_(
            "enterprise %(enterprise_id)s: %(policy)s reached on %(day)s (record %(record_id)s)",
            enterprise_id=enterprise_id,
            policy=policy,
            day=on,
            record_id=rid,
        )
    )


@partner_app.command("policies")
def partner_policies(
    enterprise_id: Annotated[int, typer.Argument(help="The enterprise number.")],
    as_json_: Json = False,
) -> None:
    """The public policies an enterprise reached, by date, with the partner of each."""
    rt = runtime()
    with rt.db.read() as session:
        rows = partners.policies_of(session, [enterprise_id])
    if as_json_:
        echo(as_json(rows))
        return
    echo(table(rows, [("policy", "policy"), ("reached_on", "reached"), ("partner", "partner")]))
