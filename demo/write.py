"""The writing of the portfolio: every case's timeline turned into dated steps.

:func:`write_portfolio` takes the cases of :func:`demo.plan.draw_portfolio` and writes, for each,
the transitions with evidence that passes the guards, and the records each state asks for, on
the working days the case spends in it (not while it is suspended): participant lists in
mobilisation, the ECC in field training (some ECCs serve two or three communities of a
territory), business plans, workshops and legal forms in management, the legal steps in legal
order in legalisation, the CLAI, the Protocol and a visit at most every 90 days in follow-up. A
case stopped half-way keeps its records half-way: an enterprise only founded, a filing waiting
for a registry's correction, a commitment past its date, a visit overdue. Each step is an
instant and a call of :class:`demo.play.Player`; nothing is recorded here. Evidence carries no
person's name or CPF: people are referred to by their place in the case's list.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from random import Random
from typing import Any

from validate_docbr import CNPJ

from demo.plan import FINAL_DAY, FORWARD, START_DAY, Move, Muni, Planned, Portfolio
from demo.play import Group, Player
from demo.tables import (
    ACTIONS,
    ACTIVITIES,
    APPEALS,
    COORDINATORS_OF_REGION,
    DROUGHT,
    ECMS,
    ELECTION,
    EXTENSION_REVIEW,
    FAO,
    FINDINGS,
    FINDINGS_STOPPED,
    FLOOD,
    FORMS,
    FORWARDING,
    HUB_OF,
    ILLUSTRATIVE_TYPOLOGY,
    IMPOSSIBLE,
    INSTRUCTORS,
    LICENCE_WAIVER,
    MANAGER,
    NO_CNPJ_INFORMAL,
    NO_CNPJ_PENDING,
    NOTES,
    PLACES,
    PNDR_LABELS,
    RECONSIDERATION,
    REGISTRIES,
    REJECTIONS,
    REOPEN_APPROVED,
    REOPEN_CANCELLED,
    REOPEN_CONCLUDED,
    REOPEN_REFUSAL,
    REOPEN_REFUSED_ASK,
    RESUME_NOTES,
    SUPERVISORS,
    SUSPENSION_REASONS,
    UFS,
    WITHDRAWALS,
    Place,
)
from states.config import LifecycleConfig
from states.deadlines import add_months
from states.states import MAIN_PATH, State
from tasks.demands import DemandInput

#: Steps happen between 13:00 and about 19:00 UTC, so the local date is the UTC date in every
#: time zone of the municipalities (UTC-3 to UTC-5).
_FIRST_MINUTE = 13 * 60
_NEXT: dict[str, str] = {s.value: MAIN_PATH[i + 1].value for i, s in enumerate(MAIN_PATH[:-1])}
_ADVANCES: dict[str, str] = {event: state.value for state, event in FORWARD.items()}
#: States whose stays carry records (the guard leaving them reads records).
_WITH_RECORDS = frozenset(
    s.value for s in (State.MOBILIZACAO, State.GESTAO, State.LEGALIZACAO, State.ACOMPANHAMENTO)
)
_ACTIVE = frozenset(s.value for s in MAIN_PATH[:-1])
_COOPERATIVES = ("cooperativa", "cooperativa_trabalho")
#: The day alphanumeric CNPJs start being issued.
_ALPHANUMERIC_FROM = date(2026, 7, 1)
#: the days of the week the demo's ECCs meet (ISO: Monday to Friday)
ECC_WEEKDAYS = (1, 2, 3, 4, 5)


#: the spheres of the Protocol's signatories: the city, SEBRAE, the state's extension agency,
#: the federal institute, the regional development bank
PROTOCOL_SPHERES = ("municipal", "civil_society", "state", "federal", "federal")
#: what a CLAI meeting decides (the demo's staff write it, pt-BR)
MEETING_DECISIONS = (
    "Aprovado o calendário das feiras municipais da agricultura familiar.",
    "A prefeitura cede o galpão para a central de comercialização.",
    "Encaminhar ao Banco do Nordeste a proposta de crédito dos empreendimentos.",
    "A EMATER apresenta na próxima reunião o plano de assistência técnica.",
    "Mapear as compras públicas (PAA e PNAE) abertas no território.",
    "Convidar as escolas estaduais para a chamada pública do PNAE.",
)


@dataclass(frozen=True)
class Step:
    """One operation to play: when, for which planned case (the sort key), what."""

    at: datetime
    case: int
    order: int
    do: Callable[[Player], None]
    what: str


_CNPJ_WEIGHTS = ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2))
_CNPJ_CHECK = CNPJ()


def _cnpj(rng: Random, *, alphanumeric: bool) -> str:
    """A valid CNPJ (head office ``0001``) drawn from ``rng``.

    ``validate_docbr.CNPJ().generate()`` draws from the global ``random`` module, which a seed
    given here cannot reach; the check digits are computed the same way (character value =
    ASCII code - 48, so letters work) and the result is checked with validate_docbr.
    """
    alphabet = string.digits + string.ascii_uppercase if alphanumeric else string.digits
    body = "".join(rng.choice(alphabet) for _ in range(8)) + "0001"
    for weights in _CNPJ_WEIGHTS:
        total = sum((ord(c) - 48) * w for c, w in zip(body, weights, strict=True))
        remainder = total % 11
        body += str(0 if remainder < 2 else 11 - remainder)
    if not _CNPJ_CHECK.validate(body):  # pragma: no cover - the algorithm is the library's
        raise AssertionError(f"generated CNPJ {body} does not validate")
    return body


@dataclass
class _Training:
    """The field training of one case: its ECC (possibly shared), seats and attendance."""

    case: int
    begin: date
    end: date
    completed: date | None  # recorded as held (the case then moves, or is refused)
    created: date
    sheet: date | None  # attendance recorded on this day, up to it
    expect: str | None  # "moved" | "refused" | None (not completed)
    certified: list[int]
    listeners: list[int]
    days: dict[int, list[date]]
    late: tuple[int, date] | None  # one day recorded apart, after the sheet
    groups: list[Group]


@dataclass
class _Case:
    """A case while its steps are written: the facts later evidence depends on."""

    index: int
    muni: Muni
    place: Place
    community: str
    short: str
    article: str
    activity: str
    proponent: str
    coordinator: str
    supervisor: str
    registered_on: date
    shares_ecc: bool = False
    state: str = State.REGISTRADA.value
    entered: date = START_DAY
    previous: str | None = None
    suspended_on: date | None = None
    #: the day the current state was really entered, and the suspensions since
    since: date = START_DAY
    pauses: list[list[date | None]] = field(default_factory=list)
    people: int = 0
    training: _Training | None = None
    groups: list[Group] = field(default_factory=list)
    #: legal steps after the CNPJ that did not fit in the legalisation stay
    deferred: list[tuple[date, Group, str, bool]] = field(default_factory=list)
    #: record operations planned per day (their order inside the morning)
    mornings: dict[date, int] = field(default_factory=dict)


class Writer:
    """Turns timelines into dated steps: transitions with evidence that passes the guards, and
    the records each state asks for, on the days the case spends in it (suspensions excluded).

    Records of a case are done in the morning (12:00 UTC on), before the day's transitions
    (13:00 to 19:00); the field-training events, shared by several cases, in the evening
    (20:00 on). Every instant is on the same local date in the municipalities' time zones.
    """

    def __init__(self, config: LifecycleConfig) -> None:
        self.config = config
        self.thresholds = config.thresholds
        self.out: list[Step] = []
        self.cases: dict[int, _Case] = {}
        self.trainings: dict[int, _Training] = {}
        self.evenings: dict[date, int] = {}
        self.cnpjs: set[str] = set()
        self.plans = 0
        #: whether a case still in gestão recorded all its business plans
        self.ready_in_gestao = False
        self.serial = 1000
        #: coordinator -> the UFs of the cases they are assigned at some point
        self.assigned: dict[str, set[str]] = {}

    # -- when things happen

    def morning(self, case: _Case, day: date, do: Callable[[Player], None], what: str) -> None:
        n = case.mornings.get(day, 0)
        case.mornings[day] = n + 1
        assert n < 170, f"case {case.index}: too many records on {day}"
        at = datetime.combine(day, time(12, 0), tzinfo=UTC) + timedelta(seconds=20 * n)
        self.out.append(Step(at, case.index, 0, do, f"case #{case.index}: {what}"))

    def evening(self, day: date, key: int, do: Callable[[Player], None], what: str) -> None:
        n = self.evenings.get(day, 0)
        self.evenings[day] = n + 1
        assert n < 350, f"too many training operations on {day}"
        at = datetime.combine(day, time(20, 0), tzinfo=UTC) + timedelta(seconds=10 * n)
        self.out.append(Step(at, key, 0, do, what))

    @staticmethod
    def free_days(case: _Case, end: date) -> list[date]:
        """The days after the case entered its state, up to ``end``, when it was not suspended."""
        days: list[date] = []
        day = case.since + timedelta(days=1)
        while day <= end:
            if not any(
                start is not None and start <= day and (stop is None or day <= stop)
                for start, stop in case.pauses
            ):
                days.append(day)
            day += timedelta(days=1)
        return days

    @staticmethod
    def on_or_after(days: list[date], day: date) -> date | None:
        return next((d for d in days if d >= day), None)

    # -- a case's timeline

    def steps(self, rng: Random, case: _Case, moves: list[Move], start: date) -> None:
        self.cases[case.index] = case
        base = rng.randint(0, 240)
        for order, move in enumerate(moves):
            day = start + timedelta(days=move.offset)
            minute = _FIRST_MINUTE + base + 2 * min(order, 60)
            at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=UTC)
            later = moves[order + 1 :]
            self.before(rng, case, move.event, day, later)
            self.step(rng, case, move, day, at, order)
            self.follow(case, move.event, day, move.info)
            self.after(rng, case, move.event, day, later, start)
        if case.state == State.SUSPENSA.value and case.previous is not None:
            self.close(rng, case, case.previous, FINAL_DAY, completed=False)
        elif case.state in _ACTIVE:
            self.close(rng, case, case.state, FINAL_DAY, completed=False, current=True)

    def before(self, rng: Random, case: _Case, event: str, day: date, later: list[Move]) -> None:
        """Close the stay the event ends: its records are planned on the stay's days."""
        if event in _ADVANCES:
            self.close(rng, case, case.state, day, completed=True)
        elif event == "cancelar" and not any(m.event == "aprovar_reabertura" for m in later):
            state = case.previous if case.state == State.SUSPENSA.value else case.state
            if state is not None:
                self.close(rng, case, state, day - timedelta(days=1), completed=False)

    def after(
        self,
        rng: Random,
        case: _Case,
        event: str,
        day: date,
        later: list[Move],
        start: date,
    ) -> None:
        if event in _ADVANCES or event in (
            "aprovar_reabertura",
            "recorrer",
            "reconsiderar",
            "encaminhar_recurso",
            "indeferir",
        ):
            case.since, case.pauses = day, []
            if event in _ADVANCES and case.state == State.CAPACITACAO.value:
                case.training = self.open_training(rng, case, later, start)
        elif event == "cancelar":
            case.since, case.pauses = day, []
        elif event == "suspender":
            case.pauses.append([day, None])
        elif event == "retomar":
            case.pauses[-1][1] = day

    def close(
        self,
        rng: Random,
        case: _Case,
        state: str,
        end: date,
        *,
        completed: bool,
        current: bool = False,
    ) -> None:
        """Plan the records of a stay in ``state`` ending on ``end`` (``completed``: the case
        leaves it then; ``current``: the case is still in it at the demo's last day)."""
        days = self.free_days(case, end)
        if completed and state in _WITH_RECORDS and not days:
            raise AssertionError(f"case {case.index}: no working day in {state} for its records")
        if state == State.MOBILIZACAO.value:
            self.mobilise(rng, case, days, completed)
        elif state == State.GESTAO.value:
            self.workshops(rng, case, days, completed, current=current)
        elif state == State.LEGALIZACAO.value:
            self.legalise(rng, case, days, completed)
        elif state == State.ACOMPANHAMENTO.value:
            self.follow_up(rng, case, days, completed)

    def step(
        self, rng: Random, case: _Case, move: Move, day: date, at: datetime, order: int
    ) -> None:
        event, info = move.event, move.info
        actor = case.coordinator
        note: str | None = None
        evidence: dict[str, Any] = {}
        uf = case.muni.uf
        sebrae, agency, _, university = UFS[uf].partners
        elapsed = (day - case.entered).days
        if event == "registrar":
            demand = self.demand(rng, case, day)
            do = partial(Player.register, case=case.index, demand=demand, actor=actor)
            self.out.append(Step(at, case.index, order, do, f"case #{case.index}: registrar"))
            return
        if event == "concluir_capacitacao":
            return  # completing the ECC moves the case (see Writer.ecc)
        if event == "atribuir":
            actor = case.supervisor
            if info.get("reassign"):
                team = COORDINATORS_OF_REGION[case.muni.region]
                case.coordinator = rng.choice([c for c in team if c != case.coordinator])
            self.assigned.setdefault(case.coordinator, set()).add(case.muni.uf)
            evidence = {"coordinator": case.coordinator}
        elif event == "aprovar_elegibilidade":
            actor = case.supervisor
            pndr = ILLUSTRATIVE_TYPOLOGY[case.muni.microregion_code]
            evidence = {
                "decided_on": day,
                "decision": (
                    f"Demanda elegível: {case.muni.name} ({uf}) integra a microrregião "
                    f"{case.muni.microregion}, classificada como de {PNDR_LABELS[pndr]} na "
                    f"tipologia da PNDR em vigor (tabela ilustrativa da demonstração); área "
                    f"prioritária: {case.place.priority_area} (ilustrativo)."
                ),
            }
        elif event == "indeferir":
            actor = case.supervisor
            evidence = {
                "decided_on": day,
                "reasons": rng.choice(REJECTIONS),
                "legal_basis": "Lei 9.784/1999, art. 50",
                # the proponent's ciência in the case file, the day of the decision
                "notified_on": day,
                "means": "pessoal",
            }
        elif event == "recorrer":
            evidence = {"filed_on": day, "grounds": rng.choice(APPEALS)}
        elif event == "reconsiderar":
            actor = case.supervisor
            evidence = {"decided_on": day, "reasons": RECONSIDERATION}
        elif event == "encaminhar_recurso":
            actor = case.supervisor
            evidence = {"decided_on": day, "reasons": FORWARDING}
        elif event == "formalizar_polo":
            decided = day - timedelta(days=rng.randint(0, min(6, elapsed)))
            signed = decided + timedelta(days=rng.randint(0, (day - decided).days))
            signatories = [f"Prefeitura Municipal de {case.muni.name}", case.proponent, sebrae]
            if agency:
                signatories.append(agency)
            evidence = {
                "decided_on": decided,
                "hub_municipality_code": HUB_OF[case.muni.code],
                "adhesion_term": {"signed_on": signed, "signatories": signatories},
            }
        elif event == "concluir_mobilizacao":
            others = [a for a in case.place.activities if a != case.activity]
            evidence = {
                "diagnosis": {
                    "completed_on": day - timedelta(days=rng.randint(0, min(12, elapsed))),
                    "vocations": [case.activity, *rng.sample(others, rng.randint(1, len(others)))],
                }
            }
        elif event == "concluir_avaliacao":
            active = [g for g in case.groups if g.active]
            evidence = {
                "partner_report": {
                    "partner": university,
                    "delivered_on": day - timedelta(days=rng.randint(0, min(7, elapsed))),
                },
                "indicators": {
                    "enterprises_active": len(active),
                    "members": sum(g.last_members for g in active),
                    "monthly_income_brl": f"{sum(g.last_income for g in active):.2f}",
                },
            }
        elif event == "prorrogar":
            if case.state == State.CAPACITACAO.value and case.training is not None:
                evidence = {
                    "justification": (
                        f"ECC iniciado em {case.training.begin:%d/%m/%Y}; certificação e "
                        "formação dos grupos terminam depois do prazo de 45 dias."
                    )
                }
            else:
                evidence = {"justification": EXTENSION_REVIEW}
        elif event == "suspender":
            resume = day + timedelta(days=info["resume_after"])
            evidence = {
                "reason": self.suspension_reason(rng, case, day),
                "expected_resume_on": resume,
            }
        elif event == "retomar":
            note = rng.choice(RESUME_NOTES)
        elif event == "cancelar":
            withdrawn = bool(info.get("withdrawal", 1))
            evidence = {
                "kind": "desistencia" if withdrawn else "inviabilidade",
                "reason": rng.choice(WITHDRAWALS if withdrawn else IMPOSSIBLE),
            }
        elif event == "solicitar_reabertura":
            if info.get("refused"):
                text = REOPEN_REFUSED_ASK
            elif info.get("concluded"):
                text = REOPEN_CONCLUDED
            else:
                text = REOPEN_CANCELLED
            evidence = {"justification": text}
        elif event == "aprovar_reabertura":
            actor = MANAGER
            note = REOPEN_APPROVED
        elif event == "recusar_reabertura":
            actor = MANAGER
            evidence = {"justification": REOPEN_REFUSAL}
        elif event == "anotar":
            evidence = {"text": rng.choice(NOTES)}
        do = partial(
            Player.event,
            case=case.index,
            event=event,
            actor=actor,
            evidence=evidence,
            note=note,
        )
        self.out.append(Step(at, case.index, order, do, f"case #{case.index}: {event}"))

    @staticmethod
    def follow(case: _Case, event: str, day: date, info: dict[str, int]) -> None:
        """Mirror what the event does to the case's state (the effects of states.effects)."""
        if event in _ADVANCES:
            if event == "concluir_avaliacao":
                case.previous = State.AVALIACAO.value
            case.state, case.entered = _NEXT[case.state], day
        elif event == "suspender":
            case.previous, case.state, case.suspended_on = case.state, State.SUSPENSA.value, day
        elif event == "retomar":
            assert case.previous is not None
            assert case.suspended_on is not None
            case.entered += day - case.suspended_on
            case.state, case.previous, case.suspended_on = case.previous, None, None
        elif event == "indeferir":
            case.state, case.entered = State.INDEFERIDA.value, day
        elif event == "recorrer":
            case.state, case.entered = State.EM_RECONSIDERACAO.value, day
        elif event == "reconsiderar":
            case.state, case.entered = State.EM_ANALISE.value, day
        elif event == "encaminhar_recurso":
            case.state, case.entered = State.RECURSO_SUPERIOR.value, day
        elif event == "cancelar":
            if case.state != State.SUSPENSA.value:
                case.previous = case.state
            case.state, case.entered, case.suspended_on = State.CANCELADA.value, day, None
        elif event == "aprovar_reabertura":
            assert case.previous is not None
            case.state, case.previous, case.entered = case.previous, None, day

    def demand(self, rng: Random, case: _Case, day: date) -> DemandInput:
        forum_on = day - timedelta(days=rng.randint(3, 45))
        cnpj: str | None = None
        if rng.random() < 0.7:
            cnpj = _cnpj(rng, alphanumeric=day >= _ALPHANUMERIC_FROM and rng.random() < 0.3)
        families = rng.randint(45, 140)
        return DemandInput(
            municipality_code=case.muni.code,
            community=case.community,
            forum=f"Fórum Territorial {case.place.territory}",
            forum_held_on=forum_on,
            activity=case.activity,
            proponent=case.proponent,
            proponent_cnpj=cnpj,
            description=(
                f"Demanda aprovada em plenária do fórum: organizar cerca de {families} famílias "
                f"{case.article} {case.community} em empreendimentos de {case.activity}."
            ),
        )

    @staticmethod
    def suspension_reason(rng: Random, case: _Case, day: date) -> str:
        if date(2024, 7, 15) <= day <= date(2024, 12, 20) and rng.random() < 0.5:
            return ELECTION
        if case.muni.region == "Norte" and 2 <= day.month <= 6 and rng.random() < 0.6:
            return FLOOD
        if case.muni.region == "Nordeste" and 8 <= day.month <= 12 and rng.random() < 0.4:
            return DROUGHT
        return rng.choice(SUSPENSION_REASONS)

    # -- mobilização: participant lists

    def mobilise(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if not days:
            return
        minimum = self.thresholds.min_participants
        if completed:
            wanted = max(0, rng.randint(minimum, minimum + 6) - case.people)
        else:
            wanted = min(minimum + 6, round(len(days) * rng.uniform(0.5, 1.6)))
        if wanted == 0:
            return
        lists = min(len(days), wanted, rng.choice((1, 2, 2, 3)))
        when = sorted(rng.sample(days, lists))
        cuts = [0, *sorted(rng.sample(range(1, wanted), lists - 1)), wanted]
        reuse = rng.randint(1, 3) if not case.shares_ecc and rng.random() < 0.3 else 0
        for k, day in enumerate(when):
            size = cuts[k + 1] - cuts[k]
            single = min(2, size) if k == lists - 1 else 0
            do = partial(
                Player.participants,
                case=case.index,
                uf=case.muni.uf,
                municipality=case.muni.code,
                community=case.community,
                count=size,
                reuse=min(reuse, size - single) if k == 0 else 0,
                single=single,
                actor=case.coordinator,
            )
            self.morning(case, day, do, f"participant list ({size})")
        case.people += wanted

    # -- capacitação: the ECC, its seats, attendance and enterprise groups

    def open_training(self, rng: Random, case: _Case, later: list[Move], start: date) -> _Training:
        """Plan the case's ECC when it enters capacitação (its end is read ahead)."""
        t = self.thresholds
        entered = case.since
        completed: date | None = None
        expect: str | None = None
        limit = FINAL_DAY
        for move in later:
            day = start + timedelta(days=move.offset)
            if move.event == "concluir_capacitacao":
                completed, expect = day, "moved"
                end = day - timedelta(days=move.info["tail"])
                begin = end - timedelta(days=move.info["ecc_days"] - 1)
                break
            if move.event in ("suspender", "cancelar"):
                limit = day - timedelta(days=1)
                break
        if completed is None:
            begin = entered + timedelta(days=rng.randint(1, 4))
            end = begin + timedelta(days=rng.randint(41, 45) - 1)
            held = end + timedelta(days=rng.randint(0, 3))
            if held <= limit:  # held, but too few attended: the case stays
                completed, expect = held, "refused"
        n = case.people
        assert n >= t.min_participants, f"case {case.index}: {n} participants for its ECC"
        listening = rng.randint(0, 2)
        certified = list(range(n - listening - rng.randint(0, 6)))  # some never came
        listeners = list(range(n - listening, n))
        # the ECC meets Monday to Friday: attendance and its 75 % are of those session days
        every = [
            begin + timedelta(days=k)
            for k in range((end - begin).days + 1)
            if (begin + timedelta(days=k)).isoweekday() in ECC_WEEKDAYS
        ]
        span = len(every)
        needed = math.ceil(t.min_attendance * span)
        share = math.ceil(t.min_certified_share * len(certified))
        good = share - rng.randint(1, 4) if expect == "refused" else len(certified)
        if expect != "refused":
            good = max(share, len(certified) - rng.randint(0, 5))
        good_slots = set(rng.sample(certified, good))
        days: dict[int, list[date]] = {}
        for slot in certified:
            count = rng.randint(needed, span) if slot in good_slots else rng.randint(3, needed - 1)
            days[slot] = sorted(rng.sample(every, count))
        for slot in listeners:
            days[slot] = sorted(rng.sample(every, rng.randint(5, span)))
        sheet: date | None = end if completed else min(end, limit)
        if sheet is not None and sheet < begin:
            sheet = None
        days = {s: [d for d in ds if sheet is not None and d <= sheet] for s, ds in days.items()}
        late: tuple[int, date] | None = None
        if completed is not None:
            slot = rng.choice(sorted(good_slots))
            late = (slot, days[slot].pop())
        groups = self.groups(rng, case, sorted(good_slots), begin, end) if completed else []
        training = _Training(
            case=case.index,
            begin=begin,
            end=end,
            completed=completed,
            created=entered,
            sheet=sheet,
            expect=expect,
            certified=certified,
            listeners=listeners,
            days=days,
            late=late,
            groups=groups,
        )
        self.trainings[case.index] = training
        case.groups = groups
        return training

    def groups(
        self, rng: Random, case: _Case, good: list[int], begin: date, end: date
    ) -> list[Group]:
        """1 to 3 enterprise groups of certified participants, fitting their legal forms."""
        wanted = rng.choices((1, 2, 3), weights=(3, 4, 2))[0]
        activities = [case.activity, *[a for a in case.place.activities if a != case.activity]]
        pool = list(good)
        rng.shuffle(pool)
        span = (end - begin).days
        out: list[Group] = []
        for i in range(wanted):
            forms = [f for f, shape in FORMS.items() if shape.fewest <= len(pool)]
            if not forms:
                break
            form = rng.choices(forms, weights=[FORMS[f].weight for f in forms])[0]
            low, high = FORMS[form].fewest, FORMS[form].most
            size = rng.randint(low, min(high, len(pool)))
            members, pool = pool[:size], pool[size:]
            later: list[int] = []
            if form != "mei" and size >= 4 and rng.random() < 0.3:
                k = rng.randint(1, 3)
                members, later = members[:-k], members[-k:]
            activity = activities[i % len(activities)]
            name = _enterprise_name(form, activity, case.short)
            if any(g.name.casefold() == name.casefold() for g in out):
                name = f"{name} – Núcleo {i + 1}"
            out.append(
                Group(
                    key=f"{case.index}.{i}",
                    case=case.index,
                    name=name,
                    activity=activity,
                    form=form,
                    members=members,
                    later=later,
                    family=ACTIVITIES[activity].rural and rng.random() < 0.6,
                    formed_on=begin + timedelta(days=rng.randint(min(20, span), span)),
                )
            )
        return out

    def ecc(self, rng: Random, key: int, group: list[_Training]) -> None:
        """The evening operations of one ECC serving the cases of ``group`` (the lead first)."""
        first = group[0]
        for other in group[1:]:
            same = (other.begin, other.end, other.completed) == (
                first.begin,
                first.end,
                first.completed,
            )
            assert same, f"cases {first.case} and {other.case} do not share their ECC dates"
        lead = self.cases[first.case]
        actor = lead.coordinator
        sebrae, _, institute, _ = UFS[lead.muni.uf].partners
        orgs = (sebrae, institute)
        instructors = rng.sample(INSTRUCTORS, rng.randint(2, 3))
        communities = [self.cases[t.case].community for t in group]
        if len(group) == 1:
            title = f"ECC {lead.activity} – {lead.community}"
        else:
            title = f"ECC Território {lead.place.territory}: {', '.join(communities)}"
        venue = rng.choice(
            (
                f"Centro Comunitário {lead.article} {lead.community}",
                f"Sede da {lead.proponent}",
                f"Escola Municipal {lead.article} {lead.community}",
                f"Salão Paroquial de {lead.muni.name}",
            )
        )
        seats = sum(len(t.certified) + len(t.listeners) for t in group)
        data: dict[str, Any] = {
            "kind": "ecc",
            "title": title[:200],
            "start_on": first.begin,
            "end_on": first.end,
            "venue": venue[:200],
            "municipality_code": lead.muni.code,
            "instructors": [f"{n} ({orgs[i % 2]})" for i, n in enumerate(instructors)],
            "capacity": 5 * math.ceil((seats + rng.randint(0, 10)) / 5),
            "weekdays": list(ECC_WEEKDAYS),
        }
        name = f"ecc-{key}"
        plan = [(t.case, t.certified, t.listeners) for t in group]
        created = max(t.created for t in group)
        do = partial(Player.create_event, key=name, data=data, seats=plan, actor=actor)
        self.evening(created, key, do, f"{name}: planned, {seats} enrolled")
        if first.sheet is not None:
            rows = [(t.case, s, d) for t in group for s, d in sorted(t.days.items()) if d]
            do = partial(Player.sheet, key=name, rows=rows, actor=actor)
            self.evening(first.sheet, key, do, f"{name}: attendance sheet")
            for t in group:
                if t.late is not None:
                    slot, day = t.late
                    do = partial(
                        Player.attend, key=name, case=t.case, slot=slot, days=[day], actor=actor
                    )
                    self.evening(first.sheet, key, do, f"{name}: attendance corrected")
        if first.completed is not None:
            for t in group:
                for g in t.groups:
                    who = self.cases[t.case].coordinator
                    do = partial(Player.form, group=g, key=name, actor=who)
                    self.evening(first.completed, key, do, f"{name}: enterprise {g.name}")
            expect = {t.case: t.expect or "skipped" for t in group}
            do = partial(Player.complete, key=name, expect=expect, actor=actor)
            self.evening(first.completed, key, do, f"{name}: held")

    def ecms(self, rng: Random) -> None:
        """Multiplier trainings (ECM) for the programme's staff and multipliers, one a year or
        so."""
        for ecm in ECMS:
            begin, region, code = ecm.begins, ecm.region, ecm.municipality
            regional = [i for i, c in sorted(self.cases.items()) if c.muni.region == region]
            if not regional:
                continue
            place = next(p for p in PLACES if p.code == code)
            _, _, institute, _ = UFS[ecm.uf].partners
            end = begin + timedelta(days=4)
            name = f"ecm-{begin:%Y%m}"
            data: dict[str, Any] = {
                "kind": "ecm",
                "title": f"ECM – Formação de Multiplicadores do PRODUZIR ({region})",
                "start_on": begin,
                "end_on": end,
                "venue": f"Campus do {institute} em {place.name}",
                "municipality_code": code,
                "instructors": [f"{n} (FAO)" for n in rng.sample(INSTRUCTORS, 2)],
                "capacity": 30,
            }
            actor = SUPERVISORS[region]
            coordinators = sorted({self.cases[i].coordinator for i in regional})
            # external multipliers of the region's partners, not this ECM's instructors
            others = [
                n for n in INSTRUCTORS if n not in {i.split(" (")[0] for i in data["instructors"]}
            ]
            multipliers = [f"{n} ({institute})" for n in others[: max(0, 8 - len(coordinators))]]
            do = partial(
                Player.ecm,
                key=name,
                data=data,
                coordinators=coordinators,
                multipliers=multipliers,
                actor=actor,
            )
            self.evening(begin - timedelta(days=14), -1, do, f"{name}: planned")
            do = partial(Player.ecm_sheet, key=name, actor=actor)
            self.evening(end, -1, do, f"{name}: attendance sheet")
            do = partial(Player.complete, key=name, expect={}, actor=actor)
            self.evening(end, -1, do, f"{name}: held")

    # -- gestão: members joining, legal forms, business plans, workshops

    def workshops(
        self, rng: Random, case: _Case, days: list[date], completed: bool, *, current: bool = False
    ) -> None:
        if not days:
            return
        # the first case still in gestão records every plan: one is ready to leave it
        every_plan = completed or (current and not self.ready_in_gestao)
        self.ready_in_gestao = self.ready_in_gestao or (current and bool(case.groups))
        for g in case.groups:
            if g.later and g.joined_on is None:
                self.join(case, g, days[min(len(days) - 1, rng.randint(0, 2))])
        self.oficina(rng, case, days, completed)
        tail = days[len(days) // 3 :]
        for g in case.groups:
            if not every_plan and rng.random() < 0.5:
                continue
            day = max(rng.choice(tail), g.joined_on or days[0])
            if rng.random() < 0.5:
                self.choose_form(case, g, day)
            self.plans += 1
            document = f"PN-{case.muni.uf}-{day.year}-{self.plans:04d}"
            do = partial(Player.plan, group=g, document=document, on=day, actor=case.coordinator)
            self.morning(case, day, do, f"business plan of {g.name}")

    def join(self, case: _Case, g: Group, day: date) -> None:
        do = partial(Player.join, group=g, actor=case.coordinator)
        self.morning(case, day, do, f"{len(g.later)} members join {g.name}")
        g.joined_on = day

    def choose_form(self, case: _Case, g: Group, day: date) -> None:
        if not g.form_set:
            do = partial(Player.legal_form, group=g, actor=case.coordinator)
            self.morning(case, day, do, f"{g.name} is a {g.form}")
            g.form_set = True

    def oficina(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        """Some cases hold an Oficina de Gestão for their enterprises' members."""
        if len(days) < 8 or rng.random() >= (0.45 if completed else 0.3):
            return
        length = rng.randint(3, 4)
        free = set(days)
        starts = [d for d in days if all(d + timedelta(days=k) in free for k in range(length + 2))]
        slots = list(dict.fromkeys(s for g in case.groups for s in g.members + g.later))[:25]
        if not starts or not slots:
            return
        created = rng.choice(starts)
        course = [created + timedelta(days=k) for k in range(1, length + 1)]
        sheet_day = course[-1] + timedelta(days=1)
        sebrae = UFS[case.muni.uf].sebrae
        key = f"oficina-{case.index}"
        data: dict[str, Any] = {
            "kind": "oficina",
            "title": f"Oficina de Gestão Empresarial – {case.community}"[:200],
            "start_on": course[0],
            "end_on": course[-1],
            "venue": f"Centro Comunitário {case.article} {case.community}"[:200],
            "municipality_code": case.muni.code,
            "instructors": [f"{rng.choice(INSTRUCTORS)} ({sebrae})"],
            "capacity": 30,
        }
        rows = [
            (case.index, s, sorted(rng.sample(course, rng.randint(length - 1, length))))
            for s in slots
        ]
        actor = case.coordinator
        no_listeners: list[int] = []
        seats = [(case.index, slots, no_listeners)]
        do = partial(Player.create_event, key=key, data=data, seats=seats, actor=actor)
        self.morning(case, created, do, "business workshop planned")
        do = partial(Player.sheet, key=key, rows=rows, actor=actor)
        self.morning(case, sheet_day, do, "workshop attendance")
        do = partial(Player.complete, key=key, expect={}, actor=actor)
        self.morning(case, sheet_day, do, "business workshop held")

    # -- legalização: legal forms and steps in legal order

    def legalise(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if days:
            for g in case.groups:
                self.legal(rng, case, g, days, completed)

    def legal(self, rng: Random, case: _Case, g: Group, days: list[date], completed: bool) -> None:
        day = days[min(len(days) - 1, rng.randint(0, 3))]
        if g.later and g.joined_on is None:
            self.join(case, g, day)
        self.choose_form(case, g, day)
        roll = rng.random()
        outcome = (
            "cnpj" if g.form == "mei" or roll < 0.72 else "pending" if roll < 0.88 else "informal"
        )
        stall = not completed and rng.random() < 0.3

        def later(after: date, low: int, high: int) -> date:
            return after + timedelta(days=rng.randint(low, high))

        chain: list[tuple[str, date]] = []
        if g.form == "mei":
            chain.append(("cnpj", later(day, 1, 10)))
        elif outcome != "informal":
            founded = later(day, 1, 12)
            chain.append(("founding_act", founded))
            when = founded
            if g.form != "sociedade_limitada":  # an ME: no endorsement (LC 123/2006 art. 9 §2)
                when = later(when, 1, 7)
                chain.append(("lawyer_endorsement", when))
            gap = (60, 120) if stall else (31, 45) if rng.random() < 0.12 else (3, 28)
            when = max(when, later(founded, *gap))
            chain.append(("registry_filing", when))
            if rng.random() < 0.25:
                when = later(when, 8, 20)
                chain.append(("registry_correction_requested", when))
                if outcome == "cnpj":
                    when = later(when, 31, 40) if rng.random() < 0.15 else later(when, 5, 25)
                    chain.append(("registry_correction_filed", when))
            if outcome == "cnpj":
                chain.append(("cnpj", later(when, 5, 20)))
        after: list[tuple[str, date, bool]] = []
        if chain and chain[-1][0] == "cnpj":
            issued = chain[-1][1]
            if g.form in (*_COOPERATIVES, "sociedade_limitada") and rng.random() < 0.7:
                after.append(("state_registration", later(issued, 3, 12), False))
            after.append(("municipal_registration", later(issued, 3, 15), False))
            after.append(("licence", later(issued, 5, 25), rng.random() < 0.6))
            if g.form in _COOPERATIVES:
                after.append(("ocb_registration", later(issued, 10, 40), False))
            if g.family:
                after.append(("caf", later(issued, 10, 45), False))
        cursor = day
        done: list[str] = []
        for step, when in chain:
            on = self.on_or_after(days, max(when, cursor))
            if on is None:
                break
            self.legal_step(rng, case, g, step, on, waived=False)
            done.append(step)
            cursor = on
        if "cnpj" in done:
            for step, when, waived in after:
                on = self.on_or_after(days, max(when, cursor))
                if on is not None:
                    self.legal_step(rng, case, g, step, on, waived=waived)
                elif completed:
                    case.deferred.append((when, g, step, waived))
        elif completed:
            if "registry_filing" in done:
                reason = rng.choice(NO_CNPJ_PENDING).format(registry=REGISTRIES[g.form])
            else:
                reason = rng.choice(NO_CNPJ_INFORMAL)
            do = partial(Player.no_cnpj, group=g, reason=reason, actor=case.coordinator)
            self.morning(case, cursor, do, f"{g.name}: no CNPJ")

    def legal_step(
        self, rng: Random, case: _Case, g: Group, step: str, on: date, *, waived: bool
    ) -> None:
        uf = case.muni.uf
        self.serial += 1
        n = self.serial
        reference: str | None = None
        waived_reason: str | None = None
        match step:
            case "founding_act":
                reference = (
                    "Contrato social"
                    if g.form == "sociedade_limitada"
                    else "Ata da assembleia de constituição"
                )
            case "lawyer_endorsement":
                reference = "Visto de advogado no estatuto (Lei 8.906/1994, art. 1º, § 2º)"
            case "registry_correction_requested":
                reference = f"Nota de exigência nº {n}/{on.year}"
            case "registry_correction_filed":
                reference = f"Exigências cumpridas: protocolo nº {n}/{on.year}"
            case "cnpj":
                reference = _cnpj(rng, alphanumeric=on >= _ALPHANUMERIC_FROM and rng.random() < 0.7)
                while reference in self.cnpjs:
                    reference = _cnpj(rng, alphanumeric=not reference.isdigit())
                self.cnpjs.add(reference)
            case "state_registration":
                reference = f"Inscrição estadual {uf}-{n:09d}"
            case "municipal_registration":
                reference = f"Inscrição municipal nº {n:06d}"
            case "licence":
                if waived:
                    waived_reason = LICENCE_WAIVER
                else:
                    reference = f"Alvará de funcionamento nº {n:05d}/{on.year}"
            case "ocb_registration":
                reference = f"Registro OCB/{uf} nº {n:05d}"
            case "caf":
                reference = f"CAF nº {uf}{on.year}{n:06d}"
        do = partial(
            Player.step,
            group=g,
            step=step,
            on=on,
            reference=reference,
            waived_reason=waived_reason,
            actor=case.coordinator,
        )
        self.morning(case, on, do, f"{g.name}: {step}")

    # -- acompanhamento: CLAI, Protocol and commitments, visits

    def follow_up(self, rng: Random, case: _Case, days: list[date], completed: bool) -> None:
        if not days:
            return
        t = self.thresholds
        entered, last = case.since, days[-1]
        actor = case.coordinator
        sebrae, agency, institute, _ = UFS[case.muni.uf].partners
        city = f"Prefeitura Municipal de {case.muni.name}"
        bank = "Banco do Nordeste" if case.muni.region == "Nordeste" else "Banco da Amazônia"
        installed = self.on_or_after(days, entered + timedelta(days=rng.randint(5, 30)))
        if installed is not None:
            # (partner, sphere): the register names each institution with its sphere
            members = [
                (city, "municipal"),
                (case.proponent, "civil_society"),
                (sebrae, "civil_society"),
                *([(agency, "state")] if agency else []),
                (f"Sindicato dos Trabalhadores Rurais de {case.muni.name}", "civil_society"),
                (FAO, "international"),
            ]
            do = partial(Player.clai, case=case.index, on=installed, members=members, actor=actor)
            self.morning(case, installed, do, "CLAI installed (unless its hub's is)")
            held = self.on_or_after(days, installed + timedelta(days=rng.randint(20, 60)))
            if held is not None:  # a meeting of the hub's CLAI, with some of its members
                present = [m for m in members if m[1] != "civil_society" or rng.random() < 0.6]
                decisions = rng.sample(MEETING_DECISIONS, 2)
                do = partial(
                    Player.meeting,
                    case=case.index,
                    on=held,
                    present=present,
                    decisions=decisions,
                    actor=actor,
                )
                self.morning(case, held, do, "CLAI meeting")
            signed = self.on_or_after(days, installed + timedelta(days=rng.randint(0, 25)))
            if signed is not None:
                self.protocol(rng, case, days, signed, [city, sebrae, agency, institute, bank])
        end = add_months(entered, t.follow_up_months)
        visits: list[date] = []
        visit = entered
        while (end - visit).days > t.visit_interval_days:
            visit += timedelta(days=rng.randint(55, t.visit_interval_days - 2))
            visits.append(visit)
        if completed:  # a last visit once the period is over closes the visits' duty
            latest = min(last, visits[-1] + timedelta(days=t.visit_interval_days))
            visits.append(end + timedelta(days=rng.randint(0, (latest - end).days)))
        elif rng.random() < 0.25:  # visits lapsed: the next one is overdue
            cutoff = last - timedelta(days=rng.randint(95, 130))
            visits = [v for v in visits if v <= cutoff]
        free = set(days)
        for visit in visits:
            if visit in free:
                for g in case.groups:
                    self.visit(rng, case, g, visit)
        for when, g, step, waived in case.deferred:
            on = self.on_or_after(days, when)
            if on is not None:
                self.legal_step(rng, case, g, step, on, waived=waived)
        case.deferred = []

    def protocol(
        self,
        rng: Random,
        case: _Case,
        days: list[date],
        signed: date,
        partners: list[str | None],
    ) -> None:
        city, sebrae, agency, institute, bank = partners
        actor = case.coordinator
        spheres = dict(zip(partners, PROTOCOL_SPHERES, strict=True))
        signatories = [(p, spheres[p]) for p in partners if p]
        do = partial(
            Player.protocol, case=case.index, on=signed, signatories=signatories, actor=actor
        )
        self.morning(case, signed, do, "Protocol signed")
        kinds = [("prefeitura", city), ("sebrae", sebrae), ("institute", institute), ("bank", bank)]
        if agency:
            kinds.append(("agency", agency))
        for k, (kind, partner) in enumerate(rng.sample(kinds, rng.randint(2, 4))):
            assert partner is not None
            due = signed + timedelta(days=rng.randint(30, 240))
            key = f"{case.index}.{k}"
            do = partial(
                Player.commitment,
                key=key,
                case=case.index,
                partner=(partner, spheres[partner]),
                action=rng.choice(ACTIONS[kind]),
                due=due,
                actor=actor,
            )
            self.morning(case, signed, do, f"commitment of {partner}")
            if rng.random() < 0.75:
                done = self.on_or_after(
                    days, max(signed, due + timedelta(days=rng.randint(-25, 10)))
                )
                if done is not None:
                    do = partial(Player.fulfil, key=key, on=done, actor=actor)
                    self.morning(case, done, do, f"commitment of {partner} kept")

    def visit(self, rng: Random, case: _Case, g: Group, day: date) -> None:
        if g.active and rng.random() < 0.03:
            g.active = False
        if g.active:
            members = 1 if g.form == "mei" else max(1, g.size - rng.randint(0, 2))
            income = Decimal(f"{members * rng.uniform(180, 650):.2f}")
            findings = rng.choice(FINDINGS)
        else:
            members, income, findings = 0, Decimal("0.00"), rng.choice(FINDINGS_STOPPED)
        g.last_members, g.last_income = members, income
        do = partial(
            Player.visit,
            case=case.index,
            group=g,
            on=day,
            findings=findings,
            active=g.active,
            members=members,
            income=income,
            actor=case.coordinator,
        )
        self.morning(case, day, do, f"visit to {g.name}")


def _enterprise_name(form: str, activity: str, place: str) -> str:
    workers, product = ACTIVITIES[activity].members, ACTIVITIES[activity].product
    match form:
        case "cooperativa":
            return f"Cooperativa {workers} de {place}"
        case "cooperativa_trabalho":
            return f"Cooperativa de Trabalho {workers} de {place}"
        case "associacao":
            return f"Associação de Produção {workers} de {place}"
        case "mei":
            return f"{product} {place} (MEI)"
        case "sociedade_limitada":
            return f"Agroindústria {product} {place} ME"
        case _:
            return f"Grupo Solidário {workers} de {place}"


def write_portfolio(portfolio: Portfolio, config: LifecycleConfig) -> Writer:
    """Every step of every case, and of the training events they share."""
    writer = Writer(config)
    for planned in portfolio.cases:
        writer.steps(Random(planned.detail), _case(planned), planned.moves, planned.start)
    events = Random(portfolio.events)
    by_ecc: dict[int, list[_Training]] = {}
    for index, training in sorted(writer.trainings.items()):
        by_ecc.setdefault(portfolio.shared.get(index, index), []).append(training)
    for key, group in sorted(by_ecc.items()):
        writer.ecc(events, key, group)
    writer.ecms(events)
    return writer


def _case(planned: Planned) -> _Case:
    muni, start = planned.muni, planned.start
    return _Case(
        index=planned.index,
        muni=muni,
        place=planned.place,
        community=planned.community,
        short=planned.short,
        article=planned.article,
        activity=planned.activity,
        proponent=planned.proponent,
        coordinator=UFS[muni.uf].coordinator,
        supervisor=SUPERVISORS[muni.region],
        registered_on=start,
        shares_ecc=planned.shares_ecc,
        entered=start,
        since=start,
    )
