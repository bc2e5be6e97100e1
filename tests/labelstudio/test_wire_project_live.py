"""A project that is not ours, on a real server, built as it is: a wire service's labeling config
(other control names, PERSON/ORGANIZATION/LOCATION/MISC, said_by/about relations drawn both ways,
stance and attribution in other words, a document-level topic), its raw texts imported as the
wire gave them, three annotators with slips, a pair of wire copies. Snapshot, `scheme init
--from-project`, `build --on-invalid quarantine --scheme`: every consistent region released at
its place in the cleaned article with claimwire's label and links, every slip in
quarantine.jsonl, the copies in one split (near-duplicate clusters), the same bytes on a
rebuild, and `verify` passes."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from support.figures import report
from support.helpers import ls_user
from support.wire import ARTICLES, LABELS, STANCES, VOICES, WIRE_CONFIG, clean_span, results
from support.wire import write_articles as write_wire_articles

from builder.cli.main import main
from builder.core.merge import pseudonym
from builder.io.articles import load_rules, read_article
from builder.labelstudio.client import connect

pytestmark = pytest.mark.labelstudio

HARBOUR, SANTOS, COPY = (a.id for a in ARTICLES)
# (annotator, article, slips): three annotators on the harbour story, each with one slip
WORK = [
    ("wire_alice", HARBOUR, ("author-claimer",)),
    ("wire_bob", HARBOUR, ("no-stance:ignored",)),
    ("wire_carol", HARBOUR, ("entity-relation",)),
    ("wire_alice", SANTOS, ()),
    ("wire_carol", COPY, ()),
]


@pytest.fixture
def env(ls_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.api_key)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


def _rows(release: Path, config: str) -> list[dict[str, Any]]:
    return [
        r
        for f in sorted((release / "data" / config).glob("*.parquet"))
        for r in pq.read_table(f).to_pylist()
    ]


def _splits(release: Path) -> dict[str, str]:
    out = {}
    for f in (release / "data" / "documents").glob("*.parquet"):
        for i in pq.read_table(f, columns=["id"]).column("id").to_pylist():
            out[i] = f.name.split("-")[0]
    return out


def test_a_wire_project_is_built_as_it_is(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
):
    articles = write_wire_articles(tmp_path / "articles")
    rules = load_rules(articles / "sources.json")
    cleaned = {a.id: read_article(articles / f"{a.id}.json", rules).text for a in ARTICLES}
    by_id = {a.id: a for a in ARTICLES}

    # the project, as the wire service set it up: its config, its raw texts, its annotators
    client = connect()
    name = f"wire-desk-{secrets.token_hex(3)}"
    project = client.projects.create(title=name, label_config=WIRE_CONFIG)
    imported = client.projects.import_tasks(
        project.id,
        request=[{"data": {"body": a.raw, "doc_id": a.id, "headline": a.title}} for a in ARTICLES],
        return_task_ids=True,
    ).task_ids
    tasks = dict(zip([a.id for a in ARTICLES], imported, strict=True))
    users = {who: ls_user(client, who) for who in {w for w, _, _ in WORK}}
    for who, article, slips in WORK:
        client.annotations.create(
            tasks[article],
            result=results(by_id[article], cleaned[article], slips),
            completed_by=users[who],
        )

    pulled = tmp_path / "exports"
    assert main(["ls", "pull", "--project", name, "--out", str(pulled)]) == 0
    (export,) = pulled.iterdir()
    capsys.readouterr()

    scheme = tmp_path / "scheme.json"
    dist = tmp_path / "dist"
    build = [
        "build",
        "--articles",
        str(articles),
        "--annotations",
        str(pulled),
        "--version",
        "0.1.0",
        "--on-invalid",
        "quarantine",
        "--scheme",
        str(scheme),
    ]
    started = time.perf_counter()
    assert main(["scheme", "init", "--from-project", name, "--out", str(scheme)]) == 0
    assert main([*build, "--out", str(dist)]) == 0
    took = time.perf_counter() - started
    out = capsys.readouterr().out
    mapping = json.loads(scheme.read_text(encoding="utf-8"))
    assert mapping["spans"]["mentions"]["labels"]["MISC"]["to"] == "drop"
    assert mapping["relations"] == {"said_by": "claimer", "about": "target"}
    assert "topic" in mapping["drop"] and mapping["data"]["article_id"] == "doc_id"

    release = dist / "claimwire-0.1.0"
    docs = {d["id"]: d for d in _rows(release, "documents")}
    assert docs.keys() == {a.id for a in ARTICLES}
    released = 0
    for article in ARTICLES:
        doc, text = docs[article.id], cleaned[article.id]
        assert doc["text"] == text
        # every entity the scheme has a place for, at its place in the cleaned article
        want = {}
        for key, (surface, label, n) in article.entities.items():
            if label in LABELS:
                want[key] = (*clean_span(text, surface, n), LABELS[label])
        got = {e["id"]: (e["start"], e["end"], e["label"]) for e in doc["entities"]}
        assert sorted(got.values()) == sorted(want.values()), article.id
        surface = {e["id"]: text[e["start"] : e["end"]] for e in doc["entities"]}
        entity_key = {got_id: k for k, v in want.items() for got_id, g in got.items() if g == v}
        claims = {(c["start"], c["end"]): c for c in doc["claims"]}
        assert len(claims) == len(article.claims)
        for c in article.claims.values():
            s, e = clean_span(text, c.text)
            claim = claims[(s, e)]
            assert text[s:e] == c.text
            assert (claim["stance"], claim["attribution"]) == (STANCES[c.position], VOICES[c.voice])
            claimer = entity_key.get(claim["claimer_id"]) if claim["claimer_id"] else None
            assert claimer == c.said_by, (article.id, c.text)
            targets = {entity_key[t] for t in claim["target_ids"]}
            assert targets == {t for t in c.about if article.entities[t][1] in LABELS}
            assert all(surface[t] for t in claim["target_ids"])
        released += len(doc["entities"]) + len(doc["claims"])
    harbour = docs[HARBOUR]["annotation"]
    assert harbour["n_annotators"] == 3 and harbour["adjudication"] == "majority"

    # every slip set aside, pointing at the result as the export holds it
    units = [
        json.loads(line)
        for line in (release / "quarantine.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    rules_by = {(u["annotator"], u["rule"]) for u in units}
    assert rules_by == {
        (pseudonym(users["wire_alice"]), "an AUTHOR claim has a claimer relation"),
        (pseudonym(users["wire_bob"]), "claim has no stance"),
        (pseudonym(users["wire_carol"]), "a relation links a claim and an entity"),
    }
    exported = json.loads(export.read_text(encoding="utf-8"))
    for u in units:
        assert u["file"] == str(export) and u["article"] == HARBOUR
        pointed = _pointed(exported, u["pointer"])
        if u["rule"] == "a relation links a claim and an entity":
            assert pointed["type"] == "relation" and pointed["labels"] == ["said_by"]
            assert {pointed["from_id"], pointed["to_id"]} == {"carlos", "green"}
        else:
            assert pointed["type"] == "labels" and pointed["value"]["labels"] == ["Claim"]

    # the wire copies in one split: no group in their metadata, the near-duplicate clusters
    # put them together (the card lists the cluster)
    splits = _splits(release)
    assert splits[SANTOS] == splits[COPY]
    card = (release / "README.md").read_text(encoding="utf-8")
    clusters = [line for line in card.splitlines() if f"{COPY}, {SANTOS}" in line]
    assert len(clusters) == 1 and clusters[0].startswith("| 1 |")

    # the same bytes on a rebuild; verify passes
    again = tmp_path / "again"
    assert main([*build, "--out", str(again)]) == 0
    files = sorted(p.relative_to(release) for p in release.rglob("*") if p.is_file())
    rebuilt = again / "claimwire-0.1.0"
    assert files == sorted(p.relative_to(rebuilt) for p in rebuilt.rglob("*") if p.is_file())
    for f in files:
        assert (release / f).read_bytes() == (rebuilt / f).read_bytes(), f
    assert main(["verify", str(release)]) == 0

    report(
        request.config,
        f"wire project (real server): {len(imported)} tasks, {released} regions released; "
        f"{_line(out, 'scheme mapping')}; {_line(out, 'quarantined')} "
        f"({len(units)} by rule); {_line(out, 're-anchored')}; {len(clusters)} cluster "
        f"of wire copies; "
        f"scheme init + build {took:.1f} s",
    )


def _line(out: str, start: str) -> str:
    return next((x.strip() for x in out.splitlines() if x.strip().startswith(start)), "")


def _pointed(doc: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc
