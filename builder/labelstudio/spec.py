"""Span specs: annotations written by surface text, resolved to Label Studio results.

A spec (``annotations/gold/<id>.spec.json``; the same format serves as a predictions file for
``claimwire ls tasks --predictions``) names entity surface forms and claims by their text; this
module finds the offsets, so nobody types a character offset by hand:

- every whole-word occurrence of an entity surface form is a mention, longest forms first, and
  an occurrence overlapping a longer mention is skipped;
- a claim is the ``occurrence``-th match of its exact text; its claimer and targets are the
  mentions of the named surface forms nearest to the claim.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import InvalidDataError, Problem, Where
from ..io.jsonpos import loads


def _mentions(text: str, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    taken: list[tuple[int, int]] = []
    found: list[dict[str, Any]] = []
    for ent in sorted(entities, key=lambda e: -len(e["text"])):
        pattern = re.compile(r"(?<!\w)" + re.escape(ent["text"]) + r"(?!\w)")
        for m in pattern.finditer(text):
            if any(m.start() < e and m.end() > s for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found.append({**ent, "start": m.start(), "end": m.end()})
    found.sort(key=lambda m: (m["start"], m["end"]))
    for n, mention in enumerate(found, start=1):
        mention["id"] = f"e{n:03d}"
    return found


def _nearest(mentions: list[dict[str, Any]], surface: str, start: int, end: int) -> dict[str, Any]:
    def distance(m: dict[str, Any]) -> tuple[int, int]:
        if m["start"] < end and m["end"] > start:
            return (0, m["start"])
        return (min(abs(m["end"] - start), abs(m["start"] - end)), m["start"])

    same = [m for m in mentions if m["text"] == surface]
    if not same:
        raise KeyError(surface)
    return min(same, key=distance)


def _span(rid: str, control: str, s: int, e: int, text: str, label: str) -> dict[str, Any]:
    return {
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
        "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]},
    }


def _choice(rid: str, control: str, s: int, e: int, text: str, value: str) -> dict[str, Any]:
    return {
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "choices",
        "origin": "manual",
        "value": {"start": s, "end": e, "text": text[s:e], "choices": [value]},
    }


def resolve(spec: dict[str, Any], text: str, file: str = "<spec>") -> list[dict[str, Any]]:
    """Label Studio ``result`` items for ``spec`` over ``text``."""
    article = spec.get("article_id")
    mentions = _mentions(text, spec.get("entities", []))
    results: list[dict[str, Any]] = []
    for m in mentions:
        results.append(_span(m["id"], "entity", m["start"], m["end"], text, m["label"]))
        if m.get("portrayal"):
            results.append(
                _choice(m["id"], "portrayal", m["start"], m["end"], text, m["portrayal"])
            )
    for k, claim in enumerate(spec.get("claims", [])):
        where: Where = {"file": file, "article": article, "pointer": f"/claims/{k}"}
        starts = [m.start() for m in re.finditer(re.escape(claim["text"]), text)]
        # JSON Schema counts 1.0 as an integer: the occurrence is a whole number either way
        n = int(claim.get("occurrence", 1))
        if len(starts) < n:
            raise InvalidDataError(
                Problem(
                    f"claim text occurs {len(starts)} time(s) in the article",
                    **where,
                    expected=f"occurrence {n}",
                    found=repr(claim["text"][:60]),
                    fix="copy the claim text exactly from the cleaned article",
                )
            )
        s = starts[n - 1]
        e = s + len(claim["text"])
        rid = claim.get("key") or f"c{k + 1}"
        results.append(_span(rid, "claim", s, e, text, "CLAIM"))
        results.append(_choice(rid, "stance", s, e, text, claim["stance"]))
        results.append(_choice(rid, "attribution", s, e, text, claim["attribution"]))
        links = ([("claimer", claim["claimer"])] if claim.get("claimer") else []) + [
            ("target", t) for t in claim.get("targets", [])
        ]
        for label, surface in links:
            try:
                target = _nearest(mentions, surface, s, e)
            except KeyError:
                raise InvalidDataError(
                    Problem(
                        f"{label} {surface!r} is not an entity surface form of this spec",
                        **where,
                        fix="add it to 'entities' or fix the spelling",
                    )
                ) from None
            results.append(
                {
                    "type": "relation",
                    "from_id": rid,
                    "to_id": target["id"],
                    "direction": "right",
                    "labels": [label],
                }
            )
    return results


def load_spec(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidDataError(
            Problem(f"cannot read span spec: {exc.strerror}", file=str(path), pointer="")
        ) from None
    data: dict[str, Any] = loads(raw, str(path), fix="fix the JSON syntax at that position")
    return data
