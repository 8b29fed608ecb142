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
    register,
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
from states import queries
from states.audit import iso_utc
from states.errors import InvalidInput, NotFound
from tasks import audit_log
from tasks.runtime import Runtime

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

register(
    {
        "Auditoria": "Audit",
        "Verificação da cadeia": "Chain verification",
        "Exportar": "Export",
        "Log de acesso a dados pessoais": "Personal-data access log",
        # case history
        "Histórico do caso {id}": "History of case {id}",
        "Ver a página do caso": "Open the case page",
        "Ator": "Actor",
        "O caso em uma data": "The case on a date",
        "Mostrar": "Show",
        "Como estava em {when}": "As it was at {when}",
        "Último evento": "Last event",
        "Campo": "Field",
        "Valor": "Value",
        "Nenhum evento com esses filtros.": "No events match these filters.",
        "Sequência": "Sequence",
        "De → para": "From → to",
        "Exportar este histórico": "Export this history",
        # verify
        "Verificação do registro": "Log verification",
        "A verificação lê um instantâneo do registro, confere cada entrada com a sua folha na "
        "árvore de Merkle e a árvore com cada ponto de controle assinado.": "The verification "
        "reads one snapshot of the log, checks every entry against its leaf in the Merkle tree "
        "and the tree against every signed checkpoint.",
        "Verificar agora": "Verify now",
        "Verificar tudo desde o início": "Verify everything from the start",
        "Registro íntegro": "Log intact",
        "Registro ADULTERADO": "Log TAMPERED WITH",
        "{n} entradas conferidas a partir da folha {start}.": "{n} entries checked from leaf "
        "{start}.",
        "Árvore": "Tree",
        "{n} folhas": "{n} leaves",
        "{n} entradas aguardam o sequenciador.": "{n} entries wait for the sequencer.",
        "Ponto de controle assinado": "Signed checkpoint",
        "nenhum ainda": "none yet",
        "{size} entradas, assinado em {when} pela chave {key}": "{size} entries, signed at "
        "{when} by key {key}",
        "Guarde os pontos de controle em outro lugar (GET /api/v1/audit/checkpoints): "
        "produzir audit verify --against ARQUIVO prova que o registro ainda os estende.": "Keep "
        "the checkpoints somewhere else (GET /api/v1/audit/checkpoints): produzir audit verify "
        "--against FILE proves the log still extends them.",
        "Primeiro problema": "First problem",
        "Tipo do problema": "Kind of problem",
        "Folha": "Leaf",
        "Detalhe": "Detail",
        "alterado": "changed",
        "ausente": "missing",
        "fora de ordem": "reordered",
        "fora da árvore": "not in the tree",
        "assinatura inválida": "signature invalid",
        "chave desconhecida": "unknown key",
        "Prova do caso (JSON)": "Case proof (JSON)",
        "Baixe a prova para conferi-la sem o banco de dados: produzir audit check-proof "
        "ARQUIVO --key CHAVE_PUBLICA.": "Download the proof to check it without the database: "
        "produzir audit check-proof FILE --key PUBLIC_KEY.",
        # export
        "Exportar o histórico": "Export the history",
        "Os eventos de um caso ou de um período, em CSV ou JSON.": "The events of a case or of "
        "a period, as CSV or JSON.",
        "Número do caso": "Case number",
        "Formato": "Format",
        "Baixar": "Download",
        "Informe um caso ou um período.": "Give a case or a period.",
        # access log
        "Quem leu dados pessoais de quem, quando, por quê e por qual canal. O log guarda só o "
        "número da pessoa, nunca os dados.": "Who read whose personal data, when, why and "
        "through which channel. The log keeps only the person's number, never the data.",
        "Número da pessoa": "Person number",
        "Finalidade": "Purpose",
        "Canal": "Channel",
        "Nenhum acesso registrado com esses filtros.": "No access recorded with these filters.",
    }
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
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    try:
        q = _event_filter(request, user, case_id)
    except InvalidInput as exc:
        errors[exc.field or "from"] = exc.message
    else:
        rows, total = audit_events(db, q, scope=None, limit=AUDIT_PAGE, offset=offset)
        for row in rows:
            row["evidence_text"] = pretty(row["evidence"])
    as_of: dict[str, Any] | None = None
    at_error: str | None = None
    if at:
        try:
            moment = parse_moment(at, "at", user, end_of_day=True)
            assert moment is not None
            as_of = queries.case_at(db, case_id, moment)
        except (InvalidInput, NotFound) as exc:
            at_error = exc.message
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
    return render(request, "web/audit_verify.html", {"result": result})


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
    errors: dict[str, str] = {}
    case: int | None = None
    q: EventQuery | None = None
    if case_id.strip():
        if not case_id.strip().isdigit():
            errors["case_id"] = f"{case_id!r} is not a case number"
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
        errors[exc.field or "from"] = exc.message
    if format and format not in ("csv", "json"):
        errors["format"] = "format: csv or json"
    if (
        format
        and not errors
        and q is not None
        and q.case_id is None
        and q.since is None
        and q.until is None
    ):
        errors["case_id"] = "Informe um caso ou um período."
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
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    person: int | None = None
    if person_id.strip():
        if person_id.strip().isdigit():
            person = int(person_id)
        else:
            errors["person_id"] = f"{person_id!r} is not a person number"
    try:
        q = AccessQuery(
            actor=actor.strip() or None,
            person_id=person,
            channel=channel.strip() or None,
            since=parse_moment(from_, "from", user, end_of_day=False),
            until=parse_moment(to, "to", user, end_of_day=True),
        )
    except InvalidInput as exc:
        errors[exc.field or "from"] = exc.message
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
