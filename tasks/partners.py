"""The register of partner institutions, and the public policies an enterprise reached.

A partner has a name (unique, case and spacing aside), a CNPJ when it has one (validated,
numeric or alphanumeric; an international organisation such as FAO has none) and a sphere:
federal, state, municipal, civil society or international. The register is what adhesion
terms, CLAI membership and meetings, Protocol commitments and cooperation name; a partner is
referred to by its number or its registered name (:func:`resolve`).

Convergence of policies: for each enterprise, the public policies it reached (a configurable
list, :data:`DEFAULT_POLICIES`, setting ``PRODUZIR_PUBLIC_POLICIES``), dated, with the partner
that brought it (:func:`record_policy`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from states.audit import iso_utc
from states.deadlines import local_date
from states.errors import InvalidInput, NotAllowed, NotFound
from states.evidence import normalise_cnpj
from states.models import Case, Municipality
from states.records import Enterprise, Partner, PolicyReach
from states.settings import load
from states.text import N_
from tasks.demands import check_actor
from tasks.records_common import audit_record
from tasks.runtime import Runtime
from tasks.settings import TasksSettings

#: the spheres of a partner institution
SPHERES = ("federal", "state", "municipal", "civil_society", "international")
NAME_MAX = 200


def name_key(name: str) -> str:
    """A name as the register compares it: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()[:NAME_MAX]


def configured_policies() -> tuple[str, ...]:
    """The public policies a reach may name (``PRODUZIR_PUBLIC_POLICIES``)."""
    return load(TasksSettings).policies()


def check_sphere(sphere: str) -> str:
    value = sphere.strip().lower().replace(" ", "_").replace("-", "_")
    if value not in SPHERES:
        raise InvalidInput(
            N_(
                "sphere: unknown sphere %(sphere)s; spheres are: %(value)s",
                sphere=repr(sphere),
                value=", ".join(SPHERES),
            ),
            field="sphere",
        )
    return value


def add_partner(rt: Runtime, *, name: str, sphere: str, cnpj: str | None = None, actor: str) -> int:
    """Register a partner institution; its number. A duplicate name or CNPJ is refused."""
    check_actor(actor)
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(N_("name: a partner needs a name"), field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(N_("name: more than %(max)s characters", max=NAME_MAX), field="name")
    sphere = check_sphere(sphere)
    bare: str | None = None
    if cnpj is not None and cnpj.strip():
        try:
            bare = normalise_cnpj(cnpj)
        except ValueError:
            raise InvalidInput(
                N_("cnpj: %(cnpj)s is not a valid CNPJ", cnpj=repr(cnpj)), field="cnpj"
            ) from None
    with rt.db.write() as session:
        same = session.execute(
            select(Partner.id).where(Partner.name_key == name_key(name))
        ).scalar_one_or_none()
        if same is not None:
            raise InvalidInput(
                N_("name: partner %(id)s is already registered as %(name)s", id=same, name=name),
                field="name",
            )
        if bare is not None:
            holder = session.execute(
                select(Partner.id).where(Partner.cnpj == bare)
            ).scalar_one_or_none()
            if holder is not None:
                raise InvalidInput(
                    N_(
                        "cnpj: CNPJ %(cnpj)s is already registered to partner %(id)s",
                        cnpj=bare,
                        id=holder,
                    ),
                    field="cnpj",
                )
        row = Partner(
            name=name,
            name_key=name_key(name),
            cnpj=bare,
            sphere=sphere,
            created_at=rt.clock.now(),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        audit_record(
            session,
            rt,
            event="parceiro_registrado",
            actor=actor,
            record_type="partner",
            record_id=row.id,
            case=None,
            evidence={"name": name, "sphere": sphere, "cnpj": bare},
        )
        return row.id


def resolve(session: Session, ref: int | str, *, field: str) -> Partner:
    """The partner a reference names: its number, or its registered name (case and spacing
    aside); InvalidInput naming ``field`` when the register has no such partner."""
    text = str(ref).strip()
    row = (
        session.get(Partner, int(text))
        if text.isdigit()
        else session.execute(
            select(Partner).where(Partner.name_key == name_key(text))
        ).scalar_one_or_none()
    )
    if row is None:
        raise InvalidInput(
            N_(
                "%(field)s: %(ref)s is not in the register of partners (produzir partner add)",
                field=field,
                ref=repr(text),
            ),
            field=field,
        )
    return row


def resolve_all(session: Session, refs: list[int | str] | list[str], *, field: str) -> list[int]:
    """The partners of a list of references, each once, in order; at least one."""
    ids: list[int] = []
    for ref in refs:
        if not str(ref).strip():
            continue
        pid = resolve(session, ref, field=field).id
        if pid not in ids:
            ids.append(pid)
    if not ids:
        raise InvalidInput(N_("%(field)s: name at least one partner", field=field), field=field)
    return ids


def partner_row(p: Partner) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "cnpj": p.cnpj, "sphere": p.sphere}


def list_partners(session: Session, *, sphere: str | None = None) -> list[dict[str, Any]]:
    """The register, by name."""
    query = select(Partner).order_by(Partner.name_key)
    if sphere is not None:
        query = query.where(Partner.sphere == check_sphere(sphere))
    return [partner_row(p) for p in session.execute(query).scalars()]


def names_of(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Partner.id, Partner.name).where(Partner.id.in_(ids))).all())


# ------------------------------------------------------------------ convergence of policies


def check_policy(policy: str, known: tuple[str, ...]) -> str:
    """The configured spelling of ``policy`` (case aside); InvalidInput naming it otherwise."""
    for name in known:
        if name.casefold() == policy.strip().casefold():
            return name
    raise InvalidInput(
        N_(
            "policy: unknown public policy %(policy)s; policies are: %(value)s",
            policy=repr(policy),
            value=", ".join(known),
        ),
        field="policy",
    )


def record_policy(
    rt: Runtime,
    enterprise_id: int,
    *,
    policy: str,
    reached_on: date,
    partner: int | str,
    actor: str,
    policies: tuple[str, ...] | None = None,
) -> int:
    """Record that an enterprise reached a public policy on a day, through a partner; the
    record's number. Not before the enterprise formed, not in the future, not twice."""
    check_actor(actor)
    name = check_policy(policy, policies if policies is not None else configured_policies())
    with rt.db.write() as session:
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None:
            raise NotFound("enterprise", enterprise_id)
        case = session.get(Case, enterprise.case_id)
        assert case is not None
        municipality = session.get(Municipality, case.municipality_code)
        assert municipality is not None
        today = local_date(rt.clock.now(), municipality.timezone)
        if reached_on > today:
            raise InvalidInput(
                N_(
                    "%(what)s %(day)s is in the future (today is %(today)s)",
                    what="reached_on",
                    day=reached_on,
                    today=today,
                ),
                field="reached_on",
            )
        if reached_on < enterprise.formed_on:
            raise InvalidInput(
                N_(
                    "reached_on %(reached_on)s is before enterprise %(id)s existed (formed on %(formed_on)s)",
                    reached_on=reached_on,
                    id=enterprise.id,
                    formed_on=enterprise.formed_on,
                ),
                field="reached_on",
            )
        who = resolve(session, partner, field="partner")
        twice = session.execute(
            select(func.count())
            .select_from(PolicyReach)
            .where(
                PolicyReach.enterprise_id == enterprise_id,
                PolicyReach.policy == name,
                PolicyReach.reached_on == reached_on,
            )
        ).scalar_one()
        if twice:
            raise NotAllowed(
                N_(
                    "enterprise %(id)s already reached %(policy)s on %(day)s",
                    id=enterprise_id,
                    policy=name,
                    day=reached_on,
                )
            )
        row = PolicyReach(
            enterprise_id=enterprise_id,
            policy=name,
            reached_on=reached_on,
            partner_id=who.id,
            recorded_at=rt.clock.now(),
            recorded_by=actor,
        )
        session.add(row)
        session.flush()
        audit_record(
            session,
            rt,
            event="politica_acessada",
            actor=actor,
            record_type="policy_reach",
            record_id=row.id,
            case=case,
            evidence={
                "enterprise_id": enterprise_id,
                "policy": name,
                "reached_on": reached_on.isoformat(),
                "partner_id": who.id,
            },
        )
        return row.id


def policies_of(session: Session, enterprise_ids: list[int]) -> list[dict[str, Any]]:
    """The policies the enterprises reached, by enterprise and date."""
    if not enterprise_ids:
        return []
    rows = session.execute(
        select(PolicyReach, Partner.name)
        .join(Partner, Partner.id == PolicyReach.partner_id)
        .where(PolicyReach.enterprise_id.in_(enterprise_ids))
        .order_by(PolicyReach.enterprise_id, PolicyReach.reached_on, PolicyReach.id)
    ).all()
    return [
        {
            "id": r.id,
            "enterprise_id": r.enterprise_id,
            "policy": r.policy,
            "reached_on": r.reached_on.isoformat(),
            "partner_id": r.partner_id,
            "partner": name,
            "recorded_at": iso_utc(r.recorded_at),
        }
        for r, name in rows
    ]
