"""Leakage check: no article, and no near-duplicate of an article, may sit in two splits.

Splits are assigned per story key, so the same wire story re-published under another id (or with
a different headline and boilerplate) would land in a split of its own and leak test text into
training. Near-duplicates are found with MinHash over word shingles:

- text → lower-cased words (``\\w+``) → shingles of ``SHINGLE`` consecutive words;
- each shingle is hashed once (blake2b, 64 bits, so the result never depends on the Python hash
  seed), then ``PERMUTATIONS`` universal hashes give the signature;
- locality-sensitive hashing (``BANDS`` bands) proposes candidate pairs, and a pair is a
  near-duplicate when its estimated Jaccard similarity is at least ``THRESHOLD``.

Exact duplicates (same text) are caught by the SHA-256 of the text as well. A near-duplicate pair
inside one split is allowed (it is reported); across splits the build fails, naming both articles
and the fix: give them the same ``group`` in their metadata.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .errors import InvalidDataError, Problem

SHINGLE = 5
PERMUTATIONS = 128
BANDS = 32  # 4 rows per band: pairs with Jaccard >= ~0.42 become candidates with high chance
THRESHOLD = 0.8
_PRIME = np.uint64((1 << 61) - 1)
_MAX = np.uint64((1 << 32) - 1)
_WORD = re.compile(r"\w+")


def _params() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20160606)  # fixed: signatures must be the same in every build
    a = rng.integers(1, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
    b = rng.integers(0, (1 << 61) - 1, size=PERMUTATIONS, dtype=np.uint64)
    return a, b


_A, _B = _params()


def shingles(text: str, size: int = SHINGLE) -> set[str]:
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


def signature(text: str) -> np.ndarray:
    """The MinHash signature (``PERMUTATIONS`` values) of ``text``'s shingle set."""
    hashed = np.fromiter(
        (int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") & 0xFFFFFFFF
         for s in sorted(shingles(text))),
        dtype=np.uint64,
    )
    if hashed.size == 0:
        return np.full(PERMUTATIONS, _MAX, dtype=np.uint64)
    # (a*x + b) mod p, truncated to 32 bits; uint64 overflow wraps deterministically.
    with np.errstate(over="ignore"):
        values = (np.outer(hashed, _A) + _B) % _PRIME & _MAX
    return values.min(axis=0)


def jaccard(a: str, b: str) -> float:
    """The exact Jaccard similarity of two texts' shingle sets (for tests and reports)."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


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
    permutations: int = PERMUTATIONS
    within_split: list[Pair] = field(default_factory=list)

    def describe(self) -> str:
        """One paragraph for the card: the method, the threshold and what was found."""
        found = (f"{len(self.within_split)} near-duplicate pair(s) were found inside a single "
                 "split (allowed: " + ", ".join(f"{p.a} ~ {p.b} in {p.split_a} "
                                                 f"({p.similarity:.2f})"
                                                 for p in self.within_split) + ")"
                 if self.within_split else "no near-duplicate pair was found")
        return (
            f"Before writing, the build compares all {self.articles} article(s) for leakage "
            f"between splits: identical texts (SHA-256), and near-duplicates by MinHash "
            f"({self.permutations} permutations) over {self.shingle}-word shingles, with LSH "
            f"candidates kept when their estimated Jaccard similarity is at least "
            f"{self.threshold:.2f}. A pair in two different splits fails the build; "
            f"in this release {found}."
        )


def check_leakage(items: Iterable[tuple[str, str, str]],
                  threshold: float = THRESHOLD) -> LeakageReport:
    """Check ``(article_id, split, text)`` items; raise :class:`InvalidDataError` naming every
    pair of identical or near-duplicate articles that sit in different splits."""
    ids: list[str] = []
    splits: list[str] = []
    sigs: list[np.ndarray] = []
    by_sha: dict[str, int] = {}
    exact: list[tuple[int, int]] = []
    for article_id, split, text in items:
        k = len(ids)
        ids.append(article_id)
        splits.append(split)
        sigs.append(signature(text))
        sha = hashlib.sha256(text.encode()).hexdigest()
        if sha in by_sha:
            exact.append((by_sha[sha], k))
        else:
            by_sha[sha] = k
    rows = PERMUTATIONS // BANDS
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for k, sig in enumerate(sigs):
        for band in range(BANDS):
            buckets[(band, sig[band * rows : (band + 1) * rows].tobytes())].append(k)
    candidates = {(i, j) for members in buckets.values() if len(members) > 1
                  for n, i in enumerate(members) for j in members[n + 1 :]}
    pairs: dict[tuple[int, int], float] = {pair: 1.0 for pair in exact}
    for i, j in candidates:
        sim = float(np.mean(sigs[i] == sigs[j]))
        if sim >= threshold:
            pairs.setdefault((i, j), sim)
    report = LeakageReport(articles=len(ids), threshold=threshold)
    problems = []
    for (i, j), sim in sorted(pairs.items(), key=lambda p: (ids[p[0][0]], ids[p[0][1]])):
        a, b = sorted((i, j), key=lambda k: ids[k])
        pair = Pair(ids[a], ids[b], splits[a], splits[b], round(sim, 4))
        if pair.split_a == pair.split_b:
            report.within_split.append(pair)
            continue
        kind = "identical text" if sim == 1.0 and (i, j) in exact else \
            f"near-duplicate (estimated Jaccard {sim:.2f} >= {threshold:.2f})"
        problems.append(Problem(
            f"leakage between splits: {kind}", article=pair.a,
            found=f"{pair.a} in {pair.split_a}, {pair.b} in {pair.split_b}",
            expected="a story and its near-duplicates in one split",
            fix=f"give both articles the same \"group\" in their metadata (articles/{pair.a}.json "
            f"and articles/{pair.b}.json), or drop the duplicate"))
    if problems:
        raise InvalidDataError(problems)
    return report
