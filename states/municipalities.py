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

#: The time zone of a UF's capital, for the few rows of the reference file without one
#: (Jussiape/BA and Lapa/PR in the 2024 list). Where a UF spans zones, the file's own value wins.
UF_TIMEZONE = {
    "AC": "America/Rio_Branco", "AL": "America/Maceio", "AM": "America/Manaus",
    "AP": "America/Belem", "BA": "America/Bahia", "CE": "America/Fortaleza",
    "DF": "America/Sao_Paulo", "ES": "America/Sao_Paulo", "GO": "America/Sao_Paulo",
    "MA": "America/Fortaleza", "MG": "America/Sao_Paulo", "MS": "America/Campo_Grande",
    "MT": "America/Cuiaba", "PA": "America/Belem", "PB": "America/Fortaleza",
    "PE": "America/Recife", "PI": "America/Fortaleza", "PR": "America/Sao_Paulo",
    "RJ": "America/Sao_Paulo", "RN": "America/Fortaleza", "RO": "America/Porto_Velho",
    "RR": "America/Boa_Vista", "RS": "America/Sao_Paulo", "SC": "America/Sao_Paulo",
    "SE": "America/Maceio", "SP": "America/Sao_Paulo", "TO": "America/Araguaina",
}  # fmt: skip


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
                "timezone": row["timezone"] or UF_TIMEZONE[row["uf"]],
            }
            for row in csv.DictReader(handle)
        ]
