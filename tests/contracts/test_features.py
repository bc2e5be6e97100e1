"""The Arrow schema a build writes (pyarrow alone) is the one ``datasets`` makes from the same
declared features, schema metadata byte for byte: ``load_dataset`` reads the features of every
Parquet file from that metadata, and the recorded releases hold its bytes."""

from __future__ import annotations

import copy

import pyarrow as pa
import pytest

from builder.contracts.features import CONFIGS, DECLARED, arrow_schema, features, schema_of


def _differences(ours: pa.Schema, theirs: pa.Schema) -> list[str]:
    found = []
    if not ours.equals(theirs, check_metadata=False):
        found.append(f"types: {ours.remove_metadata()} != {theirs.remove_metadata()}")
    if ours.metadata != theirs.metadata:
        found.append(f"metadata: {ours.metadata!r} != {theirs.metadata!r}")
    if not ours.equals(theirs, check_metadata=True):
        found.append("not equal with metadata")
    return found


@pytest.mark.parametrize("config", CONFIGS)
def test_the_pyarrow_schema_is_the_datasets_schema(config: str) -> None:
    theirs = features()[config].arrow_schema
    assert _differences(arrow_schema(config), theirs) == []
    assert arrow_schema(config).metadata[b"huggingface"] == theirs.metadata[b"huggingface"]
    assert list(arrow_schema(config).metadata) == [b"huggingface"]


@pytest.mark.parametrize("config", CONFIGS)
def test_the_datasets_features_are_the_declared_ones(config: str) -> None:
    assert features()[config].to_dict() == DECLARED[config]


def test_every_config_is_declared() -> None:
    assert tuple(DECLARED) == CONFIGS
    assert set(features()) == set(CONFIGS)


def test_a_drifted_type_or_metadata_is_caught() -> None:
    """The comparison can fail: one column of another type, or the same types with metadata
    JSON of other bytes (key order of a feature), are both told apart from ``datasets``."""
    theirs = features()["stance"].arrow_schema
    drifted = copy.deepcopy(DECLARED["stance"])
    drifted["label"] = {"dtype": "int32", "_type": "Value"}  # ClassLabel is int64
    assert any(d.startswith("types:") for d in _differences(schema_of(drifted), theirs))

    reordered = copy.deepcopy(DECLARED["stance"])
    reordered["id"] = {"_type": "Value", "dtype": "string"}
    found = _differences(schema_of(reordered), theirs)
    assert found and not any(d.startswith("types:") for d in found)
    assert any(d.startswith("metadata:") for d in found)
