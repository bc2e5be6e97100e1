"""``claimwire build --on-invalid quarantine``: slips do not hold the release; each is set aside in
``quarantine.jsonl`` (listed in checksums.tsv) and counted in the card; ``fail`` stays the
default and says how to get past it."""

from __future__ import annotations

import json
from pathlib import Path

from datasets import load_dataset
from support.helpers import SEED_ID, workspace

from builder import DATASET_VERSION
from builder.release.verify import verify


def _slips(ws) -> tuple[str, str]:
    """An AUTHOR claim that keeps its claimer, and an orphan stance choice."""
    tasks = ws.tasks()
    results = tasks[0]["annotations"][0]["result"]
    claimers = {
        r["from_id"] for r in results if r["type"] == "relation" and r["labels"] == ["claimer"]
    }
    slip = next(r for r in results if r["from_name"] == "attribution" and r["id"] in claimers)
    slip["value"]["choices"] = ["AUTHOR"]
    orphan = dict(next(r for r in results if r["from_name"] == "stance"), id="gone")
    results.append(orphan)
    ws.write_tasks(tasks)
    return slip["id"], orphan["id"]


def test_fail_is_the_default_and_names_the_way_out(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    _slips(ws)
    assert ws.build() == 1
    err = capsys.readouterr().err
    assert "an AUTHOR claim has a claimer relation" in err
    assert "2 problem(s) stopped the build at this task" in err
    assert "`claimwire build --on-invalid quarantine` releases what is consistent" in err
    assert not ws.dist.exists() or list(ws.dist.iterdir()) == []


def test_quarantine_releases_the_rest_and_keeps_every_slip(tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    claim_id, orphan_id = _slips(ws)
    assert ws.build("--on-invalid", "quarantine") == 0
    out = capsys.readouterr().out
    assert "  quarantined: 2 unit(s) in quarantine.jsonl" in out
    release = ws.dist / f"claimwire-{DATASET_VERSION}"
    lines = (release / "quarantine.jsonl").read_text(encoding="utf-8").splitlines()
    units = [json.loads(line) for line in lines]
    assert [u["rule"] for u in units] == [
        "per-region choice 'stance' attaches to no region",
        "an AUTHOR claim has a claimer relation",
    ]
    orphan, claim = units
    assert [r["id"] for r in orphan["results"]] == [orphan_id]
    assert {r.get("id", r.get("from_id")) for r in claim["results"]} == {claim_id}
    assert claim["task"] == 1 and claim["article"] == SEED_ID
    assert claim["annotator"].startswith("ann-") and claim["file"].endswith("gold.json")
    assert claim["pointer"].startswith("/0/annotations/0/result/")
    assert isinstance(claim["line"], int) and isinstance(claim["column"], int)
    assert "quarantine.jsonl" in (release / "checksums.tsv").read_text(encoding="utf-8")
    docs = load_dataset(str(release))["train"]
    assert claim_id not in {c["id"] for c in docs[0]["claims"]}
    assert len(docs[0]["claims"]) == 21  # the seed's 22 claims, less the one set aside
    card = (release / "README.md").read_text(encoding="utf-8")
    assert "Units set aside in `quarantine.jsonl` (built with `--on-invalid quarantine`): 2" in card
    assert "| an AUTHOR claim has a claimer relation | 1 |" in card
    verify(release, load=False)
