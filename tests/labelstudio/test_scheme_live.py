"""Bring your own project, against a real server: a project with a foreign labeling config,
annotated in its own names; `scheme init --from-project` reads its config, `ls pull --scheme`
checks the export, `validate --scheme` reads it as claimwire's scheme."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.foreign import FOREIGN_CONFIG, foreign_task
from support.helpers import workspace

from builder.cli.main import main
from builder.contracts.scheme import draft_scheme, load_scheme
from builder.labelstudio.client import connect, find_project

pytestmark = pytest.mark.labelstudio

PROJECT = "byo-foreign"


@pytest.fixture
def env(ls_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
    yield


def test_a_foreign_project_is_mapped_pulled_and_validated(env: None, tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    task = foreign_task(ws.tasks()[0], ("Russia", "China"))
    client = connect()
    project = find_project(client, PROJECT)
    if project is None:
        project = client.projects.create(title=PROJECT, label_config=FOREIGN_CONFIG)
        (task_id,) = client.projects.import_tasks(
            project.id, request=[{"data": task["data"]}], return_task_ids=True
        ).task_ids
        client.annotations.create(
            task_id,
            result=task["annotations"][0]["result"],
            completed_by=int(client.users.whoami().id),
            ground_truth=True,
        )

    scheme = tmp_path / "scheme.json"
    assert main(["scheme", "init", "--from-project", PROJECT, "--out", str(scheme)]) == 0
    assert "| control | sentiment |  | drop |" in capsys.readouterr().out
    assert load_scheme(scheme) == draft_scheme(FOREIGN_CONFIG, project=PROJECT).scheme

    pulled = tmp_path / "pulled"
    args = ["ls", "pull", "--project", PROJECT, "--out", str(pulled), "--scheme", str(scheme)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"1 task(s) fit {scheme}; scheme mapping dropped 2 region(s) (ner:MISC 2)" in out
    (export,) = pulled.iterdir()
    args = ["validate", str(export), "--articles", str(ws.articles), "--scheme", str(scheme)]
    assert main(args) == 0
    capsys.readouterr()

    # a mapping that does not fit: the pull says so (the export is written all the same)
    doc = json.loads(scheme.read_text(encoding="utf-8"))
    del doc["relations"]["about"]
    scheme.write_text(json.dumps(doc), encoding="utf-8")
    again = tmp_path / "again"
    args = ["ls", "pull", "--project", PROJECT, "--out", str(again), "--scheme", str(scheme)]
    assert main(args) == 1
    assert "relation label 'about' is not in the scheme" in capsys.readouterr().err
    assert len(list(again.iterdir())) == 1
