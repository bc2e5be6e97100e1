"""Release folders are readable by others (0755 folders, 0644 files under a 022 umask), and the
version lock degrades to a clear error where the platform has no file locking."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from support.helpers import ROOT, workspace

from builder.contracts.features import features
from builder.errors import OutputError, Problem, UsageError
from builder.release.writer import (
    ENCODING,
    Background,
    SplitTable,
    SplitWriter,
    Staging,
    _fsync_dir,
    _fsync_tree,
    _output_error,
    json_bytes,
    publish,
    release_dir,
    sha256_file,
    statistics_columns,
    write_checksums,
    yaml_header,
)


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_release_folders_and_files_follow_the_umask(tmp_path: Path, mask: int):
    ws = workspace(tmp_path)
    old = os.umask(mask)
    try:
        assert ws.build("--version", "9.9.9") == 0
    finally:
        os.umask(old)
    release = ws.dist / "claimwire-9.9.9"
    modes = {
        p.relative_to(release).as_posix() or ".": stat.S_IMODE(p.stat().st_mode)
        for p in [release, *release.rglob("*")]
    }
    assert modes["."] == 0o777 & ~mask
    assert {m for p, m in modes.items() if (release / p).is_dir()} == {0o777 & ~mask}
    assert {m for p, m in modes.items() if (release / p).is_file()} == {0o666 & ~mask}
    assert "checksums.tsv" in modes and "data/documents/train-00000-of-00001.parquet" in modes


def test_without_fcntl_the_package_imports_and_locking_says_why(tmp_path: Path):
    """As on a platform with neither fcntl nor msvcrt: import works, a build fails clearly."""
    ws = workspace(tmp_path)
    code = (
        "import sys\nsys.modules['fcntl'] = None\nsys.modules['msvcrt'] = None\n"
        "import builder\nfrom builder.cli.main import main\n"
        f"sys.exit(main(['build', '--articles', {str(ws.articles)!r}, '--annotations', "
        f"{str(ws.export.parent)!r}, '--out', {str(ws.dist)!r}]))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert (
        "cannot lock the release folder: this platform has neither fcntl nor msvcrt" in run.stderr
    )
    assert not any(p.name.startswith("claimwire-") for p in ws.dist.iterdir())


# --- the writer's parts, exactly (each assertion kills mutants of `make mutate`)


@pytest.mark.parametrize("version", ["0.1.0", "10.200.3000", "999999.0.0"])
def test_release_folders_are_named_by_version(tmp_path: Path, version: str):
    assert release_dir(tmp_path, version) == tmp_path / f"claimwire-{version}"


@pytest.mark.parametrize(
    "version", ["1.0", "01.0.0", "1.0.0\n", "1.0.0-rc1", "1000000.0.0", "../1.0.0", 1, None]
)
def test_a_version_that_is_not_x_y_z_is_refused(tmp_path: Path, version: object):
    with pytest.raises(UsageError) as err:
        release_dir(tmp_path, version)  # type: ignore[arg-type]
    assert err.value.problems == [
        Problem(
            "release version must be a semantic version like 0.1.0",
            found=repr(version),
            fix="pass --version X.Y.Z (digits only)",
        )
    ]


def test_statistics_only_on_flat_short_columns():
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("n", pa.int32()),
            ("tags", pa.list_(pa.string())),
            ("claim", pa.string()),
            ("span", pa.struct([("start", pa.int32())])),
        ]
    )
    assert statistics_columns(schema) == ["id", "n"]


STANCE = features()["stance"].arrow_schema


def _stance(first: int, n: int) -> pa.Table:
    rows = {name: [f"{name}-{i}" for i in range(first, first + n)] for name in STANCE.names}
    rows["label"] = list(range(first, first + n))
    return pa.Table.from_pydict(rows, schema=STANCE)


def test_rows_are_cut_into_row_groups_by_count_whatever_the_batches(tmp_path: Path):
    w = SplitWriter(tmp_path, "stance", "train", row_group_size=3)
    assert (w.row_group_size, SplitWriter(tmp_path, "stance", "x").row_group_size) == (3, 10_000)
    w.add(_stance(0, 2))
    w.add(_stance(2, 0))
    assert (w.rows, w.buffered) == (0, 2)
    w.add(_stance(2, 1))  # exactly one row group: written at once, nothing held
    assert (w.rows, w.buffered) == (3, 0)
    w.add(_stance(3, 2))
    w.add(_stance(5, 4))
    assert (w.rows, w.buffered) == (9, 0)
    w.add(_stance(9, 1))
    table = w.close()
    path = tmp_path / "data/stance/train-00000-of-00001.parquet"
    meta = pq.read_metadata(path)
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [3, 3, 3, 1]
    assert table == SplitTable(
        "stance",
        "train",
        "data/stance/train-00000-of-00001.parquet",
        10,
        sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)),
    )
    assert pq.read_table(path).to_pydict() == _stance(0, 10).to_pydict()


def test_parquet_files_are_zstd_without_dictionaries_with_statistics_on_flat_columns(
    tmp_path: Path,
):
    w = SplitWriter(tmp_path, "stance", "train")
    w.add(_stance(0, 5))
    w.close()
    path = tmp_path / "data/stance/train-00000-of-00001.parquet"
    meta = pq.read_metadata(path)
    assert b"ARROW:schema" in meta.metadata  # the Arrow schema is stored
    group = meta.row_group(0)
    for i in range(group.num_columns):
        column = group.column(i)
        assert column.compression == "ZSTD", column.path_in_schema
        assert not any("DICTIONARY" in e for e in column.encodings), column.path_in_schema
        assert column.is_stats_set == (column.path_in_schema not in ("claim", "context"))


def test_documents_files_are_snappy_with_dictionaries_in_groups_of_5000_rows(tmp_path: Path):
    """The layout bench/parquet_layout.py chose for reading; the other configs stay zstd without
    dictionaries (the test above)."""
    assert ENCODING == {
        "documents": ("snappy", True),
        "entities": ("zstd", False),
        "claims": ("zstd", False),
        "stance": ("zstd", False),
    }
    assert SplitWriter(tmp_path, "documents", "x").row_group_size == 5_000
    rows = [
        {"id": f"d{i}", "source": "wikinews", "language": "en", "text": f"text number {i}"}
        for i in range(6)
    ]
    w = SplitWriter(tmp_path, "documents", "train")
    w.add(pa.Table.from_pylist(rows, schema=features()["documents"].arrow_schema))
    w.close()
    path = tmp_path / "data/documents/train-00000-of-00001.parquet"
    meta = pq.read_metadata(path)
    assert b"ARROW:schema" in meta.metadata
    group = meta.row_group(0)
    columns = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    assert {c.compression for c in columns.values()} == {"SNAPPY"}
    assert "RLE_DICTIONARY" in columns["source"].encodings
    assert columns["text"].is_stats_set is False and columns["source"].is_stats_set is True
    assert pq.read_table(path).to_pylist()[5]["text"] == "text number 5"


def test_two_splits_of_one_config_share_its_folder_and_an_empty_split_writes_nothing(
    tmp_path: Path,
):
    for split in ("train", "test"):
        w = SplitWriter(tmp_path, "stance", split)
        w.add(_stance(0, 1))
        assert w.close() is not None
    empty = SplitWriter(tmp_path, "stance", "validation")
    empty.add(_stance(0, 0))
    assert empty.close() is None
    assert sorted(p.name for p in (tmp_path / "data/stance").iterdir()) == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00001.parquet",
    ]


def test_writing_in_the_background_gives_the_same_bytes(tmp_path: Path):
    """Row groups of two files encoded in a thread, interleaved, tables of any size."""
    sizes = [1, 7, 2, 13, 5, 4, 9]
    for where, background in (("plain", None), ("thread", Background(pending=1))):
        writers = [
            SplitWriter(tmp_path / where, "stance", split, 4, background)
            for split in ("train", "test")
        ]
        at = 0
        for n in sizes:
            for w in writers:
                w.add(_stance(at, n))
            at += n
        assert [w.close() is not None for w in writers] == [True, True]
        if background is not None:
            background.__exit__(None, None, None)
    for split in ("train", "test"):
        rel = f"data/stance/{split}-00000-of-00001.parquet"
        assert (tmp_path / "thread" / rel).read_bytes() == (tmp_path / "plain" / rel).read_bytes()
        assert pq.read_metadata(tmp_path / "thread" / rel).num_row_groups == -(-sum(sizes) // 4)


def test_an_error_in_the_background_reaches_the_caller():
    def broken() -> None:
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"), Background() as background:
        background.submit(broken)
        background.drain()
    with pytest.raises(OSError, match="No space left"), Background(pending=0) as background:
        background.submit(broken)  # at most none waiting: raised here


@pytest.mark.parametrize("size", [0, 1, (1 << 20) + 3])
def test_sha256_of_a_file_of_any_size(tmp_path: Path, size: int):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()


def test_checksums_list_every_other_file_in_path_order_and_end_with_their_digest(tmp_path: Path):
    (tmp_path / "data" / "b").mkdir(parents=True)
    (tmp_path / "data" / "b" / "x.parquet").write_bytes(b"xyz")
    (tmp_path / "README.md").write_text("hi\n")
    (tmp_path / "checksums.tsv").write_text("old")
    write_checksums(tmp_path)
    body = (
        "path\tbytes\tsha256\n"
        f"README.md\t3\t{hashlib.sha256(b'hi' + bytes([10])).hexdigest()}\n"
        f"data/b/x.parquet\t3\t{hashlib.sha256(b'xyz').hexdigest()}\n"
    )
    digest = hashlib.sha256(body.encode()).hexdigest()
    expected = f"{body}# sha256 of the lines above: {digest}\n"
    assert (tmp_path / "checksums.tsv").read_text() == expected


def test_the_card_header_lists_configs_in_order_with_their_splits():
    tables = [
        SplitTable("stance", "train", "data/stance/train-00000-of-00001.parquet", 4, 70),
        SplitTable("documents", "train", "data/documents/train-00000-of-00001.parquet", 3, 100),
        SplitTable("documents", "test", "data/documents/test-00000-of-00001.parquet", 1, 50),
    ]
    long = "x" * 8 + " " + " ".join(["w" * 7] * 60)
    header = yaml_header("1.2.3", tables, {"pretty_name": "claimwire ü", "description": long})
    assert header.startswith("---\npretty_name: claimwire ü\n") and header.endswith("\n---\n")
    assert max(len(line) for line in header.splitlines()) == 105  # folded at width 100
    meta = yaml.safe_load(header.split("---\n")[1])
    assert list(meta) == ["pretty_name", "description", "version", "configs", "dataset_info"]
    assert meta["version"] == "1.2.3" and meta["description"] == long
    assert meta["configs"] == [
        {
            "config_name": "documents",
            "default": True,
            "data_files": [
                {"split": "train", "path": "data/documents/train-*.parquet"},
                {"split": "test", "path": "data/documents/test-*.parquet"},
            ],
        },
        {
            "config_name": "stance",
            "data_files": [{"split": "train", "path": "data/stance/train-*.parquet"}],
        },
    ]
    assert meta["dataset_info"] == [
        {
            "config_name": "documents",
            "splits": [
                {"name": "train", "num_bytes": 100, "num_examples": 3},
                {"name": "test", "num_bytes": 50, "num_examples": 1},
            ],
            "download_size": 150,
            "dataset_size": 150,
        },
        {
            "config_name": "stance",
            "splits": [{"name": "train", "num_bytes": 70, "num_examples": 4}],
            "download_size": 70,
            "dataset_size": 70,
        },
    ]


def test_json_files_are_indented_with_sorted_keys():
    assert json_bytes({"b": 1, "a": [1, "é"]}) == (
        '{\n  "a": [\n    1,\n    "é"\n  ],\n  "b": 1\n}\n'.encode()
    )


# --- staging, publishing, errors


def _exists_problem(final: Path) -> Problem:
    return Problem(
        f"release {final.name} already exists with other contents; releases are immutable",
        file=str(final),
        fix="bump the version (--version X.Y.Z) or build into another --out folder",
    )


def test_staging_holds_the_version_lock_in_a_hidden_folder_beside_the_release(tmp_path: Path):
    out = tmp_path / "a" / "b"
    final = out / "claimwire-1.0.0"
    with Staging(final) as staging:
        assert staging.path.parent == out
        assert staging.path.name.startswith(".claimwire-1.0.0.partial-")
        assert (out / ".claimwire-1.0.0.lock").exists()
        with pytest.raises(UsageError) as err:
            Staging(final)
        assert err.value.problems == [
            Problem(
                "another build of claimwire-1.0.0 is running (it holds .claimwire-1.0.0.lock)",
                file=str(out),
                fix="wait for it to finish, then build again (an identical release is kept as is)",
            )
        ]
        (staging.path / "f").write_text("x")
    assert not staging.path.exists() and sorted(os.listdir(out)) == []
    with Staging(final):  # the lock was released: the same version can be staged again
        pass


def test_staging_sweeps_what_dead_builds_left_of_any_version(tmp_path: Path):
    for name in (".claimwire-1.0.0.partial-old", ".claimwire-2.0.0.partial-x", ".other.partial-y"):
        (tmp_path / name).mkdir()
    with Staging(tmp_path / "claimwire-1.0.0") as staging:
        left = sorted(os.listdir(tmp_path))
    assert left == [".claimwire-1.0.0.lock", staging.path.name, ".other.partial-y"]


def test_staging_where_no_folder_can_be_made_is_an_output_error(tmp_path: Path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError) as err:
        Staging(tmp_path / "file" / "claimwire-1.0.0")
    assert err.value.problems == [
        Problem(
            "cannot write the release: File exists",
            file=str(tmp_path / "file"),
            fix=f"free disk space or choose a writable output folder (--out); {tmp_path / 'file'} "
            "holds no partial release",
        )
    ]


def test_an_os_error_while_staging_becomes_an_output_error_and_leaves_nothing(tmp_path: Path):
    final = tmp_path / "claimwire-1.0.0"
    with pytest.raises(OutputError) as err, Staging(final):
        raise OSError(28, "No space left on device", "data/x.parquet")
    assert err.value.problems == [
        Problem(
            "cannot write the release: No space left on device",
            file="data/x.parquet",
            fix=f"free disk space or choose a writable output folder (--out); {tmp_path} holds "
            "no partial release",
        )
    ]
    assert os.listdir(tmp_path) == []


def test_a_staging_folder_that_cannot_be_removed_does_not_hide_the_build_result(
    tmp_path: Path, monkeypatch
):
    final = tmp_path / "claimwire-1.0.0"
    real = os.rmdir

    def refuse(path, *args, **kwargs):
        if ".partial-" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", refuse)
    with Staging(final):
        pass  # removing the staging folder failed silently
    monkeypatch.setattr(os, "rmdir", real)
    with Staging(final):  # and the lock was released
        pass


def test_output_errors_name_the_file_or_the_output_folder(tmp_path: Path):
    fix = f"free disk space or choose a writable output folder (--out); {tmp_path} holds no "
    fix += "partial release"
    assert _output_error(OSError(28, "No space left on device"), tmp_path).problems == [
        Problem("cannot write the release: No space left on device", file=str(tmp_path), fix=fix)
    ]
    assert _output_error(OSError("boom"), tmp_path).problems == [
        Problem("cannot write the release: boom", file=str(tmp_path), fix=fix)
    ]


def test_publishing_moves_the_release_into_place_or_keeps_an_identical_one(tmp_path: Path):
    final = tmp_path / "claimwire-1.0.0"
    for content, published in ((b"a", True), (b"a", False)):
        with Staging(final) as staging:
            (staging.path / "f").write_bytes(content)
            write_checksums(staging.path)
            assert staging.publish() is published
    assert (final / "f").read_bytes() == b"a"
    for content in (b"b", None):  # other checksums, or none at all
        if content is None:
            (final / "checksums.tsv").unlink()
        with Staging(final) as staging:
            (staging.path / "f").write_bytes(b"b")
            write_checksums(staging.path)
            with pytest.raises(UsageError) as err:
                staging.publish()
            assert err.value.problems == [_exists_problem(final)]
    assert (final / "f").read_bytes() == b"a"


def test_publish_never_replaces_anything(tmp_path: Path):
    final = tmp_path / "claimwire-1.0.0"
    final.mkdir()
    with pytest.raises(UsageError) as err:
        publish(tmp_path / "missing", final)
    assert err.value.problems == [_exists_problem(final)]
    final.rmdir()
    with pytest.raises(UsageError) as err:  # the rename itself fails: named the same way
        publish(tmp_path / "missing", final)
    assert err.value.problems == [_exists_problem(final)]


def test_every_file_and_folder_is_flushed_before_the_folder_holding_it(tmp_path: Path, monkeypatch):
    (tmp_path / "data" / "a").mkdir(parents=True)
    (tmp_path / "data" / "a" / "x").write_text("x")
    (tmp_path / "data" / "y").write_text("y")
    (tmp_path / "README.md").write_text("r")
    opened: dict[int, Path] = {}
    flushed: list[Path] = []
    real_open = os.open

    def open_(path, flags, *args):
        fd = real_open(path, flags, *args)
        opened[fd] = Path(path)
        return fd

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "fsync", lambda fd: flushed.append(opened[fd]))
    _fsync_tree(tmp_path)
    monkeypatch.undo()
    everything = {tmp_path, *tmp_path.rglob("*")}
    assert sorted(flushed) == sorted(everything)
    for p in flushed:
        assert all(flushed.index(child) < flushed.index(p) for child in p.glob("*")), p
    assert flushed[-1] == tmp_path
    with pytest.raises(NotADirectoryError):
        _fsync_dir(tmp_path / "README.md")
