"""Verify a release folder: checksums, no extra or missing files, every ``documents`` row against
``schema/documents.schema.json``, split sizes, and that every config loads with
``datasets.load_dataset`` offline (``datasets`` is imported only for that).

The build does not validate the rows it writes one by one: they are made by one function
(:meth:`builder.records.Document.to_row`) from checked inputs, and every release is verified
here, row by row (``make build`` runs ``claimwire verify`` after the build; the tests verify
every release they build, the fuzz tests among them)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import cast

import pyarrow.parquet as pq
import yaml

from ..contracts.features import features
from ..contracts.schemas import fast_check, validate_instance
from ..errors import ClaimwireError, InvalidDataError, Problem
from .writer import CHECKSUMS, SELF_DIGEST, sha256_file


def read_checksums(root: Path) -> dict[str, tuple[int, str]]:
    """The recorded (bytes, sha256) per file; a damaged checksums.tsv is reported, by name."""
    path = root / CHECKSUMS
    if not path.is_file():
        raise InvalidDataError(Problem("release has no checksums.tsv", file=str(root)))
    raw = path.read_bytes()
    body, _, trailer = raw.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"

    def damaged(why: str) -> InvalidDataError:
        return InvalidDataError(
            Problem(
                f"checksums.tsv is damaged: {why}",
                file=str(path),
                fix="restore checksums.tsv from the release or rebuild",
            )
        )

    if trailer.startswith(SELF_DIGEST.encode()):
        if (
            trailer[len(SELF_DIGEST) :].decode("ascii", "replace")
            != hashlib.sha256(body).hexdigest()
        ):
            raise damaged("its content does not match its own digest (last line)")
    else:
        body = raw  # a release written before the digest line existed
    try:
        lines = body.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise damaged("not UTF-8") from None
    out = {}
    for no, line in enumerate(lines[1:], start=2):
        parts = line.split("\t")
        if len(parts) != 3 or not parts[1].isdigit() or not re.fullmatch(r"[0-9a-f]{64}", parts[2]):
            raise damaged(f"line {no} is not 'path<TAB>bytes<TAB>sha256'")
        out[parts[0]] = (int(parts[1]), parts[2])
    return out


def verify(root: Path, load: bool = True) -> list[str]:
    """Check a release: checksums of every file, no extra files, split sizes, and (``load``) that
    every config loads with ``datasets.load_dataset`` offline. Returns lines for a report."""
    problems: list[Problem] = []
    report: list[str] = []
    recorded = read_checksums(root)
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {CHECKSUMS}
    for rel in sorted(set(recorded) | present):
        if rel not in present:
            problems.append(Problem("file listed in checksums.tsv is missing", file=rel))
        elif rel not in recorded:
            problems.append(Problem("file is not listed in checksums.tsv", file=rel))
        else:
            size, digest = recorded[rel]
            actual = sha256_file(root / rel)
            if actual != digest or (root / rel).stat().st_size != size:
                problems.append(
                    Problem(
                        "checksum mismatch: the file changed after release",
                        file=rel,
                        expected=digest,
                        found=actual,
                        fix="restore the file from the release or rebuild",
                    )
                )
    report.append(f"checksums: {len(recorded)} files checked")
    if problems:
        # every problem above names its file (relative to the release)
        raise InvalidDataError([replace(p, file=str(root / cast(str, p.file))) for p in problems])
    report.append(f"documents rows: {_check_rows(root, sorted(recorded))} valid")
    if load:
        report.extend(_load_all(root))
    return report


def _check_rows(root: Path, files: list[str]) -> int:
    """Check every row of the ``documents`` config against its JSON Schema; the first invalid
    row is an error naming its file, its row number (the pointer's first part) and its article.
    Returns the number of rows checked."""
    is_valid = fast_check("documents")
    n = 0
    for rel in files:
        if not (rel.startswith("data/documents/") and rel.endswith(".parquet")):
            continue
        row_number = 0
        for batch in pq.ParquetFile(root / rel).iter_batches():
            for row in batch.to_pylist():
                if not is_valid(row):
                    try:
                        validate_instance(
                            "documents",
                            row,
                            base=f"/{row_number}",
                            file=str(root / rel),
                            article=row.get("id"),
                        )
                    except ClaimwireError as exc:
                        raise InvalidDataError(
                            [
                                replace(p, fix="rebuild the release; do not edit its files")
                                for p in exc.problems
                            ]
                        ) from None
                row_number += 1
        n += row_number
    return n


def _load_all(root: Path) -> list[str]:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import sys

    import datasets
    from datasets import load_dataset

    if not sys.stderr.isatty():
        datasets.disable_progress_bars()
    header = (root / "README.md").read_text(encoding="utf-8").split("---\n")[1]
    meta = yaml.safe_load(header)
    lines = []
    for info in meta["dataset_info"]:
        config = info["config_name"]
        try:  # the card's split sizes are checked by datasets itself (NonMatchingSplitsSizesError)
            ds = load_dataset(str(root), config)
        except Exception as exc:  # any failure to load is a broken release, not a crash
            raise InvalidDataError(
                Problem(
                    f"config {config} does not load: {type(exc).__name__}: {str(exc)[:300]}",
                    file=str(root),
                    fix="rebuild the release; do not edit its files",
                )
            ) from None
        for split in info["splits"]:
            n = ds[split["name"]].num_rows
            if n != split["num_examples"]:
                raise InvalidDataError(
                    Problem(
                        f"{config}/{split['name']} has {n} rows",
                        file=str(root),
                        expected=str(split["num_examples"]),
                    )
                )
        if ds[next(iter(ds))].features != features()[config]:
            raise InvalidDataError(
                Problem(f"config {config} loads with other features than declared", file=str(root))
            )
        lines.append(f"load_dataset {config}: " + ", ".join(f"{s}={ds[s].num_rows}" for s in ds))
    return lines
