"""Reference baselines: floors that any system reported on claimwire should beat.

- ``majority``: the most frequent decision of the ``train`` rows, for every row (entities: all
  ``O``; claims: the majority ``is_claim``, and when that is true the whole sentence as the claim
  with the most frequent claimer; stance: the most frequent label).
- ``rules``: non-learned rules, one per task: a capitalised-span tagger with word-shape label
  rules (entities); a reporting-verb cue rule for claim sentences, with the nearest capitalised
  name as claimer (claims); a small cue lexicon (stance).

Both write files in the predictions format (``schema/predictions.schema.json``), so they are
scored by exactly the code path a submitted system goes through.
"""

from __future__ import annotations

import gc
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..contracts.labels import STANCES
from ..errors import Problem, UsageError
from ..release import reader
from .scorer import (
    TASKS,
    default_release,
    headline,
    resolve_split,
    score,
    write_metrics,
)
from .tally import capitalised_spans as capitalised_spans
from .tally import cue_claimer as cue_claimer
from .tally import entity_label as entity_label
from .tally import rules_tags

NAMES = ("majority", "rules")

Row = Mapping[str, Any]
# (split, baseline, config) -> the config's headline metrics (fractions), as the card shows them
Scores = dict[tuple[str, str, str], dict[str, float]]
# config -> the columns of its rows that the baselines and the scorer read (``document_id``: the
# claims are scored per document, and the rows are given sorted by it)
READS = {
    "entities": ("id", "document_id", "tokens", "ner_tags"),
    "claims": ("id", "document_id", "sentence", "sentence_start", "is_claim", "claims"),
    "stance": ("id", "document_id", "claim", "label"),
}

_AGAINST = re.compile(
    r"\b(?:accus\w*|coup|treason|against|not|no longer|abandon\w*|harm\w*|sanction\w*|"
    r"withdraw\w*|illegitimate|condemn\w*|reject\w*|untenable|invade|step(?:ped)? down|crimes?|"
    r"action)\b",
    re.IGNORECASE,
)
_FAVOR = re.compile(
    r"\b(?:support\w*|recogni[sz]\w*|legitimate|welcom\w*|prais\w*|back(?:s|ed)?|help\w*|"
    r"agree\w*|solved?)\b",
    re.IGNORECASE,
)


def _rules_entities(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "ner_tags": rules_tags(row["tokens"])}


def _rules_claims(row: Row) -> dict[str, Any]:
    found, claimer = cue_claimer(row["sentence"])
    start = row["sentence_start"]
    claims = [{"start": start, "end": start + len(row["sentence"]), "claimer": claimer}]
    return {"id": row["id"], "is_claim": found, "claims": claims if found else []}


def _rules_stance(row: Row) -> dict[str, Any]:
    against = len(_AGAINST.findall(row["claim"]))
    favor = len(_FAVOR.findall(row["claim"]))
    label = "AGAINST" if against > favor else "FAVOR" if favor > against else "NEUTRAL"
    return {"id": row["id"], "label": label}


def _majority(config: str, rows: Sequence[Row], train: Sequence[Row]) -> list[dict[str, Any]]:
    if config == "entities":
        return [{"id": r["id"], "ner_tags": ["O"] * len(r["tokens"])} for r in rows]
    if config == "stance":
        counts = Counter(r["label"] for r in train)
        label = max(STANCES, key=lambda s: (counts[s], -STANCES.index(s)))
        return [{"id": r["id"], "label": label} for r in rows]
    claim = Counter(bool(r["is_claim"]) for r in train).most_common(1)
    is_claim = bool(claim and claim[0][0])
    seen = {c["claim_id"]: c for r in train for c in r["claims"]}.values()
    attributions = Counter(c["attribution"] for c in seen)
    claimers = Counter(c["claimer"] for c in seen if c["claimer"] is not None)
    claimer = None
    if attributions["REPORTED"] > attributions["AUTHOR"] and claimers:
        claimer = min(claimers, key=lambda n: (-claimers[n], n))
    if not is_claim:
        return [{"id": r["id"], "is_claim": False, "claims": []} for r in rows]
    out = []
    for r in rows:
        start = r["sentence_start"]
        spans = [{"start": start, "end": start + len(r["sentence"]), "claimer": claimer}]
        out.append({"id": r["id"], "is_claim": True, "claims": spans})
    return out


_RULES = {"entities": _rules_entities, "claims": _rules_claims, "stance": _rules_stance}


def predict(
    name: str, config: str, rows: Sequence[Row], train: Sequence[Row] = ()
) -> list[dict[str, Any]]:
    """Prediction items of baseline ``name`` for gold ``rows`` of ``config``; ``train`` rows give
    the majority baseline its counts (the rules read nothing but the row itself)."""
    if name == "majority":
        return _majority(config, rows, train)
    if name == "rules":
        return [_RULES[config](r) for r in rows]
    raise UsageError(Problem(f"unknown baseline {name!r}", expected=" or ".join(NAMES)))


def predictions_file(
    name: str, config: str, split: str, rows: Sequence[Row], train: Sequence[Row] = ()
) -> dict[str, Any]:
    return {
        "config": config,
        "split": split,
        "system": f"baseline:{name}",
        "predictions": predict(name, config, rows, train),
    }


def run(
    name: str,
    release: Path | None = None,
    split: str | None = None,
    configs: Sequence[str] = TASKS,
    out: Path = Path("predictions"),
) -> list[dict[str, Any]]:
    """Write ``<out>/<name>-<config>-<split>.json`` for each config, score it and write the
    metrics beside it (``.metrics.json``). Returns the metrics documents."""
    from ..release.writer import json_bytes

    if name not in NAMES:
        raise UsageError(Problem(f"unknown baseline {name!r}", expected=" or ".join(NAMES)))
    release = release or default_release()
    results = []
    for config in configs:
        chosen = resolve_split(release, config, split)
        rows = reader.rows(release, config, chosen)
        train = (
            reader.rows(release, config, "train")
            if "train" in reader.splits(release, config)
            else rows
        )
        data = predictions_file(name, config, chosen, rows, train)
        path = out / f"{name}-{config}-{chosen}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(json_bytes(data))
        result = {
            "config": config,
            "split": chosen,
            "release": release.name,
            "system": data["system"],
            "predictions": str(path),
            "metrics": score(config, rows, data["predictions"], file=str(path)),
        }
        write_metrics(result, path.with_suffix(".metrics.json"))
        results.append(result)
    return results


def headline_scores(
    present: Sequence[str], rows: Callable[[str, str], Sequence[Row]]
) -> tuple[list[str], Scores]:
    """Every baseline through the official scorer, in-process: the figures of the card's
    baseline table. ``present`` are the splits that hold articles, ``rows(split, config)`` their
    task rows.

    Scored on ``test`` when it holds articles, otherwise on every split that does (a small
    release may only have ``train``). The majority baseline reads its counts from ``train``
    (from the scored split when there is no train). Returns the scored splits and the scores in
    table order: split, baseline, config.
    """
    scored = ["test"] if "test" in present else list(present)
    gc_was_on = gc.isenabled()
    gc.disable()  # rows and predictions are acyclic dicts and lists: collecting finds nothing
    try:
        out = _headline_scores(scored, present, rows)
    finally:
        if gc_was_on:
            gc.enable()
    return scored, {
        key: out[key]
        for split in scored
        for name in NAMES
        for config in TASKS
        if (key := (split, name, config)) in out
    }


def _headline_scores(
    scored: Sequence[str], present: Sequence[str], rows: Callable[[str, str], Sequence[Row]]
) -> Scores:
    out: Scores = {}
    # A config's rows at a time (as Python objects they are the largest thing held here).
    for config in TASKS:
        # The majority baseline reads train labels (entities' majority is all-O and needs none).
        reads_train = config != "entities" and "train" in present
        train = rows("train", config) if reads_train else []
        for split in scored:
            gold = train if split == "train" and train else rows(split, config)
            if not gold:
                continue
            for name in NAMES:
                preds = predict(name, config, gold, train or gold)
                out[(split, name, config)] = headline(config, score(config, gold, preds))
    return out


def release_scores(release: Path) -> tuple[list[str], Scores]:
    """:func:`headline_scores` of a release folder, read from its files (the rows that
    ``claimwire baseline`` and ``claimwire evaluate`` read)."""
    return headline_scores(
        reader.splits(release, "documents"),
        lambda split, config: reader.rows(release, config, split),
    )
