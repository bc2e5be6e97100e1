"""Locating a JSON pointer: the vectorised jump to far array elements gives the same line and
column as walking element by element, on text with escapes, brackets in strings and non-ASCII."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.io import jsonpos

LEAF = st.one_of(
    st.integers(-5, 5),
    st.text(alphabet=st.sampled_from(list('ab"\\]}[{ é🙂\n,')), max_size=6),
    st.none(),
)
DOCS = st.recursive(
    LEAF,
    lambda inner: st.lists(inner, max_size=14) | st.dictionaries(st.sampled_from("xyz"), inner),
    max_leaves=60,
)


def _pointers(doc: object, prefix: str = "") -> list[str]:
    out = [prefix]
    if isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _pointers(v, f"{prefix}/{i}")
    elif isinstance(doc, dict):
        for k, v in doc.items():
            out += _pointers(v, f"{prefix}/{k}")
    return out


@settings(max_examples=150, deadline=None)
@given(DOCS, st.sampled_from([None, 1]))
def test_far_elements_are_located_as_a_walk_would(doc: object, indent: int | None):
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    pointers = _pointers(doc)
    fast = [jsonpos.locate(text, p) for p in pointers]
    saved = jsonpos._FAR
    jsonpos._FAR = 1 << 30  # the walk only
    try:
        walked = [jsonpos.locate(text, p) for p in pointers]
    finally:
        jsonpos._FAR = saved
    assert fast == walked
    assert None not in fast


@pytest.mark.parametrize("index", [0, 7, 8, 9, 30])
def test_an_element_past_the_end_is_not_found(index: int):
    text = json.dumps([list(range(index))])
    assert jsonpos.locate(text, f"/0/{index}") is None
