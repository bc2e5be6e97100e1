"""`claimwire verify` on a release whose file list no longer matches checksums.tsv: a listed file
that is missing, a file that is not listed; each named, with the exact problem text."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import datasets
import pyarrow as pa
import pytest
import yaml
from support.helpers import workspace

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.contracts.features import features
from builder.errors import InvalidDataError, Problem
from builder.release.verify import read_checksums, verify
from builder.release.writer import SELF_DIGEST, write_checksums

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
    assert verify(target, load=False) == [
        f"checksums: {len(files)} files checked",
        "documents rows: 1 valid",
    ]
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


# --- checksums.tsv itself, and files changed in place


DAMAGED_FIX = "restore checksums.tsv from the release or rebuild"
HEX = "0123456789abcdef" * 4


def _damaged(root: Path, why: str) -> Problem:
    return Problem(
        f"checksums.tsv is damaged: {why}", file=str(root / "checksums.tsv"), fix=DAMAGED_FIX
    )


def test_a_release_without_checksums_is_refused(copy: Path) -> None:
    (copy / "checksums.tsv").unlink()
    assert _problems(copy) == [Problem("release has no checksums.tsv", file=str(copy))]


def test_a_file_changed_in_place_is_named_with_both_digests(copy: Path) -> None:
    path = copy / DOCUMENTS
    data = bytearray(path.read_bytes())
    data[100] ^= 1  # same size, another digest
    path.write_bytes(bytes(data))
    (recorded,) = [
        line for line in (copy / "checksums.tsv").read_text().splitlines() if DOCUMENTS in line
    ]
    assert _problems(copy) == [
        Problem(
            "checksum mismatch: the file changed after release",
            file=str(path),
            expected=recorded.split("\t")[2],
            found=hashlib.sha256(bytes(data)).hexdigest(),
            fix="restore the file from the release or rebuild",
        )
    ]


@pytest.mark.parametrize("tail", [b"0", b"X", b" ", b"\xff"])
def test_a_byte_added_to_checksums_tsv_is_named(copy: Path, tail: bytes) -> None:
    path = copy / "checksums.tsv"
    path.write_bytes(path.read_bytes().rstrip(b"\n") + tail + b"\n")
    why = "its content does not match its own digest (last line)"
    assert _problems(copy) == [_damaged(copy, why)]


def _without_digest(root: Path, lines: list[str]) -> None:
    """checksums.tsv as written before it had a digest line (such releases still verify)."""
    (root / "checksums.tsv").write_text("path\tbytes\tsha256\n" + "".join(f"{x}\n" for x in lines))


def test_a_checksums_tsv_without_its_digest_line_is_read(tmp_path: Path) -> None:
    _without_digest(tmp_path, [f"a b.txt\t12\t{HEX}", f"c\t0\t{HEX}"])
    assert read_checksums(tmp_path) == {"a b.txt": (12, HEX), "c": (0, HEX)}


def test_a_release_from_before_the_digest_line_verifies(copy: Path) -> None:
    path = copy / "checksums.tsv"
    path.write_bytes(path.read_bytes().rstrip(b"\n").rpartition(b"\n")[0] + b"\n")
    assert verify(copy, load=False) == ["checksums: 8 files checked", "documents rows: 1 valid"]


@pytest.mark.parametrize(
    "line",
    [
        f"a\t12\t{HEX}\textra",
        f"a\t12\t{HEX.upper()}",
        f"a\tx12\t{HEX}",
        "a\t12",
        f"a 12 {HEX}",
    ],
)
def test_a_line_that_is_not_path_bytes_sha256_is_named_by_number(tmp_path: Path, line: str) -> None:
    _without_digest(tmp_path, [f"ok\t1\t{HEX}", line])
    with pytest.raises(InvalidDataError) as err:
        read_checksums(tmp_path)
    assert err.value.problems == [_damaged(tmp_path, "line 3 is not 'path<TAB>bytes<TAB>sha256'")]


def test_a_checksums_tsv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "checksums.tsv").write_bytes(
        b"path\tbytes\tsha256\n\xff\t1\t" + HEX.encode() + b"\n"
    )
    with pytest.raises(InvalidDataError) as err:
        read_checksums(tmp_path)
    assert err.value.problems == [_damaged(tmp_path, "not UTF-8")]


def test_the_digest_line_covers_every_line_above_it(copy: Path) -> None:
    body, _, trailer = (copy / "checksums.tsv").read_bytes().rstrip(b"\n").rpartition(b"\n")
    assert trailer == (SELF_DIGEST + hashlib.sha256(body + b"\n").hexdigest()).encode()


# --- loading every config (datasets, offline)

LOADED = [
    "checksums: 8 files checked",
    "documents rows: 1 valid",
    "load_dataset documents: train=1",
    "load_dataset entities: train=23",
    "load_dataset claims: train=23",
    "load_dataset stance: train=25",
]


def test_verify_loads_every_config_offline_by_default(copy: Path, monkeypatch) -> None:
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    datasets.enable_progress_bars()
    assert verify(copy) == LOADED
    assert (os.environ["HF_DATASETS_OFFLINE"], os.environ["HF_HUB_OFFLINE"]) == ("1", "1")
    assert not datasets.is_progress_bar_enabled()  # stderr is not a terminal here


def test_a_config_that_does_not_load_is_named_with_the_first_300_characters(
    copy: Path, monkeypatch
) -> None:
    def fail(path: str, config: str) -> None:
        raise ValueError(f"{path} {config} " + "x" * 400)

    monkeypatch.setattr(datasets, "load_dataset", fail)
    assert _loading_problems(copy) == [
        Problem(
            "config documents does not load: ValueError: " + f"{copy} documents {'x' * 400}"[:300],
            file=str(copy),
            fix="rebuild the release; do not edit its files",
        )
    ]


def test_a_split_that_loads_with_another_size_is_named(copy: Path, monkeypatch) -> None:
    """datasets checks the sizes the card gives itself; this is the check behind it."""
    load = datasets.load_dataset

    def short(path: str, config: str) -> datasets.DatasetDict:
        ds = load(path, config)
        if config == "entities":
            ds["train"] = ds["train"].select(range(20))
        return ds

    monkeypatch.setattr(datasets, "load_dataset", short)
    assert _loading_problems(copy) == [
        Problem("entities/train has 20 rows", file=str(copy), expected="23")
    ]


def test_a_config_that_loads_with_other_features_is_named(copy: Path) -> None:
    """The card declares no features (the Parquet files carry them); a card edited to declare
    other ones makes ``load_dataset`` cast to them, and verify names the config."""
    card = copy / "README.md"
    text = card.read_text(encoding="utf-8")
    assert "features:" not in text.split("---\n")[1]
    declared = yaml.safe_dump(features()["claims"]._to_yaml_list(), sort_keys=False)
    other = declared.replace("dtype: int32", "dtype: int64", 1)
    assert other != declared
    block = "".join(f"    {line}\n" for line in other.splitlines())
    head, sep, rest = text.partition("- config_name: claims\n  splits:\n")
    assert sep
    card.write_text(
        head + "- config_name: claims\n  features:\n" + block + "  splits:\n" + rest,
        encoding="utf-8",
    )
    write_checksums(copy)
    assert _loading_problems(copy) == [
        Problem("config claims loads with other features than declared", file=str(copy))
    ]


def _loading_problems(root: Path) -> list[Problem]:
    with pytest.raises(InvalidDataError) as err:
        verify(root)
    return err.value.problems


def test_every_split_that_loads_is_reported(copy: Path, monkeypatch) -> None:
    load = datasets.load_dataset

    def twice(path: str, config: str) -> datasets.DatasetDict:
        ds = load(path, config)
        ds["test"] = ds["train"]  # as if the card listed only train
        return ds

    monkeypatch.setattr(datasets, "load_dataset", twice)
    assert verify(copy)[2:] == [
        "load_dataset documents: train=1, test=1",
        "load_dataset entities: train=23, test=23",
        "load_dataset claims: train=23, test=23",
        "load_dataset stance: train=25, test=25",
    ]


def test_a_documents_row_that_breaks_its_schema_is_named(copy: Path) -> None:
    """The build does not check its rows one by one; verify checks every row of a release."""
    import pyarrow.parquet as pq

    path = copy / DOCUMENTS
    table = pq.read_table(path)
    rows = table.to_pylist()
    rows[0]["claims"][3]["text"] = ""  # a span text is never empty
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)
    write_checksums(copy)
    (problem,) = _problems(copy)
    assert problem.file == str(path)
    assert problem.article == rows[0]["id"]
    assert problem.pointer == "/0/claims/3/text"
    assert problem.fix == "rebuild the release; do not edit its files"
    assert "minLength" in (problem.expected or "")
