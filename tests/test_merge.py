from dataclasses import replace
from pathlib import Path
from typing import Any

from builder.articles import read_articles
from builder.labelstudio import read_export
from builder.merge import merge, pseudonym
from helpers import ROOT

ARTICLE = next(read_articles(ROOT / "articles"))
TASK = next(read_export(ROOT / "annotations" / "exports" / "gold.json"))


def _ann(id: int, updated: str, ground_truth: bool = False) -> dict[str, Any]:
    return {"id": id, "updated_at": updated, "ground_truth": ground_truth, "result": []}


def test_cancelled_annotations_are_ignored():
    skipped = {**_ann(99, "2030-01-01"), "was_cancelled": True, "completed_by": 5}
    task = replace(TASK, annotations=(*TASK.annotations, skipped))
    doc = merge(ARTICLE, task)
    assert doc is not None and doc.annotation.adjudication == "single"
    assert doc.annotation.n_annotators == 1
    only_skipped = replace(TASK, annotations=(skipped,))
    assert merge(ARTICLE, only_skipped) is None


def test_pseudonyms_are_stable_salted_and_hide_the_id():
    assert pseudonym(1) == pseudonym({"id": 1, "email": "a@example.org"}) == pseudonym("1")
    assert pseudonym(1) != pseudonym(2)
    assert pseudonym(1, salt="other") != pseudonym(1)
    assert pseudonym(1) == "ann-" + __import__("hashlib").sha256(b"claimwire\x001").hexdigest()[:12]


def test_region_ids_are_preserved(tmp_path: Path):
    doc = merge(ARTICLE, TASK)
    assert doc is not None
    assert [c.id for c in doc.claims][:3] == ["c1", "c2", "c3"]
    assert doc.claims[0].claimer_id == "e001" and doc.claims[0].target_ids == ("e002",)
