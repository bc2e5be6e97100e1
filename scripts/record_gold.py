"""Record the gold annotation of the shipped articles as a genuine Label Studio export.

Start a throwaway Label Studio server and push every annotated article as a task. Each
``annotations/gold/<article>.spec.json`` (the first pass) becomes, through the API, the first
maintainer's annotation, resolved from the spec; each
``annotations/second-pass/<article>.spec.json`` (an independent second pass, made without
seeing the first) becomes the second maintainer's annotation of the same task. A singly
annotated article's annotation is marked ground truth; a doubly annotated one is left to the
project's adjudication (majority vote, ties to the most recent annotation: the first pass,
created last), and agreement is measured between the passes.
Pull a JSON snapshot and store it as ``annotations/exports/gold.json``.

    .venv/bin/python scripts/record_gold.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.io.articles import read_articles  # noqa: E402
from builder.labelstudio.client import (  # noqa: E402
    connect,
    ensure_project,
    existing_tasks,
    pull_snapshot,
    push_tasks,
    task_for,
)
from builder.labelstudio.server import LabelStudioServer, ensure_installed  # noqa: E402
from builder.labelstudio.spec import load_spec, resolve  # noqa: E402

PROJECT = "claimwire gold"
SECOND = "second-pass"  # the Label Studio user of the second pass (pseudonymised in releases)


def _user(client: Any, name: str) -> int:
    """The id of Label Studio user ``name``, created on first use."""
    for u in client.users.list():
        if u.username == name:
            return int(u.id)
    return int(client.users.create(username=name, email=f"{name}@claimwire.invalid").id)


def _annotate(client: Any, task: int, path: Path, text: str, user: int | None, truth: bool) -> None:
    result = resolve(load_spec(path), text, file=str(path))
    client.annotations.create(
        task, result=result, completed_by=user, ground_truth=truth, was_cancelled=False
    )


def main() -> int:
    articles = {a.id: a for a in read_articles(ROOT / "articles")}
    specs = sorted((ROOT / "annotations" / "gold").glob("*.spec.json"))
    ensure_installed()
    with LabelStudioServer() as server, tempfile.TemporaryDirectory() as tmp:
        client = connect(server.url, server.api_key)
        project_id, _ = ensure_project(client, PROJECT)
        push_tasks(
            client, project_id, [task_for(articles[load_spec(s)["article_id"]]) for s in specs]
        )
        tasks = existing_tasks(client, project_id)
        me = client.users.whoami()
        second = {
            load_spec(path)["article_id"]: path
            for path in sorted((ROOT / "annotations" / "second-pass").glob("*.spec.json"))
        }
        other = _user(client, SECOND) if second else None
        for path in specs:
            spec = load_spec(path)
            article = articles[spec["article_id"]]
            task = tasks[article.id][0]
            if article.id in second:  # the second pass first, so the first pass is the latest
                _annotate(client, task, second[article.id], article.text, other, truth=False)
            # double-annotated: adjudicated by the project's rules; otherwise the ground truth
            _annotate(client, task, path, article.text, me.id, truth=article.id not in second)
        export = pull_snapshot(client, project_id, Path(tmp), PROJECT)
        target = ROOT / "annotations" / "exports" / "gold.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(export, target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
