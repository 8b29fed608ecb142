"""The guards: is the evidence enough for the event? Each answers None or one sentence.

A guard reads only what it is given (the case's facts, the validated evidence, the actor, the
local date and the thresholds) and never does I/O. The sentence it returns names the evidence
that is missing or short, with the numbers, so a coordinator knows what to bring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from states.config import DeadlineRule, Thresholds
from states.deadlines import add_months
from states.evidence import (
    MIN_MEMBERS,
    Appeal,
    Cancellation,
    EligibilityDecision,
    Evaluation,
    Evidence,
    FieldTraining,
    FollowUp,
    HubDecision,
    Justification,
    LegalForm,
    Legalisation,
    Management,
    Mobilisation,
    Rejection,
    Suspension,
)


@dataclass(frozen=True)
class CaseFacts:
    """What the guards may know of a case."""

    case_id: int | None
    state: str
    registered_on: date
    entered_on: date
    microregion_code: int
    forum: str = ""
    forum_held_on: date | None = None
    community: str = ""
    activity: str = ""
    proponent: str = ""
    previous_state: str | None = None
    extensions_used: int = 0
    rejected_on: date | None = None
    enterprises: tuple[str, ...] = ()
    reopen_requested_by: str | None = None


@dataclass(frozen=True)
class GuardContext:
    """Everything a guard reads."""

    facts: CaseFacts
    evidence: Evidence
    actor: str
    today: date
    thresholds: Thresholds
    #: the deadline rule of the case's current state (None where the state has no deadline)
    deadline_rule: DeadlineRule | None = None


Guard = Callable[[GuardContext], str | None]


def _not_future(what: str, day: date, today: date) -> str | None:
    if day > today:
        return f"{what} {day} is in the future (today is {today})"
    return None


def _reasoned(what: str, text: str, thresholds: Thresholds) -> str | None:
    if len(text) < thresholds.min_reason_chars:
        return (
            f"the {what} has {len(text)} characters; a reasoned text of at least "
            f"{thresholds.min_reason_chars} is needed"
        )
    return None


def demand_complete(ctx: GuardContext) -> str | None:
    """registrada -> em_analise: the demand record is complete."""
    f = ctx.facts
    missing = [
        name
        for name, value in (
            ("forum", f.forum),
            ("forum date", f.forum_held_on),
            ("community", f.community),
            ("productive activity", f.activity),
            ("proponent", f.proponent),
        )
        if not value
    ]
    if missing:
        return f"the demand record has no {', '.join(missing)}"
    return None


def extension_available(ctx: GuardContext) -> str | None:
    """prorrogar: the state allows another extension, and it is justified."""
    f = ctx.facts
    allowed = ctx.deadline_rule.max_extensions if ctx.deadline_rule else 0
    if allowed == 0:
        return f"the deadline of state {f.state} cannot be extended"
    if f.extensions_used >= allowed:
        times = "once" if allowed == 1 else f"{allowed} times"
        return f"the deadline of state {f.state} was already extended {times}, the maximum"
    assert isinstance(ctx.evidence, Justification)
    return _reasoned("justification", ctx.evidence.justification, ctx.thresholds)


def eligible(ctx: GuardContext) -> str | None:
    """em_analise -> polo_definido: an eligibility decision with the classification used."""
    ev = ctx.evidence
    assert isinstance(ev, EligibilityDecision)
    if ev.microregion_code != ctx.facts.microregion_code:
        return (
            f"the decision classifies microregion {ev.microregion_code}, but the demand's "
            f"municipality is in microregion {ctx.facts.microregion_code}"
        )
    if ev.pndr_class.value not in ctx.thresholds.eligible_classes:
        return (
            f"PNDR class {ev.pndr_class.value} is not eligible (eligible: "
            f"{', '.join(ctx.thresholds.eligible_classes)}); record a rejection instead"
        )
    if ev.decided_on < ctx.facts.registered_on:
        return f"decided_on {ev.decided_on} is before the demand was registered"
    return _not_future("decided_on", ev.decided_on, ctx.today) or _reasoned(
        "decision", ev.decision, ctx.thresholds
    )


def rejection_reasoned(ctx: GuardContext) -> str | None:
    """em_analise -> indeferida: a reasoned decision."""
    ev = ctx.evidence
    assert isinstance(ev, Rejection)
    return _not_future("decided_on", ev.decided_on, ctx.today) or _reasoned(
        "rejection's reasons", ev.reasons, ctx.thresholds
    )


def appeal_in_time(ctx: GuardContext) -> str | None:
    """indeferida -> em_analise: an appeal filed within the window after the rejection."""
    ev = ctx.evidence
    assert isinstance(ev, Appeal)
    rejected = ctx.facts.rejected_on
    if rejected is None:
        return "the case has no recorded rejection date"
    if ev.filed_on < rejected:
        return f"the appeal's filed_on {ev.filed_on} is before the rejection on {rejected}"
    late = (ev.filed_on - rejected).days
    window = ctx.thresholds.appeal_days
    if late > window:
        return (
            f"the appeal was filed on {ev.filed_on}, {late} days after the rejection on "
            f"{rejected}; the window is {window} days"
        )
    return _not_future("filed_on", ev.filed_on, ctx.today) or _reasoned(
        "appeal's grounds", ev.grounds, ctx.thresholds
    )


def hub_adhered(ctx: GuardContext) -> str | None:
    """polo_definido -> mobilizacao: the hub decision and a signed adhesion term."""
    ev = ctx.evidence
    assert isinstance(ev, HubDecision)
    return _not_future("decided_on", ev.decided_on, ctx.today) or _not_future(
        "adhesion_term.signed_on", ev.adhesion_term.signed_on, ctx.today
    )


def mobilised(ctx: GuardContext) -> str | None:
    """mobilizacao -> capacitacao: diagnosis done, enough participants pre-registered."""
    ev = ctx.evidence
    assert isinstance(ev, Mobilisation)
    needed = ctx.thresholds.min_participants
    if ev.pre_registered < needed:
        return f"{ev.pre_registered} participants pre-registered; at least {needed} needed"
    return _not_future("diagnosis.completed_on", ev.diagnosis.completed_on, ctx.today)


def trained(ctx: GuardContext) -> str | None:
    """capacitacao -> gestao: an ECC held, attendance of the certified, groups formed."""
    ev = ctx.evidence
    assert isinstance(ev, FieldTraining)
    t = ctx.thresholds
    if ev.duration_days > t.max_ecc_days:
        return f"the ECC lasted {ev.duration_days} days; at most {t.max_ecc_days} are accepted"
    if not ev.enterprise_groups:
        return "the ECC formed no enterprise group; at least one is needed"
    if late := _not_future("end_on", ev.end_on, ctx.today):
        return late
    needed_days = math.ceil(t.min_attendance * ev.duration_days)
    short = [d for d in ev.certified_attendance_days if d < needed_days]
    if short:
        certified = len(ev.certified_attendance_days)
        return (
            f"{len(short)} of {certified} certified participants attended fewer than "
            f"{needed_days} of the ECC's {ev.duration_days} days "
            f"({t.min_attendance:.0%} needed)"
        )
    return None


def plans_for_all(ctx: GuardContext) -> str | None:
    """gestao -> legalizacao: a business plan for each enterprise."""
    ev = ctx.evidence
    assert isinstance(ev, Management)
    planned = {p.enterprise.casefold() for p in ev.business_plans}
    missing = [e for e in ctx.facts.enterprises if e.casefold() not in planned]
    if missing:
        return f"no business plan for enterprise {', '.join(repr(e) for e in missing)}"
    for plan in ev.business_plans:
        if late := _not_future(f"the plan of {plan.enterprise!r}", plan.approved_on, ctx.today):
            return late
    return None


def legalised(ctx: GuardContext) -> str | None:
    """legalizacao -> acompanhamento: each enterprise legalised (CNPJ) or a recorded reason."""
    ev = ctx.evidence
    assert isinstance(ev, Legalisation)
    given = {e.enterprise.casefold(): e for e in ev.enterprises}
    missing = [e for e in ctx.facts.enterprises if e.casefold() not in given]
    if missing:
        return f"no legalisation record for enterprise {', '.join(repr(e) for e in missing)}"
    limit = ctx.thresholds.max_filing_days
    for e in ev.enterprises:
        name = repr(e.enterprise)
        minimum = MIN_MEMBERS.get(e.legal_form)
        if e.legal_form is LegalForm.MEI and e.members != 1:
            return f"enterprise {name} is a MEI, which is one person, but has {e.members} members"
        if minimum is not None and e.members < minimum:
            return (
                f"enterprise {name} is a {e.legal_form.value} with {e.members} members; "
                f"at least {minimum} needed"
            )
        if e.cnpj is None and not e.no_cnpj_reason:
            return f"enterprise {name} has neither a CNPJ nor a recorded reason why not"
        if e.cnpj is not None and e.registry_filed_on is None:
            return f"enterprise {name} has a CNPJ but no registry filing date"
        if e.registry_filed_on is not None:
            lag = (e.registry_filed_on - e.founding_act_on).days
            if lag > limit:
                return (
                    f"enterprise {name} was filed at the registry {lag} days after its "
                    f"founding act; at most {limit} days are allowed"
                )
            if late := _not_future(f"{name} registry_filed_on", e.registry_filed_on, ctx.today):
                return late
    return None


def followed_up(ctx: GuardContext) -> str | None:
    """acompanhamento -> avaliacao: CLAI, Protocol signed, a visit every interval, period over."""
    ev = ctx.evidence
    assert isinstance(ev, FollowUp)
    t = ctx.thresholds
    start = ctx.facts.entered_on
    end = add_months(start, t.follow_up_months)
    if ctx.today < end:
        return f"the {t.follow_up_months}-month follow-up started on {start} and ends on {end}"
    for what, day in (
        ("clai_installed_on", ev.clai_installed_on),
        ("protocol_signed_on", ev.protocol_signed_on),
    ):
        if late := _not_future(what, day, ctx.today):
            return late
    if ev.visits[0] < start or ev.visits[-1] > ctx.today:
        return f"visits must fall between {start} and today ({ctx.today})"
    previous = start
    # coverage is judged over the period; a visit after its end does not open a new gap
    for visit in [*(v for v in ev.visits if v < end), end]:
        gap = (visit - previous).days
        if gap > t.visit_interval_days:
            return (
                f"{gap} days passed between {previous} and {visit} without a visit; "
                f"a visit every {t.visit_interval_days} days is required"
            )
        previous = visit
    return None


def evaluated(ctx: GuardContext) -> str | None:
    """avaliacao -> concluida: the partner's report delivered, indicators recorded."""
    ev = ctx.evidence
    assert isinstance(ev, Evaluation)
    if ev.indicators.enterprises_active > len(ctx.facts.enterprises) and ctx.facts.enterprises:
        return (
            f"{ev.indicators.enterprises_active} enterprises reported active, but the case "
            f"formed {len(ctx.facts.enterprises)}"
        )
    return _not_future("partner_report.delivered_on", ev.partner_report.delivered_on, ctx.today)


def suspension_reasoned(ctx: GuardContext) -> str | None:
    """-> suspensa: a reason and an expected resume date after today."""
    ev = ctx.evidence
    assert isinstance(ev, Suspension)
    if ev.expected_resume_on <= ctx.today:
        return f"expected_resume_on {ev.expected_resume_on} must be after today ({ctx.today})"
    return _reasoned("suspension's reason", ev.reason, ctx.thresholds)


def cancellation_reasoned(ctx: GuardContext) -> str | None:
    """-> cancelada: a reasoned cancellation."""
    ev = ctx.evidence
    assert isinstance(ev, Cancellation)
    return _reasoned("cancellation's reason", ev.reason, ctx.thresholds)


def reopening_requested(ctx: GuardContext) -> str | None:
    """solicitar_reabertura: a justification, and no request already pending."""
    pending = ctx.facts.reopen_requested_by
    if pending is not None:
        return f"a reopening requested by {pending} is already waiting for approval"
    assert isinstance(ctx.evidence, Justification)
    return _reasoned("justification", ctx.evidence.justification, ctx.thresholds)


def second_person(ctx: GuardContext) -> str | None:
    """aprovar_reabertura / recusar_reabertura: a pending request, decided by someone else."""
    requester = ctx.facts.reopen_requested_by
    if requester is None:
        return "no reopening has been requested"
    if requester == ctx.actor:
        return f"{ctx.actor} requested the reopening; a different person must decide it"
    return None


def nothing(ctx: GuardContext) -> str | None:
    """Events that need no evidence beyond their validated fields."""
    return None
