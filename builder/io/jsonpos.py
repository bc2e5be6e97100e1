"""Line and column of a JSON pointer in a JSON document.

Only used when reporting a problem, so it favours simplicity over speed: a small scanner that
walks the text as far as the pointer leads.
"""

from __future__ import annotations

import re
from typing import Any

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"[^,\]\}\s]+")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def locate(text: str, pointer: str) -> tuple[int, int] | None:
    """1-based (line, column) where the value at ``pointer`` starts, or None if not found."""
    parts = [_unescape(p) for p in pointer.split("/")[1:]] if pointer else []
    try:
        pos = _skip_ws(text, 0)
        for part in parts:
            child = _child(text, pos, part)
            if child is None:
                return None
            pos = child
    except (IndexError, ValueError):
        return None
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def _skip_ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _skip_value(text: str, pos: int) -> int:
    ch = text[pos]
    if ch == '"':
        m = _STRING.match(text, pos)
        if not m:
            raise ValueError
        return m.end()
    if ch in "[{":
        # A container is skipped by its brackets alone, strings jumped over whole: one regex
        # match per string or bracket instead of a call per value (problems in one task are
        # located in well under a millisecond each).
        depth = 0
        for m in _TOKEN.finditer(text, pos):
            token = m.group()
            if token in "[{":
                depth += 1
            elif token in "]}":
                depth -= 1
                if depth == 0:
                    return m.end()
        raise ValueError
    m = _SCALAR.match(text, pos)
    if not m:
        raise ValueError
    return m.end()


def _child(text: str, pos: int, part: str) -> int | None:
    import json

    ch = text[pos]
    if ch not in "[{":
        return None
    if ch == "[" and part.isdigit() and int(part) >= _FAR:
        return _element(text, pos, int(part))
    close = "]" if ch == "[" else "}"
    pos = _skip_ws(text, pos + 1)
    index = 0
    while text[pos] != close:
        if ch == "{":
            key_end = _skip_value(text, pos)
            key = json.loads(text[pos:key_end])
            pos = _skip_ws(text, key_end)
            pos = _skip_ws(text, pos + 1)
            if key == part:
                return pos
        elif str(index) == part:
            return pos
        pos = _skip_ws(text, _skip_value(text, pos))
        index += 1
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return None


_FAR = 8  # from this index on, an array element is found by the vectorised scanner


def _element(text: str, pos: int, index: int) -> int | None:
    """Where element ``index`` of the array whose ``[`` is at ``pos`` starts: the structure of the
    array is found at once (:func:`.jsonarray.element_offsets`), not element by element."""
    from .jsonarray import element_offsets

    buf = text[pos + 1 :].encode("utf-8")
    starts = element_offsets(buf)
    if index >= len(starts):
        return None
    return _skip_ws(text, pos + 1 + len(buf[: starts[index]].decode("utf-8")))


def loads(raw: bytes, file: str, fix: str) -> Any:
    """Parse a whole JSON document; malformed JSON is an error at its line and column."""
    import orjson

    from ..errors import InvalidDataError, Problem

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidDataError(
            Problem(
                f"malformed JSON: {exc.msg}", file=file, line=exc.lineno, column=exc.colno, fix=fix
            )
        ) from None
