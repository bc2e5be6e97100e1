"""Re-anchoring a raw text on its cleaned article line by line: a dropped line that shares
letters with the kept line after it does not pull the kept line's first letters into it."""

from __future__ import annotations

from support.drift import span, task

from builder.core.anchor import reanchor

RAW = (
    "MAYOR SPEAKS\r\n\r\nAna Ribeiro said the plan works.   \r\n  \r\nADVERTISEMENT\r\n\r\n"
    "The plan is the largest project in the city's history.\t \r\n(c) 2024 Northwire\r\n"
)
CLEAN = (
    "MAYOR SPEAKS\n\nAna Ribeiro said the plan works.\n\n"
    "The plan is the largest project in the city's history."
)


def test_a_line_after_a_dropped_line_is_carried_whole():
    claim = "The plan is the largest project in the city's history"
    # a character alignment takes the T of "The" from ADVERTISEMENT's last letter
    anchored = reanchor(task(RAW, [span("c", RAW, claim), span("e", RAW, "Ana Ribeiro")]), CLEAN)
    assert anchored is not None and anchored.lost == () and anchored.carried == 2
    values = [r["value"] for r in anchored.task.annotations[0]["result"]]
    assert [CLEAN[v["start"] : v["end"]] for v in values] == [claim, "Ana Ribeiro"]
    assert [v["text"] for v in values] == [claim, "Ana Ribeiro"]


def test_a_span_over_a_dropped_line_is_lost():
    over = "works.   \r\n  \r\nADVERTISEMENT\r\n\r\nThe plan"
    anchored = reanchor(task(RAW, [span("x", RAW, over)]), CLEAN)
    assert anchored is not None and anchored.carried == 0 and len(anchored.lost) == 1


def test_lines_the_task_lacks_fall_back_to_characters():
    edited = RAW.replace("the plan works", "the plan will work")
    anchored = reanchor(task(edited, [span("e", edited, "Ana Ribeiro")]), CLEAN)
    assert anchored is not None and anchored.lost == () and anchored.carried == 1
