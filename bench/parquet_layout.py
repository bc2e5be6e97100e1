"""How the Parquet layout of the ``documents`` config changes its size and its read speed.

    python bench/parquet_layout.py --tasks 10000     # builds bench/out/10000/ first if needed

Builds a release from the benchmark's synthetic export (``bench/run.py`` generates it), then
rewrites the rows of its ``documents`` files in each candidate layout (codec and level, rows per
row group, data page size, dictionary encoding) into a copy of the release, and reads every copy
as a user does: ``load_dataset(folder, "documents")`` with a fresh cache, and streaming every row.
The reference is the one ``bench/run.py`` uses: a plain ``Dataset.to_parquet`` of the same rows
read with ``load_dataset("parquet", data_files=...)``. Each layout is timed ``--repeat`` times,
interleaved with the others (a burst of load on the machine slows them all, not one), and the
best run counts. One line per layout: size, load and stream as ratios to the plain copy.

The first layout, ``release``, is written with the settings of
``builder.release.writer.SplitWriter``; the script checks that its bytes are the release's own,
so the figures are those of the files a build writes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402

from builder.contracts.features import arrow_schema, features  # noqa: E402
from builder.release import writer as release_writer  # noqa: E402

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

CONFIG = "documents"
# Columns with few distinct values (labels, sources, annotators), the ones where a dictionary
# page pays off; the others (ids, texts, offsets) are mostly unique.
REPEATED = [
    "source",
    "language",
    "license",
    "published",
    "entities.list.element.label",
    "entities.list.element.portrayal",
    "entities.list.element.decided_by",
    "claims.list.element.attribution",
    "claims.list.element.stance",
    "claims.list.element.decided_by",
    "annotation.annotator_ids.list.element",
    "annotation.adjudication",
    "annotation.spans.list.element.annotator_a",
    "annotation.spans.list.element.annotator_b",
    "annotation.spans.list.element.kind",
    "annotation.spans.list.element.label",
    "annotation.labels.list.element.unit",
    "annotation.labels.list.element.attribute",
    "annotation.labels.list.element.annotator",
    "annotation.labels.list.element.value",
]


@dataclass(frozen=True)
class Layout:
    name: str
    rows: int  # rows per row group (0: the whole split in one)
    compression: str
    level: int | None = None
    dictionary: bool | list[str] = False
    page_size: int | None = None  # data page size in bytes (None: Arrow's 1 MiB)
    extra: dict[str, Any] = field(default_factory=dict)
    # The card's YAML header with (True) or without (False) each config's features in
    # ``dataset_info``; None: the release's card as it is.
    card_features: bool | None = None


def current() -> Layout:
    """The layout ``SplitWriter`` writes today, from its own settings."""
    opts = release_writer.parquet_options(CONFIG, arrow_schema(CONFIG))
    return Layout(
        "release",
        release_writer.ROW_GROUP_ROWS[CONFIG],
        str(opts.pop("compression")),
        opts.pop("compression_level", None),
        opts.pop("use_dictionary"),
        opts.pop("data_page_size", None),
        opts,
    )


LAYOUTS = [
    # 1.0.0's files and card: zstd (level 1, Arrow's default), no dictionaries, 1,000-row groups,
    # features in the card's YAML header
    Layout("1.0.0 (zstd nodict rg1k)", 1_000, "zstd", 1, card_features=True),
    Layout("zstd1 dict rg10k", 10_000, "zstd", 1, True),
    Layout("zstd1 nodict rg10k", 10_000, "zstd", 1),
    Layout("zstd1 dict-rep rg10k", 10_000, "zstd", 1, REPEATED),
    Layout("zstd3 nodict rg10k", 10_000, "zstd", 3),
    Layout("snappy nodict rg1k", 1_000, "snappy"),
    Layout("snappy dict rg1k", 1_000, "snappy", None, True),
    Layout("snappy dict rg10k", 10_000, "snappy", None, True),
    Layout("lz4 nodict rg10k", 10_000, "lz4"),
    Layout("lz4 dict rg10k", 10_000, "lz4", None, True),
    Layout("zstd1 nodict rg10k page64k", 10_000, "zstd", 1, page_size=64 << 10),
    Layout("none nodict rg10k", 10_000, "none"),
    Layout("snappy dict one group", 0, "snappy", None, True),
]


def write(table: pa.Table, path: Path, layout: Layout) -> None:
    """``table`` in ``layout``, cut into row groups as ``SplitWriter`` cuts them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kw: dict[str, Any] = {"compression": layout.compression, "use_dictionary": layout.dictionary}
    if layout.level is not None:
        kw["compression_level"] = layout.level
    if layout.page_size is not None:
        kw["data_page_size"] = layout.page_size
    kw.setdefault("write_statistics", release_writer.statistics_columns(table.schema))
    kw.setdefault("store_schema", True)
    kw.update(layout.extra)
    n = layout.rows or table.num_rows
    with pq.ParquetWriter(path, table.schema, **kw) as w:
        for start in range(0, table.num_rows, n):
            group = table.slice(start, n).combine_chunks()
            w.write_table(group, row_group_size=group.num_rows)


def write_all(tables: list[pa.Table], paths: list[Path], layout: Layout) -> None:
    for table, path in zip(tables, paths, strict=True):
        write(table, path, layout)


def build_release(tasks: int, work: Path, seed: int) -> Path:
    if not (work / "generated").is_file():
        shutil.rmtree(work, ignore_errors=True)
        generate(tasks, work, seed)
        (work / "generated").write_text(f"{tasks} {seed}\n")
    out = work / "layout-release"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "builder", "build", "--articles", str(work / "articles")]
    cmd += ["--annotations", str(work / "export.json"), "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=HERE.parent, stdout=subprocess.DEVNULL)
    return next(out.iterdir())


def copy_of(release: Path, dest: Path, card_features: bool | None = None) -> Path:
    """A folder that reads as the release: its card (the YAML header names the configs, their
    files and features) and every data folder but ``documents``, linked."""
    (dest / "data" / CONFIG).mkdir(parents=True)
    if card_features is None:
        (dest / "README.md").symlink_to(release / "README.md")
    else:
        _, header, body = (release / "README.md").read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(header)
        for info in meta["dataset_info"]:
            info.pop("features", None)
            if card_features:
                info["features"] = features()[info["config_name"]]._to_yaml_list()
        text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
        (dest / "README.md").write_text(f"---\n{text}---\n{body}", encoding="utf-8")
    for sub in (release / "data").iterdir():
        if sub.name != CONFIG:
            (dest / "data" / sub.name).symlink_to(sub)
    return dest


def timed(fn: Callable[[], None]) -> tuple[float, float]:
    """Wall and CPU seconds (this process, every thread) of ``fn()``."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def decode(paths: list[Path]) -> None:
    """Read every row group as ``datasets``' Parquet builder does (one batch per row group)."""
    fmt = ds.ParquetFileFormat()
    for path in paths:
        with path.open("rb") as f:
            fragment = fmt.make_fragment(f)
            size = fragment.row_groups[0].num_rows
            for batch in fragment.to_batches(
                batch_size=size, batch_readahead=0, fragment_readahead=0
            ):
                pa.Table.from_batches([batch])


def cpu(fn: Callable[[], None]) -> float:
    """CPU seconds of ``fn()`` in this process (every thread): less moved by other processes
    than wall time."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=10_000, help="export size (default 10000)")
    p.add_argument("--out", type=Path, default=HERE / "out", help="work folder (bench/out)")
    p.add_argument("--release", type=Path, help="an existing release (default: build one)")
    p.add_argument("--repeat", type=int, default=7, help="rounds (default 7)")
    p.add_argument("--only", nargs="*", help="layout names to run (default: all)")
    p.add_argument("--seed", type=int, default=6)
    args = p.parse_args(argv)

    from datasets import disable_progress_bars, load_dataset

    disable_progress_bars()
    release = args.release or build_release(args.tasks, args.out / str(args.tasks), args.seed)
    files = sorted((release / "data" / CONFIG).glob("*.parquet"))
    # The declared schema (Parquet reads lists back with other child names)
    schema = arrow_schema(CONFIG)
    # The release as it is, and with the other card (features in its YAML header or not)
    header = (release / "README.md").read_text(encoding="utf-8").split("---\n", 2)[1]
    with_features = "features" in yaml.safe_load(header)["dataset_info"][0]
    other = "without" if with_features else "with"
    layouts = [
        current(),
        replace(current(), name=f"release, card {other} features", card_features=not with_features),
        *LAYOUTS,
    ]
    if args.only:
        layouts = [x for x in layouts if x.name in args.only or x.name.startswith("release")]
    tmp = Path(tempfile.mkdtemp(prefix="claimwire-layout-", dir=release.parent))
    try:
        loaded = load_dataset(str(release), CONFIG, cache_dir=str(tmp / "c0"))
        plain = tmp / "plain"
        plain.mkdir()
        data_files = {}
        for split, d in loaded.items():
            d.to_parquet(str(plain / f"{split}.parquet"))
            data_files[split] = str(plain / f"{split}.parquet")
        plain_size = sum(Path(f).stat().st_size for f in data_files.values())

        # The plain files themselves in a copy of the release: what the card and the folder
        # cost a reader, apart from the layout.
        folders: dict[str, Path] = {"to_parquet files": copy_of(release, tmp / "as-plain")}
        for f in files:
            split = f.name.split("-", 1)[0]
            shutil.copyfile(data_files[split], tmp / "as-plain" / "data" / CONFIG / f.name)
        sizes: dict[str, int] = {"to_parquet files": plain_size}
        parquet: dict[str, list[Path]] = {
            "to_parquet files": [Path(f) for f in data_files.values()]
        }
        tables = [pq.read_table(f).cast(schema) for f in files]
        wrote: dict[str, float] = {}
        for layout in layouts:
            folder = copy_of(release, tmp / f"l{len(folders)}", layout.card_features)
            out = [folder / "data" / CONFIG / f.name for f in files]
            wrote[layout.name] = min(cpu(partial(write_all, tables, out, layout)) for _ in range(2))
            written = sorted((folder / "data" / CONFIG).glob("*.parquet"))
            sizes[layout.name] = sum(f.stat().st_size for f in written)
            folders[layout.name] = folder
            parquet[layout.name] = written
            if layout.name == "release":
                same = [
                    a.read_bytes() == b.read_bytes() for a, b in zip(files, written, strict=True)
                ]
                if not all(same):
                    raise SystemExit("the 'release' layout does not reproduce the release's files")

        def load(path: str, **kw: Any) -> Callable[[], None]:
            def run() -> None:
                load_dataset(path, cache_dir=tempfile.mkdtemp(dir=tmp), **kw)

            return run

        def stream(path: str, **kw: Any) -> Callable[[], None]:
            def run() -> None:
                for split in load_dataset(path, streaming=True, **kw).values():
                    for _ in split:
                        pass

            return run

        runs: dict[tuple[str, str], Callable[[], None]] = {
            ("plain", "load"): load("parquet", data_files=data_files),
            ("plain", "stream"): stream("parquet", data_files=data_files),
        }
        for name, folder in folders.items():
            runs[(name, "load")] = load(str(folder), name=CONFIG)
            runs[(name, "stream")] = stream(str(folder), name=CONFIG)
        # Each run of a layout right after a run of the plain copy, and the ratio of the pair:
        # the machine's load moves both alike. The median ratio over the rounds counts.
        t: dict[tuple[str, str], float] = {}
        ratios: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat):
            for name in folders:
                for what in ("load", "stream"):
                    base, mine = timed(runs[("plain", what)]), timed(runs[(name, what)])
                    for key, value in (("plain", base), (name, mine)):
                        for i, kind in enumerate((what, f"{what} cpu")):
                            t[(key, kind)] = min(t.get((key, kind), float("inf")), value[i])
                    ratios.setdefault((name, what), []).append(mine[0] / base[0])
                    ratios.setdefault((name, f"{what} cpu"), []).append(mine[1] / base[1])
                key = (name, "decode")
                t[key] = min(t.get(key, float("inf")), cpu(partial(decode, parquet[name])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = sum(pq.read_metadata(f).num_rows for f in files)
    print(
        f"documents: {rows} rows in {len(files)} files; plain to_parquet {plain_size / 1e6:.2f} MB,"
        f" load {t[('plain', 'load')]:.3f} s, stream {t[('plain', 'stream')]:.3f} s"
        f" (best of {args.repeat * len(sizes)} runs each)"
    )
    print(
        f"{'layout':<30} {'MB':>6} {'size':>5} {'load':>5} {'stream':>6} {'load':>5} {'stream':>6}"
        f" {'decode':>6} {'write':>5}"
    )
    print(f"{'':<43} {'wall':>5} {'wall':>6} {'cpu':>5} {'cpu':>6} {'ms':>6} {'ms':>5}")
    for n in sizes:
        w = f"{wrote[n] * 1e3:>5.0f}" if n in wrote else f"{'':>5}"
        r = {
            k: statistics.median(ratios[(n, k)])
            for k in ("load", "stream", "load cpu", "stream cpu")
        }
        print(
            f"{n:<30} {sizes[n] / 1e6:>6.2f} {sizes[n] / plain_size:>5.2f} {r['load']:>5.2f}"
            f" {r['stream']:>6.2f} {r['load cpu']:>5.2f} {r['stream cpu']:>6.2f}"
            f" {t[(n, 'decode')] * 1e3:>6.0f} {w}"
        )
    print(
        f"size, load, stream: ratios to the plain copy, the median of {args.repeat} rounds in each"
        " of which the plain copy and the layout run one after the other (wall: elapsed; cpu: CPU"
        " time of this process, every thread);\ndecode: CPU ms to"
        " read every row group as datasets does; write: CPU ms to write the files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
