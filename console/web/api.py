"""The JSON API under ``/api/v1``: cases, the events a case accepts now, advancing a case,
its history, the audit chain's verification, and the programme's indicators (the counts, and
from the audit trail the time per stage and the deadlines met and missed).

Every route runs the same operations as the command line (:mod:`tasks.cases`,
:mod:`states.queries`, :mod:`states.indicators`, :mod:`states.audit`); nothing here decides a
rule. The app's dependencies have already checked the caller (a Bearer token or a session),
the route's policy (:data:`console.web.policy.POLICY`) and, for a ``{case_id}``, the caller's
territory (404 outside it). Lists are restricted to the territory in SQL
(:func:`console.web.policy.case_scope` -> ``CaseFilter.ufs``). Errors are raised as
:mod:`states.errors` exceptions or :class:`~console.web.errors.ApiError` and answered as
``{"error": {"code", "message", "field", ...}}`` (:mod:`console.web.errors`).

The schema is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError
from sqlalchemy.orm import Session

from console.web.deps import ApiUser, DbRead, Rt, api_user
from console.web.errors import ApiError, pydantic_text
from console.web.pages_queries import FIGURES
from console.web.policy import POLICY, case_scope
from states import checkpoints, outcomes, queries
from states import indicators as figures
from states.errors import InvalidInput, NotFound
from states.lifecycle import EVENTS, Lifecycle
from states.models import AuditEvent
from states.states import ALL
from states.surveys import MIN_GROUP
from tasks import audit_log, cases, obligations
from tasks.runtime import Runtime

#: every route names its caller (a Bearer token or a session): the schema shows the scheme
router = APIRouter(prefix="/api/v1", dependencies=[Depends(api_user)])

#: a state's code: one of the lifecycle version's the case runs under (the shipped version's are
#: registrada, em_analise, ... — a later version may rename or add some)
StateCode = Annotated[str, Field(max_length=40, examples=["em_analise"])]

#: the largest id a path or body may name (a 32-bit INTEGER column on every backend)
MAX_ID = 2**31 - 1
MAX_PAGE = 500
#: the default lifecycle's events, as the schema lists them for ``event`` (an app whose
#: lifecycle declares others lists those: :func:`lifecycle_schema`)
EVENT_NAMES: list[JsonValue] = [e.name for e in EVENTS]

# --- errors -----------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One wrong field of a request."""

    field: str = Field(description="where: `limit`, `expected_version`, `evidence.reason`...")
    message: str = Field(description="what is wrong with it")


class ErrorDetail(BaseModel):
    """What went wrong: a stable code, a sentence, the field at fault and the context."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(
        description="Stable code: `unauthenticated` (401); `forbidden`, `csrf` (403); "
        "`not_found` (404, also a case outside your territory); `conflict`, "
        "`transition_not_allowed`, `guard_failed` (409); `invalid_input` (422).",
        examples=["guard_failed"],
    )
    message: str = Field(description="One sentence for a person.")
    field: str | None = Field(
        default=None,
        description="The input at fault (422): a parameter, a body field, or "
        "`evidence.<field>` for the evidence of an event.",
        examples=["evidence.reason"],
    )
    fields: list[FieldError] | None = Field(
        default=None, description="422: every wrong field, the first one being `field`."
    )
    case_id: int | None = Field(default=None, description="409 conflict: the case.")
    expected_version: int | None = Field(
        default=None, description="409 conflict: the version you sent."
    )
    current_version: int | None = Field(
        default=None, description="409 conflict: the case's version now."
    )
    changed_by: str | None = Field(
        default=None, description="409 conflict: who changed the case last."
    )
    changed_at: str | None = Field(default=None, description="409 conflict: when (ISO 8601, UTC).")
    event: str | None = Field(
        default=None, description="409 transition_not_allowed / guard_failed: the event."
    )
    state: str | None = Field(
        default=None, description="409 transition_not_allowed: the case's state."
    )
    allowed: list[str] | None = Field(
        default=None, description="409 transition_not_allowed: the events the state accepts."
    )
    reason: str | None = Field(
        default=None, description="409 guard_failed: the guard's sentence, why it refused."
    )


class ErrorOut(BaseModel):
    """The body of every error answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": {
                        "code": "conflict",
                        "message": "case 7 was changed by bia.coord at 2026-03-02T13:05:00+00:00 "
                        "(now version 5, you expected 4); reload it and try again",
                        "field": None,
                        "case_id": 7,
                        "expected_version": 4,
                        "current_version": 5,
                        "changed_by": "bia.coord",
                        "changed_at": "2026-03-02T13:05:00+00:00",
                    }
                }
            ]
        }
    )

    error: ErrorDetail


_ERRORS: dict[int, str] = {
    400: "The body could not be read as JSON (`bad_request`). Nothing was written.",
    401: "No credentials, or a token that is unknown or revoked (`unauthenticated`).",
    403: "Your role may not do this (`forbidden`: an auditor never writes).",
    404: "No such case, or a case outside your territory (`not_found`).",
    409: "The case changed since you read it (`conflict`, with `current_version` and "
    "`changed_by`), its state does not accept the event (`transition_not_allowed`), or the "
    "event's guard refused (`guard_failed`, with the guard's sentence in `reason`). Nothing "
    "was written.",
    422: "A parameter or a body field is wrong (`invalid_input`, naming it in `field`). "
    "Nothing was written.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route answering these error statuses (for the schema)."""
    return {code: {"model": ErrorOut, "description": _ERRORS[code]} for code in codes}


# --- cases ------------------------------------------------------------------------------------


class CaseSummary(BaseModel):
    """One case as the lists show it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "state": "registrada",
                    "municipality_code": 2311306,
                    "municipality": "Quixadá",
                    "uf": "CE",
                    "community": "Assentamento Boa Vista",
                    "activity": "apicultura",
                    "coordinator": "ana.coord",
                    "due_on": "2026-03-09",
                    "overdue": False,
                    "days_late": 0,
                    "version": 1,
                }
            ]
        }
    )

    id: int = Field(description="The case number.")
    state: StateCode = Field(description="Where the case is in the lifecycle.")
    municipality_code: int = Field(description="IBGE code of the demand's municipality.")
    municipality: str = Field(description="The municipality's name.")
    uf: str = Field(description="The municipality's state (UF).", examples=["CE"])
    community: str = Field(description="The community that made the demand.")
    activity: str = Field(description="The productive activity.")
    coordinator: str | None = Field(description="User name of the responsible coordinator.")
    due_on: date | None = Field(description="The current state's deadline (None: none runs).")
    overdue: bool = Field(description="Past its deadline in an open state.")
    days_late: int = Field(description="Days past the deadline (0 when not overdue).")
    version: int = Field(
        description="The case's version: send it as `expected_version` when advancing."
    )


class CaseList(BaseModel):
    """A page of cases, most overdue first, then by number."""

    total: int = Field(description="How many cases match the filters (all pages).")
    limit: int = Field(description="The page size asked.")
    offset: int = Field(description="How many matching cases come before this page.")
    cases: list[CaseSummary]


class EventRef(BaseModel):
    """An event of the lifecycle."""

    event: str = Field(description="Its name, as `advance` takes it.", examples=["suspender"])
    label_pt: str = Field(description="Its name in Portuguese.", examples=["Suspender"])
    label_en: str = Field(description="Its name in English.", examples=["Suspend"])


class OpenObligation(BaseModel):
    """A dated duty of the case not yet satisfied."""

    id: int
    kind: str = Field(
        description="registry_filing, registry_correction, follow_up_visit, protocol_commitment or "
        "survey_wave."
    )
    description: str
    record: str | None = Field(
        description="The record it concerns, as `type:id` (e.g. `enterprise:3`)."
    )
    due_on: date
    days_late: int | None = Field(description="Days past due as of today (0: not late).")


class CaseDetail(CaseSummary):
    """Everything about one case now, with what may happen to it next."""

    demand_channel: str = Field(
        default="forum",
        description="Where the demand was raised: a development forum (forum, preferred) or "
        "another organised channel of civil society (conselho, associacao, sindicato, "
        "movimento_social, outro).",
    )
    forum: str = Field(
        description="The territorial forum that prioritised the demand, or the other "
        "channel's name."
    )
    forum_held_on: date
    proponent: str = Field(description="The organisation that proposed the demand.")
    proponent_cnpj: str | None = Field(description="The proponent's CNPJ, bare.")
    description: str | None
    lifecycle_version: str = Field(description="The lifecycle definition the case runs under.")
    previous_state: StateCode | None = Field(
        description="The state a suspension or a closure left (where resuming returns)."
    )
    entered_on: date = Field(description="When the case entered its current state.")
    extensions_used: int = Field(description="Deadline extensions used in this state.")
    suspended_on: date | None
    paused_due_on: date | None = Field(description="The deadline that a suspension paused.")
    expected_resume_on: date | None
    rejected_on: date | None
    hub_municipality_code: int | None = Field(description="IBGE code of the hub (polo).")
    reopen_requested_by: str | None = Field(description="Who asked to reopen it (pending).")
    registered_at: datetime
    registered_by: str
    updated_at: datetime = Field(description="When the case last changed.")
    updated_by: str = Field(description="Who changed it last.")
    microregion: str
    microregion_code: int
    timezone: str = Field(description="The municipality's time zone (IANA).")
    module: str | None = Field(description="The regional module (PRODUZIR_MODULES_FILE).")
    module_label: str | None
    hub_module: str | None = Field(description="The regional module of the hub (polo).")
    pndr_class: str | None = Field(
        description="The class of the microregion in the PNDR typology in force (None: "
        "no typology, or the microregion has no class in it)."
    )
    pndr_typology: str | None = Field(
        description='The typology in force: name and version, "(ilustrativo)" when illustrative.'
    )
    priority_areas: list[str] = Field(
        description='The priority areas the municipality is in ("(ilustrativo)" when so).'
    )
    allowed_events: list[EventRef] = Field(
        description="The events the current state accepts (each guard judges its evidence "
        "when it is fired; see `/cases/{case_id}/events` for the evidence each takes)."
    )
    may_advance: bool = Field(description="Whether your role may fire events (an auditor: no).")
    open_obligations: list[OpenObligation] = Field(
        description="Dated obligations not yet satisfied, earliest due first."
    )


class EventOption(EventRef):
    """An event the case's state accepts now, with the evidence it takes."""

    evidence_schema: dict[str, Any] = Field(
        description="JSON schema of the `evidence` object this event takes (no extra fields "
        "are accepted; an empty `properties` means none)."
    )


class CaseEvents(BaseModel):
    """The events a case accepts now."""

    case_id: int
    state: StateCode
    version: int = Field(description="Send it as `expected_version` when advancing.")
    events: list[EventOption]


class HistoryEntry(BaseModel):
    """One entry of the audit log (in the Merkle tree, never changed)."""

    seq: int = Field(description="The entry's number (assigned when it was written).")
    case_id: int | None
    case_version: int | None = Field(description="The case's version after the event.")
    record_type: str | None = Field(
        description="For a change to a programme record: its type (person, event, enterprise...)."
    )
    record_id: int | None
    occurred_at: datetime
    event: str
    from_state: StateCode | None
    to_state: StateCode | None
    actor: str = Field(description="Who did it.")
    note: str | None
    evidence: dict[str, Any] = Field(description="The evidence, as validated and stored.")
    changes: dict[str, Any] = Field(description="What the event changed on the case.")
    lifecycle_version: str
    channel: Literal["web", "api", "cli", "flow", "system"] = Field(
        description="Where the change came from."
    )
    os_user: str | None = Field(description="The operating-system user, for the command line.")
    leaf_index: int | None = Field(
        description="The entry's leaf in the log's Merkle tree; null until the sequencer "
        "integrates it (normally at its own commit)."
    )
    entry: str = Field(
        description="The entry's exact bytes (RFC 8785 canonical JSON): its leaf hash is "
        "SHA-256(0x00 || these bytes)."
    )


class CaseHistory(BaseModel):
    """A case's history, oldest first."""

    case_id: int
    events: list[HistoryEntry]


class AdvanceIn(BaseModel):
    """Fire an event on a case."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event": "suspender",
                    "evidence": {
                        "reason": "Enchente interrompeu o acesso à comunidade.",
                        "expected_resume_on": "2026-04-15",
                    },
                    "note": "Pedido da associação.",
                    "expected_version": 1,
                }
            ]
        },
    )

    event: str = Field(
        description="The event (one of `allowed_events`).",
        max_length=40,
        json_schema_extra={"enum": EVENT_NAMES},
    )
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="The evidence the event takes: its JSON schema is in "
        "`GET /api/v1/cases/{case_id}/events`.",
    )
    note: str | None = Field(
        default=None, max_length=2000, description="A note for the history (optional)."
    )
    expected_version: int = Field(
        ge=1,
        le=MAX_ID,
        description="The case's `version` you read. If someone changed the case since, the "
        "answer is 409 `conflict` naming who, and nothing is written.",
    )


class Advanced(BaseModel):
    """What the event did."""

    case_id: int
    event: str
    from_state: StateCode
    to_state: StateCode
    version: int = Field(description="The case's new version.")
    due_on: date | None = Field(description="The deadline now.")
    entry: HistoryEntry = Field(description="The history entry the event appended.")


CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="The case number.", examples=[1])]


@router.get(
    "/cases",
    name="api.cases.list",
    operation_id="listCases",
    response_description="A page of the cases you may see.",
    tags=["cases"],
    summary="List the cases of your territory",
    response_model=CaseList,
    responses=error_responses(401, 403, 422),
)
def list_cases(
    user: ApiUser,
    rt: Rt,
    db: DbRead,
    state: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^[a-z_]+$",
            description="Only cases in this state (a state of any loaded lifecycle version).",
            examples=["em_analise"],
        ),
    ] = None,
    uf: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Only cases of this UF.", examples=["CE"]),
    ] = None,
    municipality: Annotated[
        str | None,
        Query(
            max_length=100,
            description="An IBGE code (7 digits) or part of the municipality's name.",
            examples=["Quixadá"],
        ),
    ] = None,
    coordinator: Annotated[
        str | None, Query(max_length=64, description="The coordinator's user name.")
    ] = None,
    overdue: Annotated[bool, Query(description="Only cases past their deadline.")] = False,
    search: Annotated[
        str | None,
        Query(max_length=100, description="Part of the community's or municipality's name."),
    ] = None,
    module: Annotated[
        str | None,
        Query(
            max_length=40, description="Only cases of this regional module.", examples=["nordeste"]
        ),
    ] = None,
    priority_area: Annotated[
        str | None,
        Query(max_length=120, description="Only cases in this priority area (by name)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID, description="Cases to skip.")] = 0,
) -> CaseList:
    """The cases you may see (a coordinator or supervisor: those of their UFs; the others:
    every case), filtered, most overdue first. `total` counts every page."""
    f = queries.CaseFilter(
        state=state,  # CaseFilter refuses a state no loaded version has (422)
        uf=uf,
        municipality=municipality,
        coordinator=coordinator,
        overdue=overdue,
        search=search,
        ufs=case_scope(user),
        module=module,
        priority_area=priority_area,
    )
    today = rt.today()
    rows = queries.list_cases(db, f, today=today, limit=limit, offset=offset)
    total = queries.count_cases(db, f, today=today)
    return CaseList(
        total=total,
        limit=limit,
        offset=offset,
        cases=[CaseSummary.model_validate(row) for row in rows],
    )


def _event_ref(lifecycle: Lifecycle, name: str) -> EventRef:
    spec = lifecycle.spec(name)
    return EventRef(event=name, label_pt=spec.label_pt, label_en=spec.label_en)


@router.get(
    "/cases/{case_id}",
    name="api.cases.detail",
    operation_id="getCase",
    response_description="The case.",
    tags=["cases"],
    summary="One case: its record, deadline, open obligations and next events",
    response_model=CaseDetail,
    responses=error_responses(401, 403, 404, 422),
)
def case_detail(case_id: CaseId, user: ApiUser, rt: Rt, db: DbRead) -> CaseDetail:
    """The case now: the demand, the current state and its deadline, the obligations still
    open, and the events its state accepts."""
    today = rt.today()
    record = queries.case_detail(db, case_id, today=today)
    lifecycle = rt.lifecycle_for(record["lifecycle_version"])  # the case's own version
    record["allowed_events"] = [
        _event_ref(lifecycle, n) for n in lifecycle.allowed_events(record["state"])
    ]
    record["may_advance"] = POLICY["api.cases.advance"].allows(user.role)
    record["open_obligations"] = obligations.list_obligations(db, today=today, case_id=case_id)
    return CaseDetail.model_validate(record)


@router.get(
    "/cases/{case_id}/events",
    name="api.cases.events",
    operation_id="listCaseEvents",
    response_description="The events the case accepts now.",
    tags=["cases"],
    summary="The events the case accepts now, with the evidence each takes",
    response_model=CaseEvents,
    responses=error_responses(401, 403, 404, 422),
)
def case_events(case_id: CaseId, rt: Rt, db: DbRead) -> CaseEvents:
    """The events the case's current state accepts, each with the JSON schema of its
    `evidence`. Whether the evidence is *enough* is the event's guard's question, answered
    when the event is fired (409 `guard_failed` with the guard's sentence)."""
    record = queries.case_detail(db, case_id, today=rt.today())
    events = []
    lifecycle = rt.lifecycle_for(record["lifecycle_version"])  # the case's own version
    for name in lifecycle.allowed_events(record["state"]):
        spec = lifecycle.spec(name)
        events.append(
            EventOption(
                event=name,
                label_pt=spec.label_pt,
                label_en=spec.label_en,
                evidence_schema=spec.evidence.model_json_schema(),
            )
        )
    return CaseEvents(
        case_id=case_id, state=record["state"], version=record["version"], events=events
    )


def _evidence_error(exc: InvalidInput) -> ApiError | None:
    """Evidence the event's model refused, with the wrong field named ``evidence.<field>``
    (the operation's sentence is kept); None for any other InvalidInput."""
    cause = exc.__cause__
    if not (exc.field or "").startswith("evidence") or not isinstance(cause, ValidationError):
        return None
    fields = [
        {
            "field": ".".join(["evidence", *(str(p) for p in e["loc"])]),
            "message": pydantic_text(e),
        }
        for e in cause.errors(include_url=False)
    ]
    return ApiError(422, "invalid_input", exc.text, field=str(fields[0]["field"]), fields=fields)


def _entry(session: Session, seq: int) -> HistoryEntry:
    row = session.get(AuditEvent, seq)
    assert row is not None, f"audit event {seq} was just written"
    return HistoryEntry.model_validate(queries.event_dict(row))


@router.post(
    "/cases/{case_id}/advance",
    name="api.cases.advance",
    operation_id="advanceCase",
    response_description="The event was fired: the case's new version and history entry.",
    tags=["cases"],
    summary="Fire an event on the case (with the version you read)",
    response_model=Advanced,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
def advance_case(case_id: CaseId, body: AdvanceIn, user: ApiUser, rt: Rt) -> Advanced:
    """Fire `event` with its `evidence`, as you (the token's user), in one transaction:
    the version you read is checked, then whether the state accepts the event, then the
    evidence, then the event's guard. Any refusal writes nothing: 409 `conflict` (someone
    changed the case: `current_version`, `changed_by`, `changed_at`), 409
    `transition_not_allowed`, 409 `guard_failed` (the guard's sentence in `reason`), 422
    `invalid_input` (`field` names the wrong one, e.g. `evidence.reason`)."""
    try:
        done = cases.advance(
            rt,
            case_id,
            body.event,
            body.evidence,
            actor=user.username,
            note=body.note,
            expect_version=body.expected_version,
        )
    except InvalidInput as exc:
        named = _evidence_error(exc)
        if named is None:
            raise
        raise named from exc
    with rt.db.read() as session:
        entry = _entry(session, done.seq)
    return Advanced(
        case_id=done.case_id,
        event=done.event,
        from_state=done.from_state,
        to_state=done.to_state,
        version=done.version,
        due_on=done.due_on,
        entry=entry,
    )


@router.get(
    "/cases/{case_id}/history",
    name="api.cases.history",
    operation_id="getCaseHistory",
    response_description="The case's history.",
    tags=["cases"],
    summary="The case's history (its audit events), oldest first",
    response_model=CaseHistory,
    responses=error_responses(401, 403, 404, 422),
)
def case_history(case_id: CaseId, db: DbRead) -> CaseHistory:
    """Every audit event of the case, oldest first: the lifecycle's events and the changes
    to its programme records, each with its evidence, what it changed, who and when, and its
    place in the hash chain."""
    return CaseHistory(
        case_id=case_id,
        events=[HistoryEntry.model_validate(e) for e in queries.history(db, case_id)],
    )


# --- audit ------------------------------------------------------------------------------------


class LogProblem(BaseModel):
    """The first thing wrong with the audit log."""

    kind: Literal[
        "changed", "missing", "reordered", "not_in_tree", "signature_invalid", "unknown_key"
    ]
    detail: str
    leaf_index: int | None = Field(description="The first bad entry's leaf, when known.")
    seq: int | None = Field(description="The first bad entry's number, when known.")


class CheckpointOut(BaseModel):
    """A signed checkpoint: the log's size and root at a time (README, "Checkpoints")."""

    kind: Literal["produzir-checkpoint/v1"] = "produzir-checkpoint/v1"
    log: str
    tree_size: int
    root_hash: str = Field(description="Hexadecimal SHA-256 Merkle root (RFC 9162).")
    timestamp: str = Field(description="RFC 3339 UTC with microseconds, as signed.")
    key_id: str
    signature: str = Field(description="Base64 Ed25519 signature.")


class LogVerification(BaseModel):
    """The audit log checked on one snapshot."""

    ok: bool = Field(
        description="True when every entry checked matches the tree and the tree "
        "extends every signed checkpoint."
    )
    full: bool = Field(description="False when it started from a checkpoint verified before.")
    start: int = Field(description="The first leaf checked.")
    checked: int = Field(description="Entries checked.")
    tree_size: int = Field(description="Entries in the tree.")
    root_hash: str
    pending: int = Field(description="Entries waiting for the sequencer.")
    checkpoint: CheckpointOut | None = Field(
        description="The newest signed checkpoint the log was shown to extend."
    )
    problem: LogProblem | None = Field(description="The first problem, if any.")


@router.get(
    "/audit/verify",
    name="api.audit.verify",
    operation_id="verifyAuditLog",
    response_description="The verification's result (look at `ok`).",
    tags=["audit"],
    summary="Verify the audit log (auditors, managers, administrators)",
    response_model=LogVerification,
    responses=error_responses(401, 403, 422),
)
def audit_verify(rt: Rt, user: ApiUser, full: bool = False) -> LogVerification:
    """Check the log on one consistent snapshot: every entry against its leaf, the tree
    against every stored signed checkpoint. Incremental from the last checkpoint a
    verification passed, unless `full=true`. Writers committing meanwhile never make it fail."""
    result = audit_log.verify_log(rt, actor=user.username, full=full)
    problem = result.problem
    return LogVerification(
        ok=result.ok,
        full=result.full,
        start=result.start,
        checked=result.checked,
        tree_size=result.tree_size,
        root_hash=result.root_hash,
        pending=result.pending,
        checkpoint=CheckpointOut.model_validate(result.checkpoint.to_json())
        if result.checkpoint
        else None,
        problem=LogProblem.model_validate(problem.to_json()) if problem is not None else None,
    )


@router.get(
    "/audit/checkpoints",
    name="api.audit.checkpoints",
    operation_id="listCheckpoints",
    response_description="Every signed checkpoint, oldest first.",
    tags=["audit"],
    summary="The signed checkpoints of the audit log",
    response_model=list[CheckpointOut],
    responses=error_responses(401, 403),
)
def audit_checkpoints(db: DbRead) -> list[CheckpointOut]:
    """Keep a copy elsewhere: `produzir audit verify --against FILE` proves the log still
    extends them."""
    return [CheckpointOut.model_validate(cp.to_json()) for _, cp in checkpoints.stored(db)]


@router.get(
    "/audit/checkpoints/latest",
    name="api.audit.checkpoints.latest",
    operation_id="latestCheckpoint",
    response_description="The newest signed checkpoint.",
    tags=["audit"],
    summary="The newest signed checkpoint of the audit log",
    response_model=CheckpointOut,
    responses=error_responses(401, 403, 404),
)
def audit_checkpoint_latest(db: DbRead) -> CheckpointOut:
    found = checkpoints.latest(db)
    if found is None:
        raise NotFound("checkpoint", "latest")
    return CheckpointOut.model_validate(found[1].to_json())


@router.get(
    "/cases/{case_id}/proof",
    name="api.cases.proof",
    operation_id="getCaseProof",
    response_description='The case\'s proof bundle (README, "Proof bundles").',
    tags=["audit"],
    summary="A case's proof bundle: its entries, inclusion proofs and a signed checkpoint",
    responses=error_responses(401, 403, 404, 422),
)
def case_proof(case_id: CaseId, rt: Rt) -> dict[str, Any]:
    """Check it offline with `produzir audit check-proof FILE --key PUBLIC_KEY`."""
    return audit_log.prove_case(rt, case_id)


# --- indicators -------------------------------------------------------------------------------


class IndicatorRowOut(BaseModel):
    """The figures of one group of cases."""

    level: figures.Level = Field(description="What the row groups: see `by`.")
    uf: str | None = Field(default=None, description="by=uf, by=case: the UF.")
    hub_municipality_code: int | None = Field(
        default=None, description="by=hub, by=case: the hub (None: no hub yet)."
    )
    module: str | None = Field(default=None, description="by=module: the regional module.")
    module_label: str | None = Field(default=None, description="by=module: its label.")
    hub: str | None = Field(default=None, description="by=hub: the hub's name.")
    hub_uf: str | None = Field(default=None, description="by=hub: the hub's UF.")
    case_id: int | None = Field(default=None, description="by=case: the case.")
    state: StateCode | None = Field(default=None, description="by=case: its state.")
    community: str | None = Field(default=None, description="by=case: its community.")
    municipality_code: int | None = Field(default=None, description="by=case.")
    municipality: str | None = Field(default=None, description="by=case.")
    cases: int = Field(description="Demands in the group.")
    by_state: dict[str, int] = Field(description="Demands per lifecycle state (every state).")
    people_preregistered: int
    people_trained: int = Field(description="Enrolled in a held ECC serving their case.")
    people_certified: int = Field(description="Trained with the attendance certification needs.")
    enterprises_formed: int
    enterprises_legalised: int = Field(description="With a CNPJ.")
    enterprises_active: int = Field(description="Active at their last visit.")
    enterprises_inactive: int = Field(description="Inactive at their last visit.")
    members: int = Field(description="Members of the enterprises.")
    monthly_income: str = Field(
        description="Monthly income of the enterprises at their last visit (BRL, 2 decimals).",
        examples=["1850.00"],
    )


class Indicators(BaseModel):
    """The programme's indicators over the cases you may see."""

    by: figures.Level
    uf: str | None = Field(description="The UF asked, if any.")
    territory: list[str] | None = Field(
        description="The UFs the figures are restricted to (your territory); None: all."
    )
    rows: list[IndicatorRowOut]


def _merged(
    level: figures.Level, group: dict[str, Any], rows: list[figures.IndicatorRow]
) -> figures.IndicatorRow:
    """Rows of disjoint sets of cases summed into one (people in cases of two of the sets
    count once in each)."""

    def total(name: str) -> int:
        return sum(int(getattr(r, name)) for r in rows)

    return figures.IndicatorRow(
        level=level,
        group=group,
        cases=total("cases"),
        by_state={s.value: sum(r.by_state.get(s.value, 0) for r in rows) for s in ALL},
        people_preregistered=total("people_preregistered"),
        people_trained=total("people_trained"),
        people_certified=total("people_certified"),
        enterprises_formed=total("enterprises_formed"),
        enterprises_legalised=total("enterprises_legalised"),
        enterprises_active=total("enterprises_active"),
        enterprises_inactive=total("enterprises_inactive"),
        members=total("members"),
        monthly_income=sum((r.monthly_income for r in rows), Decimal("0.00")),
    )


def scoped_indicators(
    session: Session,
    by: figures.Level,
    *,
    min_attendance: float,
    uf: str | None,
    territory: frozenset[str] | None,
) -> list[figures.IndicatorRow]:
    """:func:`states.indicators.indicators` over the cases of ``territory`` (None: all).

    One query set per UF of the territory: by UF and by case the rows are exact; by
    programme and by hub the UFs' rows are summed (a person pre-registered in cases of two
    UFs counts in each)."""
    if territory is None:
        return figures.indicators(session, by, min_attendance=min_attendance, uf=uf)
    ufs = sorted(territory if uf is None else territory & {uf.upper()})
    parts = [figures.indicators(session, by, min_attendance=min_attendance, uf=u) for u in ufs]
    if len(parts) == 1:
        return parts[0]
    rows = [row for part in parts for row in part]
    if by == "programme":
        return [_merged("programme", {}, rows)]
    if by == "case":
        return sorted(rows, key=lambda r: int(r.group["case_id"]))
    if by == "hub":
        hubs: dict[Any, list[figures.IndicatorRow]] = {}
        for row in rows:
            hubs.setdefault(row.group["hub_municipality_code"], []).append(row)
        merged = [_merged("hub", same[0].group, same) for same in hubs.values()]
        return sorted(
            merged,
            key=lambda r: (
                r.group["hub_municipality_code"] is None,
                r.group["hub_uf"] or "",
                r.group["hub"] or "",
                r.group["hub_municipality_code"] or 0,
            ),
        )
    if by == "module":  # a module spans UFs: the UFs' rows of one module summed
        modules: dict[Any, list[figures.IndicatorRow]] = {}
        for row in rows:
            modules.setdefault(row.group["module"], []).append(row)
        return [_merged("module", same[0].group, same) for same in modules.values()]
    return rows  # by UF: one row per UF, in the territory's (alphabetical) order


@router.get(
    "/indicators",
    name="api.indicators",
    operation_id="getIndicators",
    response_description="The indicators.",
    tags=["indicators"],
    summary="The programme's indicators, by programme, UF, hub or case",
    response_model=Indicators,
    responses=error_responses(401, 403, 422),
)
def indicators(
    user: ApiUser,
    rt: Rt,
    db: DbRead,
    by: Annotated[
        figures.Level,
        Query(description="Group by programme (one row), uf, module (regional), hub or case."),
    ] = "programme",
    uf: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Only the cases of this UF.", examples=["CE"]),
    ] = None,
) -> Indicators:
    """Demands by state, people pre-registered / trained / certified, enterprises formed /
    legalised / active, members and monthly income. A coordinator or supervisor sees the
    figures of their territory's cases only."""
    territory = case_scope(user)
    rows = scoped_indicators(
        db,
        by,
        min_attendance=rt.lifecycle.config.thresholds.min_attendance,
        uf=uf,
        territory=territory,
    )
    return Indicators(
        by=by,
        uf=uf.upper() if uf else None,
        territory=sorted(territory) if territory is not None else None,
        rows=[IndicatorRowOut.model_validate(row.as_dict()) for row in rows],
    )


class CycleTimeOut(BaseModel):
    """How long cases stayed in one state."""

    state: StateCode
    median_days: float = Field(description="The median length of the stays ended, in days.")
    stays: int = Field(description="The stays in the state that ended in the period.")


class DeadlineResultOut(BaseModel):
    """The deadlines of one group of cases."""

    key: str | None = Field(
        description="The UF (by=uf) or the coordinator's user name (by=coordinator; None: the "
        "cases without one); None for the programme."
    )
    met: int = Field(description="Stays that moved on by their deadline, in the period.")
    missed: int = Field(description="Stays that moved on after their deadline, in the period.")
    overdue_now: int = Field(description="Cases past their deadline today.")
    total: int


class Timeliness(BaseModel):
    """The figures of the audit trail over the cases you may see."""

    by: figures.DeadlineGroup
    uf: str | None = Field(description="The UF asked, if any.")
    since: date = Field(description="The first day of the period (Brasília time).")
    territory: list[str] | None = Field(
        description="The UFs the figures are restricted to (your territory); None: all."
    )
    cycle_times: list[CycleTimeOut] = Field(
        description="Per state, in the lifecycle's order (states without an ended stay left out)."
    )
    deadlines: list[DeadlineResultOut]


@router.get(
    "/indicators/timeliness",
    name="api.indicators.timeliness",
    operation_id="getTimeliness",
    response_description="The time per stage and the deadlines met and missed.",
    tags=["indicators"],
    summary="The median days per stage and the deadlines met, missed and overdue now",
    response_model=Timeliness,
    responses=error_responses(401, 403, 422),
)
def timeliness(
    user: ApiUser,
    rt: Rt,
    db: DbRead,
    by: Annotated[
        figures.DeadlineGroup,
        Query(description="Group the deadlines for the programme (one row), by uf or coordinator."),
    ] = "programme",
    uf: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Only the cases of this UF.", examples=["CE"]),
    ] = None,
    since: Annotated[
        date | None,
        Query(
            description="The stays ended since this day (default: a year ago).",
            examples=["2026-01-01"],
        ),
    ] = None,
) -> Timeliness:
    """From the audit trail: the median days of the stays in each state that ended since
    `since`, and the deadlines those stays met or missed, with the cases overdue today
    (the rules: `states/indicators.py`). A coordinator or supervisor sees the figures of
    their territory's cases only."""
    territory = case_scope(user)
    today = rt.today()
    start = since or figures.default_since(today)
    start_at = figures.period_start(start)
    scope = tuple(sorted(territory)) if territory is not None else None
    wanted = uf.upper() if uf else None
    # the indicators page's figures (the same keys), kept while the audit chain does not move
    times = FIGURES.get(
        db,
        ("cycle", scope, wanted, start_at),
        lambda: figures.cycle_times(db, ufs=territory, uf=wanted, since=start_at),
    )
    results = FIGURES.get(
        db,
        ("deadlines", by, scope, wanted, start_at, today),
        lambda: figures.deadline_results(
            db, by, today=today, ufs=territory, uf=wanted, since=start_at
        ),
    )
    return Timeliness(
        by=by,
        uf=wanted,
        since=start,
        territory=sorted(territory) if territory is not None else None,
        cycle_times=[CycleTimeOut.model_validate(t.as_dict()) for t in times.values()],
        deadlines=[DeadlineResultOut.model_validate(r.as_dict()) for r in results],
    )


class OutcomeRowOut(BaseModel):
    """The outcomes of one group of people; every figure None when the group is suppressed."""

    by: outcomes.OutcomeGroup = Field(description="What the row groups: see `by`.")
    sex: str | None = Field(default=None, description="by=sex: the sex answered at entry.")
    age_band: str | None = Field(default=None, description="by=age_band: the age at entry.")
    uf: str | None = Field(default=None, description="by=uf: the case's UF.")
    module: str | None = Field(default=None, description="by=module: the regional module.")
    module_label: str | None = Field(default=None, description="by=module: its label.")
    wave: str = Field(description="The wave compared with the entry survey.")
    suppressed: bool = Field(
        description="Fewer than `min_group` people: no figure of the row is shown."
    )
    people: int | None = Field(description="People with both surveys.")
    occupied_at_entry: int | None
    occupied_at_wave: int | None
    occupations_created: int | None = Field(description="occupied_at_wave - occupied_at_entry.")
    income_up: int | None = Field(description="People whose income band rose.")
    income_same: int | None
    income_down: int | None
    enterprises_12m: int | None = Field(
        description="Their enterprises formed at least 12 months ago."
    )
    enterprises_alive_12m: int | None = Field(
        description="Of those, active at their latest visit after their first 12 months."
    )


class Outcomes(BaseModel):
    """The outcome indicators of the participants' surveys over the cases you may see."""

    by: outcomes.OutcomeGroup
    uf: str | None = Field(description="The UF asked, if any.")
    wave: str
    min_group: int = Field(description="Groups of fewer people than this are suppressed.")
    territory: list[str] | None = Field(
        description="The UFs the figures are restricted to (your territory); None: all."
    )
    rows: list[OutcomeRowOut]


@router.get(
    "/indicators/outcomes",
    name="api.indicators.outcomes",
    operation_id="getOutcomes",
    response_description="The outcome indicators.",
    tags=["indicators"],
    summary="Occupations created, income change and enterprises alive at 12 months",
    response_model=Outcomes,
    responses=error_responses(401, 403, 422),
)
def outcome_indicators(
    user: ApiUser,
    rt: Rt,
    db: DbRead,
    by: Annotated[
        outcomes.OutcomeGroup,
        Query(description="Group by programme (one row), sex, age_band, uf or module."),
    ] = "programme",
    wave: Annotated[
        Literal["ecc_end", "month_6", "month_12"],
        Query(description="The wave compared with the entry survey."),
    ] = "month_12",
    uf: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Only the cases of this UF.", examples=["CE"]),
    ] = None,
) -> Outcomes:
    """From the participants' surveys, entry against `wave` (the rules:
    `states/outcomes.py`): groups of fewer than `min_group` people are suppressed. A
    coordinator or supervisor sees the figures of their territory's cases only."""
    territory = case_scope(user)
    rows = outcomes.outcomes(db, by, wave=wave, today=rt.today(), uf=uf, ufs=territory)
    return Outcomes(
        by=by,
        uf=uf.upper() if uf else None,
        wave=wave,
        min_group=MIN_GROUP,
        territory=sorted(territory) if territory is not None else None,
        rows=[OutcomeRowOut.model_validate(row.as_dict()) for row in rows],
    )


def lifecycle_schema(schema: dict[str, Any], rt: Runtime) -> dict[str, Any]:
    """The OpenAPI ``schema`` with the events of ``rt``'s loaded lifecycle versions (a case runs
    under its own): ``AdvanceIn.event`` lists them,
    and each event's evidence model is a component ``Evidence_<event>``, named in
    ``AdvanceIn.evidence``'s description (the schema is derived from the declarations)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    advance = components.get("AdvanceIn", {}).get("properties", {})
    if "event" in advance:
        advance["event"]["enum"] = list(rt.all_events)
    names = []
    for spec in rt.all_events.values():
        model = spec.evidence.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in model.pop("$defs", {}).items():
            components.setdefault(name, definition)
        name = f"Evidence_{spec.name}"
        model["title"] = f"{spec.label_en} ({spec.name})"
        components[name] = model
        names.append(f"`{spec.name}`: `{name}`")
    if "evidence" in advance:
        advance["evidence"]["description"] = (
            "The evidence the event takes, by event: " + ", ".join(names) + "."
        )
    return schema
