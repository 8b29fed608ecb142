"""The baseline and outcome survey of a participant: its waves, its answers' codes and the rules
an answer must keep.

A participant of a case answers a short survey at **entry**, at the **end of the ECC**
(``ecc_end``) and **6** and **12 months** after it (``month_6``, ``month_12``): work status,
monthly income band, sex, birth year and household size. Nothing else is asked, and the purpose
is stated wherever the answers are entered (:data:`PURPOSE`; LGPD, Lei 13.709/2018, art. 6 III:
the data limited to the minimum the purpose needs). The answers are read out only in aggregate,
small groups suppressed (:mod:`states.outcomes`).

The waves after entry are dated from the end of the latest held ECC serving the case: the
``ecc_end`` survey is answered on or after its last day, the ``month_N`` one no earlier than
:data:`WAVE_EARLY_DAYS` days before that day plus N months (date to date).

A birth year is refused when it lies in the future, or makes the person younger than
:data:`MIN_AGE` (Constituição Federal art. 7 XXXIII: no work under 16, apprentices from 14) or
older than :data:`MAX_AGE` on the day of the answer.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from states.deadlines import add_months
from states.text import M_, N_, Text

if TYPE_CHECKING:
    from states.records import Survey

#: the waves, in order, and the months after the ECC's end each is due (None: not dated by it)
WAVES: dict[str, int | None] = {"entry": None, "ecc_end": 0, "month_6": 6, "month_12": 12}
WAVE_ORDER = {wave: i for i, wave in enumerate(WAVES)}
#: the waves an outcome compares with the entry survey
FOLLOW_UP_WAVES = ("ecc_end", "month_6", "month_12")
#: work status -> whether it is an occupation (the outcome "occupations created" counts these)
WORK_STATUSES: dict[str, bool] = {
    "unemployed": False,  # looking for work
    "not_seeking": False,  # out of the labour force
    "informal": True,  # paid work without a contract
    "employee": True,  # with a contract (CLT) or a public post
    "self_employed": True,  # on their own account
    "enterprise": True,  # working in a productive enterprise of the programme
}
#: monthly income bands in minimum wages (salários mínimos), lowest first
INCOME_BANDS = ("none", "up_to_half", "half_to_1", "1_to_2", "2_to_3", "over_3")
SEXES = ("female", "male", "not_stated")
#: age bands: code, first age, last age (None: no upper bound)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under_18", 0, 17),
    ("18_29", 18, 29),
    ("30_44", 30, 44),
    ("45_59", 45, 59),
    ("60_plus", 60, None),
)
MIN_AGE = 14
MAX_AGE = 110
HOUSEHOLD_MAX = 30
#: the smallest group of people an outcome figure is shown for (smaller groups are suppressed)
MIN_GROUP = 5
#: how many days before its date a month_N survey may be answered
WAVE_EARLY_DAYS = 30

#: what the survey is for, shown wherever answers are entered and in the data-subject statement
PURPOSE = N_(
    "Purpose (LGPD, Lei 13.709/2018, art. 6 III): these answers are collected only to evaluate the results of PRODUZIR (occupations created, income change, enterprises alive 12 months on). Only work status, income band, sex, birth year and household size are asked; they are published only in aggregate, and groups of fewer than %(min_group)s people are never shown.",
    min_group=MIN_GROUP,
)

#: labels (msgids) of the codes, for forms and tables
LABELS: dict[str, str] = {
    "entry": M_("entry"),
    "ecc_end": M_("end of the ECC"),
    "month_6": M_("6 months after"),
    "month_12": M_("12 months after"),
    "unemployed": M_("unemployed, looking for work"),
    "not_seeking": M_("not working, not looking"),
    "informal": M_("paid work without a contract"),
    "employee": M_("employee (contract or public post)"),
    "self_employed": M_("self-employed"),
    "enterprise": M_("works in a programme enterprise"),
    "none": M_("no income"),
    "up_to_half": M_("up to ½ minimum wage"),
    "half_to_1": M_("½ to 1 minimum wage"),
    "1_to_2": M_("1 to 2 minimum wages"),
    "2_to_3": M_("2 to 3 minimum wages"),
    "over_3": M_("over 3 minimum wages"),
    "female": M_("female"),
    "male": M_("male"),
    "not_stated": M_("not stated"),
    "under_18": M_("under 18"),
    "18_29": M_("18 to 29"),
    "30_44": M_("30 to 44"),
    "45_59": M_("45 to 59"),
    "60_plus": M_("60 or more"),
}


def age_band(birth_year: int, on: date) -> str:
    """The age band of someone born in ``birth_year`` on the day ``on`` (age counted in years of
    birth: the survey asks the year only)."""
    age = on.year - birth_year
    for code, first, last in AGE_BANDS:
        if age >= first and (last is None or age <= last):
            return code
    return AGE_BANDS[0][0]


def birth_year_problem(birth_year: int, on: date) -> Text | None:
    """Why ``birth_year`` cannot be right for an answer given on ``on``; None if it can."""
    if birth_year > on.year:
        return N_(
            "birth year %(birth_year)s is in the future (the survey was answered in %(year)s)",
            birth_year=birth_year,
            year=on.year,
        )
    age = on.year - birth_year
    if age < MIN_AGE or age > MAX_AGE:
        return N_(
            "birth year %(birth_year)s: the person would be %(age)s years old; participants are %(min)s to %(max)s",
            birth_year=birth_year,
            age=age,
            min=MIN_AGE,
            max=MAX_AGE,
        )
    return None


def wave_opens_on(wave: str, ecc_end: date) -> date:
    """The first day a survey of ``wave`` (after entry) may be answered, the ECC having ended on
    ``ecc_end``."""
    months = WAVES[wave]
    assert months is not None, wave
    if months == 0:
        return ecc_end
    return date.fromordinal(add_months(ecc_end, months).toordinal() - WAVE_EARLY_DAYS)


def survey_row(survey: Survey) -> dict[str, Any]:
    """A survey as the lists and the data-subject statement show it (JSON-ready)."""
    return {
        "survey_id": survey.id,
        "case_id": survey.case_id,
        "person_id": survey.person_id,
        "wave": survey.wave,
        "answered_on": survey.answered_on.isoformat(),
        "work_status": survey.work_status,
        "income_band": survey.income_band,
        "sex": survey.sex,
        "birth_year": survey.birth_year,
        "household_size": survey.household_size,
        "recorded_by": survey.recorded_by,
        "corrected_by": survey.corrected_by,
    }
