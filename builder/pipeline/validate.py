"""``claimwire validate``: every problem in a set of exports and articles, not just the first."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.merge import merge
from ..errors import ClaimwireError, Problem
from ..io.articles import RULES_FILE, load_rules, read_article
from ..io.exports import export_files, in_source, read_export, unknown_article
from ..io.task_articles import allows_task_articles, task_article
from ..records import Article

if TYPE_CHECKING:
    from ..contracts.scheme import Scheme


def _articles(folder: Path, problems: list[Problem]) -> dict[str, Article]:
    out: dict[str, Article] = {}
    try:
        rules = load_rules(folder / RULES_FILE)
    except ClaimwireError as exc:
        problems.extend(exc.problems)
        return out
    for meta in sorted(folder.glob("*.json")):
        if meta.name == RULES_FILE:
            continue
        try:
            article = read_article(meta, rules)
            out[article.id] = article
        except ClaimwireError as exc:
            problems.extend(exc.problems)
    return out


def validate_paths(
    paths: list[Path],
    articles_dir: Path | None,
    scheme: Scheme | None = None,
    dropped: Counter[tuple[str, str]] | None = None,
) -> tuple[list[Problem], int]:
    """Problems found and the number of tasks and articles checked.

    With a ``scheme`` mapping the exports are read in canonical names (problems still point
    into the files as written); the regions it drops are added to ``dropped`` per (control,
    label). When it has ``defaults``, a task whose article has no file is checked as its own
    article (:mod:`builder.io.task_articles`), as the build reads it."""
    problems: list[Problem] = []
    articles: dict[str, Article] = {}
    checked = 0
    targets: list[Iterable[Path]] = []  # export files, listed when read
    for path in paths:
        if path.is_dir() and (path / RULES_FILE).is_file():
            articles_dir = path
        elif not path.exists():
            problems.append(Problem("no such file or folder", file=str(path)))
        else:
            targets.append(export_files(path))
    if articles_dir is not None and (articles_dir / RULES_FILE).is_file():
        articles = _articles(articles_dir, problems)
        checked += len(articles)
    for file in itertools.chain.from_iterable(targets):
        try:
            for task in read_export(file, scheme):
                checked += 1
                if dropped is not None:
                    for control, label, n in task.dropped:
                        dropped[control, label] += n
                article = articles.get(task.article_id)
                if article is None and scheme is not None and allows_task_articles(scheme):
                    try:  # no file: the task is its own article (builder.io.task_articles)
                        article = task_article(task, scheme)
                    except ClaimwireError as exc:
                        problems.extend(exc.problems)
                        continue
                if article is not None:
                    try:
                        merge(article, task)
                    except ClaimwireError as exc:
                        problems.extend(in_source(exc, task).problems)
                elif articles:
                    problems.append(unknown_article(task, len(articles), scheme))
        except ClaimwireError as exc:
            problems.extend(exc.problems)
    return problems, checked
