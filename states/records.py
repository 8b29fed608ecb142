"""The programme's records, as typed SQLAlchemy models: people, training events, enterprises,
legalisation steps, follow-up, and the dated obligations the deadline sweep reads.

- ``people``: participants (name, CPF, contact, community); nothing the programme does not need.
- ``case_participants``: who is pre-registered in which case (a person may be in several).
- ``staff``: the programme's own people, a user of the system or an external multiplier (name,
  role, organisation, optional contact, active or not); nothing else.
- ``training_events`` (ECC, Oficina de Gestão, ECM) with their session days (the days they
  meet), ``event_instructors`` (staff members of the roster), ``event_cases`` (the cases an
  event serves), ``enrolments`` and daily ``attendance`` of community participants (ECC,
  Oficina) and ``staff_enrolments``/``staff_attendance`` of the staff an ECM trains.
- ``enterprises`` formed by participants (``enterprise_members``, who may leave: the date and
  reason stay), with their legal form and size category, their ``legal_steps`` in legal order.
- ``visits`` of a case.
- the programme around the cases: ``hubs`` (polos: a municipality serving several cases of its
  territory), the register of ``partners`` (name, CNPJ, sphere), each hub's ``clai`` (Comitê
  Local de Ação Integrada) with its ``clai_members`` and ``clai_meetings``, its ``protocols``
  (Protocolo de Ações Integradas) with ``protocol_signatories`` and dated ``commitments``;
  ``policy_reaches``: the public policies an enterprise reached (convergence of policies).
- ``obligations``: one concept for every dated duty (case, kind, due date, satisfied when and by
  which record).
- ``surveys``: the baseline and outcome surveys of a case's participants (entry, the ECC's end,
  6 and 12 months after it): work status, income band, sex, birth year, household size, and
  nothing else (LGPD art. 6 III); read out only in aggregate (:mod:`states.outcomes`).
- ``data_access``: who read a person's data, when and why (LGPD), without the data itself.
- the LGPD registers: ``subject_requests`` (a data subject's request, received when and how,
  what is asked, confirmed at once, the full statement due in 15 days), ``partner_exports`` and
  ``partner_export_people`` (each export for a partner, and the people it carried: with whom a
  person's data was shared), ``incidents`` and ``incident_people`` (a security incident, the
  data and people affected, its notices to the ANPD and to the people).
- the territory (:mod:`states.territory`): ``typologies`` of the PNDR (Decreto 11.962/2024), each
  a versioned table of ``typology_classes`` (IBGE microregion -> class) with its source, and
  ``priority_areas``, sets of ``priority_area_municipalities`` with their source and date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from states.models import Base


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cpf: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[int] = mapped_column(ForeignKey("municipalities.ibge_code"))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    #: when the record was anonymised (LGPD art. 18 IV/VI): name, CPF and contact are gone
    anonymised_at: Mapped[datetime | None]


class CaseParticipant(Base):
    __tablename__ = "case_participants"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    registered_on: Mapped[date] = mapped_column(Date)
    registered_by: Mapped[str] = mapped_column(String(64))


class TrainingEvent(Base):
    __tablename__ = "training_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # ecc | oficina | ecm
    title: Mapped[str] = mapped_column(String(200))
    start_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[int] = mapped_column(ForeignKey("municipalities.ibge_code"))
    capacity: Mapped[int] = mapped_column(Integer)
    #: the days it meets (ISO dates, in order); None: every day from start_on to end_on
    session_days: Mapped[list[str] | None] = mapped_column(JSON)
    held_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


def session_days(event: TrainingEvent) -> list[date]:
    """The days ``event`` meets: its recorded session days, or (for an event recorded without
    them) every day of its span."""
    if event.session_days is not None:
        return [date.fromisoformat(d) for d in event.session_days]
    return [
        date.fromordinal(n) for n in range(event.start_on.toordinal(), event.end_on.toordinal() + 1)
    ]


class StaffMember(Base):
    """A member of the programme's staff: a user of the system (``username``; the name and
    e-mail are the user's) or an external multiplier (``name``, optional contact)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str | None] = mapped_column(ForeignKey("users.username"), unique=True)
    #: an external multiplier's name (None for a user: the user's name)
    name: Mapped[str | None] = mapped_column(String(200))
    #: the function in the programme (instrutor, multiplicador, técnico ...)
    role: Mapped[str] = mapped_column(String(100))
    #: the institution, as written (a partner of the register may be linked later)
    organisation: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    deactivated_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint("(username IS NULL) <> (name IS NULL)", name="ck_staff_user_or_external"),
    )


class EventInstructor(Base):
    __tablename__ = "event_instructors"

    event_id: Mapped[int] = mapped_column(ForeignKey("training_events.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)


class StaffEnrolment(Base):
    """A staff member enrolled in an ECM (the ECM trains the programme's own people)."""

    __tablename__ = "staff_enrolments"

    event_id: Mapped[int] = mapped_column(ForeignKey("training_events.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True, index=True)
    certification: Mapped[bool] = mapped_column(Boolean, default=True)
    enrolled_at: Mapped[datetime]


class StaffAttendance(Base):
    __tablename__ = "staff_attendance"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["event_id", "staff_id"],
            ["staff_enrolments.event_id", "staff_enrolments.staff_id"],
        ),
    )


class EventCase(Base):
    __tablename__ = "event_cases"

    event_id: Mapped[int] = mapped_column(ForeignKey("training_events.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, index=True)


class Enrolment(Base):
    __tablename__ = "enrolments"

    event_id: Mapped[int] = mapped_column(ForeignKey("training_events.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    certification: Mapped[bool] = mapped_column(Boolean, default=True)
    enrolled_at: Mapped[datetime]


class Attendance(Base):
    __tablename__ = "attendance"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)

    # attendance only for enrolled people: the database checks it too
    __table_args__ = (
        ForeignKeyConstraint(
            ["event_id", "person_id"], ["enrolments.event_id", "enrolments.person_id"]
        ),
    )


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    activity: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str | None] = mapped_column(String(30))
    #: ME or EPP (LC 123/2006 art. 3), a size category beside the legal form; None: neither
    size_category: Mapped[str | None] = mapped_column(String(3))
    formed_at_event_id: Mapped[int | None] = mapped_column(ForeignKey("training_events.id"))
    formed_on: Mapped[date] = mapped_column(Date)
    family_agriculture: Mapped[bool] = mapped_column(Boolean, default=False)
    business_plan: Mapped[str | None] = mapped_column(String(200))
    business_plan_on: Mapped[date | None] = mapped_column(Date)
    cnpj: Mapped[str | None] = mapped_column(String(14), unique=True)
    no_cnpj_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("case_id", "name", name="uq_enterprises_case_name"),)


class EnterpriseMember(Base):
    __tablename__ = "enterprise_members"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    #: when the member left (None: still a member), and why
    left_on: Mapped[date | None] = mapped_column(Date)
    left_reason: Mapped[str | None] = mapped_column(Text)


class LegalStep(Base):
    __tablename__ = "legal_steps"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    step: Mapped[str] = mapped_column(String(30), primary_key=True)
    done_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    waived_reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    visitor: Mapped[str] = mapped_column(String(64))
    findings: Mapped[str] = mapped_column(Text)
    active: Mapped[bool | None] = mapped_column(Boolean)
    members: Mapped[int | None] = mapped_column(Integer)
    monthly_income: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    recorded_at: Mapped[datetime]


class Hub(Base):
    """A development hub (polo): the municipality chosen as training base for the communities
    around it. Its cases are those whose ``cases.hub_municipality_code`` names it."""

    __tablename__ = "hubs"

    municipality_code: Mapped[int] = mapped_column(
        ForeignKey("municipalities.ibge_code"), primary_key=True, autoincrement=False
    )
    designated_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class Partner(Base):
    """A partner institution of the register (federal, state, municipal, civil society,
    international such as FAO)."""

    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the name folded (case, accents kept, spaces collapsed): two partners never share it
    name_key: Mapped[str] = mapped_column(String(200), unique=True)
    cnpj: Mapped[str | None] = mapped_column(String(14), unique=True)
    #: federal | state | municipal | civil_society | international; None: a name carried over
    #: from before the register (migration 0013), its sphere not recorded
    sphere: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class Clai(Base):
    """The hub's Comitê Local de Ação Integrada, shared by the hub's cases."""

    __tablename__ = "clai"

    hub_code: Mapped[int] = mapped_column(
        ForeignKey("hubs.municipality_code"), primary_key=True, autoincrement=False
    )
    installed_on: Mapped[date] = mapped_column(Date)


class ClaiMember(Base):
    __tablename__ = "clai_members"

    hub_code: Mapped[int] = mapped_column(ForeignKey("clai.hub_code"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)


class ClaiMeeting(Base):
    """A meeting of a hub's CLAI: its date, the institutions present, what it decided."""

    __tablename__ = "clai_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hub_code: Mapped[int] = mapped_column(ForeignKey("clai.hub_code"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    decisions: Mapped[list[str]] = mapped_column(JSON)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))


class ClaiMeetingPartner(Base):
    __tablename__ = "clai_meeting_partners"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("clai_meetings.id"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)


class Protocol(Base):
    """The hub's Protocolo de Ações Integradas, shared by the hub's cases."""

    __tablename__ = "protocols"

    hub_code: Mapped[int] = mapped_column(
        ForeignKey("hubs.municipality_code"), primary_key=True, autoincrement=False
    )
    signed_on: Mapped[date] = mapped_column(Date)


class ProtocolSignatory(Base):
    __tablename__ = "protocol_signatories"

    hub_code: Mapped[int] = mapped_column(ForeignKey("protocols.hub_code"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), primary_key=True)


class Commitment(Base):
    """A partner's commitment in a hub's Protocol: an obligation of every case of the hub until
    done."""

    __tablename__ = "commitments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hub_code: Mapped[int] = mapped_column(ForeignKey("protocols.hub_code"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    action: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)


class PolicyReach(Base):
    """A public policy an enterprise reached (PAA, PNAE, Pronaf...), when, and through which
    partner (convergence of policies)."""

    __tablename__ = "policy_reaches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    policy: Mapped[str] = mapped_column(String(40))
    reached_on: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint(
            "enterprise_id", "policy", "reached_on", name="uq_policy_reaches_enterprise_policy_on"
        ),
    )


class Obligation(Base):
    __tablename__ = "obligations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(30))
    record_type: Mapped[str | None] = mapped_column(String(20))
    record_id: Mapped[int | None] = mapped_column(Integer)
    #: the English sentence (for logs and rows from before ``params``); what people read is
    #: rendered from ``kind`` + ``params`` in their language (notifications.codes)
    description: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    due_on: Mapped[date] = mapped_column(Date)
    satisfied_on: Mapped[date | None] = mapped_column(Date)
    satisfied_by: Mapped[str | None] = mapped_column(String(60))  # "visit:12", "legal_step:..."
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_obligations_open_due", "satisfied_on", "due_on"),
        Index("ix_obligations_case", "case_id"),
    )


class Survey(Base):
    """One participant's answers to one wave of the survey, in one case."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    wave: Mapped[str] = mapped_column(String(10))  # entry | ecc_end | month_6 | month_12
    answered_on: Mapped[date] = mapped_column(Date)
    work_status: Mapped[str] = mapped_column(String(20))
    income_band: Mapped[str] = mapped_column(String(10))
    sex: Mapped[str] = mapped_column(String(10))
    birth_year: Mapped[int] = mapped_column(Integer)
    household_size: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(64))
    corrected_at: Mapped[datetime | None]
    corrected_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("case_id", "person_id", "wave", name="uq_surveys_case_person_wave"),
    )


class DataAccess(Base):
    __tablename__ = "data_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(20))


class Typology(Base):
    """One imported version of a PNDR typology of microregions (data the ministry publishes)."""

    __tablename__ = "typologies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    version: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(500))
    published_on: Mapped[date | None] = mapped_column(Date)
    #: an illustrative table (the demo's), never the ministry's
    illustrative: Mapped[bool] = mapped_column(Boolean)
    microregions: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("name", "version", name="uq_typologies_name_version"),)


class TypologyClass(Base):
    __tablename__ = "typology_classes"

    typology_id: Mapped[int] = mapped_column(ForeignKey("typologies.id"), primary_key=True)
    microregion_code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pndr_class: Mapped[str] = mapped_column(String(40))


class PriorityArea(Base):
    """An imported set of municipalities (Semiárido, Faixa de Fronteira, Amazônia Legal...)."""

    __tablename__ = "priority_areas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(500))
    #: the date of the source (the act or list the set comes from)
    as_of: Mapped[date] = mapped_column(Date)
    illustrative: Mapped[bool] = mapped_column(Boolean)
    municipalities: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime]
    imported_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("name", "as_of", name="uq_priority_areas_name_as_of"),)


class PriorityAreaMunicipality(Base):
    __tablename__ = "priority_area_municipalities"

    area_id: Mapped[int] = mapped_column(ForeignKey("priority_areas.id"), primary_key=True)
    municipality_code: Mapped[int] = mapped_column(
        ForeignKey("municipalities.ibge_code"), primary_key=True, autoincrement=False
    )

    __table_args__ = (Index("ix_priority_area_municipalities_code", "municipality_code"),)


class SubjectRequest(Base):
    """A data subject's request (LGPD art. 18), with its dated duties (art. 19)."""

    __tablename__ = "subject_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # an item of art. 18 (REQUEST_KINDS)
    channel: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[date] = mapped_column(Date)
    #: what is asked, as the data subject put it (the register only; never the audit log)
    details: Mapped[str] = mapped_column(String(1000))
    due_on: Mapped[date] = mapped_column(Date)
    confirmed_at: Mapped[datetime | None]
    answered_on: Mapped[date | None] = mapped_column(Date)
    answer: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_subject_requests_open_due", "answered_on", "due_on"),)


class PartnerExport(Base):
    """One pseudonymised export given to a partner (LGPD art. 18 VII: with whom data is shared)."""

    __tablename__ = "partner_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    key_id: Mapped[str] = mapped_column(String(12))
    rows: Mapped[int] = mapped_column(Integer)


class PartnerExportPerson(Base):
    __tablename__ = "partner_export_people"

    export_id: Mapped[int] = mapped_column(ForeignKey("partner_exports.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)


class Incident(Base):
    """A security incident with personal data (Resolução CD/ANPD 15/2024), kept 5 years."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    known_on: Mapped[date] = mapped_column(Date)
    occurred_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(2000))
    data_affected: Mapped[str] = mapped_column(String(500))
    people_count: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    anpd_notified_on: Mapped[date | None] = mapped_column(Date)
    people_notified_on: Mapped[date | None] = mapped_column(Date)
    keep_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class IncidentPerson(Base):
    __tablename__ = "incident_people"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
