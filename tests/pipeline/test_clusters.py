"""Near-duplicates share a split, automatically: the articles are clustered before the build
(near-duplicate pairs joined transitively with the explicit groups), a cluster takes one split,
and released articles keep the split they were recorded in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support.corpus import groups_by_split, synthetic_article, write_corpus

from builder.cli.main import main
from builder.core.splits import SplitSpec
from builder.errors import InvalidDataError, UsageError
from builder.io.articles import load_rules
from builder.io.storage import ArticleStore
from builder.pipeline import cache as task_cache
from builder.pipeline.build import build
from builder.pipeline.clusters import (
    HEADER,
    Grouping,
    RecordedSplits,
    SplitPlan,
    group_articles,
    splits_record,
)
from builder.quality.leakage import THRESHOLD, jaccard, signatures
from builder.release.reader import documents

GROUPS = groups_by_split()
SPEC = SplitSpec()


def _copy(art: dict[str, Any], new_id: str, group: str | None, text: str | None = None):
    """A wire copy of ``art`` under another id and group (its text edited when given)."""
    return dict(
        art,
        id=new_id,
        group=group,
        text=art["text"] if text is None else text,
        spec=dict(art["spec"], article_id=new_id),
    )


def _retold(text: str) -> str:
    """The same story with one sentence reworded (a near-duplicate, not an identical text)."""
    return text.replace("Officials counted", "Officials tallied", 1)


def _others(n: int = 4) -> list[dict[str, Any]]:
    return [synthetic_article(f"o{i}", 200 + i) for i in range(n)]


def _splits(release: Path) -> dict[str, str]:
    return {row["id"]: split for split, row in documents(release, columns=["id"])}


def _articles(root: Path, texts: dict[str, tuple[str, str | None]]) -> Path:
    """An articles folder (no export) of ``id -> (text, group)``."""
    folder = root / "articles"
    folder.mkdir(parents=True)
    (folder / "sources.json").write_text(json.dumps({"Test Wire": {}}), encoding="utf-8")
    for article_id, (text, group) in texts.items():
        (folder / f"{article_id}.txt").write_text(text, encoding="utf-8")
        meta = {
            "id": article_id,
            "source": "Test Wire",
            "title": article_id,
            "language": "en",
            "license": "CC-BY-4.0",
            "group": group,
        }
        (folder / f"{article_id}.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def _group(folder: Path, tmp: Path, **kw: Any) -> Grouping:
    return group_articles(
        folder, load_rules(folder / "sources.json"), SPEC, tmp / "scratch", "1.0.0", **kw
    )


def _record(folder: Path, version: str, splits: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER, *(f"{a}\t{s}" for a, s in sorted(splits.items()))]
    (folder / f"{version}.splits.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_near_identical_wire_copies_share_a_split(tmp_path: Path):
    """Two copies of a wire story whose story keys fall in train and test, and a third copy
    without a group: one cluster, in the split of its smallest story key; the leakage check
    finds them in one split, and the card lists the cluster."""
    original = synthetic_article("w1", 5, GROUPS["train"][0], sentences=20)
    retold = _copy(original, "w2", GROUPS["test"][0], _retold(original["text"]))
    bare = _copy(original, "w3", None)
    assert jaccard(original["text"], retold["text"]) >= THRESHOLD
    articles, export = write_corpus(tmp_path / "in", [original, retold, bare, *_others()])
    result = build(articles, [export], tmp_path / "dist", "0.1.0")
    key = min(GROUPS["train"][0], GROUPS["test"][0], "w3")
    splits = _splits(result.path)
    assert splits["w1"] == splits["w2"] == splits["w3"] == SPEC.assign(key)
    # the other articles keep their story key's split
    for art in _others():
        assert splits[art["id"]] == SPEC.assign(art["id"])
    card = (result.path / "README.md").read_text(encoding="utf-8")
    assert "3 near-duplicate pair(s) were found inside a single split" in card
    sim = float((signatures([original["text"]]) == signatures([retold["text"]])).mean())
    row = (
        f"| 1 | {SPEC.assign(key)} | story key {key} | w1, w2, w3 | "
        f"w1 ~ w2 {sim:.2f}, w1 ~ w3 identical, w2 ~ w3 {sim:.2f} |"
    )
    assert row in card.splitlines()
    assert "1 cluster(s) of two or more articles:" in card


def test_the_leakage_check_stays_the_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Without the grouping the copies would straddle two splits: the end-of-build check still
    refuses that build and leaves nothing behind."""
    original = synthetic_article("w1", 5, GROUPS["train"][0], sentences=20)
    copy = _copy(original, "w2", GROUPS["test"][0])
    articles, export = write_corpus(tmp_path / "in", [original, copy], seed=False)
    import builder.pipeline.build as build_module

    real = build_module.group_articles

    def no_clusters(*args: Any, **kwargs: Any) -> Grouping:
        grouping = real(*args, **kwargs)
        return Grouping(SplitPlan(grouping.plan.spec), [], grouping.articles, 0)

    monkeypatch.setattr(build_module, "group_articles", no_clusters)
    out = tmp_path / "dist"
    with pytest.raises(InvalidDataError) as exc:
        build(articles, [export], out, "0.1.0")
    assert [p.found for p in exc.value.problems] == ["w1 in train, w2 in test"]
    assert list(out.iterdir()) == []


def _chain() -> tuple[str, str, str]:
    """Three texts: a ~ b and b ~ c at or above the threshold, a and c below it."""
    lines = synthetic_article("t", 7, sentences=60)["text"].split("\n\n")
    fresh = [f"Reporters in Lisbon counted {k} quiet streets on day {k + 3}." for k in range(10)]
    a = lines
    b = lines[: len(lines) - 5] + fresh[:5]  # the last sentences replaced
    c = fresh[5:] + b[5:]  # then the first ones
    return "\n\n".join(a), "\n\n".join(b), "\n\n".join(c)


def test_clusters_are_transitive(tmp_path: Path):
    a, b, c = _chain()
    sig = signatures([a, b, c])
    assert (sig[0] == sig[1]).mean() >= THRESHOLD and (sig[1] == sig[2]).mean() >= THRESHOLD
    assert (sig[0] == sig[2]).mean() < THRESHOLD
    keys = {"a": GROUPS["test"][1], "b": GROUPS["validation"][1], "c": GROUPS["train"][1]}
    folder = _articles(tmp_path, {k: (t, keys[k]) for k, t in zip("abc", (a, b, c), strict=True)})
    grouping = _group(folder, tmp_path)
    (cluster,) = grouping.clusters
    assert cluster.members == ("a", "b", "c")
    assert [(x, y) for x, y, _, _ in cluster.pairs] == [("a", "b"), ("b", "c")]
    assert cluster.key == min(keys.values()) and cluster.split == SPEC.assign(cluster.key)
    assert cluster.released is None
    assert {k: _split(grouping, folder, k) for k in "abc"} == dict.fromkeys("abc", cluster.split)
    # two of the three moved; the scratch folder is gone
    assert grouping.moved == 2 and not (tmp_path / "scratch").exists()


def _split(grouping: Grouping, folder: Path, article_id: str) -> str:
    from builder.io.articles import read_article

    article = read_article(folder / f"{article_id}.json", load_rules(folder / "sources.json"))
    return grouping.plan.split_of(article)


def test_explicit_groups_still_join(tmp_path: Path):
    """A near-duplicate pair brings the explicit groups of both along: every article of those
    groups takes the cluster's split. Articles near nothing keep their story key's split."""
    base = synthetic_article("x", 9, sentences=20)["text"]
    g1, g2 = GROUPS["test"][2], GROUPS["train"][2]
    texts = {
        "a1": (base, g1),
        "a2": (synthetic_article("y", 10)["text"], g1),  # a1's story, other text
        "b1": (_retold(base), g2),  # a near-duplicate of a1
        "b2": (synthetic_article("z", 11)["text"], g2),
        "c1": (synthetic_article("u", 12)["text"], GROUPS["validation"][2]),
        "c2": (synthetic_article("v", 13)["text"], GROUPS["validation"][2]),
        "d": (synthetic_article("w", 14)["text"], None),
    }
    folder = _articles(tmp_path, texts)
    grouping = _group(folder, tmp_path)
    (cluster,) = grouping.clusters
    assert cluster.members == ("a1", "a2", "b1", "b2")
    assert [(x, y) for x, y, _, _ in cluster.pairs] == [("a1", "b1")]
    split = SPEC.assign(min(g1, g2))
    got = {k: _split(grouping, folder, k) for k in texts}
    assert got == {
        **dict.fromkeys(["a1", "a2", "b1", "b2"], split),
        "c1": SPEC.assign(GROUPS["validation"][2]),
        "c2": SPEC.assign(GROUPS["validation"][2]),
        "d": SPEC.assign("d"),
    }
    # only the articles whose split is not their story key's are in the plan
    assert grouping.moved == 2 and grouping.plan.digests.size == 2


def test_without_near_duplicates_nothing_moves(tmp_path: Path):
    folder = _articles(
        tmp_path,
        {f"n{i}": (synthetic_article(f"n{i}", 50 + i)["text"], None) for i in range(6)},
    )
    grouping = _group(folder, tmp_path)
    assert grouping.clusters == [] and grouping.moved == 0 and grouping.articles == 6


def test_the_plan_is_the_same_for_any_jobs_and_batch(tmp_path: Path):
    a, b, c = _chain()
    texts: dict[str, tuple[str, str | None]] = {
        "a": (a, GROUPS["test"][3]),
        "b": (b, None),
        "c": (c, GROUPS["train"][3]),
    }
    texts |= {f"n{i}": (synthetic_article(f"n{i}", 60 + i)["text"], None) for i in range(9)}
    texts["n0"] = (texts["n0"][0], GROUPS["train"][3])  # c's group
    folder = _articles(tmp_path, texts)
    one = _group(folder, tmp_path, jobs=1, batch=64)
    for jobs, batch in ((1, 1), (2, 3)):
        other = _group(folder, tmp_path, jobs=jobs, batch=batch)
        assert other.clusters == one.clusters
        assert np.array_equal(other.plan.digests, one.plan.digests)
        assert np.array_equal(other.plan.codes, one.plan.codes)
    assert one.clusters[0].members == ("a", "b", "c", "n0")


def _cached_group(folder: Path, tmp: Path, jobs: int = 1) -> tuple[Grouping, int]:
    """The pre-pass with a build cache in ``tmp/cache``, and the article entries it found."""
    store = ArticleStore(folder)
    code = task_cache.code_version()
    cache = task_cache.TaskCache(
        tmp / "cache", 1 << 30, b"tasks", store, task_cache.article_settings(store, code)
    )
    with task_cache.opened(cache):
        found = cache.reader.articles(sorted(p.stem for p in folder.glob("*.txt")))[2]
        return _group(folder, tmp, jobs=jobs, cache=cache), len(found)


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_cache_gives_the_plan_of_articles_read_again(tmp_path: Path, jobs: int):
    a, b, c = _chain()
    texts: dict[str, tuple[str, str | None]] = {"a": (a, None), "b": (b, None)}
    texts |= {f"n{i}": (synthetic_article(f"n{i}", 60 + i)["text"], None) for i in range(9)}
    folder = _articles(tmp_path, texts)
    cold, found = _cached_group(folder, tmp_path, jobs)
    assert found == 0
    warm, found = _cached_group(folder, tmp_path, jobs)
    assert found == 11  # every article: none read again
    plain = _group(folder, tmp_path)
    for g in (cold, warm):
        assert g.clusters == plain.clusters and g.articles == plain.articles == 11
        assert np.array_equal(g.plan.digests, plain.plan.digests)
        assert np.array_equal(g.plan.codes, plain.plan.codes)
    # n0 becomes the next link of the chain: its entry no longer fits, the others still do
    (folder / "n0.txt").write_text(c, encoding="utf-8")
    changed, found = _cached_group(folder, tmp_path, jobs)
    assert found == 10
    assert changed.clusters == _group(folder, tmp_path).clusters != plain.clusters
    assert changed.clusters[0].members == ("a", "b", "n0")


def test_new_cleaning_rules_read_every_article_again(tmp_path: Path):
    folder = _articles(tmp_path, {f"n{i}": (_others(3)[i]["text"], None) for i in range(3)})
    _cached_group(folder, tmp_path)
    assert _cached_group(folder, tmp_path)[1] == 3
    (folder / "sources.json").write_text(
        json.dumps({"Test Wire": {"drop_lines": ["^no such line$"]}}), encoding="utf-8"
    )
    assert _cached_group(folder, tmp_path)[1] == 0


# --- recorded splits -------------------------------------------------------------------------


def test_recorded_splits_are_kept(tmp_path: Path):
    """An article recorded in a release keeps its split in later versions of that major
    version, whatever its story key says now, and its cluster follows it; a new major version
    and a build without records assign by story key again."""
    original = synthetic_article("w1", 5, GROUPS["train"][4], sentences=20)
    copy = _copy(original, "w2", GROUPS["train"][5], _retold(original["text"]))
    lone = synthetic_article("s1", 21, GROUPS["train"][6])
    articles, export = write_corpus(tmp_path / "in", [original, copy, lone], seed=False)
    records = tmp_path / "releases"
    _record(records, "1.0.0", {"w1": "test", "s1": "validation", "gone": "train"})
    result = build(articles, [export], tmp_path / "dist", "1.1.0", recorded=records)
    assert _splits(result.path) == {"w1": "test", "w2": "test", "s1": "validation"}
    card = (result.path / "README.md").read_text(encoding="utf-8")
    assert "| 1 | test | released in 1.0.0 | w1, w2 |" in card
    for out, version, folder in (("major", "2.0.0", records), ("none", "1.1.0", None)):
        result = build(articles, [export], tmp_path / out, version, recorded=folder)
        assert set(_splits(result.path).values()) == {"train"}, version


def test_records_of_later_versions_and_other_majors_are_not_read(tmp_path: Path):
    records = tmp_path / "releases"
    _record(records, "0.9.0", {"a": "test"})
    _record(records, "1.0.0", {"b": "test"})
    _record(records, "1.2.0", {"c": "test"})
    (records / "notes.splits.tsv").write_text("not a record\n", encoding="utf-8")
    read = RecordedSplits.read(records, "1.1.0")
    assert read.versions == ["1.0.0"] and read.digests.size == 1
    assert read.version_of("b") == "1.0.0"
    assert RecordedSplits.read(None, "1.1.0").versions == []


def test_two_recorded_articles_in_one_cluster_is_an_error(tmp_path: Path):
    original = synthetic_article("x1", 5, GROUPS["train"][7], sentences=20)
    copy = _copy(original, "x2", GROUPS["test"][7], _retold(original["text"]))
    articles, export = write_corpus(tmp_path / "in", [original, copy], seed=False)
    records = tmp_path / "releases"
    _record(records, "1.0.0", {"x1": "train"})
    _record(records, "1.1.0", {"x1": "train", "x2": "test"})
    out = tmp_path / "dist"
    with pytest.raises(InvalidDataError) as exc:
        build(articles, [export], out, "1.2.0", recorded=records)
    (p,) = exc.value.problems
    assert str(p) == (
        f"{records}, article x1: released articles of two splits would share one split "
        "(near-duplicate texts join them)\n"
        "    expected: the articles of a cluster (near-duplicates and their groups) in one "
        "split\n"
        "    found:    x1 in train (released in 1.0.0), x2 in test (released in 1.1.0)\n"
        '    fix:      give them different "group"s (articles/x1.json, articles/x2.json) and '
        "drop any near-duplicate text that joins them, or release a new major version with "
        "new splits"
    )
    assert list(out.iterdir()) == []


def test_two_recorded_articles_given_one_group_is_an_error(tmp_path: Path):
    texts = {
        "p": (synthetic_article("p", 31)["text"], "story"),
        "q": (synthetic_article("q", 32)["text"], "story"),
    }
    folder = _articles(tmp_path, texts)
    records = tmp_path / "releases"
    _record(records, "1.0.0", {"p": "test", "q": "validation"})
    with pytest.raises(InvalidDataError) as exc:
        _group(folder, tmp_path, recorded=records)
    (p,) = exc.value.problems
    assert p.message == (
        'released articles of two splits would share one split (they have the group "story")'
    )
    assert p.found == "p in test (released in 1.0.0), q in validation (released in 1.0.0)"


def test_a_recorded_split_the_build_does_not_have_is_a_usage_error(tmp_path: Path):
    folder = _articles(tmp_path, {"p": (synthetic_article("p", 31)["text"], None)})
    records = tmp_path / "releases"
    _record(records, "1.0.0", {"p": "validation"})
    with pytest.raises(UsageError) as exc:
        group_articles(
            folder,
            load_rules(folder / "sources.json"),
            SplitSpec.parse("train=80,test=20"),
            tmp_path / "scratch",
            "1.0.1",
            records,
        )
    (p,) = exc.value.problems
    assert (
        p.message
        == "article p was released in the validation split, which this build does not have"
    )
    assert p.fix == (
        "build with --splits naming every split of 1.0.0, or release a new major version with "
        "new splits"
    )


def test_damaged_records_are_named(tmp_path: Path):
    records = tmp_path / "releases"
    _record(records, "1.0.0", {"a": "train"})
    (records / "1.0.1.splits.tsv").write_text(f"{HEADER}\na\ttrain\nb test\n", encoding="utf-8")
    with pytest.raises(InvalidDataError) as exc:
        RecordedSplits.read(records, "1.0.1")
    (p,) = exc.value.problems
    assert (p.message, p.line, p.found) == ("damaged line in a record of splits", 3, "'b test'")
    _record(records, "1.0.1", {"a": "test"})
    with pytest.raises(InvalidDataError) as exc:
        RecordedSplits.read(records, "1.0.1")
    (p,) = exc.value.problems
    assert (p.message, p.article, p.found) == (
        "an article is recorded in two different splits",
        "a",
        "test in 1.0.1",
    )
    assert p.expected == "the split it was released in: train (in 1.0.0)"


def test_a_release_records_its_splits_and_the_cli_reads_them(tmp_path: Path):
    arts = [synthetic_article(f"r{i}", 70 + i, GROUPS["train"][8 + i]) for i in range(3)]
    articles, export = write_corpus(tmp_path / "in", arts, seed=False)
    first = build(articles, [export], tmp_path / "dist", "1.0.0")
    record = splits_record(first.path)
    assert record.decode() == f"{HEADER}\nr0\ttrain\nr1\ttrain\nr2\ttrain\n"
    records = tmp_path / "releases"
    records.mkdir()
    (records / "1.0.0.splits.tsv").write_bytes(record.replace(b"r1\ttrain", b"r1\ttest"))
    common = ["build", "--articles", str(articles), "--annotations", str(export)]
    out = ["--out", str(tmp_path / "dist")]
    assert main([*common, *out, "--version", "1.0.1", "--recorded", str(records)]) == 0
    assert _splits(tmp_path / "dist" / "claimwire-1.0.1")["r1"] == "test"
    assert main([*common, *out, "--version", "1.0.2", "--recorded", str(tmp_path / "no")]) == 2
