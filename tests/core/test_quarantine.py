"""Quarantine at merge: the smallest inconsistent unit of an annotation is set aside with where it
came from and why; the rest is merged, votes and counts as usual."""

from __future__ import annotations

import copy

import pytest
from support.drift import ARTICLE, CLEAN, RAW, span, task
from support.drift import claim as claim_results

from builder.core.merge import merge
from builder.core.quarantine import CLAIMERS, Quarantined, result_index, unit
from builder.errors import InvalidDataError


def _quarantine(results, text=CLEAN) -> tuple[object, list[Quarantined]]:
    held: list[Quarantined] = []
    doc = merge(ARTICLE, task(text, results), quarantine=held)
    return doc, held


def test_a_consistent_annotation_sets_nothing_aside():
    doc, held = _quarantine(claim_results(CLEAN))
    assert held == [] and doc is not None and len(doc.claims) == 1


def test_an_author_claim_with_a_claimer_goes_with_its_choices_and_relations():
    results = claim_results(CLEAN)
    results[4]["value"]["choices"] = ["AUTHOR"]
    with pytest.raises(InvalidDataError):
        merge(ARTICLE, task(CLEAN, copy.deepcopy(results)))  # the default: fail
    doc, held = _quarantine(results)
    assert doc is not None and doc.claims == () and len(doc.entities) == 2
    (q,) = held
    assert q.rule == "an AUTHOR claim has a claimer relation"
    assert q.pointer == "/0/annotations/0/result/2"
    assert (q.file, q.task, q.article, q.annotation) == ("export.json", 1, "a1", 7)
    assert q.annotator is not None and q.annotator.startswith("ann-")
    # the claim, its two choices, and both relations, as exported
    assert list(q.results) == [results[k] for k in (2, 3, 4, 5, 6)]
    assert q.to_json()["fix"] == "either mark it REPORTED or delete the claimer relation"


def test_an_orphan_choice_goes_alone():
    results = claim_results(CLEAN)
    orphan = copy.deepcopy(results[3])
    orphan["id"] = "nowhere"
    doc, held = _quarantine([*results, orphan])
    assert doc is not None and len(doc.claims) == 1
    assert [(q.rule, q.results) for q in held] == [
        ("per-region choice 'stance' attaches to no region", (orphan,))
    ]


def test_a_relation_between_two_entities_goes_alone():
    results = claim_results(CLEAN)
    wrong = {
        "type": "relation",
        "from_id": "e1",
        "to_id": "e2",
        "direction": "right",
        "labels": ["target"],
    }
    doc, held = _quarantine([*results, wrong])
    assert doc is not None and len(doc.claims) == 1
    assert [q.results for q in held] == [(wrong,)]


def test_removing_an_entity_takes_the_claims_that_needed_it():
    """A span with bad offsets is set aside with its relations; its claim then lacks a claimer
    and goes too, in a second round."""
    results = claim_results(CLEAN)
    results[0]["value"]["start"] = 3  # 'ce Smith' != 'Alice Smith'
    doc, held = _quarantine(results)
    assert doc is not None and doc.claims == ()
    assert [q.rule for q in held] == [
        "span offsets do not match the span text",
        "a REPORTED claim needs a claimer relation",
    ]
    assert [e.text for e in doc.entities] == ["Bob Jones"]


def test_a_drifted_task_sets_aside_only_the_spans_it_cannot_carry():
    raw = "Monday, 1 January\n" + RAW
    results = [*claim_results(raw), span("e3", raw, "Monday")]
    doc, held = _quarantine(results, raw)
    assert doc is not None and len(doc.claims) == 1 and len(doc.entities) == 2
    (q,) = held
    assert q.rule.startswith("a span cannot be carried over to the cleaned article")
    assert q.results == (results[7],)  # as exported, at the task's own offsets


def test_a_second_claimer_takes_the_whole_claim_with_it():
    results = claim_results(CLEAN)
    second = {
        "type": "relation",
        "from_id": "c1",
        "to_id": "e2",
        "direction": "right",
        "labels": ["claimer"],
    }
    doc, held = _quarantine([*results, second])
    assert doc is not None and doc.claims == () and len(doc.entities) == 2
    (q,) = held
    assert (q.rule, q.pointer) == (CLAIMERS, "/0/annotations/0/result/7")
    assert list(q.results) == [*results[2:], second]


def test_a_quarantined_unit_as_a_line_of_quarantine_jsonl():
    q = Quarantined(
        file="export.json",
        line=3,
        column=5,
        task=1,
        article="a1",
        annotation=7,
        annotator="ann-x",
        pointer="/0/annotations/0/result/2",
        rule="r",
        fix="f",
        results=({"id": "c1"},),
    )
    assert q.to_json() == {
        "file": "export.json",
        "line": 3,
        "column": 5,
        "task": 1,
        "article": "a1",
        "annotation": 7,
        "annotator": "ann-x",
        "pointer": "/0/annotations/0/result/2",
        "rule": "r",
        "fix": "f",
        "results": [{"id": "c1"}],
    }


BASE = "/0/annotations/0/result"


@pytest.mark.parametrize(
    "pointer,index",
    [
        (f"{BASE}/3", 3),
        (f"{BASE}/12/value/start", 12),
        (f"{BASE}/x/value", None),
        (BASE, None),
        ("/0/annotations/1/result/3", None),  # another annotation's result, same length
        ("", None),
        (None, None),
    ],
)
def test_the_result_a_problem_points_at(pointer: str | None, index: int | None):
    assert result_index(pointer, BASE) == index


def test_the_unit_of_a_relation_is_the_relation_unless_it_is_a_second_claimer():
    results = claim_results(CLEAN)
    backwards = {**results[5], "from_id": "e2", "to_id": "c1"}  # drawn from the entity
    between = {**results[5], "from_id": "e1", "to_id": "e2"}  # two entities: no claim to take
    rows = [None, *results, backwards, between]
    assert unit(rows, 6, "a relation links a claim and an entity") == [6]
    assert unit(rows, 6, CLAIMERS) == [3, 4, 5, 6, 7, 8]
    assert unit(rows, 8, CLAIMERS) == [3, 4, 5, 6, 7, 8]
    assert unit(rows, 9, CLAIMERS) == [9]
    assert unit(rows, 0, CLAIMERS) == []
    assert unit(rows, 4, "anything") == [4]  # a choice goes alone
    assert unit(rows, 1, "anything") == [1, 6, 9]  # an entity with the relations touching it
