"""Bring your own project, against a real server: a project with a foreign labeling config,
annotated in its own names; `scheme init --from-project` reads its config, `ls pull --scheme`
checks the export, `validate --scheme` reads it as claimwire's scheme."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.foreign import FOREIGN_CONFIG, foreign_task
from support.helpers import ROOT, SEED_ID, ls_user, workspace

from builder import DATASET_VERSION as V
from builder.cli.main import main
from builder.contracts.scheme import draft_scheme, load_scheme
from builder.io.exports import read_export
from builder.labelstudio.client import annotation_results, connect, existing_tasks, find_project
from builder.labelstudio.review import review_task
from builder.pipeline.documents import merged

pytestmark = pytest.mark.labelstudio

PROJECT = "byo-foreign"


@pytest.fixture
def env(ls_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
    yield


def test_a_foreign_project_is_mapped_pulled_and_validated(env: None, tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    task = foreign_task(ws.tasks()[0], ("Russia", "China"))
    client = connect()
    project = find_project(client, PROJECT)
    if project is None:
        project = client.projects.create(title=PROJECT, label_config=FOREIGN_CONFIG)
        (task_id,) = client.projects.import_tasks(
            project.id, request=[{"data": task["data"]}], return_task_ids=True
        ).task_ids
        client.annotations.create(
            task_id,
            result=task["annotations"][0]["result"],
            completed_by=int(client.users.whoami().id),
            ground_truth=True,
        )

    scheme = tmp_path / "scheme.json"
    assert main(["scheme", "init", "--from-project", PROJECT, "--out", str(scheme)]) == 0
    assert "| control | sentiment |  | drop |" in capsys.readouterr().out
    assert load_scheme(scheme) == draft_scheme(FOREIGN_CONFIG, project=PROJECT).scheme

    pulled = tmp_path / "pulled"
    args = ["ls", "pull", "--project", PROJECT, "--out", str(pulled), "--scheme", str(scheme)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"1 task(s) fit {scheme}; scheme mapping dropped 2 region(s) (ner:MISC 2)" in out
    (export,) = pulled.iterdir()
    args = ["validate", str(export), "--articles", str(ws.articles), "--scheme", str(scheme)]
    assert main(args) == 0
    capsys.readouterr()

    # a mapping that does not fit: the pull says so (the export is written all the same)
    doc = json.loads(scheme.read_text(encoding="utf-8"))
    del doc["relations"]["about"]
    scheme.write_text(json.dumps(doc), encoding="utf-8")
    again = tmp_path / "again"
    args = ["ls", "pull", "--project", PROJECT, "--out", str(again), "--scheme", str(scheme)]
    assert main(args) == 1
    assert "relation label 'about' is not in the scheme" in capsys.readouterr().err
    assert len(list(again.iterdir())) == 1


PUSHED = "byo-push"


def _rows(release: Path) -> list[dict[str, Any]]:
    files = sorted((release / "data" / "documents").glob("*.parquet"))
    rows = sorted((r for f in files for r in pq.read_table(f).to_pylist()), key=lambda r: r["id"])
    for row in rows:  # who pushed it differs; everything annotated must not
        row["annotation"].pop("annotator_ids")
    return rows


def test_a_release_pushed_into_a_foreign_project_builds_back_the_same(
    env: None, tmp_path: Path, capsys
):
    """`ls push --release --scheme`: the release goes into the team's project in the team's
    names (its labeling config untouched), and a pull built through the same mapping gives
    the release back region for region. Predictions pushed the same way are read back in
    canonical names."""
    ws = workspace(tmp_path / "orig")
    assert ws.build() == 0
    release = ws.dist / f"claimwire-{V}"
    client = connect()
    if find_project(client, PUSHED) is None:
        client.projects.create(title=PUSHED, label_config=FOREIGN_CONFIG)
    # a mapping that knows an older spelling too, listed first: the config's one is written
    doc = draft_scheme(FOREIGN_CONFIG, project=PUSHED).document
    doc["spans"]["ner"]["labels"] = {"Person_old": "PER", **doc["spans"]["ner"]["labels"]}
    scheme = tmp_path / "scheme.json"
    scheme.write_text(json.dumps(doc), encoding="utf-8")
    push = ["ls", "push", "--project", PUSHED, "--release", str(release), "--scheme", str(scheme)]

    assert main([*push, "--as", "annotations"]) == 0
    out = capsys.readouterr().out
    assert "labeling config unchanged" in out
    assert "1 new task(s), 0 added to existing task(s), 0 already there" in out
    assert main([*push, "--as", "annotations"]) == 0
    assert "0 new task(s), 0 added to existing task(s), 1 already there" in capsys.readouterr().out

    project = find_project(client, PUSHED)
    assert project.label_config.strip() == FOREIGN_CONFIG.strip()
    (task,) = list(client.tasks.list(project=project.id))
    assert set(task.data) >= {"content", "article_id", "headline"} and "text" not in task.data
    (annotation,) = client.annotations.list(task.id)
    used = {
        (r.get("from_name"), r.get("to_name"), *(r.get("value", {}).get("labels") or []))
        for r in annotation.result
        if r["type"] == "labels"
    }
    assert ("ner", "body", "PERSON") in used and ("claim_span", "body", "Claim") in used
    assert {x for r in annotation.result if r["type"] == "relation" for x in r["labels"]} == {
        "said_by",
        "about",
    }

    pulled = tmp_path / "pulled"
    pull = ["ls", "pull", "--project", PUSHED, "--out", str(pulled), "--scheme", str(scheme)]
    assert main(pull) == 0
    assert "1 task(s) fit" in capsys.readouterr().out
    dist = tmp_path / "dist"
    build = ["build", "--articles", str(ws.articles), "--annotations", str(pulled)]
    assert main([*build, "--out", str(dist), "--scheme", str(scheme)]) == 0
    assert _rows(dist / f"claimwire-{V}") == _rows(release)

    # as predictions, on the task already there; read back from a pull in canonical names
    assert main([*push, "--as", "predictions"]) == 0
    assert "0 new task(s), 1 added to existing task(s)" in capsys.readouterr().out
    again = tmp_path / "again"
    assert main([*pull[:-4], "--out", str(again), "--scheme", str(scheme)]) == 0
    capsys.readouterr()
    (record,) = read_export(next(again.iterdir()), load_scheme(scheme))
    (prediction,) = record.predictions
    labels = {r["value"]["labels"][0] for r in prediction["result"] if r["type"] == "labels"}
    assert labels == {"PER", "GPE", "ORG", "NORP", "CLAIM"}
    assert {r["to_name"] for r in prediction["result"] if r["type"] != "relation"} == {"text"}

    # a canonical label the mapping drops has nowhere to go: nothing is pushed
    doc["spans"]["ner"]["labels"]["Nationality"] = "drop"
    scheme.write_text(json.dumps(doc), encoding="utf-8")
    assert main([*push, "--as", "predictions"]) == 1
    err = capsys.readouterr().err
    assert "6 result(s) with the label 'NORP' have no place in the project" in err
    assert "nothing was pushed" in err
    assert len(list(client.predictions.list(task=task.id))) == 1

    # with a mapping, push never creates a project (it would have no labeling config to take)
    missing = ["ls", "push", "--project", "byo-nowhere", "--release", str(release)]
    assert main([*missing, "--scheme", str(scheme)]) == 2
    assert "no project named 'byo-nowhere' on the server" in capsys.readouterr().err
    assert find_project(client, "byo-nowhere") is None
    # ...nor pushes into a project whose Text tag is not the mapping's
    doc["text"]["tag"] = "article"
    scheme.write_text(json.dumps(doc), encoding="utf-8")
    assert main([*push, "--as", "predictions"]) == 2
    assert f"project {PUSHED!r} has no Text tag 'article' (the mapping's text.tag)" in (
        capsys.readouterr().err
    )


REVIEWED = "byo-review"
PRE_ANNOTATED = "byo-tasks"
FIXTURE = json.loads((ROOT / "tests/fixtures/three_annotators.json").read_text(encoding="utf-8"))


def _project(client: Any, title: str) -> Any:
    project = find_project(client, title)
    if project is None:
        project = client.projects.create(title=title, label_config=FOREIGN_CONFIG)
    return project


def _pull(project: str, out: Path, scheme: Path) -> list[Any]:
    """`ls pull --scheme` into a new folder; its tasks read through the mapping."""
    assert (
        main(["ls", "pull", "--project", project, "--out", str(out), "--scheme", str(scheme)]) == 0
    )
    (export,) = out.iterdir()
    return list(read_export(export, load_scheme(scheme)))


def test_review_tasks_pushed_into_a_foreign_project_come_back_in_canonical_names(
    env: None, tmp_path: Path, capsys
):
    """Three annotators disagree in the team's project; `review --push --scheme` attaches the
    adjudicated and every annotator's version as predictions in the project's names, and a pull
    read through the same mapping gives them back in claimwire's names, as the review made
    them."""
    ws = workspace(tmp_path / "ws")
    client = connect()
    project = _project(client, REVIEWED)
    task = copy.deepcopy(FIXTURE[0])
    task["annotations"] = [a for a in task["annotations"] if not a.get("was_cancelled")]
    foreign = foreign_task(task)
    if SEED_ID not in existing_tasks(client, project.id):
        (task_id,) = client.projects.import_tasks(
            project.id, request=[{"data": foreign["data"]}], return_task_ids=True
        ).task_ids
        for n, a in enumerate(foreign["annotations"]):
            user = ls_user(client, f"byo-annotator{n}")
            client.annotations.create(task_id, result=a["result"], completed_by=user)
    task_id = existing_tasks(client, project.id)[SEED_ID][0]
    scheme = tmp_path / "scheme.json"
    scheme.write_text(json.dumps(draft_scheme(FOREIGN_CONFIG, project=REVIEWED).document), "utf-8")
    pulled = tmp_path / "pulled"
    _pull(REVIEWED, pulled, scheme)
    # the review as claimwire makes it, in its own names
    (made,) = [
        review_task(doc, t.id, versions, annotation_results(doc.to_row()))
        for t, doc, versions in merged([pulled], ws.articles, None, load_scheme(scheme))
    ]
    assert len(made["predictions"]) == 4
    capsys.readouterr()

    out = tmp_path / "review.json"
    argv = ["review", str(pulled), "--articles", str(ws.articles), "--threshold", "1.0"]
    assert main([*argv, "--out", str(out), "--scheme", str(scheme), "--push", REVIEWED]) == 0
    assert f"attached 4 prediction(s) to 1 task(s) of '{REVIEWED}'" in capsys.readouterr().out
    landed = client.predictions.list(task=task_id)
    assert {r["to_name"] for p in landed for r in p.result if r["type"] != "relation"} == {"body"}
    assert {r["from_name"] for p in landed for r in p.result if r["type"] == "labels"} == {
        "ner",
        "claim_span",
    }

    (record,) = _pull(REVIEWED, tmp_path / "again", scheme)
    back = {p["model_version"]: p["result"] for p in record.predictions}
    assert back == {p["model_version"]: p["result"] for p in made["predictions"]}


def test_tasks_with_predictions_pushed_into_a_foreign_project_come_back_in_canonical_names(
    env: None, tmp_path: Path, capsys
):
    """`ls tasks --predictions RELEASE --scheme` writes the team's names; `ls push --tasks
    --scheme` sends the file as it is; a pull read through the mapping gives the release's
    predictions back in claimwire's names."""
    ws = workspace(tmp_path / "ws")
    assert ws.build() == 0
    release = ws.dist / f"claimwire-{V}"
    client = connect()
    _project(client, PRE_ANNOTATED)
    scheme = tmp_path / "scheme.json"
    scheme.write_text(
        json.dumps(draft_scheme(FOREIGN_CONFIG, project=PRE_ANNOTATED).document), "utf-8"
    )
    argv = ["ls", "tasks", SEED_ID, "--articles", str(ws.articles), "--predictions", str(release)]
    canonical, theirs = tmp_path / "canonical.json", tmp_path / "theirs.json"
    assert main([*argv, "--out", str(canonical)]) == 0
    assert main([*argv, "--out", str(theirs), "--scheme", str(scheme)]) == 0
    push = ["ls", "push", "--project", PRE_ANNOTATED, "--tasks", str(theirs)]
    capsys.readouterr()
    assert main([*push, "--scheme", str(scheme)]) == 0
    out = capsys.readouterr().out
    assert "labeling config unchanged" in out
    assert "imported 1 new task(s); 0 already in the project" in out
    assert main([*push, "--scheme", str(scheme)]) == 0
    assert "imported 0 new task(s); 1 already in the project" in capsys.readouterr().out

    project = find_project(client, PRE_ANNOTATED)
    assert project.label_config.strip() == FOREIGN_CONFIG.strip()
    (task,) = list(client.tasks.list(project=project.id))
    assert "content" in task.data and "text" not in task.data
    (record,) = _pull(PRE_ANNOTATED, tmp_path / "pulled", scheme)
    (want,) = json.loads(canonical.read_text(encoding="utf-8"))
    (prediction,) = record.predictions
    assert prediction["model_version"] == want["predictions"][0]["model_version"]
    assert prediction["result"] == want["predictions"][0]["result"]
