"""Where a build's time goes: the single-core rate of every step, on the first tasks of an export.

    python bench/stages.py --tasks 10000 --sample 2000

Each step runs over the whole sample on its own, in this process, with the garbage collector paused
as in the build, three times (the fastest counts), and is reported in tasks/s and as a cost
relative to the floor (``orjson.loads`` of the same tasks): a step at ``3.0x`` costs three parses.
The sum is what one core spends per task; the build spreads it over ``--jobs`` processes plus the
main process. The last line turns the sum into the most a build could reach on ``--cores`` cores,
every core busy with these steps and nothing else (no start-up, no whole-corpus step): the
floor times ``cores / sum``.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from run import best_of  # noqa: E402

from builder.contracts.features import CONFIGS  # noqa: E402
from builder.contracts.schemas import fast_check  # noqa: E402
from builder.core.merge import merge  # noqa: E402
from builder.core.splits import SplitSpec  # noqa: E402
from builder.core.views import Views  # noqa: E402
from builder.io.articles import RULES_FILE, load_rules, read_article  # noqa: E402
from builder.io.exports import RawTask, parse_task  # noqa: E402
from builder.io.jsonarray import Slice, open_array, split_array  # noqa: E402
from builder.io.storage import ArticleStore  # noqa: E402
from builder.pipeline.build import BATCH_TASKS, _Context, _init, _process  # noqa: E402
from builder.quality.leakage import signatures  # noqa: E402
from builder.release.writer import SplitWriter  # noqa: E402

REPEAT = 3  # runs of each step; the fastest counts (the least disturbed by the machine)


def timed(fn: Callable[[], object]) -> float:
    gc.disable()
    try:
        return best_of(fn, REPEAT)
    finally:
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=10_000, help="which bench/out/<tasks> export")
    p.add_argument("--sample", type=int, default=2_000, help="tasks measured (default 2000)")
    p.add_argument("--out", type=Path, default=HERE / "out")
    p.add_argument(
        "--cores",
        type=int,
        default=os.cpu_count() or 1,
        help="cores the budget line counts (default: this machine's)",
    )
    args = p.parse_args(argv)
    work = args.out / str(args.tasks)
    export, articles = work / "export.json", work / "articles"
    opened = open_array(export)
    if opened is None:
        raise SystemExit(f"run bench/run.py --tasks {args.tasks} first (no {export})")
    f, start = opened
    pieces: list[Slice] = []
    with f:
        for piece in split_array(f, start):
            if not isinstance(piece, Slice) or piece.index >= args.sample:
                break
            pieces.append(piece)
    n = len(pieces)
    blob = b"[" + b",".join(p.data for p in pieces) + b"]"
    rules = load_rules(articles / RULES_FILE)
    raws = [RawTask(str(export), p.index, p.offset, p.data) for p in pieces]
    parsed = [orjson.loads(p.data) for p in pieces]
    tasks = [parse_task(r) for r in raws]
    arts = [read_article(articles / f"{t.article_id}.json", rules) for t in tasks]
    docs = [d for a, t in zip(arts, tasks, strict=True) if (d := merge(a, t)) is not None]
    rows = [d.to_row() for d in docs]
    # As in the build: the views and tables of a batch of documents at a time, the tables
    # made from the views just made.
    batches = [
        (docs[i : i + BATCH_TASKS], rows[i : i + BATCH_TASKS])
        for i in range(0, len(docs), BATCH_TASKS)
    ]
    views: list[Views] = []
    tables: dict[str, list] = {}
    # What crosses between the main process and a worker, per batch: the raw tasks out, the
    # batch's tables and aggregates back (pickled as the pool does, without the pipe).
    _init(_Context(ArticleStore(articles), rules, len(arts), SplitSpec()), worker=False)
    items = [raws[i : i + BATCH_TASKS] for i in range(0, n, BATCH_TASKS)]
    results = [_process(batch) for batch in items]
    texts = [[d.article.text for d in batch] for batch, _ in batches]

    def hand_over() -> None:
        for batch, result in zip(items, results, strict=True):
            pickle.loads(pickle.dumps(batch, pickle.HIGHEST_PROTOCOL))
            pickle.loads(pickle.dumps(result, pickle.HIGHEST_PROTOCOL))

    def scan() -> None:
        g, s = open_array(export)  # type: ignore[misc]
        with g:
            for piece in split_array(g, s):
                if not isinstance(piece, Slice) or piece.index >= n - 1:
                    break

    def make_views() -> None:  # a batch of documents at a time, as the build does
        views[:] = [Views(d, r) for d, r in batches]

    def arrow() -> None:
        tables.clear()
        for v in views:  # every config of a batch, then the next batch, as the build does
            for c in CONFIGS:
                tables.setdefault(c, []).append(v.table(c))

    def write() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            for c in CONFIGS:
                w = SplitWriter(Path(tmp), c, "train")
                for t in tables[c]:
                    w.add(t)
                w.close()

    is_valid = fast_check("labelstudio-task")  # what the build runs on every task
    steps: list[tuple[str, Callable[[], object]]] = [
        ("floor: orjson.loads of the tasks", lambda: orjson.loads(blob)),
        ("scan: cut the array into tasks", scan),
        ("parse each task (orjson)", lambda: [orjson.loads(p.data) for p in pieces]),
        ("task schema (jsonschema-rs)", lambda: [is_valid(t) for t in parsed]),
        (
            "read + clean the article",
            lambda: [read_article(articles / f"{t.article_id}.json", rules) for t in tasks],
        ),
        (
            "merge (spans, choices, relations)",
            lambda: [merge(a, t) for a, t in zip(arts, tasks, strict=True)],
        ),
        (
            "documents row",
            lambda: [d.to_row() for d in docs],
        ),
        # Sentences, tokens and tags of a batch at once, then the tables from them.
        ("task views: sentences, tokens, tags", make_views),
        ("Arrow tables, every config", arrow),
        ("leakage signatures (MinHash)", lambda: [signatures(t) for t in texts]),
        ("hand-over: tasks out, tables back", hand_over),
        ("Parquet write, every config", write),
    ]
    floor_s = None
    total = 0.0
    print(f"{n} tasks of {export}")
    for label, fn in steps:
        seconds = timed(fn)
        floor_s = floor_s or seconds
        if label.startswith("floor"):
            cost = "1.0x"
        else:
            total += seconds
            cost = f"{seconds / floor_s:.1f}x"
        print(f"{label:<38} {n / seconds:>9,.0f} tasks/s  {cost:>6}")
    parses = total / floor_s
    print(f"{'all steps but the floor':<38} {n / total:>9,.0f} tasks/s  {parses:>5.1f}x")
    # With every core busy and nothing else to do, a build runs at cores / parses x the floor:
    # 0.5x the floor allows a task at most 2 x cores parses.
    print(
        f"on {args.cores} cores these steps alone allow at most {args.cores / parses:.2f}x the "
        f"floor (0.5x allows <= {2 * args.cores:.1f} parses a task)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
