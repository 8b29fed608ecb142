"""People (participants): registration with a validated, unique CPF, pre-registration in cases,
and what the LGPD (Lei 13.709/2018) asks of the personal data they hold.

Only what the programme needs is kept: name, CPF, a contact, community and municipality. A person
may take part in several cases.

Personal data, in this module only:

- :func:`read_person` returns a person's data and writes a ``data_access`` row (who, when, which
  person id, purpose, channel) in the same transaction; the row never copies the data, and a
  purpose that quotes the person's name, CPF, phone or e-mail is refused.
- :func:`data_subject_report` is the full statement a data subject may ask for: the person
  record, their cases, enrolments, enterprise memberships, their survey answers
  (:mod:`tasks.surveys`, with the survey's purpose), the audit events about their record
  and who read their data. It logs its own access.
- :func:`export_participants` gives partners rows where CPF and name are replaced by a keyed
  pseudonym: HMAC-SHA256(key, CPF as 11 digits), the first 32 hex characters (128 bits). The key
  (``PRODUZIR_PSEUDONYM_KEY``) is never stored in the database, so the same person gets the same
  pseudonym in every export under that key and an unrelated one under another. An export reads
  no names or CPFs out to anyone, so it writes no access rows; one audit event records it.
- :func:`import_participants` loads a coordinator's spreadsheet (CSV) all or nothing: every row is
  validated first, and one bad row means nothing is written and every bad row is named by its
  line number.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import Field, ValidationError, field_validator
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from validate_docbr import CPF

from states import audit, store
from states.audit import iso_utc
from states.bounds import CELL_MAX, IMPORT_MAX_BYTES, IMPORT_MAX_ROWS, Bounded
from states.deadlines import local_date
from states.errors import InvalidInput, NotAllowed, NotFound
from states.guards import share_of
from states.models import AuditEvent, Case, Municipality
from states.records import (
    Attendance,
    CaseParticipant,
    DataAccess,
    Enrolment,
    Enterprise,
    EnterpriseMember,
    EventCase,
    PartnerExport,
    PartnerExportPerson,
    Person,
    Survey,
    TrainingEvent,
    session_days,
)
from states.settings import BadSetting, load
from states.states import CLOSED
from states.surveys import PURPOSE as SURVEY_PURPOSE
from states.surveys import WAVE_ORDER, survey_row
from states.text import M_, N_, Np_, Text, join
from tasks import lgpd
from tasks.demands import check_actor
from tasks.records_common import audit_record, get_case, parse_input
from tasks.runtime import Runtime
from tasks.settings import PSEUDONYM_KEY_VARIABLE, TasksSettings, check_pseudonym_key

_CPF = CPF()
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CPF_PUNCTUATION = re.compile(r"[.\-\s]")


def normalise_cpf(value: str) -> str:
    """A valid CPF as 11 digits; ValueError naming it otherwise."""
    bare = _CPF_PUNCTUATION.sub("", value)
    if not (bare.isdigit() and len(bare) == 11 and _CPF.validate(bare)):
        raise ValueError(f"{value!r} is not a valid CPF")
    return bare


class PersonInput(Bounded):
    """A participant, as a coordinator registers them."""

    cpf: str
    name: str = Field(min_length=2, max_length=200)
    community: str = Field(min_length=1, max_length=200)
    municipality_code: int
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)

    @field_validator("cpf")
    @classmethod
    def _cpf(cls, value: str) -> str:
        return normalise_cpf(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        digits = re.sub(r"[\s()+\-.]", "", value)
        if not digits.isdigit() or not 10 <= len(digits) <= 13:
            raise ValueError(f"{value!r} is not a phone number (10 to 13 digits)")
        return digits

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address")
        return value.lower()


@dataclass(frozen=True)
class RegisteredPerson:
    person_id: int
    cpf: str


def find_by_cpf(session: Session, cpf: str) -> Person | None:
    return session.execute(select(Person).where(Person.cpf == cpf)).scalar_one_or_none()


def add_person(session: Session, rt: Runtime, person: PersonInput, *, actor: str) -> Person:
    """Register a person inside the caller's transaction (used by imports too)."""
    existing = find_by_cpf(session, person.cpf)
    if existing is not None:
        raise InvalidInput(
            N_(
                "CPF %(cpf)s is already registered as person %(id)s", cpf=person.cpf, id=existing.id
            ),
            field="cpf",
        )
    if store.get_municipality(session, person.municipality_code) is None:
        raise InvalidInput(
            N_(
                "municipality %(municipality_code)s is not in IBGE's list of municipalities",
                municipality_code=person.municipality_code,
            ),
            field="municipality_code",
        )
    row = Person(
        **person.model_dump(),
        created_at=rt.clock.now(),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit_record(
        session,
        rt,
        event="pessoa_registrada",
        actor=actor,
        record_type="person",
        record_id=row.id,
        case=None,
        evidence={"person_id": row.id, "municipality_code": row.municipality_code},
    )
    return row


def register_person(
    rt: Runtime,
    raw: PersonInput | dict[str, object],
    *,
    actor: str,
    case_id: int | None = None,
) -> RegisteredPerson:
    """Register a participant, and pre-register them in ``case_id`` in the same transaction if
    given; a CPF already registered is refused naming the existing person."""
    check_actor(actor)
    person = parse_input(PersonInput, raw, "person")
    with rt.db.write() as session:
        row = add_person(session, rt, person, actor=actor)
        if case_id is not None:
            preregister_in(session, rt, case_id, row.id, actor=actor)
        return RegisteredPerson(row.id, row.cpf)


def _open_case(session: Session, case_id: int) -> Case:
    case = get_case(session, case_id)
    if case.state in {s.value for s in CLOSED}:
        raise NotAllowed(
            N_(
                "case %(case_id)s is %(state)s: no one can be pre-registered in it",
                case_id=case_id,
                state=case.state,
            )
        )
    return case


def preregister_in(
    session: Session, rt: Runtime, case_id: int, person_id: int, *, actor: str
) -> CaseParticipant:
    """Pre-register a person in a case inside the caller's transaction."""
    case = _open_case(session, case_id)
    if session.get(Person, person_id) is None:
        raise NotFound("person", person_id)
    if session.get(CaseParticipant, (case_id, person_id)) is not None:
        raise InvalidInput(
            N_(
                "person %(person_id)s is already pre-registered in case %(case_id)s",
                person_id=person_id,
                case_id=case_id,
            ),
            field="person_id",
        )
    municipality = store.get_municipality(session, case.municipality_code)
    assert municipality is not None
    row = CaseParticipant(
        case_id=case_id,
        person_id=person_id,
        registered_on=local_date(rt.clock.now(), municipality.timezone),
        registered_by=actor,
    )
    session.add(row)
    session.flush()
    audit_record(
        session,
        rt,
        event="participante_pre_inscrito",
        actor=actor,
        record_type="person",
        record_id=person_id,
        case=case,
        evidence={"person_id": person_id},
    )
    return row


def preregister(rt: Runtime, case_id: int, person_id: int, *, actor: str) -> date:
    """Pre-register a person in a case (mobilisation); the date it was recorded."""
    check_actor(actor)
    with rt.db.write() as session:
        return preregister_in(session, rt, case_id, person_id, actor=actor).registered_on


# ----------------------------------------------------------------------- reading (LGPD log)

MIN_PURPOSE_LENGTH = 5
_CHANNEL = re.compile(r"^[a-z][a-z0-9_-]{1,19}$")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _fold(text: str) -> str:
    """Lower case, without accents, single spaces: for comparing names."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def _check_purpose(purpose: str) -> str:
    text = " ".join(purpose.split())
    if len(text) < MIN_PURPOSE_LENGTH:
        raise InvalidInput(
            N_(
                "purpose: say why the person's data is read (at least %(MIN_PURPOSE_LENGTH)s characters, e.g. 'confirm ECC enrolment')",
                MIN_PURPOSE_LENGTH=MIN_PURPOSE_LENGTH,
            ),
            field="purpose",
        )
    if len(text) > 200:
        raise InvalidInput(
            N_("purpose: at most 200 characters (%(value)s given)", value=len(text)),
            field="purpose",
        )
    return text


def _check_channel(channel: str) -> str:
    if not _CHANNEL.match(channel):
        raise InvalidInput(
            N_("channel: %(channel)s is not a channel name (e.g. cli, web)", channel=repr(channel)),
            field="channel",
        )
    return channel


def _quotes_person(text: str, person: Person) -> bool:
    """Whether ``text`` contains the person's name, CPF, phone or e-mail."""
    compact = _CPF_PUNCTUATION.sub("", text)
    compact = re.sub(r"[()+]", "", compact)
    if person.cpf in compact or (person.phone and person.phone in compact):
        return True
    if person.email and person.email.lower() in text.lower():
        return True
    if not person.name:  # anonymised: nothing left to quote
        return False
    return re.search(rf"\b{re.escape(_fold(person.name))}\b", _fold(text)) is not None


def _find_person(session: Session, person_id_or_cpf: int | str) -> Person:
    """A person by record number (an int, or up to 10 digits) or by CPF (11 digits, punctuated
    or not)."""
    if isinstance(person_id_or_cpf, int):
        person = session.get(Person, person_id_or_cpf)
        if person is None:
            raise NotFound("person", person_id_or_cpf)
        return person
    text = person_id_or_cpf.strip()
    if text.isdigit() and len(text) < 11:
        return _find_person(session, int(text))
    try:
        cpf = normalise_cpf(text)
    except ValueError:
        raise InvalidInput(
            N_("%(text)s is neither a person number nor a valid CPF", text=repr(text)),
            field="person",
        ) from None
    person = find_by_cpf(session, cpf)
    if person is None:
        raise NotFound("person with CPF", cpf)
    return person


def _log_access(
    session: Session, rt: Runtime, person: Person, *, actor: str, purpose: str, channel: str
) -> DataAccess:
    if _quotes_person(purpose, person):
        raise InvalidInput(
            N_(
                "purpose: must not contain the person's name, CPF, phone or e-mail (the access log holds no personal data); refer to them by their number"
            ),
            field="purpose",
        )
    row = DataAccess(
        at=rt.clock.now(), actor=actor, person_id=person.id, purpose=purpose, channel=channel
    )
    session.add(row)
    session.flush()
    return row


def _person_data(session: Session, person: Person) -> dict[str, Any]:
    municipality = store.get_municipality(session, person.municipality_code)
    assert municipality is not None
    return {
        "id": person.id,
        "cpf": person.cpf,
        "name": person.name,
        "phone": person.phone,
        "email": person.email,
        "community": person.community,
        "municipality_code": person.municipality_code,
        "municipality": municipality.name,
        "uf": municipality.uf,
        "created_at": _jsonable(person.created_at),
        "created_by": person.created_by,
        **_anonymised(person),
    }


def _anonymised(person: Person) -> dict[str, Any]:
    """An anonymised person (LGPD art. 18 IV/VI) shows no name, CPF or community, and when."""
    if person.anonymised_at is None:
        return {}
    return {
        "cpf": None,
        "name": None,
        "community": None,
        "anonymised_at": _jsonable(person.anonymised_at),
    }


def read_person(
    rt: Runtime,
    person_id_or_cpf: int | str,
    *,
    actor: str,
    purpose: str,
    channel: str = "cli",
) -> dict[str, Any]:
    """A person's data (and the cases they are pre-registered in), logging the access: who,
    when, which person, why and through which channel, in the same transaction."""
    check_actor(actor)
    purpose = _check_purpose(purpose)
    channel = _check_channel(channel)
    with rt.db.write() as session:
        person = _find_person(session, person_id_or_cpf)
        _log_access(session, rt, person, actor=actor, purpose=purpose, channel=channel)
        data = _person_data(session, person)
        data["case_ids"] = list(
            session.execute(
                select(CaseParticipant.case_id)
                .where(CaseParticipant.person_id == person.id)
                .order_by(CaseParticipant.case_id)
            ).scalars()
        )
        return data


def data_subject_report(
    rt: Runtime, cpf: str, *, actor: str, purpose: str = "data-subject request"
) -> dict[str, Any]:
    """Everything held on the person with this CPF, and who read it (LGPD art. 18/19: the full
    statement). Logs its own access first, so the statement includes it."""
    check_actor(actor)
    purpose = _check_purpose(purpose)
    try:
        bare = normalise_cpf(cpf)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="cpf") from None
    with rt.db.write() as session:
        person = find_by_cpf(session, bare)
        if person is None:
            raise NotFound("person with CPF", bare)
        _log_access(session, rt, person, actor=actor, purpose=purpose, channel="report")
        pid = person.id
        cases = [
            {
                "case_id": case.id,
                "state": case.state,
                "community": case.community,
                "municipality_code": case.municipality_code,
                "municipality": m.name,
                "uf": m.uf,
                "registered_on": _jsonable(cp.registered_on),
                "registered_by": cp.registered_by,
            }
            for cp, case, m in session.execute(
                select(CaseParticipant, Case, Municipality)
                .join(Case, Case.id == CaseParticipant.case_id)
                .join(Municipality, Municipality.ibge_code == Case.municipality_code)
                .where(CaseParticipant.person_id == pid)
                .order_by(Case.id)
            )
        ]
        attended = _days_attended(session, [pid])
        enrolments = [
            {
                "event_id": event.id,
                "kind": event.kind,
                "title": event.title,
                "start_on": _jsonable(event.start_on),
                "end_on": _jsonable(event.end_on),
                "held_on": _jsonable(event.held_on),
                "certification": enrolment.certification,
                "days_attended": attended.get((event.id, pid), 0),
                # the days it met (its session days): what attendance is counted against
                "event_days": len(session_days(event)),
            }
            for enrolment, event in session.execute(
                select(Enrolment, TrainingEvent)
                .join(TrainingEvent, TrainingEvent.id == Enrolment.event_id)
                .where(Enrolment.person_id == pid)
                .order_by(TrainingEvent.start_on, TrainingEvent.id)
            )
        ]
        memberships = [
            {
                "enterprise_id": e.id,
                "name": e.name,
                "case_id": e.case_id,
                "legal_form": e.legal_form,
                # a departure is the person's own record: its date and reason
                "left_on": _jsonable(m.left_on),
                "left_reason": m.left_reason,
            }
            for e, m in session.execute(
                select(Enterprise, EnterpriseMember)
                .join(EnterpriseMember, EnterpriseMember.enterprise_id == Enterprise.id)
                .where(EnterpriseMember.person_id == pid)
                .order_by(Enterprise.id)
            ).all()
        ]
        history = [
            {
                "seq": a.seq,
                "occurred_at": _jsonable(a.occurred_at),
                "event": a.event,
                "actor": a.actor,
                "case_id": a.case_id,
            }
            for a in session.execute(
                select(AuditEvent)
                .where(AuditEvent.record_type == "person", AuditEvent.record_id == pid)
                .order_by(AuditEvent.seq)
            ).scalars()
        ]
        access_log = [
            {
                "at": _jsonable(a.at),
                "actor": a.actor,
                "purpose": a.purpose,
                "channel": a.channel,
            }
            for a in session.execute(
                select(DataAccess)
                .where(DataAccess.person_id == pid)
                .order_by(DataAccess.at, DataAccess.id)
            ).scalars()
        ]
        surveys = [
            survey_row(s)
            for s in sorted(
                session.execute(select(Survey).where(Survey.person_id == pid)).scalars(),
                key=lambda s: (s.case_id, WAVE_ORDER.get(s.wave, len(WAVE_ORDER))),
            )
        ]
        return {
            "generated_at": _jsonable(rt.clock.now()),
            "generated_by": actor,
            "person": _person_data(session, person),
            "cases": cases,
            "enrolments": enrolments,
            "memberships": memberships,
            "surveys": surveys,
            "survey_purpose": SURVEY_PURPOSE.english(),
            "history": history,
            "access_log": access_log,
            # LGPD art. 18 VII: the partner exports that carried the person
            "shared_with": lgpd.shared_with(session, pid),
            "requests": lgpd.requests_of(session, pid),
            "incidents": lgpd.incidents_of(session, pid),
        }


def _days_attended(
    session: Session, person_ids: Sequence[int] | None
) -> dict[tuple[int, int], int]:
    """Days attended per (event id, person id); all people when ``person_ids`` is None."""
    query = select(Attendance.event_id, Attendance.person_id)
    if person_ids is not None:
        query = query.where(Attendance.person_id.in_(person_ids))
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for event_id, person_id in session.execute(query):
        counts[(event_id, person_id)] += 1
    return dict(counts)


# ----------------------------------------------------------------------- pseudonymised export

#: the columns of an export for partners, in order
EXPORT_COLUMNS = (
    "pseudonym",
    "community",
    "municipality_code",
    "uf",
    "cases",
    "events",
    "certified",
    "enterprises",
)
PSEUDONYM_HEX_CHARS = 32


def pseudonym(key: str, cpf: str) -> str:
    """The keyed pseudonym of a CPF: HMAC-SHA256(key, the 11 digits), first 32 hex characters."""
    digest = hmac.new(key.encode("utf-8"), cpf.encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_CHARS]


def key_id(key: str) -> str:
    """A short fingerprint of the key for the audit trail (which key an export used), from
    which neither the key nor any pseudonym can be derived."""
    return hmac.new(key.encode("utf-8"), b"produzir:key-id", hashlib.sha256).hexdigest()[:12]


def _pseudonym_key(key: str | None) -> str:
    if key is not None:
        try:
            return check_pseudonym_key(key)
        except BadSetting as exc:
            raise InvalidInput(exc.text, field="key") from None
    try:
        settings = load(TasksSettings)  # a bad key is named, never shown
    except InvalidInput as exc:
        raise InvalidInput(exc.text, field="key") from None
    if settings.pseudonym_key is None:
        raise InvalidInput(
            N_(
                "a pseudonymised export needs the key: set %(PSEUDONYM_KEY_VARIABLE)s (a secret of at least 16 characters, kept out of the database)",
                PSEUDONYM_KEY_VARIABLE=PSEUDONYM_KEY_VARIABLE,
            ),
            field="key",
        )
    return settings.pseudonym_key.get_secret_value()


def export_participants(
    rt: Runtime,
    *,
    case_id: int | None = None,
    key: str | None = None,
    actor: str,
    recipient: str | None = None,
) -> list[dict[str, Any]]:
    """Participants for partners, pseudonymised: no CPF, no name, no contact.

    One row per person (of the case, or of the whole programme), sorted by pseudonym: community,
    municipality, the cases they are in, the events they enrolled in, whether they are certified
    (enrolled for certification in a held ECC and attended at least ``min_attendance`` of its
    days, as the capacitação guard counts) and the enterprises they are members of. With a case,
    cases, events and enterprises are limited to that case. Appends one audit event, and records
    the export (to ``recipient``, the partner) and the people it carried (LGPD art. 18 VII).
    """
    check_actor(actor)
    secret = _pseudonym_key(key)
    if recipient is not None:
        recipient = " ".join(recipient.split())
        if not 2 <= len(recipient) <= 200:
            raise InvalidInput(N_("to: the partner's name, 2 to 200 characters"), field="recipient")
    min_attendance = rt.lifecycle.config.thresholds.min_attendance
    with rt.db.write() as session:
        query = select(
            Person.id, Person.cpf, Person.community, Person.municipality_code, Municipality.uf
        ).join(Municipality, Municipality.ibge_code == Person.municipality_code)
        cases_query = select(CaseParticipant.person_id, CaseParticipant.case_id)
        events_query = select(Enrolment.person_id, Enrolment.event_id, Enrolment.certification)
        members_query = select(EnterpriseMember.person_id, EnterpriseMember.enterprise_id).join(
            Enterprise, Enterprise.id == EnterpriseMember.enterprise_id
        )
        if case_id is not None:
            get_case(session, case_id)
            query = query.join(CaseParticipant, CaseParticipant.person_id == Person.id).where(
                CaseParticipant.case_id == case_id
            )
            cases_query = cases_query.where(CaseParticipant.case_id == case_id)
            events_query = events_query.join(
                EventCase, EventCase.event_id == Enrolment.event_id
            ).where(EventCase.case_id == case_id)
            members_query = members_query.where(Enterprise.case_id == case_id)
        people = session.execute(query).all()
        cases: dict[int, list[int]] = defaultdict(list)
        for pid, cid in session.execute(cases_query.order_by(CaseParticipant.case_id)):
            cases[pid].append(cid)
        events: dict[int, list[int]] = defaultdict(list)
        certification: set[tuple[int, int]] = set()
        for pid, eid, certifies in session.execute(events_query.order_by(Enrolment.event_id)):
            events[pid].append(eid)
            if certifies:
                certification.add((eid, pid))
        members: dict[int, list[int]] = defaultdict(list)
        for pid, enterprise_id in session.execute(
            members_query.order_by(EnterpriseMember.enterprise_id)
        ):
            members[pid].append(enterprise_id)
        needed = {
            event.id: share_of(min_attendance, len(session_days(event)))
            for event in session.execute(
                select(TrainingEvent).where(
                    TrainingEvent.kind == "ecc", TrainingEvent.held_on.is_not(None)
                )
            ).scalars()
        }
        certified = {
            pid
            for (eid, pid), days in _days_attended(session, None).items()
            if eid in needed and (eid, pid) in certification and days >= needed[eid]
        }
        rows = sorted(
            (
                {
                    "pseudonym": pseudonym(secret, cpf),
                    "community": community,
                    "municipality_code": municipality_code,
                    "uf": uf,
                    "cases": cases.get(pid, []),
                    "events": events.get(pid, []),
                    "certified": pid in certified,
                    "enterprises": members.get(pid, []),
                }
                for pid, cpf, community, municipality_code, uf in people
            ),
            key=lambda row: str(row["pseudonym"]),
        )
        export = PartnerExport(
            at=rt.clock.now(),
            actor=actor,
            recipient=recipient,
            case_id=case_id,
            key_id=key_id(secret),
            rows=len(rows),
        )
        session.add(export)
        session.flush()
        if people:
            session.execute(
                insert(PartnerExportPerson),
                [{"export_id": export.id, "person_id": p[0]} for p in people],
            )
        audit_record(
            session,
            rt,
            event="participantes_exportados",
            actor=actor,
            record_type="export",
            record_id=len(rows),
            case=None,
            evidence={
                "case_id": case_id,
                "rows": len(rows),
                "key_id": key_id(secret),
                "export_id": export.id,
            },
        )
        return rows


# ----------------------------------------------------------------------- CSV import

REQUIRED_COLUMNS = ("cpf", "name", "community", "municipality_code")
OPTIONAL_COLUMNS = ("phone", "email")
#: header names accepted for each column (compared without case or accents)
_HEADER_ALIASES = {
    "cpf": "cpf",
    "name": "name",
    "nome": "name",
    "community": "community",
    "comunidade": "community",
    "municipality_code": "municipality_code",
    "municipio": "municipality_code",
    "codigo_ibge": "municipality_code",
    "phone": "phone",
    "telefone": "phone",
    "email": "email",
    "e-mail": "email",
}
_LABELS = {
    "cpf": "CPF",
    "name": M_("name"),
    "community": M_("community"),
    "municipality_code": M_("municipality"),
    "phone": M_("phone"),
    "email": M_("e-mail"),
}
#: the files an import reads, as its refusals name them
PARTICIPANTS_FILE = N_("participants file")


class ImportRejected(InvalidInput):
    """A file with bad rows: nothing was written. Each reason is a sentence to translate (a
    Text; a plain string is shown as it is); ``problems`` are (line, the reason in English)
    pairs, in the order of the lines."""

    def __init__(self, what: Text | str, problems: Sequence[tuple[int, Text | str]]) -> None:
        ordered = sorted(problems, key=lambda p: p[0])
        lines = [N_("line %(line)s: %(reason)s", line=line, reason=r) for line, r in ordered]
        text = Np_(
            "%(what)s: %(n)s bad row, nothing was imported:\n%(lines)s",
            "%(what)s: %(n)s bad rows, nothing was imported:\n%(lines)s",
            len(ordered),
            what=what,
            lines=join(lines, "\n"),
        )
        super().__init__(text, field="file")
        self.problems = [(line, str(reason)) for line, reason in ordered]


@dataclass
class ImportReport:
    """What an import did: people created, existing people reused, pre-registrations."""

    case_id: int
    created: int = 0
    existing: int = 0
    preregistered: int = 0
    #: lines worth a look that did not stop the import (e.g. a known CPF under another name)
    warnings: list[Text] = field(default_factory=list)


def decode_csv(data: bytes, what: Text | str = PARTICIPANTS_FILE) -> str:
    """The text of an uploaded CSV: UTF-8, with or without a byte-order mark."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInput(
            N_(
                "%(what)s: line %(line)s is not UTF-8 text; save the spreadsheet as 'CSV UTF-8'",
                what=what,
                line=line,
            ),
            field="file",
        ) from None


@dataclass(frozen=True)
class _Row:
    line: int
    person: PersonInput


def _header_key(cell: str) -> str:
    return _fold(cell).replace(" ", "_")


def _read_header(cells: list[str]) -> list[str]:
    columns: list[str] = []
    problems: list[Text] = []
    for cell in cells:
        key = _HEADER_ALIASES.get(_header_key(cell))
        if key is None:
            problems.append(N_("unknown column %(column)s", column=repr(cell.strip())))
        elif key in columns:
            problems.append(N_("column %(column)s appears twice", column=repr(cell.strip())))
        else:
            columns.append(key)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
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
        expected = ",".join(REQUIRED_COLUMNS) + "[," + ",".join(OPTIONAL_COLUMNS) + "]"
        reason = N_(
            "%(problems)s (expected %(expected)s)",
            problems=join(list(problems), "; "),
            expected=expected,
        )
        raise ImportRejected(PARTICIPANTS_FILE, [(1, reason)])
    return columns


def _separator(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return ";" if first.count(";") > first.count(",") else ","


def csv_records(text: str, what: Text | str = PARTICIPANTS_FILE) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) of each CSV record, blank lines skipped; InvalidInput naming
    the line when the file is over its bounds (:mod:`states.bounds`) or not CSV."""
    size = len(text.encode("utf-8"))
    if size > IMPORT_MAX_BYTES:
        raise InvalidInput(
            N_(
                "%(what)s: %(size)s bytes; at most %(limit)s",
                what=what,
                size=size,
                limit=IMPORT_MAX_BYTES,
            ),
            field="file",
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text))
    start = 1
    records = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field larger than the csv module's limit
            raise InvalidInput(
                N_("%(what)s: line %(line)s: %(error)s", what=what, line=start, error=str(exc)),
                field="file",
            ) from None
        if any(c.strip() for c in cells):
            records += 1
            check_record_bounds(what, records, start, cells)
            yield start, cells
        start = reader.line_num + 1


def check_record_bounds(what: Text | str, records: int, line: int, cells: Sequence[str]) -> None:
    """InvalidInput when a file's ``records``-th non-blank record (the header is the first),
    on ``line``, is past the file's bounds: too many rows, or a cell too long."""
    if records > IMPORT_MAX_ROWS + 1:  # + the header
        raise InvalidInput(
            N_(
                "%(what)s: more than %(limit)s rows; at most %(limit)s",
                what=what,
                limit=IMPORT_MAX_ROWS,
            ),
            field="file",
        )
    for column, cell in enumerate(cells, 1):
        if len(cell) > CELL_MAX:
            raise InvalidInput(
                N_(
                    "%(what)s: line %(line)s, column %(column)s: %(size)s characters; "
                    "at most %(limit)s",
                    what=what,
                    line=line,
                    column=column,
                    size=len(cell),
                    limit=CELL_MAX,
                ),
                field="file",
            )


def _import_cpf(cell: str) -> str:
    """A CPF from a spreadsheet cell; spreadsheets drop leading zeros, so 9 or 10 digits are
    padded before the check digits are verified."""
    bare = _CPF_PUNCTUATION.sub("", cell)
    if bare.isdigit() and 9 <= len(bare) < 11:
        bare = bare.zfill(11)
    return normalise_cpf(bare)


def _parse_row(values: dict[str, str]) -> tuple[PersonInput | None, list[Text]]:
    reasons = [
        N_("missing %(field)s", field=Text(_LABELS[c]))
        for c in REQUIRED_COLUMNS
        if not values.get(c)
    ]
    raw: dict[str, object] = {c: v or None for c, v in values.items()}
    if values.get("cpf"):
        try:
            raw["cpf"] = _import_cpf(values["cpf"])
        except ValueError:
            reasons.append(N_("invalid CPF %(value)s", value=repr(values["cpf"])))
    code = values.get("municipality_code", "")
    if code:
        if code.isdigit() and len(code) == 7:
            raw["municipality_code"] = int(code)
        else:
            reasons.append(
                N_("municipality %(value)s is not an IBGE code (7 digits)", value=repr(code))
            )
    if reasons:
        return None, reasons
    try:
        return PersonInput.model_validate(raw), []
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["loc"]:
                column = str(error["loc"][0])
                where = Text(_LABELS[column]) if column in _LABELS else column
                reasons.append(N_("%(field)s: %(message)s", field=where, message=message))
            else:
                reasons.append(N_("%(message)s", message=message))
        return None, reasons


def _in_chunks(values: Sequence[Any], size: int = 500) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def import_participants(rt: Runtime, csv_text: str, *, case_id: int, actor: str) -> ImportReport:
    """Import a participants spreadsheet (CSV) and pre-register everyone in the case.

    Header ``cpf,name,community,municipality_code[,phone,email]`` (any order; Portuguese names
    nome, comunidade, municipio/codigo_ibge, telefone, e-mail accepted), separated by ``,`` or
    ``;``. Every row is validated first; if any is wrong nothing is written and
    :class:`ImportRejected` lists each bad row as ``line N: reason`` (the header is line 1). A CPF
    already in the database is not an error: that person is pre-registered (``existing``) as
    they are, unless they already are in the case. One transaction.
    """
    check_actor(actor)
    text = csv_text.removeprefix("\ufeff")
    records = iter(csv_records(text))
    header = next(records, None)
    if header is None:
        raise InvalidInput(N_("participants file: empty (no header line)"), field="file")
    columns = _read_header(header[1])
    problems: dict[int, list[Text]] = defaultdict(list)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
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
        person, reasons = _parse_row(dict(zip(columns, (c.strip() for c in cells), strict=True)))
        problems[line].extend(reasons)
        if person is None:
            continue
        if person.cpf in seen:
            problems[line].append(
                N_("duplicate CPF (same as line %(line)s)", line=seen[person.cpf])
            )
            continue
        seen[person.cpf] = line
        rows.append(_Row(line, person))
    if not rows and not problems:
        raise InvalidInput(
            N_("participants file: no participant rows after the header"), field="file"
        )
    report = ImportReport(case_id)
    # 1. everything is checked in a read transaction: nobody waits for it
    with rt.db.read() as session:
        _open_case(session, case_id)
        existing, already = _known(session, rows, case_id)
        known_codes: set[int] = set()
        for chunk in _in_chunks(sorted({r.person.municipality_code for r in rows})):
            known_codes.update(
                session.execute(
                    select(Municipality.ibge_code).where(Municipality.ibge_code.in_(chunk))
                ).scalars()
            )
        for r in rows:
            if r.person.municipality_code not in known_codes:
                problems[r.line].append(
                    N_(
                        "unknown municipality %(municipality_code)s",
                        municipality_code=r.person.municipality_code,
                    )
                )
            found = existing.get(r.person.cpf)
            if found is not None and found[0] in already:
                problems[r.line].append(
                    N_(
                        "CPF already registered as person %(person_id)s, who is already "
                        "pre-registered in case %(case_id)s",
                        person_id=found[0],
                        case_id=case_id,
                    )
                )
        bad = [(line, join(reasons, "; ")) for line, reasons in problems.items() if reasons]
        if bad:
            raise ImportRejected(PARTICIPANTS_FILE, bad)
    # 2. then one short write transaction: the rows in bulk, then their audit events
    now = rt.clock.now()
    try:
        with rt.db.write() as session:
            case = _open_case(session, case_id)  # checked again under the lock
            if _known(session, rows, case_id) != (existing, already):
                raise InvalidInput(_CHANGED_MEANWHILE, field="file")
            municipality = store.get_municipality(session, case.municipality_code)
            assert municipality is not None
            new = [r.person for r in rows if r.person.cpf not in existing]
            created: dict[str, int] = {}
            if new:
                inserted = session.execute(
                    insert(Person).returning(Person.id, Person.cpf, sort_by_parameter_order=True),
                    [{**p.model_dump(), "created_at": now, "created_by": actor} for p in new],
                )
                created = {cpf: person_id for person_id, cpf in inserted}
            registered_on = local_date(now, municipality.timezone)
            order: list[tuple[int, bool]] = []  # (person id, created now?) in the file's order
            for r in rows:
                if r.person.cpf in created:
                    order.append((created[r.person.cpf], True))
                    report.created += 1
                    continue
                person_id, name = existing[r.person.cpf]
                order.append((person_id, False))
                report.existing += 1
                if _fold(name) != _fold(r.person.name):
                    report.warnings.append(
                        N_(
                            "line %(line)s: CPF already registered as person %(person_id)s "
                            "under a different name; the existing record was kept",
                            line=r.line,
                            person_id=person_id,
                        )
                    )
            session.execute(
                insert(CaseParticipant),
                [
                    {
                        "case_id": case_id,
                        "person_id": person_id,
                        "registered_on": registered_on,
                        "registered_by": actor,
                    }
                    for person_id, _ in order
                ],
            )
            codes = {r.person.cpf: r.person.municipality_code for r in rows}
            by_id = {person_id: cpf for cpf, person_id in created.items()}
            common = {"actor": actor, "record_type": "person", "occurred_at": now}
            registered = {"lifecycle_version": rt.lifecycle.version, **common}
            in_case = {
                "case_id": case.id,
                "case_version": case.version,
                "lifecycle_version": case.lifecycle_version,
                "from_state": case.state,
                "to_state": case.state,
                **common,
            }
            entries: list[dict[str, Any]] = []
            for person_id, is_new in order:  # the entries audit_record would write, together
                if is_new:
                    entries.append(
                        {
                            **registered,
                            "event": "pessoa_registrada",
                            "record_id": person_id,
                            "evidence": {
                                "person_id": person_id,
                                "municipality_code": codes[by_id[person_id]],
                            },
                        }
                    )
                entries.append(
                    {
                        **in_case,
                        "event": "participante_pre_inscrito",
                        "record_id": person_id,
                        "evidence": {"person_id": person_id},
                    }
                )
                report.preregistered += 1
            audit.append_many(session, entries)
    except IntegrityError:  # a CPF registered or pre-registered by someone else meanwhile
        raise InvalidInput(_CHANGED_MEANWHILE, field="file") from None
    return report


_CHANGED_MEANWHILE = N_(
    "participants file: some of its people were registered or pre-registered by someone else "
    "meanwhile; nothing was written, import it again"
)


def _known(
    session: Session, rows: Sequence[_Row], case_id: int
) -> tuple[dict[str, tuple[int, str]], set[int]]:
    """The file's CPFs already registered (cpf -> id, name) and which of them are already in
    the case."""
    existing: dict[str, tuple[int, str]] = {}
    for chunk in _in_chunks([r.person.cpf for r in rows]):
        for person_id, cpf, name in session.execute(
            select(Person.id, Person.cpf, Person.name).where(Person.cpf.in_(chunk))
        ):
            existing[cpf] = (person_id, name)
    already: set[int] = set()
    for chunk in _in_chunks([person_id for person_id, _ in existing.values()]):
        already.update(
            session.execute(
                select(CaseParticipant.person_id).where(
                    CaseParticipant.case_id == case_id, CaseParticipant.person_id.in_(chunk)
                )
            ).scalars()
        )
    return existing, already
