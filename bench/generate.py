"""Generate a realistic synthetic Label Studio JSON export and the matching ``articles/`` folder.

The shape follows the real export in ``annotations/exports/gold.json`` (a Label Studio 1.23 JSON
export: compact ``json.dumps`` separators, every field Label Studio adds to tasks and annotations),
scaled down to the size of a typical annotated news article: ~10 KB per task, 30 spans (22
entities, 8 claims with their stance and attribution choices, some entity portrayals) and 5
relations. The rates below are what make the build do all of its work, not only the easy path:

- ``EMOJI``: share of articles with astral characters (emoji) in the text; ``UTF16`` of those were
  annotated in a front end that counts UTF-16 units, so every span after the emoji is shifted;
- ``CRLF``: share of raw article files saved with Windows line endings (the cleaner normalises
  them; the task text is the cleaned text, as ``claimwire ls tasks`` makes it);
- ``TWO_ANNOTATORS``/``GROUND_TRUTH``: tasks annotated twice, and how often one is marked ground
  truth (adjudication rules);
- ``SKIPPED``: tasks with an extra skipped (cancelled) annotation; ``ALL_SKIPPED``: tasks nobody
  annotated (no document, the article is reported as unannotated).

Everything comes from one seeded ``random.Random``: the same ``--tasks`` and ``--seed`` give
byte-identical files. The export is written as it is generated (flat memory at any size).

    python bench/generate.py --tasks 10000 --out bench/out/10k
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path

import orjson

EMOJI, UTF16, CRLF = 0.05, 0.5, 0.10
TWO_ANNOTATORS, GROUND_TRUTH = 0.15, 0.5
SKIPPED, ALL_SKIPPED = 0.03, 0.005
N_ENTITIES, N_CLAIMS, N_REPORTED, N_TARGETS = 22, 8, 3, 2
PORTRAYAL = 0.1
ANNOTATORS = 20
SOURCE = "Synthetic Wire"

FIRST = [
    "Ana",
    "Boris",
    "Carla",
    "Dmitri",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Luis",
    "Maya",
    "Nadia",
    "Omar",
]
LAST = [
    "Alvarez",
    "Becker",
    "Costa",
    "Duarte",
    "Evans",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
]
ORGS = [
    "the Central Bank",
    "Reuters",
    "the Defense Ministry",
    "the Energy Agency",
    "the United Nations",
    "the Red Cross",
    "Parliament",
    "the Supreme Court",
]
GPES = ["Venezuela", "Brazil", "Russia", "Washington", "Caracas", "Germany", "Kenya", "Peru"]
LOCS = ["the Andes", "the Caribbean", "the Amazon basin", "the Black Sea", "the border region"]
NORPS = ["Venezuelans", "Europeans", "conservatives", "socialists", "Brazilians"]
EVENTS = ["the election", "the summit", "the referendum", "the strike", "the blackout"]
POOLS = {"PER": None, "ORG": ORGS, "GPE": GPES, "LOC": LOCS, "NORP": NORPS, "EVENT": EVENTS}
WORDS = [
    "officials",
    "said",
    "talks",
    "would",
    "continue",
    "despite",
    "growing",
    "pressure",
    "from",
    "abroad",
    "while",
    "analysts",
    "expect",
    "prices",
    "to",
    "rise",
    "sharply",
    "as",
    "supplies",
    "remain",
    "limited",
    "and",
    "the",
    "new",
    "measures",
    "take",
    "effect",
    "next",
    "month",
    "according",
    "to",
    "people",
    "familiar",
    "with",
    "the",
    "matter",
]
VERBS = ["said", "warned", "claimed", "insisted", "argued", "announced"]
EMOJIS = ["🇻🇪", "😀", "🔥", "👍", "📈"]


def _name(rng: random.Random, label: str) -> str:
    pool = POOLS[label]
    if pool is None:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return rng.choice(pool)


class _Text:
    """A text being written, recording the spans as they are appended."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[tuple[int, int, str, str]] = []  # start, end, text, label

    def add(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def entity(self, s: str, label: str) -> int:
        start = self.length
        self.add(s)
        self.entities.append((start, self.length, s, label))
        return len(self.entities) - 1

    def filler(self, rng: random.Random, n: int) -> None:
        k = rng.randrange(0, len(WORDS) - n)
        self.add(" ".join(WORDS[k : k + n]))


def article(rng: random.Random, emoji: bool) -> tuple[str, list, list]:
    """Cleaned text, entity spans and claims ``(start, end, text, claimer, targets)``."""
    t = _Text()
    claims: list[tuple[int, int, str, int | None, list[int]]] = []
    labels = list(POOLS)
    paragraphs = 6
    claim_slots = set(rng.sample(range(paragraphs * 2), N_CLAIMS))
    reported = set(rng.sample(sorted(claim_slots), N_REPORTED))
    n_entities = 0
    for p in range(paragraphs):
        if p:
            t.add("\n\n")
        for s in range(2):
            slot = p * 2 + s
            if s:
                t.add(" ")
            if emoji and slot == 1:
                t.add(rng.choice(EMOJIS) + " ")
            if slot in claim_slots:
                claimer = None
                if slot in reported:
                    claimer = t.entity(_name(rng, "PER"), "PER")
                    n_entities += 1
                    t.add(f" {rng.choice(VERBS)} that ")
                start = t.length
                label = rng.choice(labels[1:])
                name = _name(rng, label)
                target = t.entity(
                    name if claimer is not None else name[0].upper() + name[1:], label
                )
                n_entities += 1
                t.add(" ")
                t.filler(rng, rng.randrange(8, 14))
                end = t.length
                claims.append((start, end, "".join(t.parts)[start:end], claimer, [target]))
                t.add(".")
            else:
                t.add("In ")
                t.entity(_name(rng, "GPE"), "GPE")
                t.add(", ")
                t.filler(rng, rng.randrange(6, 10))
                t.add(" ")
                label = rng.choice(labels)
                t.entity(_name(rng, label), label)
                t.add(" ")
                t.filler(rng, rng.randrange(10, 16))
                t.add(".")
                n_entities += 2
    t.add("\n\nAlso mentioned:")  # a closing paragraph brings every article to 22 entities
    while n_entities < N_ENTITIES:
        t.add(" ")
        label = rng.choice(labels)
        t.entity(_name(rng, label), label)
        n_entities += 1
    t.add(".")
    text = "".join(t.parts)
    return text, t.entities, claims


def _utf16(text: str, i: int) -> int:
    return i + sum(1 for ch in text[:i] if ord(ch) > 0xFFFF)


def results(rng: random.Random, text: str, entities: list, claims: list, utf16: bool) -> list:
    off = (lambda i: _utf16(text, i)) if utf16 else (lambda i: i)
    out: list[dict] = []
    for k, (s, e, span, label) in enumerate(entities):
        rid = f"e{k:03d}"
        value = {"start": off(s), "end": off(e), "text": span, "labels": [label]}
        out.append(
            {
                "id": rid,
                "from_name": "entity",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": value,
            }
        )
        if rng.random() < PORTRAYAL:
            out.append(
                {
                    "id": rid,
                    "from_name": "portrayal",
                    "to_name": "text",
                    "type": "choices",
                    "origin": "manual",
                    "value": {
                        "start": off(s),
                        "end": off(e),
                        "text": span,
                        "choices": [rng.choice(("POSITIVE", "NEGATIVE", "NEUTRAL"))],
                    },
                }
            )
    relations = []
    n_targets = 0
    for k, (s, e, span, claimer, targets) in enumerate(claims):
        rid = f"c{k}"
        base = {"start": off(s), "end": off(e), "text": span}
        out.append(
            {
                "id": rid,
                "from_name": "claim",
                "to_name": "text",
                "type": "labels",
                "origin": "manual",
                "value": {**base, "labels": ["CLAIM"]},
            }
        )
        out.append(
            {
                "id": rid,
                "from_name": "stance",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {**base, "choices": [rng.choice(("FAVOR", "AGAINST", "NEUTRAL"))]},
            }
        )
        out.append(
            {
                "id": rid,
                "from_name": "attribution",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {**base, "choices": ["REPORTED" if claimer is not None else "AUTHOR"]},
            }
        )
        if claimer is not None:
            relations.append(
                {
                    "from_id": rid,
                    "to_id": f"e{claimer:03d}",
                    "type": "relation",
                    "direction": "right",
                    "labels": ["claimer"],
                }
            )
        if n_targets < N_TARGETS:
            n_targets += 1
            relations.append(
                {
                    "from_id": rid,
                    "to_id": f"e{targets[0]:03d}",
                    "type": "relation",
                    "direction": "right",
                    "labels": ["target"],
                }
            )
    return out + relations


def _stamp(rng: random.Random, day: int) -> str:
    return (
        f"2025-{1 + day % 12:02d}-{1 + day % 28:02d}T{rng.randrange(24):02d}:"
        f"{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**6):06d}Z"
    )


def annotation(
    rng: random.Random,
    ann_id: int,
    task_id: int,
    result: list,
    *,
    cancelled: bool = False,
    truth: bool = False,
) -> dict:
    who = rng.randrange(1, ANNOTATORS + 1)
    created = _stamp(rng, task_id)
    return {
        "id": ann_id,
        "completed_by": who,
        "result": [] if cancelled else result,
        "was_cancelled": cancelled,
        "ground_truth": truth,
        "created_at": created,
        "updated_at": created,
        "draft_created_at": None,
        "lead_time": round(rng.uniform(30, 900), 3),
        "prediction": {},
        "result_count": 0 if cancelled else len(result),
        "unique_id": f"{rng.getrandbits(128):032x}",
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "task": task_id,
        "project": 1,
        "updated_by": who,
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


def task(rng: random.Random, task_id: int, article_id: str) -> tuple[dict, str, bool]:
    """One task, the raw article text, and whether the raw file uses CRLF."""
    emoji = rng.random() < EMOJI
    text, entities, claims = article(rng, emoji)
    utf16 = emoji and rng.random() < UTF16
    result = results(rng, text, entities, claims, utf16)
    anns: list[dict] = []
    ann_id = task_id * 4
    if rng.random() < ALL_SKIPPED:
        anns.append(annotation(rng, ann_id, task_id, result, cancelled=True))
    else:
        two = rng.random() < TWO_ANNOTATORS
        truth = two and rng.random() < GROUND_TRUTH
        anns.append(annotation(rng, ann_id, task_id, result, truth=truth))
        if two:
            anns.append(annotation(rng, ann_id + 1, task_id, result))
        if rng.random() < SKIPPED:
            anns.append(annotation(rng, ann_id + 2, task_id, result, cancelled=True))
    cancelled = sum(a["was_cancelled"] for a in anns)
    created = _stamp(rng, task_id)
    digest = hashlib.sha256(text.encode()).hexdigest()
    t = {
        "id": task_id,
        "annotations": anns,
        "drafts": [],
        "predictions": [],
        "data": {
            "text": text,
            "article_id": article_id,
            "text_sha256": digest,
            "title": f"Synthetic article {task_id}",
            "source": SOURCE,
        },
        "meta": {},
        "created_at": created,
        "updated_at": created,
        "allow_skip": True,
        "inner_id": task_id,
        "total_annotations": len(anns) - cancelled,
        "cancelled_annotations": cancelled,
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 1,
        "updated_by": 1,
        "comment_authors": [],
    }
    return t, text, rng.random() < CRLF


def _dumps(value: object) -> bytes:
    # Label Studio writes exports with json.dumps' default separators (", " and ": ").
    import json

    return json.dumps(value, ensure_ascii=False).encode()


def generate(n: int, out: Path, seed: int = 6, articles: bool = True) -> tuple[Path, Path]:
    """Write ``out/export.json`` (n tasks) and ``out/articles/``; returns both paths."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    art_dir = out / "articles"
    if articles:
        art_dir.mkdir(exist_ok=True)
        (art_dir / "sources.json").write_bytes(
            orjson.dumps({SOURCE: {"drop_lines": [], "cut_from": []}}, option=orjson.OPT_INDENT_2)
        )
    export = out / "export.json"
    with export.open("wb") as f:
        f.write(b"[")
        for i in range(n):
            task_id = i + 1
            article_id = f"syn{task_id:07d}"
            t, text, crlf = task(rng, task_id, article_id)
            if i:
                f.write(b", ")
            f.write(_dumps(t))
            if articles:
                meta = {
                    "id": article_id,
                    "source": SOURCE,
                    "title": t["data"]["title"],
                    "language": "en",
                    "license": "CC0-1.0 (synthetic)",
                    "url": f"https://example.org/{article_id}",
                    "published": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    "group": f"story-{task_id // 3}",
                }
                (art_dir / f"{article_id}.json").write_bytes(orjson.dumps(meta))
                raw = text.replace("\n", "\r\n") if crlf else text
                (art_dir / f"{article_id}.txt").write_bytes(raw.encode())
        f.write(b"]\n")
    return export, art_dir


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a synthetic Label Studio export + articles/.")
    p.add_argument("--tasks", type=int, default=1000, help="number of tasks (default 1000)")
    p.add_argument("--out", type=Path, default=Path("bench/out/synthetic"))
    p.add_argument("--seed", type=int, default=6)
    args = p.parse_args(argv)
    export, articles = generate(args.tasks, args.out, args.seed)
    print(f"wrote {export} ({export.stat().st_size / 1e6:.1f} MB) and {articles}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
