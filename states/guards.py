"""The guards: is the evidence enough for the event? Each answers None or one sentence.

A guard reads only what it is given (the case's facts, the validated evidence, the actor, the
local date and the thresholds) and never does I/O. The sentence it returns names the evidence
that is missing or short, with the numbers, so a coordinator knows what to bring.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

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
    HubDecision,
    Justification,
    LegalForm,
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
    reopen_requested_by: str | None = None
    #: the current state's deadline (for indeferida: the last day to appeal)
    due_on: date | None = None


@dataclass(frozen=True)
class EccSummary:
    """What the records say of one training event, as the ECC guard reads it."""

    event_id: int
    kind: str
    start_on: date
    end_on: date
    held_on: date | None
    serves_case: bool
    #: days attended by each person enrolled for certification (no names)
    certification_attendance: tuple[int, ...]
    #: enterprises of the case formed at this event
    groups: int

    @property
    def days(self) -> int:
        return (self.end_on - self.start_on).days + 1


@dataclass(frozen=True)
class EnterpriseSummary:
    """What the records say of one enterprise of the case."""

    enterprise_id: int
    name: str
    legal_form: str | None
    members: int
    business_plan: bool
    cnpj: str | None
    no_cnpj_reason: str | None
    #: legal step -> the date it was done
    steps: dict[str, date]


@dataclass(frozen=True)
class FollowUpSummary:
    """The case's follow-up records."""

    clai_installed_on: date | None = None
    protocol_signed_on: date | None = None
    visits: tuple[date, ...] = ()


@dataclass(frozen=True)
class Records:
    """The programme records a guard may read (loaded only for the events that need them)."""

    participants: int = 0
    ecc: EccSummary | None = None
    enterprises: tuple[EnterpriseSummary, ...] = ()
    follow_up: FollowUpSummary = FollowUpSummary()


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
    records: Records = Records()


Guard = Callable[[GuardContext], str | None]


def share_of(share: float, total: int) -> int:
    """The smallest whole number that is at least ``share`` of ``total``.

    Computed exactly (0.56 of 25 is 14, where ``ceil(0.56 * 25)`` in floating point gives 15):
    the guards, the indicators and the exports use it so that they always agree.
    """
    return math.ceil(Fraction(str(share)) * total)


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
    # the window's last day, rolled to a working day (Lei 9.784/1999 art. 66 §1), is the
    # indeferida state's deadline; without one recorded, plain days
    closes = ctx.facts.due_on or rejected + timedelta(days=window)
    if ev.filed_on > closes:
        rolled = (
            "" if closes == rejected + timedelta(days=window) else f", to the working day {closes}"
        )
        return (
            f"the appeal was filed on {ev.filed_on}, {late} days after the rejection on "
            f"{rejected}; the window is {window} days{rolled}"
        )
    return _not_future("filed_on", ev.filed_on, ctx.today) or _reasoned(
        "appeal's grounds", ev.grounds, ctx.thresholds
    )


def appeal_window_closed(ctx: GuardContext) -> str | None:
    """indeferida -> arquivada: the appeal window is over (the sweep fires it as ``system``)."""
    rejected = ctx.facts.rejected_on
    if rejected is None:
        return "the case has no recorded rejection date"
    closes = ctx.facts.due_on or rejected + timedelta(days=ctx.thresholds.appeal_days)
    if ctx.today <= closes:
        return f"the appeal window is open until {closes}"
    return None


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
    have = ctx.records.participants
    if have < needed:
        return f"{have} participants pre-registered; at least {needed} needed"
    return _not_future("diagnosis.completed_on", ev.diagnosis.completed_on, ctx.today)


def trained(ctx: GuardContext) -> str | None:
    """capacitacao -> gestao: an ECC held for the case, attendance, enterprise groups formed."""
    ev = ctx.evidence
    assert isinstance(ev, FieldTraining)
    t = ctx.thresholds
    ecc = ctx.records.ecc
    name = f"ECC {ev.ecc_id}"
    if ecc is None:
        return f"{name} does not exist"
    if ecc.kind != "ecc":
        return f"event {ecc.event_id} is a {ecc.kind}, not an ECC"
    if not ecc.serves_case:
        return f"{name} does not serve this case"
    if ecc.held_on is None:
        return f"{name} has not been recorded as held (it ends on {ecc.end_on})"
    if ecc.days > t.max_ecc_days:
        return f"{name} lasted {ecc.days} days; at most {t.max_ecc_days} are accepted"
    enrolled = len(ecc.certification_attendance)
    if enrolled == 0:
        return f"{name} has no participant enrolled for certification"
    needed_days = share_of(t.min_attendance, ecc.days)
    attended = sum(1 for d in ecc.certification_attendance if d >= needed_days)
    needed = share_of(t.min_certified_share, enrolled)
    if attended < needed:
        return (
            f"{name}: {attended} of {enrolled} certified participants attended "
            f"≥ {t.min_attendance:.0%}; {needed} needed"
        )
    if ecc.groups == 0:
        return f"{name} formed no enterprise group for this case; at least one is needed"
    return None


def plans_for_all(ctx: GuardContext) -> str | None:
    """gestao -> legalizacao: a business plan for each enterprise."""
    enterprises = ctx.records.enterprises
    if not enterprises:
        return "the case has no enterprise"
    missing = [e for e in enterprises if not e.business_plan]
    if missing:
        names = ", ".join(f"{e.enterprise_id} {e.name!r}" for e in missing)
        return f"no business plan for enterprise {names}"
    return None


def legalised(ctx: GuardContext) -> str | None:
    """legalizacao -> acompanhamento: each enterprise legalised (CNPJ) or a recorded reason.

    A registry filing later than 30 days after the founding act is a missed obligation (kept
    and reported as such), not a reason to hold the case: the filing still counts, from its date.
    """
    enterprises = ctx.records.enterprises
    if not enterprises:
        return "the case has no enterprise"
    for e in enterprises:
        name = f"enterprise {e.enterprise_id} {e.name!r}"
        if e.cnpj is None and not e.no_cnpj_reason:
            return f"{name} has neither a CNPJ nor a recorded reason why not"
        if e.legal_form is None:
            if e.cnpj is None:
                continue  # it will not be formalised, and the reason is on record
            return f"{name} has no legal form"
        form = LegalForm(e.legal_form)
        minimum = MIN_MEMBERS.get(form)
        if form is LegalForm.MEI and e.members != 1:
            return f"{name} is a MEI, which is one person, but has {e.members} members"
        if minimum is not None and e.members < minimum:
            return f"{name} is a {form.value} with {e.members} members; at least {minimum} needed"
    return None


def followed_up(ctx: GuardContext) -> str | None:
    """acompanhamento -> avaliacao: CLAI, Protocol signed, a visit every interval, period over."""
    t = ctx.thresholds
    f = ctx.records.follow_up
    start = ctx.facts.entered_on
    end = add_months(start, t.follow_up_months)
    if ctx.today < end:
        return f"the {t.follow_up_months}-month follow-up started on {start} and ends on {end}"
    if f.clai_installed_on is None:
        return "the Comitê Local de Ação Integrada (CLAI) has not been installed"
    if f.protocol_signed_on is None:
        return "the Protocolo de Ações Integradas has not been signed"
    previous = start
    # coverage is judged over the period; a visit after its end does not open a new gap
    for visit in [*(v for v in sorted(f.visits) if start <= v < end), end]:
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
    formed = len(ctx.records.enterprises)
    if ev.indicators.enterprises_active > formed:
        return (
            f"{ev.indicators.enterprises_active} enterprises reported active, but the case "
            f"formed {formed}"
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
