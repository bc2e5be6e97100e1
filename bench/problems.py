"""What saying where costs: ``validate`` and ``build --on-invalid quarantine`` on an export with a
slip in every task, beside the same commands on the same export without slips, in one run.

Each task of a synthetic export (``bench/generate.py``) gets one annotator slip: a REPORTED claim
marked AUTHOR while it keeps its claimer relation (the commonest slip in real projects). Every
problem must then be located (file, line, column, JSON pointer) and, in the build, set aside in
``quarantine.jsonl``. The target: each command at most 1.5x its clean run (best of ``--runs``).

    .venv/bin/python bench/problems.py [--tasks 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402


def slip(tasks: list[dict]) -> int:
    """Mark one REPORTED claim per task AUTHOR (its claimer relation stays); returns slips made."""
    made = 0
    for task in tasks:
        for annotation in task["annotations"]:
            results = annotation["result"]
            claimed = {r["from_id"] for r in results if r.get("labels") == ["claimer"]}
            for r in results:
                if r.get("from_name") == "attribution" and r["id"] in claimed:
                    r["value"]["choices"] = ["AUTHOR"]
                    made += 1
                    break
            break
    return made


def best(argv: list[str], runs: int) -> tuple[float, subprocess.CompletedProcess[str]]:
    times, last = [], None
    for _ in range(runs):
        started = time.perf_counter()
        last = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - started)
    assert last is not None
    return min(times), last


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tasks", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    claimwire = [sys.executable, "-m", "builder"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        export, articles = generate(args.tasks, root / "syn", 6)
        tasks = json.loads(export.read_text(encoding="utf-8"))
        clean = root / "clean" / "export.json"
        bad = root / "slips" / "export.json"
        clean.parent.mkdir()
        bad.parent.mkdir()
        clean.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
        made = slip(tasks)
        bad.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
        size = clean.stat().st_size / 1e6
        print(f"{args.tasks} tasks, {size:.1f} MB export, {made} slips (one per task)")
        validate = [*claimwire, "validate", "--articles", str(articles)]
        t_clean, _ = best([*validate, str(clean)], args.runs)
        t_bad, run = best([*validate, str(bad)], args.runs)
        problems = sum(1 for line in run.stdout.splitlines() if ": an AUTHOR claim has" in line)
        print(
            f"validate: clean {t_clean:.2f} s, {problems} problems {t_bad:.2f} s, "
            f"ratio {t_bad / t_clean:.2f}"
        )

        def build(path: Path, *extra: str) -> list[str]:
            out = root / "dist"
            shutil.rmtree(out, ignore_errors=True)
            return [
                *claimwire,
                "build",
                "--articles",
                str(articles),
                "--annotations",
                str(path),
                "--out",
                str(out),
                "--jobs",
                "1",
                "--version",
                "9.0.0",
                *extra,
            ]

        b_clean, _ = best(build(clean), args.runs)
        b_bad, run = best(build(bad, "--on-invalid", "quarantine"), args.runs)
        units = sum(1 for _ in (root / "dist" / "claimwire-9.0.0" / "quarantine.jsonl").open())
        print(
            f"build: clean {b_clean:.2f} s, quarantine of {units} units {b_bad:.2f} s, "
            f"ratio {b_bad / b_clean:.2f}"
        )
        print(f"validate/clean={t_bad / t_clean:.2f} quarantine_build/clean={b_bad / b_clean:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
