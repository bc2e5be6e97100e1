"""The build: read articles → read exports → merge → validate → split → write a release.

Each step is a function of the previous one's output; nothing reaches back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .articles import read_articles
from .card import render_card
from .croissant import croissant
from .diff import release_notes
from .errors import InvalidDataError, Problem
from .features import CONFIGS
from .labelstudio import TaskRecord, place, read_export
from .leakage import check_leakage
from .merge import MergeStats, merge
from .records import Article, Document
from .release import (
    SplitTable,
    Staging,
    json_bytes,
    release_dir,
    write_checksums,
    write_rows,
)
from .schemas import validate_instance
from .splits import SplitSpec
from .views import claim_rows, entity_rows, stance_rows

ROWS: dict[str, Callable[[Document], Iterable[dict]]] = {
    "documents": lambda d: [d.to_row()],
    "entities": entity_rows,
    "claims": claim_rows,
    "stance": stance_rows,
}


@dataclass
class BuildResult:
    path: Path
    version: str
    tables: list[SplitTable]
    articles: int
    unannotated: list[str]
    stats: MergeStats
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # split -> what -> n
    created: bool = True  # False: an identical release of this version was already there


def read_tasks(exports: Iterable[Path]) -> Iterator[TaskRecord]:
    for path in exports:
        yield from read_export(path)


def merge_all(
    articles: dict[str, Article], tasks: Iterable[TaskRecord], stats: MergeStats
) -> Iterator[Document]:
    """Documents for every task, checking each article is annotated in one task only."""
    seen: dict[str, TaskRecord] = {}
    for task in tasks:
        article = articles.get(task.article_id)
        if article is None:
            raise InvalidDataError(
                place(
                    Problem(
                        "annotation for an unknown article",
                        file=task.file,
                        task=task.id,
                        article=task.article_id,
                        pointer=task.base + "/data/article_id",
                        expected=f"one of the {len(articles)} article ids in articles/",
                        fix="add the article to articles/ or drop the task from the export",
                    )
                )
            )
        if task.article_id in seen:
            first = seen[task.article_id]
            raise InvalidDataError(
                place(
                    Problem(
                        f"article is annotated in two tasks (also {first.file}, task {first.id})",
                        file=task.file,
                        task=task.id,
                        article=task.article_id,
                        pointer=task.base,
                        fix="delete the duplicate task in Label Studio, or keep one export",
                    )
                )
            )
        seen[task.article_id] = task
        doc = merge(article, task, stats)
        if doc is not None:
            validate_instance("documents", doc.to_row(), file=task.file, task=task.id,
                              article=doc.id)
            yield doc


def build(
    articles_dir: Path,
    exports: list[Path],
    out: Path,
    version: str,
    splits: SplitSpec | None = None,
    progress: Callable[[Iterable[TaskRecord]], Iterable[TaskRecord]] = lambda it: it,
) -> BuildResult:
    """Build ``out/claimwire-<version>`` from ``articles_dir`` and Label Studio ``exports``."""
    splits = splits or SplitSpec()
    final = release_dir(out, version)
    articles = {a.id: a for a in read_articles(articles_dir)}
    stats = MergeStats()
    with Staging(final) as staging:
        by_split: dict[str, list[Document]] = {name: [] for name, _ in splits.shares}
        for doc in merge_all(articles, progress(read_tasks(exports)), stats):
            by_split[splits.assign(doc.article.group_key)].append(doc)
        if not any(by_split.values()):
            raise InvalidDataError(Problem(
                "no article has a usable annotation: every task is unannotated or skipped",
                file=str(exports[0]) if exports else None, pointer="",
                fix="annotate at least one task in Label Studio and pull again"))
        leakage = check_leakage((d.id, s, d.article.text) for s, ds in by_split.items() for d in ds)
        tables: list[SplitTable] = []
        counts: dict[str, Counter[str]] = {}
        for split, docs in by_split.items():
            docs.sort(key=lambda d: d.id)
            counts[split] = Counter(
                documents=len(docs),
                entities=sum(len(d.entities) for d in docs),
                claims=sum(len(d.claims) for d in docs),
            )
            for config in CONFIGS:
                table = write_rows(
                    staging.path, config, split, (r for d in docs for r in ROWS[config](d))
                )
                if table:
                    tables.append(table)
        annotated = {d.id for docs in by_split.values() for d in docs}
        result = BuildResult(
            path=final,
            version=version,
            tables=tables,
            articles=len(articles),
            unannotated=sorted(set(articles) - annotated),
            stats=stats,
            counts=counts,
        )
        all_docs = [d for split in by_split.values() for d in split]
        notes = release_notes(out, version, staging.path)
        (staging.path / "README.md").write_text(
            render_card(result, all_docs, splits, leakage=leakage, notes=notes), encoding="utf-8"
        )
        (staging.path / "croissant.json").write_bytes(json_bytes(croissant(result)))
        write_checksums(staging.path)
        result.created = staging.publish()
    return result
