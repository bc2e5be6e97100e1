"""Mutation scores per module from the results `mutmut run` left in mutants/ (`make mutate`).

Prints a Markdown table (mutants, killed, survivors, survivors listed as equivalent in
tests/mutation-equivalent.txt, score) and then every survivor that is not listed, with the
command that shows its diff. Exit status 0 whatever the scores: this is a report, not a gate.

    python scripts/mutation_scores.py [--mutants mutants] [--equivalent FILE]
"""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# mutmut's exit codes (mutmut/stats.py): 1 and 3 are kills, timeouts are counted as kills too
# (the mutant changed what the tests saw), 0 is a survivor, None was never run.
KILLED = {1, 3}
TIMEOUT = {24, -24, 152, 255, 36}
SURVIVED = {0}
NO_TESTS = {5, 33}


def modules() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    paths: list[str] = config["tool"]["mutmut"]["only_mutate"]
    return paths


def equivalents(path: Path) -> dict[str, str]:
    """Mutant name -> reason, from lines ``<mutant name>  <reason>`` (``#`` starts a comment)."""
    listed: dict[str, str] = {}
    if not path.exists():
        return listed
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        listed[name] = reason.strip()
    return listed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutants", type=Path, default=ROOT / "mutants")
    parser.add_argument(
        "--equivalent", type=Path, default=ROOT / "tests" / "mutation-equivalent.txt"
    )
    args = parser.parse_args(argv)
    listed = equivalents(args.equivalent)
    unlisted: list[str] = []
    seen: set[str] = set()
    columns = ["module", "mutants", "killed", "survived", "of them equivalent", "not run"]
    columns += ["score", "score without equivalents"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for module in modules():
        meta = args.mutants / f"{module}.meta"
        if not meta.exists():
            print(f"| `{module}` | not generated | | | | | | |")
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))[
            "exit_code_by_key"
        ]
        seen.update(codes)
        total = len(codes)
        killed = sum(1 for c in codes.values() if c in KILLED or c in TIMEOUT)
        survivors = [k for k, c in codes.items() if c in SURVIVED or c in NO_TESTS]
        equivalent = [k for k in survivors if k in listed]
        unlisted += [k for k in survivors if k not in listed]
        not_run = sum(1 for c in codes.values() if c is None)
        if not_run == total:  # MUTATE selected other modules
            print(f"| `{module}` | {total} | | | | {not_run} | not run | not run |")
            continue
        score = killed / total if total else 1.0
        without = killed / (total - len(equivalent)) if total > len(equivalent) else 1.0
        print(
            f"| `{module}` | {total} | {killed} | {len(survivors)} | {len(equivalent)} | "
            f"{not_run} | {score:.1%} | {without:.1%} |"
        )
    if unlisted:
        print(f"\n{len(unlisted)} survivors not listed as equivalent (`mutmut show NAME`):")
        for name in unlisted:
            print(f"  {name}")
    stale = sorted(set(listed) - seen)
    if stale:
        print(f"\nlisted as equivalent but no longer generated (the code changed): {len(stale)}")
        for name in stale:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
