"""Leakage check: no article, and no near-duplicate of an article, may sit in two splits.

Splits are assigned per story key, so the same wire story re-published under another id (or with
a different headline and boilerplate) would land in a split of its own and leak test text into
training. Near-duplicates are found with MinHash over word shingles:

- text → lower-cased words (``\\w+``) → shingles of ``SHINGLE`` consecutive words (a text of
  fewer words is one shingle);
- each word is hashed from its code points (a polynomial hash modulo 2**64 computed with prefix
  sums, then a bit mixer), a shingle from its words' hashes, all with fixed constants, so the
  result never depends on the Python hash seed, the process or the batch a text is in;
- one-permutation MinHash: the shingle hashes are spread over ``BINS`` bins by their top bits and
  each bin keeps its smallest hash (32 bits); a bin no shingle fell in borrows the value of a bin
  chosen by a fixed pseudo-random probe sequence (optimal densification, Shrivastava 2017), so
  the share of equal bins of two signatures estimates the Jaccard similarity of the two shingle
  sets without bias, as ``BINS`` independent hash functions would, at the cost of one hash per
  shingle;
- candidates: the bins form ``BANDS`` bands of ``BINS // BANDS``, and the bands are keyed two at a
  time (:func:`key_plan`). Two signatures equal in at least ``THRESHOLD`` of their bins (0.80:
  at most 25 unequal bins) have at least 7 equal bands; with the bands split into 6 groups, two
  of those fall in one group, so keying every two bands of a group (70 keys of 8 bins) makes
  every such pair a candidate, by the pigeonhole principle rather than by chance. For each key
  the signatures are sorted and equal neighbours compared; a pair is a near-duplicate when its
  estimated Jaccard similarity (the share of equal bins) is at least ``THRESHOLD``. Keys of 8
  bins keep chance matches rare even when many texts share stock phrases (single 4-bin bands
  made quadratically many candidates on such a corpus).

Signatures are computed where the documents are (the build's worker processes, a batch at a
time) and kept on disk, in a folder of the staging area, with the SHA-256 of each text and the
article ids. Until the check, memory holds one byte per document (its split); the check reads
the signatures back one group of bands at a time and holds ~50 bytes per document while it runs
(the group's band keys, one key's sort order), plus the pairs it finds.

Exact duplicates (same text) are recognised by the SHA-256 of the text (identical texts always
share every band, so they are always candidates). A near-duplicate pair inside one split is
allowed (it is reported); across splits the build fails, naming both articles and the fix: give
them the same ``group`` in their metadata.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidDataError, Problem

SHINGLE = 5
BINS = 128
BANDS = 32  # 4 bins per band: pairs with Jaccard >= ~0.42 become candidates with high chance
THRESHOLD = 0.8
_ROWS = BINS // BANDS
_BIN_BITS = 7  # log2(BINS): a shingle's bin is the top bits of its hash...
_LOW = 64 - _BIN_BITS - 32  # ... and its value the next 32 bits (the lowest _LOW are dropped)
_EMPTY = np.uint32(0xFFFFFFFF)  # every bin of a text without words
_WORD = re.compile(r"\w+")
_U64 = np.uint64
_CHAR_BASE = 0x9E3779B97F4A7C15  # odd, so invertible modulo 2**64
_CHAR_BASE_INV = pow(_CHAR_BASE, -1, 1 << 64)
_WORD_BASES = np.array([pow(0xC2B2AE3D27D4EB4F, k, 1 << 64) for k in range(SHINGLE)], dtype=_U64)
_PROBES = 1024  # densification probes per empty bin before the deterministic fallback
_CHUNK = 1 << 15  # signatures read at a time by the check
_VERIFY = 1 << 13  # candidate pairs compared at a time
_SIGS, _SHAS, _IDS = "signatures.u32", "sha256.bin", "ids.txt"  # files of a LeakageIndex


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    """The shingle set the signature stands for (the reference definition, for tests and
    reports): lower-cased ``\\w+`` words, ``size`` at a time."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (for tests and reports)."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


# --- signatures ------------------------------------------------------------------------------


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The splitmix64 finaliser: every input bit affects every output bit (wraps mod 2**64)."""
    # (shifts by uint64 scalars, like every other operand here: numpy's stubs type a uint64
    # array shifted by a Python int as signed)
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


@cache
def _word_chars() -> NDArray[np.bool_]:
    """For every code point of the Basic Multilingual Plane: is it a ``\\w`` character?"""
    # surrogates (U+D800..U+DFFF) stand in as NUL: they are never word characters
    plane = (
        "".join(map(chr, range(0xD800))) + "\0" * 0x800 + "".join(map(chr, range(0xE000, 0x10000)))
    )
    table = np.zeros(0x10000, dtype=bool)
    table[[m.start() for m in re.finditer(r"\w", plane)]] = True
    return table


_powers: list[NDArray[np.uint64]] = [np.ones(1, dtype=_U64), np.ones(1, dtype=_U64)]


def _pow_tables(n: int) -> tuple[NDArray[np.uint64], NDArray[np.uint64]]:
    """``B**k`` and ``B**-k`` modulo 2**64 for ``k < n`` (grown by doubling, kept)."""
    if _powers[0].size < n:
        size = max(n, 2 * _powers[0].size, 1 << 16)
        for k, base in enumerate((_CHAR_BASE, _CHAR_BASE_INV)):
            table = np.ones(size, dtype=_U64)
            np.cumprod(np.full(size - 1, base, dtype=_U64), out=table[1:])
            _powers[k] = table
    return _powers[0][:n], _powers[1][:n]


@cache
def _probes() -> NDArray[np.int64]:
    """The fixed densification probe sequence of every bin (``BINS`` x ``_PROBES``)."""
    rng = np.random.default_rng(20160606)  # fixed: signatures must be the same in every build
    return rng.integers(0, BINS, size=(BINS, _PROBES), dtype=np.int64)


def _is_word(cp: NDArray[np.uint32]) -> NDArray[np.bool_]:
    out: NDArray[np.bool_] = _word_chars()[cp & 0xFFFF]
    wide = np.flatnonzero(cp >= 0x10000)
    for k in wide:  # characters beyond the BMP are rare: ask the regex about each one
        out[k] = _WORD.fullmatch(chr(int(cp[k]))) is not None
    return out


def _shingle_hashes(texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.uint64]]:
    """(text index, 64-bit hash) of every shingle of every text, shingles in text order.

    Words are maximal runs of ``\\w`` code points of the lower-cased text, as ``shingles``
    finds them; a shingle's hash is a polynomial in its words' hashes, so equal word sequences
    hash alike in any text."""
    lowered = [t.lower() for t in texts]
    joined = "\n".join(lowered)  # "\n" is not a word character: no word spans two texts
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    if cp.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=_U64)
    word = _is_word(cp).view(np.int8)
    edges = np.diff(word, prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    powers, inverse = _pow_tables(cp.size)
    prefix = np.zeros(cp.size + 1, dtype=_U64)
    np.cumsum(cp.astype(_U64) * powers, out=prefix[1:])
    words = _mix((prefix[ends] - prefix[starts]) * inverse[starts])
    firsts = np.cumsum([0] + [len(t) + 1 for t in lowered[:-1]])
    owner = np.searchsorted(firsts, starts, side="right") - 1  # text index of every word
    n = words.size
    docs: list[NDArray[np.int64]] = []
    hashes: list[NDArray[np.uint64]] = []
    if n >= SHINGLE:
        span = n - SHINGLE + 1
        h = np.zeros(span, dtype=_U64)
        for k in range(SHINGLE):
            h += words[k : k + span] * _WORD_BASES[k]
        keep = owner[:span] == owner[SHINGLE - 1 :]
        docs.append(owner[:span][keep])
        hashes.append(h[keep])
    counts = np.bincount(owner, minlength=len(texts))
    short = np.flatnonzero((counts > 0) & (counts < SHINGLE))
    if short.size:  # a text of fewer words than a shingle is one shingle of all its words
        first = np.searchsorted(owner, short)
        h = np.zeros(short.size, dtype=_U64)
        for k in range(SHINGLE - 1):
            take = k < counts[short]
            h[take] += words[first[take] + k] * _WORD_BASES[k]
        docs.append(short)
        hashes.append(h)
    if not docs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=_U64)
    return np.concatenate(docs), _mix(np.concatenate(hashes))


def signatures(texts: Sequence[str]) -> NDArray[np.uint32]:
    """The MinHash signatures (``len(texts)`` x ``BINS``, uint32) of the texts' shingle sets."""
    n = len(texts)
    sig = np.full((n, BINS), _EMPTY, dtype=np.uint32)
    doc, h = _shingle_hashes(texts)
    if h.size == 0:
        return sig
    # Sorting (text, hash) puts each bin's smallest hash first: the bin is the top bits of the
    # hash, the value kept is the next 32 bits.
    key = (doc.astype(_U64) << _U64(64 - _LOW)) | (h >> _U64(_LOW))
    key.sort()
    cell = key >> _U64(32)
    first = np.flatnonzero(np.diff(cell, prepend=cell[0] ^ _U64(1)))
    rows = (cell[first] >> _U64(_BIN_BITS)).astype(np.int64)
    bins = (cell[first] & _U64(BINS - 1)).astype(np.int64)
    sig[rows, bins] = (key[first] & _U64(0xFFFFFFFF)).astype(np.uint32)
    filled = np.zeros((n, BINS), dtype=bool)
    filled[rows, bins] = True
    # (an array: numpy's stubs also allow a scalar for ``any(axis=...)``)
    partial = cast(NDArray[np.bool_], filled.any(axis=1) & ~filled.all(axis=1))
    if partial.any():
        _densify(sig, filled, partial)
    return sig


def _densify(
    sig: NDArray[np.uint32], filled: NDArray[np.bool_], partial: NDArray[np.bool_]
) -> None:
    """Give every empty bin of the rows in ``partial`` the value of the first filled bin of its
    fixed probe sequence (the same sequence for every text)."""
    rows, empty = np.nonzero(~filled & partial[:, None])
    probes = _probes()
    source = np.full(rows.size, -1, dtype=np.int64)
    todo = np.arange(rows.size)
    for t in range(_PROBES):
        cand = probes[empty[todo], t]
        hit = filled[rows[todo], cand]
        source[todo[hit]] = cand[hit]
        todo = todo[~hit]
        if not todo.size:
            break
    for k in todo:  # ~never (after _PROBES misses): the next filled bin, circularly
        r, b = rows[k], empty[k]
        source[k] = next((b + d) % BINS for d in range(1, BINS) if filled[r, (b + d) % BINS])
    sig[rows, empty] = sig[rows, source]


def signature(text: str) -> NDArray[np.uint32]:
    """The MinHash signature (``BINS`` values) of ``text``'s shingle set."""
    sig: NDArray[np.uint32] = signatures([text])[0]
    return sig


# --- the check -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    split_a: str
    split_b: str
    similarity: float  # estimated Jaccard; 1.0 for identical texts


@dataclass
class LeakageReport:
    articles: int
    threshold: float = THRESHOLD
    shingle: int = SHINGLE
    bins: int = BINS
    bands: int = BANDS
    within_split: list[Pair] = field(default_factory=list)

    def describe(self) -> str:
        """One paragraph for the card: the method, the threshold and what was found."""
        found = (
            f"{len(self.within_split)} near-duplicate pair(s) were found inside a single "
            "split (allowed: "
            + ", ".join(
                f"{p.a} ~ {p.b} in {p.split_a} ({p.similarity:.2f})" for p in self.within_split
            )
            + ")"
            if self.within_split
            else "no near-duplicate pair was found"
        )
        keys = sum(len(group) for group in key_plan(self.threshold))
        return (
            f"Before writing, the build compares all {self.articles} article(s) for leakage "
            f"between splits: identical texts (SHA-256), and near-duplicates by one-permutation "
            f"MinHash ({self.bins} bins, empty bins densified) over {self.shingle}-word "
            f"shingles. Candidate pairs come from {keys} LSH keys over {self.bands} bands of "
            f"{self.bins // self.bands} bins, chosen so that every pair whose signatures agree "
            f"in at least {self.threshold:.0%} of their bins is a candidate, and are kept when "
            f"their estimated Jaccard similarity is at least {self.threshold:.2f}. A pair in two "
            f"different splits fails the build; in this release {found}."
        )


def _band_keys(chunk: NDArray[np.uint32], band: int) -> NDArray[np.uint32]:
    """One 32-bit key per signature for the ``_ROWS`` values of ``band`` (equal values, equal
    keys; other keys collide by chance only, and candidates are checked on the signatures)."""
    values = chunk[:, band * _ROWS : (band + 1) * _ROWS].astype(_U64)
    key: NDArray[np.uint64] = np.zeros(len(chunk), dtype=_U64)
    for k in range(_ROWS):
        key = _mix(key ^ values[:, k] ^ _U64(k << 32))
    return (key >> _U64(32)).astype(np.uint32)


def _equal_runs(keys: NDArray[np.uint64], n: int) -> Iterable[NDArray[np.uint64]]:
    """For each run of equal ``keys``: the pairs ``i * n + j`` (``i < j``) of its members."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    same = np.flatnonzero(ordered[1:] == ordered[:-1])
    if not same.size:
        return
    breaks = np.flatnonzero(np.diff(same) != 1) + 1
    for run in np.split(same, breaks):
        members = order[run[0] : run[-1] + 2].astype(_U64)  # input order (stable sort)
        if members.size * (members.size - 1) // 2 <= _VERIFY:
            i, j = np.triu_indices(members.size, k=1)
            yield members[i] * _U64(n) + members[j]
        else:  # a large run: its pairs a member at a time, in the same order
            for a in range(members.size - 1):
                yield members[a] * _U64(n) + members[a + 1 :]


def _parts(arrays: Iterable[NDArray[np.uint64]], size: int) -> Iterator[NDArray[np.uint64]]:
    """``arrays`` joined and cut into parts of at least ``size`` items (the last: the rest)."""
    pending: list[NDArray[np.uint64]] = []
    count = 0
    for array in arrays:
        pending.append(array)
        count += array.size
        if count >= size:
            yield np.concatenate(pending)
            pending, count = [], 0
    if pending:
        yield np.concatenate(pending)


def key_plan(threshold: float) -> list[list[tuple[int, ...]]]:
    """The LSH keys, in groups of bands read together: each key is one band or two.

    Two signatures with an estimated similarity of at least ``threshold`` differ in at most
    ``d = BINS - ceil(threshold * BINS)`` bins, so at least ``e = BANDS - d`` of their bands are
    equal (0.80: 25 bins, 7 bands). Split the bands into ``e - 1`` groups: two of the ``e``
    equal bands fall in one group (pigeonhole), so keying every pair of bands of a group finds
    every such pair of signatures, none left to chance (0.80: 70 keys of 8 bins). Random pairs
    rarely match 8 bins at once, which keeps the candidates few even when many texts share
    common phrases. Below the similarity that guarantees two equal bands, single bands are the
    keys (classic banding: a pair is found with high probability only)."""
    differ = BINS - math.ceil(threshold * BINS - 1e-9)
    groups = BANDS - differ - 1
    if groups < 1:
        return [[(b,)] for b in range(BANDS)]
    members = [list(range(BANDS))[g::groups] for g in range(groups)]
    return [list(itertools.combinations(m, 2)) for m in members if len(m) > 1]


def _rows(fd: int, rows: NDArray[np.int64], width: int) -> NDArray[np.uint8]:
    """Rows ``rows`` (indexes) of ``width`` bytes each of the open file ``fd``, one row of the
    result per index, as uint8.

    Read with one ``pread`` per distinct row. Candidate pairs reach rows all over the file, and
    through a memory mapping every row touched maps far more than itself: the kernel maps the
    pages around a fault (here 2,000 random rows of the signatures of a million documents
    mapped ~290 MB), so the check's memory grew with the corpus."""
    wanted, where = np.unique(rows, return_inverse=True)
    data = b"".join([os.pread(fd, width, r * width) for r in wanted.tolist()])
    if len(data) != len(wanted) * width:
        raise OSError(f"{fd}: short read of rows of {width} bytes")
    return np.frombuffer(data, dtype=np.uint8).reshape(-1, width)[where.reshape(-1)]


class LeakageIndex:
    """Signatures, text digests, splits and ids of the documents, in input order, on disk.

    Documents are added a batch at a time (:meth:`add`); :meth:`check` finds the pairs. Memory
    holds one byte per document (its split) until the check, which reads the signatures back
    in chunks, a group of bands at a time.
    """

    def __init__(self, folder: Path, split_names: Sequence[str]) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.split_names = list(split_names)
        self.count = 0
        self._splits = bytearray()
        for name in (_SIGS, _SHAS, _IDS):
            (folder / name).write_bytes(b"")
        self._open: dict[str, BinaryIO] = {}  # the files being added to, until they are read

    def add(
        self, ids: Sequence[str], splits: bytes, sigs: NDArray[np.uint32], sha256: bytes
    ) -> None:
        """``ids`` of documents, their split codes (indexes into ``split_names``, one byte
        each), signatures (``len(ids)`` x ``BINS``) and text SHA-256 digests (32 bytes each)."""
        n = len(ids)
        assert len(splits) == n and sigs.shape == (n, BINS) and len(sha256) == 32 * n
        if not n:
            return
        # the files stay open from batch to batch (opening three files a batch cost ~0.4 ms)
        # until they are read or removed
        for name, data in (
            (_SIGS, np.ascontiguousarray(sigs, dtype="<u4").tobytes()),
            (_SHAS, sha256),
            (_IDS, ("\n".join(ids) + "\n").encode("utf-8")),
        ):
            f = self._open.get(name)
            if f is None:
                f = self._open[name] = (self.folder / name).open("ab")
            f.write(data)
        self._splits += splits
        self.count += n

    def close(self) -> None:
        """Close the files :meth:`add` writes (every read closes them first)."""
        for f in self._open.values():
            f.close()
        self._open.clear()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _chunks(self) -> Iterable[NDArray[np.uint32]]:
        self.close()
        with (self.folder / _SIGS).open("rb") as f:
            while True:
                data = np.fromfile(f, dtype="<u4", count=_CHUNK * BINS)
                if not data.size:
                    return
                yield data.reshape(-1, BINS)

    def near_pairs(self, threshold: float = THRESHOLD) -> list[tuple[int, int, float, bool]]:
        """``(i, j, similarity, identical text)`` of every pair of documents ``i < j`` (indexes
        in input order) at or above ``threshold`` (or with the same text), from the candidates
        of :func:`key_plan`, in no particular order; the build's grouping of near-duplicates
        (:mod:`builder.pipeline.clusters`) and :meth:`check` both ask this."""
        return self._near_pairs(threshold) if self.count > 1 else []

    def _near_pairs(self, threshold: float) -> list[tuple[int, int, float, bool]]:
        self.close()
        sig_fd = os.open(self.folder / _SIGS, os.O_RDONLY)
        sha_fd = os.open(self.folder / _SHAS, os.O_RDONLY)
        try:
            return self._verified(threshold, sig_fd, sha_fd)
        finally:
            os.close(sig_fd)
            os.close(sha_fd)

    def _verified(
        self, threshold: float, sig_fd: int, sha_fd: int
    ) -> list[tuple[int, int, float, bool]]:
        n = self.count
        found: dict[int, tuple[float, bool]] = {}
        for keys in key_plan(threshold):
            bands = sorted({b for key in keys for b in key})
            column = {b: k for k, b in enumerate(bands)}
            values = np.empty((len(bands), n), dtype=np.uint32)
            at = 0
            for chunk in self._chunks():
                for b in bands:
                    values[column[b], at : at + len(chunk)] = _band_keys(chunk, b)
                at += len(chunk)
            for key in keys:
                joined = values[column[key[0]]].astype(_U64)
                for b in key[1:]:
                    joined = (joined << _U64(32)) | values[column[b]]
                known = np.fromiter(found, _U64, len(found)) if found else None
                # the candidates a part at a time: a key shared by many documents has a
                # quadratic number of pairs, never held at once
                for part in _parts(_equal_runs(joined, n), _VERIFY):
                    if known is not None:  # pairs already found through another key
                        part = part[~np.isin(part, known)]
                    i = (part // _U64(n)).astype(np.int64)
                    j = (part % _U64(n)).astype(np.int64)
                    sigs = _rows(sig_fd, np.concatenate([i, j]), 4 * BINS).view("<u4")
                    sims = (sigs[: i.size] == sigs[i.size :]).mean(axis=1)
                    # identical texts have identical signatures: only those pairs' digests
                    exact = np.zeros(part.size, dtype=bool)
                    same = np.flatnonzero(sims == 1.0)
                    if same.size:
                        shas = _rows(sha_fd, np.concatenate([i[same], j[same]]), 32)
                        exact[same] = (shas[: same.size] == shas[same.size :]).all(axis=1)
                    for k in np.flatnonzero(exact | (sims >= threshold)):
                        found[int(part[k])] = (1.0 if exact[k] else float(sims[k]), bool(exact[k]))
            del values
        return [(c // n, c % n, sim, exact) for c, (sim, exact) in found.items()]

    def check(self, threshold: float = THRESHOLD) -> LeakageReport:
        """Raise :class:`InvalidDataError` naming every pair of identical or near-duplicate
        articles that sit in different splits; report the pairs inside one split."""
        n = self.count
        report = LeakageReport(articles=n, threshold=threshold)
        kept = self.near_pairs(threshold)
        ids = self._ids_of({x for i, j, _, _ in kept for x in (i, j)})
        splits = self.split_names
        problems = []
        for i, j, sim, exact in sorted(kept, key=lambda p: (ids[p[0]], ids[p[1]])):
            a, b = sorted((i, j), key=lambda k: ids[k])
            pair = Pair(
                ids[a], ids[b], splits[self._splits[a]], splits[self._splits[b]], round(sim, 4)
            )
            if pair.split_a == pair.split_b:
                report.within_split.append(pair)
                continue
            kind = (
                "identical text"
                if exact
                else f"near-duplicate (estimated Jaccard {sim:.2f} >= {threshold:.2f})"
            )
            problems.append(
                Problem(
                    f"leakage between splits: {kind}",
                    article=pair.a,
                    found=f"{pair.a} in {pair.split_a}, {pair.b} in {pair.split_b}",
                    expected="a story and its near-duplicates in one split",
                    fix=f'give both articles the same "group" in their metadata '
                    f"(articles/{pair.a}.json and articles/{pair.b}.json), or drop the duplicate",
                )
            )
        if problems:
            raise InvalidDataError(problems)
        return report

    def _ids_of(self, wanted: set[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        if not wanted:
            return out
        last = max(wanted)
        self.close()
        with (self.folder / _IDS).open("rb") as f:
            for k, line in enumerate(f):
                if k in wanted:
                    out[k] = line.rstrip(b"\n").decode("utf-8")
                if k >= last:
                    break
        return out


def check_leakage(
    items: Iterable[tuple[str, str, str]], threshold: float = THRESHOLD
) -> LeakageReport:
    """Check ``(article_id, split, text)`` items (a convenience for small sets; the build feeds
    a :class:`LeakageIndex` from its workers). Raises :class:`InvalidDataError` naming every
    pair of identical or near-duplicate articles that sit in different splits."""
    names: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="claimwire-leakage-") as tmp:
        index = LeakageIndex(Path(tmp) / "index", [])
        batch: list[tuple[str, str, str]] = []

        def flush() -> None:
            codes = bytes(names.setdefault(s, len(names)) for _, s, _ in batch)
            index.add(
                [i for i, _, _ in batch],
                codes,
                signatures([t for _, _, t in batch]),
                b"".join(hashlib.sha256(t.encode()).digest() for _, _, t in batch),
            )
            batch.clear()

        for item in items:
            batch.append(item)
            if len(batch) == 64:
                flush()
        flush()
        index.split_names = list(names)
        try:
            return index.check(threshold)
        finally:
            index.remove()
