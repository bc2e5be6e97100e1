"""Exports from Label Studio's export storage (a folder of per-task or per-annotation files) and
from fsspec URLs build the same release as the JSON export they hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fsspec
import pyarrow.parquet as pq
from support.helpers import Workspace, workspace

from builder import DATASET_VERSION
from builder.cli.main import main


def _documents(ws: Workspace, *sources: str) -> list[dict[str, Any]]:
    assert (
        main(
            [
                "build",
                "--articles",
                str(ws.articles),
                "--out",
                str(ws.dist),
                "--annotations",
                *sources,
            ]
        )
        == 0
    )
    table = pq.read_table(
        ws.dist / f"claimwire-{DATASET_VERSION}/data/documents/train-00000-of-00001.parquet"
    )
    return table.to_pylist()


def test_memory_url_folder_of_task_files(tmp_path: Path):
    (tmp_path / "ref").mkdir()
    ref = workspace(tmp_path / "ref")
    reference = _documents(ref, str(ref.export))
    (tmp_path / "new").mkdir()
    ws = workspace(tmp_path / "new")
    fs = fsspec.filesystem("memory")
    for task in ws.tasks():
        fs.pipe(f"/storage-a/tasks/{task['id']}.json", json.dumps(task).encode())
    assert _documents(ws, "memory://storage-a/tasks") == reference


def test_per_annotation_files_are_regrouped_into_tasks(tmp_path: Path):
    ws = workspace(tmp_path)
    (task,) = ws.tasks()
    first = task["annotations"][0]
    second = {
        **first,
        "id": first["id"] + 1,
        "ground_truth": False,
        "updated_at": "2030-01-01T00:00:00Z",
        "completed_by": 7,
    }
    folder = tmp_path / "storage"
    folder.mkdir()
    bare = {k: v for k, v in task.items() if k != "annotations"}
    for ann in (first, second):  # what older export storage writes: one file per annotation
        (folder / str(ann["id"])).with_suffix(".json").write_text(
            json.dumps({**ann, "task": bare}), encoding="utf-8"
        )
    (row,) = _documents(ws, str(folder))
    assert row["annotation"]["n_annotators"] == 2
    assert row["annotation"]["adjudication"] == "ground_truth"
    assert len(row["entities"]) == 67


def test_file_url_and_errors_name_the_url(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    assert len(_documents(ws, f"file://{ws.export}")) == 1
    capsys.readouterr()
    fs = fsspec.filesystem("memory")
    tasks = ws.tasks()
    tasks[0]["annotations"][0]["result"][0]["value"]["labels"] = ["MISC"]
    fs.pipe("/broken/export.json", json.dumps(tasks, indent=1).encode())
    assert main(["validate", "memory://broken/export.json", "--articles", str(ws.articles)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("memory://broken/export.json:")
    assert "at /0/annotations/0/result/0/value/labels/0" in out


def test_unknown_protocol_is_a_usage_error(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    assert (
        main(
            [
                "build",
                "--articles",
                str(ws.articles),
                "--out",
                str(ws.dist),
                "--annotations",
                "nosuchproto://bucket/x.json",
            ]
        )
        == 2
    )
    assert "install the fsspec driver for that protocol" in capsys.readouterr().err
