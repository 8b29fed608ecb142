"""The case page (``/cases/{case_id}``) and its actions (``POST /cases/{case_id}/advance``).

The page shows the case now (:func:`states.queries.case_detail`), its deadline, its open dated
obligations, the records linked to it (people as a count; training events, enterprises and
visits from :mod:`tasks`), the history timeline, and a form for each event the lifecycle
accepts in the case's state (:meth:`~states.lifecycle.Lifecycle.allowed_events`), made from
that event's evidence model (:mod:`console.web.pages_forms`). Roles that may not act see no
form at all (an auditor, an administrator), and the server refuses their posts anyway.

People's names appear only when asked for (``?people=1``), each read through
:func:`tasks.people.read_person` with the purpose "case page", which logs the access (channel
``web``); the page shows the names only.

A post runs :func:`tasks.cases.advance` with the version the page showed. Success redirects
(303) to the page with a notice. A refusal (the state does not accept the event, or the guard's
sentence) shows next to the form; a wrong field shows next to that field; a conflict (someone
changed the case after the page was shown) says who and when and offers a reload. In every case
the form comes back with what the user typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from console.web.deps import Rt, WebUser
from console.web.pages_common import clamp_offset, days_until, may, pager, pretty
from console.web.pages_forms import (
    FORM_LEVEL,
    EvidenceForm,
    evidence_from_form,
    field_errors,
    form_of,
    posted_values,
)
from console.web.pages_queries import EventQuery, audit_events
from console.web.templating import language_of, render
from notifications.i18n import render as render_text
from states import queries, record_views, store
from states.directory import User
from states.errors import Conflict, GuardFailed, InvalidInput, TransitionNotAllowed
from states.models import Case
from states.records import CaseParticipant, Hub
from states.text import N_
from tasks import cases as case_ops
from tasks import enterprises, followup, hubs, obligations, people, trainings
from tasks.runtime import Runtime

router = APIRouter(include_in_schema=False)

HISTORY_PAGE = 50
PEOPLE_PAGE = 50
PURPOSE = "case page"


@dataclass
class Action:
    """One event the user may fire now, with its form and what happened last time."""

    event: str
    form: EvidenceForm
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None
    #: the user posted this form and it came back (refused, wrong, or a conflict)
    posted: bool = False

    @property
    def open(self) -> bool:
        return self.posted

    @property
    def form_error(self) -> str | None:
        return self.errors.get(FORM_LEVEL)


@dataclass(frozen=True)
class Posted:
    """What a refused post brings back to the page."""

    event: str
    values: dict[str, str]
    errors: dict[str, str]
    refusal: str | None = None


def _defaults(detail: Mapping[str, Any]) -> dict[str, str]:
    """Values a form starts with (the user may change them)."""
    return {
        "ev.hub_municipality_code": str(detail["municipality_code"]),
    }


def _names(rt: Runtime, user: User, person_ids: list[int], case_id: int) -> list[dict[str, Any]]:
    """The people's names, each read through read_person (which logs the access)."""
    found = []
    for person_id in person_ids:
        data = people.read_person(
            rt,
            person_id,
            actor=user.username,
            purpose=f"{PURPOSE} (case {case_id})",
            channel="web",
        )
        found.append({"id": person_id, "name": data["name"]})
    return found


def case_page(
    request: Request,
    rt: Runtime,
    user: User,
    case_id: int,
    *,
    ok: str | None = None,
    show_people: bool = False,
    people_offset: int = 0,
    history_offset: int = 0,
    posted: Posted | None = None,
    conflict: Conflict | None = None,
    status_code: int = 200,
) -> Response:
    today = rt.today()
    with rt.db.read() as db:
        detail = queries.case_detail(db, case_id, today=today)
        history, history_total = audit_events(
            db,
            EventQuery(case_id=case_id),
            scope=None,  # the route checked the case is in the user's territory
            limit=HISTORY_PAGE,
            offset=history_offset,
            newest_first=True,
        )
        open_duties = obligations.list_obligations(
            db, today=today, case_id=case_id, open_only=True, include_closed_cases=True, limit=50
        )
        participants = record_views.participant_count(db, case_id)
        found_hub = (
            store.get_municipality(db, detail["hub_municipality_code"])
            if detail["hub_municipality_code"]
            else None
        )
        hub = f"{found_hub.name} ({found_hub.uf})" if found_hub else None
        # the hub's records, shared by its cases: its cases, CLAI (meetings), Protocol
        hub_records = (
            hubs.hub_detail(db, found_hub.ibge_code, today=today)
            if found_hub is not None and db.get(Hub, found_hub.ibge_code) is not None
            else None
        )
        events = trainings.list_events(db, trainings.EventFilter(case_id=case_id), limit=20)
        firms = enterprises.list_enterprises(db, case_id, limit=50)
        visits = followup.list_visits(db, case_id)[-10:]
        person_ids: list[int] = []
        if show_people:
            person_ids = list(
                db.execute(
                    select(CaseParticipant.person_id)
                    .where(CaseParticipant.case_id == case_id)
                    .order_by(CaseParticipant.person_id)
                    .limit(PEOPLE_PAGE)
                    .offset(people_offset)
                ).scalars()
            )
    names = _names(rt, user, person_ids, case_id) if show_people else []
    for entry in history:
        entry["evidence_text"] = pretty(entry["evidence"])

    actions: list[Action] = []
    if may(user, "case.advance"):
        defaults = _defaults(detail)
        lifecycle = rt.lifecycle_for(detail["lifecycle_version"])  # the case's own version
        for event in lifecycle.allowed_events(detail["state"]):
            evidence_form = form_of(lifecycle.spec(event).evidence)
            action = Action(event, evidence_form)
            if posted is not None and posted.event == event:
                action.values, action.errors = dict(posted.values), dict(posted.errors)
                action.refusal, action.posted = posted.refusal, True
            else:
                names_in_form = {leaf.input_name for leaf in evidence_form.leaves()}
                action.values = {k: v for k, v in defaults.items() if k in names_in_form}
            actions.append(action)
    shown = {a.event for a in actions if a.open}
    stray = posted if posted is not None and posted.event not in shown else None
    due_days = days_until(detail["due_on"], today)
    return render(
        request,
        "web/case.html",
        {
            "case": detail,
            "hub": hub,
            "hub_records": hub_records,
            "today": today,
            "due_days": due_days,
            "history": history,
            "history_pager": pager(
                request,
                offset=history_offset,
                limit=HISTORY_PAGE,
                shown=len(history),
                total=history_total,
                param="hoffset",
            ),
            "obligations": open_duties,
            "participants": participants,
            "events": events,
            "enterprises": firms,
            "visits": visits,
            "show_people": show_people,
            "names": names,
            "people_pager": pager(
                request,
                offset=people_offset,
                limit=PEOPLE_PAGE,
                shown=len(names),
                total=participants,
                param="poffset",
            ),
            "actions": actions,
            "can_act": may(user, "case.advance"),
            "can_survey": may(user, "case.surveys"),
            "can_audit": may(user, "audit.case"),
            "ok": ok if ok and rt.event_spec(ok) is not None else None,
            "conflict": conflict,
            "stray": stray,
            "language": language_of(request),
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}", name="case")
def case_view(
    case_id: int,
    request: Request,
    rt: Rt,
    user: WebUser,
    ok: Annotated[str, Query(max_length=40)] = "",
    people: bool = False,
    poffset: Annotated[int, Query(ge=0)] = 0,
    hoffset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return case_page(
        request,
        rt,
        user,
        case_id,
        ok=ok or None,
        show_people=people,
        people_offset=clamp_offset(poffset),
        history_offset=clamp_offset(hoffset),
    )


@router.post("/cases/{case_id}/advance", name="case.advance")
async def case_advance(case_id: int, request: Request, rt: Rt, user: WebUser) -> Response:
    form = await request.form()
    values = posted_values(form)
    return await run_in_threadpool(_advance, request, rt, user, case_id, values)


def _expected_version(values: Mapping[str, str]) -> int | None:
    text = values.get("expected_version", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(
            N_("expected_version %(text)s is not a number", text=repr(text)),
            field="expected_version",
        )
    return int(text)


def _advance(
    request: Request, rt: Runtime, user: User, case_id: int, values: dict[str, str]
) -> Response:
    event = values.get("event", "")
    with rt.db.read() as db:
        found = db.get(Case, case_id)  # the case's own version (a missing case: 404 later)
        version = found.lifecycle_version if found is not None else rt.lifecycle.version
    spec = rt.lifecycle_for(version).spec(event)  # an unknown event: 422
    evidence_form = form_of(spec.evidence)
    expected = _expected_version(values)
    kept = {k: v for k, v in values.items() if k not in ("event", "expected_version")}
    try:
        evidence = evidence_from_form(evidence_form, values)
        case_ops.advance(
            rt,
            case_id,
            event,
            evidence,
            actor=user.username,
            note=values.get("note") or None,
            expect_version=expected,
        )
    except GuardFailed as exc:
        reason = render_text(exc.reason_text, language_of(request))
        posted, status, conflict = Posted(event, kept, {}, reason), 409, None
    except TransitionNotAllowed as exc:
        refusal = render_text(exc.text, language_of(request))
        posted, status, conflict = Posted(event, kept, {}, refusal), 409, None
    except Conflict as exc:
        posted, status, conflict = Posted(event, kept, {}), 409, exc
    except InvalidInput as exc:
        errors = field_errors(exc, evidence_form, language_of(request))
        posted, status, conflict = Posted(event, kept, errors), 422, None
    else:
        return RedirectResponse(f"/cases/{case_id}?ok={event}", status_code=303)
    return case_page(
        request, rt, user, case_id, posted=posted, conflict=conflict, status_code=status
    )
