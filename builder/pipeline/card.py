"""Render the release card (``README.md``) from ``dataset_card.md`` and the built data.

Every number in the card is computed by the build (counts, agreement, baseline scores, the leakage
report); none is typed by hand, so the card cannot go stale between releases. The build hands over
aggregates (:class:`builder.pipeline.corpus.Corpus`), not the documents: counts summed while
writing, agreement figures accumulated per document, and for the baselines a bounded sample of each
split (the first ``SAMPLE`` documents in input order), which the card names when it is smaller than
the split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ..benchmark.scorer import TASKS
from ..contracts.labels import ATTRIBUTIONS, ENTITY_LABELS, NER_TAGS, ROOT, STANCES
from ..core.splits import SplitSpec
from ..markdown import markdown_table
from ..quality.agreement import agreement_markdown
from ..release.writer import yaml_header
from .attribution import is_open
from .clusters import describe_clusters

if TYPE_CHECKING:
    from ..quality.leakage import LeakageReport
    from .clusters import Cluster
    from .corpus import Corpus, Sample
    from .result import BuildResult

TEMPLATE = ROOT / "dataset_card.md"


def size_category(n: int) -> str:
    """The Hugging Face ``size_categories`` bucket for ``n`` examples."""
    for limit, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < limit:
            return name
    return "n>1M"


def drift_and_quarantine(result: BuildResult) -> str:
    """What the card says of re-anchored tasks and of units set aside (``--on-invalid``)."""
    st = result.stats
    text = (
        f"Tasks whose text differed from the cleaned article and were re-anchored: "
        f"{st.reanchored} ({st.carried} span(s) carried over exactly). "
    )
    if result.dropped:
        each = ", ".join(f"{c} {label}: {n}" for (c, label), n in sorted(result.dropped.items()))
        text += (
            f"Regions dropped by the scheme mapping (labels with no place in the claimwire "
            f"scheme): {sum(result.dropped.values())} ({each}). "
        )
    if not result.quarantined:
        return text + "Units set aside in quarantine.jsonl: none."
    by_rule: Counter[str] = Counter()
    by_annotator: Counter[str] = Counter()
    for (rule, annotator), n in result.quarantined.items():
        by_rule[rule] += n
        by_annotator[annotator] += n
    rows = [[rule, n] for rule, n in sorted(by_rule.items(), key=lambda x: (-x[1], x[0]))]
    who = ", ".join(f"{a} {n}" for a, n in sorted(by_annotator.items()))
    return (
        text + f"Units set aside in `quarantine.jsonl` (built with `--on-invalid quarantine`): "
        f"{sum(by_rule.values())}, by annotator: {who}.\n\n"
        + markdown_table(["rule", "units"], rows)
    )


def redistribution(license_text: str) -> str:
    if is_open(license_text):
        return "yes, under that license's terms; credits per article in ATTRIBUTION.md"
    return "not cleared: research sample only"


def uncleared_note(documents: Mapping[tuple[str, str], int]) -> str:
    """How many released texts are not cleared for redistribution (``--exclude-uncleared``);
    ``documents`` counts the released articles by (source, licence)."""
    n = sum(k for (_, lic), k in documents.items() if not is_open(lic))
    if not n:
        return "Every text of this release is cleared for redistribution."
    return (
        f"This release includes {n} text(s) not cleared for redistribution "
        f"(built without `--exclude-uncleared`)."
    )


def baseline_scores(
    groups: Mapping[str, Sample],
) -> tuple[list[str], dict[tuple[str, str, str], dict[str, float]]]:
    """Run every baseline through the official scorer, in-process, on the task rows given per
    split (the build gives a bounded sample of each split:
    :meth:`builder.pipeline.corpus.Corpus.sampled`).

    Scored on ``test`` when it holds articles, otherwise on every split that does (a small
    release may only have ``train``). Returns the scored splits and ``{(split, baseline, config):
    headline metrics}`` (:func:`builder.benchmark.baselines.headline_scores`, which ``claimwire
    report`` runs on the release's files).
    """
    from ..benchmark.baselines import READS, headline_scores

    present = [s for s, sample in groups.items() if sample.documents]
    return headline_scores(present, lambda split, config: groups[split].rows(config, READS[config]))


def baseline_table(
    scored: list[str],
    scores: dict[tuple[str, str, str], dict[str, float]],
    has_train: bool,
    used: dict[str, int] | None = None,
    totals: dict[str, int] | None = None,
) -> str:
    """The baseline table; ``used`` and ``totals`` (documents per split scored or read, and in
    the split) make it say when the scores come from a sample of a split."""
    columns = [(config, metric) for (_, _, config), metrics in scores.items() for metric in metrics]
    columns = list(dict.fromkeys(columns))
    parts = []
    for split in scored:
        rows = []
        for name in sorted({n for s, n, _ in scores if s == split}):
            rows.append(
                [split, name]
                + [
                    f"{100 * scores[(split, name, c)][m]:.1f}"
                    if (split, name, c) in scores
                    else "–"
                    for c, m in columns
                ]
            )
        parts.append(
            markdown_table(["split", "baseline", *(f"{c}: {m}" for c, m in columns)], rows)
        )
    note = ""
    if scored != ["test"]:
        note = (
            f"\n\nThis release has no `test` articles, so the baselines are scored on "
            f"{', '.join(scored)}. The majority baseline reads its counts from "
            f"{'train' if has_train else 'the scored split'}, so these are not held-out "
            "estimates; they show that the scorer and baselines run end to end."
        )
    note += sample_note(scored, used or {}, totals or {}, has_train)
    return "\n\n".join(parts) + note if parts else "No split holds articles: nothing to score."


def sample_note(
    scored: list[str], used: dict[str, int], totals: dict[str, int], has_train: bool
) -> str:
    """Empty unless a split was larger than the baseline sample."""

    def capped(split: str) -> bool:
        return split in used and used[split] < totals.get(split, 0)

    sentences = []
    cut = [s for s in scored if capped(s)]
    if cut:
        sentences.append(
            "To keep the build's memory flat however large the corpus, the baselines are "
            "scored on "
            + " and ".join(f"the first {used[s]:,} of {totals[s]:,} {s} documents" for s in cut)
            + " (in input order); `claimwire baseline rules --split "
            + (
                f"{cut[0]}` (or `majority`) scores the whole split."
                if len(cut) == 1
                else "SPLIT` (or `majority`) scores a whole split."
            )
        )
    if has_train and "train" not in scored and capped("train"):
        sentences.append(
            f"The majority baseline reads its counts from the first "
            f"{used['train']:,} of {totals['train']:,} train documents."
        )
    return "\n\n" + " ".join(sentences) if sentences else ""


def render_card(
    result: BuildResult,
    corpus: Corpus,
    splits: SplitSpec,
    leakage: LeakageReport | None = None,
    notes: str | None = None,
    clusters: Sequence[Cluster] = (),
) -> str:
    path = f"dist/{result.path.name}"
    stats = corpus.stats
    groups = corpus.sampled()
    present = [s for s, _ in splits.shares if result.counts[s]["documents"]]
    empty = [s for s, _ in splits.shares if not result.counts[s]["documents"]]
    rows_by = {(t.config, t.split): t.num_examples for t in result.tables}
    counts_table = markdown_table(
        ["split", "documents", "entity mentions", "claims", "claimer–target stance pairs"],
        [
            [
                s,
                result.counts[s]["documents"],
                result.counts[s]["entities"],
                result.counts[s]["claims"],
                rows_by.get(("stance", s), 0),
            ]
            for s in present
        ],
    )
    configs = sorted(
        {t.config for t in result.tables}, key=lambda c: ("documents", *TASKS).index(c)
    )
    rows_table = markdown_table(
        ["config", *present],
        [[f"`{c}`", *(rows_by.get((c, s), 0) for s in present)] for c in configs],
    )
    ent = {s: stats.entities.get(s, Counter()) for s in present}
    claim_counts = stats.claims
    stance = {s: stats.stance.get(s, Counter()) for s in present}
    annotators = sorted(stats.annotators)
    rules = stats.adjudication
    sources = sorted(stats.sources)
    by_source: Counter[str] = Counter()
    for (src, _), n in stats.sources.items():
        by_source[src] += n
    fixes = ", ".join(f"{k}: {v}" for k, v in sorted(result.stats.fixes.items())) or "none"
    scored, scores = baseline_scores(groups)
    used = {s: sample.documents for s, sample in groups.items()}
    totals = {s: result.counts[s]["documents"] for s, _ in splits.shares}
    values = {
        "version": result.version,
        "path": path,
        "ner_tags": ", ".join(NER_TAGS),
        "stances": ", ".join(STANCES),
        "rows_table": rows_table,
        "counts_table": counts_table,
        "empty_splits": (
            f"No article falls in the {', '.join(empty)} split(s) of this version, so "
            "they are left out of the files (an empty Parquet split cannot be loaded)."
            if empty
            else "Every split holds at least one article."
        ),
        "entity_table": markdown_table(
            ["label", *present, "total"],
            [
                [lab, *(ent[s][lab] for s in present), sum(ent[s][lab] for s in present)]
                for lab in ENTITY_LABELS
            ],
        ),
        "claim_table": markdown_table(
            ["attribution", *STANCES, "total"],
            [
                [
                    a,
                    *(claim_counts[(a, s)] for s in STANCES),
                    sum(claim_counts[(a, s)] for s in STANCES),
                ]
                for a in ATTRIBUTIONS
            ],
        ),
        "stance_table": markdown_table(
            ["label", *present, "total"],
            [
                [lab, *(stance[s][lab] for s in present), sum(stance[s][lab] for s in present)]
                for lab in STANCES
            ],
        ),
        "split_rule": ", ".join(f"{n} {p}%" for n, p in splits.shares),
        "leakage": leakage.describe() if leakage else "The leakage check was not run.",
        # nothing at all without clusters: such a card reads as before clusters existed
        "clusters": ("\n" + describe_clusters(clusters, result.unannotated) if clusters else ""),
        "annotation_summary": (
            f"{stats.documents} annotated article(s) by {len(annotators)} pseudonymous "
            f"annotator(s); "
            f"adjudication: {', '.join(f'{k} {v}' for k, v in sorted(rules.items())) or 'none'}. "
            f"{len(result.unannotated)} article(s) without a usable annotation were left out. "
            f"Automatic span fixes applied while merging: {fixes}. " + drift_and_quarantine(result)
        ),
        "agreement_table": agreement_markdown(corpus.agreement.summary(), stats.decided),
        "baseline_table": baseline_table(scored, scores, bool(used.get("train")), used, totals),
        "sources_table": markdown_table(
            ["source", "articles", "license", "may be redistributed"],
            [[src, by_source[src], lic, redistribution(lic)] for src, lic in sources],
        ),
        "uncleared_note": uncleared_note(stats.sources),
        "release_notes": notes.split("\n", 1)[-1].strip() if notes else "No release notes.",
    }
    body = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        body = body.replace("{{" + key + "}}", value)
    extra = {
        "pretty_name": "claimwire",
        "license": "other",
        "license_name": "mixed: annotations Apache-2.0; article texts per source",
        "language": sorted(stats.languages) or ["en"],
        "task_categories": ["token-classification", "text-classification"],
        "task_ids": ["named-entity-recognition", "fact-checking"],
        "size_categories": [size_category(stats.documents)],
        "tags": ["claims", "stance", "news", "attribution"],
    }
    return yaml_header(result.version, result.tables, extra) + "\n" + body
