"""MLCommons Croissant 1.0 metadata for a release, with the Responsible-AI (RAI) fields.

One FileSet per config (its Parquet files) and one RecordSet per config whose fields come from the
declared features (the plain data of :mod:`builder.contracts.features`, so a build does not import
``datasets``): scalar columns, lists of scalars as ``repeated`` fields, and a ``split`` field read
from each file's name. Nested list-of-struct columns (the ``documents`` config's entities and
claims) are described by the card rather than flattened here. Nothing in it depends on the time of
the build, so the file is byte-identical across rebuilds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..contracts.features import CONFIGS, DECLARED, Feature

if TYPE_CHECKING:
    from .result import BuildResult

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
    "equivalentProperty": "cr:equivalentProperty",
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
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

_TYPES = {
    "string": "sc:Text",
    "int32": "sc:Integer",
    "int64": "sc:Integer",
    "float64": "sc:Float",
    "bool": "sc:Boolean",
}


SPLIT_FROM_NAME = r"^(train|validation|test)-\d+-of-\d+\.parquet$"


def _dtype(feature: Feature) -> str | None:
    """The Croissant data type of a ``Value`` or ``ClassLabel`` feature, None for the others."""
    if feature.get("_type") == "Value":
        return _TYPES[feature["dtype"]]
    if feature.get("_type") == "ClassLabel":
        return "sc:Integer"
    return None


def _field(record_set: str, name: str, feature: Feature, file_id: str) -> dict[str, Any] | None:
    repeated = feature.get("_type") == "List" and _dtype(feature["feature"]) is not None
    dtype = _dtype(feature["feature"] if repeated else feature)
    if dtype is None:
        return None
    field: dict[str, Any] = {
        "@type": "cr:Field",
        "@id": f"{record_set}/{name}",
        "name": name,
        "dataType": dtype,
        "source": {"fileSet": {"@id": file_id}, "extract": {"column": name}},
    }
    if repeated:
        field["repeated"] = True
    labels = feature["feature"] if repeated else feature
    if labels.get("_type") == "ClassLabel":
        field["description"] = "ClassLabel index into: " + ", ".join(labels["names"])
    return field


def _split_field(record_set: str, file_id: str) -> dict[str, Any]:
    return {
        "@type": "cr:Field",
        "@id": f"{record_set}/split",
        "name": "split",
        "description": "the split of the row, read from its file name",
        "dataType": "sc:Text",
        "source": {
            "fileSet": {"@id": file_id},
            "extract": {"fileProperty": "filename"},
            "transform": {"regex": SPLIT_FROM_NAME},
        },
    }


def responsible_ai(result: BuildResult) -> dict[str, Any]:
    """The Croissant RAI properties, worded from the build's own figures."""
    docs = sum(c["documents"] for c in result.counts.values())
    raw = (
        "The raw scraped text of every article is kept in the repository (articles/<id>.txt) "
        "next to its metadata."
    )
    if result.task_articles:  # their text is the task's: no raw page in the repository
        raw = (
            f"The raw scraped text of every article but {result.task_articles} is kept in the "
            "repository (articles/<id>.txt) next to its metadata. Those "
            f"{result.task_articles} have no raw text there: their text is that of their Label "
            "Studio task as imported, which the release holds (ATTRIBUTION.md says which)."
        )
    return {
        "rai:dataCollection": "News articles scraped from publishers' web pages; the raw page "
        "text is kept byte for byte and cleaned by per-source rules (articles/sources.json)."
        + (
            f" {result.task_articles} article(s) come from the texts of Label Studio tasks "
            "instead, imported by the annotating team."
            if result.task_articles
            else ""
        ),
        "rai:dataCollectionType": ["Web Scraping", "Manual Human Curation"],
        "rai:dataCollectionMissingData": f"{len(result.unannotated)} article(s) without a usable "
        "annotation are left out of the release. Publication dates missing from a page are "
        "inferred from the text and the inference is recorded in the article metadata.",
        "rai:dataCollectionRawData": raw,
        "rai:dataPreprocessingProtocol": [
            "Boilerplate lines, teaser headlines and trailing page chrome are removed by "
            "per-source regular expressions; kept lines are stripped and paragraphs joined by "
            "one blank line. Nothing else is rewritten.",
            "Sentences and tokens of the task views are derived by fixed rules "
            "(builder/core/views.py).",
            *(
                [
                    f"{result.task_articles} article(s) have no file in the repository: each is "
                    "the text of its Label Studio task as imported, not cleaned by these rules "
                    "(ATTRIBUTION.md says which)."
                ]
                if result.task_articles
                else []
            ),
        ],
        "rai:dataAnnotationProtocol": [
            "Entity spans (PER, ORG, GPE, LOC, NORP, EVENT), claim spans with stance "
            "(FAVOR/AGAINST/NEUTRAL) and attribution (REPORTED/AUTHOR), and claimer/target "
            "relations, following annotations/GUIDELINES.md.",
            "When a task has several annotations, the ground-truth one (else the most recent) is "
            "the gold annotation; every document records the rule used.",
        ],
        "rai:dataAnnotationPlatform": ["Label Studio"],
        "rai:dataAnnotationAnalysis": [
            "Spans are checked against the text (offsets, trimming), choices and relations "
            "against the labeling config; inter-annotator agreement is reported in the card when "
            "an article has two independent annotations."
        ],
        "rai:annotationsPerItem": "One adjudicated annotation per article in the release.",
        "rai:annotatorDemographics": [
            "Annotators are the project maintainers, identified by salted-hash pseudonyms; no "
            "demographic data is collected."
        ],
        "rai:machineAnnotationTools": [
            "None for the gold labels. Label Studio pre-annotations, when used, are corrected "
            "by a person before export."
        ],
        "rai:dataUseCases": [
            "Evaluating named-entity recognition, claim detection, claimer attribution and "
            "stance detection on news text with the official scorer (claimwire evaluate)."
        ],
        "rai:dataBiases": [
            f"A hand-picked sample of {docs} article(s) from a few outlets, on a few stories; "
            "the outlets' own political framing is part of the text."
        ],
        "rai:dataLimitations": [
            "Small: scores have wide confidence intervals. Claims are assertions, not verified "
            "facts. Labels come from one annotator per article unless the card reports agreement."
        ],
        "rai:dataSocialImpact": "Helps study how news attributes assertions; the texts name "
        "real, often political, persons and must not be used to profile them.",
        "rai:personalSensitiveInformation": [
            "Names and political positions of public figures as published in the news; "
            "annotator identities are pseudonymised."
        ],
        "rai:dataReleaseMaintenancePlan": "Semantic versions; releases are immutable with "
        "checksums; RELEASE_NOTES.md lists the changes between versions; label fixes ship as "
        "patch releases.",
    }


def based_on(sources: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """One ``isBasedOn`` work per (source, licence) of the article texts: the licence of each
    source travels with the metadata (per-article credits are in ATTRIBUTION.md)."""
    return [
        {"@type": "sc:CreativeWork", "name": source, "license": license_text}
        for source, license_text in sources
    ]


def croissant(result: BuildResult, sources: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """The Croissant document of a release; ``sources`` are its (source, licence) pairs."""
    distribution: list[dict[str, Any]] = []
    record_sets: list[dict[str, Any]] = []
    for config in CONFIGS:
        tables = [t for t in result.tables if t.config == config]
        if not tables:
            continue
        file_id = f"parquet-{config}"
        distribution.append(
            {
                "@type": "cr:FileSet",
                "@id": file_id,
                "name": file_id,
                "description": f"Parquet files of the {config} config, one per split",
                "encodingFormat": "application/x-parquet",
                "includes": f"data/{config}/*.parquet",
            }
        )
        fields = [
            f
            for name, feat in DECLARED[config].items()
            if (f := _field(config, name, feat, file_id)) is not None
        ]
        fields.append(_split_field(config, file_id))
        record_sets.append(
            {
                "@type": "cr:RecordSet",
                "@id": config,
                "name": config,
                "description": f"rows of the {config} config",
                "field": fields,
            }
        )
    return {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "name": "claimwire",
        "description": "News articles annotated with entities, claims (claimer, targets, "
        "attribution) and stance, for benchmarking.",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "citeAs": "@misc{claimwire, title = {claimwire: news articles annotated with entities, "
        "claims and stance}, author = {{claimwire maintainers}}, note = {Version "
        + result.version
        + "}, url = {https://github.com/claimwire/claimwire}}",
        "license": "https://www.apache.org/licenses/LICENSE-2.0",
        "isBasedOn": based_on(sources),
        "url": "https://github.com/claimwire/claimwire",
        "version": result.version,
        **responsible_ai(result),
        "distribution": distribution,
        "recordSet": record_sets,
    }
