"""Leakage check: identical and near-duplicate articles may not straddle splits, and a build that
would leak fails without leaving anything in dist/."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import groups_by_split, synthetic_article, write_corpus

from builder import build
from builder.errors import InvalidDataError
from builder.leakage import THRESHOLD, check_leakage, jaccard, shingles, signature

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
    report = check_leakage([("a", "train", BASE), ("b", "train", _edit(BASE, 2)),
                            ("c", "test", synthetic_article("c", 2)["text"])])
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


def test_build_fails_on_leakage_and_writes_nothing(tmp_path: Path) -> None:
    groups = groups_by_split()
    original = synthetic_article("w1", 5, groups["train"][0], sentences=20)
    copy = dict(original, id="w2", group=groups["test"][0],
                spec=dict(original["spec"], article_id="w2"))
    articles, export = write_corpus(tmp_path / "in", [original, copy], seed=False)
    out = tmp_path / "dist"
    with pytest.raises(InvalidDataError) as exc:
        build(articles, [export], out, "0.1.0")
    assert [p.found for p in exc.value.problems] == ["w1 in train, w2 in test"]
    assert list(out.iterdir()) == []
    # the fix the error names works: same group, one split
    (articles / "w2.json").write_text(
        (articles / "w2.json").read_text().replace(groups["test"][0], groups["train"][0]))
    result = build(articles, [export], out, "0.1.0")
    assert result.counts["train"]["documents"] == 2
    card = (result.path / "README.md").read_text()
    assert "1 near-duplicate pair(s) were found inside a single split (allowed: w1 ~ w2 in " \
           "train (1.00))" in card
