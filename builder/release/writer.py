"""Write a release folder.

Layout (see the README)::

    claimwire-<version>/
      README.md                                  card with the Hugging Face YAML header
      data/<config>/<split>-00000-of-00001.parquet
      croissant.json                             MLCommons Croissant metadata
      checksums.tsv                              path, bytes, sha256 of every other file

A release is written into a hidden temporary folder beside its final place and renamed at the
end, so a failed or interrupted build never leaves a half-written release and never touches an
existing one. Nothing in it depends on the time or the machine: the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from ..contracts.features import CONFIGS, DEFAULT_CONFIG, arrow_schema
from ..errors import OutputError, Problem, UsageError
from .locking import VersionLock, sweep

NAME = "claimwire"
CHECKSUMS = "checksums.tsv"
# Last line of checksums.tsv: the sha256 of the lines above it, so a damaged checksums file is
# named as such instead of blaming the file whose line was hit.
SELF_DIGEST = "# sha256 of the lines above: "
VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})$")
# Rows per row group, per config. A Parquet writer keeps the metadata of every column chunk it
# has written (~0.9 KB each) until the file is closed, so small row groups of the sentence-level
# configs made the build's memory grow by ~0.3 KB per task. ``datasets`` reads a file one row
# group at a time and pays a fixed cost per group (a cast check, an Arrow write: ~3 ms of CPU
# for a group of documents, bench/parquet_layout.py): documents in groups of 1,000 rows loaded
# 15-20% slower than in one group per split at 10,000 tasks. Groups of 5,000 documents keep that
# cost near 2% at 100,000 tasks; the build holds up to one group per split in memory (~14 MB of
# documents each; groups of 10,000 added ~30-45 MB to the writers' peak in a test of 100,000).
ROW_GROUP_ROWS = {"documents": 5_000, "entities": 10_000, "claims": 10_000, "stance": 10_000}
# Codec and dictionary encoding per config, chosen by bench/parquet_layout.py (10,000 tasks).
# documents: Snappy with dictionaries. Their files decode in ~25% less CPU than with zstd and no
# dictionaries (e.g. 64 against 83 ms for 9,945 synthetic documents): Snappy decompresses faster
# than zstd, and dictionary encoding, which falls back to plain pages where a column's values are
# mostly unique (texts, ids), keeps the repeated labels, sources and annotator ids small. Size:
# as ``Dataset.to_parquet`` writes them on the synthetic texts, 35% more than zstd on the real
# articles. zstd with dictionaries would be 28% smaller and ~10% slower to decode. The
# sentence-level configs stay zstd without dictionaries: Snappy with dictionaries made them
# 9-50% larger and decoded them no faster beyond the noise (claims 37 against 42 ms).
ENCODING = {
    "documents": ("snappy", True),
    "entities": ("zstd", False),
    "claims": ("zstd", False),
    "stance": ("zstd", False),
}
# Long free-text columns: no min/max statistics (nobody filters on a sentence's first word).
LONG_TEXT = frozenset({"text", "sentence", "context", "claim"})


@dataclass(frozen=True)
class SplitTable:
    config: str
    split: str
    path: str  # relative to the release folder
    num_examples: int
    num_bytes: int


def release_dir(out: Path, version: str) -> Path:
    """``out/claimwire-<version>``; the version is checked here because it becomes a path."""
    if not isinstance(version, str) or not VERSION_RE.fullmatch(version):
        raise UsageError(
            Problem(
                "release version must be a semantic version like 0.1.0",
                found=repr(version),
                fix="pass --version X.Y.Z (digits only)",
            )
        )
    return out / f"{NAME}-{version}"


def statistics_columns(schema: pa.Schema) -> list[str]:
    """The columns that get min/max statistics: the flat ones a reader filters on (ids, indexes,
    labels, metadata), not long texts or nested lists, whose statistics cost a fifth of the
    write time and serve no filter."""
    return [f.name for f in schema if not pa.types.is_nested(f.type) and f.name not in LONG_TEXT]


def parquet_options(config: str, schema: pa.Schema) -> dict[str, Any]:
    """The ``pq.ParquetWriter`` options of a config's files (codec and dictionaries:
    :data:`ENCODING`)."""
    compression, dictionary = ENCODING[config]
    return {
        "compression": compression,
        "use_dictionary": dictionary,
        "write_statistics": statistics_columns(schema),
        "store_schema": True,
    }


def parquet_path(config: str, split: str) -> str:
    return f"data/{config}/{split}-00000-of-00001.parquet"


class Background:
    """One thread that encodes and writes row groups while the caller goes on (pyarrow lets go
    of the interpreter while it encodes). Work runs in the order it was given, so each file
    gets its row groups in order; at most ``pending`` row groups wait (memory stays bounded).
    An error in the thread is raised at the next :meth:`submit` or at :meth:`drain`. Used as a
    context manager, leaving waits for (or, after an error, cancels) what is still to run, so
    no write happens after it."""

    def __init__(self, pending: int = 2) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="claimwire-parquet")
        self.futures: deque[Future[None]] = deque()
        self.pending = pending

    def submit(self, fn: Any, *args: Any) -> None:
        self.futures.append(self.pool.submit(fn, *args))
        while len(self.futures) > self.pending:
            self.futures.popleft().result()

    def drain(self) -> None:
        while self.futures:
            self.futures.popleft().result()

    def __enter__(self) -> Background:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pool.shutdown(wait=True, cancel_futures=kind is not None)


class SplitWriter:
    """Append rows of one config and split to its Parquet file, in row groups of exactly
    ``row_group_size`` rows (default: the config's :data:`ROW_GROUP_ROWS`; the last one holds
    the rest).

    Rows arrive in tables of any size (one per batch of tasks); they are buffered and cut into
    row groups by count, and each row group is written from one contiguous chunk. So the bytes of
    the file depend only on the rows and their order, not on how they were batched or on how
    many processes made them. Memory holds at most one row group (and those ``background``
    holds, when given: it writes them while the caller goes on). An empty split writes no file
    (``load_dataset`` cannot read an empty Parquet file).
    """

    def __init__(
        self,
        staging: Path,
        config: str,
        split: str,
        row_group_size: int | None = None,
        background: Background | None = None,
    ) -> None:
        self.config, self.split = config, split
        self.rel = parquet_path(config, split)
        self.path = staging / self.rel
        self.schema = arrow_schema(config)
        self.row_group_size = row_group_size or ROW_GROUP_ROWS[config]
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.background = background

    def add(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self.buffer.append(table)
        self.buffered += table.num_rows
        while self.buffered >= self.row_group_size:
            self._flush(self.row_group_size)

    def _flush(self, n: int) -> None:
        pending = pa.concat_tables(self.buffer)
        group = pending.slice(0, n)  # (no copy yet: _write makes it one chunk)
        rest = pending.slice(n)
        self.buffer = [rest] if rest.num_rows else []
        self.buffered = rest.num_rows
        if self.writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.writer = pq.ParquetWriter(
                self.path, self.schema, **parquet_options(self.config, self.schema)
            )
        self.rows += n
        if self.background is not None:
            self.background.submit(self._write, self.writer, group)
        else:
            self._write(self.writer, group)

    @staticmethod
    def _write(writer: pq.ParquetWriter, group: pa.Table) -> None:
        writer.write_table(group.combine_chunks(), row_group_size=group.num_rows)

    def close(self) -> SplitTable | None:
        """Write the last row group and close the file; None if the split has no rows."""
        if self.buffered:
            self._flush(self.buffered)
        if self.writer is None:
            return None
        if self.background is not None:
            self.background.drain()
        self.writer.close()
        # The uncompressed data size from the file itself: Arrow's ``nbytes`` would depend on how
        # the rows were chunked (validity bitmaps), and the size must not.
        meta = pq.read_metadata(self.path)
        nbytes = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        return SplitTable(self.config, self.split, self.rel, self.rows, nbytes)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_checksums(root: Path) -> None:
    lines = ["path\tbytes\tsha256"]
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel != CHECKSUMS:
            lines.append(f"{rel}\t{p.stat().st_size}\t{sha256_file(p)}")
    body = ("\n".join(lines) + "\n").encode("utf-8")
    trailer = f"{SELF_DIGEST}{hashlib.sha256(body).hexdigest()}\n".encode()
    (root / CHECKSUMS).write_bytes(body + trailer)


def yaml_header(version: str, tables: list[SplitTable], extra: dict[str, Any]) -> str:
    """The Hugging Face card metadata: configs/data_files, dataset_info with split sizes."""
    configs = []
    infos = []
    for config in CONFIGS:
        mine = [t for t in tables if t.config == config]
        if not mine:
            continue
        entry: dict[str, Any] = {"config_name": config}
        if config == DEFAULT_CONFIG:
            entry["default"] = True
        entry["data_files"] = [
            {"split": t.split, "path": f"data/{config}/{t.split}-*.parquet"} for t in mine
        ]
        configs.append(entry)
        # No ``features`` here: every Parquet file carries them (the ``huggingface`` key of its
        # schema metadata) and ``load_dataset`` reads them from there. Parsing them from this
        # header took ``load_dataset`` 11 ms of every load (pure-Python YAML), a tenth of loading
        # the documents of 10,000 tasks; ``verify`` checks that every config loads with its
        # declared features.
        infos.append(
            {
                "config_name": config,
                "splits": [
                    {"name": t.split, "num_bytes": t.num_bytes, "num_examples": t.num_examples}
                    for t in mine
                ],
                "download_size": sum(t.num_bytes for t in mine),
                "dataset_size": sum(t.num_bytes for t in mine),
            }
        )
    meta = {**extra, "version": version, "configs": configs, "dataset_info": infos}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100) + "---\n"


def publish(tmp: Path, final: Path) -> None:
    """Move a finished release into place; refuses to replace anything."""
    if final.exists():
        _exists(final)
    try:
        os.rename(tmp, final)
    except OSError:
        _exists(final)


def _exists(final: Path) -> None:
    raise UsageError(
        Problem(
            f"release {final.name} already exists with other contents; releases are immutable",
            file=str(final),
            fix="bump the version (--version X.Y.Z) or build into another --out folder",
        )
    )


def _output_error(exc: OSError, out: Path) -> OutputError:
    """A clear error for a failed read or write (disk full, read-only or missing folder)."""
    name = exc.filename if exc.filename is not None else out
    return OutputError(
        Problem(
            f"cannot write the release: {exc.strerror or exc}",
            file=str(name),
            fix=f"free disk space or choose a writable output folder (--out); {out} holds no "
            "partial release",
        )
    )


def _umask() -> int:
    """The process's umask (read by setting it and setting it back: there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Staging:
    """A hidden temporary folder next to the final release; removed unless published.

    Holds the version's lock (:mod:`builder.release.locking`) while it exists, so two builds of one
    version never run at once, and sweeps staging folders left by builds that were killed.
    """

    def __init__(self, final: Path) -> None:
        self.final = final
        self.lock = VersionLock(final.parent, final.name)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            if not self.lock.acquire():
                raise UsageError(
                    Problem(
                        f"another build of {final.name} is running "
                        f"(it holds {self.lock.path.name})",
                        file=str(final.parent),
                        fix="wait for it to finish, then build again (an identical release is "
                        "kept as is)",
                    )
                )
            sweep(final.parent, NAME, held=self.lock)
            self.path = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=final.parent))
            # mkdtemp makes a private (0700) folder; the release is renamed from it and must be
            # readable by others as any folder made under the user's umask is (0755 with 022)
            os.chmod(self.path, 0o777 & ~_umask())
        except OSError as exc:
            self.lock.release()
            raise _output_error(exc, final.parent) from None
        except BaseException:
            self.lock.release()
            raise

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            self.lock.release()
        if isinstance(exc, OSError):
            raise _output_error(exc, self.final.parent) from None

    def publish(self) -> bool:
        """Move the release into place. If that version exists already and is byte-identical
        (same checksums), keep the existing one and return False; if it differs, refuse."""
        if self.final.exists():
            if (self.final / CHECKSUMS).is_file() and (self.final / CHECKSUMS).read_bytes() == (
                self.path / CHECKSUMS
            ).read_bytes():
                return False
            _exists(self.final)
        _fsync_tree(self.path)
        publish(self.path, self.final)
        _fsync_dir(self.final.parent)
        return True


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder of the release to disk before the rename makes it visible:
    after a crash, the release is either absent or complete."""
    for p in sorted(root.rglob("*"), reverse=True):
        if p.is_file():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif p.is_dir():
            _fsync_dir(p)
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
