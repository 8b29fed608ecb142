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
    AppealDecision,
    Cancellation,
    EligibilityDecision,
    Evaluation,
    Evidence,
    FieldTraining,
    HubDecision,
    Justification,
    LegalForm,
    Mobilisation,
    Notice,
    NotifiedRejection,
    Rejection,
    Suspension,
)
from states.territory import TypologyCheck
from states.text import N_, Np_, Term, Text, join


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
    #: the days the event met (its session days); the attendance share is of these
    session_days: int
    #: days attended by each person enrolled for certification (no names)
    certification_attendance: tuple[int, ...]
    #: enterprises of the case formed at this event
    groups: int

    @property
    def days(self) -> int:
        """The calendar span, first to last day (the ECC's length, capped by max_ecc_days)."""
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
    #: the PNDR typology in force, read for the demand's microregion (None: none imported)
    typology: TypologyCheck | None = None
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


Guard = Callable[[GuardContext], Text | None]


def share_of(share: float, total: int) -> int:
    """The smallest whole number that is at least ``share`` of ``total``.

    Computed exactly (0.56 of 25 is 14, where ``ceil(0.56 * 25)`` in floating point gives 15):
    the guards, the indicators and the exports use it so that they always agree.
    """
    return math.ceil(Fraction(str(share)) * total)


def _not_future(what: str, day: date, today: date) -> Text | None:
    if day > today:
        return N_(
            "%(what)s %(day)s is in the future (today is %(today)s)",
            what=what,
            day=day,
            today=today,
        )
    return None


def _reasoned(what: Text, text: str, thresholds: Thresholds) -> Text | None:
    if len(text) < thresholds.min_reason_chars:
        return Np_(
            "the %(what)s has %(n)s character; a reasoned text of at least %(min)s is needed",
            "the %(what)s has %(n)s characters; a reasoned text of at least %(min)s is needed",
            len(text),
            what=what,
            min=thresholds.min_reason_chars,
        )
    return None


def demand_complete(ctx: GuardContext) -> Text | None:
    """registrada -> em_analise: the demand record is complete."""
    f = ctx.facts
    missing = [
        name
        for name, value in (
            (N_("forum"), f.forum),
            (N_("forum date"), f.forum_held_on),
            (N_("community"), f.community),
            (N_("productive activity"), f.activity),
            (N_("proponent"), f.proponent),
        )
        if not value
    ]
    if missing:
        return N_("the demand record has no %(missing)s", missing=join(missing))
    return None


def extension_available(ctx: GuardContext) -> Text | None:
    """prorrogar: the state allows another extension, and it is justified."""
    f = ctx.facts
    allowed = ctx.deadline_rule.max_extensions if ctx.deadline_rule else 0
    if allowed == 0:
        return N_(
            "the deadline of state %(state)s cannot be extended", state=Term("state", f.state)
        )
    if f.extensions_used >= allowed:
        return Np_(
            "the deadline of state %(state)s was already extended once, the maximum",
            "the deadline of state %(state)s was already extended %(n)s times, the maximum",
            allowed,
            state=Term("state", f.state),
        )
    assert isinstance(ctx.evidence, Justification)
    return _reasoned(N_("justification"), ctx.evidence.justification, ctx.thresholds)


def eligible(ctx: GuardContext) -> Text | None:
    """em_analise -> polo_definido: the demand's microregion has an eligible class in the PNDR
    typology in force (read from the records, never typed), and the decision is reasoned."""
    ev = ctx.evidence
    assert isinstance(ev, EligibilityDecision)
    typology = ctx.records.typology
    if typology is None:
        return N_(
            "no PNDR typology has been imported, so microregion %(code)s has no class; an "
            "administrator imports the one in force (produzir territory import-typology)",
            code=str(ctx.facts.microregion_code),
        )
    if typology.pndr_class is None:
        return N_(
            "microregion %(code)s has no class in the PNDR typology in force (%(name)s "
            "%(version)s); eligibility cannot be decided until the typology classifies it",
            code=str(typology.microregion_code),
            name=typology.name,
            version=typology.version,
        )
    if typology.pndr_class not in ctx.thresholds.eligible_classes:
        return N_(
            "microregion %(code)s is of PNDR class %(pndr_class)s in the typology in force "
            "(%(name)s %(version)s), which is not eligible (eligible: %(eligible)s); record a "
            "rejection instead",
            code=str(typology.microregion_code),
            pndr_class=Term("pndr_class", typology.pndr_class),
            name=typology.name,
            version=typology.version,
            eligible=join([Term("pndr_class", c) for c in ctx.thresholds.eligible_classes]),
        )
    if ev.decided_on < ctx.facts.registered_on:
        return N_("decided_on %(day)s is before the demand was registered", day=ev.decided_on)
    return _not_future("decided_on", ev.decided_on, ctx.today) or _reasoned(
        N_("decision"), ev.decision, ctx.thresholds
    )


def rejection_reasoned(ctx: GuardContext) -> Text | None:
    """em_analise -> indeferida: a reasoned decision."""
    ev = ctx.evidence
    assert isinstance(ev, Rejection)
    return _not_future("decided_on", ev.decided_on, ctx.today) or _reasoned(
        N_("rejection's reasons"), ev.reasons, ctx.thresholds
    )


def appeal_in_time(ctx: GuardContext) -> Text | None:
    """indeferida -> em_analise: an appeal filed within the window after the rejection."""
    ev = ctx.evidence
    assert isinstance(ev, Appeal)
    rejected = ctx.facts.rejected_on
    if rejected is None:
        return N_("the case has no recorded rejection date")
    if ev.filed_on < rejected:
        return N_(
            "the appeal's filed_on %(filed_on)s is before the rejection on %(rejected)s",
            filed_on=ev.filed_on,
            rejected=rejected,
        )
    late = (ev.filed_on - rejected).days
    window = ctx.thresholds.appeal_days
    # the window's last day, rolled to a working day (Lei 9.784/1999 art. 66 §1), is the
    # indeferida state's deadline; without one recorded, plain days
    closes = ctx.facts.due_on or rejected + timedelta(days=window)
    if ev.filed_on > closes:
        rolled = (
            Text("", {})
            if closes == rejected + timedelta(days=window)
            else N_(", to the working day %(closes)s", closes=closes)
        )
        return Np_(
            "the appeal was filed on %(filed_on)s, %(n)s day after the rejection on "
            "%(rejected)s; the window is %(window)s days%(rolled)s",
            "the appeal was filed on %(filed_on)s, %(n)s days after the rejection on "
            "%(rejected)s; the window is %(window)s days%(rolled)s",
            late,
            filed_on=ev.filed_on,
            rejected=rejected,
            window=window,
            rolled=rolled,
        )
    return _not_future("filed_on", ev.filed_on, ctx.today) or _reasoned(
        N_("appeal's grounds"), ev.grounds, ctx.thresholds
    )


def appeal_window_closed(ctx: GuardContext) -> Text | None:
    """indeferida -> arquivada: the appeal window is over (the sweep fires it as ``system``)."""
    rejected = ctx.facts.rejected_on
    if rejected is None:
        return N_("the case has no recorded rejection date")
    closes = ctx.facts.due_on or rejected + timedelta(days=ctx.thresholds.appeal_days)
    if ctx.today <= closes:
        return N_("the appeal window is open until %(closes)s", closes=closes)
    return None


# --- the appeal as Lei 9.784/1999 writes it (lifecycle 2026.3) --------------------------------
#
# The window is `appeal_days` from the proponent's ciência of the rejection (art. 59), counted
# as art. 66 counts (the first day excluded, the last included, rolled to a working day); its
# last day is the indeferida state's deadline (`due_on`), set when the ciência is recorded.
# Without a recorded ciência the window has not started: nothing archives the case, and an
# appeal filed meanwhile is in time (an act done before its term starts is timely).


def rejection_notified(ctx: GuardContext) -> Text | None:
    """em_analise -> indeferida: a reasoned decision; the ciência, if given, not in the future."""
    ev = ctx.evidence
    assert isinstance(ev, NotifiedRejection)
    found = rejection_reasoned(ctx)
    if found is None and ev.notified_on is not None:
        found = _not_future("notified_on", ev.notified_on, ctx.today)
    return found


def decision_notified(ctx: GuardContext) -> Text | None:
    """notificar_decisao: the ciência of a rejection that has none recorded yet."""
    ev = ctx.evidence
    assert isinstance(ev, Notice)
    rejected = ctx.facts.rejected_on
    if rejected is None:
        return N_("the case has no recorded rejection date")
    if ctx.facts.due_on is not None:
        return N_(
            "the proponent's ciência of the rejection is already recorded; the appeal window "
            "runs until %(closes)s",
            closes=ctx.facts.due_on,
        )
    if ev.notified_on < rejected:
        return N_(
            "notified_on %(day)s is before the rejection on %(rejected)s",
            day=ev.notified_on,
            rejected=rejected,
        )
    return _not_future("notified_on", ev.notified_on, ctx.today)


def appeal_after_notice(ctx: GuardContext) -> Text | None:
    """indeferida -> em_reconsideracao: an appeal filed by the last day of the window that
    counts from the ciência (or before the ciência is recorded: the window has not started)."""
    ev = ctx.evidence
    assert isinstance(ev, Appeal)
    rejected = ctx.facts.rejected_on
    if rejected is None:
        return N_("the case has no recorded rejection date")
    if ev.filed_on < rejected:
        return N_(
            "the appeal's filed_on %(filed_on)s is before the rejection on %(rejected)s",
            filed_on=ev.filed_on,
            rejected=rejected,
        )
    closes = ctx.facts.due_on
    if closes is not None and ev.filed_on > closes:
        return Np_(
            "the appeal was filed on %(filed_on)s, after the window of %(n)s day from the "
            "proponent's ciência closed on %(closes)s",
            "the appeal was filed on %(filed_on)s, after the window of %(n)s days from the "
            "proponent's ciência closed on %(closes)s",
            ctx.thresholds.appeal_days,
            filed_on=ev.filed_on,
            closes=closes,
        )
    return _not_future("filed_on", ev.filed_on, ctx.today) or _reasoned(
        N_("appeal's grounds"), ev.grounds, ctx.thresholds
    )


def appeal_window_over(ctx: GuardContext) -> Text | None:
    """indeferida -> arquivada: the window that counts from the ciência is over; never before
    the ciência is recorded (the sweep fires it as ``system``)."""
    if ctx.facts.rejected_on is None:
        return N_("the case has no recorded rejection date")
    closes = ctx.facts.due_on
    if closes is None:
        return N_(
            "the proponent's ciência of the rejection is not recorded, so the appeal window "
            "has not started; record it with notificar_decisao"
        )
    if ctx.today <= closes:
        return N_("the appeal window is open until %(closes)s", closes=closes)
    return None


def appeal_decided(ctx: GuardContext) -> Text | None:
    """An authority's reasoned decision on the appeal (reconsider, forward, grant, deny)."""
    ev = ctx.evidence
    assert isinstance(ev, AppealDecision)
    return _not_future("decided_on", ev.decided_on, ctx.today) or _reasoned(
        N_("decision's reasons"), ev.reasons, ctx.thresholds
    )


def hub_adhered(ctx: GuardContext) -> Text | None:
    """polo_definido -> mobilizacao: the hub decision and a signed adhesion term."""
    ev = ctx.evidence
    assert isinstance(ev, HubDecision)
    return _not_future("decided_on", ev.decided_on, ctx.today) or _not_future(
        "adhesion_term.signed_on", ev.adhesion_term.signed_on, ctx.today
    )


def mobilised(ctx: GuardContext) -> Text | None:
    """mobilizacao -> capacitacao: diagnosis done, enough participants pre-registered."""
    ev = ctx.evidence
    assert isinstance(ev, Mobilisation)
    needed = ctx.thresholds.min_participants
    have = ctx.records.participants
    if have < needed:
        return Np_(
            "%(n)s participant pre-registered; at least %(needed)s needed",
            "%(n)s participants pre-registered; at least %(needed)s needed",
            have,
            needed=needed,
        )
    return _not_future("diagnosis.completed_on", ev.diagnosis.completed_on, ctx.today)


def trained(ctx: GuardContext) -> Text | None:
    """capacitacao -> gestao: an ECC held for the case, attendance, enterprise groups formed."""
    ev = ctx.evidence
    assert isinstance(ev, FieldTraining)
    t = ctx.thresholds
    ecc = ctx.records.ecc
    name = N_("ECC %(ecc_id)s", ecc_id=ev.ecc_id)
    if ecc is None:
        return N_("%(name)s does not exist", name=name)
    if ecc.kind != "ecc":
        return N_(
            "event %(event_id)s is a %(kind)s, not an ECC",
            event_id=ecc.event_id,
            kind=Term("training_kind", ecc.kind),
        )
    if not ecc.serves_case:
        return N_("%(name)s does not serve this case", name=name)
    if ecc.held_on is None:
        return N_(
            "%(name)s has not been recorded as held (it ends on %(end_on)s)",
            name=name,
            end_on=ecc.end_on,
        )
    if ecc.days > t.max_ecc_days:
        return Np_(
            "%(name)s lasted %(n)s day; at most %(max)s are accepted",
            "%(name)s lasted %(n)s days; at most %(max)s are accepted",
            ecc.days,
            name=name,
            max=t.max_ecc_days,
        )
    enrolled = len(ecc.certification_attendance)
    if enrolled == 0:
        return N_("%(name)s has no participant enrolled for certification", name=name)
    # the share is of the days the ECC met, not of its calendar span
    needed_days = share_of(t.min_attendance, ecc.session_days)
    attended = sum(1 for d in ecc.certification_attendance if d >= needed_days)
    needed = share_of(t.min_certified_share, enrolled)
    if attended < needed:
        return Np_(
            "%(name)s: %(attended)s of %(n)s certified participant attended ≥ %(pct)s%%; "
            "%(needed)s needed",
            "%(name)s: %(attended)s of %(n)s certified participants attended ≥ %(pct)s%%; "
            "%(needed)s needed",
            enrolled,
            name=name,
            attended=attended,
            pct=round(t.min_attendance * 100),
            needed=needed,
        )
    if ecc.groups == 0:
        return N_(
            "%(name)s formed no enterprise group for this case; at least one is needed",
            name=name,
        )
    return None


def plans_for_all(ctx: GuardContext) -> Text | None:
    """gestao -> legalizacao: a business plan for each enterprise."""
    enterprises = ctx.records.enterprises
    if not enterprises:
        return N_("the case has no enterprise")
    missing = [e for e in enterprises if not e.business_plan]
    if missing:
        names = join([f"{e.enterprise_id} {e.name!r}" for e in missing])
        return Np_(
            "no business plan for enterprise %(names)s",
            "no business plan for enterprises %(names)s",
            len(missing),
            names=names,
        )
    return None


def legalised(ctx: GuardContext) -> Text | None:
    """legalizacao -> acompanhamento: each enterprise legalised (CNPJ) or a recorded reason.

    A registry filing later than 30 days after the founding act (where the law sets them: the
    Junta Comercial, Lei 8.934/1994 art. 36, and sociedades, Código Civil art. 1.151 §1) is a
    missed obligation (kept and reported as such), not a reason to hold the case: the filing
    still counts, from its date. Members who left are not counted.
    """
    enterprises = ctx.records.enterprises
    if not enterprises:
        return N_("the case has no enterprise")
    for e in enterprises:
        name = N_(
            "enterprise %(enterprise_id)s %(name)s",
            enterprise_id=e.enterprise_id,
            name=repr(e.name),
        )
        if e.cnpj is None and not e.no_cnpj_reason:
            return N_("%(name)s has neither a CNPJ nor a recorded reason why not", name=name)
        if e.legal_form is None:
            if e.cnpj is None:
                continue  # it will not be formalised, and the reason is on record
            return N_("%(name)s has no legal form", name=name)
        form = LegalForm(e.legal_form)
        minimum = MIN_MEMBERS.get(form)
        if form is LegalForm.MEI and e.members != 1:
            return Np_(
                "%(name)s is a MEI, which is one person, but has %(n)s member",
                "%(name)s is a MEI, which is one person, but has %(n)s members",
                e.members,
                name=name,
            )
        if form is LegalForm.EMPRESARIO_INDIVIDUAL and e.members != 1:
            return Np_(
                "%(name)s is an empresário individual, which is one person, but has %(n)s member",
                "%(name)s is an empresário individual, which is one person, but has %(n)s members",
                e.members,
                name=name,
            )
        if minimum is not None and e.members < minimum:
            return Np_(
                "%(name)s is a %(form)s with %(n)s member; at least %(minimum)s needed",
                "%(name)s is a %(form)s with %(n)s members; at least %(minimum)s needed",
                e.members,
                name=name,
                form=Term("legal_form", form.value),
                minimum=minimum,
            )
    return None


def followed_up(ctx: GuardContext) -> Text | None:
    """acompanhamento -> avaliacao: CLAI, Protocol signed, a visit every interval, period over."""
    t = ctx.thresholds
    f = ctx.records.follow_up
    start = ctx.facts.entered_on
    end = add_months(start, t.follow_up_months)
    if ctx.today < end:
        return N_(
            "the %(months)s-month follow-up started on %(start)s and ends on %(end)s",
            months=t.follow_up_months,
            start=start,
            end=end,
        )
    if f.clai_installed_on is None:
        return N_("the Comitê Local de Ação Integrada (CLAI) has not been installed")
    if f.protocol_signed_on is None:
        return N_("the Protocolo de Ações Integradas has not been signed")
    previous = start
    # coverage is judged over the period; a visit after its end does not open a new gap
    for visit in [*(v for v in sorted(f.visits) if start <= v < end), end]:
        gap = (visit - previous).days
        if gap > t.visit_interval_days:
            return N_(
                "%(gap)s days passed between %(previous)s and %(visit)s without a visit; "
                "a visit every %(interval)s days is required",
                gap=gap,
                previous=previous,
                visit=visit,
                interval=t.visit_interval_days,
            )
        previous = visit
    return None


def evaluated(ctx: GuardContext) -> Text | None:
    """avaliacao -> concluida: the partner's report delivered, indicators recorded."""
    ev = ctx.evidence
    assert isinstance(ev, Evaluation)
    formed = len(ctx.records.enterprises)
    if ev.indicators.enterprises_active > formed:
        return Np_(
            "%(n)s enterprise reported active, but the case formed %(formed)s",
            "%(n)s enterprises reported active, but the case formed %(formed)s",
            ev.indicators.enterprises_active,
            formed=formed,
        )
    return _not_future("partner_report.delivered_on", ev.partner_report.delivered_on, ctx.today)


def suspension_reasoned(ctx: GuardContext) -> Text | None:
    """-> suspensa: a reason and an expected resume date after today."""
    ev = ctx.evidence
    assert isinstance(ev, Suspension)
    if ev.expected_resume_on <= ctx.today:
        return N_(
            "expected_resume_on %(day)s must be after today (%(today)s)",
            day=ev.expected_resume_on,
            today=ctx.today,
        )
    return _reasoned(N_("suspension's reason"), ev.reason, ctx.thresholds)


def cancellation_reasoned(ctx: GuardContext) -> Text | None:
    """-> cancelada: a reasoned cancellation."""
    ev = ctx.evidence
    assert isinstance(ev, Cancellation)
    return _reasoned(N_("cancellation's reason"), ev.reason, ctx.thresholds)


def reopening_requested(ctx: GuardContext) -> Text | None:
    """solicitar_reabertura: a justification, and no request already pending."""
    pending = ctx.facts.reopen_requested_by
    if pending is not None:
        return N_(
            "a reopening requested by %(pending)s is already waiting for approval", pending=pending
        )
    assert isinstance(ctx.evidence, Justification)
    return _reasoned(N_("justification"), ctx.evidence.justification, ctx.thresholds)


def second_person(ctx: GuardContext) -> Text | None:
    """aprovar_reabertura / recusar_reabertura: a pending request, decided by someone else."""
    requester = ctx.facts.reopen_requested_by
    if requester is None:
        return N_("no reopening has been requested")
    if requester == ctx.actor:
        return N_(
            "%(actor)s requested the reopening; a different person must decide it",
            actor=ctx.actor,
        )
    return None


def nothing(ctx: GuardContext) -> Text | None:
    """Events that need no evidence beyond their validated fields."""
    return None
