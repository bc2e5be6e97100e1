"""Merge a cleaned article with its Label Studio task into a release :class:`Document`.

Checks what Label Studio does not: span offsets against the text, per-region choices attached to
an existing region of the right kind, relation ends, one claimer per claim — in every usable
annotation, not only the one that wins. Several annotations become one gold record by the
adjudication policy of :mod:`builder.adjudicate` (``CLAIMWIRE_ADJUDICATION``, default
ground truth, then region-level majority vote, then most recent), and the agreement data of
:mod:`builder.agreement` is attached to the document.

Cancelled (skipped) annotations are ignored but still count towards nothing.

A task whose text differs from the cleaned article is re-anchored first (:mod:`.anchor`). With a
``quarantine`` list (``claimwire build --on-invalid quarantine``), a problem no longer refuses the
task: the smallest inconsistent unit is set aside (:mod:`.quarantine`) and the rest is merged.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import Any

from ..contracts.labels import CHOICE_TARGET
from ..errors import InvalidDataError, Problem
from ..io.exports import TaskRecord, place
from ..quality.agreement import document_agreement, span_counts, unit_labels
from ..records import (
    AnnotationInfo,
    Article,
    Claim,
    Document,
    Entity,
    SpanCount,
    UnitLabel,
    new_claim,
    new_entity,
)
from .adjudicate import Policy, Version, adjudicate, recency, voters
from .anchor import reanchor
from .offsets import resolve_span
from .quarantine import Quarantined, region_unit, result_index, unit

SALT_ENV = "CLAIMWIRE_PSEUDONYM_SALT"
DEFAULT_SALT = "claimwire"


def pseudonym(annotator: Any, salt: str | None = None) -> str:
    """A stable pseudonymous id for a Label Studio user (id, email, or user object).

    Never the raw id or email: a salted hash. Set ``CLAIMWIRE_PSEUDONYM_SALT`` to make ids
    unlinkable across projects that share a Label Studio server.
    """
    if isinstance(annotator, dict):
        annotator = annotator.get("id", annotator.get("email"))
    key = str(annotator).strip().lower()
    salt = salt if salt is not None else os.environ.get(SALT_ENV, DEFAULT_SALT)
    found = _pseudonyms.get((salt, key))
    if found is None:
        if len(_pseudonyms) >= 4096:
            _pseudonyms.clear()
        found = _pseudonyms[(salt, key)] = (
            "ann-" + hashlib.sha256(f"{salt}\x00{key}".encode()).hexdigest()[:12]
        )
    return found


_pseudonyms: dict[tuple[str, str], str] = {}  # (salt, key) -> pseudonym: a few annotators


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class MergeStats:
    """Non-fatal fixes and skips, summed over a build for the summary."""

    fixes: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    reanchored: int = 0  # tasks whose text differed from the article and were re-anchored
    carried: int = 0  # spans carried over onto the article's text

    def add(self, fix: str) -> None:
        self.fixes[fix] = self.fixes.get(fix, 0) + 1

    def update(self, other: MergeStats) -> None:
        for fix, n in other.fixes.items():
            self.fixes[fix] = self.fixes.get(fix, 0) + n
        self.cancelled += other.cancelled
        self.reanchored += other.reanchored
        self.carried += other.carried


def versions(
    text: str,
    task: TaskRecord,
    where: dict[str, Any],
    stats: MergeStats,
    quarantine: list[Quarantined] | None = None,
) -> list[Version]:
    """Every usable annotation of ``task``, parsed and checked; problems of all are collected,
    or, with a ``quarantine`` list, the inconsistent units are set aside into it."""
    out: list[Version] = []
    problems: list[Problem] = []
    for i, a in enumerate(task.annotations):
        if a.get("was_cancelled", False):
            continue
        base = f"{task.base}/annotations/{i}/result"
        results: list[dict[str, Any] | None] = list(a["result"])
        try:
            if quarantine is None:
                entities, claims = _regions(text, results, base, where, stats)
            else:
                entities, claims = _consistent(
                    text, results, base, where, stats, task, a, quarantine
                )
        except InvalidDataError as exc:
            problems.extend(exc.problems)
            continue
        out.append(
            Version(
                i,
                pseudonym(a.get("completed_by")),
                recency(a),
                bool(a.get("ground_truth")),
                entities,
                claims,
                tuple(r for r in results if r is not None),
            )
        )
    if problems:
        raise InvalidDataError(problems)
    return out


def _consistent(
    text: str,
    results: list[dict[str, Any] | None],
    base: str,
    where: dict[str, Any],
    stats: MergeStats,
    task: TaskRecord,
    annotation: dict[str, Any],
    quarantine: list[Quarantined],
) -> tuple[tuple[Entity, ...], tuple[Claim, ...]]:
    """The regions of ``results`` after setting aside (``None`` in ``results``) every unit that
    makes them inconsistent, until the checks pass; each unit set aside goes to ``quarantine``."""
    who = pseudonym(annotation.get("completed_by"))
    while True:
        attempt = MergeStats()  # a retry must not count a span's fixes twice
        try:
            found = _regions(text, results, base, where, attempt)
        except InvalidDataError as exc:
            taken: set[int] = set()
            for p in exc.problems:
                j = result_index(p.pointer, base)
                indices = (
                    [k for k in unit(results, j, p.message) if k not in taken]
                    if (j is not None and j < len(results))
                    else [k for k, r in enumerate(results) if r is not None and k not in taken]
                )
                if not indices:
                    continue
                taken.update(indices)
                quarantine.append(_record(p, task, annotation, who, [results[k] for k in indices]))
            if not taken:  # nothing left to set aside: cannot happen, but never loop forever
                raise
            for k in taken:
                results[k] = None
            continue
        stats.update(attempt)
        return found


def _record(
    p: Problem,
    task: TaskRecord,
    annotation: dict[str, Any],
    annotator: str | None,
    results: list[dict[str, Any] | None],
) -> Quarantined:
    return Quarantined(
        file=p.file or task.file,
        line=p.line,
        column=p.column,
        task=task.id,
        article=task.article_id,
        annotation=annotation.get("id") if isinstance(annotation.get("id"), int) else None,
        annotator=annotator,
        pointer=p.pointer,
        rule=p.message,
        fix=p.fix,
        results=tuple(r for r in results if r is not None),
    )


def merge(
    article: Article,
    task: TaskRecord,
    stats: MergeStats | None = None,
    policy: Policy | None = None,
    quarantine: list[Quarantined] | None = None,
) -> Document | None:
    """The release document for ``article``, or None if every annotation was skipped.

    ``policy`` defaults to ``CLAIMWIRE_ADJUDICATION`` or the default policy. With a
    ``quarantine`` list, inconsistent units are set aside into it instead of failing the task.
    """
    stats = stats if stats is not None else MergeStats()
    digest = text_sha256(article.text)
    usable = task_versions(article, task, stats, quarantine)
    if not usable:
        return None
    gold = adjudicate(usable, policy or Policy.from_env())
    annotators = sorted({v.annotator for v in usable})
    independent = voters(usable)
    spans: list[SpanCount] = []
    labels: list[UnitLabel] = []
    if len(independent) >= 2:
        for a, b in itertools.combinations(sorted(independent, key=lambda v: v.annotator), 2):
            spans += span_counts(
                a.annotator, (a.entities, a.claims), b.annotator, (b.entities, b.claims)
            )
        for v in sorted(independent, key=lambda v: v.annotator):
            labels += unit_labels(v.annotator, (v.entities, v.claims), gold.entities, gold.claims)
        labels.sort(key=lambda u: (u.unit, u.attribute, u.annotator))
    return Document(
        article=article,
        entities=gold.entities,
        claims=gold.claims,
        annotation=AnnotationInfo(
            n_annotators=len(annotators),
            annotator_ids=tuple(annotators),
            adjudication=gold.rule,
            agreement=document_agreement(spans),
            spans=tuple(spans),
            labels=tuple(labels),
        ),
        text_sha256=digest,
    )


def task_versions(
    article: Article,
    task: TaskRecord,
    stats: MergeStats | None = None,
    quarantine: list[Quarantined] | None = None,
) -> list[Version]:
    """The usable annotations of ``task`` and of the tasks pooled with it (another task of the
    same article: :mod:`builder.io.snapshots`), each task re-anchored on the article first when
    its text differs, so that all of them are on the article's text and adjudicate together."""
    stats = stats if stats is not None else MergeStats()
    digest = text_sha256(article.text)
    usable: list[Version] = []
    for part in (task, *task.pooled):
        where: dict[str, Any] = {"file": part.file, "task": part.id, "article": article.id}
        if part.text != article.text:
            part = _reanchored(article, part, where, stats, quarantine)
        elif part.text_sha256 is not None and part.text_sha256 != digest:
            raise InvalidDataError(
                place(
                    Problem(
                        "text_sha256 does not match the task text",
                        pointer=part.base + "/data/text_sha256",
                        expected=digest,
                        found=part.text_sha256,
                        fix="regenerate the tasks with `claimwire ls tasks`",
                        **where,
                    )
                )
            )
        usable += versions(article.text, part, where, stats, quarantine)
        stats.cancelled += sum(1 for a in part.annotations if a.get("was_cancelled", False))
    return usable


def _regions(
    text: str,
    results: list[dict[str, Any] | None],
    base: str,
    where: dict[str, Any],
    stats: MergeStats,
) -> tuple[tuple[Entity, ...], tuple[Claim, ...]]:
    problems: list[Problem] = []

    def bad(message: str, j: int, suffix: str = "", **detail: Any) -> None:
        problems.append(place(Problem(message, pointer=f"{base}/{j}{suffix}", **where, **detail)))

    # Spans first (choices and relations refer to them); choices and relations are set aside in
    # the same pass and checked after, in that order, so problems are listed as before.
    n = len(text)
    # region id -> (kind, start, end, text, label, index of its result)
    spans: dict[str, tuple[str, int, int, str, str, int]] = {}
    later: list[tuple[int, dict[str, Any]]] = []
    set_aside = later.append
    for j, r in enumerate(results):
        if r is None:  # set aside by the quarantine
            continue
        if r["type"] != "labels":
            set_aside((j, r))
            continue
        rid = r["id"]
        if rid in spans:
            bad(
                "two regions share this id",
                j,
                "/id",
                found=repr(rid),
                fix="export again; if it persists, delete one of the regions in Label Studio",
            )
            continue
        v = r["value"]
        s, e, recorded = v["start"], v["end"], v["text"]
        # The common case, decided without slicing the text: text[s:e] == recorded (startswith
        # at s >= 0 also keeps e within the text) and no whitespace at either end to trim.
        if (
            s >= 0
            and e - s == len(recorded)
            and text.startswith(recorded, s)
            and len(recorded.strip()) == e - s
        ):
            spans[rid] = (r["from_name"], s, e, recorded, v["labels"][0], j)
            continue
        resolved = resolve_span(text, s, e, recorded)
        if resolved is None:
            actual = text[s:e] if 0 <= s <= e <= n else None
            bad(
                "span offsets do not match the span text",
                j,
                "/value",
                expected=f"text[{s}:{e}] == {recorded!r}",
                found=repr(actual)
                if actual is not None
                else f"offsets outside the text (length {n}) or reversed",
                fix="re-select the span in Label Studio; offsets are code points into the "
                "task text",
            )
            # Keep the region so its choices and relations are still checked (no cascade).
            spans[rid] = (r["from_name"], s, e, recorded, v["labels"][0], j)
            continue
        for fix in resolved.fixes:
            stats.add(fix)
        spans[rid] = (
            r["from_name"],
            resolved.start,
            resolved.end,
            resolved.text,
            v["labels"][0],
            j,
        )

    chosen: dict[str, dict[str, str]] = {control: {} for control in CHOICE_TARGET}
    relations: list[tuple[int, dict[str, Any]]] = []
    for j, r in later:
        if r["type"] != "choices":
            if r["type"] == "relation":
                relations.append((j, r))
            continue
        rid = r["id"]
        region = spans.get(rid)
        control = r["from_name"]
        wanted = CHOICE_TARGET[control]
        if region is None:
            bad(
                f"per-region choice {control!r} attaches to no region",
                j,
                "/id",
                found=repr(rid),
                expected=f"the id of a {wanted} region",
                fix="delete the orphan choice in Label Studio (select the region, then choose)",
            )
        elif region[0] != wanted:
            bad(
                f"{control!r} belongs on a {wanted} region, not on {region[0]!r}",
                j,
                "/from_name",
                fix=f"remove the {control} choice from that region",
            )
        else:
            chosen[control][rid] = r["value"]["choices"][0]

    claimer: dict[str, str] = {}
    targets: dict[str, list[str]] = {}
    for j, r in relations:
        a, b = spans.get(r["from_id"]), spans.get(r["to_id"])
        if a is None or b is None:
            missing = r["from_id"] if a is None else r["to_id"]
            bad(
                "relation points to a region that does not exist",
                j,
                "/from_id" if a is None else "/to_id",
                found=repr(missing),
                fix="delete the relation in Label Studio and draw it again",
            )
            continue
        claim_id, entity_id = r["from_id"], r["to_id"]
        if a[0] == "entity" and b[0] == "claim":
            claim_id, entity_id = entity_id, claim_id
        elif not (a[0] == "claim" and b[0] == "entity"):
            bad(
                "a relation links a claim and an entity",
                j,
                expected="claim -> entity",
                found=f"{a[0]} -> {b[0]}",
                fix="redraw it from the claim to the entity",
            )
            continue
        if r["labels"][0] == "claimer":
            if claim_id in claimer and claimer[claim_id] != entity_id:
                bad(
                    "a claim has more than one claimer",
                    j,
                    expected="one claimer relation",
                    fix="keep the relation to the entity that asserts the claim",
                )
            claimer[claim_id] = entity_id
        elif entity_id not in targets.setdefault(claim_id, []):
            targets[claim_id].append(entity_id)

    portrayals, stances, attributions = (
        chosen["portrayal"],
        chosen["stance"],
        chosen["attribution"],
    )
    entities: list[Entity] = []
    claims: list[Claim] = []
    for rid, (kind, s, e, span_text, label, j) in spans.items():
        if kind == "entity":
            entities.append(new_entity(rid, s, e, span_text, label, portrayals.get(rid)))
            continue
        stance, attribution = stances.get(rid), attributions.get(rid)
        if stance is None:
            bad(
                "claim has no stance",
                j,
                expected="a per-region stance choice",
                fix="select the claim in Label Studio and pick its stance",
            )
        if attribution is None:
            bad(
                "claim has no attribution",
                j,
                expected="a per-region attribution choice",
                fix="select the claim in Label Studio and pick its attribution",
            )
        if attribution == "REPORTED" and rid not in claimer:
            bad(
                "a REPORTED claim needs a claimer relation",
                j,
                fix="draw a 'claimer' relation from the claim to the entity that asserts it",
            )
        if attribution == "AUTHOR" and rid in claimer:
            bad(
                "an AUTHOR claim has a claimer relation",
                j,
                fix="either mark it REPORTED or delete the claimer relation",
            )
        if stance and attribution:
            claims.append(
                new_claim(
                    rid,
                    s,
                    e,
                    span_text,
                    claimer.get(rid),
                    tuple(targets.get(rid, ())),
                    attribution,
                    stance,
                )
            )
    if problems:
        raise InvalidDataError(problems)
    entities.sort(key=_ORDER)
    claims.sort(key=_ORDER)
    return tuple(entities), tuple(claims)


_ORDER = attrgetter("start", "end", "id")


ANCHOR_SHARE = (
    0.5  # below this share of the article's characters aligned, a task is not re-anchored
)


def _reanchored(
    article: Article,
    task: TaskRecord,
    where: dict[str, Any],
    stats: MergeStats,
    quarantine: list[Quarantined] | None,
) -> TaskRecord:
    """``task`` moved onto the article's text; spans that cannot be carried are errors, or set
    aside into ``quarantine``. A task whose text is not the article's at all is refused."""
    anchored = reanchor(task, article.text, ANCHOR_SHARE)
    if anchored is None:
        raise InvalidDataError(place(_text_mismatch(article, task, where)))
    stats.reanchored += 1
    stats.carried += anchored.carried
    if not anchored.lost:
        return anchored.task
    problems = [
        place(
            Problem(
                "a span cannot be carried over to the cleaned article: " + lost.reason,
                pointer=f"{task.base}/annotations/{lost.annotation}/result/{lost.result}/value",
                fix="re-select the span on the cleaned article in Label Studio (push the task "
                "again with `claimwire ls push`), or restore the article",
                **where,
            )
        )
        for lost in anchored.lost
    ]
    if quarantine is None:
        raise InvalidDataError(problems)
    annotations = [list(a.get("result", [])) for a in anchored.task.annotations]
    for lost, p in zip(anchored.lost, problems, strict=True):
        results: list[dict[str, Any] | None] = annotations[lost.annotation]
        original = list(task.annotations[lost.annotation].get("result", []))
        indices = [k for k in region_unit(results, lost.region) if results[k] is not None]
        a = task.annotations[lost.annotation]
        quarantine.append(
            _record(p, task, a, pseudonym(a.get("completed_by")), [original[k] for k in indices])
        )
        for k in indices:
            results[k] = None
    kept = tuple(
        {**a, "result": [r for r in annotations[i] if r is not None]}
        for i, a in enumerate(anchored.task.annotations)
    )
    return replace(anchored.task, annotations=kept)


def _text_mismatch(article: Article, task: TaskRecord, where: dict[str, Any]) -> Problem:
    a, b = article.text, task.text
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return Problem(
        f"task text differs from the cleaned article (first difference at character {i}) "
        "and cannot be re-anchored on it",
        pointer=task.base + "/data/text",
        expected=repr(a[max(0, i - 20) : i + 20]),
        found=repr(b[max(0, i - 20) : i + 20]),
        fix="the article or its cleaning rules changed after the task was made: regenerate the "
        "task with `claimwire ls tasks` and carry the annotation over, or restore the article",
        **where,
    )
