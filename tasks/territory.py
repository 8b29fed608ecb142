"""Importing the territory: PNDR typologies and priority areas, all or nothing, audited.

- :func:`import_typology` reads a CSV of ``microregion_code,pndr_class`` (Portuguese
  ``microrregiao``/``codigo_microrregiao``, ``classe`` accepted; other columns, such as the
  microregion's name, are ignored) and stores it as one version of a named typology with its
  source. The typology imported latest is the one in force (:mod:`states.territory`).
- :func:`import_areas` reads a CSV of ``municipality_code`` (``codigo_ibge``, ``municipio``) and
  stores it as a priority area with its source and date.

Every row is validated first (a known IBGE microregion or municipality, a class code, no line
twice); one bad row and nothing is written, and every bad row is named ``line N: field: reason``.
Files are bounded as every import is (:mod:`states.bounds`). Each import is one transaction with
one audit entry (``tipologia_importada``, ``area_prioritaria_importada``), carrying the name,
version or date, source, the number of rows and the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from states.bounds import Bounded
from states.errors import InvalidInput
from states.models import Municipality
from states.records import (
    PriorityArea,
    PriorityAreaMunicipality,
    Typology,
    TypologyClass,
)
from states.territory import typology_in_force
from states.text import N_, Text, join
from tasks.demands import check_actor
from tasks.people import ImportRejected, csv_records, decode_csv
from tasks.records_common import audit_record, parse_input
from tasks.runtime import Runtime

CLASS_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

_TYPOLOGY_COLUMNS = {
    "microregion_code": "microregion_code",
    "microrregiao": "microregion_code",
    "codigo_microrregiao": "microregion_code",
    "pndr_class": "pndr_class",
    "class": "pndr_class",
    "classe": "pndr_class",
}
_AREA_COLUMNS = {
    "municipality_code": "municipality_code",
    "codigo_ibge": "municipality_code",
    "municipio": "municipality_code",
}


class TypologyInput(Bounded):
    name: str = Field(min_length=1, max_length=120)
    version: str = Field(min_length=1, max_length=40)
    source: str = Field(min_length=1, max_length=500)
    published_on: date | None = None
    illustrative: bool = False


class AreaInput(Bounded):
    name: str = Field(min_length=1, max_length=120)
    source: str = Field(min_length=1, max_length=500)
    as_of: date
    illustrative: bool = False


@dataclass(frozen=True)
class TypologyImport:
    typology_id: int
    name: str
    version: str
    microregions: int
    classes: dict[str, int]
    seq: int
    #: the typology in force before this one (name and version), None if it is the first
    replaced: str | None


@dataclass(frozen=True)
class AreaImport:
    area_id: int
    name: str
    as_of: date
    municipalities: int
    seq: int


#: the files' names, as the rejection shows them
_FILES: dict[str, Text] = {
    "typology file": N_("typology file"),
    "priority area file": N_("priority area file"),
}


class TerritoryImportRejected(ImportRejected):
    """A territory file with bad rows, nothing written (:class:`ImportRejected`), the file
    named in the reader's language."""

    def __init__(self, what: str, problems: Sequence[tuple[int, Text]]) -> None:
        super().__init__(_FILES.get(what, what), problems)


def _rows(
    data: bytes | str, what: str, aliases: dict[str, str], required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], str]:
    """The rows of a CSV (line, cells by column) and the file's SHA-256; the header is line 1."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    text = decode_csv(raw, what)
    records = iter(csv_records(text, what))
    header = next(records, None)
    if header is None:
        raise InvalidInput(N_("%(what)s: empty (no header line)", what=what), field="file")
    columns: list[str | None] = []
    for cell in header[1]:
        key = aliases.get(cell.strip().lower().replace(" ", "_").replace("-", "_"))
        columns.append(key)
    missing = [c for c in required if c not in columns]
    if missing:
        raise TerritoryImportRejected(
            what,
            [
                (
                    header[0],
                    N_(
                        "missing column %(column)s (expected %(expected)s)",
                        column=", ".join(missing),
                        expected=",".join(required),
                    ),
                )
            ],
        )
    rows: list[tuple[int, dict[str, str]]] = []
    for line, cells in records:
        values = {
            key: cell.strip() for key, cell in zip(columns, cells, strict=False) if key is not None
        }
        rows.append((line, values))
    if not rows:
        raise InvalidInput(N_("%(what)s: no rows after the header", what=what), field="file")
    return rows, digest


def _code(value: str, digits: int) -> int | None:
    return int(value) if value.isdigit() and len(value) == digits else None


def import_typology(
    rt: Runtime,
    data: bytes | str,
    *,
    name: str,
    version: str,
    source: str,
    published_on: date | None = None,
    illustrative: bool = False,
    actor: str,
) -> TypologyImport:
    """Import one version of a PNDR typology; it is in force from now on (the latest imported).

    Refused, nothing written: a name and version already imported, a file over its bounds, a
    bad row (an unknown or malformed microregion code, a class that is not a code such as
    ``baixa_renda``, a microregion given twice), each named by its line.
    """
    check_actor(actor)
    meta = parse_input(
        TypologyInput,
        {
            "name": name,
            "version": version,
            "source": source,
            "published_on": published_on,
            "illustrative": illustrative,
        },
        "typology",
    )
    what = "typology file"
    rows, digest = _rows(data, what, _TYPOLOGY_COLUMNS, ("microregion_code", "pndr_class"))
    problems: list[tuple[int, Text]] = []
    parsed: list[tuple[int, int, str]] = []
    seen: dict[int, int] = {}
    for line, values in rows:
        reasons: list[Text] = []
        raw_code = values.get("microregion_code", "")
        code = _code(raw_code, 5)
        if code is None:
            reasons.append(
                N_(
                    "microregion_code: %(value)s is not a 5-digit IBGE microregion code",
                    value=repr(raw_code),
                )
            )
        elif code in seen:
            reasons.append(
                N_(
                    "microregion_code: %(code)s already on line %(line)s",
                    code=str(code),
                    line=seen[code],
                )
            )
        pndr_class = values.get("pndr_class", "").lower()
        if not CLASS_CODE.match(pndr_class):
            reasons.append(
                N_(
                    "pndr_class: %(value)s is not a class code (lower-case letters, digits "
                    "and '_', e.g. baixa_renda)",
                    value=repr(values.get("pndr_class", "")),
                )
            )
        if reasons:
            problems.append((line, join(reasons, "; ")))
            continue
        assert code is not None
        seen[code] = line
        parsed.append((line, code, pndr_class))
    with rt.db.write() as session:
        known = set(session.execute(select(Municipality.microregion_code).distinct()).scalars())
        for line, code, _ in parsed:
            if code not in known:
                problems.append(
                    (
                        line,
                        N_(
                            "microregion_code: %(code)s is not an IBGE microregion",
                            code=str(code),
                        ),
                    )
                )
        if problems:
            raise TerritoryImportRejected(what, problems)
        existing = session.execute(
            select(Typology.id).where(Typology.name == meta.name, Typology.version == meta.version)
        ).first()
        if existing is not None:
            raise _duplicate_version(meta.name, meta.version)
        before = typology_in_force(session)
        now = rt.clock.now()
        typology = Typology(
            name=meta.name,
            version=meta.version,
            source=meta.source,
            published_on=meta.published_on,
            illustrative=meta.illustrative,
            microregions=len(parsed),
            imported_at=now,
            imported_by=actor,
        )
        session.add(typology)
        try:
            session.flush()
        except IntegrityError:  # imported meanwhile by someone else (PostgreSQL)
            raise _duplicate_version(meta.name, meta.version) from None
        session.execute(
            insert(TypologyClass),
            [
                {"typology_id": typology.id, "microregion_code": code, "pndr_class": cls}
                for _, code, cls in parsed
            ],
        )
        classes = dict(sorted(Counter(cls for _, _, cls in parsed).items()))
        evidence: dict[str, Any] = {
            "name": meta.name,
            "version": meta.version,
            "source": meta.source,
            "published_on": meta.published_on.isoformat() if meta.published_on else None,
            "illustrative": meta.illustrative,
            "microregions": len(parsed),
            "classes": classes,
            "file_sha256": digest,
        }
        row = audit_record(
            session,
            rt,
            event="tipologia_importada",
            actor=actor,
            record_type="typology",
            record_id=typology.id,
            case=None,
            evidence=evidence,
        )
        return TypologyImport(
            typology.id,
            meta.name,
            meta.version,
            len(parsed),
            classes,
            row.seq,
            f"{before.name} {before.version}" if before is not None else None,
        )


def _duplicate_version(name: str, version: str) -> InvalidInput:
    return InvalidInput(
        N_(
            "typology %(name)s version %(version)s was already imported; a revised table is "
            "imported as a new version",
            name=name,
            version=version,
        ),
        field="version",
    )


def import_areas(
    rt: Runtime,
    data: bytes | str,
    *,
    name: str,
    source: str,
    as_of: date,
    illustrative: bool = False,
    actor: str,
) -> AreaImport:
    """Import a priority area (a set of municipalities) with its source and date.

    Refused, nothing written: the same name and date already imported, a file over its
    bounds, a bad row (an unknown or malformed municipality code, one given twice), each named
    by its line. A later date under the same name supersedes the earlier set where areas are
    shown.
    """
    check_actor(actor)
    meta = parse_input(
        AreaInput,
        {"name": name, "source": source, "as_of": as_of, "illustrative": illustrative},
        "priority area",
    )
    what = "priority area file"
    rows, digest = _rows(data, what, _AREA_COLUMNS, ("municipality_code",))
    problems: list[tuple[int, Text]] = []
    parsed: list[tuple[int, int]] = []
    seen: dict[int, int] = {}
    for line, values in rows:
        raw_code = values.get("municipality_code", "")
        code = _code(raw_code, 7)
        if code is None:
            problems.append(
                (
                    line,
                    N_(
                        "municipality_code: %(value)s is not a 7-digit IBGE municipality code",
                        value=repr(raw_code),
                    ),
                )
            )
        elif code in seen:
            problems.append(
                (
                    line,
                    N_(
                        "municipality_code: %(code)s already on line %(line)s",
                        code=str(code),
                        line=seen[code],
                    ),
                )
            )
        else:
            seen[code] = line
            parsed.append((line, code))
    with rt.db.write() as session:
        # IBGE's 5,570 codes, read whole: a file's 50,000 codes would not fit in one IN
        known = set(session.execute(select(Municipality.ibge_code)).scalars())
        for line, code in parsed:
            if code not in known:
                problems.append(
                    (
                        line,
                        N_(
                            "municipality_code: %(code)s is not in IBGE's list of municipalities",
                            code=str(code),
                        ),
                    )
                )
        if problems:
            raise TerritoryImportRejected(what, problems)
        clash = session.execute(
            select(PriorityArea.id).where(
                PriorityArea.name == meta.name, PriorityArea.as_of == meta.as_of
            )
        ).first()
        if clash is not None:
            raise _duplicate_area(meta.name, meta.as_of)
        area = PriorityArea(
            name=meta.name,
            source=meta.source,
            as_of=meta.as_of,
            illustrative=meta.illustrative,
            municipalities=len(parsed),
            imported_at=rt.clock.now(),
            imported_by=actor,
        )
        session.add(area)
        try:
            session.flush()
        except IntegrityError:
            raise _duplicate_area(meta.name, meta.as_of) from None
        session.execute(
            insert(PriorityAreaMunicipality),
            [{"area_id": area.id, "municipality_code": code} for _, code in parsed],
        )
        row = audit_record(
            session,
            rt,
            event="area_prioritaria_importada",
            actor=actor,
            record_type="priority_area",
            record_id=area.id,
            case=None,
            evidence={
                "name": meta.name,
                "source": meta.source,
                "as_of": meta.as_of.isoformat(),
                "illustrative": meta.illustrative,
                "municipalities": len(parsed),
                "file_sha256": digest,
            },
        )
        return AreaImport(area.id, meta.name, meta.as_of, len(parsed), row.seq)


def _duplicate_area(name: str, as_of: date) -> InvalidInput:
    return InvalidInput(
        N_(
            "priority area %(name)s of %(day)s was already imported; a revised list is "
            "imported with its own date",
            name=name,
            day=as_of,
        ),
        field="date",
    )


def listing(rt: Runtime) -> dict[str, Any]:
    """The typologies (the one in force marked), the priority areas and the modules."""
    from states.territory import configured_modules

    with rt.db.read() as session:
        in_force = typology_in_force(session)
        typologies = [
            {
                "id": t.id,
                "name": t.name,
                "version": t.version,
                "source": t.source,
                "published_on": t.published_on.isoformat() if t.published_on else None,
                "illustrative": t.illustrative,
                "microregions": t.microregions,
                "imported_at": t.imported_at.isoformat(),
                "imported_by": t.imported_by,
                "in_force": in_force is not None and t.id == in_force.id,
            }
            for t in session.execute(select(Typology).order_by(Typology.id)).scalars()
        ]
        areas = [
            {
                "id": a.id,
                "name": a.name,
                "source": a.source,
                "as_of": a.as_of.isoformat(),
                "illustrative": a.illustrative,
                "municipalities": a.municipalities,
                "imported_by": a.imported_by,
            }
            for a in session.execute(
                select(PriorityArea).order_by(PriorityArea.name, PriorityArea.as_of)
            ).scalars()
        ]
    modules = [
        {
            "code": m.code,
            "label": m.label,
            "ufs": sorted(m.ufs),
            "municipalities": sorted(m.municipalities),
        }
        for m in configured_modules().modules
    ]
    return {"typologies": typologies, "priority_areas": areas, "modules": modules}
