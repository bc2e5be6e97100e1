"""What the card's baseline table costs a build: every baseline through the official scorer on
the baseline sample of each split (its first 1,000 documents), as ``claimwire build`` runs it.

    python bench/baselines.py --release dist/claimwire-1.0.1 [--repeat 5]

The sample is cut from a built release (the rows of the first documents of each split, in file
order, as :class:`builder.pipeline.corpus.Corpus` keeps them while building), then
:func:`builder.pipeline.card.baseline_scores` runs ``--repeat`` times (the fastest counts) in this
process and in a second one with ``CLAIMWIRE_NO_COMPILE=1`` (every module from its ``.py``
file). The last line gives both times and their ratio, and whether the two gave the same scores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from builder.benchmark.scorer import TASKS  # noqa: E402
from builder.pipeline.card import baseline_scores  # noqa: E402
from builder.pipeline.corpus import SAMPLE, Sample  # noqa: E402
from builder.release import reader  # noqa: E402


def samples(release: Path, cap: int = SAMPLE) -> dict[str, Sample]:
    """The baseline sample of each split of ``release``: its first ``cap`` documents."""
    out = {}
    for split in reader.splits(release, "documents"):
        ids = [
            i
            for f in reader.files(release, "documents", split)
            for i in pq.read_table(f, columns=["id"])["id"].to_pylist()
        ][:cap]
        wanted = pa.array(ids, pa.string())
        tables = {}
        for config in TASKS:
            found = [pq.read_table(f) for f in reader.files(release, config, split)]
            tables[config] = [t.filter(pc.is_in(t["document_id"], wanted)) for t in found]
        out[split] = Sample(len(ids), tables)
    return out


def measure(release: Path, repeat: int) -> tuple[float, str]:
    """The fastest of ``repeat`` runs, in seconds, and the scores as JSON."""
    groups = samples(release)
    best = float("inf")
    scores = ""
    for _ in range(repeat):
        start = time.perf_counter()
        scored, found = baseline_scores(groups)
        best = min(best, time.perf_counter() - start)
        scores = json.dumps([scored, [[*k, v] for k, v in found.items()]])
    return best, scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", type=Path, required=True, help="a built release folder")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seconds, scores = measure(args.release, args.repeat)
    if args.json:
        print(json.dumps({"seconds": seconds, "scores": scores}))
        return
    env = {**os.environ, "CLAIMWIRE_NO_COMPILE": "1"}
    cmd = [sys.executable, __file__, "--release", str(args.release), "--repeat", str(args.repeat)]
    done = subprocess.run([*cmd, "--json"], env=env, check=True, capture_output=True, text=True)
    pure = json.loads(done.stdout)
    import builder.core.merge

    kind = "pure" if str(builder.core.merge.__file__).endswith(".py") else "compiled"
    print(
        f"baselines: {kind} {seconds:.3f} s, pure {pure['seconds']:.3f} s, "
        f"{kind}/pure={seconds / pure['seconds']:.2f}, "
        f"same scores: {'yes' if scores == pure['scores'] else 'NO'}"
    )


if __name__ == "__main__":
    main()
