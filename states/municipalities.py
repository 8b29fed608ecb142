"""IBGE municipalities: the reference file shipped with Produzir (``states/data``).

A code is valid when it is in the table; IBGE's check digit has historical exceptions (nine
municipalities), so it is not used to judge a code.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import Any

REFERENCE_FILE = "municipios_ibge.csv"


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


def read_reference_csv() -> list[dict[str, Any]]:
    """The rows of ``states/data/municipios_ibge.csv`` as column dicts."""
    source = resources.files("states").joinpath("data", REFERENCE_FILE)
    with io.TextIOWrapper(source.open("rb"), encoding="utf-8", newline="") as handle:
        return [
            {
                "ibge_code": int(row["ibge_code"]),
                "name": row["name"],
                "uf": row["uf"],
                "state_name": row["state"],
                "region": row["region"],
                "mesoregion_code": int(row["mesoregion_code"]),
                "mesoregion": row["mesoregion"],
                "microregion_code": int(row["microregion_code"]),
                "microregion": row["microregion"],
                "latitude": _float(row["latitude"]),
                "longitude": _float(row["longitude"]),
                "timezone": row["timezone"],
            }
            for row in csv.DictReader(handle)
        ]
