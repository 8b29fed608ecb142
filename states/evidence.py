"""The evidence each lifecycle event carries, as typed pydantic models.

Evidence is validated on the way in (a missing field, a wrong type, dates in the wrong order, an
invalid CNPJ are :class:`~states.errors.InvalidInput`, exit 2) and stored, as canonical JSON,
with the audit event. Whether well-formed evidence is *enough* is the guards' question
(:mod:`states.guards`).

Evidence never carries a person's name or CPF: the audit chain is immutable, and personal data
must not be written where it can never be erased (LGPD).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Self

from pydantic import Field, ValidationError, field_validator, model_validator
from validate_docbr import CNPJ

from states.bounds import EVIDENCE_MAX_BYTES, LIST_MAX, NOTE_MAX, Bounded, json_size, problems
from states.errors import InvalidInput
from states.text import N_

_CNPJ = CNPJ()
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")


def normalise_cnpj(value: str) -> str:
    """Validate a CNPJ (numeric or the alphanumeric form used from July 2026); return it bare."""
    bare = re.sub(r"[.\-/\s]", "", value).upper()
    if not _CNPJ.validate(bare):
        raise ValueError(f"{value!r} is not a valid CNPJ")
    return bare


def check_username(value: str) -> str:
    """A user name: lower-case letters, digits, dot, dash, underscore; starts with a letter."""
    if not USERNAME.match(value):
        raise ValueError(
            f"{value!r} is not a valid user name (lower-case letters, digits, '.', '-', '_', "
            "starting with a letter)"
        )
    return value


class Evidence(Bounded):
    """Base of every evidence model: unknown fields are refused, text is stripped and bounded
    (:mod:`states.bounds`: at most TEXT_MAX characters, no NUL, numbers in range)."""


class NoEvidence(Evidence):
    """The event needs nothing beyond the actor (and an optional note)."""


class Justification(Evidence):
    """A reasoned text: extensions, reopening requests and refusals."""

    justification: str = Field(min_length=1)


class EligibilityDecision(Evidence):
    """em_analise -> polo_definido: the demand is eligible. Only what a person decides: the
    territorial classification is read from the PNDR typology in force (the guard's records,
    :mod:`states.territory`), never typed."""

    decided_on: date
    decision: str = Field(min_length=1, description="the reasoned eligibility decision")


class Rejection(Evidence):
    """em_analise -> indeferida: a reasoned rejection."""

    decided_on: date
    reasons: str = Field(min_length=1)
    legal_basis: str | None = None


class Appeal(Evidence):
    """indeferida -> em_analise (2026.2), -> em_reconsideracao (2026.3): the proponent's appeal."""

    filed_on: date
    grounds: str = Field(min_length=1)


#: How the proponent was told of a decision (Lei 9.784/1999 art. 26 §§3-4): in the case file
#: (``pessoal``), by post with proof of receipt (``postal``), by another means that makes the
#: ciência certain (``eletronica``), or by official publication (``publicacao_oficial``).
NoticeMeans = Literal["pessoal", "postal", "eletronica", "publicacao_oficial"]


class Notice(Evidence):
    """indeferida (2026.3): the proponent's ciência of the rejection, when and how; the appeal
    window counts from it (Lei 9.784/1999 art. 59)."""

    notified_on: date
    means: NoticeMeans


class NotifiedRejection(Rejection):
    """em_analise -> indeferida (2026.3): a reasoned rejection and, when the proponent was told
    at once, the ciência (both ``notified_on`` and ``means``, or neither: then it is recorded
    later with ``notificar_decisao``)."""

    notified_on: date | None = None
    means: NoticeMeans | None = None

    @model_validator(mode="after")
    def _notice(self) -> Self:
        if (self.notified_on is None) != (self.means is None):
            raise ValueError("give both notified_on and means (the ciência), or neither")
        if self.notified_on is not None and self.notified_on < self.decided_on:
            raise ValueError(
                f"notified_on {self.notified_on} is before decided_on {self.decided_on}"
            )
        return self


class AppealDecision(Evidence):
    """An authority's decision on an appeal: reconsidering it, forwarding it to the superior
    authority, granting or denying it (Lei 9.784/1999 arts. 56 §1, 59 §§1-2)."""

    decided_on: date
    reasons: str = Field(min_length=1)


class AdhesionTerm(Evidence):
    """The term by which the municipality and partners adhere to the hub."""

    signed_on: date
    signatories: list[str] = Field(min_length=1, max_length=LIST_MAX)


class HubDecision(Evidence):
    """polo_definido -> mobilizacao: the hub decision and the adhesion term."""

    decided_on: date
    hub_municipality_code: int = Field(ge=1_000_000, le=9_999_999, description="IBGE code")
    adhesion_term: AdhesionTerm

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.adhesion_term.signed_on < self.decided_on:
            raise ValueError(
                f"adhesion_term.signed_on {self.adhesion_term.signed_on} is before "
                f"decided_on {self.decided_on}"
            )
        return self


class Diagnosis(Evidence):
    """The diagnosis of the community's productive vocations."""

    completed_on: date
    vocations: list[str] = Field(min_length=1, max_length=LIST_MAX)


class Mobilisation(Evidence):
    """mobilizacao -> capacitacao: the diagnosis (the pre-registered people are records)."""

    diagnosis: Diagnosis


class FieldTraining(Evidence):
    """capacitacao -> gestao: the ECC (a training event record) that was held for the case."""

    ecc_id: int = Field(ge=1, lt=2**31, description="the ECC's event number")


class LegalForm(StrEnum):
    """Legal forms of an enterprise (what it is in law), not its size: ME and EPP are size
    categories of LC 123/2006 art. 3 (:class:`SizeCategory`), chosen beside the form.

    ``me_epp`` is kept only for enterprises recorded before the two were told apart: it can no
    longer be chosen.
    """

    COOPERATIVA = "cooperativa"
    COOPERATIVA_CONSUMO = "cooperativa_consumo"
    COOPERATIVA_TRABALHO = "cooperativa_trabalho"
    ASSOCIACAO = "associacao"
    EMPRESARIO_INDIVIDUAL = "empresario_individual"
    MEI = "mei"
    SOCIEDADE_LIMITADA = "sociedade_limitada"
    SOCIEDADE_SIMPLES = "sociedade_simples"
    ECONOMIA_SOLIDARIA = "economia_solidaria"
    ME_EPP = "me_epp"  # legacy: recorded before legal form and size were separate


#: the forms a coordinator can choose (the legacy ``me_epp`` is not one)
CHOOSABLE_FORMS: tuple[LegalForm, ...] = tuple(f for f in LegalForm if f is not LegalForm.ME_EPP)

#: the cooperatives (Lei 5.764/1971; de trabalho, Lei 12.690/2012)
COOPERATIVES = frozenset(
    {LegalForm.COOPERATIVA, LegalForm.COOPERATIVA_CONSUMO, LegalForm.COOPERATIVA_TRABALHO}
)

#: the forms that are one person (the MEI and the empresário individual)
ONE_PERSON = frozenset({LegalForm.MEI, LegalForm.EMPRESARIO_INDIVIDUAL})


class SizeCategory(StrEnum):
    """Size categories of LC 123/2006 art. 3: microempresa (I) and empresa de pequeno porte
    (II), by gross annual revenue."""

    ME = "me"
    EPP = "epp"


class DemandChannel(StrEnum):
    """Where a demand of organised civil society was raised: "fóruns de desenvolvimento
    preferencialmente" (the programme's source document), so a forum is the default and the
    preferred channel, not the only one."""

    FORUM = "forum"
    CONSELHO = "conselho"  # a municipal or territorial council
    ASSOCIACAO = "associacao"  # a community or producers' association
    SINDICATO = "sindicato"  # a rural workers' or trade union
    MOVIMENTO_SOCIAL = "movimento_social"
    OUTRO = "outro"


#: Minimum (and, for the one-person forms, exact) number of members per legal form.
MIN_MEMBERS: dict[LegalForm, int] = {
    LegalForm.COOPERATIVA: 20,
    LegalForm.COOPERATIVA_CONSUMO: 20,
    LegalForm.COOPERATIVA_TRABALHO: 7,
    LegalForm.MEI: 1,
    LegalForm.EMPRESARIO_INDIVIDUAL: 1,
}


class Indicators(Evidence):
    """Results measured at evaluation."""

    enterprises_active: int = Field(ge=0)
    members: int = Field(ge=0)
    monthly_income_brl: Decimal = Field(ge=0, decimal_places=2)


class PartnerReport(Evidence):
    """The partner institution's evaluation report."""

    partner: str = Field(min_length=1)
    delivered_on: date


class Evaluation(Evidence):
    """avaliacao -> concluida: the partner report and the indicators."""

    partner_report: PartnerReport
    indicators: Indicators


class Suspension(Evidence):
    """Any active state -> suspensa: why, and when work is expected to resume."""

    reason: str = Field(min_length=1)
    expected_resume_on: date


class Cancellation(Evidence):
    """-> cancelada: withdrawn by the proponent, or found impossible."""

    kind: Literal["desistencia", "inviabilidade"]
    reason: str = Field(min_length=1)


class Assignment(Evidence):
    """A coordinator takes the case."""

    coordinator: str

    @field_validator("coordinator")
    @classmethod
    def _user(cls, value: str) -> str:
        return check_username(value)


class Note(Evidence):
    """A note added to the case's history."""

    text: str = Field(min_length=1, max_length=NOTE_MAX)


def parse(model: type[Evidence], event: str, raw: Any) -> Evidence:
    """Validate raw evidence (a mapping) for ``event``; one-line InvalidInput when it is wrong."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput(
            N_(
                "evidence for %(event)s must be a JSON object, not %(name__)s",
                event=event,
                name__=type(raw).__name__,
            ),
            field="evidence",
        )
    found = problems(raw)  # before anything turns a huge number into text
    if found:
        raise InvalidInput(f"evidence for {event}: {found[0]}", field="evidence")
    size = json_size(raw)
    if size > EVIDENCE_MAX_BYTES:
        raise InvalidInput(
            f"evidence for {event} is {size} bytes as JSON; at most {EVIDENCE_MAX_BYTES}",
            field="evidence",
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise InvalidInput(describe(exc, f"evidence for {event}"), field=_field(exc)) from exc


def _field(exc: ValidationError) -> str:
    """``evidence.<the first wrong field>`` (``evidence`` when it is the whole object)."""
    loc = exc.errors(include_url=False)[0]["loc"]
    return ".".join(["evidence", *(str(p) for p in loc)])


def describe(exc: ValidationError, what: str) -> str:
    """One line naming the first wrong field, and how many more there are."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"])
    message = str(first["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    line = f"{what}: {where + ': ' if where else ''}{message}"
    if len(errors) > 1:
        line += f" (and {len(errors) - 1} more)"
    return line
