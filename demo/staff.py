"""The demo's people: the portfolio's staff and the web console's demo users.

:func:`add_demo_staff` registers the coordinators, supervisors and manager the portfolio names
(:mod:`demo.tables`, ``demo/data/staff.toml``), with a mix of immediate and digest delivery and
of languages, so that every kind of message shows up; :func:`add_demo_users` the web console's
users, one per role (:data:`DEMO_USERS`, ``demo/data/users.toml``), who share
:data:`DEMO_PASSWORD`. Both go through :mod:`tasks.users`, as an administrator's would.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import select

from demo.tables import (
    DEMO_PASSWORD,
    DEMO_USERS,
    DIGEST_READERS,
    ENGLISH_READERS,
    MANAGER,
    SUPERVISORS,
    TIMEZONES,
)
from states.directory import User
from states.models import Case, Municipality
from tasks.runtime import Runtime
from tasks.users import add_user, hash_password, set_password

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "add_demo_staff", "add_demo_users"]


@cache
def _hashed(password: str) -> str:
    """One argon2 hash of the demo's shared password, given to every demo user (hashing costs
    about a second on a busy machine; the demo gives it to some twenty users)."""
    return hash_password(password)


def add_demo_staff(
    rt: Runtime,
    *,
    password: str | None = None,
    territories: Mapping[str, set[str]] | None = None,
) -> list[str]:
    """Register the portfolio's coordinators (their UFs: ``territories``, or those of the cases
    they hold), supervisors (their region's UFs) and manager as users, the ones not there yet;
    with ``password`` they can log in too (those already there without a password get it).

    :func:`demo.build.build_demo` calls it first (a case is assigned only to a coordinator of
    its UF) and drops the messages the portfolio's past events queued; the first sweep then
    tells each person what is due or late now.
    """
    with rt.db.read() as session:
        existing = set(session.execute(select(User.username)).scalars())
        without_password = set(
            session.execute(select(User.username).where(User.password_hash.is_(None))).scalars()
        )
        held = session.execute(
            select(Case.coordinator, Municipality.uf, Municipality.region)
            .join(Municipality, Municipality.ibge_code == Case.municipality_code)
            .where(Case.coordinator.is_not(None))
            .distinct()
        ).all()
        ufs_of_region: dict[str, set[str]] = {}
        for uf, region in session.execute(select(Municipality.uf, Municipality.region).distinct()):
            ufs_of_region.setdefault(region, set()).add(uf)
    region_of_uf = {uf: region for region, ufs in ufs_of_region.items() for uf in ufs}
    regions: dict[str, str] = {}
    if territories is None:
        territories = {}
        for coordinator, uf, _region in held:
            assert coordinator is not None  # filtered by the query
            territories.setdefault(coordinator, set()).add(uf)
    for coordinator, ufs in territories.items():
        regions[coordinator] = region_of_uf[min(ufs)]
    people: list[dict[str, Any]] = [
        {
            "username": name,
            "role": "coordinator",
            "territories": sorted(territories[name]),
            "timezone": TIMEZONES.get(regions[name], "America/Sao_Paulo"),
        }
        for name in sorted(territories)
    ]
    people += [
        {
            "username": name,
            "role": "supervisor",
            "territories": sorted(ufs_of_region.get(region, ())),
            "timezone": TIMEZONES[region],
        }
        for region, name in sorted(SUPERVISORS.items())
    ]
    people.append({"username": MANAGER, "role": "manager", "timezone": "America/Sao_Paulo"})
    added = []
    for person in people:
        name = person["username"]
        if name in existing:
            if password is not None and name in without_password:
                set_password(rt, name, password, actor="system", hashed=_hashed(password))
            continue
        add_user(
            rt,
            {
                **person,
                "name": " ".join(part.capitalize() for part in name.split(".")),
                "email": f"{name}@produzir.example",
                "language": "en" if name in ENGLISH_READERS else "pt-BR",
                "delivery": "digest" if name in DIGEST_READERS else "immediate",
            },
            actor="system",
        )
        if password is not None:
            set_password(rt, name, password, actor="system", hashed=_hashed(password))
        added.append(name)
    return added


def add_demo_users(
    rt: Runtime, *, password: str = DEMO_PASSWORD, actor: str = "system"
) -> list[str]:
    """Create the demo users that do not exist yet, with ``password``; their user names."""
    with rt.db.read() as session:
        existing = set(session.execute(select(User.username)).scalars())
    added = []
    for raw in DEMO_USERS:
        if raw["username"] in existing:
            continue
        change = add_user(rt, raw, actor=actor)
        set_password(rt, change.username, password, actor=actor, hashed=_hashed(password))
        added.append(change.username)
    return added
