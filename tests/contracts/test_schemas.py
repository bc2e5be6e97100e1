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
    _expected,
    _mentions,
    _short,
    fast_check,
    fast_validator,
    iter_problems,
    load_schema,
    pointer,
    reference_validator,
    validate_instance,
)
from builder.errors import InvalidDataError, Problem

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


# --- the dispatch rewrite on small schemas: when it applies, and every case where it must not

KIND = {
    "type": "object",
    "required": ["kind"],
    "properties": {"kind": {"enum": ["a", "b"]}},
    "allOf": [
        {
            "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
            "then": {
                "required": ["x"],
                "properties": {"x": {"type": "string"}},
                "additionalProperties": False,
            },
        },
        {
            "if": {"properties": {"kind": {"const": "b"}}, "required": ["kind"]},
            "then": {"required": ["y"]},
        },
    ],
}


def _kind(change) -> dict[str, Any]:
    schema = copy.deepcopy(KIND)
    change(schema)
    return schema


def test_a_per_kind_if_list_becomes_a_choice_of_branches():
    branches = KIND["allOf"]
    assert _dispatched([KIND, 1]) == [
        {
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": ["a", "b"]}},
            "anyOf": [
                {"properties": {"kind": {"const": "a"}}, "allOf": [branches[0]["then"]]},
                {"properties": {"kind": {"const": "b"}}, "allOf": [branches[1]["then"]]},
            ],
        },
        1,
    ]


def _if(schema: dict[str, Any], k: int = 0) -> dict[str, Any]:
    cond: dict[str, Any] = schema["allOf"][k]["if"]
    return cond


NOT_REWRITTEN = {
    "already a choice": lambda s: s.update(anyOf=[{}]),
    "allOf is not a list": lambda s: s.update(allOf=5),
    "a branch is not an object": lambda s: s["allOf"].append(True),
    "a branch has an else": lambda s: s["allOf"][0].update({"else": {}}),
    "a then that is not only about objects": lambda s: s["allOf"][1]["then"].update(minimum=1),
    "a condition with another keyword": lambda s: _if(s).update(minProperties=1),
    "a condition on two properties": lambda s: _if(s)["properties"].update(z={"const": "a"}),
    "a condition that does not require its property": lambda s: _if(s).update(required=["z"]),
    "a constant with a title": lambda s: _if(s)["properties"]["kind"].update(title="t"),
    "a constant that is not a string": lambda s: _if(s)["properties"]["kind"].update(const=1),
    "conditions on two different properties": lambda s: _if(s, 1).update(
        properties={"other": {"const": "b"}}, required=["other"]
    ),
    "no properties": lambda s: s.pop("properties"),
    "the property is not required": lambda s: s.update(required=["x"]),
    "the property is not only an enum": lambda s: s["properties"]["kind"].update(type="string"),
    "the enum has another value": lambda s: s["properties"]["kind"]["enum"].append("c"),
    "a constant twice": lambda s: (
        _if(s, 1)["properties"]["kind"].update(const="a"),
        s["properties"]["kind"].update(enum=["a", "a"]),
    ),
}


@pytest.mark.parametrize("case", NOT_REWRITTEN)
def test_anything_else_is_left_as_it_is(case: str):
    schema = _kind(NOT_REWRITTEN[case])
    assert _dispatched(schema) == schema


@pytest.mark.parametrize(
    "schema,found",
    [
        ({"a": {"unevaluatedProperties": False}}, True),
        ({"a": [1, {"b": {"unevaluatedItems": {}}}]}, True),
        ([{"properties": {"unevaluatedItems": {}}}], True),  # a property of that name counts too
        ({"a": "unevaluatedProperties", "b": [1, "unevaluatedItems"]}, False),  # values do not
        ({"a": {"b": {}}}, False),
        ([], False),
        ([1, [2]], False),
    ],
)
def test_mentions_finds_keywords_at_any_depth(schema: Any, found: bool):
    assert _mentions(schema, ("unevaluatedProperties", "unevaluatedItems")) is found


# --- problems: pointer, what the schema wanted and which rule said so, what was found


def test_json_pointers_escape_tilde_then_slash():
    assert pointer(["a/b", "c~d", 0, "~/", "~1"]) == "/a~1b/c~0d/0/~0~1/~01"
    assert pointer([]) == ""


def test_problems_name_the_rule_and_the_value():
    task = copy.deepcopy(TASK)
    task["id"] = "1"
    task["data"].pop("article_id")
    task["annotations"][0]["result"][0]["value"]["labels"] = ["MISC"]
    rule = "schema/labelstudio-task.schema.json#"
    assert list(iter_problems("labelstudio-task", task, "/7")) == [
        Problem(
            '"MISC" is not one of "PER", "ORG" or 4 other candidates',
            pointer="/7/annotations/0/result/0/value/labels/0",
            expected=f"one of PER, ORG, GPE, LOC, NORP, EVENT ({rule}/$defs/entity_label/enum)",
            found="'MISC'",
        ),
        Problem(
            '"article_id" is a required property',
            pointer="/7/data",
            expected=f"a property 'article_id' ({rule}/properties/data/required)",
            # the object as jsonschema-rs gives it back (keys sorted), cut at 80 characters
            found='{"source":"Sputnik International","text":"Guaido Had \'Clandestine '
            "Meetings' Wit…",
        ),
        Problem(
            '"1" is not of type "integer"',
            pointer="/7/id",
            expected=f"type integer ({rule}/properties/id/type)",
            found="'1'",
        ),
    ]


def test_problems_of_other_kinds_list_the_rule_parameters():
    assert list(iter_problems("sources", {"S": {"drop_lines": ["("]}})) == [
        Problem(
            '"(" is not a "regex"',
            pointer="/S/drop_lines/0",
            expected="format format=regex (schema/sources.schema.json#/additionalProperties/"
            "properties/drop_lines/items/format)",
            found="'('",
        )
    ]
    assert (
        _expected("falseSchema", {}, ["a", "b"], "n") == "falseSchema (schema/n.schema.json#/a/b)"
    )
    assert (
        _expected("range", {"minimum": 1, "maximum": 3}, [], "n")
        == "range minimum=1, maximum=3 (schema/n.schema.json#)"
    )
    assert (
        _expected("type", {"types": ["integer", "null"]}, [], "n")
        == "type integer or null (schema/n.schema.json#)"
    )


def test_the_reference_validator_checks_formats_too():
    bad = {"S": {"drop_lines": ["("]}}
    assert not fast_validator("sources").is_valid(bad)
    assert not reference_validator("sources").is_valid(bad)


def test_an_unexpected_property_is_explained_in_words():
    (p,) = iter_problems("sources", {"S": {"drop": []}})
    assert p.expected == (
        "no properties besides those the schema lists "
        "(schema/sources.schema.json#/additionalProperties/additionalProperties)"
    )


def test_validate_instance_raises_every_problem_located():
    bad = {"S": {"drop_lines": ["(", "["]}}
    with pytest.raises(InvalidDataError) as err:
        validate_instance("sources", bad, file="sources.json", line=3)
    assert err.value.problems == [
        p.located(file="sources.json", line=3) for p in iter_problems("sources", bad)
    ]
    assert [p.pointer for p in err.value.problems] == ["/S/drop_lines/0", "/S/drop_lines/1"]
    validate_instance("sources", {"S": {}})  # valid: nothing raised
    with pytest.raises(InvalidDataError) as err:
        validate_instance("sources", bad, "/7")
    assert [p.pointer for p in err.value.problems] == ["/7/S/drop_lines/0", "/7/S/drop_lines/1"]


def test_a_value_nested_too_deep_to_validate_is_one_problem_at_its_root():
    deep: list[Any] = []
    inner = deep
    for _ in range(100_000):
        inner.append([])
        inner = inner[0]
    expected = "a value of schema/article.schema.json, not nested hundreds deep"
    assert list(iter_problems("article", deep, "/0")) == [
        Problem(
            "cannot validate this value: Recursion limit reached", pointer="/0", expected=expected
        )
    ]
    with pytest.raises(InvalidDataError) as err:
        validate_instance("article", deep, file="a.json")
    assert err.value.problems == [
        Problem(
            "cannot validate this value: Recursion limit reached",
            file="a.json",
            pointer="",
            expected=expected,
        )
    ]


@pytest.mark.parametrize(
    "value,short",
    [
        ("it's", '"it\'s"'),
        ({"a": [1, None]}, '{"a":[1,null]}'),
        ("x" * 78, repr("x" * 78)),  # 80 characters with its quotes
        ("x" * 79, repr("x" * 79)[:79] + "…"),
        ([1] * 40, "[" + ",".join(["1"] * 39) + ",…"),
    ],
)
def test_found_values_are_shown_short(value: Any, short: str):
    assert _short(value) == short
    assert len(short) <= 80
