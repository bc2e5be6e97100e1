"""croissant.json: ``mlcroissant validate`` accepts it, and ``mlcroissant`` loads every record set
from the release files with the same rows as the Parquet files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlcroissant as mlc
import pyarrow.parquet as pq
import pytest
from support.helpers import seed_inputs

from builder import build

MLCROISSANT = Path(sys.executable).with_name("mlcroissant")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    return build(seed_inputs()[0], [seed_inputs()[1]], out, "0.1.0").path


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MLCROISSANT), "validate", "--jsonld", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_mlcroissant_validate_accepts_it(release: Path) -> None:
    done = _validate(release / "croissant.json")
    assert done.returncode == 0, done.stderr
    assert "error" not in done.stderr.lower()
    # the one remaining recommendation: a publication date, left out so rebuilds are identical
    assert "Found the following 1 warning(s)" in done.stderr
    assert "datePublished" in done.stderr


def test_mlcroissant_validate_rejects_a_broken_file(release: Path, tmp_path: Path) -> None:
    data = json.loads((release / "croissant.json").read_text())
    data["recordSet"][0]["field"][0]["source"]["fileSet"]["@id"] = "no-such-files"
    broken = tmp_path / "croissant.json"
    broken.write_text(json.dumps(data))
    done = _validate(broken)
    assert done.returncode != 0
    assert "no-such-files" in done.stderr


def test_record_sets_load_from_the_release_files(release: Path) -> None:
    ds = mlc.Dataset(jsonld=str(release / "croissant.json"))
    assert [rs.name for rs in ds.metadata.record_sets] == [
        "documents",
        "entities",
        "claims",
        "stance",
    ]
    for config in ("documents", "entities", "claims", "stance"):
        table = pq.read_table(release / f"data/{config}/train-00000-of-00001.parquet")
        records = list(ds.records(record_set=config))
        assert len(records) == table.num_rows
        assert [r[f"{config}/id"].decode() for r in records] == table.column("id").to_pylist()
        assert {r[f"{config}/split"] for r in records} == {b"train"}
    entities = list(ds.records(record_set="entities"))
    tags = (
        pq.read_table(release / "data/entities/train-00000-of-00001.parquet")
        .column("ner_tags")
        .to_pylist()
    )
    assert [list(r["entities/ner_tags"]) for r in entities] == tags
    stance = list(ds.records(record_set="stance"))
    assert sum(r["stance/label"] == 1 for r in stance) == 14  # AGAINST is ClassLabel index 1


def test_responsible_ai_fields(release: Path) -> None:
    meta = mlc.Dataset(jsonld=str(release / "croissant.json")).metadata
    assert meta.data_annotation_platform == ["Label Studio"]
    assert meta.data_collection.startswith("News articles scraped")
    assert meta.annotations_per_item == "One adjudicated annotation per article in the release."
    for field in (
        "data_collection_type",
        "data_preprocessing_protocol",
        "data_annotation_protocol",
        "data_biases",
        "data_limitations",
        "data_use_cases",
        "personal_sensitive_information",
        "annotator_demographics",
    ):
        assert getattr(meta, field), field
    assert meta.data_social_impact and meta.data_release_maintenance_plan
    assert "claimwire" in meta.cite_as and meta.version == "0.1.0"
    assert "1 article(s)" in meta.data_biases[0]
