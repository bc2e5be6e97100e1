"""Re-anchoring: a task whose text drifted from the cleaned article keeps every span it can carry
exactly, and names every span it cannot."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.drift import ARTICLE, CLEAN, RAW, span, task
from support.drift import claim as claim_results

from builder.core.anchor import Anchored, Lost, reanchor
from builder.core.merge import MergeStats, merge
from builder.errors import InvalidDataError


def test_equal_texts_cost_nothing():
    same = task(CLEAN, claim_results(CLEAN))
    anchored = reanchor(same, CLEAN)
    assert anchored is not None and anchored.task is same and not anchored.reanchored
    assert anchored == Anchored(same, 0, (), False)


def test_every_span_of_a_drifted_text_is_carried_exactly():
    anchored = reanchor(task(RAW, claim_results(RAW)), CLEAN)
    assert anchored is not None and anchored.reanchored and anchored.lost == ()
    assert anchored.carried == 3
    for r in anchored.task.annotations[0]["result"]:
        if "value" in r:
            v = r["value"]
            assert CLEAN[v["start"] : v["end"]] == v["text"]
    assert [r["value"]["start"] for r in anchored.task.annotations[0]["result"][:3]] == [
        0,
        CLEAN.index("Bob"),
        CLEAN.index("taxes"),
    ]


def test_the_merge_releases_a_drifted_task_at_the_article_offsets():
    stats = MergeStats()
    doc = merge(ARTICLE, task(RAW, claim_results(RAW)), stats)
    assert doc is not None
    assert [(e.start, e.end, e.text) for e in doc.entities] == [
        (0, 11, "Alice Smith"),
        (30, 39, "Bob Jones"),
    ]
    (claim,) = doc.claims
    assert (claim.start, claim.end, claim.claimer_id, claim.target_ids) == (17, 27, "e1", ("e2",))
    assert (stats.reanchored, stats.carried) == (1, 3)


def test_a_span_in_removed_text_is_named_and_never_moved():
    raw = "Monday, 1 January\n" + CLEAN
    results = claim_results(raw) + [span("e3", raw, "Monday")]
    anchored = reanchor(task(raw, results), CLEAN)
    assert anchored is not None
    assert [(x.region, x.reason) for x in anchored.lost] == [
        ("e3", "the span starts or ends in text the cleaner removed")
    ]
    with pytest.raises(InvalidDataError) as err:
        merge(ARTICLE, task(raw, results))
    (p,) = err.value.problems
    assert p.message == (
        "a span cannot be carried over to the cleaned article: the span starts "
        "or ends in text the cleaner removed"
    )
    assert p.pointer == "/0/annotations/0/result/7/value"


def test_a_changed_word_is_not_carried():
    raw = CLEAN.replace("Alice Smith", "Alice Smyth")  # same length: offsets unchanged
    results = claim_results(CLEAN)
    results[0]["value"]["text"] = "Alice Smyth"
    anchored = reanchor(task(raw, results), CLEAN)
    assert anchored is not None
    assert [(x.region, x.reason) for x in anchored.lost] == [
        ("e1", "the span's text would change: 'Alice Smyth' → 'Alice Smith'")
    ]


def test_another_text_is_not_anchored_at_all():
    other = "Completely different words here, nothing shared at all with it. " * 3
    assert reanchor(task(other, []), CLEAN, share=0.5) is None
    with pytest.raises(InvalidDataError) as err:
        merge(ARTICLE, task(other, []))
    assert err.value.problems[0].message.startswith(
        "task text differs from the cleaned article (first difference at character 0)"
    )


def test_the_re_anchored_task_has_the_article_text_and_no_stale_digest():
    drifted = replace(task(RAW, claim_results(RAW)), text_sha256="0" * 64)
    anchored = reanchor(drifted, CLEAN)
    assert anchored is not None
    assert (anchored.task.text, anchored.task.text_sha256) == (CLEAN, None)


def test_a_span_whose_inner_whitespace_changed_takes_the_article_text():
    raw = CLEAN.replace("Alice Smith", "Alice  Smith")
    anchored = reanchor(task(raw, [span("e1", raw, "Alice  Smith")]), CLEAN)
    assert anchored is not None and anchored.lost == ()
    (r,) = anchored.task.annotations[0]["result"]
    assert r["value"] == {"start": 0, "end": 11, "text": "Alice Smith", "labels": ["PER"]}


@pytest.mark.parametrize(
    "needle",
    [
        "(loudly)",  # wholly inside a removed run
        "(loudly) taxes",  # starts in it
        "said (loudly)",  # ends in it
        "Monday, 1 January\nAlice",  # starts before the first kept character
    ],
)
def test_a_span_touching_removed_text_in_the_middle_is_lost(needle: str):
    raw = "Monday, 1 January\n" + CLEAN.replace("said ", "said (loudly) ")
    anchored = reanchor(task(raw, [span("x", raw, needle)]), CLEAN)
    assert anchored is not None and anchored.carried == 0
    assert anchored.lost == (
        Lost(0, 0, "x", "the span starts or ends in text the cleaner removed"),
    )


def test_spans_that_cannot_be_read_in_the_task_are_named_with_the_reason():
    no_offsets = {"id": "a", "type": "labels", "value": {"text": "Alice Smith"}}
    wrong_text = span("b", CLEAN, "Bob Jones")
    wrong_text["value"]["text"] = "Bob Smith"
    anchored = reanchor(task(RAW, [no_offsets, wrong_text]), CLEAN)
    assert anchored is not None
    assert anchored.lost == (
        Lost(0, 0, "a", "the span has no valid start, end and text"),
        Lost(0, 1, "b", "the span's offsets do not match its text in the task"),
    )


def test_texts_with_nothing_in_common_are_anchored_when_no_share_is_asked():
    anchored = reanchor(task("xyz", []), "abc")
    assert anchored is not None and anchored.reanchored and anchored.task.text == "abc"


def test_what_is_not_a_span_is_kept_as_it_is():
    results = [*claim_results(RAW), "junk"]
    odd = {"id": 8, "result": None}
    anchored = reanchor(task(RAW, results), CLEAN)
    assert anchored is not None
    drifted = replace(task(RAW, results), annotations=(odd, *task(RAW, results).annotations))
    both = reanchor(drifted, CLEAN)
    assert both is not None and both.carried == 3
    assert both.task.annotations == (odd, *anchored.task.annotations)
    assert both.task.annotations[1]["result"][-1] == "junk"


def test_kept_lines_are_matched_in_order_past_a_repeated_line():
    raw = "Title\nRepeat\nKeep\nRepeat\n"
    s = raw.rindex("Repeat")
    value = {"start": s, "end": s + 6, "text": "Repeat", "labels": ["PER"]}
    result = {"id": "x", "type": "labels", "from_name": "entity", "to_name": "text"}
    anchored = reanchor(task(raw, [{**result, "value": value}]), "Keep\n\nRepeat")
    assert anchored is not None and anchored.lost == ()
    assert anchored.task.annotations[0]["result"][0]["value"] == {**value, "start": 6, "end": 12}


def test_a_character_removed_right_after_a_kept_block_is_gone():
    anchored = reanchor(task("AB#CD", [span("x", "AB#CD", "#")]), "ABCD")
    assert anchored is not None
    assert anchored.lost == (
        Lost(0, 0, "x", "the span starts or ends in text the cleaner removed"),
    )
