"""Moving cases in flight to another lifecycle version (``produzir lifecycle migrate``).

As Camunda 7's process-instance migration does, a migration has a plan and a validation report
before anything moves: for every case under another version, :func:`plan` says the state it
lands in (the same code, the target version's ``renamed_from``, or the operator's ``--map``),
the deadline it will have under the target's rules, and the guards of the state it lands in
that would refuse now (evidence-free steps, judged on today's records: what the coordinator
will be told next), or why it cannot move (its state, or the state a suspension or a closed
case remembers, has no counterpart in the target). :func:`migrate` then moves each movable
case in its own transaction, with an audit entry ``migrar_versao`` (from and to versions, the
mapping used, the changes), and leaves the others as they are. Nothing about a case's past
changes: its history, and the case at any earlier moment, keep the old version's states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from states import audit, record_views, store
from states.calendar import calendar_for
from states.deadlines import due_date, extended, local_date
from states.effects import to_json
from states.errors import GuardFailed, InvalidInput
from states.lifecycle import Lifecycle
from states.models import Case, Municipality
from states.states import State
from states.text import N_, Text
from tasks.demands import check_actor
from tasks.runtime import Runtime

#: the audit event of a case moved to another lifecycle version
MIGRATE_EVENT = "migrar_versao"
#: the event that records the proponent's ciência of a rejection (lifecycle 2026.3 on)
NOTICE_EVENT = "notificar_decisao"
#: the changes of a move that the guards read (CaseFacts fields)
_FACTS = ("state", "previous_state", "due_on", "entered_on", "extensions_used")


@dataclass(frozen=True)
class Planned:
    """What the migration does, or would do, to one case."""

    case_id: int
    from_version: str
    from_state: str
    #: None when the case cannot move (``problem`` says why)
    to_state: str | None
    due_on: date | None = None
    previous_state: str | None = None
    #: guards of the state it lands in that would refuse now: (event, reason)
    would_refuse: tuple[tuple[str, Text], ...] = ()
    problem: Text | None = None
    #: after :func:`migrate`: the audit entry's number
    seq: int | None = None
    #: the columns the move changes (the dry run shows what the real run writes)
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Migration:
    """A migration's plan, or its result."""

    to_version: str
    mapping: dict[str, str]
    dry_run: bool
    cases: list[Planned] = field(default_factory=list)

    @property
    def moved(self) -> list[Planned]:
        return [p for p in self.cases if p.to_state is not None]

    @property
    def refused(self) -> list[Planned]:
        return [p for p in self.cases if p.to_state is None]


def parse_mapping(pairs: list[str], target: Lifecycle) -> dict[str, str]:
    """``old_state=new_state`` pairs; InvalidInput naming a malformed pair or a state the
    target version lacks."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not sep or not old or not new:
            raise InvalidInput(
                N_("--map %(pair)s: give old_state=new_state", pair=repr(pair)), field="map"
            )
        if target.state(new) is None:
            raise InvalidInput(
                N_(
                    "--map %(pair)s: %(state)s is not a state of lifecycle %(version)s "
                    "(its states: %(value)s)",
                    pair=repr(pair),
                    state=new,
                    version=target.version,
                    value=", ".join(s.code for s in target.states),
                ),
                field="map",
            )
        mapping[old] = new
    return mapping


def plan(rt: Runtime, to_version: str, mapping: Mapping[str, str]) -> Migration:
    """What migrating every case under another version to ``to_version`` would do."""
    target = rt.lifecycle_for(to_version)
    result = Migration(to_version, dict(mapping), dry_run=True)
    with rt.db.read() as session:
        for case_id in _under_other_versions(session, to_version):
            case = session.get(Case, case_id)
            assert case is not None
            municipality = store.get_municipality(session, case.municipality_code)
            assert municipality is not None
            result.cases.append(_plan_one(session, rt, target, case, municipality, mapping))
    return result


def migrate(rt: Runtime, to_version: str, mapping: Mapping[str, str], *, actor: str) -> Migration:
    """Move every case that can move to ``to_version``, each in its own transaction with an
    audit entry; the others stay as they are (listed with the reason)."""
    check_actor(actor)
    target = rt.lifecycle_for(to_version)
    result = Migration(to_version, dict(mapping), dry_run=False)
    with rt.db.read() as session:
        ids = _under_other_versions(session, to_version)
    for case_id in ids:
        with rt.db.write() as session:  # each case planned under its lock, then moved
            case, municipality = store.load_for_update(session, case_id)
            now = rt.clock.now()
            if case.lifecycle_version == to_version:  # moved meanwhile (another run)
                continue
            again = _plan_one(session, rt, target, case, municipality, mapping)
            if again.to_state is None:  # it cannot move: listed, left as it is
                result.cases.append(again)
                continue
            changes = {**again.changes, "lifecycle_version": to_version}
            from_version, from_state = case.lifecycle_version, case.state
            used = {k: v for k, v in _mapping(target, case, mapping).items() if k != v}
            version = store.update_case(session, case, changes, actor=actor, now=now)
            row = audit.append(
                session,
                case_id=case.id,
                case_version=version,
                lifecycle_version=to_version,
                event=MIGRATE_EVENT,
                from_state=from_state,
                to_state=again.to_state,
                actor=actor,
                note=None,
                evidence={"from_version": from_version, "to_version": to_version, "map": used},
                changes=to_json(changes),
                occurred_at=now,
            )
            result.cases.append(
                Planned(
                    again.case_id,
                    from_version,
                    from_state,
                    again.to_state,
                    again.due_on,
                    again.previous_state,
                    again.would_refuse,
                    seq=row.seq,
                    changes=changes,
                )
            )
    return result


def _under_other_versions(session: Session, to_version: str) -> list[int]:
    """The cases not under ``to_version``, by number."""
    return list(
        session.execute(
            select(Case.id).where(Case.lifecycle_version != to_version).order_by(Case.id)
        ).scalars()
    )


def _mapping(target: Lifecycle, case: Case, explicit: Mapping[str, str]) -> dict[str, str]:
    """Old state -> new state: the target's renames, then the operator's ``--map``."""
    found = {s.renamed_from: s.code for s in target.states if s.renamed_from}
    found.update(explicit)
    return {
        state: found.get(state, state)
        for state in (case.state, case.previous_state)
        if state is not None
    }


def _plan_one(
    session: Session,
    rt: Runtime,
    target: Lifecycle,
    case: Case,
    municipality: Municipality,
    explicit: Mapping[str, str],
) -> Planned:
    mapped = _mapping(target, case, explicit)
    new_state = mapped[case.state]
    previous = mapped.get(case.previous_state) if case.previous_state else None
    source = rt.lifecycles.get(case.lifecycle_version)

    def cannot(problem: Text) -> Planned:
        return Planned(case.id, case.lifecycle_version, case.state, None, problem=problem)

    for old, new in ((case.state, new_state), (case.previous_state, previous)):
        if old is None:
            continue
        landing = target.state(new) if new is not None else None
        if landing is None:
            return cannot(
                N_(
                    "state %(state)s has no counterpart in lifecycle %(version)s; give "
                    "--map %(state)s=STATE",
                    state=old,
                    version=target.version,
                )
            )
        known = source.state(old) if source is not None else None
        if known is not None and known.kind != landing.kind:  # active to active, side to side
            return cannot(
                N_(
                    "state %(state)s (%(kind)s) cannot become %(new)s (%(new_kind)s) in "
                    "lifecycle %(version)s",
                    state=old,
                    kind=known.kind,
                    new=landing.code,
                    new_kind=landing.kind,
                    version=target.version,
                )
            )
    landing = target.state(new_state)
    assert landing is not None
    today = local_date(rt.clock.now(), municipality.timezone)
    # a state playing another role is a new stay: its clock starts today, with no extension
    fresh = source is not None and source.role(case.state) != landing.role
    entered = today if fresh else case.entered_on
    extensions = 0 if fresh else case.extensions_used
    changes: dict[str, Any] = {"state": new_state, "previous_state": previous}
    if fresh:
        changes.update(entered_on=entered, extensions_used=extensions)
    changes["due_on"] = (
        _deadline(session, target, case, municipality, new_state, entered, extensions)
        if landing.kind == "active"
        else case.due_on
    )
    if (
        landing.role == State.INDEFERIDA.value
        and _window_from_notice(target)
        and not _window_from_notice(source)
    ):
        # the target counts the appeal window from the proponent's ciência (Lei 9.784/1999
        # art. 59), which the source version did not record: the window has not started until
        # a coordinator records it (notificar_decisao), and nothing archives the case meanwhile
        changes["due_on"] = None
    if case.paused_due_on is not None and previous is not None:  # a suspension's paused clock
        changes["paused_due_on"] = _deadline(
            session, target, case, municipality, previous, case.entered_on, case.extensions_used
        )
    return Planned(
        case.id,
        case.lifecycle_version,
        case.state,
        new_state,
        changes["due_on"],
        previous,
        _would_refuse(session, rt, target, case, municipality, changes),
        changes=changes,
    )


def _window_from_notice(lifecycle: Lifecycle | None) -> bool:
    """Whether ``lifecycle`` records the ciência of a rejection (its appeal window counts from
    it); an unknown source version is taken to."""
    return lifecycle is None or NOTICE_EVENT in lifecycle.by_name


def _deadline(
    session: Session,
    target: Lifecycle,
    case: Case,
    municipality: Municipality,
    state: str,
    entered_on: date,
    extensions_used: int,
) -> date:
    """The deadline of ``state`` under the target's rule, from the day the case entered it,
    with the extensions it already used."""
    rule = target.config.deadlines[state]
    calendar = calendar_for(session, case.municipality_code, municipality.uf)
    due = due_date(rule, entered_on, calendar)
    for _ in range(min(extensions_used, rule.max_extensions)):
        due = extended(rule, due, calendar)
    return due


def _would_refuse(
    session: Session,
    rt: Runtime,
    target: Lifecycle,
    case: Case,
    municipality: Municipality,
    changes: Mapping[str, Any],
) -> tuple[tuple[str, Text], ...]:
    """The evidence-free steps out of the state the case lands in whose guards refuse today,
    judged on the case as it will be (its ``changes`` applied), with the reason."""
    facts = dataclasses.replace(
        store.facts_of(case, municipality),
        **{k: v for k, v in changes.items() if k in _FACTS},
    )
    state = str(changes["state"])
    today = local_date(rt.clock.now(), municipality.timezone)
    found: list[tuple[str, Text]] = []
    for name in target.allowed_events(state):
        spec = target.spec(name)
        needs = [n for n, f in spec.evidence.model_fields.items() if f.is_required()]
        if not spec.moving or needs or not spec.summary:
            continue
        evidence = target.evidence_for(spec, {})
        records = record_views.records_for(session, case.id, spec.reads, evidence)
        try:
            target.judge(spec, facts, evidence, actor="system", today=today, records=records)
        except GuardFailed as exc:
            found.append((name, exc.reason_text))
    return tuple(found)
