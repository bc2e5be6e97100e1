"""`claimwire verify` on a release whose file list no longer matches checksums.tsv: a listed file
that is missing, a file that is not listed; each named, with the exact problem text."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from support.helpers import workspace

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.errors import InvalidDataError, Problem
from builder.release.verify import verify

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

MISSING = "file listed in checksums.tsv is missing"
EXTRA = "file is not listed in checksums.tsv"
DOCUMENTS = "data/documents/train-00000-of-00001.parquet"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace(tmp_path_factory.mktemp("verify"))
    assert ws.build() == 0
    return ws.dist / f"claimwire-{DATASET_VERSION}"


@pytest.fixture
def copy(release: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"claimwire-{DATASET_VERSION}"
    shutil.copytree(release, target)
    files = [p for p in target.rglob("*") if p.is_file() and p.name != "checksums.tsv"]
    assert verify(target, load=False) == [f"checksums: {len(files)} files checked"]
    return target


def _problems(root: Path) -> list[Problem]:
    with pytest.raises(InvalidDataError) as err:
        verify(root, load=False)
    return err.value.problems


def test_a_missing_file_is_named(copy: Path, capsys) -> None:
    (copy / DOCUMENTS).unlink()
    assert _problems(copy) == [Problem(MISSING, file=str(copy / DOCUMENTS))]
    assert main(["verify", str(copy), "--no-load"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: {copy / DOCUMENTS}: {MISSING}\n")


def test_an_unlisted_file_is_named(copy: Path, capsys) -> None:
    (copy / "data" / "documents" / "notes.txt").write_text("added after release\n")
    extra = copy / "data" / "documents" / "notes.txt"
    assert _problems(copy) == [Problem(EXTRA, file=str(extra))]
    assert main(["verify", str(copy), "--no-load"]) == 1
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"error: {extra}: {EXTRA}\n")


def test_an_unlisted_empty_file_at_the_top_is_named(copy: Path) -> None:
    (copy / ".DS_Store").touch()
    assert _problems(copy) == [Problem(EXTRA, file=str(copy / ".DS_Store"))]


def test_missing_and_unlisted_files_are_all_listed_in_path_order(copy: Path) -> None:
    (copy / "README.md").rename(copy / "README.txt")
    (copy / DOCUMENTS).unlink()
    assert _problems(copy) == [
        Problem(MISSING, file=str(copy / "README.md")),
        Problem(EXTRA, file=str(copy / "README.txt")),
        Problem(MISSING, file=str(copy / DOCUMENTS)),
    ]
