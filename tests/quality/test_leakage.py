"""Leakage check: identical and near-duplicate articles may not straddle splits (the build
clusters them into one split first; tests/pipeline/test_clusters.py shows the check still refuses
a build that would leak, leaving nothing in dist/)."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import numpy as np
import pytest
from support.corpus import groups_by_split, synthetic_article, write_corpus

from builder import build
from builder.core.splits import SplitSpec
from builder.errors import InvalidDataError
from builder.quality import leakage
from builder.quality.leakage import (
    BINS,
    THRESHOLD,
    LeakageIndex,
    check_leakage,
    jaccard,
    key_plan,
    shingles,
    signature,
    signatures,
)

BASE = synthetic_article("a", 1, sentences=30)["text"]


def _edit(text: str, sentences: int) -> str:
    """``text`` with its last ``sentences`` lines replaced by new ones."""
    lines = text.split("\n\n")
    new = [f"Reporters in Lisbon counted {k} quiet streets." for k in range(sentences)]
    return "\n\n".join(lines[: len(lines) - sentences] + new)


def test_shingles_are_lowercased_word_windows() -> None:
    assert shingles("A b, C d e F!") == {"a b c d e", "b c d e f"}
    assert shingles("Too short") == {"too short"}
    assert shingles("") == set()


def test_signature_is_deterministic_and_estimates_jaccard() -> None:
    near = _edit(BASE, 2)
    assert (signature(BASE) == signature(BASE)).all()
    exact = jaccard(BASE, near)
    estimate = float((signature(BASE) == signature(near)).mean())
    assert 0.8 < exact < 0.95
    assert abs(estimate - exact) < 0.1


_PIECES = [
    "a",
    "b",
    "Ab",
    " ",
    " ",
    ", ",
    ".",
    "\n\n",
    "\u00a0",
    "’",
    "'",
    "—",
    "_",
    "7",
    "é",
    "İ",
    "ß",
    "Σ",
    "ǅ",
    "日本",
    "x\u0301",
    "😀",
    "𝔘",
    "\U00020000",
    "-",
]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 120)))


def test_shingle_hashes_stand_for_the_reference_shingles() -> None:
    """Hashed words are ``\\w+`` runs of the lower-cased text, beyond ASCII and beyond the BMP:
    the same shingle sets as :func:`shingles` (sizes and intersections)."""
    rng = random.Random(3)
    texts = [_random_text(rng) for _ in range(400)] + [BASE, _edit(BASE, 2), "", "one two"]
    doc, hashes = leakage._shingle_hashes(texts)
    mine = [set(hashes[doc == k].tolist()) for k in range(len(texts))]
    for k, text in enumerate(texts):
        assert len(mine[k]) == len(shingles(text)), text
    for _ in range(400):
        a, b = rng.randrange(len(texts)), rng.randrange(len(texts))
        assert len(mine[a] & mine[b]) == len(shingles(texts[a]) & shingles(texts[b]))


def test_signatures_do_not_depend_on_the_batch() -> None:
    rng = random.Random(4)
    texts = [_random_text(rng) for _ in range(50)] + [BASE]
    together = signatures(texts)
    assert together.shape == (len(texts), BINS) and together.dtype == np.uint32
    for k in (0, 7, 31, 50):
        assert (together[k] == signature(texts[k])).all()
    assert (signature("") == 0xFFFFFFFF).all()
    # every bin of a short text is filled (densified) from the bins its shingles fell in
    short = signature("one two three four five six seven eight")  # 4 shingles, <= 4 bins
    assert len(set(short.tolist())) <= 4


def test_one_permutation_estimate_is_unbiased() -> None:
    """The share of equal bins estimates the Jaccard similarity, for long texts and for short
    ones where most bins are empty before densification."""
    rng = random.Random(5)
    errors = []
    for k in range(150):
        words = synthetic_article("e", k, sentences=rng.choice([2, 6, 30]))["text"].split()
        cut = rng.randint(0, len(words) // 3)
        other = " ".join(words[cut:] + [f"w{i}" for i in range(rng.randint(0, 20))])
        a, b = signatures([" ".join(words), other])
        errors.append(float((a == b).mean()) - jaccard(" ".join(words), other))
    assert abs(float(np.mean(errors))) < 0.02
    assert float(np.std(errors)) < 0.08


def test_identical_texts_in_two_splits_fail() -> None:
    with pytest.raises(InvalidDataError) as exc:
        check_leakage([("a", "train", BASE), ("b", "test", BASE), ("c", "test", "other words")])
    (p,) = exc.value.problems
    assert p.message == "leakage between splits: identical text"
    assert p.found == "a in train, b in test"
    assert 'same "group"' in (p.fix or "") and "articles/a.json" in (p.fix or "")


def test_near_duplicates_in_two_splits_fail() -> None:
    near = _edit(BASE, 2)
    with pytest.raises(InvalidDataError) as exc:
        check_leakage([("x", "validation", near), ("a", "train", BASE)])
    (p,) = exc.value.problems
    assert p.message.startswith("leakage between splits: near-duplicate (estimated Jaccard 0.")
    assert p.message.endswith(f">= {THRESHOLD:.2f})")
    assert p.found == "a in train, x in validation"


def test_near_duplicates_in_one_split_are_reported() -> None:
    report = check_leakage(
        [
            ("a", "train", BASE),
            ("b", "train", _edit(BASE, 2)),
            ("c", "test", synthetic_article("c", 2)["text"]),
        ]
    )
    assert [(p.a, p.b, p.split_a) for p in report.within_split] == [("a", "b", "train")]
    assert report.articles == 3
    assert "1 near-duplicate pair(s) were found inside a single split" in report.describe()


def test_different_articles_pass() -> None:
    texts = [synthetic_article(f"a{i}", i, sentences=10)["text"] for i in range(20)]
    report = check_leakage((f"a{i}", ["train", "test"][i % 2], t) for i, t in enumerate(texts))
    assert report.within_split == []
    assert max(jaccard(texts[0], t) for t in texts[1:]) < 0.3


def test_rewritten_story_below_threshold_passes() -> None:
    far = _edit(BASE, 15)
    assert jaccard(BASE, far) < 0.5
    assert check_leakage([("a", "train", BASE), ("b", "test", far)]).within_split == []


def test_build_puts_copies_in_one_split_and_reports_the_pair(tmp_path: Path) -> None:
    """Copies whose story keys fall in two splits are clustered before the build (see
    tests/pipeline/test_clusters.py, also for the check as the guard it stays): the check
    finds them in one split and the card reports the pair."""
    groups = groups_by_split()
    original = synthetic_article("w1", 5, groups["train"][0], sentences=20)
    copy = dict(
        original, id="w2", group=groups["test"][0], spec=dict(original["spec"], article_id="w2")
    )
    articles, export = write_corpus(tmp_path / "in", [original, copy], seed=False)
    result = build(articles, [export], tmp_path / "dist", "0.1.0")
    split = SplitSpec().assign(min(groups["train"][0], groups["test"][0]))
    assert result.counts[split]["documents"] == 2
    card = (result.path / "README.md").read_text()
    assert (
        f"1 near-duplicate pair(s) were found inside a single split (allowed: w1 ~ w2 in "
        f"{split} (1.00))" in card
    )


def test_three_copies_are_three_identical_pairs() -> None:
    report = check_leakage([("a", "train", BASE), ("b", "train", BASE), ("c", "train", BASE)])
    assert [(p.a, p.b, p.similarity) for p in report.within_split] == [
        ("a", "b", 1.0),
        ("a", "c", 1.0),
        ("b", "c", 1.0),
    ]


def test_index_is_the_same_in_any_batching_and_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Near-duplicates far apart in the input are found whatever the batches and the chunks
    the check reads and compares."""
    texts = [synthetic_article(f"a{i}", 100 + i, sentences=8)["text"] for i in range(300)]
    texts[3] = BASE
    texts[251] = _edit(BASE, 2)
    texts[298] = texts[10]
    ids = [f"a{i:03d}" for i in range(300)]
    splits = bytes(i % 2 for i in range(300))  # even: train (0), odd: test (1)
    sha = [hashlib.sha256(t.encode()).digest() for t in texts]

    def run(folder: Path, batch: int) -> list[tuple[str, str, str, float]]:
        index = LeakageIndex(folder, ["train", "test"])
        for k in range(0, 300, batch):
            index.add(
                ids[k : k + batch],
                splits[k : k + batch],
                signatures(texts[k : k + batch]),
                b"".join(sha[k : k + batch]),
            )
        assert index.count == 300
        try:
            report = index.check()
        finally:
            index.remove()
        assert not folder.exists()
        return [(p.a, p.b, p.split_a, p.similarity) for p in report.within_split]

    expected = run(tmp_path / "one", 64)
    assert [p[:3] for p in expected] == [("a003", "a251", "test"), ("a010", "a298", "train")]
    assert expected[1][3] == 1.0
    monkeypatch.setattr(leakage, "_CHUNK", 7)
    monkeypatch.setattr(leakage, "_VERIFY", 3)
    assert run(tmp_path / "two", 13) == expected


def test_index_fails_across_splits_with_both_ids(tmp_path: Path) -> None:
    texts = [synthetic_article(f"a{i}", 200 + i, sentences=8)["text"] for i in range(40)]
    texts[39] = texts[2]
    index = LeakageIndex(tmp_path / "i", ["train", "validation", "test"])
    index.add(
        [f"a{i}" for i in range(40)],
        bytes([0] * 39 + [2]),
        signatures(texts),
        b"".join(hashlib.sha256(t.encode()).digest() for t in texts),
    )
    with pytest.raises(InvalidDataError) as exc:
        index.check()
    (p,) = exc.value.problems
    assert p.message == "leakage between splits: identical text"
    assert p.found == "a2 in train, a39 in test"


@pytest.mark.parametrize("threshold", [THRESHOLD, 0.9])
def test_every_pair_at_the_threshold_is_a_candidate(tmp_path: Path, threshold: float) -> None:
    """The keys leave nothing to chance: a pair of signatures equal in just enough bins is found
    even when its unequal bins are spread to spoil as many bands as they can."""
    rng = np.random.default_rng(9)
    equal = int(np.ceil(threshold * BINS))
    sigs, ids = [], []
    for k in range(60):
        a = rng.integers(0, 2**32, size=BINS, dtype=np.uint32)
        b = a.copy()
        rows = BINS // 32
        spread = rng.permutation(32)[: BINS - equal] * rows + rng.integers(0, rows)
        differ = spread if k % 2 else rng.permutation(BINS)[: BINS - equal]
        b[differ] ^= 1
        far = a.copy()
        far[rng.permutation(BINS)[: BINS - equal + 1]] ^= 2  # one bin short of the threshold
        sigs += [a, b, far]
        ids += [f"p{k:02d}a", f"p{k:02d}b", f"p{k:02d}c"]
    index = LeakageIndex(tmp_path / "i", ["train"])
    index.add(ids, bytes(len(ids)), np.array(sigs), rng.bytes(32 * len(ids)))  # texts differ
    pairs = {(p.a, p.b) for p in index.check(threshold).within_split}
    index.remove()
    assert {(f"p{k:02d}a", f"p{k:02d}b") for k in range(60)} <= pairs
    assert not any(b.endswith("c") for _, b in pairs)
    assert sum(len(g) for g in key_plan(THRESHOLD)) == 70


@pytest.mark.parametrize("verify", [leakage._VERIFY, 50])
def test_a_large_cluster_is_paired_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify: int
) -> None:
    """m identical texts give m(m-1)/2 pairs; a run that large is paired a member at a time and
    verified in parts, and every pair is still reported once."""
    monkeypatch.setattr(leakage, "_VERIFY", verify)
    rng = np.random.default_rng(3)
    m, n = 150, 400
    sigs = rng.integers(0, 2**32, size=(n, BINS), dtype=np.uint32)
    shas = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    members = np.sort(rng.choice(n, size=m, replace=False))
    sigs[members], shas[members] = sigs[members[0]], shas[members[0]]
    index = LeakageIndex(tmp_path / "i", ["train"])
    index.add([f"a{i:03d}" for i in range(n)], bytes(n), sigs, shas.tobytes())
    try:
        pairs = index._near_pairs(THRESHOLD)
    finally:
        index.remove()
    assert m * (m - 1) // 2 > verify  # the run is paired a member at a time
    expected = {(int(a), int(b)) for k, a in enumerate(members) for b in members[k + 1 :]}
    assert sorted((i, j) for i, j, _, _ in pairs) == sorted(expected)
    assert all(exact and sim == 1.0 for _, _, sim, exact in pairs)


def test_rows_are_read_in_the_order_asked(tmp_path: Path) -> None:
    data = np.arange(10 * 6, dtype=np.uint8).reshape(10, 6)
    (tmp_path / "rows").write_bytes(data.tobytes())
    fd = os.open(tmp_path / "rows", os.O_RDONLY)
    try:
        got = leakage._rows(fd, np.array([3, 1, 3, 9, 0]), 6)
        for past_the_end in ([10], [8], [2, 11]):
            with pytest.raises(OSError, match="short read"):
                leakage._rows(fd, np.array(past_the_end), 7)  # row 8 of 7 bytes: 4 bytes
    finally:
        os.close(fd)
    assert got.tolist() == data[[3, 1, 3, 9, 0]].tolist()


def test_equal_signatures_of_different_texts_are_not_identical_texts(tmp_path: Path) -> None:
    """Only the text digests tell identical texts: two different texts whose signatures agree in
    every bin are a near-duplicate of similarity 1.0, not an identical text."""
    rng = np.random.default_rng(4)
    sigs = rng.integers(0, 2**32, size=(3, BINS), dtype=np.uint32)
    sigs[2] = sigs[0]
    index = LeakageIndex(tmp_path / "i", ["train", "test"])
    index.add(["a", "b", "c"], bytes([0, 0, 1]), sigs, rng.bytes(3 * 32))
    try:
        with pytest.raises(InvalidDataError) as exc:
            index.check()
    finally:
        index.remove()
    (p,) = exc.value.problems
    assert p.message == "leakage between splits: near-duplicate (estimated Jaccard 1.00 >= 0.80)"
    assert p.found == "a in train, c in test"
