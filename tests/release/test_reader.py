"""The one reader of a release: splits in train, validation, test order; documents a batch at a
time with only the columns and rows asked for; task rows with ClassLabel names."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.corpus import groups_by_split, synthetic_article, write_corpus

from builder import build
from builder.release import reader


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    groups = groups_by_split()
    arts = [
        synthetic_article(f"r{i}", 300 + i, groups[split][40 + i])
        for i, split in enumerate(["test", "train", "validation", "train"])
    ]
    articles, export = write_corpus(tmp_path_factory.mktemp("in"), arts, seed=False)
    return build(articles, [export], tmp_path_factory.mktemp("dist"), "0.1.0").path


def test_splits_come_in_train_validation_test_order(release: Path):
    assert reader.splits(release, "documents") == ["train", "validation", "test"]
    assert [reader.split_of(f) for f in reader.files(release, "documents")] == [
        "test",
        "train",
        "validation",
    ]


def test_documents_with_columns_and_ids(release: Path):
    rows = list(reader.documents(release, columns=["id", "title"], ids={"r1", "r2"}))
    assert [(split, row["id"]) for split, row in rows] == [("train", "r1"), ("validation", "r2")]
    assert all(set(row) == {"id", "title"} for _, row in rows)
    everything = list(reader.documents(release))
    assert sorted(row["id"] for _, row in everything) == ["r0", "r1", "r2", "r3"]


def test_task_rows_have_label_names(release: Path):
    rows = reader.rows(release, "entities", "train")
    tags = {t for r in rows for t in r["ner_tags"]}
    assert tags and all(isinstance(t, str) for t in tags) and "O" in tags
    stance = reader.rows(release, "stance", "train")
    assert stance and {r["label"] for r in stance} <= {"FAVOR", "AGAINST", "NEUTRAL"}
    assert reader.rows(release, "entities", "nowhere") == []


def test_release_rows_are_in_id_order_and_need_documents(release: Path, tmp_path: Path):
    assert [r["id"] for r in reader.read_release_rows(release)] == ["r0", "r1", "r2", "r3"]
    with pytest.raises(Exception, match="no documents files in this release"):
        reader.read_release_rows(tmp_path)
