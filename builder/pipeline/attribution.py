"""``ATTRIBUTION.md`` of a release: the credit every article's licence asks for.

Read back from the release's own ``documents`` files, so it lists exactly the released articles,
in release order (split, then input order). Openly licensed texts (CC BY and the like) are
credited one by one, with their title, link and licence, and what was changed; texts whose
redistribution is not cleared are listed apart and say so.

What was changed is said per article: a text of ``articles/`` had its boilerplate lines
removed by the cleaning rules (:data:`CHANGES`); a text made from its Label Studio task
(:mod:`builder.io.task_articles`, ``Article.from_task``) is the task's text as imported
(:data:`CHANGES_FROM_TASK`). The release's columns do not say which is which: the build
passes the ids of the latter, so a release without any is written as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..release import reader

FILE = "ATTRIBUTION.md"
CHANGES = "boilerplate lines removed, annotations added"
CHANGES_FROM_TASK = "text as imported into Label Studio, annotations added"
_OPEN = ("cc0", "cc-by", "cc by", "public domain", "apache", "mit", "odc-by", "pddl")
_COLUMNS = ("id", "title", "url", "source", "license")


def is_open(license_text: str) -> bool:
    """Whether a licence text names a licence under which the text may be passed on."""
    text = license_text.casefold()
    return any(text.startswith(o) or f"({o}" in text for o in _OPEN)


def uncleared(articles_dir: Path | str) -> list[str]:
    """Ids of the articles in ``articles_dir`` (a folder or an fsspec URL of one) whose licence
    :func:`is_open` does not clear for redistribution, in id order (what ``claimwire build
    --exclude-uncleared`` leaves out)."""
    from ..io.articles import read_articles
    from ..io.storage import ArticleStore

    articles = read_articles(ArticleStore(articles_dir))
    return [a.id for a in articles if not is_open(a.meta.license)]


def _line(row: dict[str, str | None], from_tasks: frozenset[str]) -> str:
    title = (row["title"] or "").replace("\n", " ")
    where = f"<{row['url']}>" if row["url"] else "no public URL"
    changes = CHANGES_FROM_TASK if row["id"] in from_tasks else CHANGES
    return f"- {title} ({row['source']}), {where}. Licence: {row['license']}. Changes: {changes}."


def lines(release: Path, from_tasks: frozenset[str] = frozenset()) -> Iterator[str]:
    """The lines of ``ATTRIBUTION.md`` for the release folder ``release``; ``from_tasks``: the
    ids of the articles made from their Label Studio tasks."""
    rows = [row for _, row in reader.documents(release, columns=_COLUMNS)]
    open_rows = [r for r in rows if is_open(r["license"] or "")]
    closed = [r for r in rows if not is_open(r["license"] or "")]
    yield "# Attribution"
    yield ""
    yield (
        "The article texts of this release come from the sources below; the annotations are "
        "the claimwire maintainers' (Apache-2.0). Each text is the source's article with its "
        "boilerplate lines removed by the cleaning rules in `articles/sources.json` and "
        "character-offset annotations added; the words of the articles are not changed."
        + (
            ' Texts whose changes say "text as imported into Label Studio" exist only in the '
            "Label Studio project: each is the text of its task as it was imported, not cleaned."
            if any(r["id"] in from_tasks for r in rows)
            else ""
        )
    )
    yield ""
    yield f"## Openly licensed texts ({len(open_rows)})"
    yield ""
    yield from (_line(r, from_tasks) for r in open_rows)
    if closed:
        yield ""
        yield f"## Texts not cleared for redistribution ({len(closed)})"
        yield ""
        yield "Included as research samples; their rights are not cleared. Remove them before "
        yield "redistributing this release."
        yield ""
        yield from (_line(r, from_tasks) for r in closed)


def write_attribution(release: Path, from_tasks: frozenset[str] = frozenset()) -> None:
    """Write ``ATTRIBUTION.md`` into the (staged) release folder (``from_tasks``: see
    :func:`lines`)."""
    (release / FILE).write_text("\n".join(lines(release, from_tasks)) + "\n", encoding="utf-8")
