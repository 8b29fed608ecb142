"""The surveys page of a case (``/cases/{case_id}/surveys``): the survey's purpose (LGPD
art. 6 III), how many participants answered each wave, and a form that records one
participant's answers (``POST``; :func:`tasks.surveys.record_survey`), or corrects them.

The page shows counts only, never a person's answers; a refused post comes back with what the
user typed and the error beside the field it names.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from console.web.deps import Rt, WebUser
from console.web.pages_forms import posted_values
from console.web.templating import render
from states import queries
from states.directory import User
from states.errors import InvalidInput, NotFound
from states.records import CaseParticipant, Survey
from states.surveys import INCOME_BANDS, LABELS, PURPOSE, SEXES, WAVES, WORK_STATUSES
from states.text import M_, N_
from tasks import surveys
from tasks.runtime import Runtime

router = APIRouter(include_in_schema=False)
PERSON_MISSING = N_("person: give the person's number or CPF")

#: the form's fields: name, label (msgid), the choices of a select (None: a date or a number)
FORM_FIELDS: tuple[tuple[str, str, tuple[str, ...] | None], ...] = (
    ("wave", M_("wave"), tuple(WAVES)),
    ("answered_on", M_("answered on"), None),
    ("work_status", M_("work status"), tuple(WORK_STATUSES)),
    ("income_band", M_("income band"), INCOME_BANDS),
    ("sex", M_("sex"), SEXES),
    ("birth_year", M_("birth year"), None),
    ("household_size", M_("household size"), None),
)
FIELD_NAMES = frozenset(name for name, _, _ in FORM_FIELDS)


def surveys_page(
    request: Request,
    rt: Runtime,
    case_id: int,
    *,
    ok: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    today = rt.today()
    with rt.db.read() as db:
        detail = queries.case_detail(db, case_id, today=today)
        answered = dict(
            db.execute(
                select(Survey.wave, func.count())
                .where(Survey.case_id == case_id)
                .group_by(Survey.wave)
            ).all()
        )
        participants = db.execute(
            select(func.count())
            .select_from(CaseParticipant)
            .where(CaseParticipant.case_id == case_id)
        ).scalar_one()
        ecc_end = surveys.ecc_end_of(db, case_id)
    return render(
        request,
        "web/surveys.html",
        {
            "case": detail,
            "purpose": PURPOSE,
            "waves": [(w, int(answered.get(w, 0))) for w in WAVES],
            "participants": int(participants),
            "ecc_end": ecc_end,
            "fields": FORM_FIELDS,
            "labels": LABELS,
            "values": values or {},
            "errors": errors or {},
            "ok": ok,
        },
        status_code=status_code,
    )


@router.get("/cases/{case_id}/surveys", name="case.surveys")
def surveys_view(
    case_id: int,
    request: Request,
    rt: Rt,
    user: WebUser,
    ok: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    return surveys_page(request, rt, case_id, ok=ok if ok in ("recorded", "corrected") else None)


@router.post("/cases/{case_id}/surveys", name="case.surveys.record")
async def surveys_record(case_id: int, request: Request, rt: Rt, user: WebUser) -> Response:
    form = await request.form()
    values = posted_values(form)
    return await run_in_threadpool(_record, request, rt, user, case_id, values)


def _record(
    request: Request, rt: Runtime, user: User, case_id: int, values: dict[str, str]
) -> Response:
    kept = dict(values)
    person = values.get("person", "").strip()
    try:
        if not person:
            raise InvalidInput(PERSON_MISSING, field="person")
        result = surveys.record_survey(
            rt,
            case_id,
            person,
            {name: values.get(name, "") for name in FIELD_NAMES},
            actor=user.username,
            correct=values.get("correct") == "1",
        )
    except InvalidInput as exc:
        field = exc.field if exc.field in FIELD_NAMES | {"person"} else "form"
        return surveys_page(
            request, rt, case_id, values=kept, errors={field: exc.text}, status_code=422
        )
    except NotFound as exc:
        if exc.kind == "case":
            raise
        return surveys_page(
            request, rt, case_id, values=kept, errors={"person": exc.text}, status_code=422
        )
    done = "corrected" if result.corrected else "recorded"
    return RedirectResponse(f"/cases/{case_id}/surveys?ok={done}", status_code=303)
