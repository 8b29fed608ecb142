"""The programme's outcome indicators, from the participants' surveys (:mod:`states.surveys`),
only in aggregate: one query layer for ``produzir indicators --outcomes``, the web indicators
page and ``/api/v1/indicators/outcomes``.

An outcome compares each participant's **entry** survey with their survey of a later wave
(``ecc_end``, ``month_6`` or ``month_12``) in the same case; the people with both are the row's
``people``. A person surveyed in two cases of a row counts once (their lowest-numbered case).
Rows are the whole ``programme``, or one per ``sex``, ``age_band`` (both as answered at entry;
the age in years of birth on the entry day), ``uf`` or regional ``module`` of the case.

- ``occupied_at_entry`` / ``occupied_at_wave``: of those people, how many had an occupation
  (:data:`states.surveys.WORK_STATUSES`) at entry and at the wave;
  ``occupations_created`` = the difference (negative when occupations were lost);
- ``income_up`` / ``income_same`` / ``income_down``: the people whose income band rose, stayed
  or fell between the two surveys;
- ``enterprises_12m``: the enterprises of the row's cases with a member among its people,
  formed at least 12 months before today; ``enterprises_alive_12m``: of those, the ones whose
  latest visit on or after their first 12 months (formed_on + 12 months, date to date) found
  them active.

**Small groups are suppressed**: a row about fewer than :data:`states.surveys.MIN_GROUP` people
shows no figure at all, not even its count (``suppressed``), so that no answer can be traced
back to a person (LGPD art. 12: data are anonymous only while no one can be re-identified).

Three queries over the whole scope (the survey pairs; the enterprises of those people; the
visits of the enterprises 12 months old), grouped here in Python (20,000 pairs: about a second
on a loaded 2-core machine); a territory (``ufs``) restricts them in the ``WHERE`` clause.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, get_args

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from states.deadlines import add_months
from states.errors import InvalidInput
from states.indicators import module_of_case
from states.models import Case, Municipality
from states.records import Enterprise, EnterpriseMember, Survey, Visit
from states.surveys import (
    AGE_BANDS,
    FOLLOW_UP_WAVES,
    INCOME_BANDS,
    MIN_GROUP,
    SEXES,
    WORK_STATUSES,
    age_band,
)
from states.territory import configured_modules
from states.text import N_

OutcomeGroup = Literal["programme", "sex", "age_band", "uf", "module"]
OUTCOME_GROUPS: tuple[OutcomeGroup, ...] = get_args(OutcomeGroup)
DEFAULT_WAVE = "month_12"

#: the figures of a row, in the order reports print them
OUTCOME_FIGURES = (
    "people",
    "occupied_at_entry",
    "occupied_at_wave",
    "occupations_created",
    "income_up",
    "income_same",
    "income_down",
    "enterprises_12m",
    "enterprises_alive_12m",
)


@dataclass(frozen=True)
class OutcomeRow:
    """The outcomes of one group of people; every figure None when the group is suppressed."""

    by: OutcomeGroup
    #: what the row is about: {}, {"sex": "female"}, {"uf": "CE"}, {"module": ..., ...}
    group: dict[str, Any]
    wave: str
    suppressed: bool
    people: int | None = None
    occupied_at_entry: int | None = None
    occupied_at_wave: int | None = None
    occupations_created: int | None = None
    income_up: int | None = None
    income_same: int | None = None
    income_down: int | None = None
    enterprises_12m: int | None = None
    enterprises_alive_12m: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            **self.group,
            "wave": self.wave,
            "suppressed": self.suppressed,
            **{name: getattr(self, name) for name in OUTCOME_FIGURES},
        }


@dataclass(frozen=True)
class _Pair:
    person_id: int
    case_id: int
    key: Any
    occupied_before: bool
    occupied_after: bool
    band_change: int


def outcomes(
    session: Session,
    by: str = "programme",
    *,
    wave: str = DEFAULT_WAVE,
    today: date,
    uf: str | None = None,
    ufs: Collection[str] | None = None,
) -> list[OutcomeRow]:
    """The outcome rows grouped ``by`` (see the module doc), entry against ``wave``, over the
    cases of ``uf`` and of the territory ``ufs`` (None: every UF)."""
    if by not in OUTCOME_GROUPS:
        raise InvalidInput(
            N_(
                "unknown grouping %(by)s; use one of: %(value)s",
                by=repr(by),
                value=", ".join(OUTCOME_GROUPS),
            ),
            field="by",
        )
    if wave not in FOLLOW_UP_WAVES:
        raise InvalidInput(
            N_(
                "unknown wave %(wave)s; an outcome compares the entry survey with one of: %(value)s",
                wave=repr(wave),
                value=", ".join(FOLLOW_UP_WAVES),
            ),
            field="wave",
        )
    if uf is not None and (len(uf) != 2 or not uf.isalpha()):
        raise InvalidInput(N_("%(uf)s is not a UF (two letters, e.g. CE)", uf=repr(uf)), field="uf")
    level: OutcomeGroup = by  # narrowed by the check above
    pairs = _pairs(session, level, wave, uf.upper() if uf else None, ufs)
    members, alive, due = _enterprises(session, pairs, today)

    groups: dict[Any, dict[int, _Pair]] = {}
    for pair in sorted(pairs, key=lambda p: p.case_id):
        groups.setdefault(pair.key, {}).setdefault(pair.person_id, pair)
    if level == "programme" and not groups:
        groups[None] = {}
    rows = []
    for key in _ordered(level, groups):
        people = groups[key]
        group = _group_fields(level, key)
        if len(people) < MIN_GROUP:
            rows.append(OutcomeRow(level, group, wave, suppressed=True))
            continue
        before = sum(p.occupied_before for p in people.values())
        after = sum(p.occupied_after for p in people.values())
        enterprises = {
            enterprise
            for p in people.values()
            for enterprise in members.get((p.case_id, p.person_id), ())
            if enterprise in due
        }
        rows.append(
            OutcomeRow(
                level,
                group,
                wave,
                suppressed=False,
                people=len(people),
                occupied_at_entry=before,
                occupied_at_wave=after,
                occupations_created=after - before,
                income_up=sum(p.band_change > 0 for p in people.values()),
                income_same=sum(p.band_change == 0 for p in people.values()),
                income_down=sum(p.band_change < 0 for p in people.values()),
                enterprises_12m=len(enterprises),
                enterprises_alive_12m=len(enterprises & alive),
            )
        )
    return rows


def _pairs(
    session: Session,
    level: OutcomeGroup,
    wave: str,
    uf: str | None,
    ufs: Collection[str] | None,
) -> list[_Pair]:
    entry = aliased(Survey, name="entry")
    later = aliased(Survey, name="later")
    query = (
        select(
            entry.person_id,
            entry.case_id,
            entry.sex,
            entry.birth_year,
            entry.answered_on,
            entry.work_status,
            entry.income_band,
            later.work_status,
            later.income_band,
            Municipality.uf,
            module_of_case(),
        )
        .join(
            later,
            and_(
                later.case_id == entry.case_id,
                later.person_id == entry.person_id,
                later.wave == wave,
            ),
        )
        .join(Case, Case.id == entry.case_id)
        .join(Municipality, Municipality.ibge_code == Case.municipality_code)
        .where(entry.wave == "entry")
    )
    if uf:
        query = query.where(Municipality.uf == uf)
    if ufs is not None:
        query = query.where(Municipality.uf.in_(sorted(u.upper() for u in ufs)))
    band = {code: i for i, code in enumerate(INCOME_BANDS)}
    pairs = []
    for row in session.execute(query):
        (pid, cid, sex, born, on, work_before, band_before, work_after, band_after, uf_, module) = (
            row
        )
        key: Any = {
            "programme": None,
            "sex": sex,
            "age_band": age_band(born, on),
            "uf": uf_,
            "module": module,
        }[level]
        pairs.append(
            _Pair(
                pid,
                cid,
                key,
                WORK_STATUSES.get(work_before, False),
                WORK_STATUSES.get(work_after, False),
                band.get(band_after, 0) - band.get(band_before, 0),
            )
        )
    return pairs


def _enterprises(
    session: Session, pairs: list[_Pair], today: date
) -> tuple[dict[tuple[int, int], set[int]], set[int], set[int]]:
    """(case, person) -> their enterprises in that case; the enterprises alive 12 months on;
    the enterprises formed at least 12 months before ``today``."""
    wanted = {(p.case_id, p.person_id) for p in pairs}
    if not wanted:
        return {}, set(), set()
    case_ids = sorted({case_id for case_id, _ in wanted})
    members: dict[tuple[int, int], set[int]] = {}
    formed: dict[int, date] = {}
    for enterprise_id, case_id, formed_on, person_id in session.execute(
        select(Enterprise.id, Enterprise.case_id, Enterprise.formed_on, EnterpriseMember.person_id)
        .join(EnterpriseMember, EnterpriseMember.enterprise_id == Enterprise.id)
        .where(Enterprise.case_id.in_(case_ids))
    ):
        if (case_id, person_id) in wanted:
            members.setdefault((case_id, person_id), set()).add(enterprise_id)
            formed[enterprise_id] = formed_on
    due = {e for e, on in formed.items() if add_months(on, 12) <= today}
    latest: dict[int, tuple[date, int, bool]] = {}
    for visited, visited_on, visit_id, active in session.execute(
        select(Visit.enterprise_id, Visit.visited_on, Visit.id, Visit.active).where(
            Visit.enterprise_id.in_(sorted(due)), Visit.active.is_not(None)
        )
    ):
        if visited is None or visited_on < add_months(formed[visited], 12):
            continue
        if visited not in latest or (visited_on, visit_id) > latest[visited][:2]:
            latest[visited] = (visited_on, visit_id, bool(active))
    alive = {e for e, (_, _, active) in latest.items() if active}
    return members, alive, due


def _ordered(level: OutcomeGroup, groups: dict[Any, Any]) -> list[Any]:
    keys = list(groups)
    if level == "sex":
        return [s for s in SEXES if s in groups]
    if level == "age_band":
        return [code for code, _, _ in AGE_BANDS if code in groups]
    if level == "module":
        order = [m.code for m in configured_modules().modules if m.code in groups]
        return order + ([None] if None in groups else [])
    return sorted(keys, key=lambda k: (k is None, k or ""))


def _group_fields(level: OutcomeGroup, key: Any) -> dict[str, Any]:
    if level == "programme":
        return {}
    if level == "module":
        module = configured_modules().get(key or "")
        return {"module": key, "module_label": module.label if module else None}
    return {level: key}
