"""Building the shipped inputs end to end, loading the release, and release immutability."""

import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from datasets import ClassLabel, load_dataset
from support.corpus import groups_by_split, synthetic_article, write_corpus
from support.helpers import SEED_ID, workspace
from support.views_reference import task_rows

from builder import DATASET_VERSION, build
from builder.cli.main import main
from builder.contracts.features import features
from builder.core.ids import IdSet, id_digest, missing
from builder.core.splits import SplitSpec
from builder.core.views import split_tables
from builder.pipeline.corpus import Corpus, CorpusStats
from builder.pipeline.documents import merged
from builder.release.verify import verify

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace(tmp_path_factory.mktemp("build"))
    assert ws.build() == 0
    return ws.dist / f"claimwire-{DATASET_VERSION}"


def test_release_layout(release: Path):
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert files == [
        "ATTRIBUTION.md",
        "README.md",
        "RELEASE_NOTES.md",
        "checksums.tsv",
        "croissant.json",
        "data/claims/train-00000-of-00001.parquet",
        "data/documents/train-00000-of-00001.parquet",
        "data/entities/train-00000-of-00001.parquet",
        "data/stance/train-00000-of-00001.parquet",
    ]
    assert not [p for p in release.parent.iterdir() if p.name.startswith(".")]


def test_seed_gold_counts(release: Path):
    docs = load_dataset(str(release))["train"]
    assert docs.num_rows == 1
    row = docs[0]
    assert row["id"] == SEED_ID
    assert Counter(e["label"] for e in row["entities"]) == {
        "PER": 27,
        "GPE": 22,
        "ORG": 12,
        "NORP": 6,
    }
    assert Counter((c["attribution"], c["stance"]) for c in row["claims"]) == {
        ("REPORTED", "AGAINST"): 14,
        ("REPORTED", "FAVOR"): 2,
        ("REPORTED", "NEUTRAL"): 3,
        ("AUTHOR", "NEUTRAL"): 3,
    }
    assert row["annotation"]["adjudication"] == "single"
    assert row["annotation"]["annotator_ids"][0].startswith("ann-")


def test_every_span_matches_the_text(release: Path):
    row = load_dataset(str(release))["train"][0]
    for span in row["entities"] + row["claims"]:
        assert row["text"][span["start"] : span["end"]] == span["text"]
        assert span["text"] == span["text"].strip()


def test_every_config_loads_with_declared_features(release: Path):
    for config in features():
        ds = load_dataset(str(release), config)
        assert ds["train"].features == features()[config]


def test_class_label_names_survive(release: Path):
    ner = load_dataset(str(release), "entities")["train"]
    tags = ner.features["ner_tags"].feature
    assert isinstance(tags, ClassLabel)
    first = ner[0]
    named = [(t, tags.int2str(i)) for t, i in zip(first["tokens"], first["ner_tags"], strict=True)]
    assert named[:4] == [("Guaido", "B-PER"), ("Had", "O"), ("'", "O"), ("Clandestine", "O")]
    stance = load_dataset(str(release), "stance")["train"]
    assert stance.features["label"].names == ["FAVOR", "AGAINST", "NEUTRAL"]
    assert stance.num_rows == 25  # one row per (claim, target)


def test_streaming_works(release: Path):
    for config in features():
        first = next(iter(load_dataset(str(release), config, streaming=True)["train"]))
        assert set(first) == set(features()[config])


def test_entities_view_tags_every_mention(release: Path):
    ner = load_dataset(str(release), "entities")["train"]
    names = ner.features["ner_tags"].feature.names
    begins = Counter(names[t][2:] for row in ner for t in row["ner_tags"] if names[t][0] == "B")
    assert begins == {"PER": 27, "GPE": 22, "ORG": 12, "NORP": 6}


def test_verify_passes_and_detects_a_flipped_byte(release: Path, tmp_path: Path):
    assert verify(release)[-1].startswith("load_dataset stance: train=25")
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    target = copy / "data" / "entities" / "train-00000-of-00001.parquet"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    assert main(["verify", str(copy), "--no-load"]) == 1


def test_two_builds_are_byte_identical(tmp_path: Path):
    trees = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        ws = workspace(tmp_path / name)
        assert ws.build() == 0
        root = ws.dist / f"claimwire-{DATASET_VERSION}"
        trees.append({p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()})
    assert trees[0] == trees[1]


def test_existing_release_is_never_overwritten(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    assert ws.build() == 0
    release = ws.dist / f"claimwire-{DATASET_VERSION}"
    before = {p: p.read_bytes() for p in release.rglob("*") if p.is_file()}
    assert ws.build() == 0  # same inputs: nothing to do
    assert "up to date" in capsys.readouterr().out
    tasks = ws.tasks()
    tasks[0]["annotations"][0]["result"] = [
        r for r in tasks[0]["annotations"][0]["result"] if r.get("from_name") != "portrayal"
    ]
    ws.write_tasks(tasks)
    assert ws.build() == 2
    assert "already exists with other contents" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in release.rglob("*") if p.is_file()} == before
    assert ws.build("--version", "9.0.0") == 0
    assert (ws.dist / "claimwire-9.0.0").is_dir()
    assert not [p for p in ws.dist.iterdir() if p.name.startswith(".")]


def test_verify_reports_a_card_that_lies_about_split_sizes(release: Path, tmp_path: Path, capsys):
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    card = copy / "README.md"
    card.write_text(
        card.read_text(encoding="utf-8").replace("num_examples: 23", "num_examples: 24", 1),
        encoding="utf-8",
    )
    from builder.release.writer import write_checksums

    write_checksums(copy)  # a consistent but wrong release: only loading can tell
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "does not load: NonMatchingSplitsSizesError" in err and "Traceback" not in err


# --- whole-corpus aggregates: the same as over the list of documents, in bounded memory


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory):
    """(document, split) of a corpus with every split, in input order (with the seed)."""
    groups = groups_by_split()
    arts = [
        synthetic_article(f"c{i:02d}", 40 + i, groups[s][10 + i], sentences=4)
        for i, s in enumerate(
            [
                "validation",
                "train",
                "validation",
                "train",
                "test",
                "validation",
                "train",
                "test",
                "train",
                "validation",
            ]
        )
    ]
    articles, export = write_corpus(tmp_path_factory.mktemp("agg"), arts)
    return [
        (d, SplitSpec().assign(d.article.group_key)) for _, d, _ in merged([export], articles, None)
    ]


def _feed(feed: Corpus, documents, size: int) -> None:
    """Add ``documents`` to ``feed`` in batches of ``size``, with the tables the build writes."""
    for k in range(0, len(documents), size):
        batch = feed.batch()
        chunk = documents[k : k + size]
        for doc, split in chunk:
            batch.add(doc, split)
        batch.finish()
        feed.add(
            batch,
            split_tables(
                [d for d, _ in chunk], [d.to_row() for d, _ in chunk], [s for _, s in chunk]
            ),
        )


def test_corpus_aggregates_equal_the_whole_list(documents, tmp_path: Path):
    feed = Corpus(["train", "validation", "test"], tmp_path / "idx", sample=2)
    _feed(feed, documents, 3)
    docs = [d for d, _ in documents]
    stats = feed.stats
    assert stats == CorpusStats.of(documents)
    assert stats.documents == len(docs) == 11
    for split in ("train", "validation", "test"):
        mine = [d for d, s in documents if s == split]
        assert stats.entities[split] == Counter(e.label for d in mine for e in d.entities)
        assert stats.stance[split] == Counter(
            c.stance for d in mine for c in d.claims for _ in c.target_ids
        )
        assert feed.totals[split] == len(mine)
    assert stats.claims == Counter((c.attribution, c.stance) for d in docs for c in d.claims)
    assert stats.annotators == {a for d in docs for a in d.annotation.annotator_ids}
    assert stats.sources == Counter((d.article.meta.source, d.article.meta.license) for d in docs)
    assert stats.decided == Counter(r.decided_by for d in docs for r in (*d.entities, *d.claims))
    assert feed.agreement.summary().documents == 11
    # the sample: the first two of train and test in input order; validation is dropped once
    # a test document shows that test will be the scored split
    sample = feed.sampled()
    for split in ("train", "test"):
        first = sorted([d for d, s in documents if s == split][:2], key=lambda d: d.id)
        assert sample[split].documents == 2
        for config in ("entities", "claims", "stance"):
            assert sample[split].rows(config) == task_rows(config, first), (split, config)
    assert sample["validation"].documents == 0
    assert all(sample["validation"].rows(c) == [] for c in ("entities", "claims", "stance"))
    assert feed.leakage.check().articles == 11
    feed.leakage.remove()


@pytest.mark.parametrize("size", [1, 4, 11])
def test_sample_is_the_same_for_any_batch_size(documents, tmp_path: Path, size: int):
    """The sample fills up inside a batch (rows filtered by document) or across batches."""
    feed = Corpus(["train", "validation", "test"], tmp_path / "idx", sample=3)
    _feed(feed, documents, size)
    sample = feed.sampled()
    # train holds 5 documents (3 kept), test 2 of 3; validation is not wanted (test has some)
    assert (feed.totals["train"], feed.totals["test"]) == (5, 2)
    assert [sample[s].documents for s in ("train", "validation", "test")] == [3, 0, 2]
    for split in ("train", "test"):
        first = sorted([d for d, s in documents if s == split][:3], key=lambda d: d.id)
        assert sample[split].rows("claims") == task_rows("claims", first)
    feed.leakage.remove()


def test_id_set_holds_digests(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(IdSet, "FOLD", 4)  # fold the recent ids into the sorted array often
    ids = IdSet()
    names = [f"a{i}" for i in range(23)]
    for name in names:
        ids.add(id_digest(name))
    ids.add(id_digest("a3"))
    assert len(ids) == 23
    assert all(id_digest(n) in ids for n in names) and id_digest("b") not in ids
    probe = np.array([id_digest(n) for n in ("a0", "b", "a22", "a7")], dtype=np.uint64)
    assert ids.contains(probe).tolist() == [True, False, True, True]
    assert ids.contains(probe.tolist()).tolist() == [True, False, True, True]
    more = [id_digest(n) for n in ("a1", "c0", "c1", "c2", "c3", "c4", "a20")]
    ids.update(more)  # two known, five new: a fold on the way
    assert len(ids) == 28 and ids.contains(more).tolist() == [True] * 7
    assert ids.contains([id_digest("c5"), id_digest("a21")]).tolist() == [False, True]
    assert IdSet().contains([1, 2]).tolist() == [False, False]
    without = IdSet()
    without.add(id_digest("a5"))
    every = (f"a{i}" for i in range(30))
    assert missing(every, ids, without, chunk=7) == ["a5", *(f"a{i}" for i in range(23, 30))]


def test_same_digest_for_two_ids_is_not_a_duplicate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The duplicate check holds 8-byte digests; a digest seen twice is checked against the
    exports, so two articles that happen to share one are not refused."""
    monkeypatch.setattr(sys.modules["builder.pipeline.build"], "id_digest", lambda _: 7)
    monkeypatch.setattr(sys.modules["builder.core.ids"], "id_digest", lambda _: 7)
    groups = groups_by_split()
    arts = [synthetic_article(f"d{i}", 300 + i, groups["train"][60 + i]) for i in range(3)]
    articles, export = write_corpus(tmp_path / "in", arts, seed=False)
    result = build(articles, [export], tmp_path / "dist", "0.1.0", batch_tasks=2)
    assert result.counts["train"]["documents"] == 3 and result.unannotated == []
    # the same articles in three more tasks (a re-import): refused when asked to
    copy = tmp_path / "twice.json"
    tasks = json.loads(export.read_text(encoding="utf-8"))
    again = [{**t, "id": t["id"] + 1000} for t in tasks]
    copy.write_text(json.dumps(tasks + again), encoding="utf-8")
    with pytest.raises(Exception, match="annotated in two tasks"):
        build(articles, [copy], tmp_path / "dist2", "0.1.0", same_article="refuse")
