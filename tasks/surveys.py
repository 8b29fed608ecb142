"""The participants' baseline and outcome surveys (:mod:`states.surveys`): recorded one at a
time, corrected explicitly, imported from a spreadsheet all or nothing, listed for the case's
coordinators (each read logged, LGPD), and shown to the data subject in their statement.

- :func:`record_survey`: one participant's answers to one wave, in one case. The person must
  be a participant of the case; a second survey of the same wave is refused unless it is an
  explicit correction (``correct=True``), which replaces the answers and records who corrected
  them and when.
- :func:`import_surveys`: a CSV (UTF-8, or Windows-1252 as Excel saves it, detected with
  charset-normalizer; ``,`` or ``;``) or an ``.xlsx`` workbook (its first sheet, read with
  openpyxl). Every row is checked first; one bad row and nothing is written, every bad row
  named ``line N: reason`` (the header is line 1), as ``produzir person import`` does.
- :func:`list_surveys`: a case's surveys by person number (no name, no CPF), one access row per
  person shown (who, when, why).

The audit history records that a survey was recorded or corrected (person number, wave), never
the answers.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from charset_normalizer import from_bytes
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from states import audit
from states.bounds import IMPORT_MAX_BYTES
from states.deadlines import add_months
from states.errors import InvalidInput, NotFound
from states.records import (
    CaseParticipant,
    EventCase,
    Obligation,
    Person,
    Survey,
    TrainingEvent,
)
from states.surveys import (
    HOUSEHOLD_MAX,
    INCOME_BANDS,
    SEXES,
    WAVE_ORDER,
    WAVES,
    WORK_STATUSES,
    birth_year_problem,
    survey_row,
    wave_opens_on,
)
from states.text import N_, Np_, Text, as_text, join
from tasks import obligations, people
from tasks.demands import check_actor
from tasks.records_common import audit_record, get_case
from tasks.runtime import Runtime

#: the answers, in the order forms and files list them
FIELDS = (
    "wave",
    "answered_on",
    "work_status",
    "income_band",
    "sex",
    "birth_year",
    "household_size",
)
_CODES: dict[str, Sequence[str]] = {
    "wave": tuple(WAVES),
    "work_status": tuple(WORK_STATUSES),
    "income_band": INCOME_BANDS,
    "sex": SEXES,
}
_BR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass(frozen=True)
class Answers:
    """One survey's answers, each checked on its own."""

    wave: str
    answered_on: date
    work_status: str
    income_band: str
    sex: str
    birth_year: int
    household_size: int

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(frozen=True)
class Recorded:
    survey_id: int
    person_id: int
    wave: str
    corrected: bool


def _date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _BR_DATE.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip()
    if text.endswith(".0"):  # a number a spreadsheet wrote as 1980.0
        text = text[:-2]
    return int(text) if text.isdigit() and len(text) <= 6 else None


def check_answers(
    raw: Mapping[str, object], today: date
) -> tuple[Answers | None, list[tuple[str, Text]]]:
    """The answers of ``raw`` (field -> a value or its text), or why not: (field, reason) for
    every wrong field."""
    problems: list[tuple[str, Text]] = []

    def given(name: str) -> object | None:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems.append((name, N_("%(field)s: missing", field=name)))
            return None
        return value

    codes: dict[str, str] = {}
    for name, allowed in _CODES.items():
        value = given(name)
        if value is None:
            continue
        code = str(value).strip().lower()
        if code not in allowed:
            problems.append(
                (
                    name,
                    N_(
                        "%(field)s: unknown %(value)s; use one of: %(allowed)s",
                        field=name,
                        value=repr(str(value).strip()),
                        allowed=", ".join(allowed),
                    ),
                )
            )
        else:
            codes[name] = code
    answered_on: date | None = None
    value = given("answered_on")
    if value is not None:
        answered_on = _date(value)
        if answered_on is None:
            problems.append(
                (
                    "answered_on",
                    N_(
                        "answered_on: %(value)s is not a date (YYYY-MM-DD or DD/MM/YYYY)",
                        value=repr(str(value)),
                    ),
                )
            )
        elif answered_on > today:
            problems.append(
                (
                    "answered_on",
                    N_(
                        "answered_on: %(day)s is in the future (today is %(today)s)",
                        day=answered_on,
                        today=today,
                    ),
                )
            )
            answered_on = None
    birth_year: int | None = None
    value = given("birth_year")
    if value is not None:
        birth_year = _integer(value)
        if birth_year is None:
            problems.append(
                (
                    "birth_year",
                    N_("birth_year: %(value)s is not a year", value=repr(str(value))),
                )
            )
        elif (problem := birth_year_problem(birth_year, answered_on or today)) is not None:
            problems.append(("birth_year", problem))
            birth_year = None
    household: int | None = None
    value = given("household_size")
    if value is not None:
        household = _integer(value)
        if household is None or not 1 <= household <= HOUSEHOLD_MAX:
            problems.append(
                (
                    "household_size",
                    N_(
                        "household_size: %(value)s is not a number of people from 1 to %(max)s",
                        value=repr(str(value)),
                        max=HOUSEHOLD_MAX,
                    ),
                )
            )
            household = None
    if problems or answered_on is None or birth_year is None or household is None:
        return None, problems
    return (
        Answers(
            wave=codes["wave"],
            answered_on=answered_on,
            work_status=codes["work_status"],
            income_band=codes["income_band"],
            sex=codes["sex"],
            birth_year=birth_year,
            household_size=household,
        ),
        [],
    )


def ecc_end_of(session: Session, case_id: int) -> date | None:
    """The last day of the latest held ECC serving the case; None before one is held."""
    found: date | None = session.execute(
        select(func.max(TrainingEvent.end_on))
        .join(EventCase, EventCase.event_id == TrainingEvent.id)
        .where(
            EventCase.case_id == case_id,
            TrainingEvent.kind == "ecc",
            TrainingEvent.held_on.is_not(None),
        )
    ).scalar_one_or_none()
    return found


def wave_problem(case_id: int, answers: Answers, ecc_end: date | None) -> Text | None:
    """Why the answers' date does not fit their wave in this case; None if it does."""
    if answers.wave == "entry":
        if ecc_end is not None and answers.answered_on > ecc_end:
            return N_(
                "answered_on: an entry survey is answered before the ECC ends (case %(case_id)s's ECC ended on %(ecc_end)s)",
                case_id=case_id,
                ecc_end=ecc_end,
            )
        return None
    if ecc_end is None:
        return N_(
            "wave %(wave)s: case %(case_id)s has no held ECC yet; the waves after entry are dated from its end",
            wave=answers.wave,
            case_id=case_id,
        )
    opens = wave_opens_on(answers.wave, ecc_end)
    if answers.answered_on < opens:
        return N_(
            "answered_on: a %(wave)s survey is answered from %(opens)s on (case %(case_id)s's ECC ended on %(ecc_end)s)",
            wave=answers.wave,
            opens=opens,
            case_id=case_id,
            ecc_end=ecc_end,
        )
    return None


#: the waves a dated obligation keeps: wave -> months after the ECC's end
DUTY_WAVES = {"month_6": 6, "month_12": 12}
DUTY_RECORD = "survey_wave"


def keep_wave_duties(
    session: Session, rt: Runtime, case_id: int, ecc_end: date | None, *, today: date, by: str
) -> None:
    """The dated obligations of the case's 6- and 12-month surveys, inside the caller's
    transaction: opened once the case has surveys and a held ECC (due that many months after
    its end, on a working day), satisfied once everyone who answered at entry answered that
    wave. The obligation's record is ``survey_wave`` with the number of months."""
    if ecc_end is None:
        return
    answered: dict[str, set[int]] = {}
    for person_id, wave in session.execute(
        select(Survey.person_id, Survey.wave).where(Survey.case_id == case_id)
    ):
        answered.setdefault(wave, set()).add(person_id)
    entry = answered.get("entry", set())
    for wave, months in DUTY_WAVES.items():
        known = session.execute(
            select(Obligation.id).where(
                Obligation.case_id == case_id,
                Obligation.kind == obligations.SURVEY_WAVE,
                Obligation.record_type == DUTY_RECORD,
                Obligation.record_id == months,
            )
        ).first()
        if known is None:
            obligations.open_obligation(
                session,
                rt,
                case_id=case_id,
                kind=obligations.SURVEY_WAVE,
                due_on=add_months(ecc_end, months),
                params={"wave": wave, "months": months},
                record_type=DUTY_RECORD,
                record_id=months,
            )
        if entry and entry <= answered.get(wave, set()):
            obligations.satisfy(
                session,
                case_id=case_id,
                kind=obligations.SURVEY_WAVE,
                on=today,
                by=by,
                record_type=DUTY_RECORD,
                record_id=months,
            )


def _existing(session: Session, case_id: int) -> dict[tuple[int, str], Survey]:
    return {
        (s.person_id, s.wave): s
        for s in session.execute(select(Survey).where(Survey.case_id == case_id)).scalars()
    }


def _already(person_id: int, answers: Answers, case_id: int, survey_id: int) -> Text:
    return N_(
        "person %(person_id)s already answered the %(wave)s survey of case %(case_id)s (survey %(survey_id)s); a change is an explicit correction (--correct)",
        person_id=person_id,
        wave=answers.wave,
        case_id=case_id,
        survey_id=survey_id,
    )


def _not_in_case(person_id: int, case_id: int) -> Text:
    return N_(
        "person %(person_id)s is not a participant of case %(case_id)s",
        person_id=person_id,
        case_id=case_id,
    )


def _no_survey(person_id: int, answers: Answers, case_id: int) -> Text:
    return N_(
        "person %(person_id)s has no %(wave)s survey in case %(case_id)s to correct",
        person_id=person_id,
        wave=answers.wave,
        case_id=case_id,
    )


def record_survey(
    rt: Runtime,
    case_id: int,
    person: int | str,
    raw: Mapping[str, object],
    *,
    actor: str,
    correct: bool = False,
) -> Recorded:
    """Record one participant's survey of one wave in a case (``person``: their number or
    CPF); with ``correct``, replace the answers of the survey of that wave they already have.
    InvalidInput naming the field otherwise; nothing is written."""
    check_actor(actor)
    answers, problems = check_answers(raw, rt.today())
    if answers is None:
        field, reason = problems[0]
        raise InvalidInput(reason, field=field)
    with rt.db.write() as session:
        case = get_case(session, case_id)
        found = people._find_person(session, person)
        if session.get(CaseParticipant, (case_id, found.id)) is None:
            raise InvalidInput(_not_in_case(found.id, case_id), field="person")
        problem = wave_problem(case_id, answers, ecc_end_of(session, case_id))
        if problem is not None:
            raise InvalidInput(problem, field="answered_on")
        existing = _existing(session, case_id).get((found.id, answers.wave))
        now = rt.clock.now()
        if existing is not None and not correct:
            raise InvalidInput(_already(found.id, answers, case_id, existing.id), field="wave")
        if existing is None and correct:
            raise InvalidInput(_no_survey(found.id, answers, case_id), field="wave")
        if existing is not None:
            for name, value in answers.values().items():
                setattr(existing, name, value)
            existing.corrected_at = now
            existing.corrected_by = actor
            row = existing
        else:
            row = Survey(
                case_id=case_id,
                person_id=found.id,
                **answers.values(),
                recorded_at=now,
                recorded_by=actor,
            )
            session.add(row)
        session.flush()
        audit_record(
            session,
            rt,
            event="pesquisa_corrigida" if correct else "pesquisa_registrada",
            actor=actor,
            record_type="person",
            record_id=found.id,
            case=case,
            evidence={"person_id": found.id, "survey_id": row.id, "wave": answers.wave},
        )
        keep_wave_duties(
            session,
            rt,
            case_id,
            ecc_end_of(session, case_id),
            today=rt.today(),
            by=f"survey:{row.id}",
        )
        return Recorded(row.id, found.id, answers.wave, correct)


# ----------------------------------------------------------------------- spreadsheets

WHAT = N_("surveys file")
#: header names accepted for each column (compared without case or accents)
_HEADER_ALIASES = {
    "cpf": "cpf",
    "person": "person_id",
    "person_id": "person_id",
    "pessoa": "person_id",
    "wave": "wave",
    "onda": "wave",
    "answered_on": "answered_on",
    "data": "answered_on",
    "data_da_resposta": "answered_on",
    "work_status": "work_status",
    "situacao_de_trabalho": "work_status",
    "trabalho": "work_status",
    "income_band": "income_band",
    "faixa_de_renda": "income_band",
    "renda": "income_band",
    "sex": "sex",
    "sexo": "sex",
    "birth_year": "birth_year",
    "ano_de_nascimento": "birth_year",
    "household_size": "household_size",
    "pessoas_no_domicilio": "household_size",
    "moradores": "household_size",
}


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_records(data: bytes) -> list[tuple[int, list[str]]]:
    # Excel's extensions openpyxl does not read (data validation, conditional formats) only
    # warn: the cells are read all the same
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return list(_xlsx_rows(data))


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise InvalidInput(
            N_("%(what)s: not a readable .xlsx workbook", what=WHAT), field="file"
        ) from None
    try:
        sheet = book.worksheets[0]
        records = 0
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = [_xlsx_cell(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if not any(c.strip() for c in cells):
                continue
            records += 1
            people.check_record_bounds(WHAT, records, number, cells)
            yield number, cells
    finally:
        book.close()


def decode_text(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 (with or without a byte-order mark), else
    Windows-1252 when charset-normalizer finds it is (what Excel saves as "CSV")."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp1252"]).best()
    if best is not None:
        return str(best)
    return people.decode_csv(data, WHAT)  # raises, naming the first line that is not text


def read_records(data: bytes) -> list[tuple[int, list[str]]]:
    """(line, cells) of each non-blank row of an .xlsx workbook (its first sheet) or a CSV."""
    if len(data) > IMPORT_MAX_BYTES:
        raise InvalidInput(
            N_(
                "%(what)s: %(size)s bytes; at most %(limit)s",
                what=WHAT,
                size=len(data),
                limit=IMPORT_MAX_BYTES,
            ),
            field="file",
        )
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_records(data)
    return list(people.csv_records(decode_text(data), WHAT))


def _header(cells: list[str]) -> list[str | None]:
    columns: list[str | None] = []
    problems: list[Text] = []
    for cell in cells:
        key = _HEADER_ALIASES.get(people._header_key(cell))
        if key is None:
            problems.append(N_("unknown column %(column)s", column=repr(cell.strip())))
        elif key in columns:
            problems.append(N_("column %(column)s appears twice", column=repr(cell.strip())))
        columns.append(key)
    if "cpf" not in columns and "person_id" not in columns:
        problems.append(N_("missing column cpf (or person_id)"))
    missing = [c for c in FIELDS if c not in columns]
    if missing:
        problems.append(
            Np_(
                "missing column %(columns)s",
                "missing columns %(columns)s",
                len(missing),
                columns=", ".join(missing),
            )
        )
    if problems:
        expected = "cpf," + ",".join(FIELDS)
        reason = N_(
            "%(problems)s (expected %(expected)s)", problems=join(problems, "; "), expected=expected
        )
        raise people.ImportRejected(WHAT, [(1, reason)])
    return columns


@dataclass
class SurveyImport:
    """What an import did."""

    case_id: int
    recorded: int = 0
    corrected: int = 0


@dataclass(frozen=True)
class _Row:
    line: int
    person: str  # "cpf:..." or "id:..."
    answers: Answers


def import_surveys(
    rt: Runtime, data: bytes, *, case_id: int, actor: str, correct: bool = False
) -> SurveyImport:
    """Import a surveys spreadsheet into the case: all rows or none.

    Header ``cpf`` (or ``person_id``) and ``wave,answered_on,work_status,income_band,sex,
    birth_year,household_size`` in any order (Portuguese names accepted: onda, data, situação de
    trabalho, faixa de renda, sexo, ano de nascimento, pessoas no domicílio). A row for a person
    who is not a participant of the case, a bad code or date, a second survey of a wave the
    person already answered (unless ``correct``: then it replaces it), two rows of one person and
    wave: nothing is written and :class:`tasks.people.ImportRejected` lists every bad row."""
    check_actor(actor)
    records = iter(read_records(data))
    first = next(records, None)
    if first is None:
        raise InvalidInput(N_("surveys file: empty (no header line)"), field="file")
    columns = _header(first[1])
    today = rt.today()
    problems: dict[int, list[Text]] = defaultdict(list)
    rows: list[_Row] = []
    for line, cells in records:
        if len(cells) > len(columns) and not any(c.strip() for c in cells[len(columns) :]):
            cells = cells[: len(columns)]
        if len(cells) != len(columns):
            problems[line].append(
                Np_(
                    "%(n)s field, the header has %(columns)s",
                    "%(n)s fields, the header has %(columns)s",
                    len(cells),
                    columns=len(columns),
                )
            )
            continue
        values = {c: v.strip() for c, v in zip(columns, cells, strict=True) if c}
        person = ""
        if values.get("cpf"):
            try:
                person = "cpf:" + people._import_cpf(values["cpf"])
            except ValueError:
                problems[line].append(N_("invalid CPF %(value)s", value=repr(values["cpf"])))
        elif values.get("person_id", "").isdigit():
            person = "id:" + str(int(values["person_id"]))
        else:
            problems[line].append(N_("missing cpf (or person_id)"))
        answers, reasons = check_answers(values, today)
        problems[line].extend(as_text(reason) for _, reason in reasons)
        if answers is not None and person:
            rows.append(_Row(line, person, answers))
    if not rows and not problems:
        raise InvalidInput(N_("surveys file: no survey rows after the header"), field="file")
    report = SurveyImport(case_id)
    now = rt.clock.now()
    try:
        with rt.db.write() as session:
            case = get_case(session, case_id)
            ids = _person_ids(session, rows)
            members = set(
                session.execute(
                    select(CaseParticipant.person_id).where(CaseParticipant.case_id == case_id)
                ).scalars()
            )
            existing = _existing(session, case_id)
            ecc_end = ecc_end_of(session, case_id)
            seen: dict[tuple[int, str], int] = {}
            good: list[tuple[_Row, int, Survey | None]] = []
            for r in rows:
                person_id = ids.get(r.person)
                if person_id is None:
                    kind, _, key = r.person.partition(":")
                    problems[r.line].append(
                        N_("no person with CPF %(cpf)s", cpf=key)
                        if kind == "cpf"
                        else N_("no person %(person_id)s", person_id=key)
                    )
                    continue
                why: list[Text] = []
                if person_id not in members:
                    why.append(as_text(_not_in_case(person_id, case_id)))
                if (problem := wave_problem(case_id, r.answers, ecc_end)) is not None:
                    why.append(as_text(problem))
                key2 = (person_id, r.answers.wave)
                if key2 in seen:
                    why.append(
                        N_(
                            "person %(person_id)s and wave %(wave)s again (line %(line)s)",
                            person_id=person_id,
                            wave=r.answers.wave,
                            line=seen[key2],
                        )
                    )
                seen.setdefault(key2, r.line)
                before = existing.get(key2)
                if before is not None and not correct:
                    why.append(as_text(_already(person_id, r.answers, case_id, before.id)))
                if why:
                    problems[r.line].extend(why)
                else:
                    good.append((r, person_id, before))
            bad = [(n, join(why, "; ")) for n, why in problems.items() if why]
            if bad:
                raise people.ImportRejected(WHAT, bad)
            new = [(r, pid) for r, pid, before in good if before is None]
            survey_ids: list[int] = []
            if new:
                inserted = session.execute(
                    insert(Survey).returning(Survey.id, sort_by_parameter_order=True),
                    [
                        {
                            "case_id": case_id,
                            "person_id": pid,
                            **r.answers.values(),
                            "recorded_at": now,
                            "recorded_by": actor,
                        }
                        for r, pid in new
                    ],
                )
                survey_ids = [int(i) for (i,) in inserted]
            new_ids = iter(survey_ids)
            common = {
                "actor": actor,
                "record_type": "person",
                "occurred_at": now,
                "case_id": case.id,
                "case_version": case.version,
                "lifecycle_version": case.lifecycle_version,
                "from_state": case.state,
                "to_state": case.state,
            }
            entries: list[dict[str, Any]] = []
            for r, pid, before in good:
                if before is None:
                    survey_id = next(new_ids)
                    report.recorded += 1
                else:
                    for name, value in r.answers.values().items():
                        setattr(before, name, value)
                    before.corrected_at = now
                    before.corrected_by = actor
                    survey_id = before.id
                    report.corrected += 1
                entries.append(
                    {
                        **common,
                        "event": "pesquisa_registrada" if before is None else "pesquisa_corrigida",
                        "record_id": pid,
                        "evidence": {
                            "person_id": pid,
                            "survey_id": survey_id,
                            "wave": r.answers.wave,
                        },
                    }
                )
            session.flush()
            audit.append_many(session, entries)
            if entries:
                last = entries[-1]["evidence"]["survey_id"]
                keep_wave_duties(session, rt, case_id, ecc_end, today=today, by=f"survey:{last}")
    except IntegrityError:  # a survey of the same person and wave recorded meanwhile
        raise InvalidInput(
            N_(
                "surveys file: some of its surveys were recorded by someone else meanwhile; nothing was written, import it again"
            ),
            field="file",
        ) from None
    return report


def _person_ids(session: Session, rows: Sequence[_Row]) -> dict[str, int]:
    cpfs = sorted({r.person[4:] for r in rows if r.person.startswith("cpf:")})
    numbers = sorted({int(r.person[3:]) for r in rows if r.person.startswith("id:")})
    found: dict[str, int] = {}
    for i in range(0, len(cpfs), 500):
        for pid, cpf in session.execute(
            select(Person.id, Person.cpf).where(Person.cpf.in_(cpfs[i : i + 500]))
        ):
            found["cpf:" + cpf] = pid
    for i in range(0, len(numbers), 500):
        for (pid,) in session.execute(select(Person.id).where(Person.id.in_(numbers[i : i + 500]))):
            found[f"id:{pid}"] = pid
    return found


# ----------------------------------------------------------------------- reading (logged)


def list_surveys(
    rt: Runtime, case_id: int, *, actor: str, purpose: str, channel: str = "cli"
) -> list[dict[str, Any]]:
    """The case's surveys by person number and wave; one access row per person shown (who,
    when, why, through which channel), in the same transaction."""
    check_actor(actor)
    purpose = people._check_purpose(purpose)
    channel = people._check_channel(channel)
    with rt.db.write() as session:
        get_case(session, case_id)
        surveys = sorted(
            session.execute(select(Survey).where(Survey.case_id == case_id)).scalars(),
            key=lambda s: (s.person_id, WAVE_ORDER.get(s.wave, 9)),
        )
        persons = sorted({s.person_id for s in surveys})
        for pid in persons:
            person = session.get(Person, pid)
            if person is None:  # pragma: no cover - a foreign key keeps it
                raise NotFound("person", pid)
            people._log_access(session, rt, person, actor=actor, purpose=purpose, channel=channel)
        return [survey_row(s) for s in surveys]
