"""The features of every release config: the declared Arrow schema of the Parquet files.

They are declared once, in :data:`DECLARED`, as plain data: the dict form of
``datasets.Features`` (what ``Features.to_dict`` gives and ``Features.from_dict`` reads). From it
come :func:`arrow_schema`, in pyarrow alone, with the ``huggingface`` schema metadata that
``load_dataset`` reads the features from (a build writes Parquet without importing
``datasets``), and :func:`features`, the ``datasets.Features`` themselves (``verify``, tests).
``tests/contracts/test_features.py`` checks that both give the same schema, metadata bytes
included; label names come from :mod:`builder.contracts.labels`;
``tests/contracts/test_contracts.py`` checks these features against the JSON Schemas of the
configs, so the two cannot drift.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from datasets import Features

from .labels import NER_TAGS, STANCES

CONFIGS = ("documents", "entities", "claims", "stance")
DEFAULT_CONFIG = "documents"

# One feature in the dict form of ``datasets``: {"dtype": ..., "_type": "Value"},
# {"names": [...], "_type": "ClassLabel"}, {"feature": ..., "_type": "List"}, or a struct: a
# dict of named features without ``_type``. Key order is that of ``Features.to_dict``: the
# metadata written into every Parquet file is this JSON.
Feature = dict[str, Any]


def _value(dtype: str) -> Feature:
    return {"dtype": dtype, "_type": "Value"}


def _labels(names: tuple[str, ...]) -> Feature:
    return {"names": list(names), "_type": "ClassLabel"}


def _list(feature: Feature) -> Feature:
    return {"feature": feature, "_type": "List"}


_STR = _value("string")
_INT = _value("int32")

DECLARED: dict[str, dict[str, Feature]] = {
    "documents": {
        "id": _STR,
        "source": _STR,
        "url": _STR,
        "title": _STR,
        "published": _STR,
        "language": _STR,
        "license": _STR,
        "text": _STR,
        "text_sha256": _STR,
        "entities": _list(
            {
                "id": _STR,
                "start": _INT,
                "end": _INT,
                "text": _STR,
                "label": _STR,
                "portrayal": _STR,
                "decided_by": _STR,
            }
        ),
        "claims": _list(
            {
                "id": _STR,
                "start": _INT,
                "end": _INT,
                "text": _STR,
                "claimer_id": _STR,
                "target_ids": _list(_STR),
                "attribution": _STR,
                "stance": _STR,
                "decided_by": _STR,
            }
        ),
        "annotation": {
            "n_annotators": _INT,
            "annotator_ids": _list(_STR),
            "adjudication": _STR,
            "agreement": _value("float64"),
            "spans": _list(
                {
                    "annotator_a": _STR,
                    "annotator_b": _STR,
                    "kind": _STR,
                    "label": _STR,
                    "n_a": _INT,
                    "n_b": _INT,
                    "exact": _INT,
                    "overlap": _INT,
                }
            ),
            "labels": _list({"unit": _STR, "attribute": _STR, "annotator": _STR, "value": _STR}),
        },
    },
    "entities": {
        "id": _STR,
        "document_id": _STR,
        "sentence_index": _INT,
        "tokens": _list(_STR),
        "token_starts": _list(_INT),
        "token_ends": _list(_INT),
        "ner_tags": _list(_labels(NER_TAGS)),
    },
    "claims": {
        "id": _STR,
        "document_id": _STR,
        "sentence_index": _INT,
        "sentence": _STR,
        "sentence_start": _INT,
        "is_claim": _value("bool"),
        "claims": _list(
            {
                "claim_id": _STR,
                "start": _INT,
                "end": _INT,
                "text": _STR,
                "attribution": _STR,
                "claimer": _STR,
            }
        ),
    },
    "stance": {
        "id": _STR,
        "document_id": _STR,
        "claim_id": _STR,
        "claim": _STR,
        "target": _STR,
        "target_label": _STR,
        "claimer": _STR,
        "context": _STR,
        "label": _labels(STANCES),
    },
}

# The Arrow type of each ``Value`` dtype used above (``datasets`` maps them the same way).
_ARROW = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
}


def arrow_type(feature: Feature) -> pa.DataType:
    """The Arrow type ``datasets`` gives a feature: a ClassLabel is its int64 index."""
    kind = feature.get("_type")
    if kind == "Value":
        return _ARROW[feature["dtype"]]
    if kind == "ClassLabel":
        return pa.int64()
    if kind == "List":
        return pa.list_(arrow_type(feature["feature"]))
    if kind is None:
        return pa.struct([pa.field(k, arrow_type(v)) for k, v in feature.items()])
    raise ValueError(f"no Arrow type for a feature of type {kind!r}")


def schema_of(declared: dict[str, Feature]) -> pa.Schema:
    """The Arrow schema of a table of ``declared`` columns, with the ``huggingface`` metadata
    that ``load_dataset`` reads the features from, as ``Features.arrow_schema`` writes it."""
    metadata = json.dumps({"info": {"features": declared}})
    return pa.schema([pa.field(k, arrow_type(v)) for k, v in declared.items()]).with_metadata(
        {"huggingface": metadata}
    )


@cache
def arrow_schema(config: str) -> pa.Schema:
    """The Arrow schema of a config's Parquet files: equal to ``features()[config].arrow_schema``,
    metadata bytes included, made without importing ``datasets`` (and once: ``Features`` rebuilds
    it on every access)."""
    return schema_of(DECLARED[config])


@cache
def features() -> dict[str, Features]:
    """The ``datasets.Features`` of every config, by config name, made from :data:`DECLARED`
    (``datasets`` is imported here, on first use, so that code which never loads a release does
    not pay for it)."""
    from datasets import Features

    return {config: Features.from_dict(DECLARED[config]) for config in CONFIGS}
