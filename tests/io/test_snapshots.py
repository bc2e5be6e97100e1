"""Pull after pull: the latest state of each task, unannotated tasks that never collide, and two
annotated tasks of one article pooled (or refused), in the stream the build reads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.helpers import SEED_ID, seed_export, workspace

from builder.errors import InvalidDataError
from builder.io.exports import RawTask, parse_task, raw_tasks
from builder.io.snapshots import Selection, name_time, task_facts
from builder.pipeline.build import build


def _seed() -> dict[str, Any]:
    task: dict[str, Any] = json.loads(seed_export())[0]
    return task


def _write(path: Path, tasks: list[dict[str, Any]], ascii_only: bool = False) -> Path:
    path.write_text(json.dumps(tasks, ensure_ascii=ascii_only), encoding="utf-8")
    return path


def _relabel(task: dict[str, Any], rid: str, label: str, when: str) -> dict[str, Any]:
    """``task`` with region ``rid`` relabelled in its first annotation, updated at ``when``."""
    task = copy.deepcopy(task)
    a = task["annotations"][0]
    for r in a["result"]:
        if r.get("id") == rid and r["type"] == "labels":
            r["value"]["labels"] = [label]
    a["updated_at"] = task["updated_at"] = when
    return task


def _unannotated(task: dict[str, Any], created: str) -> dict[str, Any]:
    """The same article as a new task on another server: no annotation yet."""
    return {**copy.deepcopy(task), "annotations": [], "created_at": created, "updated_at": created}


def _selected(paths: list[Path], **kw: Any) -> list[Any]:
    out = []
    for item in Selection(paths, **kw):
        if isinstance(item, RawTask):
            out.append(parse_task(item))
        else:
            out.append(item)
    return out


def _label(task: Any, rid: str) -> str:
    (label,) = {
        r["value"]["labels"][0]
        for a in task.annotations
        for r in a["result"]
        if r.get("id") == rid and r["type"] == "labels"
    }
    return label


def test_what_identifies_a_snapshot_and_a_task():
    seed = _seed()
    facts = task_facts(seed)
    assert facts.identity == (seed["project"], seed["id"], seed["created_at"])
    assert facts.article == SEED_ID and facts.annotated and facts.task_id == seed["id"]
    # the latest time in the task and its annotations
    stamps = [seed["updated_at"], *(a["updated_at"] for a in seed["annotations"])]
    latest = datetime.fromisoformat(max(stamps).replace("Z", "+00:00"))
    assert facts.time == (latest - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    skipped = {**seed, "annotations": [{**seed["annotations"][0], "was_cancelled": True}]}
    assert not task_facts(skipped).annotated
    assert task_facts({**seed, "created_at": None}).identity is None  # never superseded
    # claimwire ls pull's names, Label Studio's own export names, and others
    assert (
        name_time("claimwire-20270102T030405Z.json")
        == name_time("project-1-at-2027-01-02-03-04-5a9c2b1e.json") + 5 * 1_000_000
    )
    assert name_time("gold.json") == 0


def test_the_latest_snapshot_of_a_task_wins_whatever_the_input_order(tmp_path: Path):
    seed = _seed()
    later = _relabel(seed, "e001", "ORG", "2027-01-01T00:00:00Z")
    # the later state first in input order, in a file whose name has no time: its content says
    a = _write(tmp_path / "a.json", [later])
    b = _write(tmp_path / "b.json", [seed])
    (task,) = _selected([a, b])
    assert _label(task, "e001") == "ORG" and task.file == str(a)
    sel = Selection([a, b])
    assert (sel.stats.tasks, sel.stats.superseded) == (2, 1)
    # a snapshot named by `claimwire ls pull` after an annotation was deleted: the deletion
    # leaves no later time inside the file, the name says it was taken later
    deleted = {**seed, "annotations": []}
    c = _write(tmp_path / "claimwire-20991231T000000Z.json", [deleted])
    (task,) = _selected([a, b, c])
    assert task.file == str(c) and task.annotations == ()
    # the same project and task id on another server (a fresh clone's server numbers its
    # projects and tasks from 1 again): another task, not a state of this one
    other = _unannotated(seed, "2027-06-01T00:00:00.000001Z")
    d = _write(tmp_path / "claimwire-20991231T000001Z.json", [other])
    (task,) = _selected([b, d])
    assert task.file == str(b) and _label(task, "e001") == "PER"


def test_an_unannotated_task_never_collides(tmp_path: Path):
    ws = workspace(tmp_path)
    seed = _seed()
    fresh = _unannotated(seed, "2027-06-01T00:00:00.000001Z")
    skipped = copy.deepcopy(fresh)
    skipped["id"] = 2
    skipped["annotations"] = [{**seed["annotations"][0], "was_cancelled": True, "result": []}]
    # before and after the annotated task in input order
    _write(ws.export.parent / "a-claimwire-20270601T000000Z.json", [fresh])
    _write(ws.export.parent / "z-other.json", [skipped])
    alone = build(ws.articles, [ws.export], tmp_path / "alone", "1.0.0")
    both = build(ws.articles, [ws.export.parent], tmp_path / "both", "1.0.0")
    assert both.selection.unannotated == 2 and both.tasks == 1
    # the release is the one the annotated task alone makes, byte for byte
    files = sorted(p.relative_to(alone.path) for p in alone.path.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(both.path) for p in both.path.rglob("*") if p.is_file())
    for f in files:
        assert (alone.path / f).read_bytes() == (both.path / f).read_bytes(), f
    # only unannotated tasks of an article: one is read (the first), the article is unannotated
    (task,) = _selected(sorted(ws.export.parent.glob("*-*.json")))
    assert task.annotations == () and task.id == 1


def _second_annotator(seed: dict[str, Any], created: str, crlf: bool = False) -> dict[str, Any]:
    """The seed's article in another project: annotated by user 2 (not ground truth), one
    entity relabelled; with ``crlf`` its text has Windows line endings (re-anchored)."""
    task = _relabel(seed, "e001", "ORG", created)
    task.update(project=7, id=40, created_at=created)
    a = task["annotations"][0]
    a.update(completed_by=2, ground_truth=False, id=99)
    if crlf:
        text = task["data"]["text"]

        def shift(i: int) -> int:
            return i + text.count("\n", 0, i)

        task["data"]["text"] = text.replace("\n", "\r\n")
        del task["data"]["text_sha256"]
        for r in a["result"]:
            v = r.get("value")
            if isinstance(v, dict) and "start" in v:
                v["start"], v["end"] = shift(v["start"]), shift(v["end"])
                v["text"] = task["data"]["text"][v["start"] : v["end"]]
    return task


def _documents(release: Path) -> list[dict[str, Any]]:
    return [
        row
        for f in sorted((release / "data" / "documents").glob("*.parquet"))
        for row in pq.read_table(f).to_pylist()
    ]


@pytest.mark.parametrize("crlf", [False, True])
def test_two_annotated_tasks_of_one_article_are_pooled(tmp_path: Path, crlf: bool):
    ws = workspace(tmp_path)
    seed = _seed()
    other = _second_annotator(seed, "2027-02-02T00:00:00Z", crlf)
    _write(ws.export.parent / "project-7.json", [other])
    result = build(ws.articles, [ws.export.parent], tmp_path / "dist", "1.0.0")
    assert result.selection.pooled == 1 and result.tasks == 1
    assert result.stats.reanchored == (1 if crlf else 0)
    (doc,) = _documents(result.path)
    assert doc["annotation"]["n_annotators"] == 2
    # the gold task's annotation is ground truth: it decides, as in one task with two
    assert doc["annotation"]["adjudication"] == "ground_truth"
    e001 = next(e for e in doc["entities"] if e["id"] == "e001")
    assert e001["label"] == "PER"
    # two independent annotators vote, and tie: the most recent's label wins
    seed["annotations"][0]["ground_truth"] = False
    _write(ws.export, [seed])
    result = build(ws.articles, [ws.export.parent], tmp_path / "dist2", "1.0.0")
    (doc,) = _documents(result.path)
    assert doc["annotation"]["adjudication"] == "majority"
    e001 = next(e for e in doc["entities"] if e["id"] == "e001")
    assert (e001["label"], e001["decided_by"]) == ("ORG", "tie_most_recent")


def test_two_annotated_tasks_of_one_article_refused_when_asked(tmp_path: Path):
    ws = workspace(tmp_path)
    seed = _seed()
    reimport = copy.deepcopy(seed)
    reimport.update(id=2, created_at="2027-02-02T00:00:00Z")
    # a re-import into the same project, in the same snapshot; ids written with \\u escapes
    # (json.dumps' default) are found all the same
    export = _write(tmp_path / "snapshot.json", [seed, reimport], ascii_only=True)
    with pytest.raises(InvalidDataError) as err:
        build(ws.articles, [export], tmp_path / "dist", "1.0.0", same_article="refuse")
    (p,) = err.value.problems
    assert f"article is annotated in two tasks (also {export}, task 1)" in p.message
    assert (p.file, p.task, p.article, p.pointer) == (str(export), 2, SEED_ID, "/1")
    pooled = build(ws.articles, [export], tmp_path / "dist", "1.0.0")
    assert pooled.selection.pooled == 1
    # one annotator twice: one vote, the document is the single annotation's
    (doc,) = _documents(pooled.path)
    assert doc["annotation"]["n_annotators"] == 1


def test_the_second_read_gives_what_the_exports_hold(tmp_path: Path):
    """Each task's bytes are taken again where the first read found them: the stream is the
    one :func:`raw_tasks` gives, tasks and problems in place, across arrays and per-task files."""
    seed = _seed()
    tasks = [
        dict(copy.deepcopy(seed), id=i, data={**seed["data"], "article_id": f"a{i}"})
        for i in range(4)
    ]
    one = _write(tmp_path / "one.json", tasks[:2])
    damaged = tmp_path / "two.json"  # a task, then an array that is not closed
    damaged.write_text("[\r\n" + json.dumps(tasks[2]) + ",\n  ", encoding="utf-8")
    folder = tmp_path / "storage"
    folder.mkdir()
    (folder / "7.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(tasks[3]).encode())
    paths = [one, damaged, folder]
    expected = [item for p in paths for item in raw_tasks(p)]
    got = list(Selection(paths))
    assert [type(i) for i in got] == [RawTask, RawTask, RawTask, InvalidDataError, RawTask]
    assert [i if isinstance(i, RawTask) else str(i) for i in got] == [
        i if isinstance(i, RawTask) else str(i) for i in expected
    ]


def test_an_export_gone_before_the_second_read_is_an_error_in_place(tmp_path: Path):
    seed = _seed()
    tasks = [
        dict(copy.deepcopy(seed), id=i, data={**seed["data"], "article_id": f"a{i}"})
        for i in range(2)
    ]
    export = _write(tmp_path / "one.json", tasks)
    selection = Selection([export])  # the first read
    export.unlink()
    (error,) = list(selection)
    assert isinstance(error, InvalidDataError)
    assert "could not be read again" in str(error) and str(export) in str(error)
