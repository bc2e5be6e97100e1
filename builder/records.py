"""The small frozen records that flow through the build.

Offset convention (stated once, used everywhere): ``start``/``end`` are half-open
``[start, end)`` indexes in Python code points over the cleaned article ``text``, and
``text[start:end] == span.text`` always holds for a record that leaves :mod:`builder.core.merge`.
"""

from __future__ import annotations

import copyreg
import sys
from dataclasses import dataclass, field, fields
from importlib.machinery import EXTENSION_SUFFIXES
from typing import Any, TypeVar, cast


@dataclass(frozen=True, slots=True)
class ArticleMeta:
    source: str
    title: str
    language: str
    license: str
    url: str | None = None
    published: str | None = None
    group: str | None = None  # story key for splitting; the article id when absent


@dataclass(frozen=True, slots=True)
class Article:
    """A cleaned article: what annotators see."""

    id: str
    text: str
    meta: ArticleMeta
    path: str  # the raw file it was read from, for error messages
    # made from a Label Studio task (builder.io.task_articles): its text is the task's text as
    # imported, not a file of articles/ cleaned by the rules (ATTRIBUTION.md says so)
    from_task: bool = False

    @property
    def group_key(self) -> str:
        return self.meta.group or self.id


@dataclass(frozen=True, slots=True)
class Entity:
    id: str
    start: int
    end: int
    text: str
    label: str
    portrayal: str | None = None
    decided_by: str = "single"  # how adjudication chose this region (builder.core.adjudicate)


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    start: int
    end: int
    text: str
    claimer_id: str | None
    target_ids: tuple[str, ...]
    attribution: str
    stance: str
    decided_by: str = "single"  # how adjudication chose this region (builder.core.adjudicate)


# A frozen dataclass sets each field through ``object.__setattr__`` (its own ``__setattr__``
# refuses), several times slower than a plain assignment: at tens of regions per task that was a
# good part of the merge. The merge and the adjudication therefore build regions with these
# twins: plain classes with the same slots that assign the fields, then turn the object into the
# frozen record (same slots, so the same layout). The result is an ordinary Entity or Claim.
# That swap is the one thing the type checker cannot follow (it lets ``__class__`` be assigned
# only the object's own class): each twin says so once, on that line.


class _EntityInit:
    """``new_entity(...)`` is ``Entity(...)``, faster."""

    __slots__ = ("id", "start", "end", "text", "label", "portrayal", "decided_by")

    def __init__(
        self,
        id: str,
        start: int,
        end: int,
        text: str,
        label: str,
        portrayal: str | None = None,
        decided_by: str = "single",
    ) -> None:
        self.id = id
        self.start = start
        self.end = end
        self.text = text
        self.label = label
        self.portrayal = portrayal
        self.decided_by = decided_by
        self.__class__ = Entity  # type: ignore[assignment]  # the swap described above


class _ClaimInit:
    """``new_claim(...)`` is ``Claim(...)``, faster."""

    __slots__ = (
        "id",
        "start",
        "end",
        "text",
        "claimer_id",
        "target_ids",
        "attribution",
        "stance",
        "decided_by",
    )

    def __init__(
        self,
        id: str,
        start: int,
        end: int,
        text: str,
        claimer_id: str | None,
        target_ids: tuple[str, ...],
        attribution: str,
        stance: str,
        decided_by: str = "single",
    ) -> None:
        self.id = id
        self.start = start
        self.end = end
        self.text = text
        self.claimer_id = claimer_id
        self.target_ids = target_ids
        self.attribution = attribution
        self.stance = stance
        self.decided_by = decided_by
        self.__class__ = Claim  # type: ignore[assignment]  # the swap described above


def _by_fields(record: Any) -> tuple[type, tuple[Any, ...]]:
    return type(record), tuple([getattr(record, f.name) for f in fields(record)])


def picklable(*classes: type) -> None:
    """Make these frozen dataclasses picklable when their module is compiled (setup.py; tasks go
    to the workers, results come back): a native object is unpickled by setting its fields one
    by one, which a frozen class refuses, so it is rebuilt through its constructor. Interpreted,
    nothing changes.

    This module itself is not compiled: a compiled frozen record is built field by field through
    ``object.__setattr__``, and its class cannot be swapped as the twins above do."""
    for cls in classes:
        module = sys.modules.get(cls.__module__)
        if str(getattr(module, "__file__", "")).endswith(tuple(EXTENSION_SUFFIXES)):
            copyreg.pickle(cls, _by_fields)


# To the checker the twins are the records' own constructors, which is what they are at run
# time (the same arguments, and an Entity or Claim comes out): the calls are checked against the
# dataclasses' fields, and no wrapper function is put in the way. Only call them.
new_entity = cast("type[Entity]", _EntityInit)
new_claim = cast("type[Claim]", _ClaimInit)


Region = TypeVar("Region", Entity, Claim)


def decided(region: Region, rule: str) -> Region:
    """``dataclasses.replace(region, decided_by=rule)``, faster; ``region`` itself if it already
    says ``rule``."""
    if region.decided_by == rule:
        return region
    if isinstance(region, Entity):
        return new_entity(
            region.id, region.start, region.end, region.text, region.label, region.portrayal, rule
        )
    return new_claim(
        region.id,
        region.start,
        region.end,
        region.text,
        region.claimer_id,
        region.target_ids,
        region.attribution,
        region.stance,
        rule,
    )


@dataclass(frozen=True, slots=True)
class SpanCount:
    """Span agreement counts of one annotator pair for one kind and label in one document.

    ``exact`` pairs share start, end and label; ``overlap`` is the size of a maximum one-to-one
    matching of overlapping spans with the same label (so ``exact <= overlap``). F1 over any
    grouping of these rows is ``2 * sum(matched) / sum(n_a + n_b)``.
    """

    annotator_a: str
    annotator_b: str
    kind: str  # "entity" or "claim"
    label: str
    n_a: int
    n_b: int
    exact: int
    overlap: int


@dataclass(frozen=True, slots=True)
class UnitLabel:
    """What one annotator said about one adjudicated region (the reliability data).

    ``unit`` is the id of a region in the released document; ``value`` is the annotator's value
    on the region of their own annotation that matches it (for ``claimer`` and ``target``: the
    released entity ids it maps to, ``|``-joined, ``-`` for none). Annotators who drew no
    matching region have no row for that unit.
    """

    unit: str
    attribute: str  # stance, attribution, portrayal, claimer, target
    annotator: str
    value: str


@dataclass(frozen=True, slots=True)
class AnnotationInfo:
    n_annotators: int
    annotator_ids: tuple[str, ...]
    adjudication: str
    agreement: float | None = None
    spans: tuple[SpanCount, ...] = ()
    labels: tuple[UnitLabel, ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """One article with its adjudicated annotation: a row of the ``documents`` config."""

    article: Article
    entities: tuple[Entity, ...]
    claims: tuple[Claim, ...]
    annotation: AnnotationInfo
    text_sha256: str
    notes: tuple[str, ...] = field(
        default=()
    )  # non-fatal fixes (trimmed spans...), for the summary

    @property
    def id(self) -> str:
        return self.article.id

    def to_row(self) -> dict[str, Any]:
        meta = self.article.meta
        return {
            "id": self.article.id,
            "source": meta.source,
            "url": meta.url,
            "title": meta.title,
            "published": meta.published,
            "language": meta.language,
            "license": meta.license,
            "text": self.article.text,
            "text_sha256": self.text_sha256,
            "entities": [
                {
                    "id": e.id,
                    "start": e.start,
                    "end": e.end,
                    "text": e.text,
                    "label": e.label,
                    "portrayal": e.portrayal,
                    "decided_by": e.decided_by,
                }
                for e in self.entities
            ],
            "claims": [
                {
                    "id": c.id,
                    "start": c.start,
                    "end": c.end,
                    "text": c.text,
                    "claimer_id": c.claimer_id,
                    "target_ids": list(c.target_ids),
                    "attribution": c.attribution,
                    "stance": c.stance,
                    "decided_by": c.decided_by,
                }
                for c in self.claims
            ],
            "annotation": {
                "n_annotators": self.annotation.n_annotators,
                "annotator_ids": list(self.annotation.annotator_ids),
                "adjudication": self.annotation.adjudication,
                "agreement": self.annotation.agreement,
                "spans": [
                    {
                        "annotator_a": s.annotator_a,
                        "annotator_b": s.annotator_b,
                        "kind": s.kind,
                        "label": s.label,
                        "n_a": s.n_a,
                        "n_b": s.n_b,
                        "exact": s.exact,
                        "overlap": s.overlap,
                    }
                    for s in self.annotation.spans
                ],
                "labels": [
                    {
                        "unit": u.unit,
                        "attribute": u.attribute,
                        "annotator": u.annotator,
                        "value": u.value,
                    }
                    for u in self.annotation.labels
                ],
            },
        }
