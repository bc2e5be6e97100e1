"""Render the release card (``README.md``) from ``dataset_card.md`` and the built data.

Every number in the card is computed here from the documents (counts, baseline scores, the
leakage report); none is typed by hand, so the card cannot go stale between releases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .agreement import LOWEST, DocAgreement, agreement_markdown, summarize
from .release import yaml_header
from .scheme import ATTRIBUTIONS, ENTITY_LABELS, NER_TAGS, ROOT, STANCES
from .splits import SplitSpec

if TYPE_CHECKING:
    from .build import BuildResult
    from .leakage import LeakageReport
    from .records import Document

TEMPLATE = ROOT / "dataset_card.md"
TASKS = ("entities", "claims", "stance")
# Licenses under which a text may be passed on (with its terms); anything else is "not cleared".
_OPEN = ("cc0", "cc-by", "cc by", "public domain", "apache", "mit", "odc-by", "pddl")


def _table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def size_category(n: int) -> str:
    """The Hugging Face ``size_categories`` bucket for ``n`` examples."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def redistribution(license_text: str) -> str:
    text = license_text.casefold()
    if any(text.startswith(o) or f"({o}" in text for o in _OPEN):
        return "yes, under that license's terms"
    return "not cleared: research sample only"


def by_split(docs: Sequence[Document], splits: SplitSpec) -> dict[str, list[Document]]:
    out: dict[str, list[Document]] = {name: [] for name, _ in splits.shares}
    for d in docs:
        out[splits.assign(d.article.group_key)].append(d)
    return {k: sorted(v, key=lambda d: d.id) for k, v in out.items()}


def task_rows(docs: Sequence[Document],
              configs: Sequence[str] = TASKS) -> dict[str, list[dict[str, Any]]]:
    from .views import claim_rows, entity_rows, stance_rows

    make = {"entities": entity_rows, "claims": claim_rows, "stance": stance_rows}
    return {c: [r for d in docs for r in make[c](d)] for c in configs}


def baseline_scores(
    groups: dict[str, list[Document]],
) -> tuple[list[str], dict[tuple[str, str, str], dict[str, float]]]:
    """Run every baseline through the official scorer, in-process, on the released documents.

    Scored on ``test`` when it holds articles, otherwise on every split that does (a small
    release may only have ``train``). Returns the scored splits and ``{(split, baseline, config):
    headline metrics}``.
    """
    from .baselines import NAMES, predict
    from .evaluate import headline, score

    present = [s for s, docs in groups.items() if docs]
    scored = ["test"] if "test" in present else present
    # The majority baseline reads train labels; entities' majority is all-O and needs none, so
    # the costly token view of the whole train split is not made for it.
    train = task_rows(groups.get("train", []), ("claims", "stance"))
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for split in scored:
        rows = task_rows(groups[split])
        for name in NAMES:
            for config in TASKS:
                gold = rows[config]
                if not gold:
                    continue
                preds = predict(name, config, gold, train.get(config) or gold)
                out[(split, name, config)] = headline(config, score(config, gold, preds))
    return scored, out


def baseline_table(scored: list[str], scores: dict[tuple[str, str, str], dict[str, float]],
                   has_train: bool) -> str:
    columns = [(config, metric) for (_, _, config), metrics in scores.items()
               for metric in metrics]
    columns = list(dict.fromkeys(columns))
    parts = []
    for split in scored:
        rows = []
        for name in sorted({n for s, n, _ in scores if s == split}):
            rows.append([split, name] + [
                f"{100 * scores[(split, name, c)][m]:.1f}" if (split, name, c) in scores
                else "–" for c, m in columns])
        parts.append(_table(["split", "baseline", *(f"{c}: {m}" for c, m in columns)], rows))
    note = ""
    if scored != ["test"]:
        note = (f"\n\nThis release has no `test` articles, so the baselines are scored on "
                f"{', '.join(scored)}. The majority baseline reads its counts from "
                f"{'train' if has_train else 'the scored split'}, so these are not held-out "
                "estimates; they show that the scorer and baselines run end to end.")
    return "\n\n".join(parts) + note if parts else "No split holds articles: nothing to score."


def render_card(result: BuildResult, docs: list[Document], splits: SplitSpec,
                leakage: LeakageReport | None = None, notes: str | None = None) -> str:
    path = f"dist/{result.path.name}"
    groups = by_split(docs, splits)
    present = [s for s, _ in splits.shares if result.counts[s]["documents"]]
    empty = [s for s, _ in splits.shares if not result.counts[s]["documents"]]
    rows_by = {(t.config, t.split): t.num_examples for t in result.tables}
    counts_table = _table(
        ["split", "documents", "entity mentions", "claims", "claimer–target stance pairs"],
        [[s, result.counts[s]["documents"], result.counts[s]["entities"],
          result.counts[s]["claims"], rows_by.get(("stance", s), 0)] for s in present],
    )
    configs = sorted({t.config for t in result.tables},
                     key=lambda c: ("documents", *TASKS).index(c))
    rows_table = _table(["config", *present], [
        [f"`{c}`", *(rows_by.get((c, s), 0) for s in present)] for c in configs])
    ent = {s: Counter(e.label for d in groups[s] for e in d.entities) for s in present}
    claim_counts = Counter((c.attribution, c.stance) for d in docs for c in d.claims)
    stance = {s: Counter(c.stance for d in groups[s] for c in d.claims for _ in c.target_ids)
              for s in present}
    annotators = sorted({a for d in docs for a in d.annotation.annotator_ids})
    rules = Counter(d.annotation.adjudication for d in docs)
    sources = sorted({(d.article.meta.source, d.article.meta.license) for d in docs})
    fixes = ", ".join(f"{k}: {v}" for k, v in sorted(result.stats.fixes.items())) or "none"
    scored, scores = baseline_scores(groups)
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
            if empty else "Every split holds at least one article."
        ),
        "entity_table": _table(
            ["label", *present, "total"],
            [[lab, *(ent[s][lab] for s in present), sum(ent[s][lab] for s in present)]
             for lab in ENTITY_LABELS]),
        "claim_table": _table(
            ["attribution", *STANCES, "total"],
            [[a, *(claim_counts[(a, s)] for s in STANCES),
              sum(claim_counts[(a, s)] for s in STANCES)] for a in ATTRIBUTIONS],
        ),
        "stance_table": _table(
            ["label", *present, "total"],
            [[lab, *(stance[s][lab] for s in present), sum(stance[s][lab] for s in present)]
             for lab in STANCES]),
        "split_rule": ", ".join(f"{n} {p}%" for n, p in splits.shares),
        "leakage": leakage.describe() if leakage else "The leakage check was not run.",
        "annotation_summary": (
            f"{len(docs)} annotated article(s) by {len(annotators)} pseudonymous annotator(s); "
            f"adjudication: {', '.join(f'{k} {v}' for k, v in sorted(rules.items())) or 'none'}. "
            f"{len(result.unannotated)} article(s) without a usable annotation were left out. "
            f"Automatic span fixes applied while merging: {fixes}."
        ),
        "agreement_table": agreement_markdown(
            summarize((DocAgreement.from_document(d) for d in docs), lowest=LOWEST),
            Counter(r.decided_by for d in docs for r in (*d.entities, *d.claims))),
        "baseline_table": baseline_table(scored, scores, bool(groups.get("train"))),
        "sources_table": _table(["source", "articles", "license", "may be redistributed"], [
            [src, sum(1 for d in docs if d.article.meta.source == src), lic,
             redistribution(lic)]
            for src, lic in sources
        ]),
        "release_notes": notes.split("\n", 1)[-1].strip() if notes else "No release notes.",
    }
    body = TEMPLATE.read_text(encoding="utf-8")
    for key, value in values.items():
        body = body.replace("{{" + key + "}}", value)
    extra = {
        "pretty_name": "claimwire",
        "license": "other",
        "license_name": "mixed: annotations Apache-2.0; article texts per source",
        "language": sorted({d.article.meta.language for d in docs}) or ["en"],
        "task_categories": ["token-classification", "text-classification"],
        "task_ids": ["named-entity-recognition", "fact-checking"],
        "size_categories": [size_category(len(docs))],
        "tags": ["claims", "stance", "news", "attribution"],
    }
    return yaml_header(result.version, result.tables, extra) + "\n" + body
