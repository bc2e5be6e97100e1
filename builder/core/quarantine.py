"""Quarantine: set aside the smallest inconsistent unit of an annotation, keep the rest.

With ``claimwire build --on-invalid quarantine`` an annotation with a slip is not refused whole.
Each problem the merge checks find is traced to its unit, and the unit is removed before
adjudication:

- a region (an entity, or a claim) with its per-region choices and the relations that touch it,
  when the problem is the region's own (bad offsets, a claim without stance or attribution, an
  AUTHOR claim with a claimer, a REPORTED claim without one, a duplicate id, two claimers);
- a single choice or relation when only it is wrong (an orphan or misplaced choice, a relation
  with a missing end or between two entities).

Removing a unit can make another inconsistent (a claim loses its only claimer with the entity), so
the checks run again on what is left until it is consistent. Every removed unit becomes a
:class:`Quarantined` record with where it came from, why, and the original results, so that a
reviewer can restore it; none of it votes in adjudication or counts in agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records import picklable

CLAIMERS = "a claim has more than one claimer"


@dataclass(frozen=True)
class Quarantined:
    """One unit set aside, as a line of ``quarantine.jsonl``."""

    file: str
    line: int | None
    column: int | None
    task: int | None
    article: str | None
    annotation: int | None  # the Label Studio annotation id
    annotator: str | None  # pseudonym
    pointer: str | None
    rule: str
    fix: str | None
    results: tuple[dict[str, Any], ...]  # the unit's results, as exported

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "task": self.task,
            "article": self.article,
            "annotation": self.annotation,
            "annotator": self.annotator,
            "pointer": self.pointer,
            "rule": self.rule,
            "fix": self.fix,
            "results": list(self.results),
        }


def result_index(pointer: str | None, base: str) -> int | None:
    """The index of the result a problem points at (``<base>/<j>/...``), if it points at one."""
    if not pointer or not pointer.startswith(base + "/"):
        return None
    head = pointer[len(base) + 1 :].split("/", 1)[0]
    return int(head) if head.isdigit() else None


def unit(results: list[dict[str, Any] | None], j: int, rule: str) -> list[int]:
    """Indices of the results forming the smallest unit that removes the problem at ``j``."""
    r = results[j]
    if r is None:
        return []
    kind = r.get("type")
    if kind == "relation":
        if rule != CLAIMERS:
            return [j]
        kinds = {x.get("id"): x.get("from_name") for x in results if x and x["type"] == "labels"}
        ends = (r.get("from_id"), r.get("to_id"))
        region = next((e for e in ends if kinds.get(e) == "claim"), None)
        return region_unit(results, region) if region is not None else [j]
    if kind == "labels":
        return region_unit(results, r.get("id"))
    return [j]


def region_unit(results: list[dict[str, Any] | None], rid: Any) -> list[int]:
    """The region ``rid`` (every region of that id, when it is duplicated) with its choices and
    every relation touching it."""
    out = []
    for k, r in enumerate(results):
        if r is None:
            continue
        if r.get("type") == "relation":
            if rid in (r.get("from_id"), r.get("to_id")):
                out.append(k)
        elif r.get("id") == rid:
            out.append(k)
    return out


picklable(Quarantined)  # compiled, see builder.records
