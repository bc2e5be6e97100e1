"""Re-anchor a task whose text differs from the cleaned article: carry every span over, never guess.

Texts drift: a project imports articles as they came (CRLF, trailing spaces, runs of blank
lines), or a cleaning rule changes after annotation. The task's text is aligned with the cleaned
article (``rapidfuzz``'s Indel opcodes, a C implementation of the longest common subsequence),
and each span is carried over through the aligned characters. A carried span is checked: its
text must equal the original span's text up to the differences the cleaner may make (line
endings, whitespace at line ends, blank-line runs: whitespace runs compare as one space). A span
whose ends fall in text the cleaner removed, or whose text would change in any other way, is
not moved: it is reported (see :class:`Lost`) and the caller fails or quarantines it.

The common case, texts equal, costs one string comparison.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Any

from ..io.exports import TaskRecord
from .offsets import resolve_span


@dataclass(frozen=True)
class Lost:
    """A span of one annotation that could not be carried over, and why."""

    annotation: int  # index in the task's annotations
    result: int  # index of the span's result in that annotation
    region: str  # the region id
    reason: str


@dataclass(frozen=True)
class Anchored:
    """The task re-anchored on the article's text, and what could not be carried."""

    task: TaskRecord
    carried: int  # spans moved onto the article's text
    lost: tuple[Lost, ...]
    reanchored: bool  # False: the texts were equal, nothing was done


def _same(a: str, b: str) -> bool:
    return a.split() == b.split()


class _Alignment:
    """Positions of the task text that survive in the article, as equal blocks."""

    def __init__(self, source: str, target: str) -> None:
        from rapidfuzz.distance import Indel

        blocks = [op for op in Indel.opcodes(source, target) if op.tag == "equal"]
        self.starts = [op.src_start for op in blocks]
        self.blocks = [(op.src_start, op.src_end, op.dest_start) for op in blocks]
        self.equal = sum(op.src_end - op.src_start for op in blocks)

    def at(self, i: int) -> int | None:
        """The article position of task position ``i``, or None if that character is gone."""
        k = bisect_right(self.starts, i) - 1
        if k < 0:
            return None
        start, end, dest = self.blocks[k]
        return dest + i - start if i < end else None


def reanchor(task: TaskRecord, text: str, share: float = 0.0) -> Anchored | None:
    """``task`` with every span moved onto ``text`` (the cleaned article); None when less than
    ``share`` of the longer text's characters align (the task is about another text)."""
    if task.text == text:
        return Anchored(task, 0, (), False)
    align = _Alignment(task.text, text)
    if align.equal < share * max(len(task.text), len(text)):
        return None
    lost: list[Lost] = []
    carried = 0
    annotations = []
    for i, a in enumerate(task.annotations):
        results = a.get("result")
        if not isinstance(results, list):
            annotations.append(a)
            continue
        moved: dict[str, tuple[int, int] | None] = {}  # region id -> new offsets (None: lost)
        for j, r in enumerate(results):
            if not isinstance(r, dict) or r.get("type") != "labels":
                continue
            rid, where = str(r.get("id")), _carry(task.text, text, align, r.get("value", {}))
            if isinstance(where, str):
                lost.append(Lost(i, j, rid, where))
                moved[rid] = None
            else:
                moved[rid] = where
                carried += 1
        new_results = []
        for r in results:
            rid = str(r.get("id")) if isinstance(r, dict) else ""
            if isinstance(r, dict) and rid in moved and isinstance(r.get("value"), dict):
                offsets = moved[rid]
                if offsets is not None:
                    s, e = offsets
                    r = {**r, "value": {**r["value"], "start": s, "end": e, "text": text[s:e]}}
            new_results.append(r)
        annotations.append({**a, "result": new_results})
    new_task = replace(task, text=text, text_sha256=None, annotations=tuple(annotations))
    return Anchored(new_task, carried, tuple(lost), True)


def _carry(source: str, target: str, align: _Alignment, value: Any) -> tuple[int, int] | str:
    """The span's offsets in ``target``, or the reason it cannot be carried."""
    try:
        start, end, recorded = int(value["start"]), int(value["end"]), str(value["text"])
    except (KeyError, TypeError, ValueError):
        return "the span has no valid start, end and text"
    span = resolve_span(source, start, end, recorded)
    if span is None:
        return "the span's offsets do not match its text in the task"
    s, e = align.at(span.start), align.at(span.end - 1)
    if s is None or e is None:
        return "the span starts or ends in text the cleaner removed"
    carried = target[s : e + 1]
    if not _same(carried, span.text):
        return f"the span's text would change: {span.text!r} → {carried!r}"
    return s, e + 1
