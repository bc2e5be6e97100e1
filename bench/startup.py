"""Start-up cost of the command line, beside its baseline, in one run.

Times ``claimwire --help``, ``claimwire validate --help`` and ``claimwire validate`` on the shipped
exports against ``python -c "import argparse"`` (the floor any argparse CLI pays), each the best of
``--runs`` fresh interpreters, as CPU time (user + system) of the child, and prints the ratios and
the modules each imports beyond the floor. The target: ``--help`` at most 3x the floor.

    .venv/bin/python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ["-c", "import argparse"]
CASES = {
    "claimwire --help": ["-m", "builder", "--help"],
    "claimwire validate --help": ["-m", "builder", "validate", "--help"],
    "claimwire validate (shipped exports)": [
        "-m",
        "builder",
        "validate",
        "annotations/exports",
        "--articles",
        "articles",
    ],
}
HEAVY = ("datasets", "pandas", "pyarrow", "numpy", "label_studio_sdk")


def cpu(argv: list[str]) -> float:
    """CPU seconds (user + system) of one fresh interpreter running ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(argv: list[str]) -> list[str]:
    """The heavy top-level packages a run imports (from ``python -X importtime``)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    found = set()
    for line in run.stderr.splitlines():
        if line.startswith("import time:"):
            name = line.rsplit("|", 1)[-1].strip()
            if name.split(".")[0] in HEAVY:
                found.add(name.split(".")[0])
    return sorted(found)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=7, help="fresh interpreters per case (best of)")
    args = p.parse_args()
    floor = min(cpu(FLOOR) for _ in range(args.runs))
    label = 'python -c "import argparse"'
    print(f"{label:<40} {floor * 1000:7.1f} ms CPU   1.00x")
    ratios = {}
    for name, argv in CASES.items():
        best = min(cpu(argv) for _ in range(args.runs))
        ratios[name] = best / floor
        heavy = ", ".join(heavy_imports(argv)) or "none"
        print(f"{name:<40} {best * 1000:7.1f} ms CPU {ratios[name]:6.2f}x   heavy imports: {heavy}")
    print(
        f"help/floor={ratios['claimwire --help']:.2f} "
        f"validate_help/floor={ratios['claimwire validate --help']:.2f} "
        f"validate/floor={ratios['claimwire validate (shipped exports)']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
