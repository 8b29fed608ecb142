"""A data subject's rights over their record (LGPD art. 18): rectification and anonymisation.

- :func:`rectify_person` corrects a person's record (art. 18 III): name, CPF, contact,
  community, municipality, each checked as at registration; a CPF already registered as another
  person is refused naming that person. The audit event names the fields changed, never their
  values.
- :func:`anonymise_person` removes what identifies a person (art. 18 IV and VI, where lawful:
  the administrator states the ground): name, CPF, phone, e-mail and community are replaced,
  the requests they made lose what they wrote. Their record number stays, so the cases, events
  and enterprises they took part in keep their counts, and the append-only history, which only
  ever held the number, still verifies.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from states import store
from states.bounds import Bounded
from states.errors import InvalidInput, NotAllowed, NotFound
from states.records import Person, SubjectRequest
from states.text import N_
from tasks.demands import check_actor
from tasks.people import PersonInput, find_by_cpf
from tasks.records_common import audit_record, parse_input
from tasks.runtime import Runtime

#: the fields a rectification may change, in the order they are listed
FIELDS = ("cpf", "name", "phone", "email", "community", "municipality_code")
#: the grounds an anonymisation is done on (LGPD art. 18)
GROUNDS = {
    "unnecessary": "IV",  # data unnecessary, excessive or processed against the law
    "consent_withdrawn": "VI",  # erasure of data processed with consent
}
#: what stands in an anonymised person's CPF column: not a CPF (it has a letter), unique
ANONYMOUS_CPF = "A{id:010d}"


class Rectification(Bounded):
    """The corrected values; fields not given stay as they are (an empty phone or e-mail
    removes it)."""

    cpf: str | None = None
    name: str | None = Field(default=None, min_length=2, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)
    community: str | None = Field(default=None, min_length=1, max_length=200)
    municipality_code: int | None = None

    @field_validator("cpf")
    @classmethod
    def _cpf(cls, value: str | None) -> str | None:
        return None if value is None else PersonInput._cpf(value)


def _person(session: Session, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("person", person_id)
    if person.anonymised_at is not None:
        raise NotAllowed(
            N_("person %(id)s was anonymised: the record holds nothing to change", id=person_id)
        )
    return person


def rectify_person(
    rt: Runtime, person_id: int, raw: Rectification | dict[str, object], *, actor: str
) -> list[str]:
    """Correct a person's record; the fields that changed (none changed is refused)."""
    check_actor(actor)
    given = parse_input(Rectification, raw, "person")
    values = given.model_dump(exclude_unset=True)
    if not values:
        raise InvalidInput(
            N_("say what to correct: %(fields)s", fields=", ".join(FIELDS)), field="person"
        )
    # phone and e-mail go through the registration's checks (an empty one removes it)
    for name in ("phone", "email"):
        if name in values and values[name] is not None:
            check = PersonInput._phone if name == "phone" else PersonInput._email
            try:
                values[name] = check(values[name])
            except ValueError as exc:
                raise InvalidInput(
                    N_("%(field)s: %(exc)s", field=name, exc=exc), field=name
                ) from None
    with rt.db.write() as session:
        person = _person(session, person_id)
        if "cpf" in values and values["cpf"] != person.cpf:
            other = find_by_cpf(session, values["cpf"])
            if other is not None:
                raise InvalidInput(
                    N_(
                        "CPF %(cpf)s is already registered as person %(id)s",
                        cpf=values["cpf"],
                        id=other.id,
                    ),
                    field="cpf",
                )
        if "municipality_code" in values:
            if values["municipality_code"] is None:
                raise InvalidInput(N_("municipality: give an IBGE code"), field="municipality_code")
            if store.get_municipality(session, values["municipality_code"]) is None:
                raise InvalidInput(
                    N_(
                        "municipality %(municipality_code)s is not in IBGE's list of municipalities",
                        municipality_code=values["municipality_code"],
                    ),
                    field="municipality_code",
                )
        for name in ("name", "community", "cpf"):
            if name in values and values[name] is None:
                raise InvalidInput(N_("%(field)s: cannot be removed", field=name), field=name)
        changed = [f for f in FIELDS if f in values and getattr(person, f) != values[f]]
        if not changed:
            raise InvalidInput(
                N_("person %(id)s already has these values: nothing to correct", id=person_id),
                field="person",
            )
        for name in changed:
            setattr(person, name, values[name])
        session.flush()
        audit_record(
            session,
            rt,
            event="pessoa_retificada",
            actor=actor,
            record_type="person",
            record_id=person.id,
            case=None,
            evidence={"person_id": person.id, "fields": changed},
        )
        return changed


def anonymise_person(
    rt: Runtime,
    person_id: int,
    *,
    ground: str,
    actor: str,
    request_id: int | None = None,
) -> None:
    """Anonymise a person's record on ``ground`` (a key of :data:`GROUNDS`), in answer to a
    request if given."""
    check_actor(actor)
    if ground not in GROUNDS:
        raise InvalidInput(
            N_(
                "unknown ground %(ground)s; grounds are: %(value)s",
                ground=repr(ground),
                value=", ".join(GROUNDS),
            ),
            field="ground",
        )
    with rt.db.write() as session:
        person = _person(session, person_id)
        if request_id is not None:
            request = session.get(SubjectRequest, request_id)
            if request is None:
                raise NotFound("request", request_id)
            if request.person_id != person_id:
                raise InvalidInput(
                    N_(
                        "request %(request)s is not person %(person)s's",
                        request=request_id,
                        person=person_id,
                    ),
                    field="request",
                )
        person.cpf = ANONYMOUS_CPF.format(id=person.id)
        person.name = ""
        person.phone = None
        person.email = None
        person.community = ""
        person.anonymised_at = rt.clock.now()
        for request in session.execute(
            select(SubjectRequest).where(SubjectRequest.person_id == person_id)
        ).scalars():
            request.details = ""
            request.answer = None
        session.flush()
        audit_record(
            session,
            rt,
            event="pessoa_anonimizada",
            actor=actor,
            record_type="person",
            record_id=person.id,
            case=None,
            evidence={
                "person_id": person.id,
                "ground": ground,
                "article": f"18 {GROUNDS[ground]}",
                "request_id": request_id,
            },
        )
