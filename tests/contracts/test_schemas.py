"""The fast runtime validator and the python jsonschema reference agree on every fixture."""

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.figures import budget
from support.helpers import ROOT

from builder.contracts.schemas import (
    SCHEMA_NAMES,
    _dispatched,
    fast_check,
    fast_validator,
    load_schema,
    reference_validator,
)

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
        "stance not a choice": m(
            lambda t: next(r for r in res(t) if r.get("from_name") == "stance")["value"].update(
                choices=["MAYBE"]
            )
        ),
        "relation label": m(
            lambda t: next(r for r in res(t) if r["type"] == "relation").update(labels=["about"])
        ),
        "relation without to_id": m(
            lambda t: next(r for r in res(t) if r["type"] == "relation").pop("to_id")
        ),
        "unknown result type": m(lambda t: res(t)[0].update(type="rectanglelabels")),
        "to_name": m(lambda t: res(t)[0].update(to_name="image")),
        "completed_by list": m(lambda t: t["annotations"][0].update(completed_by=[1])),
    }


CASES = _mutations()


@pytest.mark.parametrize("case", CASES)
def test_fast_and_reference_validators_agree(case: str):
    instance = CASES[case]
    fast = sorted(
        tuple(e.instance_path) for e in fast_validator("labelstudio-task").iter_errors(instance)
    )
    ref = sorted(
        tuple(e.absolute_path)
        for e in reference_validator("labelstudio-task").iter_errors(instance)
    )
    assert (fast == []) == (case == "valid")
    assert (ref == []) == (case == "valid")
    assert set(fast) == set(ref)


def test_if_then_branching_names_the_exact_field():
    errors = list(fast_validator("labelstudio-task").iter_errors(CASES["unknown entity label"]))
    assert [list(e.instance_path) for e in errors] == [
        ["annotations", 0, "result", 0, "value", "labels", 0]
    ]


@pytest.mark.parametrize("name", ["documents", "article"])
def test_release_and_article_schemas_agree(name: str):
    instance = {"id": "x"}
    fast = {tuple(e.instance_path) for e in fast_validator(name).iter_errors(instance)}
    ref = {tuple(e.absolute_path) for e in reference_validator(name).iter_errors(instance)}
    assert fast == ref


# --- fast_check: the same verdicts from the rewritten export schema ---------------------------

THREE = json.loads((ROOT / "tests" / "fixtures" / "three_annotators.json").read_text("utf-8"))
CONTROLS = ["entity", "claim", "stance", "attribution", "portrayal"]
ODD = st.one_of(
    st.sampled_from(
        [
            *CONTROLS,
            "sentiment",
            "",
            "labels",
            "choices",
            "relation",
            "text",
            "PER",
            "FAVOR",
            "CLAIM",
            "claimer",
            "Entity",
        ]
    ),
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.just([]),
    st.just({}),
    st.just(["PER"]),
    st.just({"start": 0, "end": 1, "text": "x"}),
)


@st.composite
def mutated_task(draw: st.DrawFn) -> Any:
    """A task with a few results changed where the rewrite matters: the kind keys, the values
    that depend on them, missing keys, values of the wrong type."""
    task = copy.deepcopy(draw(st.sampled_from([*GOLD, *THREE])))
    results = [r for a in task["annotations"] for r in a["result"]]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(results) - 1))
        r = results[i]
        what = draw(
            st.sampled_from(
                [
                    "from_name",
                    "type",
                    "to_name",
                    "drop",
                    "value",
                    "inner",
                    "not-an-object",
                    "swap-value",
                ]
            )
        )
        if what == "drop" and isinstance(r, dict) and r:
            r.pop(draw(st.sampled_from(sorted(r))))
        elif (
            what == "inner"
            and isinstance(r, dict)
            and isinstance(r.get("value"), dict)
            and r["value"]
        ):
            r["value"][draw(st.sampled_from(sorted(r["value"])))] = draw(ODD)
        elif what == "not-an-object":
            results[i] = draw(ODD)
            for a in task["annotations"]:
                a["result"] = [results[i] if x is r else x for x in a["result"]]
        elif what == "swap-value" and isinstance(r, dict):
            other = draw(st.sampled_from(results))
            if isinstance(other, dict) and "value" in other:
                r["value"] = copy.deepcopy(other["value"])
        elif isinstance(r, dict) and what in ("from_name", "type", "to_name", "value"):
            r[what] = draw(ODD)
    return task


def test_dispatch_rewrites_only_the_kind_lists():
    rewritten = _dispatched(load_schema("labelstudio-task"))
    assert rewritten != load_schema("labelstudio-task")
    assert "anyOf" in rewritten["$defs"]["result"]["else"]
    assert "allOf" not in rewritten["$defs"]["result"]["else"]
    for name in SCHEMA_NAMES:
        if name != "labelstudio-task":
            assert _dispatched(load_schema(name)) == load_schema(name), name


@pytest.mark.parametrize("case", CASES)
def test_fast_check_agrees_on_the_mutations(case: str):
    assert fast_check("labelstudio-task")(CASES[case]) == (case == "valid")


def test_fast_check_agrees_with_both_validators_on_random_mutations():
    slow = fast_validator("labelstudio-task")
    ref = reference_validator("labelstudio-task")
    seen = {True: 0, False: 0}

    @settings(
        max_examples=budget("CLAIMWIRE_FUZZ_EXAMPLES", 300),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(mutated_task())
    def run(task: Any) -> None:
        verdict = fast_check("labelstudio-task")(task)
        assert verdict == slow.is_valid(task) == ref.is_valid(task)
        seen[verdict] += 1

    run()
    assert seen[False] > 0
