"""Re-anchor a task whose text differs from the cleaned article: carry every span over, never guess.

Texts drift: a project imports articles as they came (CRLF, trailing spaces, runs of blank
lines), or a cleaning rule changes after annotation. The task's text is aligned with the cleaned
article: line by line when every line of the article is a line of the task text up to the
whitespace at its ends (what cleaning does: the task holds the raw text), otherwise character
by character (``rapidfuzz``'s Indel opcodes, a C implementation of the longest common
subsequence, which may take a kept line's first letters from a dropped line before it); each
span is carried over through the aligned characters. A carried span is checked: its
text must equal the original span's text up to the differences the cleaner may make (line
endings, whitespace at line ends, blank-line runs: whitespace runs compare as one space). A span
whose ends fall in text the cleaner removed, or whose text would change in any other way, is
not moved: it is reported (see :class:`Lost`) and the caller fails or quarantines it.

The common case, texts equal, costs one string comparison.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Any

from ..io.exports import TaskRecord
from ..records import picklable
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


_LINE = re.compile(r"[^\r\n]*")


def _lines(text: str) -> list[tuple[int, str]]:
    """(offset, content) of each non-blank line of ``text``, stripped (offset of the first
    character kept); any line ending."""
    out = []
    for m in _LINE.finditer(text):
        line = m.group()
        stripped = line.strip()
        if stripped:
            out.append((m.start() + len(line) - len(line.lstrip()), stripped))
    return out


def _line_blocks(source: str, target: str) -> list[tuple[int, int, int]] | None:
    """Equal blocks when every line of ``target`` is a line of ``source`` up to the whitespace
    at its ends, in order (what the cleaner does: drop lines, strip them, and change line
    endings and blank lines); None otherwise. Exact where a character alignment may not be: the
    longest common subsequence can take a kept line's first letters from a dropped line before
    it (``ADVERTISEMENT`` then ``The plan``: its ``T``)."""
    lines = _lines(source)
    blocks = []
    k = 0
    for dest, content in _lines(target):
        while k < len(lines) and lines[k][1] != content:
            k += 1
        if k == len(lines):
            return None
        blocks.append((lines[k][0], lines[k][0] + len(content), dest))
        k += 1
    return blocks


class _Alignment:
    """Positions of the task text that survive in the article, as equal blocks: matched lines
    when the article's lines are the task's lines, less some (:func:`_line_blocks`), otherwise
    a character alignment."""

    def __init__(self, source: str, target: str) -> None:
        found = _line_blocks(source, target)
        if found is None:
            from rapidfuzz.distance import Indel

            ops = [op for op in Indel.opcodes(source, target) if op.tag == "equal"]
            found = [(op.src_start, op.src_end, op.dest_start) for op in ops]
        self.blocks = found
        self.starts = [start for start, _, _ in found]
        self.equal = sum(end - start for start, end, _ in found)

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


picklable(Lost, Anchored)  # compiled, see builder.records
