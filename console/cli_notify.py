"""``produzir sweep`` and ``produzir notify``: deadlines watched, messages sent.

``sweep`` queues the reminders, escalations and time-driven transitions due now (or as of
``--now``); ``notify dispatch`` sends what the outbox holds; ``notify digests`` writes the daily
digests of the people whose morning has come, and the auditors' daily checkpoint e-mail; ``notify list`` shows the outbox (e.g. the failed
messages), ``notify retry`` puts a failed message back in the queue, ``notify preview`` shows
what a template says about a case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from console.common import By, Json, command_group, parse_instant, runtime
from console.common import out as say
from console.output import as_json, echo, table
from console.progress import fraction, progress_bar
from notifications import dispatch as dispatching
from notifications import outbox, render
from notifications.checkpoint_mail import send_checkpoint_mail
from notifications.digest import send_digests
from notifications.i18n import normalise
from notifications.i18n import render as render_text
from states.clock import FixedClock
from states.deadlines import local_date
from states.text import N_, Np_, Text
from tasks.sweep import sweep_deadlines

app = command_group(
    "Notifications: the outbox, its dispatch, the daily digests, template previews.", "notify"
)

Now = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Act as of this moment: an ISO datetime, or a date (its end, Brasília time).",
    ),
]


def _instant(now: str | None) -> datetime | None:
    return parse_instant(now, "--now") if now else None


def sweep(
    now: Now = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000)] = 1000,
    as_json_: Json = False,
) -> None:
    """Queue the reminders and escalations due now, and fire time-driven transitions."""
    rt = runtime()
    at = _instant(now)
    if at is not None:
        rt.clock = FixedClock(at)
    with progress_bar(N_("sweeping the deadlines")) as update:
        report = sweep_deadlines(rt, now=at, batch_size=batch_size, on_batch=fraction(update))
    if as_json_:
        echo(as_json(report.as_dict()))
        return
    say(
        N_(
            "sweep as of %(as_of)s: %(cases)s cases and %(obligations)s obligations checked; "
            "%(queued)s messages queued, %(already)s already queued, %(opted_out)s opted out, "
            "%(unaddressed)s with nobody to tell",
            as_of=report.as_of,
            cases=report.cases_checked,
            obligations=report.obligations_checked,
            queued=report.reminders_queued,
            already=report.already_queued,
            opted_out=report.opted_out,
            unaddressed=report.unaddressed,
        )
    )
    for moved in report.transitions:
        say(
            N_(
                "case %(case_id)s: %(event)s: %(state)s -> %(to_state)s",
                case_id=moved["case_id"],
                event=moved["event"],
                state=moved["state"],
                to_state=moved["to_state"],
            )
        )
    for refusal in report.refusals:
        say(
            N_(
                "case %(case_id)s: %(event)s not yet: %(reason)s",
                case_id=refusal["case_id"],
                event=refusal["event"],
                reason=refusal["reason"],
            )
        )
    for error in report.errors:
        say(
            N_(
                "case %(case_id)s: error: %(reason)s",
                case_id=error["case_id"],
                reason=error["reason"],
            ),
            err=True,
        )
    if report.failed > len(report.errors):
        say(
            Np_("... %(n)s case failed in all", "... %(n)s cases failed in all", report.failed),
            err=True,
        )


@app.command("dispatch")
def notify_dispatch(
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Send at most this many.")
    ] = None,
    as_json_: Json = False,
) -> None:
    """Send the messages whose time has come (retries included)."""
    report = dispatching.dispatch(runtime(), limit=limit)
    if as_json_:
        echo(as_json(report.as_dict()))
        return
    say(
        N_(
            "%(claimed)s claimed: %(sent)s sent, %(retried)s to retry, %(failed)s failed, "
            "%(skipped)s skipped",
            claimed=report.claimed,
            sent=report.sent,
            retried=report.retried,
            failed=report.failed,
            skipped=report.skipped,
        )
    )
    for failure in report.failures:
        say(
            N_("message %(id)s failed: %(error)s", id=failure["id"], error=failure["error"])
            if failure["final"]
            else N_(
                "message %(id)s will retry: %(error)s", id=failure["id"], error=failure["error"]
            )
        )


@app.command("digests")
def notify_digests(now: Now = None, as_json_: Json = False) -> None:
    """Write today's digest of each person whose morning has come (at most one a day), and
    queue the newest audit checkpoint to each auditor whose morning has come (once a day)."""
    rt, at = runtime(), _instant(now)
    report = send_digests(rt, now=at)
    mailed = send_checkpoint_mail(rt, now=at)
    if as_json_:
        echo(as_json({**report.as_dict(), "checkpoint_mail": mailed.as_dict()}))
        return
    say(
        Np_(
            "%(n)s digest gathering %(items)s messages; %(before)s people before their "
            "morning, %(already)s already had today's, %(nothing)s with nothing pending",
            "%(n)s digests gathering %(items)s messages; %(before)s people before their "
            "morning, %(already)s already had today's, %(nothing)s with nothing pending",
            report.digests,
            items=report.items,
            before=report.before_morning,
            already=report.already_sent,
            nothing=report.nothing_pending,
        )
    )
    say(
        Np_(
            "%(n)s checkpoint e-mail to auditors; %(before)s before their morning, "
            "%(already)s already had today's%(none)s",
            "%(n)s checkpoint e-mails to auditors; %(before)s before their morning, "
            "%(already)s already had today's%(none)s",
            mailed.queued,
            before=mailed.before_morning,
            already=mailed.already_sent,
            none=Text("", {})
            if mailed.tree_size is not None
            else N_(" (no checkpoint signed yet)"),
        )
    )


@app.command("list")
def notify_list(
    status: Annotated[
        str | None,
        typer.Option(help="pending, sending, sent, failed, digested or skipped."),
    ] = None,
    case: Annotated[int | None, typer.Option("--case", help="Only this case's.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Only this user's.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json_: Json = False,
) -> None:
    """The outbox, newest first."""
    rt = runtime()
    with rt.db.read() as session:
        rows = outbox.list_messages(
            session, status=status, case_id=case, recipient=recipient, limit=limit
        )
    if as_json_:
        echo(as_json(rows))
        return
    echo(
        table(
            rows,
            [
                ("id", "id"),
                ("status", "status"),
                ("category", "category"),
                ("step", "step"),
                ("case_id", "case"),
                ("recipient", "to"),
                ("due_on", "due"),
                ("attempts", "tries"),
                ("sent_at", "sent (UTC)"),
                ("last_error", "last error"),
            ],
        )
    )
    say(Np_("%(n)s message", "%(n)s messages", len(rows)))


@app.command("retry")
def notify_retry(
    message_id: Annotated[int, typer.Argument(help="The message number (notify list).")],
    by: By,
) -> None:
    """Put a failed message back in the queue; the next dispatch sends it."""
    dispatching.retry(runtime(), message_id, actor=by)
    say(N_("message %(id)s queued again", id=message_id))


@app.command("preview")
def notify_preview(
    template: Annotated[
        str, typer.Argument(help="reminder, escalation, assignment, transition or digest.")
    ],
    case: Annotated[int, typer.Option("--case", help="The case to take the data from.")],
    lang: Annotated[str, typer.Option("--lang", help="pt-BR or en.")] = "pt-BR",
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part too.")] = False,
    as_json_: Json = False,
) -> None:
    """What a template says about a case today (administrators' overrides included)."""
    rt = runtime()
    today = local_date(rt.clock.now(), "America/Sao_Paulo")
    with rt.db.read() as session:
        rendered = render.preview(session, template, case, lang, today=today)
    if as_json_:
        echo(as_json(rendered.__dict__))
        return
    # the whole preview in the message's language, its "Subject:" too
    typer.echo(render_text(N_("Subject: %(subject)s", subject=rendered.subject), normalise(lang)))
    echo("")
    echo(rendered.text.rstrip())
    if html:
        echo("")
        echo(rendered.html.rstrip())
