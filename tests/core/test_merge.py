import dataclasses
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.helpers import ROOT

from builder.core.merge import merge, pseudonym
from builder.io.articles import read_articles
from builder.io.exports import read_export
from builder.records import Claim, Entity, decided, new_claim, new_entity

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


def test_fast_record_constructors_make_ordinary_frozen_records():
    for cls, make, args in (
        (Entity, new_entity, ("e1", 0, 6, "Maduro", "PER", "NEGATIVE", "majority")),
        (Claim, new_claim, ("c1", 7, 20, "said it", "e1", ("e2",), "REPORTED", "FAVOR")),
    ):
        # same slots as the dataclass's fields, in order: an added field must be added to both
        assert make.__slots__ == tuple(f.name for f in dataclasses.fields(cls))
        fast, slow = make(*args), cls(*args)
        assert type(fast) is cls and fast == slow and hash(fast) == hash(slow)
        assert repr(fast) == repr(slow)
        assert pickle.loads(pickle.dumps(fast)) == slow
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.id = "x"  # type: ignore[misc]
        assert decided(fast, "ground_truth") == dataclasses.replace(slow, decided_by="ground_truth")
        assert decided(slow, slow.decided_by) is slow
