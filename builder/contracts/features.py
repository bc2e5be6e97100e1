"""``datasets.Features`` of every release config: the declared Arrow schema of the Parquet files.

Label names come from :mod:`builder.contracts.labels`; ``tests/contracts/test_contracts.py``
checks these features against the JSON Schemas of the configs, so the two cannot drift.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from datasets import Features

from .labels import NER_TAGS, STANCES

CONFIGS = ("documents", "entities", "claims", "stance")
DEFAULT_CONFIG = "documents"


@cache
def features() -> dict[str, Features]:
    """The ``datasets.Features`` of every config, by config name (``datasets`` is imported here,
    on first use, so that code which never writes or loads a release does not pay for it)."""
    from datasets import ClassLabel, Features, List, Value

    _STR = Value("string")
    _INT = Value("int32")

    return {
        "documents": Features(
            {
                "id": _STR,
                "source": _STR,
                "url": _STR,
                "title": _STR,
                "published": _STR,
                "language": _STR,
                "license": _STR,
                "text": _STR,
                "text_sha256": _STR,
                "entities": List(
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
                "claims": List(
                    {
                        "id": _STR,
                        "start": _INT,
                        "end": _INT,
                        "text": _STR,
                        "claimer_id": _STR,
                        "target_ids": List(_STR),
                        "attribution": _STR,
                        "stance": _STR,
                        "decided_by": _STR,
                    }
                ),
                "annotation": {
                    "n_annotators": _INT,
                    "annotator_ids": List(_STR),
                    "adjudication": _STR,
                    "agreement": Value("float64"),
                    "spans": List(
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
                    "labels": List(
                        {"unit": _STR, "attribute": _STR, "annotator": _STR, "value": _STR}
                    ),
                },
            }
        ),
        "entities": Features(
            {
                "id": _STR,
                "document_id": _STR,
                "sentence_index": _INT,
                "tokens": List(_STR),
                "token_starts": List(_INT),
                "token_ends": List(_INT),
                "ner_tags": List(ClassLabel(names=list(NER_TAGS))),
            }
        ),
        "claims": Features(
            {
                "id": _STR,
                "document_id": _STR,
                "sentence_index": _INT,
                "sentence": _STR,
                "sentence_start": _INT,
                "is_claim": Value("bool"),
                "claims": List(
                    {
                        "claim_id": _STR,
                        "start": _INT,
                        "end": _INT,
                        "text": _STR,
                        "attribution": _STR,
                        "claimer": _STR,
                    }
                ),
            }
        ),
        "stance": Features(
            {
                "id": _STR,
                "document_id": _STR,
                "claim_id": _STR,
                "claim": _STR,
                "target": _STR,
                "target_label": _STR,
                "claimer": _STR,
                "context": _STR,
                "label": ClassLabel(names=list(STANCES)),
            }
        ),
    }


@cache
def arrow_schema(config: str) -> pa.Schema:
    """``features()[config].arrow_schema``, made once (``Features`` rebuilds it on every
    access)."""
    return features()[config].arrow_schema
