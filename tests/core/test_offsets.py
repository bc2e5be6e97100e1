import json
from pathlib import Path
from typing import Any

import pytest

from builder.core.merge import MergeStats, merge, text_sha256
from builder.core.offsets import (
    TRIMMED,
    UTF16,
    WHITESPACE,
    ResolvedSpan,
    codepoint_to_utf16,
    resolve_span,
    utf16_to_codepoint,
)
from builder.io.exports import read_export
from builder.records import Article, ArticleMeta

EMOJI = "Protest 🇻🇪 in Caracas 👩‍👩‍👧 today: Guaido spoke.\r\nMaduro\u00a0replied e\u0301lan."


def _find(text: str, needle: str) -> tuple[int, int]:
    s = text.index(needle)
    return s, s + len(needle)


@pytest.mark.parametrize("needle", ["Caracas", "Guaido", "Maduro", "e\u0301lan", "🇻🇪"])
def test_code_point_offsets_pass_unchanged(needle: str):
    s, e = _find(EMOJI, needle)
    span = resolve_span(EMOJI, s, e, needle)
    assert span is not None and (span.start, span.end, span.fixes) == (s, e, ())


@pytest.mark.parametrize("needle,shift", [("Caracas", 2), ("Guaido", 2 + 3), ("Maduro", 5)])
def test_utf16_offsets_after_emoji_are_converted(needle: str, shift: int):
    # the flag is 2 astral code points, the ZWJ family 3 astral code points (+2 ZWJ joiners)
    s, e = _find(EMOJI, needle)
    s16, e16 = codepoint_to_utf16(EMOJI, s), codepoint_to_utf16(EMOJI, e)
    assert (s16 - s, e16 - e) == (shift, shift)
    span = resolve_span(EMOJI, s16, e16, needle)
    assert span is not None and (span.start, span.end, span.fixes) == (s, e, (UTF16,))


def test_utf16_offset_inside_a_surrogate_pair_is_not_a_code_point():
    flag = EMOJI.index("🇻🇪")
    assert utf16_to_codepoint(EMOJI, codepoint_to_utf16(EMOJI, flag) + 1) is None


def test_crlf_and_nbsp_spans_with_collapsed_text_are_reported():
    s, e = _find(EMOJI, "spoke.\r\nMaduro\u00a0replied")
    span = resolve_span(EMOJI, s, e, "spoke. Maduro replied")
    assert span is not None and span.fixes == (WHITESPACE,)
    assert EMOJI[span.start : span.end] == "spoke.\r\nMaduro\u00a0replied"


def test_surrounding_whitespace_is_trimmed_and_reported():
    s, e = _find(EMOJI, " Guaido ")
    span = resolve_span(EMOJI, s, e, " Guaido ")
    assert span is not None and (span.text, span.fixes) == ("Guaido", (TRIMMED,))


@pytest.mark.parametrize("start,end", [(3, 2), (0, 10_000), (-1, 4)])
def test_impossible_offsets_are_refused(start: int, end: int):
    assert resolve_span(EMOJI, start, end, "Prot") is None


def test_wrong_text_is_refused():
    s, e = _find(EMOJI, "Guaido")
    assert resolve_span(EMOJI, s, e, "Guaid0") is None


# --- spans that start or end on an astral character, in UTF-16 units (a browser front end)

# No space right after a span or right before it: the code-point reading of a UTF-16 span then
# never matches its text up to whitespace (see the xfail test below for what happens if it does).
ASTRAL = "a\U0001f642b, \U0001f469\u200d\U0001f469\u200d\U0001f467 c; \U0001f1fb\U0001f1ea d."
ON_ASTRAL = [
    "\U0001f642b",  # starts on an emoji
    "a\U0001f642",  # ends on it
    "\U0001f642",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467 c",  # starts on a ZWJ sequence
    "b, \U0001f469\u200d\U0001f469\u200d\U0001f467",  # ends on it
    "\U0001f1fb\U0001f1ea d",  # starts on a flag (two regional indicators)
    "c; \U0001f1fb\U0001f1ea",  # ends on it
]


def test_utf16_units_map_to_code_points_one_by_one():
    # "a🙂b": a=0, 🙂=1..2, b=3, end=4 in UTF-16 units
    assert [utf16_to_codepoint("a\U0001f642b", u) for u in range(5)] == [0, 1, None, 2, 3]
    assert utf16_to_codepoint("a\U0001f642b", 5) is None
    assert [codepoint_to_utf16("a\U0001f642b", i) for i in range(4)] == [0, 1, 3, 4]
    inside = {codepoint_to_utf16(ASTRAL, i) + 1 for i, ch in enumerate(ASTRAL) if ord(ch) > 0xFFFF}
    for unit in range(codepoint_to_utf16(ASTRAL, len(ASTRAL)) + 1):
        index = utf16_to_codepoint(ASTRAL, unit)
        if unit in inside:
            assert index is None, unit
        else:
            assert index is not None and codepoint_to_utf16(ASTRAL, index) == unit, unit


def test_the_span_after_an_emoji_in_a_smile_b():
    assert resolve_span("a\U0001f642b", 1, 4, "\U0001f642b") == ResolvedSpan(
        1, 3, "\U0001f642b", (UTF16,)
    )
    assert resolve_span("a\U0001f642b", 0, 3, "a\U0001f642") == ResolvedSpan(
        0, 2, "a\U0001f642", (UTF16,)
    )


@pytest.mark.parametrize("needle", ON_ASTRAL)
def test_utf16_span_starting_or_ending_on_an_astral_character(needle: str):
    s, e = _find(ASTRAL, needle)
    s16, e16 = codepoint_to_utf16(ASTRAL, s), codepoint_to_utf16(ASTRAL, e)
    assert (s16, e16) != (s, e)
    assert resolve_span(ASTRAL, s16, e16, needle) == ResolvedSpan(s, e, needle, (UTF16,))
    # the same span in code points needs no fix
    assert resolve_span(ASTRAL, s, e, needle) == ResolvedSpan(s, e, needle, ())


def _value(needle: str, **extra: Any) -> dict[str, Any]:
    """A Label Studio region value for ``needle`` in ASTRAL with UTF-16 offsets."""
    s, e = _find(ASTRAL, needle)
    start, end = codepoint_to_utf16(ASTRAL, s), codepoint_to_utf16(ASTRAL, e)
    return {"start": start, "end": end, "text": needle, **extra}


def test_utf16_spans_on_astral_characters_through_a_merge(tmp_path: Path):
    """A task whose every offset is in UTF-16 units, as a browser front end records them: the
    merged document holds the code-point spans, and each conversion is counted."""
    meta = ArticleMeta("Test Source", "A title", "en", "CC-BY-4.0")
    article = Article("astral_doc", ASTRAL, meta, "")
    family, flag = "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0001f1fb\U0001f1ea"
    claim = f"{family} c; {flag}"
    regions = [
        ("e1", "entity", "PER", "\U0001f642b"),  # starts on an emoji
        ("e2", "entity", "ORG", f"b, {family}"),  # ends on a ZWJ sequence
        ("e3", "entity", "GPE", f"{flag} d"),  # starts on a flag
        ("c1", "claim", "CLAIM", claim),  # starts on the ZWJ sequence, ends on the flag
    ]
    results: list[dict[str, Any]] = [
        {
            "id": rid,
            "from_name": control,
            "to_name": "text",
            "type": "labels",
            "value": _value(needle, labels=[label]),
        }
        for rid, control, label, needle in regions
    ]
    results += [
        {
            "id": "c1",
            "from_name": control,
            "to_name": "text",
            "type": "choices",
            "value": _value(claim, choices=[choice]),
        }
        for control, choice in (("stance", "AGAINST"), ("attribution", "REPORTED"))
    ]
    results += [
        {"type": "relation", "from_id": "c1", "to_id": to, "direction": "right", "labels": [rel]}
        for to, rel in (("e2", "claimer"), ("e3", "target"))
    ]
    task = {
        "id": 1,
        "data": {"text": ASTRAL, "article_id": article.id, "text_sha256": text_sha256(ASTRAL)},
        "annotations": [{"id": 1, "completed_by": 7, "result": results}],
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task], ensure_ascii=False), encoding="utf-8")
    stats = MergeStats()
    doc = merge(article, next(read_export(path)), stats)
    assert doc is not None
    # a0 🙂1 b2 ,3 4 👩5 ZWJ6 👩7 ZWJ8 👧9 10 c11 ;12 13 🇻14 🇪15 16 d17 .18
    assert [(x.id, x.start, x.end, x.text) for x in doc.entities] == [
        ("e1", 1, 3, "\U0001f642b"),
        ("e2", 2, 10, f"b, {family}"),
        ("e3", 14, 18, f"{flag} d"),
    ]
    assert [(c.id, c.start, c.end, c.text) for c in doc.claims] == [("c1", 5, 16, claim)]
    assert (doc.claims[0].claimer_id, doc.claims[0].target_ids) == ("e2", ("e3",))
    assert (doc.claims[0].attribution, doc.claims[0].stance) == ("REPORTED", "AGAINST")
    assert stats.fixes == {UTF16: 4}


def test_an_exact_utf16_reading_beats_a_code_point_reading_up_to_whitespace():
    text = "\U0001f642\U0001f642\r\nb b\u00a0b"
    s, e = _find(text, "b b")  # code points 4..7; UTF-16 units 6..9
    s16, e16 = codepoint_to_utf16(text, s), codepoint_to_utf16(text, e)
    assert text[s16:e16] == "b\u00a0b"  # the code-point reading of 6..9: equal up to whitespace
    assert resolve_span(text, s16, e16, "b b") == ResolvedSpan(s, e, "b b", (UTF16,))


# --- boundaries (each assertion kills a mutant of the comparison it names; `make mutate`)


def test_only_astral_characters_take_two_utf16_units():
    # U+FFFF is the last one-unit character, U+10000 the first astral one
    assert codepoint_to_utf16("\uffffa", 1) == 1
    assert codepoint_to_utf16("\uffffa", 2) == 2
    assert codepoint_to_utf16("\U00010000a", 1) == 2
    assert codepoint_to_utf16("\U00010000a", 2) == 3


def test_an_empty_span_after_an_emoji_is_read_in_utf16_units():
    # code point 2 is past the end of the text; UTF-16 unit 2 is its end, code point 1
    assert resolve_span("\U0001f642", 2, 2, "") == ResolvedSpan(1, 1, "", (UTF16,))


def test_a_whitespace_only_span_trims_to_an_empty_span_at_its_end():
    # the whitespace goes on past the span: trimming must stop at the span's own end
    assert resolve_span("a   b", 1, 3, "  ") == ResolvedSpan(3, 3, "", (TRIMMED,))
    assert resolve_span("a  ", 1, 3, "  ") == ResolvedSpan(3, 3, "", (TRIMMED,))
