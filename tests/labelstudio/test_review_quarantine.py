"""``claimwire review --quarantine``: the units a build set aside become predictions on their
task (import JSON, or attached to the project's task), in the names of the export they came
from, so that a reviewer can fix and restore them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from support.foreign import FOREIGN_CONFIG, foreign_task
from support.helpers import SEED_ID, Workspace, ls_user, workspace

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.contracts.scheme import draft_scheme
from builder.labelstudio.client import connect, ensure_project, existing_tasks

AUTHOR_RULE = "quarantine: an AUTHOR claim has a claimer relation"
ORPHAN_RULE = "quarantine: per-region choice 'stance' attaches to no region"


def _slip(results: list[dict[str, Any]]) -> str:
    """Make an AUTHOR claim that keeps its claimer, and add an orphan stance choice (id
    ``gone``), in the shipped names; the claim's id."""
    claimers = {
        r["from_id"] for r in results if r["type"] == "relation" and r["labels"] == ["claimer"]
    }
    slip = next(r for r in results if r["from_name"] == "attribution" and r["id"] in claimers)
    slip["value"]["choices"] = ["AUTHOR"]
    results.append(dict(next(r for r in results if r["from_name"] == "stance"), id="gone"))
    return str(slip["id"])


def _expected(results: list[dict[str, Any]], claim: str) -> list[dict[str, Any]]:
    """The AUTHOR claim's unit as exported: the regions its relations join, then the claim with
    its choices and relations, in export order."""
    relations = [
        r for r in results if r.get("type") == "relation" and claim in (r["from_id"], r["to_id"])
    ]
    ends = [e for r in relations for e in (r["from_id"], r["to_id"]) if e != claim]
    regions = [
        next(r for r in results if r.get("id") == e and r["type"] == "labels")
        for e in dict.fromkeys(ends)
    ]
    unit = [
        r
        for r in results
        if r.get("id") == claim or (r.get("type") == "relation" and r in relations)
    ]
    return regions + unit


def _build_and_review(ws: Workspace, *extra: str) -> tuple[Path, Path]:
    assert ws.build("--on-invalid", "quarantine", *extra) == 0
    quarantine = ws.dist / f"claimwire-{DATASET_VERSION}" / "quarantine.jsonl"
    out = ws.root / "review" / "quarantine.json"
    assert main(["review", "--quarantine", str(quarantine), "--out", str(out), *extra]) == 0
    return quarantine, out


def test_quarantined_units_become_predictions_on_their_task(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    claim = _slip(tasks[0]["annotations"][0]["result"])
    ws.write_tasks(tasks)
    exported = copy.deepcopy(tasks[0])
    quarantine, out = _build_and_review(ws)
    assert capsys.readouterr().out.endswith(
        f"wrote {out}: 1 review task(s) (2 quarantined unit(s) of {quarantine} as predictions)\n"
    )
    results = exported["annotations"][0]["result"]
    assert json.loads(out.read_text(encoding="utf-8")) == [
        {
            "id": exported["id"],
            "data": exported["data"],  # the task as exported
            "predictions": [
                {"model_version": ORPHAN_RULE, "result": [results[-1]]},
                {"model_version": AUTHOR_RULE, "result": _expected(results, claim)},
            ],
        }
    ]


def test_a_foreign_projects_units_come_back_in_its_own_names(tmp_path: Path):
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    claim = _slip(tasks[0]["annotations"][0]["result"])
    # MISC regions (dropped by the mapping, with a relation from the first claim) and a
    # document-level choice (dropped): the translated results sit at other indexes
    foreign = foreign_task(tasks[0], ("Russia", "China"))
    ws.write_tasks([foreign])
    mapping = tmp_path / "scheme.json"
    mapping.write_text(json.dumps(draft_scheme(FOREIGN_CONFIG, "foreign.xml").document), "utf-8")
    _, out = _build_and_review(ws, "--scheme", str(mapping))
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    assert task["data"] == foreign["data"]  # content, article_id, headline
    results = foreign["annotations"][0]["result"]
    orphan, author = task["predictions"]
    assert orphan == {"model_version": ORPHAN_RULE, "result": [results[-2]]}  # before sentiment
    assert results[-2]["id"] == "gone" and results[-2]["value"]["choices"] == ["none"]
    # the unit without the MISC relations (and so their regions), which the mapping dropped
    kept = [r for r in results if not (r["type"] == "relation" and r["to_id"].startswith("misc"))]
    expected = _expected(kept, claim)
    assert author == {"model_version": AUTHOR_RULE, "result": expected}
    assert {r.get("from_name") for r in expected} == {
        "ner",
        "claim_span",
        "stance",
        "attribution",
        None,
    }
    assert {r["to_name"] for r in expected if "to_name" in r} == {"body"}
    assert {tuple(r["labels"]) for r in expected if r["type"] == "relation"} == {
        ("said_by",),
        ("about",),
    }


def test_units_whose_export_or_task_is_gone_and_damaged_lines_are_errors(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    _slip(tasks[0]["annotations"][0]["result"])
    ws.write_tasks(tasks)
    quarantine, out = _build_and_review(ws)
    capsys.readouterr()
    argv = ["review", "--quarantine", str(quarantine), "--out", str(out)]

    tasks[0]["id"] = 99  # the export changed since the build
    ws.write_tasks(tasks)
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"error: {ws.export}, task 1: the task a quarantined unit came from is not in its export\n"
        "    fix:      the export changed since the build: build again with --on-invalid "
        "quarantine and review the new quarantine.jsonl\n"
    )
    ws.export.unlink()
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"error: {ws.export}: the export a quarantined unit came from is not here\n"
        "    fix:      run claimwire review from the folder the build ran in, with the exports "
        "it read (the units name their export as the build was given it)\n"
    )
    damaged = tmp_path / "damaged.jsonl"
    lines = quarantine.read_text(encoding="utf-8").splitlines()
    unit = json.loads(lines[1])
    unit["results"] = "none"
    damaged.write_text(lines[0] + "\n" + json.dumps(unit) + "\n", encoding="utf-8")
    assert main(["review", "--quarantine", str(damaged), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {damaged}:2, at /results: a quarantined unit's results is not a list of Label "
        "Studio results (objects)\n"
        "    expected: a list of Label Studio results (objects)\n"
        '    found:    "none"\n'
        "    fix:      pass the quarantine.jsonl of a release built with --on-invalid "
        "quarantine, as it was written\n"
    )
    damaged.write_text("{not json\n", encoding="utf-8")
    assert main(["review", "--quarantine", str(damaged), "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith(f"error: {damaged}:1: malformed JSON")


@pytest.mark.labelstudio
def test_quarantine_review_lands_on_the_projects_task(
    ls_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
):
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
    ws = workspace(tmp_path)
    project = "quarantine-review-live"
    assert main(["ls", "push", "--project", project, "--articles", str(ws.articles)]) == 0
    client = connect()
    project_id, _ = ensure_project(client, project)
    task_id = existing_tasks(client, project_id)[SEED_ID][0]
    results = ws.tasks()[0]["annotations"][0]["result"]
    claim = _slip(results)
    client.annotations.create(task_id, result=results, completed_by=ls_user(client, "slipper"))
    pulled = tmp_path / "pulled"
    assert main(["ls", "pull", "--project", project, "--out", str(pulled)]) == 0
    argv = ["--articles", str(ws.articles), "--out", str(ws.dist)]
    assert main(["build", "--annotations", str(pulled), *argv, "--on-invalid", "quarantine"]) == 0
    quarantine = ws.dist / f"claimwire-{DATASET_VERSION}" / "quarantine.jsonl"
    out = tmp_path / "quarantine.json"
    capsys.readouterr()
    review = ["review", "--quarantine", str(quarantine), "--out", str(out), "--push", project]
    assert main(review) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"attached 2 prediction(s) to 1 task(s) of '{project}'; fix each unit in Label Studio "
        "(start from its prediction) and submit, then pull and build"
    )
    (written,) = json.loads(out.read_text(encoding="utf-8"))
    assert written["id"] == task_id
    landed = {p.model_version: p.result for p in client.predictions.list(task=task_id)}
    assert landed == {p["model_version"]: p["result"] for p in written["predictions"]}
    assert landed[AUTHOR_RULE] == _expected(results, claim)


def test_re_anchored_results_are_given_back_in_the_projects_names(tmp_path: Path):
    """A foreign task whose text has a leading newline the cleaner removes: its spans are
    re-anchored, so the unit's regions are not found in the export as the build read them and
    are given as the quarantine holds them, translated back into the project's names (the same
    translation as `ls push`), never in claimwire's."""
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    claim = _slip(tasks[0]["annotations"][0]["result"])
    foreign = foreign_task(tasks[0])
    foreign["data"]["content"] = "\n" + foreign["data"]["content"]
    for r in foreign["annotations"][0]["result"]:
        if "start" in r.get("value", {}):
            r["value"]["start"] += 1
            r["value"]["end"] += 1
    ws.write_tasks([foreign])
    mapping = tmp_path / "scheme.json"
    mapping.write_text(json.dumps(draft_scheme(FOREIGN_CONFIG, "foreign.xml").document), "utf-8")
    _, out = _build_and_review(ws, "--scheme", str(mapping))
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    author = next(p for p in task["predictions"] if p["model_version"] == AUTHOR_RULE)
    regions = [r for r in author["result"] if r["type"] != "relation"]
    claim_region = next(r for r in regions if r["id"] == claim and r["type"] == "labels")
    assert claim_region["from_name"] == "claim_span"
    assert claim_region["value"]["labels"] == ["Claim"]
    # the re-anchored offsets: one less than the export's
    exported = next(
        r
        for r in foreign["annotations"][0]["result"]
        if r.get("id") == claim and r["type"] == "labels"
    )
    assert claim_region["value"]["start"] == exported["value"]["start"] - 1
    assert {r["from_name"] for r in regions} <= {"ner", "claim_span", "stance", "attribution"}
    assert {r["to_name"] for r in regions} == {"body"}
    choices = {c for r in regions if r["type"] == "choices" for c in r["value"]["choices"]}
    assert choices <= {"for", "against", "none", "quoted", "editorial"} and "editorial" in choices
    assert {x for r in author["result"] if r["type"] == "relation" for x in r["labels"]} <= {
        "said_by",
        "about",
    }
