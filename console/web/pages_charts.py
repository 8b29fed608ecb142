"""Pages for everyone: the lifecycle drawn (``/lifecycle``) and the indicators (``/indicators``).

The lifecycle is drawn from the app's lifecycle's declarations (:mod:`states.events`): the page carries the Mermaid source
of :func:`states.diagram.mermaid` in the user's language, which the vendored Mermaid
(``static/vendor/mermaid``, started by ``static/lifecycle.js``) lays out and draws in the browser;
the events that do not move a case and the deadlines of the running configuration are tables
beside it. The indicators come from
:mod:`states.indicators` (cases by state, people trained and certified, enterprises legalised and
active, and from the audit trail :func:`~states.indicators.cycle_times` and
:func:`~states.indicators.deadline_results`), each figure one grouped query, restricted to the
user's territory; every chart is SVG drawn on the server with its numbers beside the bars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from console.web import svg
from console.web.deps import DbRead, Rt, WebUser
from console.web.pages_common import parse_day, scope_ufs, zone_of
from console.web.pages_queries import FIGURES
from console.web.templating import environment, language_of, render, translate
from states import diagram, outcomes
from states import indicators as figures
from states.directory import User
from states.errors import InvalidInput
from states.indicators import (
    CycleTime,
    DeadlineResult,
    IndicatorRow,
    cycle_times,
    deadline_results,
    default_since,
)
from states.states import (
    ACTIVE,
    ALL,
    CLOSED,
    DEADLINE_STATES,
    LABELS_EN,
    LABELS_PT,
    MAIN_PATH,
    State,
)
from states.surveys import FOLLOW_UP_WAVES, MIN_GROUP
from states.surveys import LABELS as SURVEY_LABELS
from states.text import M_, N_, Text
from tasks.users import UFS

router = APIRouter(include_in_schema=False)

#: coordinators shown in the deadlines chart (the most deadlines first)
MAX_COORDINATORS = 30


def _labels(language: str) -> dict[State, str]:
    return LABELS_EN if language == "en" else LABELS_PT


def _describe(language: str) -> Callable[[Sequence[str]], str]:
    labels = _labels(language)
    active = {s.value for s in ACTIVE}
    every = {s.value for s in ALL}
    closed = {s.value for s in CLOSED}
    open_ = every - closed  # in progress, suspended, rejected or under appeal
    groups = (
        (every, M_("every state")),
        (active, M_("states in progress")),
        (closed, M_("closed states")),
        (open_, M_("open states (in progress, suspended or rejected)")),
    )

    def describe(states: Sequence[str]) -> str:
        given = set(states)
        for group, text in groups:
            if given == group:
                return translate(text, language)
        # the largest group inside, then the other states (prorrogar: the states in progress
        # and the superior authority's decision on an appeal)
        inside = max((g for g, _ in groups if g < given), key=len, default=set[str]())
        named = [translate(t, language) for g, t in groups if g == inside and inside]
        return ", ".join(named + [labels[State(s)] for s in states if s not in inside])

    return describe


@dataclass(frozen=True)
class DeadlineText:
    state: str
    length: str
    extension: str


def _deadline_texts(rt: Any, language: str) -> list[DeadlineText]:
    found = []
    for state in DEADLINE_STATES:  # the states in progress, then the appeal's
        rule = rt.lifecycle.config.deadlines.get(state)
        if rule is None:
            continue
        if rule.months is not None:
            length = translate(M_("%(n)s months"), language, n=rule.months)
        elif rule.kind == "working":
            length = translate(M_("%(n)s working days"), language, n=rule.days)
        else:
            length = translate(M_("%(n)s calendar days"), language, n=rule.days)
        extension = (
            translate(
                M_("up to %(times)s× %(n)s days"),
                language,
                times=rule.max_extensions,
                n=rule.extension_days,
            )
            if rule.max_extensions
            else translate(M_("no extension"), language)
        )
        found.append(DeadlineText(state, length, extension))
    return found


@dataclass(frozen=True)
class StayingText:
    """An event that leaves the case in its state, and where it may happen, in words."""

    name: str
    label: str
    where: str


@router.get("/lifecycle", name="lifecycle")
def lifecycle_page(request: Request, rt: Rt, user: WebUser) -> Response:
    language = language_of(request)
    describe = _describe(language)
    source = diagram.mermaid(
        rt.lifecycle.events,
        language,
        translate=lambda msgid: translate(msgid, language),
        version=rt.lifecycle.version,
        states=rt.lifecycle.states,
    )
    return render(
        request,
        "web/lifecycle.html",
        {
            "source": source,
            "staying": [
                StayingText(e.event, e.label, describe(e.states))
                for e in diagram.staying(rt.lifecycle.events, language)
            ],
            "deadlines": _deadline_texts(rt, language),
            "version": rt.lifecycle.version,
        },
    )


# --- indicators -------------------------------------------------------------------------------


@dataclass
class Totals:
    """The figures of several rows added up."""

    cases: int = 0
    by_state: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ALL})
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[IndicatorRow]) -> Totals:
        totals = cls()
        for row in rows:
            totals.cases += row.cases
            for state, n in row.by_state.items():
                totals.by_state[state] = totals.by_state.get(state, 0) + n
            for name in figures.FIGURES:
                if name != "cases":
                    totals.values[name] = totals.values.get(name, 0) + getattr(row, name)
        for name in figures.FIGURES:
            totals.values.setdefault(name, 0)
        totals.values["cases"] = totals.cases
        return totals


def _names_of(db: Any, usernames: Sequence[str | None]) -> dict[str, str]:
    wanted = [u for u in usernames if u]
    if not wanted:
        return {}
    return dict(db.execute(select(User.username, User.name).where(User.username.in_(wanted))).all())


def _deadline_chart(
    results: Sequence[DeadlineResult],
    *,
    title: str,
    language: str,
    number: Callable[[Any], str],
    label: Callable[[str | None], str],
) -> Any:
    def t(text: str, **values: Any) -> str:
        return translate(text, language, **values)

    bars = [
        svg.StackedBar(
            label(r.key),
            (
                svg.Segment(t(M_("met")), r.met, svg.MET),
                svg.Segment(t(M_("missed")), r.missed, svg.MISSED),
                svg.Segment(t(M_("overdue now")), r.overdue_now, svg.LATE),
            ),
            t(
                M_("%(met)s met · %(missed)s missed · %(late)s overdue"),
                met=number(r.met),
                missed=number(r.missed),
                late=number(r.overdue_now),
            ),
            key=r.key,
        )
        for r in results
    ]
    legend = [
        (t(M_("met")), svg.MET),
        (t(M_("missed")), svg.MISSED),
        (t(M_("overdue now")), svg.LATE),
    ]
    return svg.stacked_chart(bars, title=title, legend=legend) if bars else None


@router.get("/indicators", name="indicators")
def indicators_page(
    request: Request,
    rt: Rt,
    user: WebUser,
    db: DbRead,
    uf: Annotated[str, Query(max_length=2)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    wave: Annotated[str, Query(max_length=10)] = outcomes.DEFAULT_WAVE,
) -> Response:
    language = language_of(request)
    number = environment(language).filters["number"]
    labels = _labels(language)
    today = rt.today()
    scope = scope_ufs(user)
    errors: dict[str, Text | str] = {}
    wanted = uf.strip().upper() or None
    try:
        start = parse_day(since, "since") or default_since(today)
    except InvalidInput as exc:
        errors["since"] = exc.text
        start = default_since(today)
    start_at = datetime.combine(start, time(0), tzinfo=zone_of(user)).astimezone(UTC)
    min_attendance = rt.lifecycle.config.thresholds.min_attendance
    if wanted and (len(wanted) != 2 or not wanted.isalpha()):
        errors["uf"] = N_("%(value)s is not a UF (two letters, e.g. CE)", value=repr(uf))
        wanted = None
    if wave not in FOLLOW_UP_WAVES:
        errors["wave"] = N_(
            "unknown wave %(wave)s; an outcome compares the entry survey with one of: %(value)s",
            wave=repr(wave),
            value=", ".join(FOLLOW_UP_WAVES),
        )
        wave = outcomes.DEFAULT_WAVE
    scope_key = tuple(scope) if scope is not None else None

    def outcomes_by(by: str) -> list[outcomes.OutcomeRow]:
        return FIGURES.get(
            db,
            ("outcomes", by, wave, scope_key, wanted, today),
            lambda: outcomes.outcomes(db, by, wave=wave, today=today, uf=wanted, ufs=scope),
        )

    outcome_rows = [row for by in ("programme", "sex", "age_band") for row in outcomes_by(by)]
    per_uf = figures.by_uf(db, min_attendance=min_attendance, uf=wanted)
    if scope is not None:
        per_uf = [r for r in per_uf if r.group.get("uf") in scope]
    if scope is None and wanted is None:
        totals = Totals.of([figures.programme(db, min_attendance=min_attendance)])
    else:
        totals = Totals.of(per_uf)

    def t(text: str, **values: Any) -> str:
        return translate(text, language, **values)

    funnel = svg.funnel(
        [
            svg.Bar(
                labels[s],
                totals.by_state[s.value],
                number(totals.by_state[s.value]),
                href=f"/?state={s.value}",
                key=s.value,
            )
            for s in MAIN_PATH
        ],
        title=t(M_("Funnel of the main path")),
    )
    others = svg.bar_chart(
        [
            svg.Bar(
                labels[s],
                totals.by_state[s.value],
                number(totals.by_state[s.value]),
                href=f"/?state={s.value}",
                key=s.value,
            )
            for s in ALL
            if s not in MAIN_PATH
        ],
        title=t(M_("Other states")),
        color=svg.MUTED,
    )
    times: dict[str, CycleTime] = FIGURES.get(
        db,
        ("cycle", scope_key, wanted, start_at),
        lambda: cycle_times(db, ufs=scope, uf=wanted, since=start_at),
    )
    time_bars = [
        svg.Bar(
            labels[s],
            times[s.value].median_days,
            t(
                M_("%(d)s days · %(n)s stays"),
                d=number(times[s.value].median_days, 1),
                n=number(times[s.value].stays),
            ),
            key=s.value,
        )
        for s in ALL
        if s.value in times
    ]
    by_uf = FIGURES.get(
        db,
        ("deadlines", "uf", scope_key, wanted, start_at, today),
        lambda: deadline_results(db, "uf", today=today, ufs=scope, uf=wanted, since=start_at),
    )
    by_coordinator = FIGURES.get(
        db,
        ("deadlines", "coordinator", scope_key, wanted, start_at, today),
        lambda: deadline_results(
            db, "coordinator", today=today, ufs=scope, uf=wanted, since=start_at
        ),
    )
    by_coordinator = sorted(by_coordinator, key=lambda r: -r.total)[:MAX_COORDINATORS]
    names = _names_of(db, [r.key for r in by_coordinator])
    no_one = t(M_("no coordinator"))
    values = totals.values
    people = svg.bar_chart(
        [
            svg.Bar(t(text), values[name], number(values[name]), key=name)
            for name, text in (
                ("people_preregistered", M_("pre-registered")),
                ("people_trained", M_("trained (ECC held)")),
                ("people_certified", M_("certified")),
                ("members", M_("enterprise members")),
            )
        ],
        title=t(M_("People")),
    )
    firms = svg.bar_chart(
        [
            svg.Bar(t(text), values[name], number(values[name]), key=name)
            for name, text in (
                ("enterprises_formed", M_("formed")),
                ("enterprises_legalised", M_("legalised (with a CNPJ)")),
                ("enterprises_active", M_("active at the last visit")),
                ("enterprises_inactive", M_("inactive at the last visit")),
            )
        ],
        title=t(M_("Enterprises")),
    )
    return render(
        request,
        "web/indicators.html",
        {
            "scope": scope,
            "ufs": scope if scope is not None else list(UFS),
            "values": {"uf": uf, "since": since or start.isoformat(), "wave": wave},
            "waves": FOLLOW_UP_WAVES,
            "survey_labels": SURVEY_LABELS,
            "outcomes": outcome_rows,
            "min_group": MIN_GROUP,
            "errors": errors,
            "since": start,
            "totals": totals,
            "funnel": funnel,
            "others": others,
            "times": svg.bar_chart(time_bars, title=t(M_("Time per stage"))) if time_bars else None,
            "deadlines_uf": _deadline_chart(
                by_uf,
                title=t(M_("By state (UF)")),
                language=language,
                number=number,
                label=lambda key: key or "—",
            ),
            "deadlines_coordinator": _deadline_chart(
                by_coordinator,
                title=t(M_("By coordinator")),
                language=language,
                number=number,
                label=lambda key: f"{names.get(key, key)}" if key else no_one,
            ),
            "deadline_rows": {"uf": by_uf, "coordinator": by_coordinator},
            "people": people,
            "enterprises": firms,
            "income": values["monthly_income"],
            "per_uf": per_uf,
            "summed": scope is not None or wanted is not None,
        },
        status_code=422 if errors else 200,
    )
