"""Codes and their msgids: obligation kinds, record kinds, roles, audit problems, and the
labels of terms.

Domain code stores and raises codes with parameters; this is the one place that says which
English msgid renders each code (the catalogs translate it). To add an obligation kind: add it
to :data:`OBLIGATION_TEXTS` with its placeholders named after the parameters the obligation
stores, run ``make catalogs``, translate the new entries of the pt-BR catalog.

States and events keep the two labels they are declared with (``states/states.py``,
``states/lifecycle.py``: one declaration per event); :func:`term_label` reads them.
"""

from __future__ import annotations

from states.lifecycle import EVENTS_BY_NAME
from states.states import LABELS_EN, LABELS_PT, State
from states.text import N_, Text

#: What each kind of obligation asks, from the parameters it was opened with.
OBLIGATION_TEXTS: dict[str, Text] = {
    "registry_filing": N_("file %(enterprise)s at the %(registry)s"),
    "registry_correction": N_("answer the %(registry)s's corrections for %(enterprise)s"),
    "follow_up_visit": N_("follow-up visit (every %(interval)s days)"),
    "protocol_commitment": N_("%(partner)s: %(action)s"),
    "survey_wave": N_("the %(months)s-month survey of the participants who answered at entry"),
    "registry_filing_target": N_(
        "programme target (no legal deadline): file %(enterprise)s at the %(registry)s within "
        "%(days)s days of its founding act"
    ),
    "mei_revenue_cap": N_(
        "%(enterprise)s reported R$ %(revenue)s in %(year)s, over the MEI cap of R$ %(cap)s: "
        "communicate the exit from the MEI (LC 123/2006 art. 18-A §7 III)"
    ),
    "membership_minimum": N_(
        "%(enterprise)s fell below the %(minimum)s members of a %(form)s (members now: "
        "%(members)s): restore them by the next general assembly, held at least 6 months "
        "later, or it must dissolve (Lei 5.764/1971 art. 63 IV)"
    ),
}

#: The names of the kinds of record a "not found" error names.
RECORD_TEXTS: dict[str, Text] = {
    "case": N_("case"),
    "closure": N_("office closure"),
    "commitment": N_("commitment"),
    "enterprise": N_("enterprise"),
    "event": N_("training event"),
    "holiday": N_("holiday"),
    "hub": N_("hub"),
    "partner": N_("partner institution"),
    "incident": N_("security incident"),
    "message": N_("message"),
    "person": N_("person"),
    "request": N_("data subject's request"),
    "staff": N_("staff member"),
    "token": N_("token"),
    "user": N_("user"),
    "municipality": N_("municipality"),
    "obligation": N_("obligation"),
    "template": N_("template"),
}

#: Each role's name.
ROLE_TEXTS: dict[str, Text] = {
    "coordinator": N_("coordinator"),
    "supervisor": N_("supervisor"),
    "manager": N_("manager"),
    "auditor": N_("auditor"),
    "admin": N_("administrator"),
    "system": N_("system"),
}

#: The registries a legal form files at.
REGISTRY_TEXTS: dict[str, Text] = {
    "Junta Comercial": N_("Junta Comercial"),
    "RCPJ": N_("RCPJ"),
}

#: The events of the history that are not lifecycle events: the demand's registration and
#: the changes to the programme's records.
EVENT_TEXTS: dict[str, Text] = {
    "registrar": N_("Register the demand"),
    "clai_instalado": N_("CLAI installed"),
    "compromisso": N_("Commitment added"),
    "compromisso_cumprido": N_("Commitment done"),
    "empreendimento_formado": N_("Enterprise formed"),
    "equipe_desativada": N_("Staff member deactivated"),
    "equipe_incluida": N_("Staff member added"),
    "etapa_legal": N_("Legal step recorded"),
    "evento_planejado": N_("Training event planned"),
    "evento_realizado": N_("Training event held"),
    "evento_vinculado": N_("Training event linked"),
    "forma_juridica": N_("Legal form chosen"),
    "incidente_comunicado": N_("Incident notice recorded"),
    "incidente_registrado": N_("Security incident registered"),
    "inscricao": N_("Enrolment"),
    "membros_adicionados": N_("Members added"),
    "participante_pre_inscrito": N_("Participant pre-registered"),
    "participantes_exportados": N_("Participants exported"),
    "pedido_titular_confirmado": N_("Data subject's request confirmed"),
    "pedido_titular_registrado": N_("Data subject's request registered"),
    "pedido_titular_respondido": N_("Data subject's request answered"),
    "pessoa_anonimizada": N_("Person anonymised"),
    "pessoa_registrada": N_("Person registered"),
    "pesquisa_corrigida": N_("Survey corrected"),
    "pesquisa_registrada": N_("Survey recorded"),
    "pessoa_retificada": N_("Person's record corrected"),
    "plano_de_negocio": N_("Business plan recorded"),
    "presenca_importada": N_("Attendance imported"),
    "presenca_registrada": N_("Attendance recorded"),
    "parceiro_registrado": N_("Partner institution registered"),
    "polo_designado": N_("Hub designated"),
    "politica_acessada": N_("Public policy reached"),
    "protocolo_assinado": N_("Protocol signed"),
    "reuniao_clai": N_("CLAI meeting recorded"),
    "sem_cnpj": N_("Reason for no CNPJ recorded"),
    "visita": N_("Follow-up visit recorded"),
}

#: What a verification of the audit log found wrong (``states.audit_verify.Problem.kind``).
AUDIT_PROBLEM_TEXTS: dict[str, Text] = {
    "changed": N_("changed"),
    "missing": N_("missing"),
    "reordered": N_("reordered"),
    "not_in_tree": N_("not in the tree"),
    "signature_invalid": N_("signature invalid"),
    "unknown_key": N_("unknown key"),
}

_TABLES: dict[str, dict[str, Text]] = {
    "history_event": EVENT_TEXTS,
    "record": RECORD_TEXTS,
    "role": ROLE_TEXTS,
    "registry": REGISTRY_TEXTS,
    "obligation": OBLIGATION_TEXTS,
    "audit_problem": AUDIT_PROBLEM_TEXTS,
}


def term_text(kind: str, code: str) -> Text | None:
    """The msgid of a code of a table kind ("record", "role", ...); None if it has none."""
    return _TABLES.get(kind, {}).get(code)


def term_label(kind: str, code: str, language: str) -> str:
    """The label of a state or event in ``language``, or None for the other kinds."""
    if kind == "state":
        try:
            state = State(code)
        except ValueError:
            return code
        return (LABELS_EN if language == "en" else LABELS_PT)[state]
    if kind == "event":
        spec = EVENTS_BY_NAME.get(code)
        if spec is None:
            return code
        return spec.label_en if language == "en" else spec.label_pt
    return code


def obligation_text(kind: str, params: dict[str, object] | None, description: str) -> Text:
    """What an obligation asks: its kind's msgid with its parameters; an obligation stored
    before kinds had parameters keeps its stored (English) description."""
    template = OBLIGATION_TEXTS.get(kind)
    if template is None or params is None:
        return Text(description, {})
    return Text(template.msgid, dict(params))
