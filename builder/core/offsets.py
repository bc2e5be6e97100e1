"""Span offsets: the one place where Label Studio offsets become code-point offsets.

Label Studio stores whatever the client sent. Offsets made through the API are code points (the
convention of this project, see :mod:`builder.records`); some versions of the browser front end
count UTF-16 code units, so every span after an astral character (emoji) is off by one per such
character. The UI may also record ``value.text`` with whitespace collapsed while start/end index
the original text. :func:`resolve_span` recognises both and says which fix it applied.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from ..records import picklable

UTF16 = "utf16-offsets"
WHITESPACE = "whitespace-collapsed-text"
TRIMMED = "trimmed-whitespace"


@dataclass(frozen=True, slots=True)
class ResolvedSpan:
    start: int
    end: int
    text: str
    fixes: tuple[str, ...]  # which of UTF16, WHITESPACE, TRIMMED were applied


def _collapse(s: str) -> str:
    return " ".join(s.split())


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@lru_cache(maxsize=8)
def _astral_units(text: str) -> tuple[int, ...]:
    """UTF-16 offsets of the astral characters of ``text`` (each takes two units).

    Cached because a task's spans all index the same text: the scan runs once per text, not once
    per span (a Python-level scan per span made merging quadratic in practice).
    """
    return tuple(m.start() + k for k, m in enumerate(_ASTRAL.finditer(text)))


def utf16_to_codepoint(text: str, unit: int) -> int | None:
    """Code-point index of UTF-16 offset ``unit`` in ``text``; None if it splits a surrogate
    pair."""
    astral = _astral_units(text)
    if unit < 0 or unit > len(text) + len(astral):
        return None
    before = bisect_left(astral, unit)  # astral characters starting before ``unit``
    if before and astral[before - 1] + 1 == unit:
        return None  # between the two halves of a surrogate pair
    return unit - before


def codepoint_to_utf16(text: str, index: int) -> int:
    """UTF-16 offset of code-point ``index`` (what a UTF-16 front end would show)."""
    return index + sum(1 for ch in text[:index] if ord(ch) > 0xFFFF)


def resolve_span(text: str, start: int, end: int, recorded: str) -> ResolvedSpan | None:
    """Code-point offsets for a span Label Studio recorded as ``(start, end, recorded)``.

    Returns None when no reading of the offsets gives the recorded text: the caller reports it.
    Leading and trailing whitespace is trimmed from the result (and reported as a fix).
    """
    candidates: list[tuple[int, int, tuple[str, ...]]] = [(start, end, ())]
    if 0 <= start <= end <= len(text) and text[start:end] == recorded:
        return _trim(text, start, end, ())  # the common case, decided without scanning the text
    if _astral_units(text):
        s16, e16 = utf16_to_codepoint(text, start), utf16_to_codepoint(text, end)
        if s16 is not None and e16 is not None and (s16, e16) != (start, end):
            candidates.append((s16, e16, (UTF16,)))
    readings = [(s, e, fixes) for s, e, fixes in candidates if 0 <= s <= e <= len(text)]
    # An exact reading wins over one equal only up to whitespace, whichever offsets it uses.
    for s, e, fixes in readings:
        if text[s:e] == recorded:
            return _trim(text, s, e, fixes)
    for s, e, fixes in readings:
        actual = text[s:e]
        if _collapse(actual) == _collapse(recorded) and actual.strip():
            return _trim(text, s, e, (*fixes, WHITESPACE))
    return None


def _trim(text: str, start: int, end: int, fixes: tuple[str, ...]) -> ResolvedSpan:
    s, e = start, end
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if (s, e) != (start, end):
        fixes = (*fixes, TRIMMED)
    return ResolvedSpan(s, e, text[s:e], fixes)


picklable(ResolvedSpan)  # compiled, see builder.records
