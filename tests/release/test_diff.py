"""Release diffs and notes, and split stability: a second version that adds articles (and fixes a
label) moves no earlier article, and its notes say exactly what changed."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from support.corpus import SEED_ID, groups_by_split, synthetic_article, write_corpus

from builder import build
from builder.cli.main import main
from builder.release.diff import (
    NOTES,
    ReleaseDiff,
    _claims,
    _entities,
    diff_releases,
    previous_release,
    read_documents,
)


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    root = tmp_path_factory.mktemp("versions")
    groups = groups_by_split()
    first = [
        synthetic_article(f"b{i}", 10 + i, groups[s][i])
        for i, s in enumerate(["train", "test", "validation"])
    ]
    out = root / "dist"
    articles, export = write_corpus(root / "v1", first)
    old = build(articles, [export], out, "0.1.0").path
    fixed = copy.deepcopy(first)
    fixed[0]["spec"]["entities"][1]["label"] = "LOC"  # a label fix: the place is now LOC
    added = [
        synthetic_article(f"c{i}", 40 + i, groups[s][10 + i])
        for i, s in enumerate(["test", "train"])
    ]
    articles, export = write_corpus(root / "v2", fixed + added)
    new = build(articles, [export], out, "0.2.0").path
    return old, new, [a["id"] for a in added]


def _reference_diff(old: Path, new: Path) -> ReleaseDiff:
    """The diff computed plainly from both releases held whole (the implementation before the
    streaming one, kept as the reference)."""
    from builder.contracts.labels import ATTRIBUTIONS, ENTITY_LABELS, STANCES

    a, b = read_documents(old), read_documents(new)
    d = ReleaseDiff(old=old.name, new=new.name)
    d.added = sorted(set(b) - set(a))
    d.removed = sorted(set(a) - set(b))
    for art in sorted(set(a) & set(b)):
        (sa, ra), (sb, rb) = a[art], b[art]
        what = []
        if ra["text_sha256"] != rb["text_sha256"]:
            what.append("text")
        if any(
            ra[k] != rb[k] for k in ("title", "source", "url", "published", "license", "language")
        ):
            what.append("metadata")
        ea, eb = _entities(ra), _entities(rb)
        if ea != eb:
            what.append("entities")
            d.entities_added.update(label for _, _, label in (eb - ea).elements())
            d.entities_removed.update(label for _, _, label in (ea - eb).elements())
        ca, cb = _claims(ra), _claims(rb)
        if ca != cb:
            what.append("claims")
            d.claims_added += sum((cb - ca).values())
            d.claims_removed += sum((ca - cb).values())
        if what:
            d.changed[art] = what
        if sa != sb:
            d.moved[art] = (sa, sb)
    for art in d.added:
        d.entities_added.update(e["label"] for e in b[art][1]["entities"])
        d.claims_added += len(b[art][1]["claims"])
    for art in d.removed:
        d.entities_removed.update(e["label"] for e in a[art][1]["entities"])
        d.claims_removed += len(a[art][1]["claims"])

    def count(docs: Mapping[str, tuple[str, dict[str, Any]]], key: str, attr: str) -> Counter[str]:
        return Counter(x[attr] for _, row in docs.values() for x in row[key])

    ent_a, ent_b = count(a, "entities", "label"), count(b, "entities", "label")
    d.entity_counts = {lab: (ent_a[lab], ent_b[lab]) for lab in ENTITY_LABELS}
    st_a, st_b = count(a, "claims", "stance"), count(b, "claims", "stance")
    at_a, at_b = count(a, "claims", "attribution"), count(b, "claims", "attribution")
    d.claim_counts = {
        **{f"stance={s}": (st_a[s], st_b[s]) for s in STANCES},
        **{f"attribution={t}": (at_a[t], at_b[t]) for t in ATTRIBUTIONS},
    }
    return d


@pytest.fixture(scope="module")
def third_version(
    two_versions: tuple[Path, Path, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """0.2.0 with every kind of change: b1 removed, b2 retitled and moved to another split, c1
    rewritten (text, entities, claims), a claim's stance changed in c0, and d0 added."""
    root = tmp_path_factory.mktemp("third")
    groups = groups_by_split()
    arts = [
        synthetic_article(f"b{i}", 10 + i, groups[s][i])
        for i, s in enumerate(["train", "test", "validation"])
    ]
    arts[0]["spec"]["entities"][1]["label"] = "LOC"
    arts[2]["group"] = groups["train"][30]  # b2 moves from validation to train
    c0, c1 = (
        synthetic_article(f"c{i}", 40 + i, groups[s][10 + i])
        for i, s in enumerate(["test", "train"])
    )
    c0["spec"]["claims"][0]["stance"] = (
        "NEUTRAL" if c0["spec"]["claims"][0]["stance"] != "NEUTRAL" else "FAVOR"
    )
    c1 = synthetic_article("c1", 77, groups["train"][11])
    d0 = synthetic_article("d0", 90, groups["test"][20])
    articles, export = write_corpus(root / "v3", [arts[0], arts[2], c0, c1, d0])
    meta = json.loads((articles / "b2.json").read_text())
    (articles / "b2.json").write_text(json.dumps({**meta, "title": "A new title"}))
    return build(articles, [export], root / "dist", "0.3.0").path


def test_streamed_diff_equals_the_plain_one(
    two_versions: tuple[Path, Path, list[str]], third_version: Path
) -> None:
    old, new, _ = two_versions
    for a, b in (
        (old, new),
        (new, third_version),
        (old, third_version),
        (third_version, old),
        (new, new),
    ):
        assert diff_releases(a, b).to_dict() == _reference_diff(a, b).to_dict(), (a, b)
    d = diff_releases(new, third_version)
    assert d.removed == ["b1"] and d.added == ["d0"]
    assert d.moved == {"b2": ("validation", "train")}
    assert d.changed == {"b2": ["metadata"], "c0": ["claims"], "c1": ["text", "entities", "claims"]}


def test_no_earlier_article_moves(two_versions: tuple[Path, Path, list[str]]) -> None:
    old, new, _ = two_versions
    before, after = read_documents(old), read_documents(new)
    assert {k: s for k, (s, _) in before.items()} == {
        SEED_ID: "train",
        "b0": "train",
        "b1": "test",
        "b2": "validation",
    }
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
    assert first == (
        f"# Release notes\n\n## 0.1.0\n\nFirst release in this folder: 4 "
        f"article(s), {_count(old, 'entities')} entity mentions, "
        f"{_count(old, 'claims')} claims.\n"
    )
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
    for name in (
        "claimwire-0.1.0",
        "claimwire-0.10.0",
        "claimwire-0.9.1",
        "claimwire-1.0.0",
        "claimwire-x",
    ):
        (tmp_path / name).mkdir()
        (tmp_path / name / "checksums.tsv").write_text("path\tbytes\tsha256\n")
    (tmp_path / ".claimwire-0.11.0.partial-abc").mkdir()
    assert previous_release(tmp_path, "0.11.0") == tmp_path / "claimwire-0.10.0"
    assert previous_release(tmp_path, "0.9.1") == tmp_path / "claimwire-0.1.0"
    assert previous_release(tmp_path, "0.1.0") is None


def test_cli_diff(
    two_versions: tuple[Path, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_an_article_in_two_splits_is_refused_on_either_side(
    two_versions: tuple[Path, Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from builder.errors import InvalidDataError
    from builder.release import diff

    old, new, _ = two_versions
    broken = tmp_path / "claimwire-0.3.0"
    shutil.copytree(new, broken)
    docs = broken / "data" / "documents"
    train = pq.read_table(next(docs.glob("train-*.parquet")))
    test_file = next(docs.glob("test-*.parquet"))
    test = pq.read_table(test_file)
    b0 = train.filter(pa.compute.equal(train["id"], "b0"))
    pq.write_table(pa.concat_tables([test, b0.cast(test.schema)]), test_file)
    for a, b, side in ((old, broken, broken), (broken, new, broken)):
        with pytest.raises(InvalidDataError) as exc:
            diff_releases(a, b)
        (p,) = exc.value.problems
        assert (p.message, p.article, p.file) == (
            "article is in two splits (test and train)",
            "b0",
            str(side),
        )
    # Ids are kept as 8-byte digests: a digest seen twice is checked, never taken for a repeat.
    monkeypatch.setattr(diff, "id_digest", lambda _: 7)
    assert diff_releases(old, new).to_dict() == _reference_diff(old, new).to_dict()
