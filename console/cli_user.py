"""``produzir user``: the staff who work cases and receive their messages.

``user add`` creates a user (role, territory UFs, language, time zone, daily digest or immediate
messages, opted-out categories), ``user list`` shows them, ``user disable`` stops their messages
(users are never deleted: their name stays on the cases they touched).
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from console.common import By, Json, command_group, out, runtime
from console.output import as_json, echo, table
from states.text import N_, Np_
from tasks import users

app = command_group(
    "Staff users: coordinators, supervisors, managers, auditors, administrators.", "user"
)

Username = Annotated[str, typer.Argument(help="The user name (lower-case letters, digits, .-_).")]


@app.command("add")
def user_add(
    username: Username,
    by: By,
    name: Annotated[str, typer.Option(help="Full name (used in messages).")],
    email: Annotated[str, typer.Option(help="E-mail address messages go to.")],
    role: Annotated[str, typer.Option(help="coordinator, supervisor, manager, auditor or admin.")],
    uf: Annotated[
        list[str] | None,
        typer.Option("--uf", help="A UF of the user's territory (repeat; none = everywhere)."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of messages: pt-BR or en.")] = (
        "pt-BR"
    ),
    tz: Annotated[
        str, typer.Option("--tz", help="IANA time zone (the digest's morning).")
    ] = "America/Sao_Paulo",
    immediate: Annotated[
        bool,
        typer.Option("--immediate", help="One message per notification instead of a digest."),
    ] = False,
    opt_out: Annotated[
        list[str] | None,
        typer.Option(
            "--opt-out",
            help="A category not to receive: reminder, assignment or transition (repeat); "
            "escalations cannot be opted out of.",
        ),
    ] = None,
    as_json_: Json = False,
) -> None:
    """Add a staff user."""
    raw: dict[str, Any] = {
        "username": username,
        "name": name,
        "email": email,
        "role": role,
        "territories": uf or [],
        "language": lang,
        "timezone": tz,
        "delivery": "immediate" if immediate else "digest",
        "opted_out": opt_out or [],
    }
    rt = runtime()
    change = users.add_user(rt, raw, actor=by)
    if as_json_:
        echo(as_json({"username": change.username, "added": True, "seq": change.seq}))
    else:
        out(N_("user %(username)s added", username=change.username))


@app.command("list")
def user_list(
    active_only: Annotated[
        bool, typer.Option("--active-only", help="Leave out disabled users.")
    ] = False,
    as_json_: Json = False,
) -> None:
    """List the staff users."""
    rows = users.list_users(runtime(), include_disabled=not active_only)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("username", "user"),
                ("name", "name"),
                ("role", "role"),
                ("territories", "UFs"),
                ("modules", "modules"),
                ("language", "lang"),
                ("timezone", "time zone"),
                ("delivery", "delivery"),
                ("opted_out", "opted out"),
                ("active", "active"),
            ],
        )
    )
    out(Np_("%(n)s user", "%(n)s users", len(rows)))


@app.command("disable")
def user_disable(username: Username, by: By) -> None:
    """Disable a user: no more messages to them (their history stays)."""
    change = users.disable_user(runtime(), username, actor=by)
    out(
        N_("user %(username)s disabled", username=username)
        if change.changed
        else N_("user %(username)s was already disabled", username=username)
    )


@app.command("set-password")
def user_set_password(
    username: Username,
    by: By,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a user's web console password (12+ characters); ends their sessions."""
    password = (
        sys.stdin.readline().rstrip("\r\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    users.set_password(runtime(), username, password, actor=by)
    out(N_("password of %(username)s set", username=username))
