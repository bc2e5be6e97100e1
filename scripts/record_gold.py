"""Record the gold annotation of the shipped articles as a genuine Label Studio export.

For each ``annotations/gold/<article>.spec.json``: start a throwaway Label Studio server, push the
article as a task, create the annotation resolved from the spec through the API (as ground
truth), pull a JSON snapshot, and store it as ``annotations/exports/gold.json``.

    .venv/bin/python scripts/record_gold.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

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
        for path in specs:
            spec = load_spec(path)
            article = articles[spec["article_id"]]
            result = resolve(spec, article.text, file=str(path))
            client.annotations.create(
                tasks[article.id][0],
                result=result,
                completed_by=me.id,
                ground_truth=True,
                was_cancelled=False,
            )
        export = pull_snapshot(client, project_id, Path(tmp), PROJECT)
        target = ROOT / "annotations" / "exports" / "gold.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(export, target)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
