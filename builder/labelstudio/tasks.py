"""Label Studio import tasks for articles, with pre-annotations from a release or a span spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..contracts.schemas import validate_instance
from ..errors import Problem, UsageError
from ..io.articles import read_articles
from ..records import Article
from ..release.reader import read_release_rows
from .client import annotation_results, task_for
from .spec import load_spec, resolve

RULES = "rules"  # as --predictions: the rules baseline, not a path


def _articles(folder: Path, wanted: list[str]) -> list[Article]:
    articles = {a.id: a for a in read_articles(folder)}
    ids = [Path(w).stem if w.endswith((".json", ".txt")) else w for w in wanted] or sorted(articles)
    missing = [i for i in ids if i not in articles]
    if missing:
        raise UsageError(
            Problem(
                f"unknown article id(s): {', '.join(missing)}",
                file=str(folder),
                expected=f"ids of files in {folder}",
            )
        )
    return [articles[i] for i in ids]


def _predictions(source: Path | None, articles: list[Article]) -> dict[str, list[dict[str, Any]]]:
    """article id -> predicted results, from a release folder or a JSON span-spec file."""
    if source is None:
        return {}
    if source.is_dir():
        return {row["id"]: annotation_results(row) for row in read_release_rows(source)}
    data = load_spec(source)
    specs = data if isinstance(data, list) else [data]
    texts = {a.id: a.text for a in articles}
    out = {}
    for i, spec in enumerate(specs):
        validate_instance(
            "spec", spec, base=f"/{i}" if isinstance(data, list) else "", file=str(source)
        )
        article_id = spec.get("article_id")
        if article_id not in texts:
            raise UsageError(
                Problem(
                    "predictions name an article that is not being exported",
                    file=str(source),
                    article=str(article_id),
                    pointer="/article_id",
                )
            )
        out[article_id] = resolve(spec, texts[article_id], file=str(source))
    return out


def make_tasks(
    articles_dir: Path, wanted: list[str], predictions: Path | str | None
) -> list[dict[str, Any]]:
    """One import task per article (all of ``articles_dir`` when ``wanted`` is empty).
    ``predictions``: a release folder or span-spec file, or the word ``rules`` for the rules
    baseline's predictions (:mod:`builder.labelstudio.preannotate`)."""
    articles = _articles(articles_dir, wanted)
    if predictions == RULES:
        from .preannotate import MODEL_VERSION, rules_results

        preds = {a.id: rules_results(a) for a in articles}
        return [task_for(a, preds[a.id], model_version=MODEL_VERSION) for a in articles]
    source = Path(predictions) if predictions is not None else None
    preds = _predictions(source, articles)
    version = f"claimwire-{source.name}" if source else "claimwire"
    return [task_for(a, preds.get(a.id), model_version=version) for a in articles]
