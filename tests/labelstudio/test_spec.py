"""Span specs resolved to Label Studio results: mentions by surface form, claims by their text and
occurrence (a whole number, also when written 1.0: JSON Schema counts 1.0 as an integer)."""

from __future__ import annotations

import pytest

from builder.errors import InvalidDataError
from builder.labelstudio.spec import resolve

TEXT = "Ann Lee said rain fell. Ann Lee said rain fell."
SPEC = {
    "article_id": "a",
    "entities": [{"text": "Ann Lee", "label": "PER"}],
    "claims": [
        {
            "text": "rain fell",
            "claimer": "Ann Lee",
            "targets": ["Ann Lee"],
            "attribution": "REPORTED",
            "stance": "NEUTRAL",
        }
    ],
}


@pytest.mark.parametrize(("occurrence", "start"), [(1, 13), (2.0, 37), (2, 37)])
def test_a_claim_is_its_nth_match(occurrence: float, start: int):
    spec = {**SPEC, "claims": [{**SPEC["claims"][0], "occurrence": occurrence}]}
    results = resolve(spec, TEXT)
    (claim,) = [r for r in results if r.get("from_name") == "claim"]
    assert (claim["value"]["start"], claim["value"]["end"]) == (start, start + 9)
    assert claim["value"]["text"] == "rain fell"


def test_a_missing_occurrence_is_an_error_naming_the_claim():
    spec = {**SPEC, "claims": [{**SPEC["claims"][0], "occurrence": 3}]}
    with pytest.raises(InvalidDataError) as err:
        resolve(spec, TEXT, file="x.spec.json")
    (p,) = err.value.problems
    assert (p.message, p.pointer, p.expected) == (
        "claim text occurs 2 time(s) in the article",
        "/claims/0",
        "occurrence 3",
    )
