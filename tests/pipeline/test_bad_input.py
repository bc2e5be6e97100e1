"""Each kind of bad input: one clear error naming the place and the fix, exit 1, no traceback,
and nothing left in the output folder."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.helpers import SEED_ID, Workspace, workspace

Tasks = list[dict[str, Any]]


def _result(tasks: Tasks, pred: Callable[[dict[str, Any]], bool]) -> tuple[int, dict[str, Any]]:
    results = tasks[0]["annotations"][0]["result"]
    return next((j, r) for j, r in enumerate(results) if pred(r))


def shift_span(tasks: Tasks) -> str:
    j, r = _result(tasks, lambda r: r.get("from_name") == "entity" and r["value"]["start"] > 100)
    r["value"]["start"] += 1
    return f"/0/annotations/0/result/{j}/value"


def unknown_label(tasks: Tasks) -> str:
    j, r = _result(tasks, lambda r: r.get("from_name") == "entity")
    r["value"]["labels"] = ["MISC"]
    return f"/0/annotations/0/result/{j}/value/labels/0"


def dangling_relation(tasks: Tasks) -> str:
    j, r = _result(tasks, lambda r: r["type"] == "relation" and r["labels"] == ["target"])
    r["to_id"] = "gone"
    return f"/0/annotations/0/result/{j}/to_id"


def changed_text(tasks: Tasks) -> str:
    """A word inside annotated spans changed in the task's text only: the task is re-anchored,
    and the spans over the word no longer match the task's own text; the first is named."""
    text = tasks[0]["data"]["text"]
    at = text.index("Maduro")
    tasks[0]["data"]["text"] = text.replace("Maduro", "Madura", 1)
    results = tasks[0]["annotations"][0]["result"]
    j = next(
        j
        for j, r in enumerate(results)
        if r["type"] == "labels" and r["value"]["start"] <= at < r["value"]["end"]
    )
    return f"/0/annotations/0/result/{j}/value"


def other_text(tasks: Tasks) -> str:
    tasks[0]["data"]["text"] = "An unrelated text. " * 200
    return "/0/data/text"


def unknown_article(tasks: Tasks) -> str:
    tasks[0]["data"]["article_id"] = "999_not_here"
    return "/0/data/article_id"


def escaping_article(tasks: Tasks) -> str:
    tasks[0]["data"]["article_id"] = "../../etc/passwd"
    return "/0/data/article_id"


CASES = {
    "span offsets": (
        shift_span,
        "span offsets do not match the span text",
        "re-select the span in Label Studio",
    ),
    "undeclared label": (unknown_label, '"MISC" is not one of', "one of PER, ORG, GPE"),
    "dangling relation": (
        dangling_relation,
        "relation points to a region that does not exist",
        "draw it again",
    ),
    "changed text": (
        changed_text,
        "a span cannot be carried over to the cleaned article: the span's offsets do not match "
        "its text in the task",
        "re-select the span on the cleaned article",
    ),
    "other text": (
        other_text,
        "task text differs from the cleaned article (first difference at character 0) and "
        "cannot be re-anchored on it",
        "regenerate the task",
    ),
    "unknown article": (
        unknown_article,
        "annotation for an unknown article",
        "add the article to articles/",
    ),
    "escaping id": (
        escaping_article,
        "annotation for an unknown article",
        "add the article to articles/",
    ),
}


def _assert_clean_failure(ws: Workspace, capsys: pytest.CaptureFixture[str], code: int) -> str:
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    assert not ws.dist.exists() or list(ws.dist.iterdir()) == []
    return err


@pytest.mark.parametrize("case", CASES)
def test_bad_export_fails_with_place_and_fix(case: str, tmp_path: Path, capsys):
    mutate, message, fix = CASES[case]
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    pointer = mutate(tasks)
    ws.write_tasks(tasks)
    err = _assert_clean_failure(ws, capsys, ws.build())
    assert message in err
    assert fix in err
    assert f"{ws.export}:" in err  # file:line:column
    assert "task 1" in err
    assert f"at {pointer}" in err


def test_malformed_json_names_line_and_column(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    text = ws.export.read_text(encoding="utf-8")
    ws.export.write_text(text[: len(text) // 2], encoding="utf-8")
    err = _assert_clean_failure(ws, capsys, ws.build())
    assert "malformed JSON" in err
    assert f"{ws.export}:" in err and "export it again" in err


def test_article_id_that_would_escape_the_output_folder(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    meta = json.loads((ws.articles / f"{SEED_ID}.json").read_text(encoding="utf-8"))
    meta["id"] = "../escape"
    (ws.articles / f"{SEED_ID}.json").write_text(json.dumps(meta), encoding="utf-8")
    err = _assert_clean_failure(ws, capsys, ws.build())
    assert "at /id" in err and "../escape" in err
    assert not (tmp_path / "escape").exists()


@pytest.mark.parametrize(
    "content,kind",
    [
        ("id,text,entity\n1,hello,PER\n", "CSV/TSV"),
        ("-DOCSTART- -X- O\nGuaido -X- _ B-PER\n", "CONLL"),
        ("", "an empty file"),
    ],
)
def test_lossy_export_formats_are_refused_with_the_way_out(tmp_path, capsys, content, kind):
    ws = workspace(tmp_path)
    ws.export.write_text(content, encoding="utf-8")
    err = _assert_clean_failure(ws, capsys, ws.build())
    assert f"this looks like {kind}" in err
    assert "export the project as JSON" in err


def test_json_min_export_is_refused(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    ws.write_tasks([{"id": 1, "text": "x", "entity": [{"start": 0, "end": 1, "labels": ["PER"]}]}])
    err = _assert_clean_failure(ws, capsys, ws.build())
    assert "JSON_MIN" in err and "keeps relations, per-region choices" in err


def test_several_problems_are_all_listed(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    pointers = [shift_span(tasks), dangling_relation(tasks)]
    ws.write_tasks(tasks)
    from builder.cli.main import main

    code = main(["validate", str(ws.export), "--articles", str(ws.articles)])
    out, err = capsys.readouterr()
    assert code == 1
    assert [
        line.split(" at ")[1].split(":")[0] for line in out.splitlines() if " at /" in line
    ] == pointers
    assert "1 task(s) and article(s) checked, 2 problem(s)" not in err
    assert "2 task(s) and article(s) checked, 2 problem(s)" in err
