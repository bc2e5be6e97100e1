"""``claimwire evaluate``, ``baseline`` and ``diff``: the benchmark from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

# the config names, repeated here so that ``--help`` needs no scorer import; a test keeps them equal
TASKS = ("entities", "claims", "stance")


def add_commands(sub: Any) -> None:
    """Register the benchmark commands on the ``claimwire`` sub-command parser."""
    e = sub.add_parser(
        "evaluate",
        help="score a predictions file against a release (the official scorer)",
        description="Score predictions (format: schema/predictions.schema.json) against one "
        "config and split of a release; print the metrics and write them as JSON.",
    )
    e.add_argument("--config", required=True, choices=TASKS)
    e.add_argument(
        "--split",
        default=None,
        help="split to score (default: test; a small release may only have train)",
    )
    e.add_argument("--predictions", type=Path, required=True, help="predictions JSON file")
    e.add_argument(
        "--release",
        type=Path,
        default=None,
        help="release folder (default dist/claimwire-<package version>)",
    )
    e.add_argument(
        "--output",
        type=Path,
        default=None,
        help="metrics JSON to write (default: <predictions>.metrics.json)",
    )
    e.set_defaults(func=cmd_evaluate)

    b = sub.add_parser(
        "baseline",
        help="write (and score) the predictions of a reference baseline",
        description="majority: the most frequent train decision; rules: a capitalised-span "
        "tagger, a reporting-verb cue rule for claims and claimers, a stance cue lexicon.",
    )
    b.add_argument("name", choices=("majority", "rules"))
    b.add_argument("--config", choices=(*TASKS, "all"), default="all")
    b.add_argument("--split", default=None, help="split to predict (default: test)")
    b.add_argument(
        "--release",
        type=Path,
        default=None,
        help="release folder (default dist/claimwire-<package version>)",
    )
    b.add_argument(
        "--out",
        type=Path,
        default=Path("predictions"),
        help="folder for <name>-<config>-<split>.json (default predictions)",
    )
    b.set_defaults(func=cmd_baseline)

    d = sub.add_parser(
        "diff",
        help="list what changed between two releases",
        description="Articles added, removed, changed or moved between splits, and the counts "
        "per entity label, stance and attribution, between release OLD and release NEW.",
    )
    d.add_argument("old", type=Path)
    d.add_argument("new", type=Path)
    d.add_argument("--json", action="store_true", help="print the diff as JSON")
    d.set_defaults(func=cmd_diff)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..benchmark.scorer import evaluate, summary_lines, write_metrics

    result = evaluate(args.config, args.predictions, args.release, args.split)
    output = args.output or args.predictions.with_suffix(".metrics.json")
    write_metrics(result, output)
    for line in summary_lines(result):
        print(line)
    print(f"metrics written to {output}")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from ..benchmark.baselines import run
    from ..benchmark.scorer import summary_lines

    configs = TASKS if args.config == "all" else (args.config,)
    for result in run(args.name, args.release, args.split, configs, args.out):
        print(f"wrote {result['predictions']}")
        for line in summary_lines(result):
            print(line)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from ..release.diff import diff_releases

    d = diff_releases(args.old, args.new)
    if args.json:
        print(orjson.dumps(d.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        for line in d.lines():
            print(line)
    return 0
