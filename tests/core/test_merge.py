import dataclasses
import hashlib
import json
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.drift import ARTICLE as DRIFT_ARTICLE
from support.drift import CLEAN, RAW, choice, span, task
from support.drift import claim as claim_results
from support.helpers import ROOT

from builder.core import merge as merge_module
from builder.core.merge import MergeStats, merge, pseudonym, versions
from builder.core.quarantine import Quarantined
from builder.errors import InvalidDataError, Problem
from builder.io.articles import read_articles
from builder.io.exports import read_export
from builder.records import Claim, Entity, decided, new_claim, new_entity

ARTICLE = next(read_articles(ROOT / "articles"))
TASK = next(read_export(ROOT / "annotations" / "exports" / "gold.json"))


def _ann(id: int, updated: str, ground_truth: bool = False) -> dict[str, Any]:
    return {"id": id, "updated_at": updated, "ground_truth": ground_truth, "result": []}


def test_cancelled_annotations_are_ignored():
    skipped = {**_ann(99, "2030-01-01"), "was_cancelled": True, "completed_by": 5}
    task = replace(TASK, annotations=(*TASK.annotations, skipped))
    doc = merge(ARTICLE, task)
    assert doc is not None and doc.annotation.adjudication == "single"
    assert doc.annotation.n_annotators == 1
    only_skipped = replace(TASK, annotations=(skipped,))
    assert merge(ARTICLE, only_skipped) is None


def test_pseudonyms_are_stable_salted_and_hide_the_id():
    assert pseudonym(1) == pseudonym({"id": 1, "email": "a@example.org"}) == pseudonym("1")
    assert pseudonym(1) != pseudonym(2)
    assert pseudonym(1, salt="other") != pseudonym(1)
    assert pseudonym(1) == "ann-" + __import__("hashlib").sha256(b"claimwire\x001").hexdigest()[:12]


def test_region_ids_are_preserved(tmp_path: Path):
    doc = merge(ARTICLE, TASK)
    assert doc is not None
    assert [c.id for c in doc.claims][:3] == ["c1", "c2", "c3"]
    assert doc.claims[0].claimer_id == "e001" and doc.claims[0].target_ids == ("e002",)


def test_fast_record_constructors_make_ordinary_frozen_records():
    for cls, make, args in (
        (Entity, new_entity, ("e1", 0, 6, "Maduro", "PER", "NEGATIVE", "majority")),
        (Claim, new_claim, ("c1", 7, 20, "said it", "e1", ("e2",), "REPORTED", "FAVOR")),
    ):
        # same slots as the dataclass's fields, in order: an added field must be added to both
        assert make.__slots__ == tuple(f.name for f in dataclasses.fields(cls))
        fast, slow = make(*args), cls(*args)
        assert type(fast) is cls and fast == slow and hash(fast) == hash(slow)
        assert repr(fast) == repr(slow)
        assert pickle.loads(pickle.dumps(fast)) == slow
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.id = "x"  # type: ignore[misc]
        assert decided(fast, "ground_truth") == dataclasses.replace(slow, decided_by="ground_truth")
        assert decided(slow, slow.decided_by) is slow


# --- exact checks on a small task (each assertion kills mutants of `make mutate`)

WHERE = {"file": "export.json", "task": 1, "article": "a1"}


def _problems(results, text=CLEAN, **changes) -> list[Problem]:
    with pytest.raises(InvalidDataError) as err:
        merge(DRIFT_ARTICLE, replace(task(text, results), **changes))
    return err.value.problems


def test_pseudonyms_take_the_id_else_the_email_whatever_the_case(monkeypatch):
    monkeypatch.setattr(merge_module, "_pseudonyms", {})  # computed here, not remembered
    assert pseudonym(1) == "ann-" + hashlib.sha256(b"claimwire\x001").hexdigest()[:12]
    digest = hashlib.sha256(b"s\x00alice@example.org").hexdigest()[:12]
    assert pseudonym({"email": " Alice@Example.ORG "}, salt="s") == f"ann-{digest}"
    assert pseudonym({"id": 3, "email": "x@y"}, salt="s") == pseudonym(3, salt="s")


def test_the_pseudonym_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(merge_module, "_pseudonyms", {})
    for k in range(4096):
        pseudonym(f"user-{k}", salt="bounded")
    assert len(merge_module._pseudonyms) == 4096
    pseudonym("one more", salt="bounded")  # a full cache is emptied first
    assert len(merge_module._pseudonyms) == 1


def test_stats_add_up():
    total = MergeStats({"a": 1}, 1, 2, 3)
    total.update(MergeStats({"a": 2, "b": 1}, 4, 5, 6))
    assert total == MergeStats({"a": 3, "b": 1}, 5, 7, 9)


def test_spans_with_whitespace_at_an_end_are_trimmed_and_counted():
    stats = MergeStats()
    results = claim_results(CLEAN)
    results[0]["value"].update(end=12, text="Alice Smith ")  # offsets take the space after
    results[1]["value"]["text"] += " "  # the text has a space the offsets leave out
    doc = merge(DRIFT_ARTICLE, task(CLEAN, results), stats)
    assert doc is not None
    assert [(e.start, e.end, e.text) for e in doc.entities] == [
        (0, 11, "Alice Smith"),
        (30, 39, "Bob Jones"),
    ]
    assert stats.fixes == {"trimmed-whitespace": 1, "whitespace-collapsed-text": 1}


def _offsets(s: int, e: int, recorded: str, found: str) -> Problem:
    return Problem(
        "span offsets do not match the span text",
        pointer="/0/annotations/0/result/0/value",
        expected=f"text[{s}:{e}] == {recorded!r}",
        found=found,
        fix="re-select the span in Label Studio; offsets are code points into the task text",
        **WHERE,
    )


@pytest.mark.parametrize(
    "s,e,recorded,found",
    [
        (30, 35, "Alice", "'Bob J'"),  # the text of another place (the article starts with it)
        (0, 5, "Bobby", "'Alice'"),
        (45, 50, "it...", "'d it.'"),  # up to the end of the text
        (7, 7, "x", "''"),
        (8, 7, "x", "offsets outside the text (length 50) or reversed"),
        (45, 51, "x", "offsets outside the text (length 50) or reversed"),
        (-1, 3, "x", "offsets outside the text (length 50) or reversed"),
    ],
)
def test_span_offsets_that_do_not_match_say_what_is_there(s, e, recorded, found):
    results = claim_results(CLEAN)
    results[0]["value"].update(start=s, end=e, text=recorded)
    assert _problems(results) == [_offsets(s, e, recorded, found)]


def test_a_bad_or_duplicated_span_does_not_hide_the_regions_after_it():
    results = claim_results(CLEAN)
    results[0]["value"]["start"] = 1
    results[1]["value"]["start"] = 31
    assert [p.pointer for p in _problems(results)] == [
        "/0/annotations/0/result/0/value",
        "/0/annotations/0/result/1/value",
    ]
    twin = span("e2", CLEAN, "Bob Jones")
    late = span("e3", CLEAN, "taxes")
    late["value"].update(start=16, end=21)
    assert _problems([claim_results(CLEAN)[0], twin, *claim_results(CLEAN)[1:], late]) == [
        Problem(
            "two regions share this id",
            pointer="/0/annotations/0/result/2/id",
            found="'e2'",
            fix="export again; if it persists, delete one of the regions in Label Studio",
            **WHERE,
        ),
        replace(_offsets(16, 21, "taxes", "' taxe'"), pointer="/0/annotations/0/result/8/value"),
    ]


def test_every_relation_between_two_entities_is_named():
    results = claim_results(CLEAN)
    wrong = {"type": "relation", "from_id": "e1", "to_id": "e2", "labels": ["target"]}
    problems = _problems([*results, wrong, {**wrong, "from_id": "e2", "to_id": "e1"}])
    assert [(p.message, p.pointer, p.found) for p in problems] == [
        ("a relation links a claim and an entity", f"/0/annotations/0/result/{j}", found)
        for j, found in ((7, "entity -> entity"), (8, "entity -> entity"))
    ]


def test_a_relation_to_a_missing_region_names_the_missing_end():
    results = claim_results(CLEAN)
    results[5]["from_id"], results[6]["to_id"] = "x1", "x2"
    assert _problems(results) == [
        Problem(
            "relation points to a region that does not exist",
            pointer=f"/0/annotations/0/result/{j}/{end}",
            found=repr(missing),
            fix="delete the relation in Label Studio and draw it again",
            **WHERE,
        )
        for j, end, missing in ((5, "from_id", "x1"), (6, "to_id", "x2"))
    ] + [
        Problem(
            "a REPORTED claim needs a claimer relation",
            pointer="/0/annotations/0/result/2",
            fix="draw a 'claimer' relation from the claim to the entity that asserts it",
            **WHERE,
        )
    ]


def test_entity_portrayals_and_claim_values_are_released():
    results = claim_results(CLEAN)
    results.append(choice("e1", "portrayal", "NEGATIVE", results[0]))
    doc = merge(DRIFT_ARTICLE, task(CLEAN, results))
    assert doc is not None
    assert [(e.id, e.portrayal) for e in doc.entities] == [("e1", "NEGATIVE"), ("e2", None)]
    assert doc.claims == (Claim("c1", 17, 27, "taxes rose", "e1", ("e2",), "REPORTED", "NEUTRAL"),)
    no_stance = [r for k, r in enumerate(claim_results(CLEAN)) if k != 3]
    assert [p.message for p in _problems(no_stance)] == ["claim has no stance"]


def test_every_annotation_is_checked_and_each_keeps_its_index():
    broken = claim_results(CLEAN)
    broken[0]["value"]["start"] = 1
    bad = {"id": 8, "completed_by": 2, "result": broken}
    skipped = {"id": 9, "completed_by": 3, "result": [], "was_cancelled": True}
    one = task(CLEAN, claim_results(CLEAN))
    both_bad = replace(one, annotations=(bad, skipped, {**bad, "id": 10}))
    problems = _problems([], annotations=both_bad.annotations)
    assert [p.pointer for p in problems] == [
        "/0/annotations/0/result/0/value",
        "/0/annotations/2/result/0/value",
    ]
    good = {"id": 11, "completed_by": 4, "result": claim_results(CLEAN)}
    usable = versions(CLEAN, replace(one, annotations=(skipped, good)), {}, MergeStats())
    assert [(v.index, v.annotator) for v in usable] == [(1, pseudonym(4))]


def test_skipped_annotations_are_counted_in_the_stats():
    skipped = {"id": 9, "completed_by": 3, "result": [], "was_cancelled": True}
    stats = MergeStats(cancelled=3)
    one = task(CLEAN, claim_results(CLEAN))
    plain = {k: v for k, v in one.annotations[0].items() if k != "was_cancelled"}
    merge(DRIFT_ARTICLE, replace(one, annotations=(plain, skipped, skipped)), stats)
    assert stats.cancelled == 5


def test_agreement_is_counted_for_every_pair_of_annotators():
    results = claim_results(CLEAN)
    annotations = tuple(
        {"id": 20 + k, "completed_by": k, "updated_at": f"2026-01-0{k}", "result": results}
        for k in (1, 2, 3)
    )
    two = merge(DRIFT_ARTICLE, replace(task(CLEAN, results), annotations=annotations[:2]))
    three = merge(DRIFT_ARTICLE, replace(task(CLEAN, results), annotations=annotations))
    assert two is not None and three is not None
    pairs = {(s.annotator_a, s.annotator_b) for s in three.annotation.spans}
    assert len(pairs) == 3 and len(three.annotation.spans) == 3 * len(two.annotation.spans) > 0
    assert {u.annotator for u in three.annotation.labels} == {pseudonym(k) for k in (1, 2, 3)}
    assert (two.annotation.agreement, three.annotation.agreement) == (1.0, 1.0)


def test_a_slip_set_aside_keeps_where_it_was_and_whose_it_was(tmp_path: Path):
    results = claim_results(CLEAN)
    results[4]["value"]["choices"] = ["AUTHOR"]
    data = [
        {
            "id": 1,
            "data": {"text": CLEAN, "article_id": "a1"},
            "annotations": [{"id": 7, "completed_by": 1, "result": results}],
        }
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    (read,) = read_export(path)
    with pytest.raises(InvalidDataError) as err:
        merge(DRIFT_ARTICLE, read)
    (problem,) = err.value.problems
    held: list[Quarantined] = []
    merge(DRIFT_ARTICLE, read, quarantine=held)
    (q,) = held
    assert problem.line is not None and problem.column is not None
    assert (q.file, q.line, q.column, q.annotation, q.annotator) == (
        str(path),
        problem.line,
        problem.column,
        7,
        pseudonym(1),
    )
    odd = replace(read, annotations=({**read.annotations[0], "id": "7"},))
    held = []
    merge(DRIFT_ARTICLE, odd, quarantine=held)
    assert held[0].annotation is None  # not an integer id


def test_a_span_set_aside_still_counts_the_fixes_of_the_others():
    results = claim_results(CLEAN)
    results[1]["value"]["text"] += " "  # a fix
    results[4]["value"]["choices"] = ["AUTHOR"]  # a slip
    stats = MergeStats()
    held: list[Quarantined] = []
    merge(DRIFT_ARTICLE, task(CLEAN, results), stats, quarantine=held)
    assert len(held) == 1 and stats.fixes == {"whitespace-collapsed-text": 1}


def test_re_anchoring_is_counted_and_a_lost_span_is_set_aside_as_exported():
    stats = MergeStats(reanchored=2, carried=5)
    merge(DRIFT_ARTICLE, task(RAW, claim_results(RAW)), stats)
    assert (stats.reanchored, stats.carried) == (3, 8)
    raw = "Monday, 1 January\n" + RAW
    results = [*claim_results(raw), span("e3", raw, "Monday")]
    (p,) = _problems(results, raw)
    assert p == Problem(
        "a span cannot be carried over to the cleaned article: the span starts or ends in text "
        "the cleaner removed",
        pointer="/0/annotations/0/result/7/value",
        fix="re-select the span on the cleaned article in Label Studio (push the task again with "
        "`claimwire ls push`), or restore the article",
        **WHERE,
    )
    held: list[Quarantined] = []
    merge(DRIFT_ARTICLE, task(raw, results), quarantine=held)
    (q,) = held
    assert (q.rule, q.annotator, q.results) == (p.message, pseudonym(1), (results[7],))


@pytest.mark.parametrize(
    "other,at",
    [
        (CLEAN[:30] + "z" * 200, 30),
        (CLEAN[:5] + "z" * 200, 5),
        (CLEAN + "z" * 200, 50),  # the article is a prefix of the task
    ],
)
def test_a_task_about_another_text_shows_both_around_the_first_difference(other, at):
    (p,) = _problems([], other)
    assert p == Problem(
        f"task text differs from the cleaned article (first difference at character {at}) and "
        "cannot be re-anchored on it",
        pointer="/0/data/text",
        expected=repr(CLEAN[max(0, at - 20) : at + 20]),
        found=repr(other[max(0, at - 20) : at + 20]),
        fix="the article or its cleaning rules changed after the task was made: regenerate the "
        "task with `claimwire ls tasks` and carry the annotation over, or restore the article",
        **WHERE,
    )


def test_slips_are_set_aside_round_by_round_in_the_order_they_are_found():
    """Round 1: e1's offsets, c2 (two problems, one unit), c3; round 2: c1, which lost its
    claimer with e1."""
    c2 = span("c2", CLEAN, "denied it", "claim", "CLAIM")
    c3 = span("c3", CLEAN, "said", "claim", "CLAIM")
    results = [
        *claim_results(CLEAN),
        c2,
        choice("c2", "attribution", "REPORTED", c2),  # no stance, no claimer
        c3,
        choice("c3", "stance", "NEUTRAL", c3),  # no attribution
    ]
    results[0]["value"]["start"] = 1
    held: list[Quarantined] = []
    doc = merge(DRIFT_ARTICLE, task(CLEAN, results), quarantine=held)
    assert doc is not None and doc.claims == ()
    assert [(q.rule, q.pointer) for q in held] == [
        ("span offsets do not match the span text", "/0/annotations/0/result/0/value"),
        ("claim has no stance", "/0/annotations/0/result/7"),
        ("claim has no attribution", "/0/annotations/0/result/9"),
        ("a REPORTED claim needs a claimer relation", "/0/annotations/0/result/2"),
    ]
