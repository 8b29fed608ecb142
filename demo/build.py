"""The building of the portfolio, and :func:`load_demo`, what ``produzir demo`` and ``produzir
run`` do.

:func:`build_demo` reads the demo's municipalities from the database, draws the portfolio
(:mod:`demo.plan`), writes its steps (:mod:`demo.write`), registers the staff it names
(:mod:`demo.staff`), then plays every step (:mod:`demo.play`) sorted by instant, with the
caller's :class:`~states.clock.FixedClock` moved to each step's instant, from early June 2024
to the final date (20 November 2026): nothing is recorded as done on a day after the clock's,
and the histories interleave as they would in real life (lists and legal steps in the morning,
transitions in the afternoon, training events in the evening). The same ``seed`` gives the
same portfolio, down to the audit chain's hashes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from random import Random
from typing import Any

from sqlalchemy import delete, func, select

from demo.plan import DEMO_START, FINAL_AT, FINAL_DAY, START_DAY, Muni, draw_portfolio
from demo.play import Player
from demo.settings import load_demo_settings
from demo.staff import DEMO_PASSWORD, add_demo_staff, add_demo_users
from demo.tables import ILLUSTRATIVE_AREAS, ILLUSTRATIVE_TYPOLOGY_CSV, PLACES, UFS
from demo.write import write_portfolio
from notifications.models import OutboxMessage
from states.clock import FixedClock
from states.errors import InvalidInput, ProduzirError
from states.models import AuditEvent, Case, Municipality
from states.records import Enterprise, Person, TrainingEvent, Visit
from states.states import ALL, State
from tasks import cases as ops
from tasks import obligations, territory
from tasks.runtime import Runtime


@dataclass(frozen=True)
class DemoReport:
    """What :func:`build_demo` did."""

    cases: int
    #: audit events written (transitions and record changes)
    events: int
    per_state: dict[str, int]
    coordinators: list[str]
    final_date: date
    seed: int
    people: int = 0
    #: training events per kind (ecc, oficina, ecm)
    training_events: dict[str, int] = field(default_factory=dict)
    enterprises: int = 0
    #: enterprises per legal form (None: not chosen yet)
    legal_forms: dict[str, int] = field(default_factory=dict)
    visits: int = 0
    #: dated obligations of open cases still open at the end, and those past their date
    open_obligations: int = 0
    overdue_obligations: int = 0


def _load_munis(rt: Runtime) -> dict[int, Muni]:
    codes = [p.code for p in PLACES]
    with rt.db.read() as session:
        rows = session.execute(
            select(Municipality).where(Municipality.ibge_code.in_(codes))
        ).scalars()
        found = {
            m.ibge_code: Muni(
                m.ibge_code, m.name, m.uf, m.region, m.microregion_code, m.microregion
            )
            for m in rows
        }
    missing = [p.code for p in PLACES if p.code not in found]
    if missing:
        raise InvalidInput(
            f"municipalities {', '.join(map(str, missing))} are not in the database; "
            "run the migrations first",
            field="municipality_code",
        )
    for place in PLACES:
        if found[place.code].name != place.name:
            raise InvalidInput(
                f"municipality {place.code} is {found[place.code].name}, "
                f"not {place.name}: the demo's table is wrong",
                field="municipality_code",
            )
    return found


# --- building it -----------------------------------------------------------------------------


def demo_is_needed(rt: Runtime) -> bool:
    """True when the database has no case yet (the demo fills an empty database only)."""
    with rt.db.read() as session:
        return session.execute(select(Case.id).limit(1)).first() is None


#: told how many of the portfolio's steps are done, and how many there are (a progress bar)
Progress = Callable[[int, int], None]


def build_demo(
    rt: Runtime,
    clock: FixedClock,
    *,
    cases: int = 200,
    seed: int = 2026,
    progress: Progress | None = None,
) -> DemoReport:
    """Fill an empty database with a portfolio of ``cases`` demands; the clock is moved.

    ``clock`` is the :class:`~states.clock.FixedClock` the runtime reads (``rt.clock``); it is
    moved forward step by step from June 2024 and left at :data:`FINAL_AT`. ``progress`` is
    told ``(done, total)`` steps as they are played.
    """
    if cases < 1:
        raise InvalidInput(f"cases must be at least 1, not {cases}", field="cases")
    if clock is not rt.clock:
        raise InvalidInput("the demo's clock must be the runtime's clock", field="clock")
    if not demo_is_needed(rt):
        raise InvalidInput("the database already has cases; the demo fills an empty one only")
    config = rt.lifecycle.config
    portfolio = draw_portfolio(Random(seed), cases, _load_munis(rt), config)
    writer = write_portfolio(portfolio, config)
    territories = dict(writer.assigned)
    for planned in portfolio.cases:
        uf = planned.muni.uf
        territories.setdefault(UFS[uf].coordinator, set()).add(uf)
    add_demo_staff(rt, territories=territories)
    _import_territory(rt)
    steps = sorted(writer.out, key=lambda s: (s.at, s.case, s.order))
    player = Player(rt, seed)
    total = len(steps)
    if progress is not None:
        progress(0, total)
    for done, step in enumerate(steps, 1):
        clock.set(step.at)
        try:
            step.do(player)
        except ProduzirError as exc:
            raise RuntimeError(f"demo step failed at {step.at}: {step.what}: {exc}") from exc
        if progress is not None:
            progress(done, total)
    clock.set(FINAL_AT)
    _archive_some(rt)
    with rt.db.write() as session:  # the portfolio's past events notify no one
        session.execute(delete(OutboxMessage))
    return _report(rt, len(player.case_ids), seed)


#: the demo's administrator (demo/data/users.toml), who imports its territory tables
ADMIN = "adm.admin"
#: the source the demo's territory tables name: they are illustrative, not the ministry's
ILLUSTRATIVE_SOURCE = (
    "ilustrativo: tabela da demonstração (demo/data), não é a tipologia publicada pelo "
    "Ministério da Integração e do Desenvolvimento Regional"
)


def _import_territory(rt: Runtime) -> None:
    """Import the demo's illustrative PNDR typology and priority areas, as an administrator
    would (audited, flagged illustrative: labelled "ilustrativo" wherever shown)."""
    territory.import_typology(
        rt,
        ILLUSTRATIVE_TYPOLOGY_CSV,
        name="PNDR",
        version="demo-2024",
        source=ILLUSTRATIVE_SOURCE,
        illustrative=True,
        actor=ADMIN,
    )
    for name, codes in ILLUSTRATIVE_AREAS.items():
        territory.import_areas(
            rt,
            "municipality_code\n" + "".join(f"{code}\n" for code in codes),
            name=name,
            source=ILLUSTRATIVE_SOURCE,
            as_of=START_DAY,
            illustrative=True,
            actor=ADMIN,
        )


def _archive_some(rt: Runtime) -> None:
    """Archive every other rejection whose appeal window closed, as the deadline sweep would
    (the sweep archives the rest the first time it runs): both states appear in the demo."""
    with rt.db.read() as session:
        closed = list(
            session.execute(
                select(Case.id)
                .where(Case.state == State.INDEFERIDA.value, Case.due_on < FINAL_DAY)
                .order_by(Case.id)
            ).scalars()
        )
    for case_id in closed[::2]:
        ops.advance(rt, case_id, "arquivar", {}, actor="system")


def _report(rt: Runtime, cases: int, seed: int) -> DemoReport:
    """What the database holds after the demo."""

    def count(model: Any, *where: Any) -> int:
        return int(
            session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        )

    def grouped(column: Any) -> dict[Any, int]:
        rows = session.execute(select(column, func.count()).group_by(column)).all()
        return {key: int(n) for key, n in rows}

    today, big = FINAL_DAY, 1_000_000
    with rt.db.read() as session:
        per_state = grouped(Case.state)
        coordinators = sorted(
            c
            for c in session.execute(select(Case.coordinator).distinct()).scalars()
            if c is not None
        )
        forms = grouped(Enterprise.legal_form)
        report = DemoReport(
            cases=cases,
            events=count(AuditEvent),
            per_state={s.value: per_state.get(s.value, 0) for s in ALL},
            coordinators=coordinators,
            final_date=FINAL_DAY,
            seed=seed,
            people=count(Person),
            training_events=dict(sorted(grouped(TrainingEvent.kind).items())),
            enterprises=count(Enterprise),
            legal_forms={str(k or "none"): n for k, n in sorted(forms.items(), key=str)},
            visits=count(Visit),
            open_obligations=len(obligations.list_obligations(session, today=today, limit=big)),
            overdue_obligations=len(
                obligations.list_obligations(session, today=today, overdue=True, limit=big)
            ),
        )
    return report


@dataclass(frozen=True)
class DemoLoad:
    """What :func:`load_demo` did."""

    #: the portfolio built; None when the database already had cases
    report: DemoReport | None
    #: the cases the database had before
    existing: int
    #: the staff users and the web console's demo users added (those not there yet)
    staff_added: list[str]
    users_added: list[str]


def load_demo(
    rt: Runtime,
    *,
    cases: int = 200,
    seed: int = 2026,
    if_empty: bool = True,
    building: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> DemoLoad:
    """Load the demo, as ``produzir demo`` and ``produzir run`` do: the portfolio of ``cases``
    demands when the database has no case (with ``if_empty`` False, always: a database with
    cases is then refused), built under a clock of its own from :data:`DEMO_START`; then its
    staff (they receive the reminders; with the demo password they can log in too) and the web
    console's demo users, those not there yet. ``building`` is called just before the
    portfolio is built (it takes a while), ``progress`` as its steps are played.

    On SQLite the portfolio is written with ``PRAGMA synchronous`` as
    ``PRODUZIR_DEMO_SQLITE_SYNCHRONOUS`` says (:mod:`demo.settings`; NORMAL by default: the
    same records and log, fewer waits for the disk), on an engine of its own, closed after.
    """
    with rt.db.read() as session:
        existing = int(session.execute(select(func.count()).select_from(Case)).scalar_one())
    report = None
    if not existing or not if_empty:
        if building is not None:
            building()
        clock = FixedClock(DEMO_START)
        synchronous = load_demo_settings().demo_sqlite_synchronous
        db = rt.db.with_synchronous(synchronous)
        try:
            report = build_demo(
                replace(rt, clock=clock, db=db), clock, cases=cases, seed=seed, progress=progress
            )
        finally:
            if db is not rt.db:
                db.dispose()
    staff = add_demo_staff(rt, password=DEMO_PASSWORD)
    users = add_demo_users(rt)
    return DemoLoad(report=report, existing=existing, staff_added=staff, users_added=users)
