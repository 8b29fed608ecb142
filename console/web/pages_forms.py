"""Forms made from the evidence models: each event's form asks exactly what its model holds.

:func:`form_of` reads an evidence model (:mod:`states.evidence`) and describes its fields for
the template ``web/_forms.html``: a date is an ``<input type=date>``, an enumeration or a
``Literal`` a ``<select>``, a list of texts a textarea with one item a line, a nested model a
fieldset, numbers number inputs, long texts textareas. A model with a field of any other kind
is asked as one JSON textarea (:attr:`EvidenceForm.as_json`).

:func:`evidence_from_form` turns the posted fields back into the dict the operation validates
(with the same pydantic model: nothing is judged here), and :func:`field_errors` puts each
pydantic error next to its field. Inputs are named ``ev.<path>`` (``ev.adhesion_term.signed_on``)
so they never clash with the form's own fields (``event``, ``note``, ``csrf_token``...).
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from states.bounds import TEXT_MAX
from states.errors import InvalidInput
from states.text import M_, N_

PREFIX = "ev."
JSON_FIELD = "ev.__json__"
FORM_LEVEL = ""

Kind = Literal["date", "text", "textarea", "lines", "int", "decimal", "select", "bool", "group"]

#: texts asked in a one-line input (every other text is a textarea)
_SHORT_TEXTS = frozenset({"coordinator", "partner", "priority_area", "legal_basis"})

#: field name -> its label (Portuguese; English in LABELS_EN)
LABELS: dict[str, str] = {
    "decided_on": M_("Decision date"),
    "decision": M_("Reasoned decision"),
    "pndr_class": M_("PNDR class"),
    "microregion_code": M_("IBGE microregion code"),
    "priority_area": M_("Priority area"),
    "reasons": M_("Reasons"),
    "legal_basis": M_("Legal basis"),
    "filed_on": M_("Appeal filed on"),
    "grounds": M_("Grounds"),
    "notified_on": M_("Proponent notified on (ciência)"),
    "means": M_("Notified by"),
    "hub_municipality_code": M_("IBGE code of the hub municipality"),
    "adhesion_term": M_("Adhesion term"),
    "signed_on": M_("Signed on"),
    "signatories": M_("Signatories (one per line)"),
    "diagnosis": M_("Diagnosis"),
    "completed_on": M_("Completed on"),
    "vocations": M_("Productive vocations (one per line)"),
    "ecc_id": M_("ECC number"),
    "partner_report": M_("Partner institution's report"),
    "partner": M_("Partner institution"),
    "delivered_on": M_("Delivered on"),
    "indicators": M_("Indicators"),
    "enterprises_active": M_("Active enterprises"),
    "members": M_("Members"),
    "monthly_income_brl": M_("Monthly income (R$)"),
    "reason": M_("Reason"),
    "expected_resume_on": M_("Expected to resume on"),
    "kind": M_("Kind"),
    "justification": M_("Justification"),
    "coordinator": M_("Coordinator (user name)"),
    "text": M_("Text"),
}
#: option value -> its label
OPTION_LABELS: dict[str, str] = {
    "baixa_renda": M_("Low income"),
    "estagnada": M_("Stagnant"),
    "dinamica": M_("Dynamic"),
    "alta_renda": M_("High income"),
    "desistencia": M_("Withdrawn by the proponent"),
    "inviabilidade": M_("Found impossible"),
    # how the proponent was notified (Lei 9.784/1999 art. 26 §§3-4)
    "pessoal": M_("In person, in the case file"),
    "postal": M_("By post, with proof of receipt"),
    "eletronica": M_("By another means that makes the notice certain"),
    "publicacao_oficial": M_("Official publication"),
}


@dataclass(frozen=True)
class FieldSpec:
    """One input of an evidence form (or a fieldset of them)."""

    name: str  # the path in the evidence: "adhesion_term.signed_on"
    label: str
    kind: Kind
    required: bool
    help: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    children: tuple[FieldSpec, ...] = ()
    minimum: int | None = None
    #: the most characters the model accepts (the input's maxlength)
    max_length: int | None = None

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    def leaves(self) -> list[FieldSpec]:
        if self.kind != "group":
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


@dataclass(frozen=True)
class EvidenceForm:
    """The form of one evidence model: its fields, or one JSON textarea."""

    model: type[BaseModel]
    fields: tuple[FieldSpec, ...]
    as_json: bool

    @property
    def empty(self) -> bool:
        return not self.fields and not self.as_json

    def leaves(self) -> list[FieldSpec]:
        return [leaf for spec in self.fields for leaf in spec.leaves()]


class _Unsupported(Exception):
    pass


def _label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
        raise _Unsupported(str(annotation))
    return annotation


def _minimum(info: FieldInfo) -> int | None:
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge) and isinstance(item.ge, int):
            return item.ge
    return None


def _max_length(info: FieldInfo) -> int:
    for item in info.metadata:
        if isinstance(item, annotated_types.MaxLen):
            return int(item.max_length)
    return TEXT_MAX


def _spec(name: str, path: str, info: FieldInfo) -> FieldSpec:
    annotation = _unwrap_optional(info.annotation)
    required = info.is_required()
    common: dict[str, Any] = {
        "name": path,
        "label": _label(name),
        "required": required,
        "help": info.description,
    }
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        children = tuple(
            _spec(child, f"{path}.{child}", child_info)
            for child, child_info in annotation.model_fields.items()
        )
        return FieldSpec(kind="group", children=children, **common)
    if get_origin(annotation) is Literal:
        values = [str(v) for v in get_args(annotation)]
        return FieldSpec(kind="select", options=_options(values), **common)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return FieldSpec(
            kind="select", options=_options([str(m.value) for m in annotation]), **common
        )
    if get_origin(annotation) is list and get_args(annotation) == (str,):
        return FieldSpec(kind="lines", **common)
    if annotation is date:
        return FieldSpec(kind="date", **common)
    if annotation is bool:
        return FieldSpec(kind="bool", **common)
    if annotation is int:
        return FieldSpec(kind="int", minimum=_minimum(info), **common)
    if annotation is Decimal:
        return FieldSpec(kind="decimal", **common)
    if annotation is str:
        kind: Kind = "text" if name in _SHORT_TEXTS else "textarea"
        return FieldSpec(kind=kind, max_length=_max_length(info), **common)
    raise _Unsupported(f"{path}: {annotation}")


def _options(values: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((v, OPTION_LABELS.get(v, v)) for v in values)


def form_of(model: type[BaseModel]) -> EvidenceForm:
    """The form of an evidence model (JSON when a field has a kind no input fits)."""
    try:
        fields = tuple(_spec(name, name, info) for name, info in model.model_fields.items())
    except _Unsupported:
        return EvidenceForm(model, (), as_json=True)
    return EvidenceForm(model, fields, as_json=False)


# --- the posted form back to evidence ---------------------------------------------------------


def _value(spec: FieldSpec, raw: str | None) -> Any:
    """The posted text as the evidence field's raw value; None = leave the field out."""
    if spec.kind == "bool":
        return raw is not None and raw not in ("", "0", "false", "off")
    if raw is None:
        return None
    text = raw.strip()
    if spec.kind == "lines":
        items = [line.strip() for line in raw.splitlines() if line.strip()]
        return items or None
    if not text:
        return None
    if spec.kind == "decimal" and "," in text:
        text = text.replace(".", "").replace(",", ".")
    return text


def _collect(specs: tuple[FieldSpec, ...], form: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.kind == "group":
            inner = _collect(spec.children, form)
            if inner or spec.required:
                out[spec.name.rsplit(".", 1)[-1]] = inner
            continue
        value = _value(spec, form.get(spec.input_name))
        if value is not None:
            out[spec.name.rsplit(".", 1)[-1]] = value
    return out


def evidence_from_form(evidence_form: EvidenceForm, form: Mapping[str, str]) -> dict[str, Any]:
    """The evidence dict from the posted fields (validated later by the operation)."""
    if evidence_form.as_json:
        text = (form.get(JSON_FIELD) or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                N_("evidence JSON: %(msg)s", msg=exc.msg), field=JSON_FIELD
            ) from None
        if not isinstance(value, dict):
            raise InvalidInput(N_("evidence JSON must be an object"), field=JSON_FIELD)
        return value
    return _collect(evidence_form.fields, form)


def posted_values(form: Mapping[str, Any]) -> dict[str, str]:
    """What the user typed, as text by input name (to put back in the form)."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


# --- errors next to their fields --------------------------------------------------------------


def _message_pt(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return M_("Required."), {}
    if kind.startswith("date"):
        return M_("Not a date (use YYYY-MM-DD)."), {}
    if kind.startswith("int"):
        return M_("Enter a whole number."), {}
    if kind == "decimal_max_places":
        return M_("At most %(n)s decimal places."), {"n": ctx.get("decimal_places", 2)}
    if kind.startswith("decimal"):
        return M_("Enter a number (e.g. 1850.00)."), {}
    if kind == "string_too_short":
        return M_("Fill in this field."), {}
    if kind == "string_too_long":
        return M_("At most %(n)s characters."), {"n": ctx.get("max_length", "")}
    if kind == "too_long":
        return M_("At most %(n)s items."), {"n": ctx.get("max_length", "")}
    if kind == "too_short":
        return M_("Enter at least one item (one per line)."), {}
    if kind in ("enum", "literal_error"):
        return M_("Choose one of the options."), {}
    if kind in ("greater_than_equal", "greater_than"):
        return M_("The value must be at least %(n)s."), {"n": ctx.get("ge", ctx.get("gt", ""))}
    if kind == "extra_forbidden":
        return M_("Unknown field."), {}
    return _plain(error), {}


def _plain(error: Mapping[str, Any]) -> str:
    return str(error.get("msg", "")).removeprefix("Value error, ")


def _path_of(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not isinstance(p, int))


def field_errors(exc: InvalidInput, evidence_form: EvidenceForm, language: str) -> dict[str, str]:
    """Each error of ``exc`` by input name (``""``: the form as a whole), in ``language``."""
    from console.web.templating import translate
    from notifications.i18n import render as render_text

    names = {leaf.name for leaf in evidence_form.leaves()}
    groups = {spec.name for spec in evidence_form.fields if spec.kind == "group"}
    found: dict[str, str] = {}
    cause = exc.__cause__
    if isinstance(cause, ValidationError) and not evidence_form.as_json:
        for error in cause.errors(include_url=False):
            path = _path_of(tuple(error.get("loc", ())))
            template, values = _message_pt(error)
            text = translate(template, language, **values)
            key = _place(path, _plain(error), names, groups)
            found.setdefault(key, text)
        return found
    message = render_text(exc.text, language)
    if exc.field == JSON_FIELD or evidence_form.as_json:
        return {JSON_FIELD: message}
    return {_place("", exc.message, names, groups): message}


def _place(path: str, message: str, names: set[str], groups: set[str]) -> str:
    """The input an error belongs to: its path, else a field the sentence names, else the form."""
    if path in names:
        return PREFIX + path
    if path in groups:
        return PREFIX + path
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message):
            return PREFIX + name
    return FORM_LEVEL
