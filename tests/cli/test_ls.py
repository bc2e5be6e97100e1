"""`claimwire ls tasks` with a scheme mapping: tasks and their predictions in the team's
project's names, through the same translation as `ls push --release`; `ls push --tasks` takes
such a file as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.foreign import FOREIGN_CONFIG, _foreign_result, foreign_data
from support.helpers import SEED_ID, Workspace, workspace

from builder import DATASET_VERSION as V
from builder.cli.main import main
from builder.contracts.scheme import draft_scheme


def _mapping(tmp_path: Path, drop_nationality: bool = False) -> Path:
    doc = draft_scheme(FOREIGN_CONFIG, "foreign.xml").document
    if drop_nationality:
        doc["spans"]["ner"]["labels"]["Nationality"] = "drop"
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _tasks(ws: Workspace, out: Path, *extra: str) -> int:
    release = ws.dist / f"claimwire-{V}"
    argv = ["ls", "tasks", SEED_ID, "--articles", str(ws.articles), "--out", str(out)]
    return main([*argv, "--predictions", str(release), *extra])


def test_tasks_with_predictions_are_written_in_the_projects_names(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    assert ws.build() == 0
    mapping = _mapping(tmp_path)
    canonical, foreign = tmp_path / "canonical.json", tmp_path / "foreign.json"
    assert _tasks(ws, canonical) == 0
    capsys.readouterr()
    assert _tasks(ws, foreign, "--scheme", str(mapping)) == 0
    assert capsys.readouterr().out == (
        f"wrote 1 task(s) to {foreign} in the project's names through {mapping}\n"
    )
    (want,) = json.loads(canonical.read_text(encoding="utf-8"))
    (got,) = json.loads(foreign.read_text(encoding="utf-8"))
    data = want["data"]
    assert got["data"] == foreign_data(data)
    (prediction,) = want["predictions"]
    assert prediction["result"]  # the release's regions, choices and relations
    assert got["predictions"] == [
        {**prediction, "result": [_foreign_result(r) for r in prediction["result"]]}
    ]


def test_a_name_with_no_place_writes_nothing(tmp_path: Path, capsys):
    """The release has NORP regions; a mapping that drops the project's only name for it has
    nowhere to put them: the same error as `ls push`, and no file."""
    ws = workspace(tmp_path)
    assert ws.build() == 0
    mapping = _mapping(tmp_path, drop_nationality=True)
    out = tmp_path / "tasks.json"
    assert _tasks(ws, out, "--scheme", str(mapping)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {mapping}: 6 result(s) with the label 'NORP' have no place")
    assert "nothing was written" in err
    assert not out.exists()


def test_push_with_a_mapping_takes_a_tasks_file_in_the_projects_names(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    """A tasks file written without the mapping (claimwire's names) is refused before any
    server is asked: with a mapping, `ls push --tasks` sends the file as it is."""
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "LABEL_STUDIO_API_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    ws = workspace(tmp_path)
    assert ws.build() == 0
    mapping = _mapping(tmp_path)
    canonical = tmp_path / "canonical.json"
    assert _tasks(ws, canonical) == 0
    capsys.readouterr()
    push = ["ls", "push", "--project", "theirs", "--tasks", str(canonical)]
    assert main([*push, "--scheme", str(mapping)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {canonical}, at /0/data: task data has no 'content' (the scheme's text key)"
    )
    assert "make it with `claimwire ls tasks --out FILE --scheme MAPPING`" in err
    # without the mapping, the same file is read, and push goes on to ask for a server
    assert main(push) == 2
    assert "no Label Studio server configured" in capsys.readouterr().err
