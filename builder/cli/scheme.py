"""``claimwire scheme init`` and the ``--scheme`` option of the commands that read exports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import Problem, UsageError

if TYPE_CHECKING:
    from ..contracts.scheme import Scheme

DEFAULT = Path("annotations") / "scheme.json"  # builder.contracts.scheme.DEFAULT_FILE


def add_option(p: Any, what: str = "translate the exports") -> None:
    """The ``--scheme FILE`` option."""
    p.add_argument(
        "--scheme",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"a scheme mapping from your Label Studio project's names to claimwire's, to "
        f"{what} (`claimwire scheme init` writes one; default {DEFAULT} when it exists)",
    )


def resolve(path: Path | None) -> Scheme | None:
    """The mapping named by ``--scheme``, else ``annotations/scheme.json`` if it exists (said on
    stderr), else None: nothing is translated."""
    from ..contracts.scheme import DEFAULT_FILE, load_scheme

    if path is None:
        if not DEFAULT_FILE.is_file():
            return None
        path = DEFAULT_FILE
        print(f"scheme mapping: {path} (pass --scheme to use another)", file=sys.stderr)
    scheme = load_scheme(path)
    return None if scheme.is_identity and scheme.defaults is None else scheme


def dropped_summary(counts: Counter[tuple[str, str]]) -> str:
    """One line: the regions the mapping dropped, per control and label."""
    total = sum(counts.values())
    each = ", ".join(f"{c}:{label} {n}" for (c, label), n in sorted(counts.items()))
    return f"scheme mapping dropped {total} region(s)" + (f" ({each})" if each else "")


def add_dropped(counts: Counter[tuple[str, str]], dropped: Iterable[tuple[str, str, int]]) -> None:
    for control, label, n in dropped:
        counts[control, label] += n


def cmd_init(args: argparse.Namespace) -> int:
    from ..contracts.scheme import DROP, draft_scheme
    from ..markdown import markdown_table

    if args.out.exists() and not args.force:
        raise UsageError(
            Problem(
                "the mapping file exists",
                file=str(args.out),
                fix="pass --force to replace it, or another --out",
            )
        )
    if args.from_project is not None:
        from ..labelstudio.client import connect, find_project

        client = connect()
        project = find_project(client, args.from_project)
        if project is None:
            raise UsageError(
                Problem(
                    f"no Label Studio project titled {args.from_project!r}",
                    fix="pass the title of the project the exports come from",
                )
            )
        xml, source = project.label_config or "<View/>", f"project {args.from_project!r}"
        keys = _data_keys(client, int(project.id))
    else:
        try:
            xml = args.from_.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                Problem(
                    f"cannot read the labeling config: {exc.strerror or exc}", file=str(args.from_)
                )
            ) from None
        source = str(args.from_)
        keys = []
    draft = draft_scheme(xml, source, keys, project=args.from_project)
    rows = draft.rows()
    print(markdown_table(("what", "control", "name", "becomes", "why"), rows))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.partial")
    tmp.write_text(json.dumps(draft.document, indent=2, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, args.out)
    dropped = sum(1 for r in rows if r[3] == DROP)
    print(
        f"wrote {args.out}: {len(rows) - dropped} mapped, {dropped} dropped. Check each drop and "
        f"the data keys, then: claimwire validate --scheme {args.out} EXPORTS"
    )
    print(
        'tasks whose article has no file in articles/ build as their own articles once "license" '
        f'is set under "defaults" in {args.out}'
    )
    return 0


def _data_keys(client: Any, project_id: int, sample: int = 20) -> list[str]:
    """The data keys of the project's first tasks, in first-seen order: where the article id
    is when the labeling config does not show it."""
    import itertools

    from ..labelstudio.client import call

    tasks = call(
        "list tasks",
        lambda: list(itertools.islice(client.tasks.list(project=project_id), sample)),
    )
    keys: dict[str, None] = {}
    for task in tasks:
        keys.update(dict.fromkeys(task.data or {}))
    return list(keys)


def add_commands(sub: Any) -> None:
    """Register ``scheme init`` on the ``claimwire`` parser."""
    s = sub.add_parser(
        "scheme",
        help="map your own Label Studio project onto the claimwire scheme",
        description="A scheme mapping says what every control, label, choice value and relation "
        "label of a Label Studio project becomes in claimwire's scheme (or that it is dropped). "
        "Commands that read exports apply it with --scheme FILE (default annotations/scheme.json "
        "when it exists).",
    )
    ssub = s.add_subparsers(dest="scheme_command", required=True, metavar="SCHEME_COMMAND")
    i = ssub.add_parser(
        "init",
        help="draft a mapping file from a labeling config",
        description="Map every label, choice value and relation label whose spelling is known "
        "(PERSON -> PER, said_by -> claimer, for -> FAVOR...), write the rest as explicit drops "
        "with a comment, and print what was mapped and dropped. Edit the file to change any "
        "decision.",
    )
    source = i.add_mutually_exclusive_group(required=True)
    source.add_argument("--from", dest="from_", type=Path, metavar="CONFIG.xml")
    source.add_argument(
        "--from-project",
        metavar="NAME",
        help="read the labeling config of this Label Studio project, and the data keys of its "
        "first tasks (LABEL_STUDIO_URL / "
        "LABEL_STUDIO_API_KEY)",
    )
    i.add_argument("--out", type=Path, required=True, metavar="FILE", help="the mapping to write")
    i.add_argument("--force", action="store_true", help="replace --out if it exists")
    i.set_defaults(func=cmd_init)
