"""Stable split assignment: a hash of the group key, never the order or the corpus size.

An article keeps its split in every later version, and articles of one story (same group key)
always share a split.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ..errors import Problem, UsageError

SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitSpec:
    """Split names and their shares in percent, in order (shares sum to 100)."""

    shares: tuple[tuple[str, int], ...] = (("train", 50), ("validation", 20), ("test", 30))

    @classmethod
    def parse(cls, text: str) -> SplitSpec:
        """Parse ``train=80,validation=10,test=10``."""
        try:
            pairs = tuple((k.strip(), int(v)) for k, v in (p.split("=") for p in text.split(",")))
        except ValueError:
            pairs = ()
        names = [k for k, _ in pairs]
        if (
            not pairs
            or sum(v for _, v in pairs) != 100
            or any(v < 0 for _, v in pairs)
            or len(set(names)) != len(names)
            or not set(names) <= set(SPLIT_NAMES)
        ):
            raise UsageError(
                Problem(
                    "bad --splits value",
                    expected="names from train, validation, test with whole percentages "
                    "summing to 100, e.g. train=80,validation=10,test=10",
                    found=repr(text),
                )
            )
        return cls(pairs)

    def assign(self, group_key: str) -> str:
        """The split of every article whose group key is ``group_key``."""
        digest = hashlib.sha256(f"claimwire-split\x00{group_key}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % 10_000 / 100  # [0, 100) in 0.01 steps
        edge = 0
        for name, share in self.shares:
            edge += share
            if point < edge:
                return name
        return self.shares[-1][0]
