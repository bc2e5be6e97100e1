"""Review tasks through a real Label Studio: three annotators disagree, the review predictions
land on the task, a reviewer settles it as ground truth, and pull → build takes the settled
version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.helpers import ROOT, SEED_ID, ls_user, workspace

from builder.cli.main import main
from builder.labelstudio.client import connect, ensure_project, existing_tasks

pytestmark = pytest.mark.labelstudio
FIXTURE = json.loads((ROOT / "tests/fixtures/three_annotators.json").read_text(encoding="utf-8"))


def _row(ws: Any, exports: Path, version: str) -> dict[str, Any]:
    assert (
        main(
            [
                "build",
                "--articles",
                str(ws.articles),
                "--annotations",
                str(exports),
                "--out",
                str(ws.dist),
                "--version",
                version,
            ]
        )
        == 0
    )
    path = ws.dist / f"claimwire-{version}/data/documents/train-00000-of-00001.parquet"
    (row,) = pq.read_table(path).to_pylist()
    return row


def test_review_round_trip(
    ls_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
    ws = workspace(tmp_path)
    project = "review-live"
    assert main(["ls", "push", "--project", project, "--articles", str(ws.articles)]) == 0
    client = connect()
    project_id, _ = ensure_project(client, project)
    task_id = existing_tasks(client, project_id)[SEED_ID][0]
    for n, ann in enumerate(a for a in FIXTURE[0]["annotations"] if not a.get("was_cancelled")):
        client.annotations.create(
            task_id, result=ann["result"], completed_by=ls_user(client, f"annotator{n}")
        )

    pulled = tmp_path / "pull1"
    assert main(["ls", "pull", "--project", project, "--out", str(pulled)]) == 0
    voted = _row(ws, pulled, "0.1.0")
    assert voted["annotation"]["adjudication"] == "majority"
    assert voted["annotation"]["n_annotators"] == 3

    review = tmp_path / "review.json"
    capsys.readouterr()
    assert (
        main(
            [
                "review",
                str(pulled),
                "--articles",
                str(ws.articles),
                "--threshold",
                "1.0",
                "--out",
                str(review),
                "--push",
                project,
            ]
        )
        == 0
    )
    predictions = client.predictions.list(task=task_id)
    versions = sorted(p.model_version for p in predictions)
    assert len(versions) == 4 and versions[0] == "adjudicated (majority)"
    assert all(v.startswith("annotator ann-") for v in versions[1:])

    # the reviewer starts from the adjudicated version, drops one entity and submits as truth
    settled = next(p for p in predictions if p.model_version.startswith("adjudicated")).result
    linked = {r["to_id"] for r in settled if r["type"] == "relation"}
    dropped, dropped_text = next(
        (r["id"], r["value"]["text"])
        for r in settled
        if r.get("from_name") == "entity" and r["id"] not in linked
    )
    settled = [r for r in settled if r.get("id") != dropped]
    client.annotations.create(
        task_id, result=settled, completed_by=int(client.users.whoami().id), ground_truth=True
    )
    pulled2 = tmp_path / "pull2"
    assert main(["ls", "pull", "--project", project, "--out", str(pulled2)]) == 0
    final = _row(ws, pulled2, "0.1.1")
    assert final["annotation"]["adjudication"] == "ground_truth"
    assert len(final["entities"]) == len(voted["entities"]) - 1
    assert dropped not in {e["id"] for e in final["entities"]}
    assert dropped in {e["id"] for e in voted["entities"]} and dropped_text
    assert [c["id"] for c in final["claims"]] == [c["id"] for c in voted["claims"]]
