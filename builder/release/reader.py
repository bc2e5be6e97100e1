"""Read a release back: the one reader behind the scorer, the baselines, ``diff``, the QA report
and the Label Studio push. Parquet is read with pyarrow (no ``datasets`` import), a batch at a
time where a consumer streams."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..core.views import named_rows
from ..errors import Problem, UsageError

SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2}


def files(release: Path, config: str, split: str | None = None) -> list[Path]:
    """The Parquet files of ``config`` (of one ``split``, or all) in name order."""
    return sorted((release / "data" / config).glob(f"{split or '*'}-*.parquet"))


def split_of(path: Path) -> str:
    """The split a data file belongs to (``test-00000-of-00001.parquet`` → ``test``)."""
    return path.name.split("-", 1)[0]


def splits(release: Path, config: str) -> list[str]:
    """The splits of ``config`` that have a file in ``release`` (empty splits have none), in
    train, validation, test order."""
    names = {split_of(p) for p in files(release, config)}
    return sorted(names, key=lambda n: (SPLIT_ORDER.get(n, 3), n))


def documents(
    release: Path, columns: Sequence[str] | None = None, ids: set[str] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(split, documents row)`` for every row, file by file, a batch of 1,000 rows at a time;
    only ``columns`` when given, only the rows of ``ids`` when given."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    keep = pa.array(sorted(ids), pa.string()) if ids is not None else None
    for f in files(release, "documents"):
        split = split_of(f)
        cols = list(columns) if columns is not None else None
        for batch in pq.ParquetFile(f).iter_batches(batch_size=1_000, columns=cols):
            if keep is not None:
                batch = batch.filter(pc.is_in(batch.column("id"), keep))
            for row in batch.to_pylist():
                yield split, row


def rows(release: Path, config: str, split: str) -> list[dict[str, Any]]:
    """Every row of one task config and split, ClassLabel columns decoded to their names."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(f) for f in files(release, config, split)]
    if not tables:
        return []
    return named_rows(config, pa.concat_tables(tables))


def read_release_rows(release: Path) -> list[dict[str, Any]]:
    """Every ``documents`` row of a release, all splits, in id order."""
    if not files(release, "documents"):
        raise UsageError(Problem("no documents files in this release", file=str(release)))
    return sorted((row for _, row in documents(release)), key=lambda r: r["id"])
