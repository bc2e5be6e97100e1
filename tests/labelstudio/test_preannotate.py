"""``claimwire ls tasks --predictions rules``: the rules baseline's pre-annotations of articles
with no annotation, as Label Studio predictions that the builder accepts as an annotation."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from support.helpers import ROOT, SEED_ID

from builder.benchmark.baselines import cue_claimer, predict
from builder.cli.main import main
from builder.io.articles import read_articles
from builder.labelstudio.preannotate import MODEL_VERSION
from builder.pipeline.validate import validate_paths

ARTICLES = ROOT / "articles"
WIKINEWS = ("wn-2019-01-04-dd0b7aaa", "wn-2019-01-04-e429b1b0")
IDS = (SEED_ID, *WIKINEWS)


@pytest.fixture(scope="module")
def tasks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("preannotate") / "tasks.json"
    code = main(
        ["ls", "tasks", *IDS, "--articles", str(ARTICLES), "--out", str(out)]
        + ["--predictions", "rules"]
    )
    assert code == 0
    data: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return data


def _results(task: dict[str, Any]) -> list[dict[str, Any]]:
    (prediction,) = task["predictions"]
    assert prediction["model_version"] == MODEL_VERSION == "claimwire-rules"
    result: list[dict[str, Any]] = prediction["result"]
    return result


def _kinds(result: list[dict[str, Any]]) -> Counter[str]:
    return Counter(
        r["labels"][0] if r["type"] == "relation" else r["from_name"]
        for r in result
        if r["type"] != "choices" or r["from_name"] == "attribution"
    )


def test_one_task_per_article_in_order(tasks: list[dict[str, Any]]) -> None:
    assert [t["data"]["article_id"] for t in tasks] == list(IDS)
    assert all(_results(t) for t in tasks)


def test_seed_counts(tasks: list[dict[str, Any]]) -> None:
    result = _results(tasks[0])
    # Every claim but one has an entity inside it that is not a mention of its claimer.
    assert _kinds(result) == {
        "entity": 75,
        "claim": 16,
        "attribution": 16,
        "claimer": 16,
        "target": 15,
    }
    attributions = Counter(
        r["value"]["choices"][0] for r in result if r.get("from_name") == "attribution"
    )
    assert attributions == {"REPORTED": 16}
    stances = Counter(r["value"]["choices"][0] for r in result if r.get("from_name") == "stance")
    assert stances == {"AGAINST": 6, "NEUTRAL": 6, "FAVOR": 4}


def test_wikinews_counts(tasks: list[dict[str, Any]]) -> None:
    first, second = (_results(t) for t in tasks[1:])
    attributions = Counter(
        r["value"]["choices"][0] for r in first if r.get("from_name") == "attribution"
    )
    assert (_kinds(first)["entity"], _kinds(first)["claim"]) == (48, 16)
    assert attributions == {"REPORTED": 11, "AUTHOR": 5}
    assert (_kinds(second)["entity"], _kinds(second)["claim"]) == (56, 3)


def test_every_result_text_is_the_article_text_at_its_offsets(
    tasks: list[dict[str, Any]],
) -> None:
    texts = {a.id: a.text for a in read_articles(ARTICLES) if a.id in IDS}
    for task in tasks:
        text = texts[task["data"]["article_id"]]
        assert task["data"]["text"] == text
        spans = [r for r in _results(task) if r["type"] != "relation"]
        assert spans
        for r in spans:
            v = r["value"]
            assert 0 <= v["start"] < v["end"] <= len(text)
            assert v["text"] == text[v["start"] : v["end"]] == v["text"].strip()


def test_claims_follow_the_baseline(tasks: list[dict[str, Any]]) -> None:
    """REPORTED exactly when the cue rule's claimer is a predicted entity; the claimer relation
    goes to an entity of that text; the stance of a claim with a target is the stance rule's,
    NEUTRAL without one."""
    for task in tasks:
        result = _results(task)
        regions = {r["id"]: r for r in result if r["type"] == "labels"}
        entity_texts = {r["value"]["text"] for r in regions.values() if r["from_name"] == "entity"}
        links: dict[tuple[str, str], list[str]] = {}
        for r in result:
            if r["type"] == "relation":
                links.setdefault((r["from_id"], r["labels"][0]), []).append(r["to_id"])
        choice = {
            (r["id"], r["from_name"]): r["value"]["choices"][0]
            for r in result
            if r["type"] == "choices"
        }
        for rid, region in regions.items():
            if region["from_name"] != "claim":
                continue
            sentence = region["value"]["text"]
            found, name = cue_claimer(sentence)
            assert found
            claimers = links.get((rid, "claimer"), [])
            if name in entity_texts:
                assert choice[rid, "attribution"] == "REPORTED"
                assert [regions[c]["value"]["text"] for c in claimers] == [name]
            else:
                assert choice[rid, "attribution"] == "AUTHOR" and not claimers
            targets = links.get((rid, "target"), [])
            assert len(targets) <= 1
            for t in targets:
                target = regions[t]["value"]
                assert region["value"]["start"] <= target["start"]
                assert target["end"] <= region["value"]["end"]
            expected = "NEUTRAL"
            if targets:
                (row,) = predict("rules", "stance", [{"id": rid, "claim": sentence}])
                expected = row["label"]
            assert choice[rid, "stance"] == expected


def test_predictions_posted_as_an_annotation_validate(
    tasks: list[dict[str, Any]], tmp_path: Path
) -> None:
    annotated = [
        {
            "id": n,
            "data": task["data"],
            "annotations": [{"id": n, "completed_by": 1, "result": _results(task)}],
        }
        for n, task in enumerate(tasks, start=1)
    ]
    export = tmp_path / "export.json"
    export.write_text(json.dumps(annotated, ensure_ascii=False), encoding="utf-8")
    problems, checked = validate_paths([export], ARTICLES)
    assert problems == []
    assert checked > len(tasks)
    assert main(["validate", str(export), "--articles", str(ARTICLES)]) == 0


def test_a_path_named_rules_is_still_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the bare word means the baseline: ``./rules`` is a span-spec file."""
    spec = {"article_id": SEED_ID, "entities": [{"text": "Tarre", "label": "PER"}], "claims": []}
    (tmp_path / "rules").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "tasks.json"
    args = ["ls", "tasks", SEED_ID, "--articles", str(ARTICLES), "--out", str(out)]
    assert main([*args, "--predictions", "./rules"]) == 0
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    (prediction,) = task["predictions"]
    assert {r["value"]["text"] for r in prediction["result"]} == {"Tarre"}
