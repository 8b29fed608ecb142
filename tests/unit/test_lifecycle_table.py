"""The state x event table: every event in every state is either taken or refused by name.

The expected table is written here from DOMAIN.md, independently of ``states.lifecycle``: a
change to the engine's table that the domain did not ask for makes a pair fail. Each allowed
pair is fired with evidence and records (``states.guards.Records``) that satisfy its guard.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from states.deadlines import add_months
from states.errors import GuardFailed, InvalidInput, TransitionNotAllowed
from states.guards import CaseFacts, EccSummary, EnterpriseSummary, FollowUpSummary, Records
from states.lifecycle import EVENTS, Lifecycle, Outcome
from states.states import ALL
from states.territory import TypologyCheck
from tests.builders import ENTERPRISES, evidence_for

TODAY = date(2026, 3, 2)
MICROREGION = 23019
FOLLOW_START = add_months(TODAY, -12)
ECC_ID = 3
ACTOR = "ana"
OTHER = "bruno"

#: the destination is the state the event was fired in
SAME = "<same>"
#: the destination is the state recorded in previous_state
RETURN = "<return>"

_ACTIVE_EXTRAS = {
    "prorrogar": SAME,
    "suspender": "suspensa",
    "cancelar": "cancelada",
    "atribuir": SAME,
    "anotar": SAME,
}
_CLOSED = {
    "solicitar_reabertura": SAME,
    "aprovar_reabertura": RETURN,
    "recusar_reabertura": SAME,
    "anotar": SAME,
}

#: state -> {accepted event: destination}, from DOMAIN.md's lifecycle.
ACCEPTS: dict[str, dict[str, str]] = {
    "registrada": {"iniciar_analise": "em_analise", **_ACTIVE_EXTRAS},
    "em_analise": {
        "aprovar_elegibilidade": "polo_definido",
        "indeferir": "indeferida",
        **_ACTIVE_EXTRAS,
    },
    "polo_definido": {"formalizar_polo": "mobilizacao", **_ACTIVE_EXTRAS},
    "mobilizacao": {"concluir_mobilizacao": "capacitacao", **_ACTIVE_EXTRAS},
    "capacitacao": {"concluir_capacitacao": "gestao", **_ACTIVE_EXTRAS},
    "gestao": {"concluir_gestao": "legalizacao", **_ACTIVE_EXTRAS},
    "legalizacao": {"concluir_legalizacao": "acompanhamento", **_ACTIVE_EXTRAS},
    "acompanhamento": {"concluir_acompanhamento": "avaliacao", **_ACTIVE_EXTRAS},
    "avaliacao": {"concluir_avaliacao": "concluida", **_ACTIVE_EXTRAS},
    "concluida": dict(_CLOSED),
    "suspensa": {
        "retomar": RETURN,
        "cancelar": "cancelada",
        "atribuir": SAME,
        "anotar": SAME,
    },
    # the appeal (Lei 9.784/1999 arts. 56 §1 and 59): its window counts from the ciência; the
    # authority that decided may reconsider, or forwards it to the superior authority
    "indeferida": {
        "notificar_decisao": SAME,
        "recorrer": "em_reconsideracao",
        "arquivar": "arquivada",
        "cancelar": "cancelada",
        "atribuir": SAME,
        "anotar": SAME,
    },
    "em_reconsideracao": {
        "reconsiderar": "em_analise",
        "encaminhar_recurso": "recurso_superior",
        "cancelar": "cancelada",
        "atribuir": SAME,
        "anotar": SAME,
    },
    "recurso_superior": {
        "prover_recurso": "em_analise",
        "negar_provimento": "arquivada",
        "prorrogar": SAME,
        "cancelar": "cancelada",
        "atribuir": SAME,
        "anotar": SAME,
    },
    "cancelada": dict(_CLOSED),
    "arquivada": dict(_CLOSED),
}

#: the state a suspended or closed case returns to, in the table test
RETURNS_TO = {
    "suspensa": "capacitacao",
    "concluida": "avaliacao",
    "cancelada": "em_analise",
    "arquivada": "indeferida",
}

EVENT_NAMES = [e.name for e in EVENTS]
PAIRS = [(s.value, e) for s in ALL for e in EVENT_NAMES]


def facts(state: str, event: str, **overrides: object) -> CaseFacts:
    """Facts of a case in ``state`` on which ``event``'s builder evidence passes the guard."""
    values: dict[str, object] = {
        "case_id": 7,
        "state": state,
        "registered_on": TODAY - timedelta(days=400),
        "entered_on": FOLLOW_START if state == "acompanhamento" else TODAY - timedelta(days=5),
        "microregion_code": MICROREGION,
        "forum": "Fórum Territorial do Sertão Central",
        "forum_held_on": TODAY - timedelta(days=410),
        "community": "Assentamento Boa Vista",
        "activity": "apicultura",
        "proponent": "Associação dos Apicultores de Boa Vista",
        "previous_state": RETURNS_TO.get(state),
        "rejected_on": (
            None
            if state != "indeferida"
            else TODAY - timedelta(days=20 if event == "arquivar" else 3)
        ),
        "reopen_requested_by": (
            OTHER if event in ("aprovar_reabertura", "recusar_reabertura") else None
        ),
        # the appeal window's last day (the ciência recorded): over for archiving
        "due_on": TODAY - timedelta(days=10) if event == "arquivar" else None,
    }
    values.update(overrides)
    return CaseFacts(**values)  # type: ignore[arg-type]


def evidence(event: str) -> dict[str, object]:
    """The builders' evidence; the ECC's number for concluir_capacitacao (a record's id)."""
    if event == "concluir_capacitacao":
        return {"ecc_id": ECC_ID}
    return evidence_for(event, TODAY)


def records(event: str) -> Records:
    """The records that satisfy ``event``'s guard (nothing for events whose guard reads none)."""
    match event:
        case "aprovar_elegibilidade":
            return Records(
                typology=TypologyCheck(
                    typology_id=1,
                    name="PNDR",
                    version="2024",
                    source="Decreto 11.962/2024",
                    illustrative=False,
                    microregion_code=MICROREGION,
                    pndr_class="estagnada",
                )
            )
        case "concluir_mobilizacao":
            return Records(participants=40)
        case "concluir_capacitacao":
            return Records(
                ecc=EccSummary(
                    event_id=ECC_ID,
                    kind="ecc",
                    start_on=TODAY - timedelta(days=43),
                    end_on=TODAY,
                    held_on=TODAY,
                    serves_case=True,
                    session_days=44,
                    certification_attendance=(33,) * 40,
                    groups=len(ENTERPRISES),
                )
            )
        case "concluir_gestao" | "concluir_legalizacao" | "concluir_avaliacao":
            return Records(
                enterprises=tuple(
                    EnterpriseSummary(
                        enterprise_id=i,
                        name=name,
                        legal_form="associacao",
                        members=12,
                        business_plan=True,
                        cnpj=None,
                        no_cnpj_reason="Registro em cartório aguardando exigência.",
                        steps={"founding_act": TODAY - timedelta(days=20)},
                    )
                    for i, name in enumerate(ENTERPRISES, 1)
                )
            )
        case "concluir_acompanhamento":
            return Records(
                follow_up=FollowUpSummary(
                    clai_installed_on=FOLLOW_START + timedelta(days=10),
                    protocol_signed_on=FOLLOW_START + timedelta(days=20),
                    visits=tuple(FOLLOW_START + timedelta(days=80 * i) for i in range(1, 5)),
                )
            )
        case _:
            return Records()


def fire(lifecycle: Lifecycle, state: str, event: str, **overrides: object) -> Outcome:
    parsed = lifecycle.parse_evidence(event, evidence(event))
    return lifecycle.fire(
        facts(state, event, **overrides),
        event,
        parsed,
        actor=ACTOR,
        today=TODAY,
        records=records(event),
    )


def test_expected_table_covers_every_state_and_only_known_events() -> None:
    assert set(ACCEPTS) == {s.value for s in ALL}
    for accepted in ACCEPTS.values():
        assert set(accepted) <= set(EVENT_NAMES)


def test_every_event_is_accepted_somewhere() -> None:
    used = {e for accepted in ACCEPTS.values() for e in accepted}
    assert used == set(EVENT_NAMES)


@pytest.mark.parametrize("state", [s.value for s in ALL])
def test_allowed_events_match_the_domain(lifecycle: Lifecycle, state: str) -> None:
    assert set(lifecycle.allowed_events(state)) == set(ACCEPTS[state])


@pytest.mark.parametrize(("state", "event"), PAIRS)
def test_state_event_pair(lifecycle: Lifecycle, state: str, event: str) -> None:
    accepted = ACCEPTS[state]
    if event not in accepted:
        with pytest.raises(TransitionNotAllowed) as refused:
            fire(lifecycle, state, event)
        message = str(refused.value)
        assert event in message
        assert f"state {state}" in message
        for name in accepted:
            assert name in message
        assert set(refused.value.allowed) == set(accepted)
        return

    rule = lifecycle.config.deadlines.get(state)
    if event == "prorrogar" and (rule is None or rule.max_extensions == 0):
        with pytest.raises(GuardFailed) as failed:
            fire(lifecycle, state, event)
        assert failed.value.reason == f"the deadline of state {state} cannot be extended"
        return

    outcome = fire(lifecycle, state, event)
    expected = accepted[event]
    if expected == SAME:
        expected = state
    elif expected == RETURN:
        expected = RETURNS_TO[state]
    assert (outcome.from_state, outcome.to_state) == (state, expected)
    assert outcome.event == event


@pytest.mark.parametrize(
    "previous",
    [
        "registrada",
        "em_analise",
        "polo_definido",
        "mobilizacao",
        "capacitacao",
        "gestao",
        "legalizacao",
        "acompanhamento",
        "avaliacao",
    ],
)
def test_retomar_returns_to_the_state_the_case_left(lifecycle: Lifecycle, previous: str) -> None:
    outcome = fire(lifecycle, "suspensa", "retomar", previous_state=previous)
    assert outcome.to_state == previous


@pytest.mark.parametrize("closed", ["concluida", "cancelada", "arquivada"])
@pytest.mark.parametrize(
    "previous",
    ["registrada", "gestao", "avaliacao", "indeferida", "em_reconsideracao", "recurso_superior"],
)
def test_approved_reopening_returns_to_the_recorded_state(
    lifecycle: Lifecycle, closed: str, previous: str
) -> None:
    outcome = fire(lifecycle, closed, "aprovar_reabertura", previous_state=previous)
    assert outcome.to_state == previous


def test_retomar_without_a_recorded_state_is_refused(lifecycle: Lifecycle) -> None:
    with pytest.raises(GuardFailed, match="no recorded state to return to from suspensa"):
        fire(lifecycle, "suspensa", "retomar", previous_state=None)


def test_unknown_event_is_invalid_input_listing_the_events(lifecycle: Lifecycle) -> None:
    with pytest.raises(InvalidInput) as bad:
        lifecycle.spec("voar")
    message = str(bad.value)
    assert "'voar'" in message
    for name in EVENT_NAMES:
        assert name in message
    assert bad.value.field == "event"


def test_unknown_event_is_refused_when_firing_too(lifecycle: Lifecycle) -> None:
    evidence = lifecycle.parse_evidence("anotar", {"text": "nota"})
    with pytest.raises(InvalidInput, match="unknown event 'voar'"):
        lifecycle.fire(facts("registrada", "voar"), "voar", evidence, actor=ACTOR, today=TODAY)


def test_evidence_of_another_event_is_refused(lifecycle: Lifecycle) -> None:
    note = lifecycle.parse_evidence("anotar", {"text": "nota"})
    with pytest.raises(InvalidInput, match="evidence for cancelar must be Cancellation"):
        lifecycle.fire(facts("registrada", "cancelar"), "cancelar", note, actor=ACTOR, today=TODAY)


@pytest.mark.parametrize(
    ("state", "event"),
    [
        ("mobilizacao", "concluir_mobilizacao"),
        ("capacitacao", "concluir_capacitacao"),
        ("gestao", "concluir_gestao"),
        ("legalizacao", "concluir_legalizacao"),
        ("acompanhamento", "concluir_acompanhamento"),
    ],
)
def test_programme_steps_are_refused_without_their_records(
    lifecycle: Lifecycle, state: str, event: str
) -> None:
    parsed = lifecycle.parse_evidence(event, evidence(event))
    with pytest.raises(GuardFailed):
        lifecycle.fire(facts(state, event), event, parsed, actor=ACTOR, today=TODAY)


def test_the_readme_shows_the_lifecycle_table_made_from_the_declarations(
    lifecycle: Lifecycle,
) -> None:
    """The README's table is `produzir lifecycle table`'s output (rerun it after changing an
    event's declaration or the lifecycle file)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("| state | label | leaves with")
    end = readme.index("<!-- end of the lifecycle table -->")
    assert readme[start:end] == lifecycle.markdown_table()
    assert (
        "| `capacitacao` | Capacitação em campo (ECC) | `concluir_capacitacao`: an ECC record"
        in (readme)
    )
    assert (
        "≥ 75% of the case's certifying participants attended ≥ 75% of its session days" in readme
    )
