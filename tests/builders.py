"""Test builders: a valid demand, valid evidence for every event, the programme records each
guard reads, and a case driven to a state through the real operations.

Evidence and records here are the minimum that passes each guard, dated relative to the
clock's today; tests take them and change one thing to probe a guard.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from states.clock import FixedClock
from states.models import Case, Municipality
from states.records import CaseParticipant, Enterprise, Typology, TypologyClass
from states.states import MAIN_PATH, State
from states.territory import class_of, typology_in_force
from tasks.cases import advance
from tasks.demands import DemandInput, register_demand
from tasks.enterprises import (
    form_enterprise,
    record_step,
    set_business_plan,
    set_legal_form,
    set_no_cnpj_reason,
)
from tasks.followup import install_clai, record_visit, sign_protocol
from tasks.people import preregister, register_person
from tasks.runtime import Runtime
from tasks.staff import add_staff
from tasks.trainings import complete_event, create_event, enrol, record_attendance

QUIXADA = 2311306  # Quixadá (CE), semi-arid
COORDINATOR = "ana"


#: Every UF (a coordinator of all of them may act on any test case).
ALL_UFS = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)  # fmt: skip


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


#: the typology the builders put in place when none classifies a test case's microregion
TEST_TYPOLOGY = ("PNDR (teste)", "teste")


def with_typology(rt: Runtime, case_id: int, pndr_class: str = "estagnada") -> None:
    """Make sure the typology in force classifies the case's microregion: when it does not,
    a test typology (:data:`TEST_TYPOLOGY`) is written straight into the tables (test data,
    not an import: no audit entry), classifying it and every microregion the last one did."""
    microregion = microregion_of(rt, case_id)
    with rt.db.write() as session:
        current = typology_in_force(session)
        if current is not None and class_of(session, current.id, microregion) is not None:
            return
        classes: dict[int, str] = {}
        if current is not None:
            classes = dict(
                session.execute(
                    select(TypologyClass.microregion_code, TypologyClass.pndr_class).where(
                        TypologyClass.typology_id == current.id
                    )
                ).all()
            )
        classes[microregion] = pndr_class
        name, version = TEST_TYPOLOGY
        typology = Typology(
            name=name,
            version=f"{version}-{(current.id if current else 0) + 1}",
            source="tests/builders.py",
            published_on=None,
            illustrative=True,
            microregions=len(classes),
            imported_at=rt.clock.now(),
            imported_by="system",
        )
        session.add(typology)
        session.flush()
        session.add_all(
            TypologyClass(typology_id=typology.id, microregion_code=code, pndr_class=cls)
            for code, cls in classes.items()
        )


def microregion_of(rt: Runtime, case_id: int) -> int:
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        municipality = session.get(Municipality, case.municipality_code)
        assert municipality is not None
        return municipality.microregion_code


ENTERPRISES = ("Cooperativa Mel do Sertão", "Associação Doce Vida")
PARTICIPANTS = 40


def cpf_for(n: int) -> str:
    """A valid CPF, different for each ``n`` (check digits computed, never a real person's)."""
    base = [int(d) for d in f"{100_000_000 + n:09d}"]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(base, range(weight_start, 1, -1), strict=False))
        base.append((total * 10 % 11) % 10)
    return "".join(map(str, base))


def evidence_for(event: str, today: date) -> dict[str, Any]:
    """Evidence that passes ``event``'s guard on ``today`` (the records are set up apart; for
    ``aprovar_elegibilidade``, a typology classifying the microregion: :func:`with_typology`)."""
    reason = "Justificativa detalhada registrada pela coordenação."
    match event:
        case "aprovar_elegibilidade":
            return {
                "decided_on": today.isoformat(),
                "decision": "Demanda elegível: microrregião prioritária da PNDR.",
            }
        case "indeferir":  # the proponent's ciência at once, in the case file
            return {
                "decided_on": today.isoformat(),
                "reasons": reason,
                "notified_on": today.isoformat(),
                "means": "pessoal",
            }
        case "notificar_decisao":
            return {"notified_on": today.isoformat(), "means": "postal"}
        case "reconsiderar" | "encaminhar_recurso" | "prover_recurso" | "negar_provimento":
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
            return {"diagnosis": {"completed_on": today.isoformat(), "vocations": ["apicultura"]}}
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


def add_participants(
    rt: Runtime, case_id: int, count: int = PARTICIPANTS, *, first: int | None = None
) -> list[int]:
    """Register ``count`` people and pre-register them in the case; their ids."""
    start = first if first is not None else case_id * 1000
    ids = []
    for i in range(count):
        person = register_person(
            rt,
            {
                "cpf": cpf_for(start + i),
                "name": f"Participante {start + i}",
                "community": "Assentamento Boa Vista",
                "municipality_code": QUIXADA,
            },
            actor=COORDINATOR,
        )
        preregister(rt, case_id, person.person_id, actor=COORDINATOR)
        ids.append(person.person_id)
    return ids


def participants_of(rt: Runtime, case_id: int) -> list[int]:
    with rt.db.read() as session:
        return list(
            session.execute(
                select(CaseParticipant.person_id)
                .where(CaseParticipant.case_id == case_id)
                .order_by(CaseParticipant.person_id)
            ).scalars()
        )


def instructors(rt: Runtime, *names: str, organisation: str | None = None) -> list[int]:
    """External multipliers put on the roster, one per name; their staff numbers."""
    return [
        add_staff(
            rt,
            {"name": n, "role": "instrutor", "organisation": organisation},
            actor=COORDINATOR,
        )
        for n in names
    ]


def hold_ecc(
    rt: Runtime,
    clock: FixedClock,
    case_ids: list[int],
    *,
    days: int = 44,
    attended: int = 33,
    groups: bool = True,
    complete: bool = True,
) -> int:
    """An ECC of ``days`` days ending today for the cases, everyone attending ``attended`` days,
    two enterprise groups per case (22 and 12 members); completed (which advances the cases)."""
    today = today_of(clock)
    start = today - timedelta(days=days - 1)
    people = {case_id: participants_of(rt, case_id) for case_id in case_ids}
    event_id = create_event(
        rt,
        {
            "kind": "ecc",
            "title": "ECC Sertão Central",
            "start_on": start.isoformat(),
            "end_on": today.isoformat(),
            "venue": "Escola Municipal José de Alencar",
            "municipality_code": QUIXADA,
            "instructor_ids": instructors(rt, "Maria Souza", "João Lima"),
            "capacity": max(45, sum(len(p) for p in people.values())),
            "case_ids": case_ids,
        },
        actor=COORDINATOR,
    )
    for ids in people.values():
        enrol(rt, event_id, ids, actor=COORDINATOR)
        for person_id in ids:
            record_attendance(
                rt,
                event_id,
                person_id,
                [start + timedelta(days=d) for d in range(attended)],
                actor=COORDINATOR,
            )
    if groups:
        for case_id, ids in people.items():
            for name, members in zip(ENTERPRISES, (ids[:22], ids[22:34]), strict=True):
                form_enterprise(
                    rt,
                    {
                        "case_id": case_id,
                        "name": name,
                        "activity": "apicultura",
                        "formed_on": today.isoformat(),
                        "formed_at_event_id": event_id,
                        "member_ids": members,
                    },
                    actor=COORDINATOR,
                )
    if complete:
        complete_event(rt, event_id, actor=COORDINATOR)
    return event_id


def enterprises_of(rt: Runtime, case_id: int) -> list[int]:
    with rt.db.read() as session:
        return list(
            session.execute(
                select(Enterprise.id).where(Enterprise.case_id == case_id).order_by(Enterprise.id)
            ).scalars()
        )


def plan_all(rt: Runtime, case_id: int, today: date) -> None:
    for i, enterprise_id in enumerate(enterprises_of(rt, case_id), 1):
        set_business_plan(
            rt, enterprise_id, document=f"PN-{case_id}-{i}", approved_on=today, actor=COORDINATOR
        )


def legalise_all(rt: Runtime, case_id: int, today: date) -> None:
    """First enterprise: a cooperative with a CNPJ; the others: an association with a reason."""
    founded = today - timedelta(days=1)
    for i, enterprise_id in enumerate(enterprises_of(rt, case_id)):
        if i == 0:
            set_legal_form(rt, enterprise_id, "cooperativa", actor=COORDINATOR)
            for step, ref in (
                ("founding_act", None),
                ("lawyer_endorsement", None),
                ("registry_filing", None),
                ("cnpj", cnpj_for(case_id)),
            ):
                record_step(
                    rt, enterprise_id, step, done_on=founded, reference=ref, actor=COORDINATOR
                )
        else:
            set_legal_form(rt, enterprise_id, "associacao", actor=COORDINATOR)
            set_no_cnpj_reason(
                rt, enterprise_id, "Registro em cartório aguardando exigência.", actor=COORDINATOR
            )


def cnpj_for(n: int) -> str:
    """A valid numeric CNPJ, different for each ``n``."""
    base = [int(d) for d in f"{10_000_000 + n:08d}0001"]
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        total = sum(d * w for d, w in zip(base, weights, strict=True))
        base.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, base))


#: The partner institutions the builders' records name (name -> sphere), registered by
#: :func:`register_partners` (and by :func:`follow_up_all` for the CLAI and the Protocol).
TEST_PARTNERS = {
    "Prefeitura": "municipal",
    "Prefeitura Municipal de Quixadá": "municipal",
    "EMATERCE": "state",
    "SEBRAE": "civil_society",
    "SEBRAE-CE": "civil_society",
    "Banco do Nordeste": "federal",
    "FAO": "international",
}


def register_partners(rt: Runtime) -> dict[str, int]:
    """Register the :data:`TEST_PARTNERS` not registered yet; name -> partner number."""
    from states.records import Partner
    from tasks.partners import add_partner

    with rt.db.read() as session:
        found = {p.name: p.id for p in session.execute(select(Partner)).scalars()}
    for name, sphere in TEST_PARTNERS.items():
        if name not in found:
            found[name] = add_partner(rt, name=name, sphere=sphere, actor=COORDINATOR)
    return found


def follow_up_all(rt: Runtime, case_id: int, entered_on: date) -> None:
    """CLAI, Protocol, and a visit every 80 days over the 12 months (the clock is past them);
    the CLAI and the Protocol are the hub's: installed and signed unless they already are."""
    from states.records import Clai, Protocol

    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        hub = case.hub_municipality_code
        has_clai = hub is not None and session.get(Clai, hub) is not None
        has_protocol = hub is not None and session.get(Protocol, hub) is not None
    register_partners(rt)
    if has_clai and has_protocol:
        for i in range(1, 5):
            record_visit(
                rt,
                {
                    "case_id": case_id,
                    "visited_on": (entered_on + timedelta(days=80 * i)).isoformat(),
                    "findings": "Empreendimentos em funcionamento.",
                },
                actor=COORDINATOR,
            )
        return
    install_clai(
        rt,
        case_id,
        installed_on=entered_on + timedelta(days=10),
        members=["Prefeitura", "EMATERCE"],
        actor=COORDINATOR,
    )
    sign_protocol(
        rt,
        case_id,
        signed_on=entered_on + timedelta(days=20),
        signatories=["Prefeitura", "SEBRAE-CE"],
        actor=COORDINATOR,
    )
    for i in range(1, 5):
        record_visit(
            rt,
            {
                "case_id": case_id,
                "visited_on": (entered_on + timedelta(days=80 * i)).isoformat(),
                "findings": "Empreendimentos em funcionamento.",
            },
            actor=COORDINATOR,
        )


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
    """Advance a case along the main path until it is in ``target`` (a day per step), creating
    the records each guard needs on the way."""
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
    with rt.db.read() as session:
        case = session.get(Case, case_id)
        assert case is not None
        current, entered_on = case.state, case.entered_on
    while current != target:
        event = FORWARD[current]
        clock.advance(timedelta(days=1))
        today = today_of(clock)
        if event == "concluir_mobilizacao" and not participants_of(rt, case_id):
            add_participants(rt, case_id)
        elif event == "concluir_capacitacao":
            clock.advance(timedelta(days=44))
            hold_ecc(rt, clock, [case_id])  # completing the ECC advances the case
            current, entered_on = path[path.index(current) + 1], today_of(clock)
            continue
        elif event == "aprovar_elegibilidade":
            with_typology(rt, case_id)
        elif event == "concluir_gestao":
            plan_all(rt, case_id, today)
        elif event == "concluir_legalizacao":
            legalise_all(rt, case_id, today)
        elif event == "concluir_acompanhamento":
            clock.advance(timedelta(days=370))
            follow_up_all(rt, case_id, entered_on)
            today = today_of(clock)
        advance(rt, case_id, event, evidence_for(event, today), actor=actor)
        current, entered_on = path[path.index(current) + 1], today


#: The users the command-line tests act as (``--by NAME``): the command line runs only for an
#: active user whose role and territory allow the command (console/policy.py).
CLI_ACTORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ()),
    "ana": ("coordinator", ALL_UFS),
    "bia": ("coordinator", ALL_UFS),
    "bruno": ("coordinator", ALL_UFS),
    "carla": ("coordinator", ALL_UFS),
    "carlos": ("coordinator", ALL_UFS),
    "joao": ("coordinator", ALL_UFS),
    "sofia": ("supervisor", ALL_UFS),
}


def cli_users(rt: Runtime, *names: str) -> None:
    """Add the command-line actors ``names`` (default: all of :data:`CLI_ACTORS`) that do not
    exist yet."""
    from states.directory import User
    from tasks.users import add_user

    with rt.db.read() as session:
        existing = set(session.execute(select(User.username)).scalars())
    for name in names or tuple(CLI_ACTORS):
        if name in existing:
            continue
        role, territories = CLI_ACTORS[name]
        add_user(
            rt,
            {
                "username": name,
                "name": name.title(),
                "email": f"{name}@example.org",
                "role": role,
                "territories": list(territories),
            },
            actor="system",
        )
