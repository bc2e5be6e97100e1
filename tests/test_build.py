"""Building the shipped inputs end to end, loading the release, and release immutability."""

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from datasets import ClassLabel, load_dataset

from builder.cli import main
from builder.features import FEATURES
from builder.release import verify
from helpers import SEED_ID, workspace

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace(tmp_path_factory.mktemp("build"))
    assert ws.build() == 0
    return ws.dist / "claimwire-0.1.0"


def test_release_layout(release: Path):
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert files == [
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
    assert Counter(e["label"] for e in row["entities"]) == {"PER": 27, "GPE": 22, "ORG": 12,
                                                             "NORP": 6}
    assert Counter((c["attribution"], c["stance"]) for c in row["claims"]) == {
        ("REPORTED", "AGAINST"): 14, ("REPORTED", "FAVOR"): 2, ("REPORTED", "NEUTRAL"): 3,
        ("AUTHOR", "NEUTRAL"): 3}
    assert row["annotation"]["adjudication"] == "single"
    assert row["annotation"]["annotator_ids"][0].startswith("ann-")


def test_every_span_matches_the_text(release: Path):
    row = load_dataset(str(release))["train"][0]
    for span in row["entities"] + row["claims"]:
        assert row["text"][span["start"]:span["end"]] == span["text"]
        assert span["text"] == span["text"].strip()


def test_every_config_loads_with_declared_features(release: Path):
    for config in FEATURES:
        ds = load_dataset(str(release), config)
        assert ds["train"].features == FEATURES[config]


def test_class_label_names_survive(release: Path):
    ner = load_dataset(str(release), "entities")["train"]
    tags = ner.features["ner_tags"].feature
    assert isinstance(tags, ClassLabel)
    first = ner[0]
    named = [(t, tags.int2str(i)) for t, i in zip(first["tokens"], first["ner_tags"])]
    assert named[:4] == [("Guaido", "B-PER"), ("Had", "O"), ("'", "O"), ("Clandestine", "O")]
    stance = load_dataset(str(release), "stance")["train"]
    assert stance.features["label"].names == ["FAVOR", "AGAINST", "NEUTRAL"]
    assert stance.num_rows == 25  # one row per (claim, target)


def test_streaming_works(release: Path):
    for config in FEATURES:
        first = next(iter(load_dataset(str(release), config, streaming=True)["train"]))
        assert set(first) == set(FEATURES[config])


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
        root = ws.dist / "claimwire-0.1.0"
        trees.append({p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()})
    assert trees[0] == trees[1]


def test_existing_release_is_never_overwritten(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    assert ws.build() == 0
    release = ws.dist / "claimwire-0.1.0"
    before = {p: p.read_bytes() for p in release.rglob("*") if p.is_file()}
    assert ws.build() == 0  # same inputs: nothing to do
    assert "up to date" in capsys.readouterr().out
    tasks = ws.tasks()
    tasks[0]["annotations"][0]["result"] = [
        r for r in tasks[0]["annotations"][0]["result"] if r.get("from_name") != "portrayal"]
    ws.write_tasks(tasks)
    assert ws.build() == 2
    assert "already exists with other contents" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in release.rglob("*") if p.is_file()} == before
    assert ws.build("--version", "0.1.1") == 0
    assert (ws.dist / "claimwire-0.1.1").is_dir()
    assert not [p for p in ws.dist.iterdir() if p.name.startswith(".")]


def test_verify_reports_a_card_that_lies_about_split_sizes(release: Path, tmp_path: Path, capsys):
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    card = copy / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("num_examples: 23", "num_examples: 24", 1),
                    encoding="utf-8")
    from builder.release import write_checksums

    write_checksums(copy)  # a consistent but wrong release: only loading can tell
    assert main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "does not load: NonMatchingSplitsSizesError" in err and "Traceback" not in err
