"""The board (``/``), the deadlines list (``/due``) and the bulk action (``/bulk``).

- Board: the cases of the user's territory with a chip per state (its count), filters (UF,
  municipality, coordinator, activity, overdue, a search in community and municipality names)
  and 50 rows a page; case workers tick cases and choose an event for the bulk action.
- Due: the state deadlines and the open dated obligations due within a few days or already past,
  most late first, each naming what is due.
- Bulk: the cases ticked on the board and the form of the chosen event's evidence; posting it
  fires the event on each case through :func:`flows.bulk.advance_each` (one transaction per
  case, :func:`tasks.cases.advance` underneath) and shows which cases moved and which were
  refused, with the guard's sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from console.web.deps import DbRead, Rt, WebUser
from console.web.pages_common import (
    PAGE_SIZE,
    clamp_offset,
    days_until,
    may,
    pager,
    query_values,
    scope_ufs,
    uf_clause,
)
from console.web.pages_forms import (
    FORM_LEVEL,
    EvidenceForm,
    evidence_from_form,
    field_errors,
    form_of,
    posted_values,
)
from console.web.pages_queries import (
    FIGURES,
    board_rows,
    coordinators,
    due_rows,
)
from console.web.policy import case_scope, require_case
from console.web.templating import language_of, render
from states import queries
from states.directory import User
from states.errors import InvalidInput
from states.models import Case, Municipality
from states.queries import CaseFilter
from states.records import PriorityArea
from states.states import ALL
from states.territory import configured_modules
from states.text import M_, N_, Text
from tasks.runtime import Runtime
from tasks.users import UFS

router = APIRouter(include_in_schema=False)

#: cases one bulk action may name
MAX_BULK = 1000
#: how far ahead /due looks by default (days)
DUE_SOON_DAYS = 7

OBLIGATION_LABELS = {
    "registry_filing": M_("Registry filing"),
    "registry_correction": M_("Correction requested by the registry"),
    "follow_up_visit": M_("Follow-up visit"),
    "protocol_commitment": M_("Protocol commitment"),
    "survey_wave": M_("Participants' survey"),
    "registry_filing_target": M_("Registry filing (programme target)"),
    "mei_revenue_cap": M_("MEI revenue cap exceeded"),
    "membership_minimum": M_("Members below the legal minimum"),
}


@dataclass(frozen=True)
class Chip:
    state: str | None
    count: int
    href: str
    active: bool


def _chips(request: Request, counts: Mapping[str, Any], current: str | None) -> list[Chip]:
    def href(state: str | None) -> str:
        url = request.url.remove_query_params(["state", "offset"])
        if state:
            url = url.include_query_params(state=state)
        return f"{url.path}?{url.query}" if url.query else url.path

    total = sum(c.cases for c in counts.values())
    chips = [Chip(None, total, href(None), current is None)]
    # the shipped states, then those of other lifecycle versions that have cases
    codes = [s.value for s in ALL]
    codes += sorted(code for code in counts if code not in codes)
    chips += [
        Chip(code, counts[code].cases if code in counts else 0, href(code), current == code)
        for code in codes
    ]
    return chips


@router.get("/", name="board")
def board(
    request: Request,
    rt: Rt,
    user: WebUser,
    db: DbRead,
    state: Annotated[str, Query(max_length=20)] = "",
    uf: Annotated[str, Query(max_length=20)] = "",
    municipality: Annotated[str, Query(max_length=120)] = "",
    coordinator: Annotated[str, Query(max_length=64)] = "",
    activity: Annotated[str, Query(max_length=200)] = "",
    module: Annotated[str, Query(max_length=40)] = "",
    area: Annotated[str, Query(max_length=120)] = "",
    overdue: bool = False,
    q: Annotated[str, Query(max_length=200)] = "",
    order: Annotated[str, Query(pattern="^(recent|due)$")] = "recent",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    today = rt.today()
    offset = clamp_offset(offset)
    values = query_values(
        request,
        "state",
        "uf",
        "municipality",
        "coordinator",
        "activity",
        "module",
        "area",
        "q",
        "order",
    )
    values["overdue"] = overdue
    errors: dict[str, Text | str] = {}
    rows: list[dict[str, Any]] = []
    counts: dict[str, Any] = {}
    total = 0
    scope = case_scope(user)
    try:
        every_state = CaseFilter(
            uf=uf.strip() or None,
            municipality=municipality.strip() or None,
            coordinator=coordinator.strip() or None,
            overdue=overdue,
            search=q.strip() or None,
            ufs=scope,
            module=module.strip() or None,
            priority_area=area.strip() or None,
        )
        chosen = replace(every_state, state=state or None)
    except InvalidInput as exc:
        errors[exc.field or FORM_LEVEL] = exc.text
    else:
        wanted = activity.strip() or None
        counts = FIGURES.get(
            db,
            ("board", every_state, today, wanted),
            lambda: queries.count_by_state(db, every_state, today=today, activity=wanted),
        )
        if state:
            found = counts.get(state)
            total = (found.overdue if overdue else found.cases) if found else 0
        else:
            total = sum((c.overdue if overdue else c.cases) for c in counts.values())
        rows = board_rows(
            db,
            chosen,
            today=today,
            scope=None,  # the territory is in the filter (ufs)
            activity=wanted,
            order=order,
            limit=PAGE_SIZE,
            offset=offset,
        )
    for row in rows:
        row["due_days"] = days_until(row["due_on"], today)
    ufs = scope_ufs(user)
    bulk_events = []
    if may(user, "bulk"):
        present = {s for s, c in counts.items() if c.cases}
        # each case's state under its own version: the events any loaded version accepts there
        accepted = {
            e for s in present for lc in rt.lifecycles.values() for e in lc.allowed_events(s)
        }
        bulk_events = [spec for spec in rt.all_events.values() if spec.name in accepted]
    return render(
        request,
        "web/board.html",
        {
            "rows": rows,
            "chips": _chips(request, counts, state or None),
            "values": values,
            "errors": errors,
            "ufs": ufs if ufs is not None else list(UFS),
            "coordinators": coordinators(db, ufs),
            "modules": [(m.code, m.label) for m in configured_modules().modules],
            "areas": sorted(set(db.execute(select(PriorityArea.name)).scalars())),
            "pager": pager(request, offset=offset, limit=PAGE_SIZE, shown=len(rows), total=total),
            "bulk_events": bulk_events,
            "today": today,
        },
    )


@router.get("/due", name="due")
def due(
    request: Request,
    rt: Rt,
    user: WebUser,
    db: DbRead,
    days: Annotated[int, Query(ge=0, le=365)] = DUE_SOON_DAYS,
    uf: Annotated[str, Query(max_length=2)] = "",
    mine: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    today = rt.today()
    offset = clamp_offset(offset)
    rows, more = due_rows(
        db,
        today=today,
        until=today + timedelta(days=days),
        scope=uf_clause(user),
        uf=uf.strip() or None,
        coordinator=user.username if mine else None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    ufs = scope_ufs(user)
    return render(
        request,
        "web/due.html",
        {
            "rows": rows,
            "days": days,
            "values": {"uf": uf, "mine": mine, "days": days},
            "ufs": ufs if ufs is not None else list(UFS),
            "obligation_labels": OBLIGATION_LABELS,
            "pager": pager(request, offset=offset, limit=PAGE_SIZE, shown=len(rows), more=more),
        },
    )


# --- bulk -------------------------------------------------------------------------------------


def _parse_ids(texts: list[str]) -> list[int]:
    ids: list[int] = []
    for text in texts:
        for part in text.replace(",", " ").replace(";", " ").split():
            if not part.isdigit() or len(part) > 12:
                raise InvalidInput(N_("invalid case number %(part)s", part=repr(part)), field="ids")
            ids.append(int(part))
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_BULK:
        raise InvalidInput(
            N_("at most %(MAX_BULK)s cases per bulk action", MAX_BULK=MAX_BULK), field="ids"
        )
    return ids


def _selected(db: Any, user: User, rt: Runtime, ids: list[int]) -> list[dict[str, Any]]:
    """The cases named, each checked against the user's territory (404 otherwise)."""
    for case_id in ids:
        require_case(db, user, case_id)
    if not ids:
        return []
    today = rt.today()
    found = {
        c.id: queries.case_row(c, m, today)
        for c, m in db.execute(
            select(Case, Municipality)
            .join(Municipality, Case.municipality_code == Municipality.ibge_code)
            .where(Case.id.in_(ids))
        )
    }
    return [found[i] for i in ids if i in found]


def _bulk_page(
    request: Request,
    rt: Runtime,
    user: User,
    db: Any,
    *,
    ids: list[int],
    event: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, Text | str] | None = None,
    status_code: int = 200,
) -> Response:
    spec = rt.event_spec(event)
    evidence_form: EvidenceForm | None = form_of(spec.evidence) if spec else None
    cases = _selected(db, user, rt, ids)
    for row in cases:
        row["accepts"] = bool(spec) and any(
            event in lc.allowed_events(row["state"]) for lc in rt.lifecycles.values()
        )
    return render(
        request,
        "web/bulk.html",
        {
            "cases": cases,
            "ids_text": " ".join(str(i) for i in ids),
            "event": event if spec else "",
            "spec": spec,
            "form": evidence_form,
            "events": tuple(rt.all_events.values()),
            "values": dict(values or {}),
            "errors": dict(errors or {}),
        },
        status_code=status_code,
    )


@router.get("/bulk", name="bulk")
def bulk(
    request: Request,
    rt: Rt,
    user: WebUser,
    db: DbRead,
    case_id: Annotated[list[int], Query(max_length=MAX_BULK)] = [],  # noqa: B006 - FastAPI copies it
    ids: Annotated[str, Query(max_length=20_000)] = "",
    event: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    errors: dict[str, Text | str] = {}
    try:
        chosen = _parse_ids([*(str(i) for i in case_id), ids])
    except InvalidInput as exc:
        chosen, errors["ids"] = [], exc.text
    if event and rt.event_spec(event) is None:
        errors["event"] = M_("Unknown event.")
    return _bulk_page(
        request,
        rt,
        user,
        db,
        ids=chosen,
        event=event,
        errors=errors,
        status_code=422 if errors else 200,
    )


@router.post("/bulk", name="bulk.apply")
async def bulk_apply(request: Request, rt: Rt, user: WebUser) -> Response:
    form = await request.form()
    values = posted_values(form)
    id_texts = [v for v in form.getlist("case_id") if isinstance(v, str)]
    return await run_in_threadpool(_bulk_apply, request, rt, user, values, id_texts)


def _bulk_apply(
    request: Request, rt: Runtime, user: User, values: dict[str, str], id_texts: list[str]
) -> Response:
    event = values.get("event", "")
    with rt.db.read() as db:
        try:
            ids = _parse_ids(id_texts)
        except InvalidInput as exc:
            return _bulk_page(
                request,
                rt,
                user,
                db,
                ids=[],
                event=event,
                values=values,
                errors={"ids": exc.message},
                status_code=422,
            )
        for case_id in ids:  # a case outside the territory: 404, before anything is written
            require_case(db, user, case_id)
        spec = rt.event_spec(event)
        if spec is None or not ids:
            errors = {"event": M_("Unknown event.")} if spec is None else {}
            if not ids:
                errors["ids"] = M_("Enter case numbers.")
            return _bulk_page(
                request,
                rt,
                user,
                db,
                ids=ids,
                event=event,
                values=values,
                errors=errors,
                status_code=422,
            )
        evidence_form = form_of(spec.evidence)
        try:
            evidence = evidence_from_form(evidence_form, values)
            rt.lifecycle.parse_evidence(event, evidence)  # the same model the operation uses
        except InvalidInput as exc:
            return _bulk_page(
                request,
                rt,
                user,
                db,
                ids=ids,
                event=event,
                values=values,
                errors=field_errors(exc, evidence_form, language_of(request)),
                status_code=422,
            )
    from flows.bulk import advance_each  # Prefect is loaded only when a bulk action runs

    report = advance_each(
        rt, ids, event, evidence, actor=user.username, note=values.get("note") or None
    )
    return render(
        request,
        "web/bulk_result.html",
        {"report": report, "spec": spec},
    )
