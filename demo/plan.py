"""The drawing of the portfolio: for each case, its final state, its twists and its timeline.

:func:`draw_portfolio` gives each case a final state (every state of
:data:`states.states.ALL` but ``arquivada`` is represented, in the shares of
:data:`demo.tables.MIX`), a timeline of days spent in each state, and, by chance, extensions,
suspensions that resumed, rejections and appeals, cancellations, reopenings (requested by a
coordinator, decided by the manager), reassignments and notes; a place, a community and an
activity; and the day it is registered, from early June 2024 to the final date (20 November
2026). Some cases share the field training (ECC) of an earlier case of the same territory:
their timelines are aligned on it. Nothing is dated to the minute yet, and no record is
planned: that is :mod:`demo.write`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random

from demo.tables import ACTIVITIES, ARTICLES, DWELL, MIX, PLACES, Place
from states.config import LifecycleConfig
from states.states import ALL, MAIN_PATH, State

#: The first day of the demo and its last (the clock ends on it).
START_DAY = date(2024, 6, 3)
FINAL_DAY = date(2026, 11, 20)
#: Where the caller's clock may start (it is moved to each step's instant anyway).
DEMO_START = datetime.combine(START_DAY, time(12, 0), tzinfo=UTC)
#: The clock's final instant: 18:00 in Brasília on the final day.
FINAL_AT = datetime.combine(FINAL_DAY, time(21, 0), tzinfo=UTC)

#: The event that leaves each state of the main path.
FORWARD: dict[State, str] = {
    State.REGISTRADA: "iniciar_analise",
    State.EM_ANALISE: "aprovar_elegibilidade",
    State.POLO_DEFINIDO: "formalizar_polo",
    State.MOBILIZACAO: "concluir_mobilizacao",
    State.CAPACITACAO: "concluir_capacitacao",
    State.GESTAO: "concluir_gestao",
    State.LEGALIZACAO: "concluir_legalizacao",
    State.ACOMPANHAMENTO: "concluir_acompanhamento",
    State.AVALIACAO: "concluir_avaliacao",
}
#: States where a passing case may be suspended and resumed, or cancelled and reopened.
_PAUSABLE = (
    State.EM_ANALISE,
    State.POLO_DEFINIDO,
    State.MOBILIZACAO,
    State.GESTAO,
    State.LEGALIZACAO,
)
_REOPENABLE = (State.POLO_DEFINIDO, State.MOBILIZACAO, State.GESTAO, State.LEGALIZACAO)


#: days after an appeal is filed that the demo's authority reconsiders its rejection (within the
#: 5 days of Lei 9.784/1999 art. 56 §1)
RECONSIDERED_AFTER = 2


@dataclass(frozen=True)
class Muni:
    """What the plan reads of a municipality in the database."""

    code: int
    name: str
    uf: str
    region: str
    microregion_code: int
    microregion: str


@dataclass(frozen=True)
class Move:
    """One event of a case's timeline, ``offset`` days after its registration."""

    offset: int
    event: str
    info: dict[str, int] = field(default_factory=dict)


@dataclass
class _Mods:
    """The twists a case's history takes on its way to its final state."""

    extend_review: bool = False
    appeal: bool = False
    pause_in: State | None = None
    cancel_reopen_in: State | None = None
    reassign_in: State | None = None
    after_close: str | None = None  # "refused" | "approved" (concluded cases: reconcluded)


@dataclass(frozen=True)
class Planned:
    """One case of the portfolio as drawn: where, what, when it is registered, its timeline."""

    index: int
    muni: Muni
    place: Place
    #: the community's kind ("Assentamento") and name ("Nova Vida")
    kind: str
    short: str
    activity: str
    start: date
    moves: list[Move]
    #: it shares its ECC with other cases, as their lead or as a follower
    shares_ecc: bool
    #: the seed of the random draws of its steps' details (:mod:`demo.write`)
    detail: int

    @property
    def community(self) -> str:
        return f"{self.kind} {self.short}"

    @property
    def article(self) -> str:
        return ARTICLES.get(self.kind, "da")

    @property
    def proponent(self) -> str:
        return f"{ACTIVITIES[self.activity].proponent} {self.article} {self.community}"


@dataclass(frozen=True)
class Portfolio:
    """Every case as drawn; the cases that share an earlier case's ECC (follower -> lead); the
    seed of the training events' draws."""

    cases: list[Planned]
    shared: dict[int, int]
    events: int


def _quota(cases: int) -> list[State]:
    """The final state of every case, in the shares of :data:`demo.tables.MIX` (each >= 1 if
    there is room)."""
    total = sum(MIX.values())
    exact = {s: w * cases / total for s, w in MIX.items()}
    least = 1 if cases >= len(MIX) else 0
    counts = {s: max(math.floor(v), least) for s, v in exact.items()}
    while sum(counts.values()) > cases:
        above = [s for s in counts if counts[s] > least]
        counts[max(above, key=lambda s: (counts[s] - exact[s], counts[s]))] -= 1
    order = sorted(MIX, key=lambda s: exact[s] - counts[s], reverse=True)
    i = 0
    while sum(counts.values()) < cases:
        counts[order[i % len(order)]] += 1
        i += 1
    return [s for s in ALL if s in counts for _ in range(counts[s])]


class _Timeline:
    """Draws the days of one case's history (offsets from its registration), no dates yet.

    ``ecc`` fixes the length of the field training and the days between its last day and its
    completion (the cases of a shared ECC must agree on them).
    """

    def __init__(self, rng: Random, mods: _Mods, ecc: tuple[int, int] | None = None) -> None:
        self.rng = rng
        self.mods = mods
        self.ecc = ecc
        self.moves: list[Move] = [Move(0, "registrar"), Move(0, "atribuir")]
        self.t = 0

    def add(self, offset: int, event: str, **info: int) -> None:
        self.moves.append(Move(offset, event, info))

    def walk_to(self, stop: State) -> None:
        """Pass every state of the main path before ``stop``; the case then enters ``stop``."""
        for state in MAIN_PATH[: MAIN_PATH.index(stop)]:
            self.pass_state(state)

    def pass_state(self, state: State) -> None:
        rng, mods = self.rng, self.mods
        if mods.cancel_reopen_in is state:
            cancelled = self.t + rng.randint(3, 12)
            asked = cancelled + rng.randint(15, 60)
            approved = asked + rng.randint(1, 7)
            self.add(cancelled, "cancelar", withdrawal=1)
            self.add(asked, "solicitar_reabertura")
            self.add(approved, "aprovar_reabertura")
            self.t = approved
        inner: list[tuple[int, str, dict[str, int]]] = []
        leave_info: dict[str, int] = {}
        if state is State.CAPACITACAO:
            # the ECC starts `lead` days after the case enters, lasts `days`, and is
            # completed `tail` days after its last day
            lead = rng.randint(1, 4)
            days, tail = self.ecc or (rng.randint(41, 45), rng.randint(0, 3))
            dwell = lead + days - 1 + tail
            leave_info = {"ecc_days": days, "tail": tail}
            if dwell > 45:
                inner.append((rng.randint(35, 44), "prorrogar", {}))
        elif state is State.ACOMPANHAMENTO:
            dwell = 366 + rng.randint(0, 20)
        elif state is State.EM_ANALISE and mods.appeal:
            rejected = rng.randint(5, 18)
            filed = rejected + rng.randint(1, 10)
            dwell = filed + rng.randint(8, 25)
            # the authority that decided reconsiders within its 5 days (Lei 9.784 art. 56 §1)
            inner += [
                (rejected, "indeferir", {}),
                (filed, "recorrer", {}),
                (filed + RECONSIDERED_AFTER, "reconsiderar", {}),
            ]
        elif state is State.EM_ANALISE and mods.extend_review:
            dwell = rng.randint(35, 58)
            inner.append((rng.randint(20, 28), "prorrogar", {}))
        else:
            low, high = DWELL[state]
            dwell = rng.randint(low, high)
        if state is not State.REGISTRADA and rng.random() < 0.2:
            inner.append((rng.randint(1, max(1, dwell - 1)), "anotar", {}))
        if mods.reassign_in is state:
            inner.append((rng.randint(0, dwell), "atribuir", {"reassign": 1}))
        inner.sort(key=lambda m: m[0])
        if mods.pause_in is state and dwell >= 3:
            taken = {offset for offset, _, _ in inner}
            free = [k for k in range(1, dwell) if k not in taken]
            if free:
                k = rng.choice(free)
                pause = rng.randint(10, 60)
                inner = [(o + pause if o > k else o, e, i) for o, e, i in inner]
                inner += [(k, "suspender", {"resume_after": pause}), (k + pause, "retomar", {})]
                inner.sort(key=lambda m: m[0])
                dwell += pause
        for offset, event, info in inner:
            self.add(self.t + offset, event, **info)
        self.t += dwell
        self.add(self.t, FORWARD[state], **leave_info)

    def stay(self, state: State, dwell: int) -> None:
        """The case stays ``dwell`` days in ``state`` until the end (extensions, notes)."""
        rng = self.rng
        if state is State.EM_ANALISE and dwell >= 22 and rng.random() < 0.8:
            self.add(self.t + rng.randint(18, min(28, dwell)), "prorrogar")
        if state is State.CAPACITACAO and dwell >= 40 and rng.random() < 0.7:
            self.add(self.t + rng.randint(38, min(44, dwell)), "prorrogar")
        if dwell >= 2 and rng.random() < 0.3:
            self.add(self.t + rng.randint(1, dwell), "anotar")


def _final_dwell(rng: Random, state: State, config: LifecycleConfig) -> int:
    """Days a case has spent in its final active state at the end (a fifth are overdue)."""
    if rng.random() < 0.2:
        return _deadline_days(state, config) + rng.randint(2, 45)
    return rng.randint(0, max(0, _deadline_days(state, config) - 2))


def _deadline_days(state: State, config: LifecycleConfig) -> int:
    rule = config.deadlines[state.value]
    return rule.days if rule.days is not None else 366


@dataclass(frozen=True)
class _Plan:
    """A case's timeline: its moves, when it enters its final state, how long it stays there.

    ``dwell`` None: the final state is closed (or rejected) and the case may be anywhere in
    the demo's period; otherwise it stays ``dwell`` days until the final day.
    """

    moves: list[Move]
    entry: int
    dwell: int | None

    @property
    def length(self) -> int:
        return max(self.moves[-1].offset, self.entry + (self.dwell or 0))

    @property
    def trained(self) -> Move | None:
        """The move that completes the field training, if the case gets that far."""
        return next((m for m in self.moves if m.event == "concluir_capacitacao"), None)


def _timeline(
    rng: Random,
    target: State,
    mods: _Mods,
    config: LifecycleConfig,
    *,
    ecc: tuple[int, int] | None = None,
    dwell: int | None = None,
) -> _Plan:
    """Draw the timeline of a case that ends in ``target`` (``dwell`` fixes its final stay)."""
    tl = _Timeline(rng, mods, ecc)
    plan = _draw(tl, rng, target, mods, config, dwell)
    tl.moves.sort(key=lambda m: m.offset)
    return plan


def _draw(
    tl: _Timeline,
    rng: Random,
    target: State,
    mods: _Mods,
    config: LifecycleConfig,
    fixed: int | None,
) -> _Plan:
    if target in MAIN_PATH and target is not State.CONCLUIDA:
        dwell = _final_dwell(rng, target, config)
        if target is State.EM_ANALISE and mods.appeal:
            tl.walk_to(State.EM_ANALISE)
            rejected = tl.t + rng.randint(5, 18)
            filed = rejected + rng.randint(1, 10)
            tl.add(rejected, "indeferir")
            tl.add(filed, "recorrer")
            tl.t = filed + RECONSIDERED_AFTER
            tl.add(tl.t, "reconsiderar")
        elif target is State.AVALIACAO and mods.after_close == "approved":
            tl.walk_to(State.CONCLUIDA)
            asked = tl.t + rng.randint(10, 40)
            tl.add(asked, "solicitar_reabertura", concluded=1)
            tl.t = asked + rng.randint(1, 6)
            tl.add(tl.t, "aprovar_reabertura")
            dwell = rng.randint(0, 40)
        else:
            tl.walk_to(target)
        if fixed is not None:
            dwell = fixed
        entry = tl.t
        tl.stay(target, dwell)
        return _Plan(tl.moves, entry, dwell)
    if target is State.CONCLUIDA:
        tl.walk_to(State.CONCLUIDA)
        entry = tl.t
        if mods.after_close is not None:
            asked = tl.t + rng.randint(10, 60)
            refused = mods.after_close == "refused"
            tl.add(asked, "solicitar_reabertura", concluded=1, refused=int(refused))
            decided = asked + rng.randint(1, 7)
            if refused:
                tl.add(decided, "recusar_reabertura")
            else:
                tl.add(decided, "aprovar_reabertura")
                tl.add(decided + rng.randint(10, 30), "concluir_avaliacao")
        return _Plan(tl.moves, entry, None)
    if target is State.SUSPENSA:
        via = rng.choices(MAIN_PATH[:-1], weights=(1, 2, 3, 3, 2, 2, 3, 2, 1))[0]
        tl.walk_to(via)
        limit = 300 if via is State.ACOMPANHAMENTO else 40 if via is State.CAPACITACAO else 20
        entry = tl.t + rng.randint(1, limit)
        tl.add(entry, "suspender", resume_after=rng.randint(20, 120))
        return _Plan(tl.moves, entry, rng.randint(5, 150))
    if target is State.INDEFERIDA:
        tl.walk_to(State.EM_ANALISE)
        if mods.appeal:
            rejected = tl.t + rng.randint(5, 18)
            filed = rejected + rng.randint(1, 10)
            tl.add(rejected, "indeferir")
            tl.add(filed, "recorrer")
            tl.t = filed + RECONSIDERED_AFTER
            tl.add(tl.t, "reconsiderar")
        entry = tl.t + rng.randint(5, 28)
        tl.add(entry, "indeferir")
        return _Plan(tl.moves, entry, None)
    if target in (State.EM_RECONSIDERACAO, State.RECURSO_SUPERIOR):
        # an appeal pending: with the authority that decided, or forwarded to the superior one
        tl.walk_to(State.EM_ANALISE)
        rejected = tl.t + rng.randint(5, 18)
        filed = rejected + rng.randint(1, 10)
        tl.add(rejected, "indeferir")
        tl.add(filed, "recorrer")
        entry = filed
        if target is State.RECURSO_SUPERIOR:
            entry = filed + rng.randint(1, 5)
            tl.add(entry, "encaminhar_recurso")
        return _Plan(tl.moves, entry, None)
    # cancelada
    via = rng.choices(
        (*MAIN_PATH[:-2], State.SUSPENSA, State.INDEFERIDA),
        weights=(2, 3, 3, 4, 1, 1, 1, 1, 2, 3),  # most withdraw early
    )[0]
    if via is State.SUSPENSA:
        inner = rng.choice(_PAUSABLE)
        tl.walk_to(inner)
        suspended = tl.t + rng.randint(2, 20)
        tl.add(suspended, "suspender", resume_after=rng.randint(30, 90))
        tl.add(suspended + rng.randint(10, 90), "cancelar", withdrawal=0)
    elif via is State.INDEFERIDA:
        tl.walk_to(State.EM_ANALISE)
        rejected = tl.t + rng.randint(5, 25)
        tl.add(rejected, "indeferir")
        tl.add(rejected + rng.randint(3, 30), "cancelar", withdrawal=1)
    else:
        tl.walk_to(via)
        tl.add(tl.t + rng.randint(1, 25), "cancelar", withdrawal=int(rng.random() < 0.6))
    entry = tl.moves[-1].offset
    if mods.after_close == "refused":
        asked = entry + rng.randint(15, 90)
        tl.add(asked, "solicitar_reabertura", refused=1)
        tl.add(asked + rng.randint(1, 7), "recusar_reabertura")
    return _Plan(tl.moves, entry, None)


def _draw_mods(rng: Random, target: State) -> _Mods:
    """The twists of one case, by chance (each applies only where the path allows it)."""
    passed = MAIN_PATH[: MAIN_PATH.index(target)] if target in MAIN_PATH else (State.EM_ANALISE,)
    mods = _Mods()
    if State.EM_ANALISE in passed or target is State.INDEFERIDA:
        roll = rng.random()
        mods.appeal = roll < (0.3 if target is State.INDEFERIDA else 0.06)
        mods.extend_review = not mods.appeal and roll > 0.75
    if target is State.EM_ANALISE:
        mods.appeal = rng.random() < 0.3
    pausable = [s for s in _PAUSABLE if s in passed and not (mods.appeal and s is State.EM_ANALISE)]
    if pausable and rng.random() < 0.15:
        mods.pause_in = rng.choice(pausable)
    reopenable = [s for s in _REOPENABLE if s in passed]
    if reopenable and rng.random() < 0.04:
        mods.cancel_reopen_in = rng.choice(reopenable)
    if len(passed) > 1 and rng.random() < 0.08:
        mods.reassign_in = rng.choice(passed[1:])
    if target is State.CONCLUIDA:
        roll = rng.random()
        mods.after_close = "refused" if roll < 0.08 else "approved" if roll > 0.92 else None
    elif target is State.CANCELADA and rng.random() < 0.15:
        mods.after_close = "refused"
    elif target is State.AVALIACAO and rng.random() < 0.2:
        mods.after_close = "approved"
    return mods


def _force(targets: Sequence[State], mods: list[_Mods]) -> None:
    """Make sure the portfolio shows each twist at least once, where some case allows it."""

    def first(allowed: Sequence[State], ok: Callable[[_Mods], bool]) -> int | None:
        for i, t in enumerate(targets):
            if t in allowed and ok(mods[i]):
                return i
        return None

    if not any(m.cancel_reopen_in for m in mods):
        late = (State.ACOMPANHAMENTO, State.LEGALIZACAO, State.AVALIACAO)
        i = first(late, lambda m: m.pause_in is not State.MOBILIZACAO)
        if i is not None:
            mods[i].cancel_reopen_in = State.MOBILIZACAO
    if not any(m.pause_in for m in mods):
        i = first((State.ACOMPANHAMENTO, State.LEGALIZACAO), lambda m: True)
        if i is not None:
            mods[i].pause_in = State.POLO_DEFINIDO
    if not any(m.after_close == "refused" for m in mods):
        i = first((State.CANCELADA, State.CONCLUIDA), lambda m: m.after_close is None)
        if i is not None:
            mods[i].after_close = "refused"
    if not any(m.after_close == "approved" for m in mods):
        i = first((State.AVALIACAO, State.CONCLUIDA), lambda m: m.after_close is None)
        if i is not None:
            mods[i].after_close = "approved"
    if not any(m.appeal for m in mods):
        i = first((State.EM_ANALISE, State.INDEFERIDA, State.MOBILIZACAO), lambda m: True)
        if i is not None:
            mods[i].appeal, mods[i].extend_review = True, False
            if mods[i].pause_in is State.EM_ANALISE:
                mods[i].pause_in = None


#: Final states of cases that may share their ECC with others of the same final state.
_SHARING = (
    State.GESTAO,
    State.LEGALIZACAO,
    State.ACOMPANHAMENTO,
    State.AVALIACAO,
    State.CONCLUIDA,
)


def _cohorts(rng: Random, targets: Sequence[State]) -> dict[int, int]:
    """Cases that will try to share the ECC of an earlier case: follower -> lead."""
    lead_of: dict[int, int] = {}
    for target in _SHARING:
        indexes = [i for i, t in enumerate(targets) if t is target]
        i = 0
        while i < len(indexes) - 1:
            if rng.random() < 0.35:
                size = 3 if rng.random() < 0.3 else 2
                chosen = indexes[i : i + size]
                for follower in chosen[1:]:
                    lead_of[follower] = chosen[0]
                i += len(chosen)
            else:
                i += 1
    return lead_of


def _aligned(
    rng: Random, target: State, mods: _Mods, config: LifecycleConfig, anchor: _Anchor
) -> tuple[_Plan, date] | None:
    """A follower's timeline whose ECC is completed on the lead's day; None if it cannot fit."""
    saved = rng.getstate()
    plan = _timeline(rng, target, mods, config, ecc=anchor.ecc)
    trained = plan.trained
    assert trained is not None
    start = anchor.completed - timedelta(days=trained.offset)
    if plan.dwell is not None:
        needed = (FINAL_DAY - start).days - plan.entry
        if not 0 <= needed <= _deadline_days(target, config) + 30:
            return None
        rng.setstate(saved)
        plan = _timeline(rng, target, mods, config, ecc=anchor.ecc, dwell=needed)
    if start < START_DAY or start + timedelta(days=plan.length) > FINAL_DAY:
        return None
    return plan, start


# --- the records a case's states ask for -------------------------------------------------------


@dataclass
class _Anchor:
    """Where a lead case's ECC is: the day it is completed, its length and tail, its place."""

    completed: date
    ecc: tuple[int, int]
    place: Place
    used: list[tuple[int, str]]  # (municipality, community) of the cases it serves


def _next_community(anchor: _Anchor) -> tuple[Place, tuple[str, str]] | None:
    """Another community for a shared ECC: the lead's municipality, then its territory's."""
    uf = anchor.place.code // 100_000
    nearby = [anchor.place] + [
        p
        for p in PLACES
        if p.territory == anchor.place.territory
        and p.code != anchor.place.code
        and p.code // 100_000 == uf
    ]
    for place in nearby:
        for kind, short in place.communities:
            if (place.code, short) not in anchor.used:
                return place, (kind, short)
    return None


def draw_portfolio(
    rng: Random, cases: int, munis: dict[int, Muni], config: LifecycleConfig
) -> Portfolio:
    """Every case of the portfolio: its final state, twists, timeline, place and activity."""
    targets = _quota(cases)
    rng.shuffle(targets)
    mods = [_draw_mods(rng, t) for t in targets]
    _force(targets, mods)
    lead_of = _cohorts(rng, targets)
    leads = set(lead_of.values())
    span = (FINAL_DAY - START_DAY).days
    anchors: dict[int, _Anchor] = {}
    shared: dict[int, int] = {}
    planned: list[Planned] = []
    short_ecc = False
    for index, (target, case_mods) in enumerate(zip(targets, mods, strict=True)):
        timing = Random(rng.getrandbits(64))
        detail = rng.getrandbits(64)
        placed: tuple[_Plan, date] | None = None
        lead = lead_of.get(index)
        anchor = anchors.get(lead) if lead is not None else None
        where = _next_community(anchor) if anchor is not None else None
        if anchor is not None and where is not None:
            placed = _aligned(timing, target, case_mods, config, anchor)
        if placed is not None and anchor is not None and where is not None and lead is not None:
            plan, start = placed
            place, (kind, short) = where
            anchor.used.append((place.code, short))
            shared[index] = lead
        else:
            # the first case left in capacitação has had its ECC, with too few attending
            fixed = 52 if target is State.CAPACITACAO and not short_ecc else None
            short_ecc = short_ecc or fixed is not None
            plan = _timeline(timing, target, case_mods, config, dwell=fixed)
            if plan.length > span:  # too long for the demo's period: the plain path
                plan = _timeline(timing, target, _Mods(), config)
            if plan.dwell is None:
                start = START_DAY + timedelta(days=timing.randint(0, span - plan.length))
            else:
                start = FINAL_DAY - timedelta(days=min(span, plan.length))
            place = timing.choice(PLACES)
            kind, short = timing.choice(place.communities)
            trained = plan.trained
            if index in leads and trained is not None:
                anchors[index] = _Anchor(
                    completed=start + timedelta(days=trained.offset),
                    ecc=(trained.info["ecc_days"], trained.info["tail"]),
                    place=place,
                    used=[(place.code, short)],
                )
        activity = place.activities[0] if timing.random() < 0.5 else timing.choice(place.activities)
        planned.append(
            Planned(
                index=index,
                muni=munis[place.code],
                place=place,
                kind=kind,
                short=short,
                activity=activity,
                start=start,
                moves=plan.moves,
                shares_ecc=index in leads or index in lead_of,
                detail=detail,
            )
        )
    return Portfolio(cases=planned, shared=shared, events=rng.getrandbits(64))
