"""The ``claimwire`` command line. Exit codes: 0 ok, 1 invalid data, 2 usage."""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from ..errors import ClaimwireError, InvalidDataError, Problem, UsageError
from ..version import DATASET_VERSION
from . import benchmark, ls, quality
from . import scheme as schemes

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
AUTO_JOBS_BYTES = 8 << 20  # below this, worker processes cost more than they save
CACHE_DIR = ".claimwire-cache"  # builder.pipeline.cache.DIR_NAME (not imported: start-up)
CACHE_MAX_MB = 2048  # builder.pipeline.cache.MAX_MB


class _TaskBar:
    """Tasks done, tasks/s and an ETA on a terminal; silent in CI and when stderr is piped.

    A streamed export's task count is unknown until its end, so the total is estimated from the
    bytes read so far and refined as the build goes.
    """

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            desc="building",
            unit=" tasks",
            total=None,
            leave=False,
            disable=not sys.stderr.isatty() or bool(os.environ.get("CI")),
        )

    def __call__(self, tasks: int, done_bytes: int, total_bytes: int) -> None:
        if done_bytes:
            self.bar.total = max(tasks, round(tasks * total_bytes / done_bytes))
        self.bar.update(tasks - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _jobs(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes (0: auto), got {text!r}")
    return n


def _auto_jobs(exports: list[Path], jobs: int) -> int:
    """``--jobs 0``: every available core, unless the exports are too small to be worth it."""
    if jobs:
        return jobs
    from ..io.exports import export_files

    size = 0
    for f in (f for p in exports if p.exists() for f in export_files(p)):
        size += f.stat().st_size
        if size > AUTO_JOBS_BYTES:  # enough: a folder of a million files is not stat-ed twice
            cores = (
                len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
            )
            return max(1, cores or 1)
    return 1


def _version(text: str) -> str:
    parts = text.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"expected a semantic version like 0.1.0, got {text!r}")
    return text


def _articles(text: str) -> Path | str:
    """``--articles``: a folder, or an fsspec URL (``s3://...``) kept as written."""
    return text if "://" in text else Path(text)


def _recorded(folder: Path | None) -> Path | None:
    """The folder of recorded splits: ``--recorded``, else ``releases`` when it exists."""
    if folder is None:
        default = Path("releases")
        return default if default.is_dir() else None
    if not folder.is_dir():
        raise UsageError(
            Problem(
                "--recorded is not a folder",
                file=str(folder),
                expected="a folder of <version>.splits.tsv records, such as releases",
            )
        )
    return folder


def _cache_dir(args: argparse.Namespace) -> Path | None:
    """The build cache: ``--cache-dir``, else ``.claimwire-cache`` beside the output folder;
    None with ``--no-cache``."""
    if args.no_cache:
        return None
    if args.cache_dir is not None:
        return Path(args.cache_dir)
    out: Path = args.out
    return out.absolute().parent / CACHE_DIR


def _megabytes(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n <= 0:
        raise argparse.ArgumentTypeError(f"expected a size in megabytes (> 0), got {text!r}")
    return n


def _address(args: argparse.Namespace) -> str | None:
    """The Dask scheduler to join: ``--address``, else ``DASK_SCHEDULER_ADDRESS``; None: a
    cluster on this machine."""
    if args.engine != "dask":
        if args.address is None:
            return None  # DASK_SCHEDULER_ADDRESS is for --engine dask only
        raise UsageError(
            Problem(
                "--address is the Dask scheduler to join: it needs --engine dask",
                found=f"--engine {args.engine}",
                fix="add --engine dask, or leave --address out",
            )
        )
    address: str | None = args.address or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    return address


def cmd_build(args: argparse.Namespace) -> int:
    from ..core.splits import SplitSpec
    from ..io.storage import local_exports
    from ..pipeline.build import build

    scheme = schemes.resolve(args.scheme)
    left_out: list[str] = []
    if args.exclude_uncleared:
        from ..pipeline.attribution import uncleared

        left_out = uncleared(args.articles)
    bar = _TaskBar()
    try:
        with local_exports(args.annotations) as exports:
            result = build(
                articles_dir=args.articles,
                exports=exports,
                out=args.out,
                version=args.version,
                splits=SplitSpec.parse(args.splits),
                progress=bar,
                jobs=_auto_jobs(exports, args.jobs),
                on_invalid=args.on_invalid,
                scheme=scheme,
                exclude=left_out,
                recorded=_recorded(args.recorded),
                same_article=args.same_article,
                exclude_uncleared=args.exclude_uncleared,
                cache_dir=_cache_dir(args),
                cache_max_mb=args.cache_max_mb,
                engine=args.engine,
                address=_address(args),
            )
    except InvalidDataError as exc:
        if args.on_invalid != "fail":
            raise
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        print(
            f"{len(exc.problems)} problem(s) stopped the build at this task. "
            "`claimwire validate` lists every problem of the exports; "
            "`claimwire build --on-invalid quarantine` releases what is consistent and sets "
            "the rest aside in quarantine.jsonl.",
            file=sys.stderr,
        )
        return exc.exit_code
    finally:
        bar.close()
    if result.created:
        print(f"built {result.path}")
    else:
        print(f"up to date: {result.path} already holds exactly this build (nothing written)")
    made = (
        f", {result.task_articles} made from their tasks: no file in {args.articles}"
        if result.task_articles
        else ""
    )
    print(
        f"  articles: {result.articles + result.task_articles} "
        f"({len(result.unannotated)} without annotation{made})"
    )
    cache_dir = _cache_dir(args)
    if cache_dir is not None:
        print(f"  cache: {result.cached} of {result.tasks} task(s) reused from {cache_dir}")
    if result.cache_problem is not None:
        print(
            f"warning: the build cache in {cache_dir} could not be written "
            f"({result.cache_problem}); the release is complete, and the next build processes "
            "the tasks it could not keep again (--no-cache does without it)",
            file=sys.stderr,
        )
    chosen = result.selection
    if chosen.superseded or chosen.unannotated or chosen.pooled:
        print(f"  tasks: {chosen.summary}")
    if args.exclude_uncleared:
        print(
            f"  left out (--exclude-uncleared): {len(left_out)} article(s) whose licence is not "
            "cleared for redistribution" + (f": {', '.join(left_out)}" if left_out else "")
        )
        if result.task_articles_left_out:
            print(
                f"  left out (--exclude-uncleared): {result.task_articles_left_out} article(s) "
                "made from their tasks, whose licence (the scheme's defaults) is not cleared"
            )
    for split, counts in result.counts.items():
        if counts["documents"]:
            print(
                f"  {split:<10} {counts['documents']:>5} documents "
                f"{counts['entities']:>6} entities {counts['claims']:>6} claims"
            )
    fixes = ", ".join(f"{k}={v}" for k, v in sorted(result.stats.fixes.items()))
    print(f"  span fixes: {fixes or 'none'}; skipped annotations: {result.stats.cancelled}")
    if result.stats.reanchored:
        print(
            f"  re-anchored: {result.stats.reanchored} task(s) whose text differed from the "
            f"cleaned article, {result.stats.carried} span(s) carried over"
        )
    if scheme is not None:
        print("  " + schemes.dropped_summary(result.dropped))
    if args.on_invalid == "quarantine":
        by_rule: Counter[str] = Counter()
        for (rule, _), n in result.quarantined.items():
            by_rule[rule] += n
        print(f"  quarantined: {sum(by_rule.values())} unit(s) in quarantine.jsonl")
        for rule, n in sorted(by_rule.items(), key=lambda x: (-x[1], x[0])):
            print(f"    {n:>6}  {rule}")
    print("load it with:")
    print(f'  from datasets import load_dataset; ds = load_dataset("{result.path}")')
    return EXIT_OK


def _shown(problems: list[Problem], names: dict[str, str]) -> list[Problem]:
    """Problems with temporary copies of remote exports named by the URL the user gave."""
    from dataclasses import replace

    out = []
    for p in problems:
        for local, given in names.items():
            if local != given and p.file and p.file.startswith(local):
                p = replace(p, file=given + p.file[len(local) :])
        out.append(p)
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    from collections import Counter

    from ..io.storage import local_exports
    from ..pipeline.validate import validate_paths

    scheme = schemes.resolve(args.scheme)
    dropped: Counter[tuple[str, str]] = Counter()
    with local_exports(args.paths) as paths:
        problems, checked = validate_paths(paths, args.articles, scheme, dropped)
        problems = _shown(problems, dict(zip(map(str, paths), args.paths, strict=True)))
    for p in problems:
        print(_github(p) if args.format == "github" else str(p))
    if scheme is not None:
        print(schemes.dropped_summary(dropped), file=sys.stderr)
    status = "invalid" if problems else "valid"
    print(
        f"{status}: {checked} task(s) and article(s) checked, {len(problems)} problem(s)",
        file=sys.stderr,
    )
    return EXIT_INVALID if problems else EXIT_OK


def _github(p: Problem) -> str:
    """A GitHub Actions workflow command: an annotation on the offending line."""
    loc = f"file={p.file or ''}"
    if p.line is not None:
        loc += f",line={p.line}"
        if p.column is not None:
            loc += f",col={p.column}"
    body = str(p).split(": ", 1)[-1]
    body = body.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::error {loc},title=claimwire::{body}"


def cmd_verify(args: argparse.Namespace) -> int:
    from ..release.verify import verify

    if not (args.release / "checksums.tsv").is_file():
        raise UsageError(
            Problem(
                "not a release folder (no checksums.tsv)",
                file=str(args.release),
                fix="pass a folder like dist/claimwire-0.1.0",
            )
        )
    for line in verify(args.release, load=not args.no_load):
        print(line)
    print(f"verified {args.release}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="claimwire",
        description="Build, validate and verify the claimwire dataset: news articles annotated in "
        "Label Studio with entities, claims and stance.",
        epilog="Exit codes: 0 ok, 1 invalid data, 2 usage. Docs: README.md.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser(
        "build",
        help="build a versioned Parquet release",
        description="Merge articles/ with Label Studio JSON exports, validate "
        "everything, and write dist/claimwire-<version>/ atomically.",
    )
    b.add_argument(
        "--version",
        type=_version,
        default=DATASET_VERSION,
        help=f"release version (default {DATASET_VERSION})",
    )
    b.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default dist)")
    b.add_argument(
        "--articles",
        type=_articles,
        default=Path("articles"),
        help="raw articles and sources.json: a folder or an fsspec URL of one "
        "(s3://bucket/articles, file:///abs/path) that every worker can read (default articles)",
    )
    b.add_argument(
        "--annotations",
        nargs="+",
        default=["annotations/exports"],
        help="Label Studio JSON exports: files, folders of per-task files as export "
        "storage writes them, or fsspec URLs (default annotations/exports)",
    )
    b.add_argument(
        "--splits",
        default="train=50,validation=20,test=30",
        help="split shares in percent (default train=50,validation=20,test=30, the shares of "
        "every release since 1.0.0: changing them moves articles between splits)",
    )
    b.add_argument(
        "--on-invalid",
        choices=("fail", "quarantine"),
        default="fail",
        help="fail (default): stop at the first task with a problem; quarantine: release what "
        "is consistent and set each inconsistent unit (a claim with its links, an entity, a "
        "relation, a task whose text cannot be anchored) aside in quarantine.jsonl",
    )
    b.add_argument(
        "--jobs",
        type=_jobs,
        default=0,
        metavar="N",
        help="worker processes (default 0: every core for exports over 8 MB); the "
        "release is byte-identical for any N",
    )
    b.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="where the batches run: local (default) on this machine, or dask on a Dask "
        'cluster (pip install "claimwire[dask]"): the one at --address, else --jobs worker '
        "processes started here. The release is byte-identical whatever the engine",
    )
    b.add_argument(
        "--address",
        default=None,
        metavar="HOST:PORT",
        help="with --engine dask: the scheduler to join, such as tcp://HEAD:8786 (default "
        "DASK_SCHEDULER_ADDRESS, else a cluster on this machine). Every worker reads the "
        "articles at --articles: the same path on every machine, or a URL such as "
        "s3://bucket/articles",
    )
    b.add_argument(
        "--exclude-uncleared",
        action="store_true",
        help="leave out the articles whose licence is not cleared for redistribution (marked "
        "'not cleared' in the card and ATTRIBUTION.md; in 1.0.0 the seed article, a research "
        "sample), with their annotations; default: include them. The other articles keep "
        "their splits",
    )
    b.add_argument(
        "--recorded",
        type=Path,
        default=None,
        metavar="DIR",
        help="recorded releases (<version>.splits.tsv files): the articles a release of this "
        "major version listed keep their split, and so do their near-duplicates (default "
        "releases, when that folder exists)",
    )
    b.add_argument(
        "--same-article",
        choices=("pool", "refuse"),
        default="pool",
        help="two annotated tasks of one article (two projects, a re-import): pool (default) "
        "adjudicates their annotations together, like one task's annotators; refuse stops "
        "the build. Whatever this says, only the latest snapshot of a task is read and a task "
        "without annotation never collides",
    )
    b.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"per-task results of earlier builds, reused for the tasks, articles, rules and "
        f"mapping that did not change (default {CACHE_DIR} beside the output folder)",
    )
    b.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write the build cache (every task is processed)",
    )
    b.add_argument(
        "--cache-max-mb",
        type=_megabytes,
        default=CACHE_MAX_MB,
        metavar="MB",
        help=f"size cap of the build cache; past it the least recently used entries are "
        f"deleted (default {CACHE_MAX_MB})",
    )
    schemes.add_option(b)
    b.set_defaults(func=cmd_build)

    v = sub.add_parser(
        "validate",
        help="check exports and articles against the contracts",
        description="Validate Label Studio exports (files or folders) and raw "
        "articles; list every problem with file, line, task, JSON pointer.",
    )
    v.add_argument(
        "paths",
        nargs="+",
        help="export files/folders (or fsspec URLs such as s3://bucket/exports/) or "
        "article folders",
    )
    v.add_argument(
        "--articles",
        type=Path,
        default=Path("articles"),
        help="articles to check exports against (default articles; skipped if absent)",
    )
    v.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="github: workflow annotations on the offending lines of a pull request",
    )
    schemes.add_option(v)
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser(
        "verify",
        help="check a release: checksums, split sizes, loading",
        description="Recompute every checksum, compare split sizes and load "
        "every config with datasets.load_dataset (offline).",
    )
    r.add_argument("release", type=Path, help="a release folder, e.g. dist/claimwire-0.1.0")
    r.add_argument("--no-load", action="store_true", help="skip the load_dataset check")
    r.set_defaults(func=cmd_verify)

    ls.add_commands(sub)  # ls tasks, push, pull, serve
    benchmark.add_commands(sub)  # evaluate, baseline, diff
    quality.add_commands(sub)  # agreement, review, report
    schemes.add_commands(sub)  # scheme init
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ClaimwireError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except OSError as exc:  # disk full, unwritable folder... outside a step that names it
        where = f": {exc.filename}" if exc.filename is not None else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
