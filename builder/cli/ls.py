"""``claimwire ls …``: the Label Studio round trip from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import Problem, UsageError
from . import scheme as schemes

DEFAULT_PROJECT = "claimwire"


def cmd_tasks(args: argparse.Namespace) -> int:
    from ..labelstudio.client import write_json_atomic
    from ..labelstudio.tasks import make_tasks

    tasks = make_tasks(args.articles, args.ids, args.predictions)
    scheme = schemes.resolve(args.scheme)
    names = ""
    if scheme is not None:  # the same translation as `ls push`, without a project to ask
        tasks = scheme.reverse().tasks(tasks, nothing="nothing was written")
        names = f" in the project's names through {scheme.file}"
    write_json_atomic(args.out, tasks)
    print(f"wrote {len(tasks)} task(s) to {args.out}{names}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from ..labelstudio.client import (
        Target,
        connect,
        ensure_project,
        foreign_target,
        load_tasks_file,
        push_release,
        push_tasks,
    )
    from ..labelstudio.tasks import make_tasks

    if args.release is None and args.as_ != "annotations":
        raise UsageError(Problem("--as goes with --release", fix="add --release DIR"))
    scheme = schemes.resolve(args.scheme)
    # as `ls tasks` wrote it: with a mapping, in the project's names (read before connecting)
    loaded = load_tasks_file(args.tasks, scheme) if args.tasks is not None else None
    client = connect()
    if scheme is None:
        project_id, action = ensure_project(client, args.project)
        target = Target(project_id)
        print(f"project {args.project!r} (id {project_id}): {action}")
    else:  # the team's project: its labeling config stays as it is
        target = foreign_target(client, args.project, scheme)
        print(
            f"project {args.project!r} (id {target.project_id}): labeling config unchanged, "
            f"tasks written in its names through {scheme.file}"
        )
    if args.release is not None:
        created, added, skipped = push_release(client, target, args.release, args.as_)
        print(
            f"release {args.release.name} as {args.as_}: {created} new task(s), "
            f"{added} added to existing task(s), {skipped} already there"
        )
        return 0
    tasks = loaded if loaded is not None else make_tasks(args.articles, [], None)
    created, skipped = push_tasks(client, target, tasks, in_project_names=loaded is not None)
    print(f"imported {created} new task(s); {skipped} already in the project")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..labelstudio.client import connect, find_project, pull_snapshot

    client = connect()
    project = find_project(client, args.project)
    if project is None:
        raise UsageError(
            Problem(
                f"no project named {args.project!r} on the server",
                fix="check the name, or create it with `claimwire ls push`",
            )
        )
    bar = tqdm(
        desc="snapshot", unit="B", unit_scale=True, disable=not sys.stderr.isatty(), leave=False
    )

    def progress(stage: str, received: int) -> None:
        bar.set_description(stage)
        bar.update(received - bar.n)

    try:
        path = pull_snapshot(client, int(project.id), args.out, args.project, progress)
    finally:
        bar.close()
    print(f"wrote {path}")
    scheme = schemes.resolve(args.scheme)
    if scheme is not None:
        _check(path, scheme)
    return 0


def _check(path: Path, scheme: Any) -> None:
    """Read the pulled export through the mapping: every name it uses must be mapped (the
    first one that is not is the error; the export stays written)."""
    from collections import Counter

    from ..io.exports import read_export

    dropped: Counter[tuple[str, str]] = Counter()
    tasks = 0
    for task in read_export(path, scheme):
        tasks += 1
        schemes.add_dropped(dropped, task.dropped)
    print(f"{tasks} task(s) fit {scheme.file}; {schemes.dropped_summary(dropped)}")


def cmd_serve(args: argparse.Namespace) -> int:
    from ..labelstudio.server import main as serve

    argv = [
        *(["--data-dir", str(args.data_dir)] if args.data_dir else []),
        *(["--port", str(args.port)] if args.port else []),
    ]
    return serve(argv)


def add_commands(sub: Any) -> None:
    ls = sub.add_parser(
        "ls",
        help="Label Studio round trip: tasks out, annotations back, releases back in",
        description="Talk to the Label Studio server named by LABEL_STUDIO_URL with the key in "
        "LABEL_STUDIO_API_KEY (or a file named by LABEL_STUDIO_API_KEY_FILE). The key is never "
        "printed or written.",
    )
    lsub = ls.add_subparsers(dest="ls_command", required=True, metavar="LS_COMMAND")

    t = lsub.add_parser(
        "tasks",
        help="write Label Studio import JSON for articles",
        description="Make one task per article (text, article id, text sha256), "
        "optionally with pre-annotations.",
    )
    t.add_argument("ids", nargs="*", metavar="ARTICLES", help="article ids (default: all)")
    t.add_argument("--articles", type=Path, default=Path("articles"), help="articles folder")
    t.add_argument("--out", type=Path, required=True, help="where to write the tasks JSON")
    t.add_argument(
        "--predictions",
        metavar="RELEASE|SPEC|rules",
        help="a release folder, a JSON span-spec file (see annotations/gold/), or the word "
        "'rules': the rules baseline's entities, claims and stances, to be corrected "
        "(a file or folder named rules: ./rules)",
    )
    schemes.add_option(
        t,
        "write the tasks and their predictions in, for the team's own project (where the "
        "mapping lists several names for one, the first)",
    )
    t.set_defaults(func=cmd_tasks)

    p = lsub.add_parser(
        "push",
        help="create/update the project and import missing tasks",
        description="Create the project with our labeling config if missing, "
        "update the config if it changed compatibly, and import only tasks that "
        "are not there yet (running it twice creates nothing new). With "
        "--release, put a release back for review or correction. With a scheme mapping "
        "(--scheme, or annotations/scheme.json), push into the team's existing project in "
        "its own names instead, leaving its labeling config as it is.",
    )
    p.add_argument("--project", default=DEFAULT_PROJECT, help=f"(default {DEFAULT_PROJECT!r})")
    p.add_argument("--articles", type=Path, default=Path("articles"), help="articles folder")
    p.add_argument(
        "--tasks",
        type=Path,
        help="a tasks JSON made by `claimwire ls tasks` (with a mapping, made with the same "
        "mapping: it is sent as it is)",
    )
    p.add_argument("--release", type=Path, help="a release folder to push back")
    p.add_argument(
        "--as",
        dest="as_",
        choices=("annotations", "predictions"),
        default="annotations",
        help="how to push a release (default annotations)",
    )
    schemes.add_option(
        p,
        "write the tasks, annotations and predictions in (the project must exist; its "
        "labeling config is left as it is)",
    )
    p.set_defaults(func=cmd_push)

    q = lsub.add_parser(
        "pull",
        help="download a full JSON snapshot export",
        description="Make a snapshot export (predictions expanded, annotator ids "
        "only), stream it to disk and move it into place atomically.",
    )
    q.add_argument("--project", default=DEFAULT_PROJECT, help=f"(default {DEFAULT_PROJECT!r})")
    q.add_argument(
        "--out",
        type=Path,
        default=Path("annotations/exports"),
        help="folder for the export (default annotations/exports)",
    )
    schemes.add_option(q, "check the export against (the file is written either way)")
    q.set_defaults(func=cmd_pull)

    s = lsub.add_parser(
        "serve",
        help="run a local Label Studio on 127.0.0.1 for annotating",
        description="Install Label Studio 1.23.2 in its own venv if needed and "
        "start it on 127.0.0.1 with an admin user; prints the two variables to "
        "export (the token stays in a 0600 file). Ctrl-C stops it.",
    )
    s.add_argument("--data-dir", type=Path, help="keep projects here (default: a temp dir)")
    s.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    s.set_defaults(func=cmd_serve)
