"""Articles made from their tasks: a team's project whose texts have no file in ``articles/``.

With a scheme mapping that has a ``defaults`` object (``schema/scheme.schema.json``), a task
whose article id names no file in the articles folder is its own article. Its text is the task's
text as imported, not cleaned again: it is what the annotators saw. Title, url, published and
source come from the task data keys the mapping names (:attr:`TaskRecord.meta`), else source
from the defaults; license and language come from the defaults; a task without a title is titled
by its article id. The metadata is held to the contract of ``articles/<id>.json``
(``schema/article.schema.json``), each problem pointing at the task data key or the mapping
entry it came from. A licence is required: the card and ``ATTRIBUTION.md`` credit every text
under one.

Without a mapping, or with one without ``defaults``, such a task stays an error
(:func:`builder.io.exports.unknown_article`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..contracts.schemas import iter_problems
from ..errors import InvalidDataError, Problem
from ..records import Article, ArticleMeta
from .articles import is_safe_article_id
from .exports import place

if TYPE_CHECKING:
    from ..contracts.scheme import Scheme
    from .exports import TaskRecord

LICENSE_EXAMPLE = '"CC BY 4.0"'


def allows_task_articles(scheme: Scheme | None) -> bool:
    """Whether a task whose article has no file is its own article (the mapping's defaults)."""
    return scheme is not None and scheme.defaults is not None


def task_article(task: TaskRecord, scheme: Scheme) -> Article:
    """The article made from ``task`` (see the module docstring); :class:`InvalidDataError`
    for an unsafe article id, a missing licence, source or language, or metadata that breaks
    the article contract."""
    defaults = scheme.defaults or {}
    mapping = scheme.file or "the scheme mapping"
    if not is_safe_article_id(task.article_id):
        raise InvalidDataError(
            place(
                Problem(
                    "unsafe article id",
                    file=task.file,
                    task=task.id,
                    pointer=task.pointer("/data/article_id"),
                    expected="letters, digits, '_', '-', '.', not starting or ending with '.', "
                    "no '..', not a reserved device name (CON, NUL, COM1...)",
                    found=repr(task.article_id),
                    fix="give the task a plain article id such as 001_3f2a9c in Label Studio",
                )
            )
        )
    data = dict(task.meta)
    for key in ("license", "source", "language"):
        if key in defaults or (key == "source" and "source" in data):
            continue
        what = "licence" if key == "license" else key
        raise InvalidDataError(
            Problem(
                f"no {what} for the text of task {task.id} in {task.file}: its article has no "
                f"file in articles/, and the scheme mapping sets no /defaults/{key}",
                file=mapping,
                task=task.id,
                article=task.article_id,
                pointer=f"/defaults/{key}",
                expected=f'a "{key}" under "defaults"'
                + (f", such as {LICENSE_EXAMPLE}" if key == "license" else ""),
                fix=f'set "{key}" under "defaults" in {mapping}'
                + (
                    " to the licence of the texts imported into the project (the card and "
                    "ATTRIBUTION.md credit each text under it)"
                    if key == "license"
                    else ""
                )
                + ", or add the article to articles/",
            )
        )
    meta: dict[str, Any] = {
        "id": task.article_id,
        "source": data.get("source", defaults.get("source")),
        "title": data.get("title", task.article_id),
        "language": defaults["language"],
        "license": defaults["license"],
        "url": data.get("url"),
        "published": data.get("published"),
    }
    problems = [_where(p, task, data, mapping) for p in iter_problems("article", meta)]
    if problems:
        raise InvalidDataError(problems)
    return Article(
        id=task.article_id,
        text=task.text,
        meta=ArticleMeta(
            source=meta["source"],
            title=meta["title"],
            language=meta["language"],
            license=meta["license"],
            url=meta["url"],
            published=meta["published"],
        ),
        path=task.file,
        from_task=True,
    )


def _where(p: Problem, task: TaskRecord, data: dict[str, Any], mapping: str) -> Problem:
    """``p``, a problem of the metadata made for ``task``, at the task data key or the mapping
    entry the value came from."""
    key = (p.pointer or "").lstrip("/").split("/", 1)[0]
    if key in data:
        return place(
            Problem(
                f"task data {key!r} cannot be the article's {key}: {p.message}",
                file=task.file,
                task=task.id,
                article=task.article_id,
                pointer=task.pointer(f"/data/{key}"),
                expected=p.expected,
                found=p.found,
                fix=f"correct {key!r} in the task data, or map another key (or null) under "
                f'"data" in {mapping}',
            )
        )
    return Problem(
        f"the scheme mapping's default {key} cannot be an article's {key}: {p.message}",
        file=mapping,
        task=task.id,
        article=task.article_id,
        pointer=f"/defaults/{key}",
        expected=p.expected,
        found=p.found,
        fix=f'correct "{key}" under "defaults" in {mapping}',
    )
