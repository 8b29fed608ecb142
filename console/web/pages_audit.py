"""The auditor's pages: a case's full history, the chain verification, exports and the
personal-data access log. Reads only: nothing here writes.

- ``/audit/cases/{case_id}``: the case's audit events with filters (actor, event, period), and
  the case as it was at a chosen date (:func:`states.queries.case_at`, which folds the events'
  changes up to that moment).
- ``/audit/verify``: :func:`tasks.audit_log.verify_log` on request (one snapshot, incremental
  from the last verified checkpoint unless "full" is asked): entries checked, the tree's size
  and root, the newest signed checkpoint the log extends, and the first problem if any.
- ``/audit/cases/{case_id}/proof``: the case's proof bundle to download (JSON), for
  ``produzir audit check-proof`` to check offline.
- ``/audit/export``: the events of a case or of a period as CSV or JSON, streamed a batch at a
  time (a period may hold millions); the file name says what it holds.
- ``/audit/access-log``: who read whose personal data, when, why and through which channel
  (person ids only: the log holds no personal data).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from console import csv_cells
from console.web.deps import DbRead, Rt, WebUser
from console.web.pages_common import (
    clamp_offset,
    pager,
    parse_moment,
    pretty,
    query_values,
    uf_clause,
)
from console.web.pages_queries import (
    AccessQuery,
    EventQuery,
    access_log,
    audit_events,
    case_event_names,
    stream_events,
)
from console.web.policy import require_case
from console.web.templating import render
from notifications import codes
from states import queries
from states.audit import iso_utc
from states.errors import InvalidInput, NotFound
from states.text import M_, N_, Text
from tasks import audit_log
from tasks.runtime import Runtime

#: the case's fields, as the "case at a date" panel names them (msgids)
CASE_FIELDS: dict[str, str] = {
    "lifecycle_version": M_("Lifecycle version"),
    "previous_state": M_("Previous state"),
    "municipality_code": M_("Municipality (IBGE code)"),
    "community": M_("Community"),
    "forum": M_("Forum"),
    "forum_held_on": M_("Forum held on"),
    "activity": M_("Activity"),
    "proponent": M_("Proponent"),
    "proponent_cnpj": M_("Proponent's CNPJ"),
    "description": M_("Note"),
    "coordinator": M_("Coordinator"),
    "hub_municipality_code": M_("Hub (IBGE code)"),
    "registered_at": M_("Registered on"),
    "registered_by": M_("Registered by"),
    "entered_on": M_("In this state since"),
    "due_on": M_("Current deadline"),
    "extensions_used": M_("Extensions used"),
    "suspended_on": M_("Suspended on"),
    "paused_due_on": M_("Paused deadline"),
    "expected_resume_on": M_("Expected to resume on"),
    "rejected_on": M_("Rejected on"),
    "reopen_requested_by": M_("Reopening requested by"),
    "updated_at": M_("Updated at"),
    "updated_by": M_("Updated by"),
}
#: which of them are dates / instants (shown with Babel) or states
CASE_DATES = {"forum_held_on", "entered_on", "due_on", "suspended_on", "paused_due_on",
              "expected_resume_on", "rejected_on"}  # fmt: skip
CASE_INSTANTS = {"registered_at", "updated_at"}


router = APIRouter(include_in_schema=False)

AUDIT_PAGE = 100
EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "case_id",
    "case_version",
    "record_type",
    "record_id",
    "event",
    "from_state",
    "to_state",
    "actor",
    "note",
    "evidence",
    "changes",
    "lifecycle_version",
    "channel",
    "leaf_index",
    "entry",
)


def _event_filter(request: Request, user: Any, case_id: int | None) -> EventQuery:
    params = request.query_params
    return EventQuery(
        case_id=case_id,
        actor=(params.get("actor") or "").strip() or None,
        event=(params.get("event") or "").strip() or None,
        since=parse_moment(params.get("from"), "from", user, end_of_day=False),
        until=parse_moment(params.get("to"), "to", user, end_of_day=True),
    )


@router.get("/audit/cases/{case_id}", name="audit.case")
def audit_case(
    case_id: int,
    request: Request,
    rt: Rt,
    user: WebUser,
    db: DbRead,
    at: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    actor: Annotated[str, Query(max_length=64)] = "",
    event: Annotated[str, Query(max_length=40)] = "",
    from_: Annotated[str, Query(alias="from", max_length=20)] = "",
    to: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    offset = clamp_offset(offset)
    detail = queries.case_detail(db, case_id, today=rt.today())
    errors: dict[str, Text | str] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    try:
        q = _event_filter(request, user, case_id)
    except InvalidInput as exc:
        errors[exc.field or "from"] = exc.text
    else:
        rows, total = audit_events(db, q, scope=None, limit=AUDIT_PAGE, offset=offset)
        for row in rows:
            row["evidence_text"] = pretty(row["evidence"])
    as_of: dict[str, Any] | None = None
    at_error: Text | None = None
    if at:
        try:
            moment = parse_moment(at, "at", user, end_of_day=True)
            assert moment is not None
            as_of = queries.case_at(db, case_id, moment)
        except (InvalidInput, NotFound) as exc:
            at_error = exc.text
    return render(
        request,
        "web/audit_case.html",
        {
            "case": detail,
            "rows": rows,
            "values": {**query_values(request, "actor", "event", "from", "to", "at")},
            "errors": errors,
            "event_names": case_event_names(db, case_id),
            "as_of": as_of,
            "case_fields": CASE_FIELDS,
            "case_dates": CASE_DATES,
            "case_instants": CASE_INSTANTS,
            "at_error": at_error,
            "pager": pager(request, offset=offset, limit=AUDIT_PAGE, shown=len(rows), total=total),
            "export_query": f"case_id={case_id}",
        },
        status_code=422 if errors else 200,
    )


@router.get("/audit/verify", name="audit.verify")
def audit_verify(
    request: Request, rt: Rt, user: WebUser, run: bool = False, full: bool = False
) -> Response:
    result = audit_log.verify_log(rt, actor=user.username, full=full) if run else None
    problem_kind: Text | None = None
    if result is not None and result.problem is not None:
        kind = result.problem.kind
        problem_kind = codes.term_text("audit_problem", kind) or Text(kind, {})
    return render(
        request, "web/audit_verify.html", {"result": result, "problem_kind": problem_kind}
    )


@router.get("/audit/cases/{case_id}/proof", name="audit.proof")
def audit_proof(case_id: int, rt: Rt, user: WebUser, db: DbRead) -> Response:
    require_case(db, user, case_id)
    bundle = audit_log.prove_case(rt, case_id)
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="caso-{case_id}-prova.json"'},
    )


def _csv_cell(name: str, value: Any) -> str | int | float:
    # every cell opens in a spreadsheet as text, never as a formula (console.csv_cells)
    return csv_cells.cell(value)


def _csv_lines(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + take()  # a BOM: spreadsheets then read the file as UTF-8
    for i, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(c, row.get(c)) for c in EXPORT_COLUMNS])
        if i % 500 == 0:
            yield take()
    yield take()


def _json_chunks(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    yield "["
    for i, row in enumerate(rows):
        yield (
            ("," if i else "")
            + "\n"
            + json.dumps({c: row.get(c) for c in EXPORT_COLUMNS}, ensure_ascii=False)
        )
    yield "\n]\n"


def _streamed(rt: Runtime, q: EventQuery, scope: Any) -> Iterator[dict[str, Any]]:
    with rt.db.read() as session:
        yield from stream_events(session, q, scope=scope)


def _stamp(moment: datetime | None) -> str:
    return iso_utc(moment)[:10] if moment else ""


@router.get("/audit/export", name="audit.export")
def audit_export(
    request: Request,
    rt: Rt,
    user: WebUser,
    db: DbRead,
    case_id: Annotated[str, Query(max_length=12)] = "",
    format: Annotated[str, Query(max_length=4)] = "",
    from_: Annotated[str, Query(alias="from", max_length=20)] = "",
    to: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    values = {"case_id": case_id, "from": from_, "to": to, "format": format or "csv"}
    errors: dict[str, Text | str] = {}
    case: int | None = None
    q: EventQuery | None = None
    if case_id.strip():
        if not case_id.strip().isdigit():
            errors["case_id"] = N_("%(value)s is not a case number", value=repr(case_id))
        else:
            case = int(case_id)
            require_case(db, user, case)  # outside the territory, or no such case: 404
    try:
        q = EventQuery(
            case_id=case,
            since=parse_moment(from_, "from", user, end_of_day=False),
            until=parse_moment(to, "to", user, end_of_day=True),
        )
    except InvalidInput as exc:
        errors[exc.field or "from"] = exc.text
    if format and format not in ("csv", "json"):
        errors["format"] = N_("format: csv or json")
    if (
        format
        and not errors
        and q is not None
        and q.case_id is None
        and q.since is None
        and q.until is None
    ):
        errors["case_id"] = M_("Give a case or a period.")
    if not format or errors or q is None:
        return render(
            request,
            "web/audit_export.html",
            {"values": values, "errors": errors},
            status_code=422 if errors else 200,
        )
    what = f"case-{case}" if case is not None else "period"
    period = "_".join(p for p in (_stamp(q.since), _stamp(q.until)) if p)
    name = f"produzir-audit-{what}{'-' + period if period else ''}.{format}"
    rows = _streamed(rt, q, uf_clause(user))
    if format == "csv":
        body: Iterator[str] = _csv_lines(rows)
        media = "text/csv; charset=utf-8"
    else:
        body = _json_chunks(rows)
        media = "application/json"
    return StreamingResponse(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/audit/access-log", name="audit.access_log")
def audit_access_log(
    request: Request,
    user: WebUser,
    db: DbRead,
    actor: Annotated[str, Query(max_length=64)] = "",
    person_id: Annotated[str, Query(max_length=12)] = "",
    channel: Annotated[str, Query(max_length=20)] = "",
    from_: Annotated[str, Query(alias="from", max_length=20)] = "",
    to: Annotated[str, Query(max_length=20)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    offset = clamp_offset(offset)
    errors: dict[str, Text | str] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    person: int | None = None
    if person_id.strip():
        if person_id.strip().isdigit():
            person = int(person_id)
        else:
            errors["person_id"] = N_("%(value)s is not a person number", value=repr(person_id))
    try:
        q = AccessQuery(
            actor=actor.strip() or None,
            person_id=person,
            channel=channel.strip() or None,
            since=parse_moment(from_, "from", user, end_of_day=False),
            until=parse_moment(to, "to", user, end_of_day=True),
        )
    except InvalidInput as exc:
        errors[exc.field or "from"] = exc.text
    if not errors:
        rows, total = access_log(db, q, limit=AUDIT_PAGE, offset=offset)
    return render(
        request,
        "web/audit_access_log.html",
        {
            "rows": rows,
            "values": query_values(request, "actor", "person_id", "channel", "from", "to"),
            "errors": errors,
            "pager": pager(request, offset=offset, limit=AUDIT_PAGE, shown=len(rows), total=total),
        },
        status_code=422 if errors else 200,
    )
