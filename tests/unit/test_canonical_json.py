"""The entries' canonical JSON is RFC 8785's, byte for byte, whichever encoder writes it."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from states.audit import canonical_json

SAFE = 2**53 - 1
# every character class a person can type, control characters and astral ones included
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
SCALARS = st.none() | st.booleans() | st.integers(-SAFE, SAFE) | TEXT
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=30,
)


def jcs(value: Any) -> str:
    return rfc8785.dumps(value).decode("utf-8")


@settings(max_examples=1000, deadline=None)
@given(VALUES)
def test_any_value_without_floats_is_written_as_rfc8785_writes_it(value: Any) -> None:
    assert canonical_json(value) == jcs(value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TEXT, SCALARS | st.floats(allow_nan=False, allow_infinity=False)))
def test_floats_and_unicode_keys_too(value: Any) -> None:
    assert canonical_json(value) == jcs(value)


def test_the_cases_where_the_two_encoders_would_differ() -> None:
    # keys beyond the BMP sort by UTF-16 code units in JCS, by code points in Python
    keys = {"\U0001f600": 1, "\ufb01": 2}
    assert canonical_json(keys) == jcs(keys) == '{"\U0001f600":1,"\ufb01":2}'
    # numbers: JCS writes 1e+21 and 1.5, and refuses whole numbers past 2**53 - 1
    assert canonical_json({"n": 1e21, "m": 1.5}) == '{"m":1.5,"n":1e+21}'
    assert canonical_json({"c": '\x00\x1f\x7f\u2028"\\'}) == jcs({"c": '\x00\x1f\x7f\u2028"\\'})
