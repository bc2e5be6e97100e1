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
        close = "]" if ch == "[" else "}"
        pos = _skip_ws(text, pos + 1)
        if text[pos] == close:
            return pos + 1
        while True:
            if ch == "{":
                pos = _skip_ws(text, _skip_value(text, pos))
                pos = _skip_ws(text, pos + 1)  # the colon
            pos = _skip_ws(text, _skip_value(text, pos))
            if text[pos] == close:
                return pos + 1
            pos = _skip_ws(text, pos + 1)  # the comma
    m = _SCALAR.match(text, pos)
    if not m:
        raise ValueError
    return m.end()


def _child(text: str, pos: int, part: str) -> int | None:
    import json

    ch = text[pos]
    if ch not in "[{":
        return None
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
