"""`claimwire validate` as CI uses it: every problem, with line and column, text or GitHub
format."""

import json
from pathlib import Path

from support.helpers import ROOT, workspace

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.io.jsonpos import locate


def test_shipped_annotations_are_valid(capsys):
    assert (
        main(
            [
                "validate",
                str(ROOT / "annotations" / "exports"),
                "--articles",
                str(ROOT / "articles"),
            ]
        )
        == 0
    )
    articles = [p for p in (ROOT / "articles").glob("*.json") if p.name != "sources.json"]
    tasks = sum(
        len(json.loads(f.read_text(encoding="utf-8")))
        for f in (ROOT / "annotations" / "exports").glob("*.json")
    )
    checked = len(articles) + tasks
    assert f"valid: {checked} task(s) and article(s) checked, 0 problem(s)" in (
        capsys.readouterr().err
    )


def test_locate_finds_nested_pointers():
    text = '[\n  {"id": 1, "data": {"text": "a\\"b"},\n   "x": [1, {"y": null}]}\n]'
    assert locate(text, "") == (1, 1)
    assert locate(text, "/0/data/text") == (2, 30)
    assert locate(text, "/0/x/1/y") == (3, 19)
    assert locate(text, "/0/missing") is None


def test_github_format_points_at_the_offending_line(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    tasks[0]["annotations"][0]["result"][3]["value"]["labels"] = ["MISC"]
    ws.write_tasks(tasks)
    code = main(["validate", str(ws.export), "--articles", str(ws.articles), "--format", "github"])
    out = capsys.readouterr().out.strip()
    assert code == 1
    lines = ws.export.read_text(encoding="utf-8").splitlines()
    header, _, body = out.partition("::")[2].partition("::")
    assert header.startswith(f"error file={ws.export},line=")
    line = int(header.split("line=")[1].split(",")[0])
    col = int(header.split("col=")[1].split(",")[0])
    assert lines[line - 1][col - 1 :].startswith('"MISC"')
    assert "%0A    expected: one of PER, ORG, GPE, LOC, NORP, EVENT" in body


def test_missing_path_is_reported(tmp_path: Path, capsys):
    assert main(["validate", str(tmp_path / "nope.json")]) == 1
    assert "no such file or folder" in capsys.readouterr().out


def test_usage_error_exit_code(capsys):
    try:
        main(["build", "--version", "one"])
    except SystemExit as exc:
        assert exc.code == 2
    assert "expected a semantic version like 0.1.0" in capsys.readouterr().err


def test_legacy_completions_format_is_read(tmp_path: Path):
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    tasks[0]["completions"] = tasks[0].pop("annotations")
    ws.write_tasks(tasks)
    assert ws.build() == 0
    assert (
        json.loads((ws.dist / f"claimwire-{DATASET_VERSION}" / "croissant.json").read_text())[
            "version"
        ]
        == DATASET_VERSION
    )
