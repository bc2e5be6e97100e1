"""`claimwire review` with a scheme mapping: the review tasks are written in the team's
project's names, through the same translation as `ls push --release`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from support.foreign import FOREIGN_CONFIG, _foreign_result, foreign_data, foreign_task
from support.helpers import ROOT, Workspace, workspace

from builder.cli.main import main
from builder.contracts.scheme import draft_scheme

FIXTURE = json.loads((ROOT / "tests/fixtures/three_annotators.json").read_text(encoding="utf-8"))


def _three(ws: Workspace) -> tuple[Path, Path]:
    """Exports of the three annotators' task: (claimwire's names, the foreign project's)."""
    task = copy.deepcopy(FIXTURE[0])
    task["annotations"] = [a for a in task["annotations"] if not a.get("was_cancelled")]
    ours, theirs = ws.root / "ours", ws.root / "theirs"
    ours.mkdir()
    theirs.mkdir()
    (ours / "export.json").write_text(json.dumps([task]), encoding="utf-8")
    (theirs / "export.json").write_text(json.dumps([foreign_task(task)]), encoding="utf-8")
    return ours, theirs


def _mapping(tmp_path: Path) -> Path:
    doc = draft_scheme(FOREIGN_CONFIG, "foreign.xml").document
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _review(ws: Workspace, exports: Path, out: Path, *extra: str) -> int:
    argv = ["review", str(exports), "--articles", str(ws.articles), "--threshold", "1.0"]
    return main([*argv, "--out", str(out), *extra])


def test_review_tasks_are_written_in_the_projects_names(tmp_path: Path, capsys):
    """The review of the foreign export, through the mapping, is the review of the same
    annotations in claimwire's names with every name replaced by the project's: data keys,
    controls, Text tag, labels, choice values, relation labels."""
    ws = workspace(tmp_path)
    ours, theirs = _three(ws)
    mapping = _mapping(tmp_path)
    canonical, foreign = tmp_path / "canonical.json", tmp_path / "foreign.json"
    assert _review(ws, ours, canonical) == 0
    capsys.readouterr()
    assert _review(ws, theirs, foreign, "--scheme", str(mapping)) == 0
    assert capsys.readouterr().out == (
        f"wrote {foreign}: 1 review task(s) (agreement below 1.0 or settled by the tie rule, "
        f"in the project's names through {mapping})\n"
    )
    (expected,) = json.loads(canonical.read_text(encoding="utf-8"))
    (written,) = json.loads(foreign.read_text(encoding="utf-8"))
    data = expected["data"]
    assert written["data"] == foreign_data(data)
    assert len(written["predictions"]) == 4  # adjudicated + three annotators
    for got, want in zip(written["predictions"], expected["predictions"], strict=True):
        assert got == {**want, "result": [_foreign_result(r) for r in want["result"]]}
    names = {r.get("from_name") for p in written["predictions"] for r in p["result"]}
    assert names == {"ner", "claim_span", "stance", "attribution", "portrayal", None}
