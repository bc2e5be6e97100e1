"""Small synthetic corpora written through the real input formats (raw article + metadata
sidecar + Label Studio JSON export), so tests exercise the same code paths as real data.

Annotations are written as span specs (surface text, like ``annotations/gold/*.spec.json``) and
resolved to Label Studio results by :func:`builder.labelstudio.spec.resolve`.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path
from typing import Any

import orjson

from builder.contracts.labels import ROOT
from builder.core.splits import SplitSpec
from builder.labelstudio.spec import resolve
from support.helpers import seed_export

SEED_ID = "000_e5b139a28bf6bbf6"
_FIRST = ["Maria", "Jonas", "Aiko", "Pedro", "Lena", "Omar", "Greta", "Tomas", "Irina", "Kofi"]
_LAST = [
    "Lopez",
    "Berg",
    "Tanaka",
    "Silveira",
    "Novak",
    "Haddad",
    "Olsen",
    "Ruiz",
    "Petrova",
    "Mensah",
]
_PLACES = [
    "Brazil",
    "Norway",
    "Kenya",
    "Chile",
    "Poland",
    "Ghana",
    "Peru",
    "Latvia",
    "Nepal",
    "Oman",
]
_VERBS = ["expand", "cut", "review", "freeze", "double", "audit", "delay", "fund"]
_THINGS = [
    "rail lines",
    "grain exports",
    "school meals",
    "port fees",
    "water permits",
    "bus routes",
    "solar farms",
    "fishing quotas",
]


def groups_by_split(n: int = 400) -> dict[str, list[str]]:
    """Group keys ``g0, g1, ...`` sorted by the split the default spec assigns them."""
    out: dict[str, list[str]] = {"train": [], "validation": [], "test": []}
    for i in range(n):
        out[SplitSpec().assign(f"g{i}")].append(f"g{i}")
    return out


def synthetic_article(
    article_id: str, seed: int, group: str | None = None, sentences: int = 6
) -> dict[str, Any]:
    """An article of reported and authorial claims with its span spec, all derived from
    ``seed`` (different seeds give texts with few shared 5-word shingles)."""
    rng = random.Random(seed)
    person = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    place = rng.choice(_PLACES)
    lines = []
    claims = []
    for k in range(sentences):
        n = rng.randint(2, 9999)
        verb, thing = rng.choice(_VERBS), rng.choice(_THINGS)
        if k % 2 == 0:
            claim = f"the government of {place} would {verb} {n} {thing} by {1990 + k + seed % 30}"
            lines.append(f"{person} said that {claim}.")
            claims.append(
                {
                    "text": claim,
                    "claimer": person,
                    "targets": [place],
                    "attribution": "REPORTED",
                    "stance": ["FAVOR", "AGAINST", "NEUTRAL"][(seed + k) % 3],
                }
            )
        else:
            lines.append(f"Officials counted {n} {thing} near the border in week {k + seed}.")
    text = "\n\n".join(lines)
    spec = {
        "article_id": article_id,
        "entities": [{"text": person, "label": "PER"}, {"text": place, "label": "GPE"}],
        "claims": claims,
    }
    return {"id": article_id, "text": text, "group": group, "spec": spec}


def write_corpus(
    root: Path, articles: list[dict[str, Any]], seed: bool = True
) -> tuple[Path, Path]:
    """Write ``articles`` (from :func:`synthetic_article`) — plus the shipped seed article and
    its gold export when ``seed`` — as an articles folder and one export file."""
    adir = root / "articles"
    adir.mkdir(parents=True, exist_ok=True)
    sources = {"Test Wire": {}}
    tasks: list[dict[str, Any]] = []
    if seed:
        for suffix in (".txt", ".json"):
            shutil.copy(ROOT / "articles" / f"{SEED_ID}{suffix}", adir / f"{SEED_ID}{suffix}")
        sources.update(json.loads((ROOT / "articles" / "sources.json").read_text()))
        tasks.extend(json.loads(seed_export()))
    (adir / "sources.json").write_text(json.dumps(sources), encoding="utf-8")
    for n, art in enumerate(articles, start=1000):
        (adir / f"{art['id']}.txt").write_text(art["text"], encoding="utf-8")
        meta = {
            "id": art["id"],
            "source": "Test Wire",
            "title": f"Story {art['id']}",
            "language": "en",
            "license": "CC-BY-4.0",
            "group": art["group"],
        }
        (adir / f"{art['id']}.json").write_text(json.dumps(meta), encoding="utf-8")
        results = resolve(art["spec"], art["text"])
        tasks.append(
            {
                "id": n,
                "data": {"text": art["text"], "article_id": art["id"]},
                "annotations": [{"id": n, "completed_by": 1, "result": results}],
            }
        )
    export = root / "exports" / "export.json"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    return adir, export


def per_task_corpus(root: Path, n: int, seed: int) -> tuple[Path, Path, Path]:
    """A synthetic export of ``n`` tasks (``bench/generate.py``), its articles, and the same
    tasks as a folder of per-task files, under ``root``."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    export, articles = generate(n, root, seed=seed)
    folder = root / "per-task"
    folder.mkdir()
    for task in orjson.loads(export.read_bytes()):
        (folder / f"task-{task['id']:05d}.json").write_bytes(orjson.dumps(task))
    return export, articles, folder
