"""The recorded releases (``releases/<version>.tsv``, see releases/check.py) still correspond to
what the builder makes: each record is intact, and release 0.1.1's data files are rebuilt byte
for byte from the seed, its articles in the same splits as in a fresh build of today's inputs.

releases/check.py compares the *current* version only; the card and metadata files of an older
version change by design when a later version adds to them (1.0.0: ATTRIBUTION.md, licences in
croissant.json), so an older record is checked on its data files, which hold the splits.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.helpers import ROOT, SEED_ID, workspace

from builder import DATASET_VERSION
from builder.core.splits import SPLIT_NAMES, SplitSpec
from builder.io.articles import read_articles
from builder.io.exports import export_files
from builder.pipeline.build import build
from builder.release import writer as release_writer
from builder.release.verify import read_checksums

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

# checksums records; <version>.splits.tsv beside them lists each article's split
RECORDS = sorted(p for p in (ROOT / "releases").glob("*.tsv") if not p.name.endswith(".splits.tsv"))
SHARD = re.compile(r"data/(claims|documents|entities|stance)/(\w+)-\d{5}-of-\d{5}\.parquet")


def _record(path: Path, tmp: Path) -> dict[str, tuple[int, str]]:
    """The (bytes, sha256) per file of a record, read the way `claimwire verify` reads
    checksums.tsv (its last line is the digest of the lines above)."""
    folder = tmp / path.stem
    folder.mkdir()
    shutil.copyfile(path, folder / "checksums.tsv")
    return read_checksums(folder)


def _data(files: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    return {p: v for p, v in files.items() if p.startswith("data/")}


def _document_splits(release: Path) -> dict[str, str]:
    """Article id -> split, from the documents shards of a release."""
    out: dict[str, str] = {}
    for shard in sorted((release / "data" / "documents").glob("*.parquet")):
        split = shard.name.split("-")[0]
        for article_id in pq.read_table(shard, columns=["id"]).column("id").to_pylist():
            assert article_id not in out, (article_id, split, out.get(article_id))
            out[article_id] = split
    return out


def test_there_are_recorded_releases():
    assert [p.name for p in RECORDS][:2] == ["0.1.0.tsv", "0.1.1.tsv"]


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_a_recorded_release_is_intact(record: Path, tmp_path: Path):
    files = _record(record, tmp_path)  # raises if a line or the digest line is damaged
    assert files and all(not p.startswith("/") and ".." not in p.split("/") for p in files)
    shards = [SHARD.fullmatch(p) for p in _data(files)]
    assert shards and all(m is not None and m[2] in SPLIT_NAMES for m in shards), sorted(files)
    assert {m[1] for m in shards if m} == {"claims", "documents", "entities", "stance"}


def _encoded_as_until_1_0_0(monkeypatch: pytest.MonkeyPatch) -> None:
    """Write documents as releases up to 1.0.0 did (1.0.1 changed only their encoding)."""
    monkeypatch.setitem(release_writer.ENCODING, "documents", ("zstd", False))
    monkeypatch.setitem(release_writer.ROW_GROUP_ROWS, "documents", 1_000)


def test_release_0_1_1_data_is_rebuilt_and_its_articles_keep_their_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    recorded = _record(ROOT / "releases" / "0.1.1.tsv", tmp_path)
    ws = workspace(tmp_path / "seed")
    assert ws.build("--version", "0.1.1") == 0
    release = ws.dist / "claimwire-0.1.1"
    # the documents file is encoded as since 1.0.1; the other configs' files are 0.1.1's
    data = _data(read_checksums(release))
    documents = "data/documents/train-00000-of-00001.parquet"
    assert data[documents] != _data(recorded)[documents]
    assert {p: v for p, v in data.items() if p != documents} == {
        p: v for p, v in _data(recorded).items() if p != documents
    }
    # encoded as then, the seed alone gives release 0.1.1's data files, byte for byte: same
    # rows, same splits
    _encoded_as_until_1_0_0(monkeypatch)
    assert ws.build("--version", "0.1.1", "--out", str(tmp_path / "then")) == 0
    assert _data(read_checksums(tmp_path / "then" / "claimwire-0.1.1")) == _data(recorded)
    assert sorted(_data(recorded)) == [
        f"data/{config}/train-00000-of-00001.parquet"
        for config in ("claims", "documents", "entities", "stance")
    ]
    released = _document_splits(release)
    assert released == {SEED_ID: "train"}
    # article by article: each is where its group key puts it, and where a fresh build of all of
    # today's inputs puts it
    articles = {a.id: a for a in read_articles(ROOT / "articles")}
    assert {a: SplitSpec().assign(articles[a].group_key) for a in released} == released
    exports = list(export_files(ROOT / "annotations" / "exports"))
    fresh = _document_splits(
        build(ROOT / "articles", exports, tmp_path / "now", DATASET_VERSION).path
    )
    assert {a: fresh.get(a) for a in released} == released


def test_release_1_0_1_holds_the_rows_of_1_0_0_re_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Today's inputs, with the splits recorded for 1.0.0 and the documents encoded as 1.0.0
    encoded them, give 1.0.0's data files byte for byte: 1.0.1 changed the encoding, not the
    rows or their splits."""
    _encoded_as_until_1_0_0(monkeypatch)
    exports = list(export_files(ROOT / "annotations" / "exports"))
    built = build(ROOT / "articles", exports, tmp_path, "1.0.0", recorded=ROOT / "releases").path
    assert _data(read_checksums(built)) == _data(_record(ROOT / "releases" / "1.0.0.tsv", tmp_path))


def test_recording_a_release_records_its_splits(tmp_path: Path):
    """`releases/check.py --record` writes the checksums and the split of every article; a
    rebuild that reads the recorded splits back gives the same bytes; a record is never
    overwritten with other splits."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("release_check", ROOT / "releases" / "check.py")
    assert spec is not None and spec.loader is not None
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    records = tmp_path / "releases"
    records.mkdir()
    assert check.record(version="9.9.9", records=records) == (
        "recorded releases/9.9.9.tsv and releases/9.9.9.splits.tsv"
    )
    header, *lines = (records / "9.9.9.splits.tsv").read_text(encoding="utf-8").splitlines()
    assert header == "article_id\tsplit"
    recorded = dict(line.split("\t") for line in lines)
    assert list(recorded) == sorted(recorded) and SEED_ID in recorded
    articles = {a.id: a for a in read_articles(ROOT / "articles")}
    # the shipped articles have no near-duplicates: each is where its story key puts it
    assert recorded == {a: SplitSpec().assign(articles[a].group_key) for a in recorded}
    ok, message = check.check(version="9.9.9", records=records)
    assert ok and message == "9.9.9: the rebuild matches releases/9.9.9.tsv byte for byte"
    # the build keeps recorded splits: an article moved in the record moves in the rebuild
    splits = records / "9.9.9.splits.tsv"
    kept = splits.read_text(encoding="utf-8")
    other = "test" if recorded[SEED_ID] != "test" else "train"
    splits.write_text(
        kept.replace(f"{SEED_ID}\t{recorded[SEED_ID]}", f"{SEED_ID}\t{other}"), encoding="utf-8"
    )
    with pytest.raises(SystemExit, match="9.9.9.tsv exists with other checksums"):
        check.record(version="9.9.9", records=records)
    splits.write_text(kept + "zz-gone\ttrain\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="9.9.9.splits.tsv exists with other splits"):
        check.record(version="9.9.9", records=records)
