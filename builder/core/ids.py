"""Article ids as 8-byte digests: the build's record of which articles it has seen, in ~8 bytes
per article instead of the ids themselves (a million ids are ~70 MB as Python strings)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable

import numpy as np
from numpy.typing import NDArray


def id_digest(article_id: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest(), "little"
    )


class IdSet:
    """A set of article ids held as 8-byte BLAKE2b digests (:func:`id_digest`): a sorted numpy
    array plus a small set of recent ones, ~8 bytes per id.

    Two ids with the same digest would be taken for one (chance ~n²/2⁶⁵: 3e-8 for a million
    ids); a caller for whom that matters checks a hit against the source, as the build does
    for an article annotated twice.
    """

    FOLD = 1 << 16

    def __init__(self) -> None:
        self._sorted: NDArray[np.uint64] = np.zeros(0, dtype=np.uint64)
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return self._sorted.size + len(self._recent)

    def __contains__(self, digest: int) -> bool:
        if digest in self._recent:
            return True
        i = int(np.searchsorted(self._sorted, np.uint64(digest)))
        return i < self._sorted.size and int(self._sorted[i]) == digest

    def add(self, digest: int) -> None:
        if digest in self:
            return
        self._recent.add(digest)
        self._fold()

    def update(self, digests: Collection[int]) -> None:
        """Add every digest of ``digests``, with one search of the sorted array for all."""
        self._recent.update(
            d for d, k in zip(digests, self.contains(digests).tolist(), strict=True) if not k
        )
        self._fold()

    def _fold(self) -> None:
        if len(self._recent) >= self.FOLD:
            recent = np.fromiter(self._recent, dtype=np.uint64, count=len(self._recent))
            merged = np.concatenate([self._sorted, np.sort(recent)])
            merged.sort(kind="stable")  # two sorted runs: merged in linear time
            self._sorted = merged
            self._recent = set()

    def contains(self, digests: Collection[int]) -> NDArray[np.bool_]:
        """For each digest of ``digests``: is it in the set? One search of the sorted array for
        all (a search per digest cost more than the lookup itself)."""
        wanted = np.fromiter(digests, dtype=np.uint64, count=len(digests))
        found = np.zeros(wanted.size, dtype=bool)
        if self._sorted.size:
            i = np.searchsorted(self._sorted, wanted).clip(max=self._sorted.size - 1)
            found = self._sorted[i] == wanted
        if self._recent:
            recent = self._recent
            found |= np.fromiter(
                (d in recent for d in wanted.tolist()), dtype=bool, count=wanted.size
            )
        return found


def missing(ids: Iterable[str], present: IdSet, absent: IdSet, chunk: int = 1 << 16) -> list[str]:
    """The ids of ``ids`` that are not in ``present`` or are in ``absent``, in their order;
    ``ids`` is read a chunk at a time, so it is never held whole."""
    out: list[str] = []
    batch: list[str] = []

    def flush() -> None:
        digests = np.fromiter((id_digest(i) for i in batch), dtype=np.uint64, count=len(batch))
        keep = ~present.contains(digests) | absent.contains(digests)
        out.extend(i for i, k in zip(batch, keep, strict=True) if k)
        batch.clear()

    for i in ids:
        batch.append(i)
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    return out
