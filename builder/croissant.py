"""MLCommons Croissant metadata for a release: one FileObject per Parquet file and one RecordSet
per config, with fields taken from the declared features."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datasets import ClassLabel, Value

from .features import FEATURES

if TYPE_CHECKING:
    from .build import BuildResult

CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_TYPES = {"string": "sc:Text", "int32": "sc:Integer", "int64": "sc:Integer",
          "float64": "sc:Float", "bool": "sc:Boolean"}


def _field(record_set: str, name: str, feature: Any, file_id: str) -> dict[str, Any] | None:
    if isinstance(feature, Value):
        dtype = _TYPES[feature.dtype]
    elif isinstance(feature, ClassLabel):
        dtype = "sc:Integer"
    else:
        return None  # nested columns are described by the card, not flattened here
    return {
        "@type": "cr:Field",
        "@id": f"{record_set}/{name}",
        "name": name,
        "dataType": dtype,
        "source": {"fileSet": {"@id": file_id}, "extract": {"column": name}},
    }


def croissant(result: BuildResult) -> dict[str, Any]:
    distribution: list[dict[str, Any]] = []
    record_sets: list[dict[str, Any]] = []
    for config in FEATURES:
        tables = [t for t in result.tables if t.config == config]
        if not tables:
            continue
        file_id = f"parquet-{config}"
        distribution.append({
            "@type": "cr:FileSet",
            "@id": file_id,
            "name": file_id,
            "encodingFormat": "application/x-parquet",
            "includes": f"data/{config}/*.parquet",
        })
        fields = [f for name, feat in FEATURES[config].items()
                  if (f := _field(config, name, feat, file_id)) is not None]
        record_sets.append({"@type": "cr:RecordSet", "@id": config, "name": config,
                            "field": fields})
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": "claimwire",
        "description": "News articles annotated with entities, claims (claimer, targets, "
        "attribution) and stance, for benchmarking.",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "license": "https://www.apache.org/licenses/LICENSE-2.0",
        "url": "https://github.com/claimwire/claimwire",
        "version": result.version,
        "distribution": distribution,
        "recordSet": record_sets,
    }
