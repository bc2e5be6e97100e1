"""Review tasks: disagreements go back to Label Studio to be settled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..core.adjudicate import Version, voters
from ..errors import Problem, UsageError
from ..records import Document
from .client import call, existing_tasks


def review_task(
    doc: Document, task_id: int, versions: Sequence[Version], results: list[dict[str, Any]]
) -> dict[str, Any]:
    """Label Studio import JSON for one review: the task's data and, as predictions, every
    annotator's version (by pseudonym) and the adjudicated one.

    The reviewer opens the task, starts from a prediction, fixes it and submits it marked as
    ground truth; the next pull carries that annotation, and the ``ground_truth`` rule makes it
    the gold record in the next build. ``results`` are the adjudicated record's Label Studio
    results (:func:`builder.labelstudio.client.annotation_results`).
    """
    meta = doc.article.meta
    predictions = [
        {
            "model_version": f"adjudicated ({doc.annotation.adjudication})",
            "score": doc.annotation.agreement,
            "result": results,
        }
    ]
    for v in voters(versions):
        predictions.append(
            {"model_version": f"annotator {v.annotator}", "result": [dict(r) for r in v.result]}
        )
    return {
        "id": task_id,
        "data": {
            "text": doc.article.text,
            "article_id": doc.id,
            "text_sha256": doc.text_sha256,
            "title": meta.title,
            "source": meta.source,
        },
        "predictions": predictions,
    }


def push_review(client: Any, project_id: int, review: Sequence[dict[str, Any]]) -> int:
    """Attach each review's predictions to the project's existing task for that article (never
    a second task: the build refuses an article annotated in two tasks). Returns how many
    predictions were created."""

    have = existing_tasks(client, project_id)
    created = 0
    for task in review:
        article = task["data"]["article_id"]
        if article not in have:
            raise UsageError(
                Problem(
                    "no task for this article in the Label Studio project",
                    article=article,
                    fix="push the review to the project the export was pulled from",
                )
            )
        for p in task["predictions"]:
            extra = {"score": p["score"]} if p.get("score") is not None else {}
            call(
                "create a prediction",
                client.predictions.create,
                task=have[article][0],
                result=p["result"],
                model_version=p["model_version"],
                **extra,
            )
            created += 1
    return created
