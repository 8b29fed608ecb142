"""Enterprises formed by participants: members, legal form, business plan, and the legalisation
checklist in its legal order, with the legal sub-deadlines kept as dated obligations.

Steps, in order (``applies`` says for which legal forms):

    founding_act                    assembly (cooperatives, associations), contract
                                    (sociedades) or the empresário's application
    lawyer_endorsement              acts of legal persons (Lei 8.906/1994 art. 1 §2): not the
                                    MEI, the empresário individual nor the legacy ``me_epp``
    registry_filing                 at the registry of the form (Junta Comercial: cooperatives,
                                    empresário individual, sociedade limitada; Registro Civil de
                                    Pessoas Jurídicas: associations, economia solidária,
                                    sociedade simples); within 30 days of the founding act where
                                    the law says so (:data:`FILING_DEADLINE`), otherwise only a
                                    programme target if one is configured
    registry_correction_requested   the registry asked for corrections: 30 days to answer
    registry_correction_filed       (both only when the registry asks)
    cnpj                            numeric or alphanumeric CNPJ (a MEI gets it directly)
    state_registration, municipal_registration
    licence                         or a recorded waiver (low risk); no other step is waivable
    ocb_registration                cooperatives only
    caf                             family agriculture only (renewed every 2 years)

A step needs the steps before it that apply to the form, dated no later than it; once a step is
recorded, the steps it depends on can no longer be added (a correction after the CNPJ, say).
A legal form's member minimum (cooperativa 20, cooperativa de trabalho 7, MEI and empresário
individual exactly 1) is checked when the form is chosen; a one-person form takes no second
member. The size category (ME, EPP: LC 123/2006 art. 3) is chosen beside the form, never by a
cooperative but a consumer cooperative (art. 3 §4 VI). A member may leave (date, reason): a
cooperative that falls below its minimum gets an obligation to restore it (Lei 5.764/1971 art.
63 IV). A MEI whose visits report more revenue in a year than the cap (LC 123/2006 art. 18-A
§1) gets an obligation to leave the MEI (§7 III).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states import store
from states.audit import iso_utc
from states.bounds import Bounded
from states.deadlines import add_months, local_date
from states.errors import InvalidInput, NotAllowed, NotFound
from states.evidence import (
    CHOOSABLE_FORMS,
    COOPERATIVES,
    MIN_MEMBERS,
    ONE_PERSON,
    LegalForm,
    SizeCategory,
    normalise_cnpj,
)
from states.models import Case
from states.records import (
    CaseParticipant,
    Enterprise,
    EnterpriseMember,
    EventCase,
    LegalStep,
    Obligation,
    TrainingEvent,
    Visit,
)
from states.settings import load
from states.states import CLOSED
from states.text import N_, Text
from tasks import obligations
from tasks.demands import check_actor
from tasks.records_common import audit_record, get_case, parse_input
from tasks.runtime import Runtime
from tasks.settings import RecordsSettings

_ALL = frozenset(LegalForm)
_COOPERATIVES = COOPERATIVES
_NOT_MEI = _ALL - {LegalForm.MEI}
_CLOSED = frozenset(s.value for s in CLOSED)


@dataclass(frozen=True)
class StepRule:
    name: str
    applies: frozenset[LegalForm]
    after: tuple[str, ...]  # steps that must come first, where they apply
    waivable: bool = False
    needs_family_agriculture: bool = False


STEPS: tuple[StepRule, ...] = (
    StepRule("founding_act", _NOT_MEI, ()),
    StepRule(
        "lawyer_endorsement",
        _ALL - {LegalForm.MEI, LegalForm.ME_EPP, LegalForm.EMPRESARIO_INDIVIDUAL},
        ("founding_act",),
    ),
    StepRule("registry_filing", _NOT_MEI, ("founding_act", "lawyer_endorsement")),
    StepRule("registry_correction_requested", _NOT_MEI, ("registry_filing",)),
    StepRule("registry_correction_filed", _NOT_MEI, ("registry_correction_requested",)),
    StepRule("cnpj", _ALL, ("registry_filing", "registry_correction_filed")),
    StepRule("state_registration", _ALL, ("cnpj",)),
    StepRule("municipal_registration", _ALL, ("cnpj",)),
    StepRule("licence", _ALL, ("cnpj",), waivable=True),
    StepRule("ocb_registration", _COOPERATIVES, ("cnpj",)),
    StepRule("caf", _ALL, ("cnpj",), needs_family_agriculture=True),
)
STEP_RULES = {rule.name: rule for rule in STEPS}
_ORDER = {rule.name: i for i, rule in enumerate(STEPS)}
#: CAF must be renewed every this many months
CAF_VALID_MONTHS = 24

JUNTA = "Junta Comercial"
RCPJ = "Registro Civil de Pessoas Jurídicas"
REGISTRY = {
    LegalForm.COOPERATIVA: JUNTA,
    LegalForm.COOPERATIVA_CONSUMO: JUNTA,
    LegalForm.COOPERATIVA_TRABALHO: JUNTA,
    LegalForm.EMPRESARIO_INDIVIDUAL: JUNTA,
    LegalForm.SOCIEDADE_LIMITADA: JUNTA,
    LegalForm.SOCIEDADE_SIMPLES: RCPJ,  # Código Civil arts. 998 and 1.150
    LegalForm.ME_EPP: JUNTA,
    LegalForm.ASSOCIACAO: RCPJ,
    LegalForm.ECONOMIA_SOLIDARIA: RCPJ,
}
#: where the law sets the 30 days to file the founding act, and which law: the acts filed at
#: the Junta Comercial (Lei 8.934/1994 art. 36: filed later, they take effect only from the
#: filing) and the sociedades (Código Civil art. 1.151 §1). An association at the RCPJ has no
#: such deadline (a programme target may be configured: PRODUZIR_RCPJ_FILING_TARGET_DAYS).
FILING_DEADLINE = {
    form: "Lei 8.934/1994 art. 36" for form, registry in REGISTRY.items() if registry == JUNTA
} | {
    LegalForm.SOCIEDADE_LIMITADA: "Lei 8.934/1994 art. 36; Código Civil art. 1.151 §1",
    LegalForm.SOCIEDADE_SIMPLES: "Código Civil art. 1.151 §1",
}
#: the forms that can be ME or EPP: LC 123/2006 art. 3 counts the sociedade empresária, the
#: sociedade simples and the empresário (not associations); art. 3 §4 VI excludes cooperatives
#: but consumer cooperatives; the MEI is its own category (art. 18-A)
SIZED_FORMS = frozenset(
    {
        LegalForm.EMPRESARIO_INDIVIDUAL,
        LegalForm.SOCIEDADE_LIMITADA,
        LegalForm.SOCIEDADE_SIMPLES,
        LegalForm.COOPERATIVA_CONSUMO,
    }
)
#: how a registry filing's reference names a registry (to refuse the wrong one)
_NAMES_REGISTRY = {
    JUNTA: re.compile(r"\bjunta\b|\bjuc[a-z]{1,5}\b", re.IGNORECASE),
    RCPJ: re.compile(r"registro civil|\brcpj\b|cart[oó]rio", re.IGNORECASE),
}


def applies_to(rule: StepRule, form: LegalForm, family_agriculture: bool) -> bool:
    """Whether the step is part of this enterprise's checklist at all."""
    return form in rule.applies and (family_agriculture or not rule.needs_family_agriculture)


#: the steps an ME or EPP need not take: the lawyer's endorsement (LC 123/2006 art. 9 §2 lifts
#: Lei 8.906/1994 art. 1 §2 for them); recorded anyway, they count
SIZED_OPTIONAL = frozenset({"lawyer_endorsement"})


def optional_steps(size_category: str | None) -> frozenset[str]:
    """The steps an enterprise of this size category may skip."""
    return SIZED_OPTIONAL if size_category is not None else frozenset()


def _prerequisites(
    step: str, form: LegalForm, done: Iterable[str], optional: frozenset[str] = frozenset()
) -> set[str]:
    """Every step that must be recorded before ``step`` for this form (transitively).

    The correction steps only count when the registry asked for corrections; an ``optional``
    step only when it was recorded.
    """
    done = set(done)
    needed: set[str] = set()
    stack = [step]
    while stack:
        for before in STEP_RULES[stack.pop()].after:
            if form not in STEP_RULES[before].applies or before in needed:
                continue
            if before in optional and before not in done:
                continue
            if (
                before == "registry_correction_filed"
                and "registry_correction_requested" not in done
            ):
                continue
            needed.add(before)
            stack.append(before)
    return needed


def _dependents(step: str, form: LegalForm) -> set[str]:
    """The steps that come after ``step`` in the chain of prerequisites, for this form."""
    asked = {"registry_correction_requested"}
    return {
        rule.name
        for rule in STEPS
        if form in rule.applies and step in _prerequisites(rule.name, form, asked)
    }


def _in_order(steps: Iterable[str]) -> list[str]:
    return sorted(steps, key=_ORDER.__getitem__)


def remaining_steps(
    form: LegalForm,
    family_agriculture: bool,
    done: Iterable[str],
    optional: frozenset[str] = frozenset(),
) -> list[str]:
    """The checklist steps not recorded yet, in legal order (corrections only when asked; not
    the ``optional`` ones)."""
    done = set(done)
    return [
        rule.name
        for rule in STEPS
        if applies_to(rule, form, family_agriculture)
        and rule.name not in done
        and rule.name not in optional
        and rule.name != "registry_correction_requested"
        and (rule.name != "registry_correction_filed" or "registry_correction_requested" in done)
    ]


def next_steps(
    form: LegalForm,
    family_agriculture: bool,
    done: Iterable[str],
    optional: frozenset[str] = frozenset(),
) -> list[str]:
    """The remaining steps whose prerequisites are all recorded: what can be done now."""
    done = set(done)
    return [
        step
        for step in remaining_steps(form, family_agriculture, done, optional)
        if _prerequisites(step, form, done, optional) <= done
    ]


class EnterpriseInput(Bounded):
    """An enterprise group as it forms."""

    case_id: int
    name: str = Field(min_length=2, max_length=200)
    activity: str = Field(min_length=1, max_length=200)
    formed_on: date
    formed_at_event_id: int | None = None
    family_agriculture: bool = False
    member_ids: list[int] = Field(default_factory=list)


def get_enterprise(session: Session, enterprise_id: int) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("enterprise", enterprise_id)
    return enterprise


def _today(session: Session, rt: Runtime, case_municipality: int) -> date:
    municipality = store.get_municipality(session, case_municipality)
    assert municipality is not None
    return local_date(rt.clock.now(), municipality.timezone)


def _registered_on(session: Session, case: Case) -> date:
    municipality = store.get_municipality(session, case.municipality_code)
    assert municipality is not None
    return local_date(case.registered_at, municipality.timezone)


def member_count(session: Session, enterprise_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(EnterpriseMember)
            .where(
                EnterpriseMember.enterprise_id == enterprise_id,
                EnterpriseMember.left_on.is_(None),
            )
        ).scalar_one()
    )


def form_enterprise(rt: Runtime, raw: EnterpriseInput | dict[str, object], *, actor: str) -> int:
    """Record an enterprise group formed in a case (usually at its ECC); its number."""
    check_actor(actor)
    data = parse_input(EnterpriseInput, raw, "enterprise")
    with rt.db.write() as session:
        case = get_case(session, data.case_id)
        if case.state in _CLOSED:
            raise NotAllowed(
                N_(
                    "case %(id)s is %(state)s: no enterprise can be formed in it",
                    id=case.id,
                    state=case.state,
                )
            )
        today = _today(session, rt, case.municipality_code)
        if data.formed_on > today:
            raise InvalidInput(
                N_("formed_on %(formed_on)s is in the future", formed_on=data.formed_on),
                field="formed_on",
            )
        registered_on = _registered_on(session, case)
        if data.formed_on < registered_on:
            raise InvalidInput(
                N_(
                    "formed_on %(formed_on)s is before case %(id)s was registered (%(registered_on)s)",
                    formed_on=data.formed_on,
                    id=case.id,
                    registered_on=registered_on,
                ),
                field="formed_on",
            )
        if data.formed_at_event_id is not None:
            event = session.get(TrainingEvent, data.formed_at_event_id)
            if event is None:
                raise NotFound("event", data.formed_at_event_id)
            if session.get(EventCase, (event.id, case.id)) is None:
                raise InvalidInput(
                    N_("event %(id)s does not serve case %(id2)s", id=event.id, id2=case.id),
                    field="formed_at_event_id",
                )
            if data.formed_on < event.start_on:
                raise InvalidInput(
                    N_(
                        "formed_on %(formed_on)s is before event %(id)s started (%(start_on)s)",
                        formed_on=data.formed_on,
                        id=event.id,
                        start_on=event.start_on,
                    ),
                    field="formed_on",
                )
        clash = session.execute(
            select(Enterprise.id).where(
                Enterprise.case_id == case.id, func.lower(Enterprise.name) == data.name.lower()
            )
        ).scalar_one_or_none()
        if clash is not None:
            raise InvalidInput(
                N_(
                    "case %(id)s already has an enterprise named %(name)s (%(clash)s)",
                    id=case.id,
                    name=repr(data.name),
                    clash=clash,
                ),
                field="name",
            )
        enterprise = Enterprise(
            **data.model_dump(exclude={"member_ids"}),
            created_at=rt.clock.now(),
            created_by=actor,
        )
        session.add(enterprise)
        session.flush()
        audit_record(
            session,
            rt,
            event="empreendimento_formado",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise.id,
            case=case,
            evidence=data.model_dump(mode="json", exclude={"member_ids"}),
        )
        _add_members(session, rt, enterprise, data.member_ids, actor)
        return enterprise.id


def _add_members(
    session: Session, rt: Runtime, enterprise: Enterprise, person_ids: Iterable[int], actor: str
) -> int:
    ids = list(dict.fromkeys(person_ids))
    case = get_case(session, enterprise.case_id)
    if ids and case.state in _CLOSED:
        raise NotAllowed(
            N_(
                "case %(id)s is %(state)s: its enterprises take no new members",
                id=case.id,
                state=case.state,
            )
        )
    for person_id in ids:
        if session.get(CaseParticipant, (enterprise.case_id, person_id)) is None:
            raise InvalidInput(
                N_(
                    "person %(person_id)s is not a participant of case %(case_id)s",
                    person_id=person_id,
                    case_id=enterprise.case_id,
                ),
                field="person_id",
            )
        membership = session.get(EnterpriseMember, (enterprise.id, person_id))
        if membership is not None and membership.left_on is None:
            raise InvalidInput(
                N_(
                    "person %(person_id)s is already a member of enterprise %(id)s",
                    person_id=person_id,
                    id=enterprise.id,
                ),
                field="person_id",
            )
        if membership is not None:  # a former member comes back (the history keeps both)
            membership.left_on = None
            membership.left_reason = None
        else:
            session.add(EnterpriseMember(enterprise_id=enterprise.id, person_id=person_id))
    session.flush()
    members = member_count(session, enterprise.id)
    if enterprise.legal_form == LegalForm.MEI.value and members > 1:
        raise NotAllowed(
            N_(
                "enterprise %(id)s is a MEI, which is one person; it would have %(members)s members",
                id=enterprise.id,
                members=members,
            )
        )
    if enterprise.legal_form == LegalForm.EMPRESARIO_INDIVIDUAL.value and members > 1:
        raise NotAllowed(
            N_(
                "enterprise %(id)s is an empresário individual, which is one person; it would have %(members)s members",
                id=enterprise.id,
                members=members,
            )
        )
    minimum = _minimum_of(enterprise)
    if ids and minimum is not None and members >= minimum:
        obligations.satisfy(
            session,
            case_id=enterprise.case_id,
            kind=obligations.MEMBERSHIP_MINIMUM,
            on=_today(session, rt, case.municipality_code),
            by=f"enterprise:{enterprise.id}:members",
            record_type="enterprise",
            record_id=enterprise.id,
        )
    if ids:
        audit_record(
            session,
            rt,
            event="membros_adicionados",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise.id,
            case=case,
            evidence={"person_ids": ids},
        )
    return len(ids)


def add_members(rt: Runtime, enterprise_id: int, person_ids: Iterable[int], *, actor: str) -> int:
    """Add participants of the case as members (all or none); how many were added."""
    check_actor(actor)
    with rt.db.write() as session:
        return _add_members(session, rt, get_enterprise(session, enterprise_id), person_ids, actor)


def set_legal_form(rt: Runtime, enterprise_id: int, form: str, *, actor: str) -> None:
    """Choose the legal form; its member minimum must already be met."""
    check_actor(actor)
    if form == LegalForm.ME_EPP.value:
        raise InvalidInput(
            N_(
                "ME and EPP are size categories (LC 123/2006 art. 3), not legal forms: choose the legal form (%(value)s), then the size category",
                value=", ".join(f.value for f in CHOOSABLE_FORMS),
            ),
            field="legal_form",
        )
    try:
        legal_form = LegalForm(form)
    except ValueError:
        raise InvalidInput(
            N_(
                "unknown legal form %(form)s; forms are: %(value)s",
                form=repr(form),
                value=", ".join(f.value for f in CHOOSABLE_FORMS),
            ),
            field="legal_form",
        ) from None
    with rt.db.write() as session:
        enterprise = get_enterprise(session, enterprise_id)
        if session.get(LegalStep, (enterprise_id, "founding_act")) is not None:
            raise NotAllowed(
                N_(
                    "enterprise %(enterprise_id)s already held its founding act as a %(legal_form)s; its legal form cannot change",
                    enterprise_id=enterprise_id,
                    legal_form=enterprise.legal_form,
                )
            )
        members = member_count(session, enterprise_id)
        minimum = MIN_MEMBERS.get(legal_form)
        if legal_form is LegalForm.MEI and members != 1:
            raise NotAllowed(
                N_(
                    "enterprise %(enterprise_id)s has %(members)s members; a MEI is exactly one person",
                    enterprise_id=enterprise_id,
                    members=members,
                )
            )
        if legal_form is LegalForm.EMPRESARIO_INDIVIDUAL and members != 1:
            raise NotAllowed(
                N_(
                    "enterprise %(enterprise_id)s has %(members)s members; an empresário individual is exactly one person",
                    enterprise_id=enterprise_id,
                    members=members,
                )
            )
        if enterprise.size_category is not None and legal_form not in SIZED_FORMS:
            raise NotAllowed(_no_size_reason(enterprise_id, legal_form, enterprise.size_category))
        if minimum is not None and members < minimum:
            raise NotAllowed(
                N_(
                    "enterprise %(enterprise_id)s has %(members)s members; a %(value)s needs at least %(minimum)s",
                    enterprise_id=enterprise_id,
                    members=members,
                    value=legal_form.value,
                    minimum=minimum,
                )
            )
        was_mei = enterprise.legal_form == LegalForm.MEI.value
        enterprise.legal_form = legal_form.value
        case = get_case(session, enterprise.case_id)
        if was_mei and legal_form is not LegalForm.MEI:
            # the exit from the MEI the revenue cap called for (LC 123/2006 art. 18-A §7 III)
            obligations.satisfy(
                session,
                case_id=enterprise.case_id,
                kind=obligations.MEI_REVENUE_CAP,
                on=_today(session, rt, case.municipality_code),
                by=f"enterprise:{enterprise_id}:legal_form",
                record_type="enterprise",
                record_id=enterprise_id,
            )
        audit_record(
            session,
            rt,
            event="forma_juridica",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise_id,
            case=case,
            evidence={"legal_form": legal_form.value, "members": members},
        )


def _no_size_reason(enterprise_id: int, form: LegalForm, size: str) -> Text:
    """Why an enterprise of ``form`` cannot be of ``size``, with the article."""
    if form in COOPERATIVES:
        return N_(
            "enterprise %(enterprise_id)s is a %(form)s: a cooperative cannot be an ME or EPP, except a consumer cooperative (LC 123/2006 art. 3 §4 VI); size %(size)s refused",
            enterprise_id=enterprise_id,
            form=form.value,
            size=size,
        )
    if form is LegalForm.MEI:
        return N_(
            "enterprise %(enterprise_id)s is a MEI, a category of its own (LC 123/2006 art. 18-A): it takes no size %(size)s",
            enterprise_id=enterprise_id,
            size=size,
        )
    return N_(
        "enterprise %(enterprise_id)s is a %(form)s: only a sociedade, the empresário and a consumer cooperative can be an ME or EPP (LC 123/2006 art. 3, art. 3 §4 VI); size %(size)s refused",
        enterprise_id=enterprise_id,
        form=form.value,
        size=size,
    )


def set_size_category(rt: Runtime, enterprise_id: int, size: str | None, *, actor: str) -> None:
    """Choose the size category ME or EPP (LC 123/2006 art. 3), or none (``None``), beside a
    legal form that can take it."""
    check_actor(actor)
    category: SizeCategory | None = None
    if size is not None:
        try:
            category = SizeCategory(size)
        except ValueError:
            raise InvalidInput(
                N_(
                    "unknown size category %(size)s; categories are: %(value)s",
                    size=repr(size),
                    value=", ".join(c.value for c in SizeCategory),
                ),
                field="size_category",
            ) from None
    with rt.db.write() as session:
        enterprise = get_enterprise(session, enterprise_id)
        form = _legal_form(enterprise.legal_form)
        if category is not None:
            if form is None:
                raise NotAllowed(
                    N_(
                        "enterprise %(enterprise_id)s has no legal form yet: choose it before the size category",
                        enterprise_id=enterprise_id,
                    )
                )
            if form not in SIZED_FORMS:
                raise NotAllowed(_no_size_reason(enterprise_id, form, category.value))
        enterprise.size_category = category.value if category is not None else None
        audit_record(
            session,
            rt,
            event="porte",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise_id,
            case=get_case(session, enterprise.case_id),
            evidence={"size_category": enterprise.size_category},
        )


def _minimum_of(enterprise: Enterprise) -> int | None:
    """The legal minimum of members of a cooperative (Lei 5.764/1971 art. 6 I; de trabalho, Lei
    12.690/2012 art. 6), which art. 63 IV makes it restore; None for the other forms."""
    form = _legal_form(enterprise.legal_form)
    return MIN_MEMBERS.get(form) if form in COOPERATIVES else None


def member_leaves(
    rt: Runtime, enterprise_id: int, person_id: int, *, left_on: date, reason: str, actor: str
) -> Obligation | None:
    """Record that a member left the enterprise (the date and reason stay on the membership).

    A cooperative that falls below its legal minimum gets an obligation to restore it by the
    next general assembly held at least 6 months later, or dissolve (Lei 5.764/1971 art. 63
    IV): due 6 months after the departure, the earliest that assembly can be. The obligation
    opened, if one was.
    """
    check_actor(actor)
    reason = reason.strip()
    minimum_chars = rt.lifecycle.config.thresholds.min_reason_chars
    if len(reason) < minimum_chars:
        raise InvalidInput(
            N_(
                "the reason has %(value)s characters; at least %(minimum)s are needed",
                value=len(reason),
                minimum=minimum_chars,
            ),
            field="reason",
        )
    with rt.db.write() as session:
        enterprise = get_enterprise(session, enterprise_id)
        case = get_case(session, enterprise.case_id)
        membership = session.get(EnterpriseMember, (enterprise_id, person_id))
        if membership is None or membership.left_on is not None:
            raise InvalidInput(
                N_(
                    "person %(person_id)s is not a member of enterprise %(id)s",
                    person_id=person_id,
                    id=enterprise_id,
                ),
                field="person_id",
            )
        if left_on > _today(session, rt, case.municipality_code):
            raise InvalidInput(
                N_("left_on %(left_on)s is in the future", left_on=left_on), field="left_on"
            )
        if left_on < enterprise.formed_on:
            raise InvalidInput(
                N_(
                    "left_on %(left_on)s is before the enterprise was formed (%(formed_on)s)",
                    left_on=left_on,
                    formed_on=enterprise.formed_on,
                ),
                field="left_on",
            )
        form = _legal_form(enterprise.legal_form)
        if form in ONE_PERSON:
            raise NotAllowed(
                N_(
                    "enterprise %(id)s is a %(form)s, which is its one member: it closes, its member does not leave it",
                    id=enterprise_id,
                    form=enterprise.legal_form,
                )
            )
        membership.left_on = left_on
        membership.left_reason = reason
        session.flush()
        members = member_count(session, enterprise_id)
        minimum = _minimum_of(enterprise)
        opened: Obligation | None = None
        if (
            minimum is not None
            and members < minimum
            and not obligations.open_of(
                session,
                case_id=enterprise.case_id,
                kind=obligations.MEMBERSHIP_MINIMUM,
                record_type="enterprise",
                record_id=enterprise_id,
            )
        ):
            opened = obligations.open_obligation(
                session,
                rt,
                case_id=enterprise.case_id,
                kind=obligations.MEMBERSHIP_MINIMUM,
                due_on=add_months(left_on, 6),
                params={
                    "enterprise": enterprise.name,
                    "members": members,
                    "minimum": minimum,
                    "form": enterprise.legal_form,
                },
                record_type="enterprise",
                record_id=enterprise_id,
            )
        audit_record(
            session,
            rt,
            event="membro_saiu",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise_id,
            case=case,
            # the reason is free text that may name people: it stays in the membership's
            # record; the append-only history keeps its length (LGPD)
            evidence={
                "person_id": person_id,
                "left_on": left_on.isoformat(),
                "reason_chars": len(reason),
                "members": members,
            },
        )
        return opened


def _year_revenue(session: Session, enterprise: Enterprise, year: int) -> tuple[Decimal, int]:
    """(the gross revenue the visits report for ``year``, the months it covers).

    Each visit's monthly income stands for its own month and the months since the previous
    visit of the year (or since January, or since the enterprise formed that year); months
    after the latest visit are not reported yet.
    """
    visits = session.execute(
        select(Visit.visited_on, Visit.monthly_income)
        .where(
            Visit.enterprise_id == enterprise.id,
            Visit.monthly_income.is_not(None),
            Visit.visited_on >= date(year, 1, 1),
            Visit.visited_on <= date(year, 12, 31),
        )
        .order_by(Visit.visited_on, Visit.id)
    ).all()
    first = enterprise.formed_on.month if enterprise.formed_on.year == year else 1
    covered = first - 1  # the last month counted so far
    total = Decimal(0)
    for visited_on, income in visits:
        months = visited_on.month - covered
        if months > 0:
            total += Decimal(income or 0) * months
            covered = visited_on.month
    return total, covered - first + 1


def check_mei_revenue(
    session: Session, rt: Runtime, enterprise: Enterprise, visited_on: date
) -> Obligation | None:
    """After a visit to a MEI: when the revenue the visits report for the visit's year is over
    the cap (PRODUZIR_MEI_REVENUE_CAP, LC 123/2006 art. 18-A §1; 1/12 of it for each month
    from the start in the year the MEI began, §2), an obligation to communicate the exit from
    the MEI by the last working day of the next month (§7 III). One per enterprise and year."""
    if enterprise.legal_form != LegalForm.MEI.value:
        return None
    year = visited_on.year
    revenue, _ = _year_revenue(session, enterprise, year)
    cap = load(RecordsSettings).mei_revenue_cap
    if enterprise.formed_on.year == year:
        cap = (cap * (13 - enterprise.formed_on.month) / 12).quantize(Decimal("0.01"))
    if revenue <= cap:
        return None
    earlier = session.execute(
        select(Obligation.params).where(
            Obligation.kind == obligations.MEI_REVENUE_CAP,
            Obligation.record_type == "enterprise",
            Obligation.record_id == enterprise.id,
        )
    ).scalars()
    if any((params or {}).get("year") == year for params in earlier):
        return None
    return obligations.open_obligation(
        session,
        rt,
        case_id=enterprise.case_id,
        kind=obligations.MEI_REVENUE_CAP,
        due_on=obligations.last_working_day_of_next_month(session, enterprise.case_id, visited_on),
        params={
            "enterprise": enterprise.name,
            "year": year,
            "revenue": f"{revenue:.2f}",
            "cap": f"{cap:.2f}",
        },
        record_type="enterprise",
        record_id=enterprise.id,
        working_days=True,
    )


def set_business_plan(
    rt: Runtime, enterprise_id: int, *, document: str, approved_on: date, actor: str
) -> None:
    """Record the enterprise's business plan (from the business workshops)."""
    check_actor(actor)
    document = document.strip()
    if not document:
        raise InvalidInput(N_("the business plan needs a document reference"), field="document")
    with rt.db.write() as session:
        enterprise = get_enterprise(session, enterprise_id)
        case = get_case(session, enterprise.case_id)
        if approved_on > _today(session, rt, case.municipality_code):
            raise InvalidInput(
                N_("approved_on %(approved_on)s is in the future", approved_on=approved_on),
                field="approved_on",
            )
        if approved_on < enterprise.formed_on:
            raise InvalidInput(
                N_(
                    "approved_on %(approved_on)s is before the enterprise was formed (%(formed_on)s)",
                    approved_on=approved_on,
                    formed_on=enterprise.formed_on,
                ),
                field="approved_on",
            )
        enterprise.business_plan = document
        enterprise.business_plan_on = approved_on
        audit_record(
            session,
            rt,
            event="plano_de_negocio",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise_id,
            case=case,
            evidence={"document": document, "approved_on": approved_on.isoformat()},
        )


def record_step(
    rt: Runtime,
    enterprise_id: int,
    step: str,
    *,
    done_on: date,
    actor: str,
    reference: str | None = None,
    waived_reason: str | None = None,
) -> None:
    """Record one legalisation step, in legal order; opens or satisfies the dated obligations."""
    check_actor(actor)
    rule = STEP_RULES.get(step)
    if rule is None:
        raise InvalidInput(
            N_(
                "unknown step %(step)s; steps are: %(value)s",
                step=repr(step),
                value=", ".join(STEP_RULES),
            ),
            field="step",
        )
    reference = (reference or "").strip() or None
    waived_reason = (waived_reason or "").strip() or None
    if reference is not None and len(reference) > 200:
        raise InvalidInput(N_("the reference has more than 200 characters"), field="reference")
    with rt.db.write() as session:
        enterprise = get_enterprise(session, enterprise_id)
        case = get_case(session, enterprise.case_id)
        name = f"enterprise {enterprise_id}"
        if enterprise.legal_form is None:
            raise NotAllowed(
                N_("%(name)s has no legal form yet; choose it before legal steps", name=name)
            )
        form = LegalForm(enterprise.legal_form)
        if form not in rule.applies:
            raise NotAllowed(
                N_(
                    "step %(step)s does not apply to %(name)s, a %(value)s (it applies to: %(value2)s)",
                    step=step,
                    name=name,
                    value=form.value,
                    value2=", ".join(f.value for f in LegalForm if f in rule.applies),
                )
            )
        if rule.needs_family_agriculture and not enterprise.family_agriculture:
            raise NotAllowed(
                N_(
                    "%(name)s is not family agriculture: %(step)s does not apply",
                    name=name,
                    step=step,
                )
            )
        done = {
            s.step: s
            for s in session.execute(
                select(LegalStep).where(LegalStep.enterprise_id == enterprise_id)
            ).scalars()
        }
        if step in done:
            raise InvalidInput(
                N_(
                    "%(name)s already has step %(step)s recorded (on %(done_on)s)",
                    name=name,
                    step=step,
                    done_on=done[step].done_on,
                ),
                field="step",
            )
        if done_on > _today(session, rt, case.municipality_code):
            raise InvalidInput(
                N_("done_on %(done_on)s is in the future", done_on=done_on), field="done_on"
            )
        if done_on < enterprise.formed_on:
            raise InvalidInput(
                N_(
                    "%(name)s: %(step)s on %(done_on)s is before the enterprise was formed (%(formed_on)s)",
                    name=name,
                    step=step,
                    done_on=done_on,
                    formed_on=enterprise.formed_on,
                ),
                field="done_on",
            )
        missing = _prerequisites(step, form, done, optional_steps(enterprise.size_category)) - set(
            done
        )
        if missing:
            raise NotAllowed(
                N_(
                    "%(name)s: step %(step)s needs %(value)s first",
                    name=name,
                    step=step,
                    value=", ".join(_in_order(missing)),
                )
            )
        for before in rule.after:
            previous = done.get(before)
            if previous is not None and done_on < previous.done_on:
                raise InvalidInput(
                    N_(
                        "%(name)s: %(step)s on %(done_on)s is before %(before)s on %(done_on2)s",
                        name=name,
                        step=step,
                        done_on=done_on,
                        before=before,
                        done_on2=previous.done_on,
                    ),
                    field="done_on",
                )
        later = _dependents(step, form) & set(done)
        if later:
            raise NotAllowed(
                N_(
                    "%(name)s: %(value)s already recorded; %(step)s comes before",
                    name=name,
                    value=", ".join(_in_order(later)),
                    step=step,
                )
            )
        if waived_reason is not None:
            if not rule.waivable:
                waivable = ", ".join(r.name for r in STEPS if r.waivable)
                raise InvalidInput(
                    N_(
                        "step %(step)s cannot be waived (only %(waivable)s can)",
                        step=step,
                        waivable=waivable,
                    ),
                    field="waived_reason",
                )
            minimum = rt.lifecycle.config.thresholds.min_reason_chars
            if len(waived_reason) < minimum:
                raise InvalidInput(
                    N_(
                        "the waiver's reason has %(value)s characters; at least %(minimum)s are needed",
                        value=len(waived_reason),
                        minimum=minimum,
                    ),
                    field="waived_reason",
                )
        evidence: dict[str, Any] = {}
        if step == "cnpj":
            reference = _checked_cnpj(session, enterprise, reference)
            enterprise.cnpj = reference
            enterprise.no_cnpj_reason = None
        if step == "registry_filing":
            registry = REGISTRY[form]
            _check_registry(name, form, registry, reference)
            reference = reference or registry
            evidence["registry"] = registry
        session.add(
            LegalStep(
                enterprise_id=enterprise_id,
                step=step,
                done_on=done_on,
                reference=reference,
                waived_reason=waived_reason,
                recorded_at=rt.clock.now(),
                recorded_by=actor,
            )
        )
        session.flush()
        _obligations_of_step(session, rt, enterprise, form, step, done_on)
        audit_record(
            session,
            rt,
            event="etapa_legal",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise_id,
            case=case,
            evidence={
                "step": step,
                "done_on": done_on.isoformat(),
                "reference": reference,
                "waived_reason": waived_reason,
                **evidence,
            },
        )


def _checked_cnpj(session: Session, enterprise: Enterprise, reference: str | None) -> str:
    if not reference:
        raise InvalidInput(N_("the cnpj step needs the CNPJ as its reference"), field="reference")
    try:
        cnpj = normalise_cnpj(reference)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="reference") from None
    holder = session.execute(
        select(Enterprise.id, Enterprise.case_id).where(
            Enterprise.cnpj == cnpj, Enterprise.id != enterprise.id
        )
    ).first()
    if holder is not None:
        raise InvalidInput(
            N_(
                "CNPJ %(cnpj)s is already recorded for enterprise %(id)s (case %(case_id)s)",
                cnpj=cnpj,
                id=holder.id,
                case_id=holder.case_id,
            ),
            field="reference",
        )
    return cnpj


def _check_registry(name: str, form: LegalForm, registry: str, reference: str | None) -> None:
    """A filing whose reference names the other registry is refused."""
    if reference is None or _NAMES_REGISTRY[registry].search(reference):
        return
    for other, pattern in _NAMES_REGISTRY.items():
        if other != registry and pattern.search(reference):
            raise InvalidInput(
                N_(
                    "%(name)s is a %(value)s: it is registered at the %(registry)s, not at the %(other)s (reference %(reference)s)",
                    name=name,
                    value=form.value,
                    registry=registry,
                    other=other,
                    reference=repr(reference),
                ),
                field="reference",
            )


def _obligations_of_step(
    session: Session, rt: Runtime, enterprise: Enterprise, form: LegalForm, step: str, on: date
) -> None:
    limit = rt.lifecycle.config.thresholds.max_filing_days
    registry = REGISTRY.get(form, "registry")
    params: dict[str, Any] = {"enterprise": enterprise.name, "registry": registry}
    opens: dict[str, tuple[str, int, dict[str, Any]]] = {
        "registry_correction_requested": (obligations.REGISTRY_CORRECTION, limit, params),
    }
    if form in FILING_DEADLINE:  # the law's 30 days (Lei 8.934/1994 art. 36; CC art. 1.151 §1)
        opens["founding_act"] = (obligations.REGISTRY_FILING, limit, params)
    else:  # no legal deadline: the programme's target, if it set one
        target = load(RecordsSettings).rcpj_filing_target_days
        if target is not None:
            opens["founding_act"] = (
                obligations.REGISTRY_FILING_TARGET,
                target,
                params | {"days": target},
            )
    closes = {
        "registry_filing": (obligations.REGISTRY_FILING, obligations.REGISTRY_FILING_TARGET),
        "registry_correction_filed": (obligations.REGISTRY_CORRECTION,),
    }
    if step in opens and form in STEP_RULES["registry_filing"].applies:
        kind, days, kind_params = opens[step]
        obligations.open_obligation(
            session,
            rt,
            case_id=enterprise.case_id,
            kind=kind,
            due_on=on + timedelta(days=days),
            params=kind_params,
            record_type="enterprise",
            record_id=enterprise.id,
        )
    elif step in closes:
        for kind in closes[step]:
            obligations.satisfy(
                session,
                case_id=enterprise.case_id,
                kind=kind,
                on=on,
                by=f"legal_step:{enterprise.id}:{step}",
                record_type="enterprise",
                record_id=enterprise.id,
            )


def set_no_cnpj_reason(rt: Runtime, enterprise_id: int, reason: str, *, actor: str) -> None:
    """Record why an enterprise will not get a CNPJ (it then does not block the case)."""
    check_actor(actor)
    reason = reason.strip()
    minimum = rt.lifecycle.config.thresholds.min_reason_chars
    if len(reason) < minimum:
        raise InvalidInput(
            N_(
                "the reason has %(value)s characters; at least %(minimum)s are needed",
                value=len(reason),
                minimum=minimum,
            ),
            field="reason",
        )
    with rt.db.write() as session:
        enterprise = get_enterprise(session, enterprise_id)
        if enterprise.cnpj is not None:
            raise NotAllowed(
                N_(
                    "enterprise %(enterprise_id)s already has CNPJ %(cnpj)s",
                    enterprise_id=enterprise_id,
                    cnpj=enterprise.cnpj,
                )
            )
        enterprise.no_cnpj_reason = reason
        audit_record(
            session,
            rt,
            event="sem_cnpj",
            actor=actor,
            record_type="enterprise",
            record_id=enterprise_id,
            case=get_case(session, enterprise.case_id),
            evidence={"reason": reason},
        )


# ------------------------------------------------------------------------------ reading


def _legal_form(value: str | None) -> LegalForm | None:
    return LegalForm(value) if value is not None else None


def _step_row(step: LegalStep) -> dict[str, Any]:
    row: dict[str, Any] = {
        "step": step.step,
        "done_on": step.done_on.isoformat(),
        "reference": step.reference,
        "waived": step.waived_reason is not None,
        "waived_reason": step.waived_reason,
        "recorded_by": step.recorded_by,
        "recorded_at": iso_utc(step.recorded_at),
    }
    if step.step == "caf":
        row["valid_until"] = add_months(step.done_on, CAF_VALID_MONTHS).isoformat()
    return row


def enterprise_detail(
    session: Session, enterprise_id: int, *, today: date | None = None
) -> dict[str, Any]:
    """One enterprise: members, legal form, plan, its legal steps in legal order with what
    remains for its form, CNPJ or the reason why not, its visits and dated obligations.

    Members are given as person ids only (personal data is read through the people commands,
    which log the access). ``today`` computes the obligations' days late.
    """
    e = get_enterprise(session, enterprise_id)
    form = _legal_form(e.legal_form)
    memberships = list(
        session.execute(
            select(EnterpriseMember)
            .where(EnterpriseMember.enterprise_id == enterprise_id)
            .order_by(EnterpriseMember.person_id)
        ).scalars()
    )
    member_ids = [m.person_id for m in memberships if m.left_on is None]
    steps = sorted(
        session.execute(select(LegalStep).where(LegalStep.enterprise_id == enterprise_id))
        .scalars()
        .all(),
        key=lambda s: _ORDER[s.step],
    )
    done = [s.step for s in steps]
    visits = session.execute(
        select(Visit)
        .where(Visit.enterprise_id == enterprise_id)
        .order_by(Visit.visited_on, Visit.id)
    ).scalars()
    return {
        "id": e.id,
        "case_id": e.case_id,
        "name": e.name,
        "activity": e.activity,
        "formed_on": e.formed_on.isoformat(),
        "formed_at_event_id": e.formed_at_event_id,
        "family_agriculture": e.family_agriculture,
        "members": len(member_ids),
        "member_ids": member_ids,
        "former_members": [
            {"person_id": m.person_id, "left_on": m.left_on.isoformat(), "reason": m.left_reason}
            for m in sorted(
                (m for m in memberships if m.left_on is not None),
                key=lambda m: (m.left_on, m.person_id),
            )
            if m.left_on is not None
        ],
        "legal_form": e.legal_form,
        "size_category": e.size_category,
        "minimum_members": MIN_MEMBERS.get(form) if form else None,
        "registry": REGISTRY.get(form) if form else None,
        # the law that sets the 30 days to file, or None (no legal deadline: RCPJ)
        "filing_deadline_basis": FILING_DEADLINE.get(form) if form else None,
        "business_plan": (
            {"document": e.business_plan, "approved_on": e.business_plan_on.isoformat()}
            if e.business_plan is not None and e.business_plan_on is not None
            else None
        ),
        "steps": [_step_row(s) for s in steps],
        # None until a legal form is chosen: the checklist depends on it
        "remaining_steps": (
            remaining_steps(form, e.family_agriculture, done, optional_steps(e.size_category))
            if form
            else None
        ),
        "next_steps": (
            next_steps(form, e.family_agriculture, done, optional_steps(e.size_category))
            if form
            else None
        ),
        "cnpj": e.cnpj,
        "no_cnpj_reason": e.no_cnpj_reason,
        "legalised": e.cnpj is not None,
        "visits": [
            {
                "id": v.id,
                "visited_on": v.visited_on.isoformat(),
                "visitor": v.visitor,
                "findings": v.findings,
                "active": v.active,
                "members": v.members,
                "monthly_income": str(v.monthly_income) if v.monthly_income is not None else None,
            }
            for v in visits
        ],
        "obligations": obligations.list_obligations(
            session,
            today=today,
            case_id=e.case_id,
            open_only=False,
            record=("enterprise", e.id),
            include_closed_cases=True,
        ),
        "created_at": iso_utc(e.created_at),
        "created_by": e.created_by,
    }


def list_enterprises(
    session: Session,
    case_id: int | None = None,
    legal_form: str | None = None,
    *,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """Enterprises (of one case, of one legal form), with their progress, in case order."""
    query = select(Enterprise).order_by(Enterprise.case_id, Enterprise.id).limit(limit)
    if case_id is not None:
        if session.get(Case, case_id) is None:
            raise NotFound("case", case_id)
        query = query.where(Enterprise.case_id == case_id)
    if legal_form is not None:
        if legal_form not in {f.value for f in LegalForm}:  # the legacy me_epp can be listed
            raise InvalidInput(
                N_(
                    "unknown legal form %(legal_form)s; forms are: %(value)s",
                    legal_form=repr(legal_form),
                    value=", ".join(f.value for f in LegalForm),
                ),
                field="legal_form",
            )
        query = query.where(Enterprise.legal_form == legal_form)
    enterprises = list(session.execute(query).scalars())
    ids = [e.id for e in enterprises]
    if not ids:
        return []
    members = dict(
        session.execute(
            select(EnterpriseMember.enterprise_id, func.count())
            .where(EnterpriseMember.enterprise_id.in_(ids), EnterpriseMember.left_on.is_(None))
            .group_by(EnterpriseMember.enterprise_id)
        ).all()
    )
    done: dict[int, list[str]] = {i: [] for i in ids}
    for enterprise_id, step in session.execute(
        select(LegalStep.enterprise_id, LegalStep.step).where(LegalStep.enterprise_id.in_(ids))
    ).all():
        done[enterprise_id].append(step)
    rows = []
    for e in enterprises:
        form = _legal_form(e.legal_form)
        steps = _in_order(done[e.id])
        rows.append(
            {
                "id": e.id,
                "case_id": e.case_id,
                "name": e.name,
                "activity": e.activity,
                "legal_form": e.legal_form,
                "size_category": e.size_category,
                "members": int(members.get(e.id, 0)),
                "business_plan": e.business_plan,
                "last_step": steps[-1] if steps else None,
                "steps_done": len(steps),
                "next_steps": (
                    next_steps(form, e.family_agriculture, steps, optional_steps(e.size_category))
                    if form
                    else None
                ),
                "cnpj": e.cnpj,
                "no_cnpj_reason": e.no_cnpj_reason,
            }
        )
    return rows
