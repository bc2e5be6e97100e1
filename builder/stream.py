"""Split a JSON array export into per-task byte slices without parsing it.

Label Studio exports are one JSON array that can reach tens of gigabytes. Parsing it whole costs
about seven times its size in memory, and a streaming parser that builds Python objects (ijson)
runs at half the speed of ``orjson``. So the array is cut into the bytes of each element by a small
scanner, and each element is parsed on its own with ``orjson`` (possibly in another process).

The scanner works a block at a time with numpy: it finds the quotes that open or close strings
(a quote preceded by an odd run of backslashes is escaped), keeps the brackets, braces and commas
outside strings, and a running depth tells which commas separate top-level elements. A block
always starts at an element boundary, where the state is known (depth 1, outside a string); the
unfinished element at the end of a block is scanned again with the next one. The scanner never
decides whether the JSON is valid: a malformed element still becomes a slice, and ``orjson``
reports it when it is parsed, with its line and column translated to the whole file
(:func:`file_position`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

BLOCK = 8 << 20  # bytes read at a time; an element larger than this grows the block

_QUOTE, _BACKSLASH, _COMMA = 0x22, 0x5C, 0x2C
_OPEN = (0x5B, 0x7B)  # [ {
_CLOSE = (0x5D, 0x7D)  # ] }
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class Slice:
    """The bytes of one element of a top-level JSON array."""

    index: int  # position in the array
    offset: int  # byte offset of ``data`` in the file
    data: bytes


@dataclass(frozen=True, slots=True)
class Damage:
    """Where the array itself is broken (not closed, data after it, empty element)."""

    index: int
    offset: int  # byte offset of the defect in the file
    message: str


# Every byte that matters to the structure keeps its value, every other byte becomes 0: one
# ``bytes.translate`` pass (C speed) and one ``flatnonzero`` find them all.
_KEEP = bytes(b if b in b'"[]{},' else 0 for b in range(256))


def _structure(buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the commas and closing brackets at depth 1 of ``buf`` (which starts at
    depth 1, outside a string), and the depth after each of them."""
    kept = np.frombuffer(buf.translate(_KEEP), dtype=np.uint8)
    marks = np.flatnonzero(kept)
    chars = kept[marks]
    is_quote = chars == _QUOTE
    where = np.flatnonzero(is_quote)
    quotes = marks[where]
    if len(quotes):
        arr = np.frombuffer(buf, dtype=np.uint8)
        maybe = np.flatnonzero((quotes > 0) & (arr[np.maximum(quotes - 1, 0)] == _BACKSLASH))
        for k in maybe.tolist():  # rare (quotes inside article text): a loop is fine
            q = int(quotes[k])
            j = q - 1
            while j >= 0 and buf[j] == _BACKSLASH:
                j -= 1
            if (q - 1 - j) % 2:  # an odd run of backslashes escapes the quote
                is_quote[where[k]] = False
    # Outside strings: an even number of quotes before (int32 sums: a block is < 2 GB).
    outside = ~is_quote & ((np.cumsum(is_quote, dtype=np.int32) & 1) == 0)
    marks, chars = marks[outside], chars[outside]
    folded = chars | 0x20  # [ and { fold to {, ] and } fold to }
    delta = (folded == _OPEN[1]).view(np.int8) - (folded == _CLOSE[1]).view(np.int8)
    depth = 1 + np.cumsum(delta, dtype=np.int32)
    top = ((chars == _COMMA) & (depth == 1)) | (depth <= 0)
    return marks[top], depth[top]


def split_array(
    f: BinaryIO, start: int = 0, block: int | None = None
) -> Iterator[Slice | Damage]:
    """Every element of the JSON array whose ``[`` is at byte ``start - 1`` of ``f``.

    Yields :class:`Slice` per element, in order, then stops; a :class:`Damage` (always last) when
    the array is not closed, is followed by data, or holds an empty element. Memory holds about
    two blocks of ``block`` bytes (default :data:`BLOCK`), whatever the size of the file.
    """
    block = block or BLOCK
    f.seek(start)
    carry = b""  # the start of an element whose end was not found yet
    carry_at = start  # file offset of ``carry``
    index = 0
    eof = False
    want = block
    while True:
        if not eof:
            more = f.read(max(want - len(carry), block))
            eof = not more
            buf = carry + more if carry else more
        else:
            buf = carry
        if not buf and eof:
            yield Damage(index, carry_at, "the array is not closed (the file ends early)")
            return
        cuts, depths = _structure(buf)
        begin = 0
        for cut, depth in zip(cuts.tolist(), depths.tolist(), strict=True):
            data = buf[begin:cut]
            if depth <= 0 and buf[cut] != _CLOSE[0]:  # a stray brace: orjson will say where
                yield Slice(index, carry_at + begin, buf[begin:cut + 1])
                return
            if depth <= 0:  # the closing bracket of the array
                if data.strip(_WHITESPACE) or index:
                    if not data.strip(_WHITESPACE):
                        yield Damage(index, carry_at + cut, "a comma before the closing bracket")
                        return
                    yield Slice(index, carry_at + begin, data)
                rest = buf[cut + 1:].strip(_WHITESPACE)
                tail = b"" if eof else f.read(block)
                if rest or tail.strip(_WHITESPACE):
                    yield Damage(index, carry_at + cut + 1, "data after the end of the array")
                return
            if not data.strip(_WHITESPACE):
                yield Damage(index, carry_at + begin, "an empty element (two commas in a row)")
                return
            yield Slice(index, carry_at + begin, data)
            index += 1
            begin = cut + 1
        carry = buf[begin:]
        carry_at += begin
        if eof:
            if carry.strip(_WHITESPACE):
                yield Slice(index, carry_at, carry)  # truncated: orjson will say where
            yield Damage(index, carry_at + len(carry),
                         "the array is not closed (the file ends early)")
            return
        want = max(block, 2 * len(carry))  # an element longer than a block: read more at once


def open_array(path: Path) -> tuple[BinaryIO, int] | None:
    """The open file and the offset after its ``[`` if ``path`` holds a JSON array, else None."""
    f = path.open("rb")
    head = f.read(4096)
    stripped = head.lstrip(_WHITESPACE)
    if stripped.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark, as some editors write
        stripped = stripped[3:].lstrip(_WHITESPACE)
    if not stripped.startswith(b"["):
        f.close()
        return None
    return f, len(head) - len(stripped) + 1


def file_position(path: Path, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of byte ``offset`` in ``path``.

    Reads the file up to ``offset`` a block at a time: used for error messages only.
    """
    line = 1
    last = b""
    with path.open("rb") as f:
        remaining = offset
        while remaining > 0:
            chunk = f.read(min(remaining, BLOCK))
            if not chunk:
                break
            remaining -= len(chunk)
            newlines = chunk.count(b"\n")
            if newlines:
                line += newlines
                last = chunk[chunk.rfind(b"\n") + 1:]
            else:
                last += chunk
    return line, len(last.decode("utf-8", errors="replace")) + 1


def slice_position(path: Path, piece: Slice, char_pos: int) -> tuple[int, int]:
    """Line and column in ``path`` of character ``char_pos`` of ``piece``."""
    prefix = piece.data.decode("utf-8", errors="replace")[:char_pos].encode("utf-8")
    return file_position(path, piece.offset + len(prefix))
