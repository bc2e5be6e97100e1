"""Release diffs and notes, and split stability: a second version that adds articles (and fixes a
label) moves no earlier article, and its notes say exactly what changed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from corpus import SEED_ID, groups_by_split, synthetic_article, write_corpus

from builder import build
from builder.cli import main
from builder.diff import NOTES, diff_releases, previous_release, read_documents


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    root = tmp_path_factory.mktemp("versions")
    groups = groups_by_split()
    first = [synthetic_article(f"b{i}", 10 + i, groups[s][i])
             for i, s in enumerate(["train", "test", "validation"])]
    out = root / "dist"
    articles, export = write_corpus(root / "v1", first)
    old = build(articles, [export], out, "0.1.0").path
    fixed = copy.deepcopy(first)
    fixed[0]["spec"]["entities"][1]["label"] = "LOC"  # a label fix: the place is now LOC
    added = [synthetic_article(f"c{i}", 40 + i, groups[s][10 + i])
             for i, s in enumerate(["test", "train"])]
    articles, export = write_corpus(root / "v2", fixed + added)
    new = build(articles, [export], out, "0.2.0").path
    return old, new, [a["id"] for a in added]


def test_no_earlier_article_moves(two_versions: tuple[Path, Path, list[str]]) -> None:
    old, new, _ = two_versions
    before, after = read_documents(old), read_documents(new)
    assert {k: s for k, (s, _) in before.items()} == {
        SEED_ID: "train", "b0": "train", "b1": "test", "b2": "validation"}
    assert all(after[k][0] == s for k, (s, _) in before.items())


def test_diff_lists_added_changed_and_counts(two_versions: tuple[Path, Path, list[str]]) -> None:
    old, new, added = two_versions
    d = diff_releases(old, new)
    assert d.added == added == ["c0", "c1"]
    assert d.removed == [] and d.moved == {}
    assert d.changed == {"b0": ["entities"]}
    b0 = read_documents(old)["b0"][1]
    places = sum(1 for e in b0["entities"] if e["label"] == "GPE")
    new_docs = read_documents(new)
    added_gpe = sum(1 for a in added for e in new_docs[a][1]["entities"] if e["label"] == "GPE")
    assert d.entities_removed == {"GPE": places}
    assert d.entities_added["LOC"] == places and d.entities_added["GPE"] == added_gpe
    old_gpe, new_gpe = d.entity_counts["GPE"]
    assert new_gpe - old_gpe == added_gpe - places
    assert d.entity_counts["LOC"] == (0, places)
    assert d.claims_added == sum(len(new_docs[a][1]["claims"]) for a in added)
    assert d.claims_removed == 0


def test_build_writes_release_notes(two_versions: tuple[Path, Path, list[str]]) -> None:
    old, new, _ = two_versions
    first = (old / NOTES).read_text()
    assert first == (f"# Release notes\n\n## 0.1.0\n\nFirst release in this folder: 4 "
                     f"article(s), {_count(old, 'entities')} entity mentions, "
                     f"{_count(old, 'claims')} claims.\n")
    notes = (new / NOTES).read_text()
    assert notes.startswith("# Release notes\n\n## 0.2.0\n\nChanges since claimwire-0.1.0:\n\n")
    assert "- articles added (2): c0, c1\n" in notes
    assert "- articles changed (1): b0 (entities)\n" in notes
    assert notes.endswith(first.split("\n", 2)[2])  # the older entry is kept below
    card = (new / "README.md").read_text()
    assert "Changes since claimwire-0.1.0:" in card
    assert "- articles added (2): c0, c1" in card
    assert NOTES in (new / "checksums.tsv").read_text()


def _count(release: Path, key: str) -> int:
    return sum(len(r[key]) for _, r in read_documents(release).values())


def test_previous_release_is_the_highest_older_one(tmp_path: Path) -> None:
    for name in ("claimwire-0.1.0", "claimwire-0.10.0", "claimwire-0.9.1", "claimwire-1.0.0",
                 "claimwire-x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "checksums.tsv").write_text("path\tbytes\tsha256\n")
    (tmp_path / ".claimwire-0.11.0.partial-abc").mkdir()
    assert previous_release(tmp_path, "0.11.0") == tmp_path / "claimwire-0.10.0"
    assert previous_release(tmp_path, "0.9.1") == tmp_path / "claimwire-0.1.0"
    assert previous_release(tmp_path, "0.1.0") is None


def test_cli_diff(two_versions: tuple[Path, Path, list[str]],
                  capsys: pytest.CaptureFixture[str]) -> None:
    old, new, _ = two_versions
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("claimwire-0.1.0 -> claimwire-0.2.0\narticles added (2): c0, c1\n")
    assert "  entity LOC" in out
    assert main(["diff", str(old), str(new), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["added"] == ["c0", "c1"] and data["moved"] == {}
    assert data["entity_counts"]["LOC"]["delta"] == data["entity_counts"]["LOC"]["new"]


def test_cli_diff_refuses_a_non_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a release folder (no data/documents/)" in err
