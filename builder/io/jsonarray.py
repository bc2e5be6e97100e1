"""Split a JSON array export into per-task byte slices without parsing it.

Label Studio exports are one JSON array that can reach tens of gigabytes. Parsing it whole costs
about seven times its size in memory, and a streaming parser that builds Python objects (ijson)
runs at half the speed of ``orjson``. So the array is cut into the bytes of each element by a small
scanner, and each element is parsed on its own with ``orjson`` (possibly in another process).

The scanner works a block at a time with numpy, on bitmaps: each byte that matters (quote,
backslash, bracket, brace) becomes one bit of 64-bit words, so most of the work is a few passes
over the bytes and then over words, 64 times fewer. The prefix parity of the quotes (a quote after
an odd run of backslashes is escaped) marks the bytes inside strings; counting the brackets and
braces of each word outside strings gives the depth at its start, and only the few words that may
come back to depth 1 (between elements) have their brackets, and then their commas, listed one by
one. A block always starts at an element boundary, where the state is known (depth 1, outside a
string); the unfinished element at the end of a block is read and scanned again with the next
one. The scanner never decides whether the JSON is valid: a malformed element still becomes a
slice, and ``orjson`` reports it when it is parsed, with its line and column translated to the
whole file (:func:`file_position`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

# Bytes read at a time (larger blocks scan no faster); an element larger than this grows the
# block.
BLOCK = 1 << 20

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


_U64 = np.dtype("<u8")  # 64 bytes of a block per word: byte 64 w + i is bit i of word w
_SHIFTS = [np.uint64(k) for k in (1, 2, 4, 8, 16, 32)]
_ALL, _TOP, _ONE = np.uint64((1 << 64) - 1), np.uint64(63), np.uint64(1)
_ODD = np.uint64(0xAAAAAAAAAAAAAAAA)  # the odd bits of a word


def _positions(words: NDArray[np.uint64], rows: NDArray[np.intp] | None = None) -> NDArray[np.intp]:
    """The positions of the set bits of ``words``, in order (only non-zero words are unpacked);
    ``rows`` are the word numbers of ``words`` when they are a selection."""
    nonzero = words.nonzero()[0]
    bits = np.unpackbits(
        words[nonzero].astype(_U64, copy=False).view(np.uint8), bitorder="little"
    ).view(bool)
    hits = bits.nonzero()[0]
    if rows is not None:
        nonzero = rows[nonzero]
    positions: NDArray[np.intp] = (nonzero[hits >> 6] << 6) | (hits & 63)
    return positions


def _row_words(arr: NDArray[np.uint8], byte: int, rows: NDArray[np.intp]) -> NDArray[np.uint64]:
    """The words of ``arr == byte`` numbered ``rows`` (ascending) only."""
    full = len(arr) // 64
    inner = rows[rows < full]
    bits = np.packbits(arr[: full * 64].reshape(full, 64)[inner] == byte, axis=1, bitorder="little")
    if len(inner) < len(rows):  # the last word, not a whole one
        tail = np.zeros(64, np.uint8)
        tail[: len(arr) - full * 64] = arr[full * 64 :]
        bits = np.concatenate((bits, np.packbits(tail == byte, bitorder="little")[None]))
    return bits.view(_U64).ravel()


def _prefix_parity(words: NDArray[np.uint64], tmp: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Turn bit i of ``words`` into the parity of its set bits up to and including bit i."""
    for shift in _SHIFTS:  # within each word, by doubling
        np.left_shift(words, shift, out=tmp)
        words ^= tmp
    # The last bit of a word now holds the parity of the word; a word whose predecessors hold an
    # odd number of set bits is inverted.
    np.right_shift(words, _TOP, out=tmp)
    np.bitwise_xor.accumulate(tmp, out=tmp)
    tmp *= _ALL
    words[1:] ^= tmp[:-1]
    return words


def _swar_popcount(words: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The number of set bits of each word, for numpy < 2 (which has no ``bitwise_count``)."""
    x = words - ((words >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    counts: NDArray[np.uint64] = (x * np.uint64(0x0101010101010101)) >> np.uint64(56)
    return counts


_popcount = getattr(np, "bitwise_count", _swar_popcount)


def _escapes(
    slashes: NDArray[np.uint64], carry: NDArray[np.uint64]
) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """The bytes that a backslash escapes, and whether the last byte of each word is a backslash
    that escapes the next word's first one, given ``carry`` (1 where the first byte of the word is
    escaped). In a run of backslashes, the first escapes the second, the third the fourth, and so
    on: the byte after an odd run is escaped. Subtracting the runs that start on an even bit from
    the odd bits finds them all at once (the method of simdjson)."""
    starts = slashes & ~carry
    code = ((starts << _ONE) | _ODD) - starts
    code ^= _ODD
    return code ^ (slashes | carry), (code & slashes) >> _TOP


def _unescape(quotes: NDArray[np.uint64], slashes: NDArray[np.uint64]) -> None:
    """Clear in ``quotes`` the quotes that a backslash escapes: those after an odd run of
    backslashes (``\\\\`` is an escaped backslash, so only the parity of a run matters)."""
    follows = slashes << _ONE
    follows[1:] |= slashes[:-1] >> _TOP
    if not (follows & quotes).any():  # no quote right after a backslash
        return
    escaped, out = _escapes(slashes, np.zeros_like(slashes))
    # What a word passes to the next does not depend on what it receives, unless it is all
    # backslashes: then it passes on what it receives.
    full = slashes == _ALL
    if full.any():
        last = np.where(full, -1, np.arange(len(slashes)))
        np.maximum.accumulate(last, out=last)
        out = np.where(last >= 0, out[last], 0).astype(_U64)
    again = out[:-1].nonzero()[0] + 1  # the words whose first byte is escaped
    if len(again):
        escaped[again] = _escapes(slashes[again], np.ones(len(again), _U64))[0]
    quotes &= ~escaped


def _scratch(n: int, scratch: NDArray[np.uint8] | None = None) -> NDArray[np.uint8]:
    """Two rows of at least ``n`` bytes rounded up to whole words: ``scratch`` if it fits (not
    much larger: a block grown for a long element is not kept)."""
    size = -(-n // 64) * 64
    if scratch is None or not size <= scratch.shape[1] <= 2 * size + 64:
        scratch = np.empty((2, size + size // 256 * 64), np.uint8)  # a quarter more, for the next
    return scratch


def _structure(
    buf: bytes, scratch: NDArray[np.uint8] | None = None
) -> tuple[NDArray[np.intp], int]:
    """The positions of the commas at depth 1 of ``buf`` (which starts at depth 1, outside a
    string) before the bracket that closes it, and the position of that bracket (-1 if none).

    Each byte that matters (quote, backslash, brackets) becomes a bit of 64-bit words, whose prefix
    parity tells the bytes inside strings; the depth is counted per word, and only the brackets of
    the words that may reach depth 1, and the commas there, are listed one by one.
    """
    n = len(buf)
    arr = np.frombuffer(buf, dtype=np.uint8)
    size = -(-n // 64) * 64
    scratch = _scratch(n, scratch)[:, :size]
    scratch[:, n:] = 0
    flags = scratch.view(bool)
    head = scratch[0, :n]

    def words(byte: int, of: NDArray[np.uint8] = arr, into: int = 0) -> NDArray[np.uint64]:
        np.equal(of, byte, out=flags[into, :n])
        return np.packbits(flags[into], bitorder="little").view(_U64)

    quotes = words(_QUOTE)
    if b"\\" in buf:
        _unescape(quotes, words(_BACKSLASH))
    outside = ~_prefix_parity(quotes, np.empty_like(quotes))  # also set on closing quotes
    np.bitwise_or(arr, 0x20, out=head)  # [ and { fold to {, ] and } fold to }
    closes = words(_CLOSE[1], head, 1)
    closes &= outside
    opens = words(_OPEN[1], head)
    opens &= outside
    # The depth at the start of each word is 1 plus the opens minus the closes before it, and it
    # cannot go lower inside the word than that minus its closes: only the words that may reach
    # depth 1 (few: between elements) have their brackets and commas listed. (int32: a block is
    # < 2 GB.)
    up = _popcount(opens)
    net = np.subtract(up, _popcount(closes), dtype=np.int32)
    after = net.cumsum(dtype=np.int32)  # the depth after each word, minus 1
    rows = (after <= up).nonzero()[0]  # after - up + 1 = start - closes <= 1
    brackets = _positions(opens[rows] | closes[rows], rows)
    word = brackets >> 6
    step = (arr[brackets] & 2).astype(np.int32) - 1  # +1 for [ and {, -1 for ] and }
    total = step.cumsum(dtype=np.int32)
    first = brackets.searchsorted(brackets & -64)  # the first one listed in the same word
    depth = after[word] - net[word] + 1 + total - (total - step)[first]  # after each bracket
    closed = (depth <= 0).nonzero()[0]
    end = int(brackets[closed[0]]) if len(closed) else -1
    # The commas outside strings in the same words, at depth 1 (after the bracket before them in
    # their word, else as at the start of the word), before the end. (When all the words are
    # read, those of the words not listed are left out the same way: their depth at the start of
    # their word is 2 or more.)
    if len(rows) * 4 < len(opens):
        found = _positions(_row_words(arr, _COMMA, rows) & outside[rows], rows)
    else:
        found = _positions(words(_COMMA) & outside)
    if end >= 0:
        found = found[found < end]
    at = found >> 6
    level = after[at] - net[at] + 1
    if len(brackets):
        before = brackets.searchsorted(found) - 1
        inside = (before >= 0) & (word[before] == at)
        level[inside] = depth[before[inside]]
    return found[level == 1], end


def element_offsets(buf: bytes) -> list[int]:
    """Byte offsets in ``buf`` (which starts just after an array's ``[``) where each element of
    that array starts, whitespace included; empty for an empty array."""
    commas, end = _structure(buf)
    if end >= 0 and not buf[:end].strip(_WHITESPACE):
        return []
    return [0, *(int(c) + 1 for c in commas)]


def split_array(f: BinaryIO, start: int = 0, block: int | None = None) -> Iterator[Slice | Damage]:
    """Every element of the JSON array whose ``[`` is at byte ``start - 1`` of ``f``.

    Yields :class:`Slice` per element, in order, then stops; a :class:`Damage` (always last) when
    the array is not closed, is followed by data, or holds an empty element. Memory holds a few
    blocks of ``block`` bytes (default :data:`BLOCK`), whatever the size of the file. ``f`` must
    be seekable: the start of an element that a block cuts is read again with the next block.
    """
    block = block or BLOCK
    f.seek(start)
    carry = 0  # length of the start of an element whose end was not found yet
    carry_at = start  # file offset of ``buf``: the start of an element
    index = 0
    want = block
    scratch = None
    while True:
        if carry:  # read the unfinished element again with what follows (cheaper than joining)
            f.seek(carry_at)
        buf = f.read(carry + max(want - carry, block))
        eof = len(buf) == carry
        if not buf:
            yield Damage(index, carry_at, "the array is not closed (the file ends early)")
            return
        scratch = _scratch(len(buf), scratch)
        commas, end = _structure(buf, scratch)
        begin = 0
        for cut in commas.tolist():
            data = buf[begin:cut]
            if not data[:64].strip(_WHITESPACE) and _blank(data):  # (inline: the usual case)
                yield Damage(index, carry_at + begin, "an empty element (two commas in a row)")
                return
            yield Slice(index, carry_at + begin, data)
            index += 1
            begin = cut + 1
        if end >= 0:  # the bracket that closes the array, or a stray brace
            data = buf[begin:end]
            if buf[end] != _CLOSE[0]:  # a stray brace: orjson will say where
                yield Slice(index, carry_at + begin, buf[begin : end + 1])
                return
            if not _blank(data):
                yield Slice(index, carry_at + begin, data)
            elif index:
                yield Damage(index, carry_at + end, "a comma before the closing bracket")
                return
            rest = buf[end + 1 :].strip(_WHITESPACE)
            while not rest and not eof:  # whitespace up to the end of the file, whatever the block
                more = f.read(block)
                eof, rest = not more, more.strip(_WHITESPACE)
            if rest:
                yield Damage(index, carry_at + end + 1, "data after the end of the array")
            return
        carry = len(buf) - begin
        carry_at += begin
        if eof:
            rest = buf[begin:]
            if not _blank(rest):
                yield Slice(index, carry_at, rest)  # truncated: orjson will say where
            yield Damage(index, carry_at + carry, "the array is not closed (the file ends early)")
            return
        want = max(block, 2 * carry)  # an element longer than a block: read more at once


def _blank(data: bytes) -> bool:
    """Whether ``data`` is only whitespace (without copying it: elements often start with one)."""
    return not data[:64].strip(_WHITESPACE) and not data.strip(_WHITESPACE)


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

    Reads the file a block at a time, from the last position asked of the same file when that
    lies before ``offset`` (problems are located in file order, so locating all of them costs one
    read of the file, not one per problem). Used for error messages only.
    """
    name = str(path)
    state = _last_position.get(name)
    start, line, chars = state if state is not None and state[0] <= offset else (0, 1, 0)
    with path.open("rb") as f:
        f.seek(start)
        remaining = offset - start
        while remaining > 0:
            chunk = f.read(min(remaining, BLOCK))
            if not chunk:
                break
            remaining -= len(chunk)
            newlines = chunk.count(b"\n")
            if newlines:
                line += newlines
                chars = _chars(chunk[chunk.rfind(b"\n") + 1 :])
            else:
                chars += _chars(chunk)
    _last_position.clear()  # one file at a time
    _last_position[name] = (offset, line, chars)
    return line, chars + 1


_last_position: dict[str, tuple[int, int, int]] = {}  # file -> (byte offset, line, column - 1)
_CONTINUATION = bytes(range(0x80, 0xC0))


def _chars(data: bytes) -> int:
    """Characters in UTF-8 ``data``: the bytes that are not continuation bytes."""
    return len(data.translate(None, _CONTINUATION))


def slice_position(path: Path, piece: Slice, char_pos: int) -> tuple[int, int]:
    """Line and column in ``path`` of character ``char_pos`` of ``piece``."""
    prefix = piece.data.decode("utf-8", errors="replace")[:char_pos].encode("utf-8")
    return file_position(path, piece.offset + len(prefix))
