"""The task views written plainly, one document at a time: the reference the fast, batched
:class:`builder.core.views.Views` tables are checked against (tests only)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from builder.core.views import _ABBREVIATIONS, Views, named_rows
from builder.records import Document

# A sentence ends at . ! ? (optionally followed by closing quotes) before whitespace and an
# upper-case letter, digit or opening quote; paragraph breaks always end a sentence.
_SENT_END = re.compile(r"""(?<=[.!?])["'”’]?(?=\s+["“'‘]?[A-Z0-9])|\n+""")
_TOKEN = re.compile(r"\w+(?:[-’']\w+)*|[^\w\s]", re.UNICODE)


def sentences(text: str) -> list[tuple[int, int]]:
    """Half-open code-point ranges of the sentences of ``text``, trimmed, non-empty."""
    return list(_sentences(text))


@lru_cache(maxsize=4)
def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    # Cached: the three views of one document split the same text.
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENT_END.finditer(text):
        last_word = text[start : m.end()].rstrip().rsplit(None, 1)[-1:] or [""]
        if m.group() == "" and last_word[0].rstrip(".").lstrip('("“') in _ABBREVIATIONS:
            continue
        out.append((start, m.end()))
        start = m.end()
    out.append((start, len(text)))
    trimmed = []
    for s, e in out:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            trimmed.append((s, e))
    return tuple(trimmed)


def tokens(text: str, start: int, end: int, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """Token ranges in ``text[start:end]``; a token that straddles a cut (an entity boundary) is
    split there, so every entity is a whole number of tokens."""
    spans = [m.span() for m in _TOKEN.finditer(text, start, end)]
    ordered = sorted(set(cuts))
    inner = ordered[bisect_right(ordered, start) : bisect_left(ordered, end)]
    if not inner:
        return spans
    # Few cuts, many tokens: look up the token around each cut instead of the cuts per token.
    starts = [s for s, _ in spans]
    splits: dict[int, list[int]] = {}
    for c in inner:
        i = bisect_right(starts, c) - 1
        if i >= 0 and starts[i] < c < spans[i][1]:
            splits.setdefault(i, []).append(c)
    if not splits:
        return spans
    out: list[tuple[int, int]] = []
    for i, (s, e) in enumerate(spans):
        for c in splits.get(i, ()):
            out.append((s, c))
            s = c
        out.append((s, e))
    return out


def entity_rows(doc: Document) -> Iterator[dict[str, Any]]:
    """One row per sentence: tokens and IOB2 tag names."""
    text = doc.article.text
    cuts = sorted({e.start for e in doc.entities} | {e.end for e in doc.entities})
    for k, (s, e) in enumerate(sentences(text)):
        toks = tokens(text, s, e, cuts)
        tags = ["O"] * len(toks)
        starts = [ts for ts, _ in toks]
        for ent in doc.entities:
            if ent.end <= s or ent.start >= e:
                continue  # no token of this sentence lies inside the entity
            # Tokens inside the entity start at or after its start and before its end (found by
            # bisection) and end by its end.
            inside = [
                i
                for i in range(bisect_left(starts, ent.start), bisect_left(starts, ent.end))
                if toks[i][1] <= ent.end
            ]
            for n, i in enumerate(inside):
                tags[i] = ("B-" if n == 0 else "I-") + ent.label
        yield {
            "id": f"{doc.id}/s{k}",
            "document_id": doc.id,
            "sentence_index": k,
            "tokens": [text[ts:te] for ts, te in toks],
            "token_starts": [ts for ts, _ in toks],
            "token_ends": [te for _, te in toks],
            "ner_tags": tags,
        }


def claim_rows(doc: Document) -> Iterator[dict[str, Any]]:
    """One row per sentence: whether it overlaps a claim, and which claims."""
    text = doc.article.text
    by_id = {e.id: e for e in doc.entities}
    for k, (s, e) in enumerate(sentences(text)):
        overlapping = [c for c in doc.claims if c.start < e and c.end > s]
        yield {
            "id": f"{doc.id}/s{k}",
            "document_id": doc.id,
            "sentence_index": k,
            "sentence": text[s:e],
            "sentence_start": s,
            "is_claim": bool(overlapping),
            "claims": [
                {
                    "claim_id": c.id,
                    "start": c.start,
                    "end": c.end,
                    "text": c.text,
                    "attribution": c.attribution,
                    "claimer": by_id[c.claimer_id].text if c.claimer_id else None,
                }
                for c in overlapping
            ],
        }


def stance_rows(doc: Document) -> Iterator[dict[str, Any]]:
    """One row per (claim, target): the claimer's stance toward that target."""
    text = doc.article.text
    spans = sentences(text)
    by_id = {e.id: e for e in doc.entities}
    for c in doc.claims:
        covering = [(s, e) for s, e in spans if s < c.end and e > c.start] or [(c.start, c.end)]
        context = text[covering[0][0] : covering[-1][1]]
        for target_id in c.target_ids:
            target = by_id[target_id]
            yield {
                "id": f"{doc.id}/{c.id}/{target_id}",
                "document_id": doc.id,
                "claim_id": c.id,
                "claim": c.text,
                "target": target.text,
                "target_label": target.label,
                "claimer": by_id[c.claimer_id].text if c.claimer_id else None,
                "context": context,
                "label": c.stance,
            }


def task_rows(config: str, docs: Sequence[Document]) -> list[dict[str, Any]]:
    """The rows of ``docs`` in a task config as dicts, ClassLabel columns as names: those of
    :func:`entity_rows`, :func:`claim_rows` or :func:`stance_rows`, read back from the tables
    (faster than those for many documents)."""
    rows: list[dict[str, Any]] = []
    for i in range(0, len(docs), 256):
        rows.extend(named_rows(config, Views(docs[i : i + 256]).table(config)))
    return rows
