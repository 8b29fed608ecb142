"""``produzir territory``: the PNDR typologies, the priority areas and the regional modules.

``import-typology`` and ``import-areas`` are administrator commands: the PNDR classification
(Decreto 11.962/2024) and the priority areas are data the ministry publishes and revises, so they
are imported, each with its source, never typed; ``show`` lists what was imported (the typology
in force marked) and the configured modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from console.common import By, Json, command_group, out, parse_date, runtime
from console.output import as_json, echo, table
from states.bounds import IMPORT_MAX_BYTES
from states.errors import InvalidInput
from states.text import N_
from tasks import territory

app = command_group("Territory: PNDR typologies, priority areas and regional modules.", "territory")

File = Annotated[Path, typer.Argument(help="The CSV file.")]
Source = Annotated[
    str, typer.Option("--source", help="Where the table comes from (the act, its publication).")
]
Illustrative = Annotated[
    bool,
    typer.Option(
        "--illustrative", help="An illustrative table (a demo's), labelled so wherever shown."
    ),
]


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > IMPORT_MAX_BYTES:
            raise InvalidInput(
                N_(
                    "%(path)s: %(size)s bytes; at most %(max)s",
                    path=str(path),
                    size=size,
                    max=IMPORT_MAX_BYTES,
                ),
                field="file",
            )
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            N_("%(path)s: cannot be read (%(strerror)s)", path=str(path), strerror=exc.strerror),
            field="file",
        ) from None


@app.command("import-typology")
def import_typology(
    file: File,
    name: Annotated[str, typer.Option("--name", help="The typology's name, e.g. PNDR.")],
    version: Annotated[str, typer.Option("--version", help="Its version, e.g. 2024.")],
    source: Source,
    by: By,
    published_on: Annotated[
        str | None, typer.Option("--published-on", help="Its publication date (YYYY-MM-DD).")
    ] = None,
    illustrative: Illustrative = False,
    as_json_: Json = False,
) -> None:
    """Import a version of a PNDR typology (CSV `microregion_code,pndr_class`); it is in force
    from now on. All rows or none: each bad row is listed with its line."""
    result = territory.import_typology(
        runtime(),
        _read(file),
        name=name,
        version=version,
        source=source,
        published_on=parse_date(published_on, "published-on") if published_on else None,
        illustrative=illustrative,
        actor=by,
    )
    if as_json_:
        echo(as_json(result.__dict__))
        return
    out(
        N_(
            "typology %(name)s %(version)s imported: %(n)s microregions; it is in force from now on",
            name=result.name,
            version=result.version,
            n=result.microregions,
        )
    )
    if result.replaced:
        out(N_("it replaces %(previous)s", previous=result.replaced))


@app.command("import-areas")
def import_areas(
    file: File,
    name: Annotated[str, typer.Option("--name", help="The area's name, e.g. Semiárido.")],
    source: Source,
    day: Annotated[str, typer.Option("--date", help="The date of the source (YYYY-MM-DD).")],
    by: By,
    illustrative: Illustrative = False,
    as_json_: Json = False,
) -> None:
    """Import a priority area: the municipalities (CSV `municipality_code`) of a set such as
    Semiárido, Faixa de Fronteira or Amazônia Legal, with its source and date."""
    result = territory.import_areas(
        runtime(),
        _read(file),
        name=name,
        source=source,
        as_of=parse_date(day, "date"),
        illustrative=illustrative,
        actor=by,
    )
    if as_json_:
        echo(as_json({**result.__dict__, "as_of": result.as_of.isoformat()}))
        return
    out(
        N_(
            "priority area %(name)s of %(day)s imported: %(n)s municipalities",
            name=result.name,
            day=result.as_of,
            n=result.municipalities,
        )
    )


@app.command("show")
def show(as_json_: Json = False) -> None:
    """The typologies imported (the one in force marked), the priority areas and the modules."""
    listing = territory.listing(runtime())
    if as_json_:
        echo(as_json(listing))
        return
    illustrative = " (ilustrativo)"
    rows = [
        {
            **t,
            "in_force": "*" if t["in_force"] else "",
            "name": t["name"] + (illustrative if t["illustrative"] else ""),
        }
        for t in listing["typologies"]
    ]
    echo(
        table(
            rows,
            [
                ("in_force", "in force"),
                ("name", "typology"),
                ("version", "version"),
                ("microregions", "microregions"),
                ("published_on", "published"),
                ("source", "source"),
            ],
        )
    )
    echo("")
    areas = [
        {**a, "name": a["name"] + (illustrative if a["illustrative"] else "")}
        for a in listing["priority_areas"]
    ]
    echo(
        table(
            areas,
            [
                ("name", "priority area"),
                ("as_of", "date"),
                ("municipalities", "municipalities"),
                ("source", "source"),
            ],
        )
    )
    echo("")
    modules = [
        {**m, "ufs": " ".join(m["ufs"]), "municipalities": len(m["municipalities"])}
        for m in listing["modules"]
    ]
    echo(
        table(
            modules,
            [
                ("code", "module"),
                ("label", "label"),
                ("ufs", "UFs"),
                ("municipalities", "+ municipalities"),
            ],
        )
    )
