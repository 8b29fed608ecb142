"""The demo's tables, read from the files of ``demo/data/`` when the package is imported.

- ``places.csv``: the municipalities (real IBGE codes and names, checked against the database
  when the demo starts), their territory, two communities (kind, name), three productive
  activities (the first the most common) and their priority area;
- ``ufs.toml``: per UF, the coordinator in charge, the partner institutions and the area code;
- ``activities.toml``: per activity, the proponent association, the members' collective name,
  the product, and whether its groups may be family agriculture;
- ``staff.toml``: the coordinators of each region, the supervisors, the manager, who reads a
  digest and who reads English, the regions' time zones;
- ``users.toml``: the web console's demo users (one per role) and their shared password;
- ``names.toml``: the first names and surnames of the fictitious participants, the instructors;
- ``texts.toml``: what the demo's staff write (pt-BR): evidence, notes, findings, commitments;
- ``portfolio.toml``: the share of cases ending in each state, the days spent in a state, the
  legal forms, the registries, the multiplier trainings.

The order of the rows is part of the data: the same seed draws the same rows.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from typing import Any

from states.states import State


def _text(name: str) -> str:
    return (files("demo") / "data" / name).read_text(encoding="utf-8")


def _toml(name: str) -> dict[str, Any]:
    return tomllib.loads(_text(name))


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"demo/data: {where} is {value!r}, not a string")
    return value


def _int(value: object, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"demo/data: {where} is {value!r}, not an integer")
    return value


def _date(value: object, where: str) -> date:
    if not isinstance(value, date):
        raise TypeError(f"demo/data: {where} is {value!r}, not a date")
    return value


def _strs(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise TypeError(f"demo/data: {where} is {value!r}, not a list")
    return tuple(_str(item, where) for item in value)


@dataclass(frozen=True)
class Place:
    """A municipality of the demo: its territory, communities, activities and priority area."""

    code: int
    name: str
    territory: str
    communities: tuple[tuple[str, str], ...]  # (kind, name)
    activities: tuple[str, ...]
    priority_area: str


@dataclass(frozen=True)
class Uf:
    """A UF of the demo: its coordinator, partner institutions and phone area code."""

    coordinator: str
    sebrae: str
    #: the state's rural extension agency (None where the demo uses none)
    agency: str | None
    institute: str
    university: str
    ddd: int

    @property
    def partners(self) -> tuple[str, str | None, str, str]:
        """SEBRAE, the rural extension agency, the federal institute, the university."""
        return (self.sebrae, self.agency, self.institute, self.university)


@dataclass(frozen=True)
class Activity:
    """A productive activity: the proponent association, the members' collective name (as in
    "Cooperativa dos Apicultores"), the product, and whether its groups may be family
    agriculture (and then get a CAF)."""

    proponent: str
    members: str
    product: str
    rural: bool


@dataclass(frozen=True)
class Form:
    """A legal form's weight in the draw and the fewest and most members of its enterprises."""

    weight: int
    fewest: int
    most: int


@dataclass(frozen=True)
class Ecm:
    """A multiplier training: its first day, region, host municipality and that one's UF."""

    begins: date
    region: str
    municipality: int
    uf: str


def _places() -> tuple[Place, ...]:
    rows = csv.DictReader(io.StringIO(_text("places.csv")))
    return tuple(
        Place(
            code=int(row["code"]),
            name=row["name"],
            territory=row["territory"],
            communities=((row["kind_1"], row["community_1"]), (row["kind_2"], row["community_2"])),
            activities=(row["activity_1"], row["activity_2"], row["activity_3"]),
            priority_area=row["priority_area"],
        )
        for row in rows
    )


def _ufs() -> dict[str, Uf]:
    return {
        uf: Uf(
            coordinator=_str(row["coordinator"], f"ufs.toml {uf}"),
            sebrae=_str(row["sebrae"], f"ufs.toml {uf}"),
            agency=_str(row["agency"], f"ufs.toml {uf}") if "agency" in row else None,
            institute=_str(row["institute"], f"ufs.toml {uf}"),
            university=_str(row["university"], f"ufs.toml {uf}"),
            ddd=_int(row["ddd"], f"ufs.toml {uf}"),
        )
        for uf, row in _toml("ufs.toml").items()
    }


def _activities() -> dict[str, Activity]:
    return {
        name: Activity(
            proponent=_str(row["proponent"], f"activities.toml {name}"),
            members=_str(row["members"], f"activities.toml {name}"),
            product=_str(row["product"], f"activities.toml {name}"),
            rural=row["rural"] is True,
        )
        for name, row in _toml("activities.toml").items()
    }


#: The municipalities, in the order the plan draws them from.
PLACES: tuple[Place, ...] = _places()


def _hubs() -> dict[int, int]:
    """Each place's hub: the first place of its territory in its UF (the IBGE code's first two
    digits), so a hub serves the cases of every municipality of its territory."""
    first: dict[tuple[str, int], int] = {}
    for p in PLACES:
        first.setdefault((p.territory, p.code // 100_000), p.code)
    return {p.code: first[(p.territory, p.code // 100_000)] for p in PLACES}


#: place (IBGE code) -> the hub (IBGE code) its cases' hub decision names
HUB_OF: dict[int, int] = _hubs()

#: The international partner of every CLAI (PRODUZIR is run with FAO, through Novo Pronager).
FAO = "Organização das Nações Unidas para a Alimentação e a Agricultura (FAO)"

#: The demo's PNDR typology: an ILLUSTRATIVE table (not the ministry's), imported by the demo as
#: ``illustrative`` so that it is labelled "ilustrativo" wherever it is shown.
ILLUSTRATIVE_TYPOLOGY_FILE = "pndr_tipologia_ilustrativa.csv"
ILLUSTRATIVE_TYPOLOGY_CSV: str = _text(ILLUSTRATIVE_TYPOLOGY_FILE)
ILLUSTRATIVE_TYPOLOGY: dict[int, str] = {
    int(row["microregion_code"]): row["pndr_class"]
    for row in csv.DictReader(io.StringIO(ILLUSTRATIVE_TYPOLOGY_CSV))
}
#: The demo's priority areas (illustrative too): each area's municipalities among the places.
ILLUSTRATIVE_AREAS: dict[str, tuple[int, ...]] = {
    area: tuple(p.code for p in PLACES if p.priority_area == area)
    for area in sorted({p.priority_area for p in PLACES})
}
UFS: dict[str, Uf] = _ufs()
ACTIVITIES: dict[str, Activity] = _activities()

_staff = _toml("staff.toml")
#: Coordinators by macro-region (user names), the supervisors who assign cases and decide
#: eligibility, and the manager who decides reopenings.
COORDINATORS_OF_REGION: dict[str, tuple[str, ...]] = {
    region: _strs(names, f"staff.toml coordinators.{region}")
    for region, names in _staff["coordinators"].items()
}
COORDINATORS: tuple[str, ...] = tuple(c for cs in COORDINATORS_OF_REGION.values() for c in cs)
SUPERVISORS: dict[str, str] = {
    region: _str(name, f"staff.toml supervisors.{region}")
    for region, name in _staff["supervisors"].items()
}
MANAGER: str = _str(_staff["manager"], "staff.toml manager")
#: Demo staff who chose the daily digest, and who read English; the others: immediate, pt-BR.
DIGEST_READERS = frozenset(_strs(_staff["digest_readers"], "staff.toml digest_readers"))
ENGLISH_READERS = frozenset(_strs(_staff["english_readers"], "staff.toml english_readers"))
#: The time zone of each region's staff.
TIMEZONES: dict[str, str] = {
    region: _str(zone, f"staff.toml timezones.{region}")
    for region, zone in _staff["timezones"].items()
}

_users = _toml("users.toml")
#: The password of every demo user (documented in the README; `make run` prints it).
DEMO_PASSWORD: str = _str(_users["password"], "users.toml password")
#: One user per role, and a second coordinator of another territory.
DEMO_USERS: tuple[dict[str, Any], ...] = tuple(
    {key: tuple(value) if isinstance(value, list) else value for key, value in user.items()}
    for user in _users["user"]
)

_names = _toml("names.toml")
#: Fictitious participants: first name + two surnames, drawn from a counter.
FIRST_NAMES: tuple[str, ...] = _strs(_names["first_names"], "names.toml first_names")
SURNAMES: tuple[str, ...] = _strs(_names["surnames"], "names.toml surnames")
INSTRUCTORS: tuple[str, ...] = _strs(_names["instructors"], "names.toml instructors")

_texts = _toml("texts.toml")
EXTENSION_REVIEW: str = _str(_texts["extension_review"], "texts.toml extension_review")
RECONSIDERATION: str = _str(_texts["reconsideration"], "texts.toml reconsideration")
FORWARDING: str = _str(_texts["forwarding"], "texts.toml forwarding")
SUSPENSION_REASONS = _strs(_texts["suspension_reasons"], "texts.toml suspension_reasons")
DROUGHT: str = _str(_texts["drought"], "texts.toml drought")
FLOOD: str = _str(_texts["flood"], "texts.toml flood")
ELECTION: str = _str(_texts["election"], "texts.toml election")
RESUME_NOTES = _strs(_texts["resume_notes"], "texts.toml resume_notes")
REJECTIONS = _strs(_texts["rejections"], "texts.toml rejections")
APPEALS = _strs(_texts["appeals"], "texts.toml appeals")
WITHDRAWALS = _strs(_texts["withdrawals"], "texts.toml withdrawals")
IMPOSSIBLE = _strs(_texts["impossible"], "texts.toml impossible")
REOPEN_CANCELLED: str = _str(_texts["reopen_cancelled"], "texts.toml reopen_cancelled")
REOPEN_CONCLUDED: str = _str(_texts["reopen_concluded"], "texts.toml reopen_concluded")
REOPEN_REFUSED_ASK: str = _str(_texts["reopen_refused_ask"], "texts.toml reopen_refused_ask")
REOPEN_REFUSAL: str = _str(_texts["reopen_refusal"], "texts.toml reopen_refusal")
REOPEN_APPROVED: str = _str(_texts["reopen_approved"], "texts.toml reopen_approved")
NOTES = _strs(_texts["notes"], "texts.toml notes")
NO_CNPJ_INFORMAL = _strs(_texts["no_cnpj_informal"], "texts.toml no_cnpj_informal")
NO_CNPJ_PENDING = _strs(_texts["no_cnpj_pending"], "texts.toml no_cnpj_pending")
LICENCE_WAIVER: str = _str(_texts["licence_waiver"], "texts.toml licence_waiver")
FINDINGS = _strs(_texts["findings"], "texts.toml findings")
FINDINGS_STOPPED = _strs(_texts["findings_stopped"], "texts.toml findings_stopped")
PNDR_LABELS: dict[str, str] = {
    key: _str(label, f"texts.toml pndr_labels.{key}")
    for key, label in _texts["pndr_labels"].items()
}
#: Commitments of the Protocol of Integrated Actions, by kind of partner.
ACTIONS: dict[str, tuple[str, ...]] = {
    kind: _strs(actions, f"texts.toml actions.{kind}")
    for kind, actions in _texts["actions"].items()
}
#: The article before a community's name, by its kind; any other kind: "da".
ARTICLES: dict[str, str] = {
    kind: _str(article, f"texts.toml articles.{kind}")
    for kind, article in _texts["articles"].items()
}

_portfolio = _toml("portfolio.toml")
#: Share of the portfolio that ends in each state (per 200 cases).
MIX: dict[State, int] = {
    State(state): _int(share, f"portfolio.toml mix.{state}")
    for state, share in _portfolio["mix"].items()
}
#: Days spent in a state the case passes through (capacitação and acompanhamento are special).
DWELL: dict[State, tuple[int, int]] = {
    State(state): (
        _int(low, f"portfolio.toml dwell.{state}"),
        _int(high, f"portfolio.toml dwell.{state}"),
    )
    for state, (low, high) in _portfolio["dwell"].items()
}
#: Legal forms, in the order they are drawn.
FORMS: dict[str, Form] = {
    form: Form(
        weight=_int(row["weight"], f"portfolio.toml forms.{form}"),
        fewest=_int(row["fewest"], f"portfolio.toml forms.{form}"),
        most=_int(row["most"], f"portfolio.toml forms.{form}"),
    )
    for form, row in _portfolio["forms"].items()
}
#: Where each legal form (but the MEI) is registered.
REGISTRIES: dict[str, str] = {
    form: _str(registry, f"portfolio.toml registries.{form}")
    for form, registry in _portfolio["registries"].items()
}
#: Multiplier trainings (ECM) for the programme's staff and multipliers, one a year or so.
ECMS: tuple[Ecm, ...] = tuple(
    Ecm(
        begins=_date(row["begins"], "portfolio.toml ecms"),
        region=_str(row["region"], "portfolio.toml ecms"),
        municipality=_int(row["municipality"], "portfolio.toml ecms"),
        uf=_str(row["uf"], "portfolio.toml ecms"),
    )
    for row in _portfolio["ecm"]
)
