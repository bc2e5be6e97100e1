"""The fast runtime validator and the python jsonschema reference agree on every fixture."""

import copy
import json
from typing import Any

import pytest

from builder.schemas import fast_validator, reference_validator
from helpers import ROOT

GOLD = json.loads((ROOT / "annotations" / "exports" / "gold.json").read_text(encoding="utf-8"))
TASK = GOLD[0]


def _mutations() -> dict[str, Any]:
    def m(fn):
        t = copy.deepcopy(TASK)
        fn(t)
        return t

    res = lambda t: t["annotations"][0]["result"]  # noqa: E731
    return {
        "valid": TASK,
        "id is a string": m(lambda t: t.update(id="1")),
        "no data": m(lambda t: t.pop("data")),
        "no article id": m(lambda t: t["data"].pop("article_id")),
        "bad sha": m(lambda t: t["data"].update(text_sha256="xyz")),
        "unknown control": m(lambda t: res(t)[0].update(from_name="sentiment")),
        "unknown entity label": m(lambda t: res(t)[0]["value"].update(labels=["MISC"])),
        "two labels": m(lambda t: res(t)[0]["value"].update(labels=["PER", "ORG"])),
        "negative start": m(lambda t: res(t)[0]["value"].update(start=-1)),
        "start is a string": m(lambda t: res(t)[0]["value"].update(start="0")),
        "stance not a choice": m(lambda t: next(r for r in res(t) if r.get("from_name") ==
                                               "stance")["value"].update(choices=["MAYBE"])),
        "relation label": m(lambda t: next(r for r in res(t) if r["type"] == "relation")
                            .update(labels=["about"])),
        "relation without to_id": m(lambda t: next(r for r in res(t) if r["type"] == "relation")
                                    .pop("to_id")),
        "unknown result type": m(lambda t: res(t)[0].update(type="rectanglelabels")),
        "to_name": m(lambda t: res(t)[0].update(to_name="image")),
        "completed_by list": m(lambda t: t["annotations"][0].update(completed_by=[1])),
    }


CASES = _mutations()


@pytest.mark.parametrize("case", CASES)
def test_fast_and_reference_validators_agree(case: str):
    instance = CASES[case]
    fast = sorted(tuple(e.instance_path) for e in fast_validator("labelstudio-task")
                  .iter_errors(instance))
    ref = sorted(tuple(e.absolute_path) for e in reference_validator("labelstudio-task")
                 .iter_errors(instance))
    assert (fast == []) == (case == "valid")
    assert (ref == []) == (case == "valid")
    assert set(fast) == set(ref)


def test_if_then_branching_names_the_exact_field():
    errors = list(fast_validator("labelstudio-task").iter_errors(CASES["unknown entity label"]))
    assert [list(e.instance_path) for e in errors] == [
        ["annotations", 0, "result", 0, "value", "labels", 0]]


@pytest.mark.parametrize("name", ["documents", "article"])
def test_release_and_article_schemas_agree(name: str):
    instance = {"id": "x"}
    fast = {tuple(e.instance_path) for e in fast_validator(name).iter_errors(instance)}
    ref = {tuple(e.absolute_path) for e in reference_validator(name).iter_errors(instance)}
    assert fast == ref
