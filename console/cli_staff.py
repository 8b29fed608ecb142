"""``produzir staff``: the roster of the programme's staff and external multipliers.

``staff add`` puts a user of the system (``--user``) or an external multiplier (``--name``,
optional ``--email``/``--phone``) on the roster with their function (``--role``) and
organisation; ``staff list`` and ``staff show`` read it (show: the events a member instructs,
the ECMs they are enrolled in, their days and certificate); ``staff deactivate`` takes a member
off the choices for instructors and ECM enrolment (members are never deleted).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, out, runtime
from console.output import as_json, echo, fields, table
from states.text import N_, Np_
from tasks import staff

app = command_group("Staff and multipliers: the roster of instructors and ECM trainees.", "staff")

StaffId = Annotated[int, typer.Argument(help="The staff member's number.")]


@app.command("add")
def staff_add(
    by: By,
    role: Annotated[
        str, typer.Option(help="The function in the programme (instrutor, multiplicador ...).")
    ],
    user: Annotated[
        str | None, typer.Option("--user", help="A user of the system (their user name).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="An external multiplier's name.")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="The institution they belong to.")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="An external's e-mail (optional).")
    ] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="An external's phone (optional).")
    ] = None,
    as_json_: Json = False,
) -> None:
    """Put a user (--user) or an external multiplier (--name) on the roster; prints the
    number."""
    staff_id = staff.add_staff(
        runtime(),
        {
            "username": user,
            "name": name,
            "role": role,
            "organisation": organisation,
            "email": email,
            "phone": phone,
        },
        actor=by,
    )
    if as_json_:
        echo(as_json({"staff_id": staff_id}))
        return
    out(N_("staff member %(staff_id)s added", staff_id=staff_id))


@app.command("list")
def staff_list(
    active_only: Annotated[
        bool, typer.Option("--active-only", help="Leave out inactive members.")
    ] = False,
    as_json_: Json = False,
) -> None:
    """List the roster."""
    rows = staff.list_staff(runtime(), include_inactive=not active_only)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("staff_id", "staff"),
                ("kind", "kind"),
                ("name", "name"),
                ("username", "user"),
                ("role", "role"),
                ("organisation", "organisation"),
                ("active", "active"),
            ],
        )
    )
    out(Np_("%(n)s staff member", "%(n)s staff members", len(rows)))


@app.command("show")
def staff_show(staff_id: StaffId, as_json_: Json = False) -> None:
    """A member: the record, the events they instruct, the ECMs they attend."""
    record = staff.show_staff(runtime(), staff_id)
    if as_json_:
        echo(as_json(record))
        return
    echo(fields({k: v for k, v in record.items() if k not in ("instructs", "ecm")}))
    instructs: list[dict[str, Any]] = record["instructs"]
    if instructs:
        echo("")
        echo(
            table(
                instructs,
                [
                    ("event_id", "instructs"),
                    ("kind", "kind"),
                    ("title", "title"),
                    ("start_on", "start"),
                ],
            )
        )
    ecm: list[dict[str, Any]] = record["ecm"]
    if ecm:
        echo("")
        echo(
            table(
                ecm,
                [
                    ("event_id", "ECM"),
                    ("title", "title"),
                    ("days_attended", "days"),
                    ("session_days", "of"),
                    ("held_on", "held"),
                    ("certified", "certified"),
                ],
            )
        )


@app.command("deactivate")
def staff_deactivate(staff_id: StaffId, by: By) -> None:
    """Take a member off the choices for instructors and ECM enrolment (the events they
    instructed keep them)."""
    change = staff.deactivate_staff(runtime(), staff_id, actor=by)
    if change.changed:
        out(N_("staff member %(staff_id)s deactivated", staff_id=staff_id))
    else:
        out(N_("staff member %(staff_id)s was already inactive", staff_id=staff_id))
