"""Annotator identities never leave Label Studio: a build from an export that carries emails and
names, plus its report and review tasks, is scanned byte for byte (and the Parquet files value
for value, since their pages are compressed) for any of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.helpers import seed_inputs

from builder.cli.main import main
from builder.core.merge import pseudonym
from builder.pipeline.build import build
from builder.release.report import write_report

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "three_annotators.json"

PEOPLE = {
    11: ("marta.quintero@newsroom.example", "Marta", "Quintero"),
    12: ("j.okonkwo@newsroom.example", "Jideofor", "Okonkwo"),
    13: ("liesbeth.vandermeer@newsroom.example", "Liesbeth", "Vandermeer"),
    14: ("skipper.person@newsroom.example", "Skipper", "Hollowell"),
}
SECRETS = [s for person in PEOPLE.values() for s in person] + ["newsroom.example"]


def _identified_export(path: Path) -> Path:
    """The fixture as Label Studio exports it with ``annotations__completed_by.only_id=false``
    (and as the ``label-studio export`` CLI does by default)."""
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for task in data:
        for ann in task["annotations"]:
            uid = ann["completed_by"]
            email, first, last = PEOPLE[uid]
            ann["completed_by"] = {
                "id": uid,
                "email": email,
                "first_name": first,
                "last_name": last,
            }
            ann["updated_by"] = ann["completed_by"]
        task["comment_authors"] = [{"id": 11, "email": PEOPLE[11][0]}]
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _scan(path: Path) -> list[str]:
    """Every secret found in the bytes of ``path``, or in the decoded values of a Parquet file."""
    blobs = [path.read_bytes()]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        blobs.append(json.dumps(table.to_pylist(), ensure_ascii=False).encode("utf-8"))
        blobs.append(str(table.schema.metadata).encode("utf-8"))
    found = []
    for blob in blobs:
        low = blob.lower()
        found += [s for s in SECRETS if s.lower().encode("utf-8") in low]
    return found


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("privacy")
    export = _identified_export(tmp / "export.json")
    assert all(s.encode() in export.read_bytes() for s in SECRETS)  # the scan can fail
    result = build(seed_inputs()[0], [export], tmp / "dist", "0.1.0")
    report = write_report(result.path)
    review = tmp / "review.json"
    assert main(["review", str(export), "--out", str(review), "--threshold", "1.0"]) == 0
    return result.path, report, review


def test_no_email_or_name_anywhere(outputs):
    release, report, review = outputs
    files = [p for p in release.rglob("*") if p.is_file()] + [report, review]
    assert len(files) >= 8
    leaks = {str(p): _scan(p) for p in files}
    assert {k: v for k, v in leaks.items() if v} == {}


def test_annotator_ids_are_salted_pseudonyms(outputs, monkeypatch):
    release, _, _ = outputs
    row = pq.read_table(release / "data/documents/train-00000-of-00001.parquet").to_pylist()[0]
    ids = row["annotation"]["annotator_ids"]
    assert ids == sorted(pseudonym(u) for u in (11, 12, 13))  # 14 skipped: not an annotator
    assert all(re.fullmatch(r"ann-[0-9a-f]{12}", i) for i in ids)
    # a user object and a bare id give the same pseudonym, so exports of both kinds line up
    assert pseudonym({"id": 11, "email": PEOPLE[11][0]}) == pseudonym(11)
    used = {u["annotator"] for u in row["annotation"]["labels"]}
    used |= {s[k] for s in row["annotation"]["spans"] for k in ("annotator_a", "annotator_b")}
    assert used == set(ids)
    monkeypatch.setenv("CLAIMWIRE_PSEUDONYM_SALT", "another project")
    assert pseudonym(11) != ids[0] and pseudonym(11) not in ids
