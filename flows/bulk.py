"""One event applied to a list of cases (e.g. every case an ECC served), case by case.

:func:`advance_each` is plain Python: it checks the event, the actor and the evidence once (a
mistake there refuses the whole request before anything is written), then calls
:func:`tasks.cases.advance` for each case — one transaction per case, the same write path as a
coordinator's command — and reports which cases moved and which were refused, with the reason
(the guard's sentence, the state that does not accept the event, a case that does not exist, a
concurrent change). A refused or failed case never stops the others.

:func:`bulk_advance` is the Prefect flow around it: ONE task calls :func:`advance_each` (never a
task run per case) and the report is published as the ``bulk-advance`` artifact. The task is
not retried: a case that moved would be refused on a second pass, and the report would lie;
cases that failed transiently are listed as failed, to be run again by the operator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import counts, opened_runtime, publish, table
from flows.schedules import BULK
from states.errors import GuardFailed, InvalidInput, ProduzirError
from states.origin import use_origin
from states.text import N_
from tasks.cases import advance
from tasks.demands import check_actor
from tasks.runtime import Runtime

#: Cases one request may name.
MAX_CASES = 100_000


@dataclass
class BulkReport:
    """What a bulk advance did, case by case."""

    event: str
    actor: str
    requested: int
    moved: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    #: unexpected errors (a database gone away, a bug): the case was left as it was
    failed: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def advance_each(
    rt: Runtime,
    case_ids: Iterable[int],
    event: str,
    evidence: Mapping[str, Any] | None = None,
    *,
    actor: str,
    note: str | None = None,
) -> BulkReport:
    """Fire ``event`` with ``evidence`` on each case, one transaction each; the report."""
    check_actor(actor)
    ids = list(dict.fromkeys(case_ids))  # each case once, in the order given
    if not ids:
        raise InvalidInput(N_("no case given"), field="case_ids")
    if len(ids) > MAX_CASES:
        raise InvalidInput(
            N_(
                "%(value)s cases: at most %(MAX_CASES)s a request",
                value=len(ids),
                MAX_CASES=MAX_CASES,
            ),
            field="case_ids",
        )
    parsed = rt.lifecycle.parse_evidence(event, dict(evidence or {}))  # unknown event, bad data
    report = BulkReport(event=event, actor=actor, requested=len(ids))
    for case_id in ids:
        try:
            moved = advance(rt, case_id, event, parsed, actor=actor, note=note)
        except ProduzirError as exc:
            text = exc.reason_text if isinstance(exc, GuardFailed) else exc.text
            report.refused.append(
                {"case_id": case_id, "code": exc.code, "reason": text.english(), "text": text}
            )
        except Exception as exc:  # one bad case never stops the others
            report.failed.append({"case_id": case_id, "error": f"{type(exc).__name__}: {exc}"})
        else:
            report.moved.append(
                {
                    "case_id": case_id,
                    "from_state": moved.from_state,
                    "to_state": moved.to_state,
                    "version": moved.version,
                }
            )
    return report


@task(name="advance-each", cache_policy=NO_CACHE, persist_result=False)
def advance_task(
    rt: Runtime,
    case_ids: list[int],
    event: str,
    evidence: dict[str, Any],
    actor: str,
    note: str | None,
) -> BulkReport:
    """All the cases, in plain Python, in this one task run (origin ``flow``)."""
    with use_origin("flow"):
        return advance_each(rt, case_ids, event, evidence, actor=actor, note=note)


def summary(report: BulkReport) -> str:
    return (
        f"# Bulk advance: {report.event} by {report.actor}\n\n"
        + counts(
            [
                ("cases requested", report.requested),
                ("moved", len(report.moved)),
                ("refused", len(report.refused)),
                ("failed", len(report.failed)),
            ]
        )
        + f"\n## Refused ({len(report.refused)})\n\n"
        + table(report.refused, [("case_id", "case"), ("code", "code"), ("reason", "why")])
        + f"\n## Failed ({len(report.failed)})\n\n"
        + table(report.failed, [("case_id", "case"), ("error", "error")])
        + f"\n## Moved ({len(report.moved)})\n\n"
        + table(
            report.moved,
            [("case_id", "case"), ("from_state", "from"), ("to_state", "to"), ("version", "v")],
        )
    )


@flow(name=BULK.flow_name, description=BULK.description, persist_result=False)
def bulk_advance(
    case_ids: list[int],
    event: str,
    evidence: dict[str, Any],
    actor: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Apply ``event`` with ``evidence`` (``{}`` when it needs none) to every case in
    ``case_ids``, as ``actor`` (the user name the audit trail records)."""
    with opened_runtime() as rt:
        report = advance_task(rt, case_ids, event, evidence, actor, note)
    publish(
        BULK.flow_name,
        summary(report),
        f"{report.event}: {len(report.moved)} moved, {len(report.refused)} refused, "
        f"{len(report.failed)} failed",
    )
    return report.as_dict()
