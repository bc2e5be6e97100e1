"""Merge a cleaned article with its Label Studio task into a release :class:`Document`.

Checks what Label Studio does not: span offsets against the text, per-region choices attached to
an existing region of the right kind, relation ends, one claimer per claim — in every usable
annotation, not only the one that wins. Several annotations become one gold record by the
adjudication policy of :mod:`builder.adjudicate` (``CLAIMWIRE_ADJUDICATION``, default
ground truth, then region-level majority vote, then most recent), and the agreement data of
:mod:`builder.agreement` is attached to the document.

Cancelled (skipped) annotations are ignored but still count towards nothing.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass, field
from typing import Any

from .adjudicate import Policy, Version, adjudicate, recency, voters
from .agreement import document_agreement, span_counts, unit_labels
from .errors import InvalidDataError, Problem
from .labelstudio import TaskRecord, place
from .offsets import resolve_span
from .records import AnnotationInfo, Article, Claim, Document, Entity, SpanCount, UnitLabel
from .scheme import CHOICE_TARGET

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
    return "ann-" + hashlib.sha256(f"{salt}\x00{key}".encode()).hexdigest()[:12]


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class MergeStats:
    """Non-fatal fixes and skips, summed over a build for the summary."""

    fixes: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0

    def add(self, fix: str) -> None:
        self.fixes[fix] = self.fixes.get(fix, 0) + 1


def versions(text: str, task: TaskRecord, where: dict[str, Any],
             stats: MergeStats) -> list[Version]:
    """Every usable annotation of ``task``, parsed and checked; problems of all are collected."""
    out: list[Version] = []
    problems: list[Problem] = []
    for i, a in enumerate(task.annotations):
        if a.get("was_cancelled", False):
            continue
        try:
            entities, claims = _regions(text, a["result"], f"{task.base}/annotations/{i}/result",
                                        where, stats)
        except InvalidDataError as exc:
            problems.extend(exc.problems)
            continue
        out.append(Version(i, pseudonym(a.get("completed_by")), recency(a),
                           bool(a.get("ground_truth")), entities, claims, tuple(a["result"])))
    if problems:
        raise InvalidDataError(problems)
    return out


def merge(article: Article, task: TaskRecord, stats: MergeStats | None = None,
          policy: Policy | None = None) -> Document | None:
    """The release document for ``article``, or None if every annotation was skipped.

    ``policy`` defaults to ``CLAIMWIRE_ADJUDICATION`` or the default policy.
    """
    stats = stats if stats is not None else MergeStats()
    where = {"file": task.file, "task": task.id, "article": article.id}
    if task.text != article.text:
        raise InvalidDataError(place(_text_mismatch(article, task, where)))
    digest = text_sha256(article.text)
    if task.text_sha256 is not None and task.text_sha256 != digest:
        raise InvalidDataError(
            place(
                Problem(
                    "text_sha256 does not match the task text",
                    pointer=task.base + "/data/text_sha256",
                    expected=digest,
                    found=task.text_sha256,
                    fix="regenerate the tasks with `claimwire ls tasks`",
                    **where,  # type: ignore[arg-type]
                )
            )
        )
    usable = versions(article.text, task, where, stats)
    stats.cancelled += sum(1 for a in task.annotations if a.get("was_cancelled", False))
    if not usable:
        return None
    gold = adjudicate(usable, policy or Policy.from_env())
    annotators = sorted({v.annotator for v in usable})
    independent = voters(usable)
    spans: list[SpanCount] = []
    labels: list[UnitLabel] = []
    if len(independent) >= 2:
        for a, b in itertools.combinations(sorted(independent, key=lambda v: v.annotator), 2):
            spans += span_counts(a.annotator, (a.entities, a.claims),
                                 b.annotator, (b.entities, b.claims))
        for v in sorted(independent, key=lambda v: v.annotator):
            labels += unit_labels(v.annotator, (v.entities, v.claims), gold.entities, gold.claims)
        labels.sort(key=lambda u: (u.unit, u.attribute, u.annotator))
    return Document(
        article=article,
        entities=gold.entities,
        claims=gold.claims,
        annotation=AnnotationInfo(
            n_annotators=len(annotators), annotator_ids=tuple(annotators),
            adjudication=gold.rule, agreement=document_agreement(spans),
            spans=tuple(spans), labels=tuple(labels),
        ),
        text_sha256=digest,
    )


def _regions(
    text: str,
    results: list[dict[str, Any]],
    base: str,
    where: dict[str, Any],
    stats: MergeStats,
) -> tuple[tuple[Entity, ...], tuple[Claim, ...]]:
    problems: list[Problem] = []

    def bad(message: str, j: int, suffix: str = "", **detail: Any) -> None:
        problems.append(place(Problem(message, pointer=f"{base}/{j}{suffix}", **where, **detail)))

    spans: dict[str, dict[str, Any]] = {}  # region id -> {kind, start, end, text, label}
    for j, r in enumerate(results):
        if r["type"] != "labels":
            continue
        v = r["value"]
        if r["id"] in spans:
            bad("two regions share this id", j, "/id", found=repr(r["id"]),
                fix="export again; if it persists, delete one of the regions in Label Studio")
            continue
        resolved = resolve_span(text, v["start"], v["end"], v["text"])
        if resolved is None:
            s, e = v["start"], v["end"]
            actual = text[s:e] if 0 <= s <= e <= len(text) else None
            bad(
                "span offsets do not match the span text",
                j,
                "/value",
                expected=f"text[{s}:{e}] == {v['text']!r}",
                found=repr(actual) if actual is not None else
                f"offsets outside the text (length {len(text)}) or reversed",
                fix="re-select the span in Label Studio; offsets are code points into the task text",
            )
            # Keep the region so its choices and relations are still checked (no cascade).
            spans[r["id"]] = {"kind": r["from_name"], "start": s, "end": e, "text": v["text"],
                              "label": v["labels"][0], "j": j}
            continue
        for fix in resolved.fixes:
            stats.add(fix)
        spans[r["id"]] = {"kind": r["from_name"], "start": resolved.start, "end": resolved.end,
                          "text": resolved.text, "label": v["labels"][0], "j": j}

    choices: dict[tuple[str, str], str] = {}
    for j, r in enumerate(results):
        if r["type"] != "choices":
            continue
        region = spans.get(r["id"])
        control = r["from_name"]
        wanted = CHOICE_TARGET[control]
        if region is None:
            bad(f"per-region choice {control!r} attaches to no region", j, "/id",
                found=repr(r["id"]), expected=f"the id of a {wanted} region",
                fix="delete the orphan choice in Label Studio (select the region, then choose)")
        elif region["kind"] != wanted:
            bad(f"{control!r} belongs on a {wanted} region, not on {region['kind']!r}", j,
                "/from_name", fix=f"remove the {control} choice from that region")
        else:
            choices[(r["id"], control)] = r["value"]["choices"][0]

    claimer: dict[str, str] = {}
    targets: dict[str, list[str]] = {}
    for j, r in enumerate(results):
        if r["type"] != "relation":
            continue
        a, b = spans.get(r["from_id"]), spans.get(r["to_id"])
        if a is None or b is None:
            missing = r["from_id"] if a is None else r["to_id"]
            bad("relation points to a region that does not exist", j,
                "/from_id" if a is None else "/to_id", found=repr(missing),
                fix="delete the relation in Label Studio and draw it again")
            continue
        claim_id, entity_id = r["from_id"], r["to_id"]
        if a["kind"] == "entity" and b["kind"] == "claim":
            claim_id, entity_id = entity_id, claim_id
        elif not (a["kind"] == "claim" and b["kind"] == "entity"):
            bad("a relation links a claim and an entity", j, expected="claim -> entity",
                found=f"{a['kind']} -> {b['kind']}", fix="redraw it from the claim to the entity")
            continue
        if r["labels"][0] == "claimer":
            if claim_id in claimer and claimer[claim_id] != entity_id:
                bad("a claim has more than one claimer", j, expected="one claimer relation",
                    fix="keep the relation to the entity that asserts the claim")
            claimer[claim_id] = entity_id
        elif entity_id not in targets.setdefault(claim_id, []):
            targets[claim_id].append(entity_id)

    entities: list[Entity] = []
    claims: list[Claim] = []
    for rid, s in spans.items():
        if s["kind"] == "entity":
            entities.append(Entity(rid, s["start"], s["end"], s["text"], s["label"],
                                   choices.get((rid, "portrayal"))))
            continue
        stance, attribution = choices.get((rid, "stance")), choices.get((rid, "attribution"))
        for control, value in (("stance", stance), ("attribution", attribution)):
            if value is None:
                bad(f"claim has no {control}", s["j"], expected=f"a per-region {control} choice",
                    fix=f"select the claim in Label Studio and pick its {control}")
        if attribution == "REPORTED" and rid not in claimer:
            bad("a REPORTED claim needs a claimer relation", s["j"],
                fix="draw a 'claimer' relation from the claim to the entity that asserts it")
        if attribution == "AUTHOR" and rid in claimer:
            bad("an AUTHOR claim has a claimer relation", s["j"],
                fix="either mark it REPORTED or delete the claimer relation")
        if stance and attribution:
            claims.append(Claim(rid, s["start"], s["end"], s["text"], claimer.get(rid),
                                tuple(targets.get(rid, ())), attribution, stance))
    if problems:
        raise InvalidDataError(problems)
    order = lambda x: (x.start, x.end, x.id)  # noqa: E731
    return tuple(sorted(entities, key=order)), tuple(sorted(claims, key=order))


def _text_mismatch(article: Article, task: TaskRecord, where: dict[str, Any]) -> Problem:
    a, b = article.text, task.text
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return Problem(
        f"task text differs from the cleaned article (first difference at character {i})",
        pointer=task.base + "/data/text",
        expected=repr(a[max(0, i - 20): i + 20]),
        found=repr(b[max(0, i - 20): i + 20]),
        fix="the article or its cleaning rules changed after the task was made: regenerate the "
        "task with `claimwire ls tasks` and carry the annotation over, or restore the article",
        **where,
    )
