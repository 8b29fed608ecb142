"""Test builders: a valid demand, valid evidence for every event, and a case driven to a state.

Evidence here is the minimum that passes each guard, dated relative to the clock's today; tests
take it and change one field to probe a guard.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from states.clock import FixedClock
from states.deadlines import add_months
from states.models import Case, Municipality
from states.states import MAIN_PATH, State
from tasks.cases import advance
from tasks.demands import DemandInput, register_demand
from tasks.runtime import Runtime

QUIXADA = 2311306  # Quixadá (CE), semi-arid
COORDINATOR = "ana"


def demand(**overrides: Any) -> DemandInput:
    values: dict[str, Any] = {
        "municipality_code": QUIXADA,
        "community": "Assentamento Boa Vista",
        "forum": "Fórum Territorial do Sertão Central",
        "forum_held_on": date(2026, 2, 20),
        "activity": "apicultura",
        "proponent": "Associação dos Apicultores de Boa Vista",
        "proponent_cnpj": "12.ABC.345/01DE-35",
    }
    values.update(overrides)
    return DemandInput.model_validate(values)


def microregion_of(rt: Runtime, case_id: int) -> int:
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        municipality = session.get(Municipality, case.municipality_code)
        assert municipality is not None
        return municipality.microregion_code


ENTERPRISES = ("Cooperativa Mel do Sertão", "Associação Doce Vida")


def evidence_for(event: str, today: date, *, microregion: int = 23019) -> dict[str, Any]:
    """Evidence that passes ``event``'s guard on ``today``."""
    reason = "Justificativa detalhada registrada pela coordenação."
    match event:
        case "aprovar_elegibilidade":
            return {
                "decided_on": today.isoformat(),
                "decision": "Demanda elegível: microrregião prioritária da PNDR.",
                "pndr_class": "estagnada",
                "microregion_code": microregion,
                "priority_area": "Semiárido",
            }
        case "indeferir":
            return {"decided_on": today.isoformat(), "reasons": reason}
        case "recorrer":
            return {"filed_on": today.isoformat(), "grounds": reason}
        case "formalizar_polo":
            return {
                "decided_on": today.isoformat(),
                "hub_municipality_code": QUIXADA,
                "adhesion_term": {
                    "signed_on": today.isoformat(),
                    "signatories": ["Prefeitura Municipal de Quixadá", "SEBRAE-CE"],
                },
            }
        case "concluir_mobilizacao":
            return {
                "diagnosis": {"completed_on": today.isoformat(), "vocations": ["apicultura"]},
                "pre_registered": 40,
            }
        case "concluir_capacitacao":
            return {
                "start_on": (today - timedelta(days=43)).isoformat(),
                "end_on": today.isoformat(),
                "venue": "Escola Municipal José de Alencar",
                "venue_municipality_code": QUIXADA,
                "instructors": ["Maria Souza", "João Lima"],
                "enrolled": 45,
                "certified_attendance_days": [33] * 40,
                "enterprise_groups": [
                    {"name": ENTERPRISES[0], "activity": "apicultura", "members": 22},
                    {"name": ENTERPRISES[1], "activity": "doces", "members": 12},
                ],
            }
        case "concluir_gestao":
            return {
                "business_plans": [
                    {"enterprise": name, "approved_on": today.isoformat(), "document": f"PN-{i}"}
                    for i, name in enumerate(ENTERPRISES, 1)
                ]
            }
        case "concluir_legalizacao":
            founded = today - timedelta(days=40)
            return {
                "enterprises": [
                    {
                        "enterprise": ENTERPRISES[0],
                        "legal_form": "cooperativa",
                        "members": 22,
                        "founding_act_on": founded.isoformat(),
                        "registry_filed_on": (founded + timedelta(days=30)).isoformat(),
                        "cnpj": "11.222.333/0001-81",
                    },
                    {
                        "enterprise": ENTERPRISES[1],
                        "legal_form": "associacao",
                        "members": 12,
                        "founding_act_on": founded.isoformat(),
                        "no_cnpj_reason": "Registro em cartório aguardando exigência.",
                    },
                ]
            }
        case "concluir_acompanhamento":
            return follow_up_for(add_months(today, -12))
        case "concluir_avaliacao":
            return {
                "partner_report": {
                    "partner": "Universidade Federal do Ceará",
                    "delivered_on": today.isoformat(),
                },
                "indicators": {
                    "enterprises_active": 2,
                    "members": 34,
                    "monthly_income_brl": "1850.00",
                },
            }
        case "prorrogar" | "solicitar_reabertura" | "recusar_reabertura":
            return {"justification": reason}
        case "suspender":
            return {
                "reason": reason,
                "expected_resume_on": (today + timedelta(days=30)).isoformat(),
            }
        case "cancelar":
            return {"kind": "desistencia", "reason": reason}
        case "atribuir":
            return {"coordinator": COORDINATOR}
        case "anotar":
            return {"text": "Visita técnica realizada."}
        case _:
            return {}


def follow_up_for(entered_on: date) -> dict[str, Any]:
    """A follow-up record for a state entered on ``entered_on``: visits every 80 days."""
    visits = [entered_on + timedelta(days=80 * i) for i in range(1, 5)]
    return {
        "clai_installed_on": (entered_on + timedelta(days=10)).isoformat(),
        "protocol_signed_on": (entered_on + timedelta(days=20)).isoformat(),
        "visits": [v.isoformat() for v in visits],
    }


#: The event that leaves each state of the main path.
FORWARD = {
    State.REGISTRADA.value: "iniciar_analise",
    State.EM_ANALISE.value: "aprovar_elegibilidade",
    State.POLO_DEFINIDO.value: "formalizar_polo",
    State.MOBILIZACAO.value: "concluir_mobilizacao",
    State.CAPACITACAO.value: "concluir_capacitacao",
    State.GESTAO.value: "concluir_gestao",
    State.LEGALIZACAO.value: "concluir_legalizacao",
    State.ACOMPANHAMENTO.value: "concluir_acompanhamento",
    State.AVALIACAO.value: "concluir_avaliacao",
}


def today_of(clock: FixedClock) -> date:
    from states.deadlines import local_date

    return local_date(clock.now(), "America/Sao_Paulo")


def new_case(rt: Runtime, *, actor: str = COORDINATOR, **overrides: Any) -> int:
    return register_demand(rt, demand(**overrides), actor=actor).case_id


def drive(
    rt: Runtime, clock: FixedClock, case_id: int, target: str, *, actor: str = COORDINATOR
) -> None:
    """Advance a case along the main path until it is in ``target`` (a day per step)."""
    path = [s.value for s in MAIN_PATH]
    if target in (State.SUSPENSA.value, State.INDEFERIDA.value, State.CANCELADA.value):
        side = {
            State.SUSPENSA.value: (State.REGISTRADA.value, "suspender"),
            State.INDEFERIDA.value: (State.EM_ANALISE.value, "indeferir"),
            State.CANCELADA.value: (State.REGISTRADA.value, "cancelar"),
        }[target]
        drive(rt, clock, case_id, side[0], actor=actor)
        advance(rt, case_id, side[1], evidence_for(side[1], today_of(clock)), actor=actor)
        return
    microregion = microregion_of(rt, case_id)
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        current = case.state
    while current != target:
        event = FORWARD[current]
        clock.advance(timedelta(days=1))
        if event == "concluir_acompanhamento":
            clock.advance(timedelta(days=370))
        advance(
            rt,
            case_id,
            event,
            evidence_for(event, today_of(clock), microregion=microregion),
            actor=actor,
        )
        current = path[path.index(current) + 1]
