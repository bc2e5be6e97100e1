"""The Label Studio round trip against a real server: push, annotate through the API, pull,
build; a release pushed back; idempotent pushes; interrupted pulls; annotator privacy."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.helpers import ROOT, SEED_ID, ls_user, seed_inputs, workspace

from builder import DATASET_VERSION as V
from builder.cli.main import main
from builder.labelstudio.client import (
    connect,
    ensure_project,
    existing_tasks,
    find_project,
    pull_snapshot,
)
from builder.labelstudio.spec import resolve

pytestmark = pytest.mark.labelstudio

EMOJI_ID = "001_emoji_crlf"
# Raw text with CRLF line endings, emoji (incl. a ZWJ sequence and a flag), an NBSP and a
# combining mark: offsets after them are where UTF-16 and code points disagree.
EMOJI_RAW = (
    "- Sputnik International\r\nWorld\r\n"
    "Caracas 🇻🇪 Protest 👩‍👩‍👧 Draws Crowds\r\n\r\n"
    "CARACAS (Sputnik) - Juan Guaido 🙂 said on Saturday that the army\u00a0will side with "
    "the opposition.\r\n\r\nNicolas Maduro said the protest was a cafe\u0301 plot by "
    "Washington.\r\nSubscribe\r\n"
)
EMOJI_SPEC = {
    "article_id": EMOJI_ID,
    "entities": [
        {"text": "Juan Guaido", "label": "PER", "portrayal": "POSITIVE"},
        {"text": "Nicolas Maduro", "label": "PER"},
        {"text": "Washington", "label": "GPE"},
        {"text": "CARACAS", "label": "GPE"},
        {"text": "Sputnik", "label": "ORG"},
    ],
    "claims": [
        {
            "key": "k1",
            "text": "the army\u00a0will side with the opposition",
            "claimer": "Juan Guaido",
            "targets": ["Nicolas Maduro"],
            "attribution": "REPORTED",
            "stance": "AGAINST",
        },
        {
            "key": "k2",
            "text": "the protest was a cafe\u0301 plot by Washington",
            "claimer": "Nicolas Maduro",
            "targets": ["Washington", "Juan Guaido"],
            "attribution": "REPORTED",
            "stance": "AGAINST",
        },
    ],
}


@pytest.fixture
def env(ls_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    yield


def _articles(tmp: Path) -> Path:
    ws = workspace(tmp)
    (ws.articles / f"{EMOJI_ID}.txt").write_bytes(EMOJI_RAW.encode("utf-8"))
    meta = {
        "id": EMOJI_ID,
        "source": "Sputnik International",
        "title": "Caracas protest",
        "language": "en",
        "license": "test fixture",
        "url": None,
    }
    (ws.articles / f"{EMOJI_ID}.json").write_text(json.dumps(meta), encoding="utf-8")
    return ws.articles


def _rows(release: Path) -> list[dict[str, Any]]:
    files = sorted((release / "data" / "documents").glob("*.parquet"))
    return sorted((r for f in files for r in pq.read_table(f).to_pylist()), key=lambda r: r["id"])


def test_push_annotate_pull_build(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    articles = _articles(tmp_path)
    project = "roundtrip"
    assert main(["ls", "push", "--project", project, "--articles", str(articles)]) == 0
    assert "imported 2 new task(s); 0 already in the project" in capsys.readouterr().out
    assert main(["ls", "push", "--project", project, "--articles", str(articles)]) == 0
    assert "imported 0 new task(s); 2 already in the project" in capsys.readouterr().out

    client = connect()
    project_id, _ = ensure_project(client, project)
    tasks = existing_tasks(client, project_id)
    assert len(list(client.tasks.list(project=project_id))) == 2
    admin = int(client.users.whoami().id)
    other = ls_user(client, "second_annotator")
    from builder.io.articles import read_articles

    texts = {a.id: a.text for a in read_articles(articles)}
    gold_spec = json.loads((ROOT / "annotations/gold" / f"{SEED_ID}.spec.json").read_text())
    seed_result = resolve(gold_spec, texts[SEED_ID])
    emoji_result = resolve(EMOJI_SPEC, texts[EMOJI_ID])
    # seed: admin's ground truth + a skipped annotation by the second user
    client.annotations.create(
        tasks[SEED_ID][0], result=seed_result, completed_by=admin, ground_truth=True
    )
    client.annotations.create(tasks[SEED_ID][0], result=[], completed_by=other, was_cancelled=True)
    # emoji: an older plain annotation by admin, a later ground truth by the second user
    half = [r for r in emoji_result if r.get("from_name") != "portrayal"]
    client.annotations.create(tasks[EMOJI_ID][0], result=half, completed_by=admin)
    client.annotations.create(
        tasks[EMOJI_ID][0], result=emoji_result, completed_by=other, ground_truth=True
    )

    exports = tmp_path / "pulled"
    assert main(["ls", "pull", "--project", project, "--out", str(exports)]) == 0
    (pulled,) = exports.iterdir()
    assert pulled.name.startswith("roundtrip-") and pulled.suffix == ".json"
    dist = tmp_path / "dist"
    assert (
        main(
            [
                "build",
                "--articles",
                str(articles),
                "--annotations",
                str(exports),
                "--out",
                str(dist),
            ]
        )
        == 0
    )
    rows = {r["id"]: r for r in _rows(dist / f"claimwire-{V}")}

    seed = rows[SEED_ID]
    assert seed["annotation"]["adjudication"] == "single"  # the skipped one does not count
    assert seed["annotation"]["n_annotators"] == 1
    assert len(seed["entities"]) == 67 and len(seed["claims"]) == 22
    spans = {
        (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
        for r in seed_result
        if r["type"] == "labels"
    }
    assert {(e["start"], e["end"], e["label"]) for e in seed["entities"]} | {
        (c["start"], c["end"], "CLAIM") for c in seed["claims"]
    } == spans

    emoji = rows[EMOJI_ID]
    text = emoji["text"]
    assert "🇻🇪" in text and "\r" not in text  # CRLF normalised by cleaning, emoji kept
    assert emoji["annotation"]["adjudication"] == "ground_truth"
    assert emoji["annotation"]["n_annotators"] == 2
    assert {e["text"]: e["portrayal"] for e in emoji["entities"]}["Juan Guaido"] == "POSITIVE"
    k2 = next(c for c in emoji["claims"] if c["id"] == "k2")
    assert text[k2["start"] : k2["end"]] == "the protest was a cafe\u0301 plot by Washington"
    by_id = {e["id"]: e["text"] for e in emoji["entities"]}
    assert by_id[k2["claimer_id"]] == "Nicolas Maduro"
    assert sorted(by_id[t] for t in k2["target_ids"]) == ["Juan Guaido", "Washington"]
    assert (k2["attribution"], k2["stance"]) == ("REPORTED", "AGAINST")


def test_release_pushed_back_comes_back_identical(env: None, tmp_path: Path, capsys):
    (tmp_path / "orig").mkdir()
    ws = workspace(tmp_path / "orig")
    assert ws.build() == 0
    release = ws.dist / f"claimwire-{V}"
    project = "correction"
    assert (
        main(["ls", "push", "--project", project, "--release", str(release), "--as", "annotations"])
        == 0
    )
    assert "1 new task(s), 0 added to existing task(s), 0 already there" in capsys.readouterr().out
    assert (
        main(["ls", "push", "--project", project, "--release", str(release), "--as", "annotations"])
        == 0
    )
    assert "0 new task(s), 0 added to existing task(s), 1 already there" in capsys.readouterr().out
    exports = tmp_path / "pulled"
    assert main(["ls", "pull", "--project", project, "--out", str(exports)]) == 0
    dist = tmp_path / "dist"
    assert (
        main(
            [
                "build",
                "--articles",
                str(ws.articles),
                "--annotations",
                str(exports),
                "--out",
                str(dist),
            ]
        )
        == 0
    )
    before, after = _rows(release), _rows(dist / f"claimwire-{V}")
    for row in before + after:  # who pushed it differs; everything annotated must not
        row["annotation"].pop("annotator_ids")
    assert after == before


def test_release_pushed_as_predictions(env: None, tmp_path: Path, capsys):
    ws = workspace(tmp_path)
    assert ws.build() == 0
    release = ws.dist / f"claimwire-{V}"
    assert (
        main(
            ["ls", "push", "--project", "review", "--release", str(release), "--as", "predictions"]
        )
        == 0
    )
    client = connect()
    project = find_project(client, "review")
    (task,) = list(client.tasks.list(project=project.id))
    (prediction,) = client.predictions.list(task=task.id)
    assert len([r for r in prediction.result if r["type"] == "labels"]) == 67 + 22
    assert prediction.model_version == f"claimwire-claimwire-{V}"


def test_interrupted_pull_leaves_no_file(env: None, tmp_path: Path):
    client = connect()
    project_id, _ = ensure_project(client, "interrupted")
    from builder.io.articles import read_articles
    from builder.labelstudio.client import push_tasks, task_for

    push_tasks(client, project_id, [task_for(a) for a in read_articles(seed_inputs()[0])])
    out = tmp_path / "exports"

    def interrupt(stage: str, received: int) -> None:
        if stage == "download" and received > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pull_snapshot(client, project_id, out, "interrupted", interrupt)
    assert list(out.iterdir()) == []


def test_export_with_emails_builds_a_release_without_them(env: None, tmp_path: Path):
    client = connect()
    project_id, _ = ensure_project(client, "privacy")
    from builder.io.articles import read_articles
    from builder.labelstudio.client import push_tasks, task_for

    push_tasks(client, project_id, [task_for(a) for a in read_articles(seed_inputs()[0])])
    ((task_id, _),) = existing_tasks(client, project_id).values()
    user = ls_user(client, "private_person")
    gold = json.loads((ROOT / "annotations/exports/gold.json").read_text())
    client.annotations.create(
        task_id, result=gold[0]["annotations"][0]["result"], completed_by=user
    )
    export = client.projects.exports.create(
        project_id,
        title="with emails",
        serialization_options={"annotations__completed_by": {"only_id": False}},
    )
    import time

    for _ in range(100):
        if client.projects.exports.get(project_id, export.id).status == "completed":
            break
        time.sleep(0.2)
    raw = b"".join(client.projects.exports.download(project_id, export.id, export_type="JSON"))
    assert b"private_person@example.org" in raw and b"Testperson" in raw
    ws = workspace(tmp_path)
    ws.export.write_bytes(raw)
    assert ws.build() == 0
    for path in (ws.dist / f"claimwire-{V}").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (b"private_person", b"example.org", b"Testperson", b"Quintessa"):
                assert secret not in data, (path, secret)


def test_api_key_never_printed(env: None, tmp_path: Path, capsys, ls_server: Any):
    articles = _articles(tmp_path)
    assert main(["ls", "push", "--project", "quiet", "--articles", str(articles)]) == 0
    assert main(["ls", "pull", "--project", "quiet", "--out", str(tmp_path / "e")]) == 0
    os.environ["LABEL_STUDIO_API_KEY"] = "wrong-" + ls_server.api_key[6:]
    assert main(["ls", "pull", "--project", "quiet", "--out", str(tmp_path / "e")]) == 1
    out, err = capsys.readouterr()
    assert "HTTP 401" in err
    assert ls_server.api_key not in out + err and ls_server.api_key[6:] not in out + err
    for path in (tmp_path / "e").rglob("*"):
        assert ls_server.api_key.encode() not in path.read_bytes()


def test_missing_server_configuration_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY_FILE", raising=False)
    assert main(["ls", "pull", "--project", "x"]) == 2
    assert "LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY" in capsys.readouterr().err


def test_config_changes_are_applied_only_when_compatible(env: None):
    from builder.contracts.labels import load_label_config, parse_label_config
    from builder.errors import UsageError

    client = connect()
    ours = load_label_config()
    with_misc = parse_label_config(
        ours.xml.replace('<Label value="EVENT"', '<Label value="MISC"/>\n    <Label value="EVENT"')
    )
    project_id, action = ensure_project(client, "config-change", with_misc)
    assert action == "created"
    assert ensure_project(client, "config-change", with_misc) == (project_id, "unchanged")
    from builder.io.articles import read_articles
    from builder.labelstudio.client import push_tasks, task_for

    push_tasks(client, project_id, [task_for(a) for a in read_articles(seed_inputs()[0])])
    ((task_id, _),) = existing_tasks(client, project_id).values()
    client.annotations.create(
        task_id,
        result=[
            {
                "id": "m1",
                "from_name": "entity",
                "to_name": "text",
                "type": "labels",
                "value": {"start": 0, "end": 6, "text": "Guaido", "labels": ["MISC"]},
            }
        ],
    )
    with pytest.raises(UsageError) as err:
        ensure_project(client, "config-change", ours)
    assert "removes entity:MISC" in str(err.value) and "1 annotation(s)" in str(err.value)
    # adding a label is compatible
    project_id2, _ = ensure_project(client, "config-grow", ours)
    assert ensure_project(client, "config-grow", with_misc) == (project_id2, "updated")
