"""Merged documents of a set of exports, without writing a release (agreement, review)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.adjudicate import Policy, Version
from ..core.merge import merge, task_versions
from ..errors import ClaimwireError, InvalidDataError, Problem
from ..io.articles import read_articles
from ..io.exports import RawTask, TaskRecord, in_source, parse_task, place
from ..io.snapshots import Selection
from ..io.task_articles import allows_task_articles, task_article
from ..records import Document

if TYPE_CHECKING:
    from ..contracts.scheme import Scheme


def merged(
    exports: list[Path],
    articles_dir: Path,
    adjudication: str | None,
    scheme: Scheme | None = None,
) -> Iterator[tuple[TaskRecord, Document, list[Version]]]:
    """(task, document, versions) for every task of ``exports`` with a usable annotation,
    read in canonical names when a ``scheme`` mapping is given. The tasks are those a build
    reads (:mod:`builder.io.snapshots`): the latest snapshot of each, one per article; a task
    whose article has no file is its own article when the mapping has ``defaults``
    (:mod:`builder.io.task_articles`)."""
    policy = Policy.parse(adjudication) if adjudication else Policy.from_env()
    articles = {x.id: x for x in read_articles(articles_dir)}
    for item in Selection(exports, scheme):
        if not isinstance(item, RawTask):
            raise item
        task = parse_task(item, scheme)
        article = articles.get(task.article_id)
        if article is None and scheme is not None and allows_task_articles(scheme):
            article = task_article(task, scheme)  # no file: the task is its own article
        if article is None:
            raise InvalidDataError(
                place(
                    Problem(
                        "annotation for an unknown article",
                        file=task.file,
                        task=task.id,
                        article=task.article_id,
                        pointer=task.pointer("/data/article_id"),
                        fix="pass --articles with the folder that holds this article",
                    )
                )
            )
        try:
            doc = merge(article, task, policy=policy)
        except ClaimwireError as exc:
            raise in_source(exc, task) from None
        if doc is not None:
            yield task, doc, task_versions(article, task)
