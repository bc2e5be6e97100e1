import pytest

from builder.core.offsets import (
    TRIMMED,
    UTF16,
    WHITESPACE,
    codepoint_to_utf16,
    resolve_span,
    utf16_to_codepoint,
)

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
