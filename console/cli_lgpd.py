"""``produzir lgpd``: the LGPD registers, for administrators: data subjects' requests (LGPD
art. 18, the statement due in 15 days, art. 19 II) and security incidents (Resolução CD/ANPD
15/2024: notices due in 3 working days, the register kept 5 years). Registered in
console/cli.py as the ``lgpd`` group.
"""

from __future__ import annotations

from typing import Annotated

import typer

from console.common import By, Json, command_group, out, parse_date, runtime
from console.output import as_json, echo, table
from states.text import N_, Np_
from tasks import lgpd

app = command_group(
    "LGPD registers: data subjects' requests and security incidents (administrators).", "lgpd"
)

Overdue = Annotated[bool, typer.Option("--overdue", help="Only the open ones past their due date.")]
OpenOnly = Annotated[bool, typer.Option("--open", help="Only the open ones.")]


@app.command("request-add")
def request_add(
    by: By,
    kind: Annotated[
        str,
        typer.Option(
            help="What is asked (LGPD art. 18): confirmation, access, correction, "
            "anonymisation, portability, erasure, sharing, consent, revocation."
        ),
    ],
    channel: Annotated[
        str, typer.Option(help="How it came: email, letter, in_person, phone, web.")
    ],
    details: Annotated[str, typer.Option(help="What is asked, as the data subject put it.")],
    received: Annotated[
        str | None, typer.Option(help="The day it was received (YYYY-MM-DD; default today).")
    ] = None,
    person: Annotated[
        int | None, typer.Option(help="The person's number, if they are registered.")
    ] = None,
    as_json_: Json = False,
) -> None:
    """Register a data subject's request; the full statement is due in 15 days."""
    row = lgpd.add_request(
        runtime(),
        kind=kind,
        channel=channel,
        details=details,
        received_on=parse_date(received, "received") if received else None,
        person_id=person,
        actor=by,
    )
    if as_json_:
        echo(as_json(row))
        return
    out(
        N_(
            "request %(id)s registered; the full statement is due on %(due)s",
            id=row["id"],
            due=row["due_on"],
        )
    )


@app.command("request-confirm")
def request_confirm(
    request: Annotated[int, typer.Argument(help="The request's number.")], by: By
) -> None:
    """Record that the request was confirmed to the data subject (at once, art. 19 I)."""
    lgpd.confirm_request(runtime(), request, actor=by)
    out(N_("request %(id)s confirmed", id=request))


@app.command("request-answer")
def request_answer(
    request: Annotated[int, typer.Argument(help="The request's number.")],
    by: By,
    answer: Annotated[str, typer.Option(help="What was given (e.g. the statement's number).")],
    on: Annotated[
        str | None, typer.Option(help="The day it was given (YYYY-MM-DD; default today).")
    ] = None,
) -> None:
    """Record the full statement given to the data subject (art. 19 II)."""
    row = lgpd.answer_request(
        runtime(),
        request,
        answer=answer,
        answered_on=parse_date(on, "on") if on else None,
        actor=by,
    )
    if row["days_late"]:
        out(
            Np_(
                "request %(id)s answered on %(day)s, %(n)s day after it was due",
                "request %(id)s answered on %(day)s, %(n)s days after it was due",
                row["days_late"],
                id=request,
                day=row["answered_on"],
            )
        )
        return
    out(N_("request %(id)s answered on %(day)s", id=request, day=row["answered_on"]))


@app.command("request-list")
def request_list(
    by: By, open_only: OpenOnly = False, overdue: Overdue = False, as_json_: Json = False
) -> None:
    """The register of data subjects' requests, earliest due first."""
    rows = lgpd.list_requests(runtime(), open_only=open_only, overdue=overdue)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("id", "request"),
                ("person_id", "person"),
                ("kind", "kind"),
                ("article", "article"),
                ("channel", "channel"),
                ("received_on", "received"),
                ("due_on", "due"),
                ("confirmed_at", "confirmed (UTC)"),
                ("answered_on", "answered"),
                ("days_late", "days late"),
            ],
        )
    )


@app.command("incident-add")
def incident_add(
    by: By,
    description: Annotated[str, typer.Option(help="What happened.")],
    data: Annotated[str, typer.Option(help="The kinds of personal data affected.")],
    known: Annotated[
        str | None,
        typer.Option(help="The day the controller learned of it (YYYY-MM-DD; default today)."),
    ] = None,
    occurred: Annotated[
        str | None, typer.Option(help="The day it happened, if known (YYYY-MM-DD).")
    ] = None,
    person: Annotated[
        list[int] | None, typer.Option(help="A registered person affected (repeat for each).")
    ] = None,
    people: Annotated[
        int | None, typer.Option(help="How many people in all (default: the people named).")
    ] = None,
    as_json_: Json = False,
) -> None:
    """Register a security incident; the notices are due in 3 working days."""
    row = lgpd.add_incident(
        runtime(),
        description=description,
        data_affected=data,
        known_on=parse_date(known, "known") if known else None,
        occurred_on=parse_date(occurred, "occurred") if occurred else None,
        person_ids=person or [],
        people_count=people,
        actor=by,
    )
    if as_json_:
        echo(as_json(row))
        return
    out(
        N_(
            "incident %(id)s registered; the notices to the ANPD and to the people are due on %(due)s",
            id=row["id"],
            due=row["due_on"],
        )
    )


@app.command("incident-notify")
def incident_notify(
    incident: Annotated[int, typer.Argument(help="The incident's number.")],
    by: By,
    anpd: Annotated[
        str | None, typer.Option(help="The day the ANPD was notified (YYYY-MM-DD).")
    ] = None,
    people: Annotated[
        str | None, typer.Option(help="The day the people affected were notified (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Record the notice to the ANPD and/or to the people affected."""
    lgpd.notify_incident(
        runtime(),
        incident,
        anpd_on=parse_date(anpd, "anpd") if anpd else None,
        people_on=parse_date(people, "people") if people else None,
        actor=by,
    )
    out(N_("incident %(id)s: notice recorded", id=incident))


@app.command("incident-list")
def incident_list(
    by: By, open_only: OpenOnly = False, overdue: Overdue = False, as_json_: Json = False
) -> None:
    """The incident register, earliest due first."""
    rows = lgpd.list_incidents(runtime(), open_only=open_only, overdue=overdue)
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("id", "incident"),
                ("known_on", "known"),
                ("data_affected", "data"),
                ("people_count", "people"),
                ("due_on", "due"),
                ("anpd_notified_on", "ANPD notified"),
                ("people_notified_on", "people notified"),
                ("days_late", "days late"),
                ("keep_until", "kept until"),
            ],
        )
    )
