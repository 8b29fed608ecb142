"""The territory a case lies in: the PNDR typology in force, the priority areas, the module.

The PNDR (Política Nacional de Desenvolvimento Regional, Decreto 11.962/2024, which revoked
Decreto 9.810/2019) classifies microregions; the classification is data the ministry publishes
and revises, so the system ships none as fact:

- a **typology** is a versioned table (IBGE microregion code -> class) imported by an
  administrator with its source (``produzir territory import-typology``); the one **in force**
  is the typology imported latest. Eligibility reads the class of the demand's microregion in
  it (:func:`typology_check`), and the decision records the typology's name and version.
- a **priority area** is an imported set of municipalities (Semiárido, Faixa de Fronteira,
  Amazônia Legal or any other) with its source and date; for each name the set imported with
  the latest date is the one shown.
- a **regional module** (Amazônia, Nordeste, ...) is configuration: a TOML file mapping UFs and
  municipalities to modules (:func:`load_modules`; ``PRODUZIR_MODULES_FILE``, default the one
  shipped in ``states/data/modules.toml``). A municipality named in a module belongs to it;
  otherwise its UF's module, if any.

A table marked ``illustrative`` (the demo's) is labelled "ilustrativo" wherever it is shown.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from states.errors import InvalidInput
from states.records import PriorityArea, PriorityAreaMunicipality, Typology, TypologyClass
from states.text import N_

SHIPPED_MODULES = Path(__file__).with_name("data") / "modules.toml"


@dataclass(frozen=True)
class TypologyCheck:
    """What eligibility read of the typology in force, for one microregion (stored with the
    decision's audit entry)."""

    typology_id: int
    name: str
    version: str
    source: str
    illustrative: bool
    microregion_code: int
    #: None: the microregion has no class in this typology
    pndr_class: str | None
    #: the priority areas the demand's municipality is in, by name
    priority_areas: tuple[str, ...] = ()


def typology_in_force(session: Session) -> Typology | None:
    """The typology imported latest (None when none was ever imported)."""
    return session.execute(
        select(Typology).order_by(Typology.imported_at.desc(), Typology.id.desc()).limit(1)
    ).scalar_one_or_none()


def class_of(session: Session, typology_id: int, microregion_code: int) -> str | None:
    row = session.get(TypologyClass, (typology_id, microregion_code))
    return row.pndr_class if row is not None else None


def areas_of(session: Session, municipality_code: int) -> list[PriorityArea]:
    """The priority areas (the latest set of each name) the municipality is in."""
    latest: dict[str, PriorityArea] = {}
    for area in session.execute(
        select(PriorityArea).order_by(PriorityArea.as_of, PriorityArea.id)
    ).scalars():
        latest[area.name] = area
    if not latest:
        return []
    ids = [a.id for a in latest.values()]
    member = set(
        session.execute(
            select(PriorityAreaMunicipality.area_id).where(
                PriorityAreaMunicipality.municipality_code == municipality_code,
                PriorityAreaMunicipality.area_id.in_(ids),
            )
        ).scalars()
    )
    return [a for a in sorted(latest.values(), key=lambda a: a.name) if a.id in member]


def area_label(area: PriorityArea) -> str:
    """An area as shown: its name, and "(ilustrativo)" when it is illustrative."""
    return f"{area.name} (ilustrativo)" if area.illustrative else area.name


def typology_label(typology: Typology) -> str:
    """A typology as shown: name and version, and "(ilustrativo)" when it is illustrative."""
    label = f"{typology.name} {typology.version}"
    return f"{label} (ilustrativo)" if typology.illustrative else label


def typology_check(
    session: Session, microregion_code: int, municipality_code: int
) -> TypologyCheck | None:
    """The typology in force read for a microregion (None when no typology was imported)."""
    typology = typology_in_force(session)
    if typology is None:
        return None
    return TypologyCheck(
        typology_id=typology.id,
        name=typology.name,
        version=typology.version,
        source=typology.source,
        illustrative=typology.illustrative,
        microregion_code=microregion_code,
        pndr_class=class_of(session, typology.id, microregion_code),
        priority_areas=tuple(a.name for a in areas_of(session, municipality_code)),
    )


# --- regional modules ------------------------------------------------------------------------


@dataclass(frozen=True)
class Module:
    """A regional module of the programme: the UFs and the municipalities it covers."""

    code: str
    label: str
    ufs: frozenset[str]
    municipalities: frozenset[int]


@dataclass(frozen=True)
class Modules:
    modules: tuple[Module, ...]

    def of(self, municipality_code: int, uf: str) -> Module | None:
        """The module of a municipality: the one naming it, else the one of its UF."""
        for module in self.modules:
            if municipality_code in module.municipalities:
                return module
        for module in self.modules:
            if uf in module.ufs:
                return module
        return None

    def get(self, code: str) -> Module | None:
        return next((m for m in self.modules if m.code == code), None)

    def ufs_of(self, code: str) -> frozenset[str]:
        module = self.get(code)
        return module.ufs if module is not None else frozenset()

    def of_ufs(self, ufs: Iterable[str]) -> list[str]:
        """The modules covering any of these UFs (a user's territory), in file order."""
        wanted = {uf.upper() for uf in ufs}
        return [m.code for m in self.modules if m.ufs & wanted]


def load_modules(path: Path | None = None) -> Modules:
    """The regional modules of a TOML file (default: :data:`SHIPPED_MODULES`)::

        [modules.amazonia]
        label = "Amazônia"
        ufs = ["AC", "AM", "AP", "PA", "RO", "RR", "TO"]
        municipalities = [2100055]   # optional: municipalities of other UFs

    InvalidInput naming the file and the part that is wrong.
    """
    return _load_modules(path or SHIPPED_MODULES)


def configured_modules() -> Modules:
    """The modules of ``PRODUZIR_MODULES_FILE`` (default: the shipped file)."""
    from states.settings import StatesSettings, load

    return load_modules(load(StatesSettings).modules_file)


@lru_cache(maxsize=8)
def _load_modules(path: Path) -> Modules:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(
            N_("modules file %(path)s: %(problem)s", path=str(path), problem=str(exc)),
            field="modules_file",
        ) from exc
    found: list[Module] = []
    seen_ufs: dict[str, str] = {}
    seen_codes: dict[int, str] = {}
    for code, part in (data.get("modules") or {}).items():
        label = part.get("label") if isinstance(part, dict) else None
        ufs = part.get("ufs", []) if isinstance(part, dict) else None
        codes = part.get("municipalities", []) if isinstance(part, dict) else None
        if (
            not isinstance(label, str)
            or not label.strip()
            or not isinstance(ufs, list)
            or not all(isinstance(u, str) and len(u) == 2 and u.isupper() for u in ufs)
            or not isinstance(codes, list)
            or not all(isinstance(c, int) and 1_000_000 <= c <= 9_999_999 for c in codes)
        ):
            raise InvalidInput(
                N_(
                    "modules file %(path)s: module %(module)s needs a label, ufs (UF codes "
                    "such as CE) and optionally municipalities (7-digit IBGE codes)",
                    path=str(path),
                    module=code,
                ),
                field="modules_file",
            )
        for uf in ufs:
            if uf in seen_ufs:
                raise InvalidInput(
                    N_(
                        "modules file %(path)s: UF %(uf)s is in modules %(first)s and %(second)s",
                        path=str(path),
                        uf=uf,
                        first=seen_ufs[uf],
                        second=code,
                    ),
                    field="modules_file",
                )
            seen_ufs[uf] = code
        for municipality in codes:
            if municipality in seen_codes:
                raise InvalidInput(
                    N_(
                        "modules file %(path)s: municipality %(code)s is in modules "
                        "%(first)s and %(second)s",
                        path=str(path),
                        code=municipality,
                        first=seen_codes[municipality],
                        second=code,
                    ),
                    field="modules_file",
                )
            seen_codes[municipality] = code
        found.append(Module(code, label.strip(), frozenset(ufs), frozenset(codes)))
    return Modules(tuple(found))
