"""``claimwire agreement``, ``review`` and ``report``: annotation quality from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from ..errors import Problem, UsageError
from . import scheme as schemes


def add_commands(sub: Any) -> None:
    """Register ``agreement``, ``review`` and ``report`` on the ``claimwire`` parser."""

    def common(p: Any) -> None:
        p.add_argument(
            "exports",
            type=Path,
            nargs="*",
            default=[Path("annotations/exports")],
            help="Label Studio JSON exports: files or folders (default annotations/exports)",
        )
        p.add_argument(
            "--articles",
            type=Path,
            default=Path("articles"),
            help="raw articles (default articles)",
        )
        p.add_argument(
            "--adjudication",
            default=None,
            help="ordered rules, default ground_truth,majority,most_recent "
            "(or CLAIMWIRE_ADJUDICATION)",
        )
        schemes.add_option(p)

    a = sub.add_parser(
        "agreement",
        help="inter-annotator agreement of exports",
        description="Span F1, link agreement, Krippendorff's alpha and Cohen's "
        "kappa, overall, per annotator pair, per annotator and per article.",
    )
    common(a)
    a.add_argument("--format", choices=("markdown", "json"), default="markdown")
    a.set_defaults(func=cmd_agreement)

    r = sub.add_parser(
        "review",
        help="write Label Studio review tasks for disagreements",
        description="Tasks whose agreement is below --threshold (or that needed "
        "the tie rule) become review tasks with every version as a prediction. With "
        "--quarantine, the units a build set aside become review tasks instead: each unit's "
        "results a prediction on its task, named after the rule that set it aside.",
    )
    common(r)
    r.add_argument(
        "--threshold",
        type=float,
        default=0.9,
        help="review documents with agreement below this (default 0.9)",
    )
    r.add_argument(
        "--out",
        type=Path,
        default=None,
        help="review tasks JSON (default annotations/review/review-tasks.json, with "
        "--quarantine annotations/review/quarantine-tasks.json)",
    )
    r.add_argument(
        "--quarantine",
        type=Path,
        default=None,
        metavar="FILE",
        help="the quarantine.jsonl of a release built with --on-invalid quarantine: review its "
        "units (read from the exports they name) rather than disagreements",
    )
    r.add_argument(
        "--push",
        metavar="PROJECT",
        default=None,
        help="also attach the predictions to the tasks of this Label Studio project "
        "(LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY)",
    )
    r.set_defaults(func=cmd_review)

    p = sub.add_parser(
        "report",
        help="write the HTML quality report of a release",
        description="A self-contained HTML page: counts, label plots, baseline scores, "
        "agreement, weakest articles and an annotated-article viewer.",
    )
    p.add_argument("release", type=Path, help="a release folder, e.g. dist/claimwire-0.1.0")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output file (default <release>.report.html beside the release)",
    )
    p.set_defaults(func=cmd_report)


def cmd_agreement(args: argparse.Namespace) -> int:
    from ..pipeline.documents import merged
    from ..quality.agreement import DocAgreement, markdown, summarize

    scheme = schemes.resolve(args.scheme)
    docs = [
        DocAgreement.from_document(d)
        for _, d, _ in merged(args.exports, args.articles, args.adjudication, scheme)
    ]
    s = summarize(docs)
    if args.format == "json":
        print(json.dumps(dataclasses.asdict(s), indent=2, sort_keys=True))
    else:
        print(markdown(s))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from ..core.adjudicate import needs_review
    from ..labelstudio.client import (
        Target,
        annotation_results,
        connect,
        find_project,
        foreign_target,
        write_json_atomic,
    )
    from ..labelstudio.review import push_review, quarantine_review, review_task
    from ..pipeline.documents import merged
    from ..pipeline.quarantine import read_quarantine

    scheme = schemes.resolve(args.scheme)
    client: Any = None
    target: Target | None = None
    if args.push:  # the project first: with a mapping, its labeling config picks the names
        client = connect()
        project = find_project(client, args.push)
        if project is None:
            raise UsageError(
                Problem(
                    f"no Label Studio project titled {args.push!r}",
                    fix="pass the title of the project the export came from",
                )
            )
        target = Target(int(project.id))
        if scheme is not None:
            target = foreign_target(client, args.push, scheme)
    # with a mapping, the review tasks are written in the project's names, as `ls push` does
    reverse = target.reverse if target is not None else None
    if reverse is None and scheme is not None:
        reverse = scheme.reverse()
    review = []
    if args.quarantine is not None:
        out = args.out or Path("annotations/review/quarantine-tasks.json")
        units = read_quarantine(args.quarantine)
        # the tasks as exported (already in the project's names, but for re-anchored results)
        review = quarantine_review(units, scheme, reverse)
        what = (
            f"{sum(len(t['predictions']) for t in review)} quarantined unit(s) of "
            f"{args.quarantine} as predictions"
        )
    else:
        out = args.out or Path("annotations/review/review-tasks.json")
        for task, doc, versions in merged(args.exports, args.articles, args.adjudication, scheme):
            if needs_review(doc, args.threshold):
                review.append(review_task(doc, task.id, versions, annotation_results(doc.to_row())))
        if reverse is not None:
            review = reverse.tasks(review, nothing="nothing was written or pushed")
        what = f"agreement below {args.threshold} or settled by the tie rule"
    if scheme is not None:
        what += f", in the project's names through {scheme.file}"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, review)
    print(f"wrote {out}: {len(review)} review task(s) ({what})")
    if target is not None:
        n = push_review(client, target.project_id, review, target.article_key)
        settle = (
            "fix each unit in Label Studio (start from its prediction) and submit"
            if args.quarantine is not None
            else "settle each in Label Studio (submit as ground truth)"
        )
        print(
            f"attached {n} prediction(s) to {len(review)} task(s) of {args.push!r}; {settle}, "
            "then pull and build"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..benchmark.baselines import release_scores
    from ..release.report import write_report

    out = write_report(args.release, args.out, release_scores(args.release))
    print(f"wrote {out}")
    return 0
