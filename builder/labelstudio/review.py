"""Review tasks: disagreements, and units set aside by the quarantine, go back to Label Studio
to be settled."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..core.adjudicate import Version, voters
from ..core.quarantine import Quarantined
from ..errors import ClaimwireError, InvalidDataError, Problem, UsageError
from ..io.exports import RawTask, raw_tasks
from ..records import Document
from .client import call, existing_tasks

if TYPE_CHECKING:
    from ..contracts.scheme import Reverse, Scheme

QUARANTINE_MODEL = "quarantine: {rule}"  # the model_version of a quarantined unit's prediction


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


def push_review(
    client: Any, project_id: int, review: Sequence[dict[str, Any]], article_key: str = "article_id"
) -> int:
    """Attach each review's predictions to the project's existing task for that article (never
    a second task: the build refuses an article annotated in two tasks). ``article_key``: the
    data key of the article id in the review tasks and the project's (a scheme mapping's).
    Returns how many predictions were created."""

    have = existing_tasks(client, project_id, article_key)
    created = 0
    for task in review:
        article = task["data"][article_key]
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


def quarantine_review(
    units: Sequence[Quarantined], scheme: Scheme | None = None, reverse: Reverse | None = None
) -> list[dict[str, Any]]:
    """Label Studio import JSON for quarantined units (``quarantine.jsonl``): one task for each
    task the units came from, as exported (its id and data), with each unit as a prediction
    whose ``model_version`` names the rule that set it aside (:data:`QUARANTINE_MODEL`), in the
    order of ``units``.

    Each task is read again from the export the unit names (its ``file``, as the build was
    given it). A unit's results are those of the export as written: read through a ``scheme``
    mapping, the project's own names (the quarantine holds them in claimwire's), so that the
    predictions fit the project's labeling config; a result the export no longer holds as the
    build read it (a span re-anchored on the cleaned article) is given as the quarantine holds
    it, translated back into the project's names (``reverse``, the project's :meth:`Scheme.reverse`;
    without it, the mapping's first names), with the same error as ``ls push`` for a name
    with no place. A relation is given with the regions it joins, for a prediction to show it.
    The reviewer starts from the prediction, fixes the unit and submits the annotation again."""
    if reverse is None and scheme is not None and not scheme.is_identity:
        reverse = scheme.reverse()
    missing: dict[tuple[str, str], int] = {}
    order: dict[tuple[str, int], list[Quarantined]] = {}
    for unit in units:
        if unit.task is None:
            raise InvalidDataError(
                Problem(
                    "a quarantined unit names no task",
                    file=unit.file,
                    article=unit.article,
                    pointer=unit.pointer,
                    fix="build again with --on-invalid quarantine and review its quarantine.jsonl",
                )
            )
        order.setdefault((unit.file, unit.task), []).append(unit)
    found = _exported_tasks(order)
    review = []
    for (file, task_id), held in order.items():
        raw, base = found[(file, task_id)]
        exported = _annotations(raw)
        translated = exported
        kept: tuple[tuple[int, ...] | None, ...] = ()
        if scheme is not None and not scheme.is_identity:
            t = scheme.translate(raw, base)
            translated = _annotations(t.task)
            kept = t.origin.results if t.origin is not None else ()
        ids = [a.get("id") if isinstance(a, dict) else None for a in raw.get("annotations") or ()]
        predictions = [
            {
                "model_version": QUARANTINE_MODEL.format(rule=unit.rule),
                "result": _as_exported(
                    unit,
                    ids.index(unit.annotation) if unit.annotation in ids else None,
                    exported,
                    translated,
                    kept,
                    reverse,
                    missing,
                ),
            }
            for unit in held
            if unit.results
        ]
        review.append({"id": task_id, "data": raw["data"], "predictions": predictions})
    if reverse is not None:
        reverse.refuse(missing, "nothing was written or pushed")
    return review


def _annotations(task: dict[str, Any]) -> list[list[Any]]:
    """The result lists of a task's annotations."""
    annotations = task.get("annotations")
    if not isinstance(annotations, list):
        return []
    return [
        list(a["result"]) if isinstance(a, dict) and isinstance(a.get("result"), list) else []
        for a in annotations
    ]


def _as_exported(
    unit: Quarantined,
    annotation: int | None,
    exported: list[list[Any]],
    translated: list[list[Any]],
    kept: tuple[tuple[int, ...] | None, ...],
    reverse: Reverse | None = None,
    missing: dict[tuple[str, str], int] | None = None,
) -> list[dict[str, Any]]:
    """``unit``'s results as the export holds them, with the regions its relations join;
    ``annotation``: the index of the unit's annotation in the task, when known (searched
    first), else the annotation its first result is found in. A result the export does not
    hold is given as the unit holds it, through ``reverse`` (names with no place counted in
    ``missing``)."""
    out: list[dict[str, Any]] = []
    taken: set[tuple[int, int]] = set()  # (annotation, result) of the exported results given
    for r in unit.results:
        place = _find(r, translated, annotation, taken, kept)
        if place is None:
            if reverse is None:
                out.append(dict(r))
            else:
                out += reverse.results([dict(r)], missing if missing is not None else {})
            continue
        annotation, k = place
        taken.add(place)
        out.append(dict(exported[annotation][k]))
    if annotation is None or annotation >= len(exported):
        return out
    regions = {r.get("id") for r in out if r.get("type") != "relation"}
    ends: list[dict[str, Any]] = []
    for r in out:
        if r.get("type") != "relation":
            continue
        for end in (r.get("from_id"), r.get("to_id")):
            if end in regions:
                continue
            region = next(
                (
                    x
                    for x in exported[annotation]
                    if isinstance(x, dict) and x.get("id") == end and "labels" in str(x.get("type"))
                ),
                None,
            )
            if region is not None:
                ends.append(dict(region))
                regions.add(end)
    return ends + out


def _find(
    r: dict[str, Any],
    translated: list[list[Any]],
    annotation: int | None,
    taken: set[tuple[int, int]],
    kept: tuple[tuple[int, ...] | None, ...],
) -> tuple[int, int] | None:
    """(annotation index, result index) in the export of ``r``, a result as the build read it
    and not ``taken`` yet; the annotation of the unit's results found so far is searched
    first. ``kept``: the exported index of each translated result (None: the same)."""
    order = list(range(len(translated)))
    if annotation is not None:
        order = [annotation, *(i for i in order if i != annotation)]
    for i in order:
        indices = kept[i] if i < len(kept) else None
        for j, t in enumerate(translated[i]):
            k = indices[j] if indices is not None and j < len(indices) else j
            if t == r and (i, k) not in taken:
                return i, k
    return None


def _exported_tasks(
    wanted: dict[tuple[str, int], Any],
) -> dict[tuple[str, int], tuple[dict[str, Any], str]]:
    """(parsed task, its JSON pointer base) of each (file, task id) of ``wanted``, read from
    its export; :class:`InvalidDataError` for an export that cannot be read or that no longer
    holds the task."""
    found: dict[tuple[str, int], tuple[dict[str, Any], str]] = {}
    for file in dict.fromkeys(f for f, _ in wanted):
        fix = (
            "run claimwire review from the folder the build ran in, with the exports it read "
            "(the units name their export as the build was given it)"
        )
        if not Path(file).is_file():
            raise InvalidDataError(
                Problem("the export a quarantined unit came from is not here", file=file, fix=fix)
            )
        ids = {t for f, t in wanted if f == file}
        for item in raw_tasks(Path(file)):
            if isinstance(item, ClaimwireError):
                raise item
            assert isinstance(item, RawTask)
            try:
                task = orjson.loads(item.data)
            except orjson.JSONDecodeError:
                continue  # a damaged task is not one the build read
            if not isinstance(task, dict) or task.get("id") not in ids:
                continue
            key = (file, task["id"])
            if key not in found and isinstance(task.get("data"), dict):
                if "completions" in task and "annotations" not in task:  # legacy pre-1.0
                    task = {**task, "annotations": task["completions"]}
                found[key] = (task, f"/{item.index}" if item.index >= 0 else "")
        for f, t in wanted:
            if f == file and (f, t) not in found:
                raise InvalidDataError(
                    Problem(
                        "the task a quarantined unit came from is not in its export",
                        file=file,
                        task=t,
                        fix="the export changed since the build: build again with "
                        "--on-invalid quarantine and review the new quarantine.jsonl",
                    )
                )
    return found
