"""Render the release card (``README.md``) from ``dataset_card.md`` and the built data.

Every number in the card is computed here from the documents; none is typed by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .release import yaml_header
from .scheme import ATTRIBUTIONS, ENTITY_LABELS, NER_TAGS, STANCES, ROOT
from .splits import SplitSpec

if TYPE_CHECKING:
    from .build import BuildResult, Summary

TEMPLATE = ROOT / "dataset_card.md"


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_card(result: BuildResult, summary: Summary, splits: SplitSpec) -> str:
    """The card for a build; ``summary`` holds the corpus counts (summed while streaming)."""
    path = f"dist/{result.path.name}"
    present = [s for s, _ in splits.shares if result.counts[s]["documents"]]
    empty = [s for s, _ in splits.shares if not result.counts[s]["documents"]]
    counts_table = _table(
        ["split", "documents", "entity mentions", "claims"],
        [[s, result.counts[s]["documents"], result.counts[s]["entities"],
          result.counts[s]["claims"]] for s in present],
    )
    entity_counts = summary.entity_labels
    claim_counts = summary.claims
    annotators = sorted(summary.annotators)
    rules = summary.adjudication
    sources = sorted(summary.sources)
    fixes = ", ".join(f"{k}: {v}" for k, v in sorted(result.stats.fixes.items())) or "none"
    values = {
        "version": result.version,
        "path": path,
        "ner_tags": ", ".join(NER_TAGS),
        "stances": ", ".join(STANCES),
        "counts_table": counts_table,
        "empty_splits": (
            f"No article falls in the {', '.join(empty)} split(s) of this version, so "
            "they are left out of the files (an empty Parquet split cannot be loaded)."
            if empty else "Every split holds at least one article."
        ),
        "entity_table": _table(["label", "mentions"],
                               [[lab, entity_counts[lab]] for lab in ENTITY_LABELS]),
        "claim_table": _table(
            ["attribution", *STANCES, "total"],
            [[a, *(claim_counts[(a, s)] for s in STANCES),
              sum(claim_counts[(a, s)] for s in STANCES)] for a in ATTRIBUTIONS],
        ),
        "split_rule": ", ".join(f"{n} {p}%" for n, p in splits.shares),
        "annotation_summary": (
            f"{summary.documents} annotated article(s) by {len(annotators)} pseudonymous annotator(s); "
            f"adjudication: {', '.join(f'{k} {v}' for k, v in sorted(rules.items())) or 'none'}. "
            f"{len(result.unannotated)} article(s) without a usable annotation were left out. "
            f"Automatic span fixes applied while merging: {fixes}."
        ),
        "sources_table": _table(["source", "articles", "license"], [
            [src, sum(n for (s, _), n in summary.sources.items() if s == src), lic]
            for src, lic in sources
        ]),
    }
    body = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        body = body.replace("{{" + key + "}}", value)
    extra = {
        "pretty_name": "claimwire",
        "license": "other",
        "license_name": "mixed: annotations Apache-2.0; article texts per source",
        "language": sorted(summary.languages) or ["en"],
        "task_categories": ["token-classification", "text-classification"],
        "task_ids": ["named-entity-recognition", "fact-checking"],
        "size_categories": ["n<1K"],
    }
    return yaml_header(result.version, result.tables, extra) + "\n" + body
