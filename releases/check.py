"""Recorded releases must not change without a version bump.

``releases/<version>.tsv`` is the ``checksums.tsv`` of a published release, committed, and
``releases/<version>.splits.tsv`` the split of each of its articles (a later build of the same
major version keeps them: ``builder.pipeline.clusters``). This script rebuilds the current
version (``builder.DATASET_VERSION``) from the committed inputs, with the recorded splits, into
a temporary folder and compares:

    python releases/check.py            # exit 1 if the recorded current version would change
    python releases/check.py --record   # record the current version (once, when releasing it):
                                        # its checksums and its splits

A version that is not recorded yet passes (it is being prepared). Recording refuses to overwrite
a different record: released bytes are a contract that papers cite.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "releases"


def rebuild(version: str, scratch: Path, records: Path = RECORDS) -> tuple[bytes, bytes]:
    """checksums.tsv and the splits record of the current inputs built as ``version``, with
    the splits recorded in ``records``."""
    from builder.io.exports import export_files
    from builder.pipeline.build import build
    from builder.pipeline.clusters import splits_record

    exports = list(export_files(ROOT / "annotations" / "exports"))
    result = build(ROOT / "articles", exports, scratch, version, recorded=records)
    return (result.path / "checksums.tsv").read_bytes(), splits_record(result.path)


def check(version: str | None = None, records: Path = RECORDS) -> tuple[bool, str]:
    """(ok, message) for the current version against its record, if any."""
    from builder import DATASET_VERSION

    version = version or DATASET_VERSION
    record = records / f"{version}.tsv"
    with tempfile.TemporaryDirectory() as scratch:
        built, _ = rebuild(version, Path(scratch), records)
    if not record.is_file():
        return True, (
            f"{version} is not recorded yet; record it when it is released: "
            "python releases/check.py --record"
        )
    recorded = record.read_bytes()
    if built == recorded:
        return True, f"{version}: the rebuild matches releases/{record.name} byte for byte"
    diff = "".join(
        difflib.unified_diff(
            recorded.decode().splitlines(keepends=True),
            built.decode().splitlines(keepends=True),
            f"releases/{record.name}",
            "rebuild",
        )
    )
    return False, (
        f"{version} is released and these inputs would change it; bump the version "
        f"(pyproject.toml and builder.DATASET_VERSION) or restore the inputs\n{diff}"
    )


def record(version: str | None = None, records: Path = RECORDS) -> str:
    from builder import DATASET_VERSION

    version = version or DATASET_VERSION
    target = records / f"{version}.tsv"
    splits = records / f"{version}.splits.tsv"
    with tempfile.TemporaryDirectory() as scratch:
        built, assigned = rebuild(version, Path(scratch), records)
    if target.is_file() and target.read_bytes() != built:
        raise SystemExit(f"releases/{target.name} exists with other checksums; bump the version")
    if splits.is_file() and splits.read_bytes() != assigned:
        raise SystemExit(f"releases/{splits.name} exists with other splits; bump the version")
    target.write_bytes(built)
    splits.write_bytes(assigned)
    return f"recorded releases/{target.name} and releases/{splits.name}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--record", action="store_true", help="record the current version")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    if args.record:
        print(record())
        return 0
    ok, message = check()
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
