"""A tiny drifted task: one claim with its claimer and target, over a clean text and the same
text as imported raw (CRLF, trailing spaces, a blank-line run)."""

from __future__ import annotations

from typing import Any

from builder.io.exports import TaskRecord
from builder.records import Article, ArticleMeta

CLEAN = "Alice Smith said taxes rose.\n\nBob Jones denied it."
RAW = "Alice Smith said taxes rose.  \r\n\r\n\r\nBob Jones denied it.\r\n"


def span(rid: str, text: str, needle: str, control: str = "entity", label: str = "PER") -> dict:
    s = text.index(needle)
    return {
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "labels",
        "value": {"start": s, "end": s + len(needle), "text": needle, "labels": [label]},
    }


def choice(rid: str, control: str, value: str, span: dict) -> dict:
    v = span["value"]
    return {
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "choices",
        "value": {"start": v["start"], "end": v["end"], "text": v["text"], "choices": [value]},
    }


def claim(text: str) -> list[dict[str, Any]]:
    alice = span("e1", text, "Alice Smith")
    bob = span("e2", text, "Bob Jones")
    claim = span("c1", text, "taxes rose", "claim", "CLAIM")
    return [
        alice,
        bob,
        claim,
        choice("c1", "stance", "NEUTRAL", claim),
        choice("c1", "attribution", "REPORTED", claim),
        {
            "type": "relation",
            "from_id": "c1",
            "to_id": "e1",
            "direction": "right",
            "labels": ["claimer"],
        },
        {
            "type": "relation",
            "from_id": "e2",
            "to_id": "c1",
            "direction": "left",
            "labels": ["target"],
        },
    ]


def task(text: str, results: list[dict[str, Any]]) -> TaskRecord:
    annotation = {"id": 7, "completed_by": 1, "result": results, "was_cancelled": False}
    return TaskRecord("export.json", 0, 1, "a1", text, None, (annotation,))


ARTICLE = Article(
    "a1", CLEAN, ArticleMeta(source="Test", title="t", language="en", license="CC0"), "a1.txt"
)
