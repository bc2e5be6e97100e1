"""The QA report: a self-contained page whose viewer, opened in headless Chromium, draws every
entity and claim of the article with its own text."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from support.helpers import seed_inputs

from builder.cli.main import main
from builder.pipeline.build import build
from builder.release.report import write_report

ROOT = Path(__file__).resolve().parents[2]
SEED = seed_inputs()[1] / "gold.json"
FIXTURE = ROOT / "tests" / "fixtures" / "three_annotators.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module", params=["seed", "three_annotators"])
def release(request, tmp_path_factory):
    export = SEED if request.param == "seed" else FIXTURE
    out = tmp_path_factory.mktemp(request.param)
    result = build(seed_inputs()[0], [export], out, "0.1.0")
    page = write_report(result.path)
    rows = pq.read_table(result.path / "data/documents/train-00000-of-00001.parquet").to_pylist()
    return result.path, page, rows


class _Segments(HTMLParser):
    """Collects the text of the viewer's segments by entity and claim id, from the DOM as
    Chromium left it after running the page's script."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[list[str], list[str]]] = []
        self.entities: dict[str, str] = {}
        self.claims: dict[str, str] = {}
        self.checks: list[dict] = []
        self.body: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "section" and "data-check" in a:
            self.checks.append(json.loads(a["data-check"]))
        if tag == "span":
            self.stack.append(
                ((a.get("data-ent") or "").split(), (a.get("data-claim") or "").split())
            )

    def handle_endtag(self, tag):
        if tag == "span" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for ents, claims in self.stack:
            for e in ents:
                self.entities[e] = self.entities.get(e, "") + data
            for c in claims:
                self.claims[c] = self.claims.get(c, "") + data


def _dump_dom(page: Path) -> str:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium not installed (apt-get install chromium)")
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_viewer_renders_every_entity_and_claim(release):
    _, page, rows = release
    dom = _Segments()
    dom.feed(_dump_dom(page))
    assert dom.body.get("data-rendered") == "yes"
    row = rows[0]
    # the page's own check: every region drawn, visible (has a layout box), with its text
    assert dom.checks == [
        {"entities": len(row["entities"]), "claims": len(row["claims"]), "wrong": []}
    ]
    # and independently, from the DOM: each region's segments spell exactly its text
    assert dom.entities == {e["id"]: e["text"] for e in row["entities"]}
    assert dom.claims == {c["id"]: c["text"] for c in row["claims"]}


def test_seed_counts(release):
    path, _, rows = release
    if path.parent.name.startswith("seed"):
        assert (len(rows[0]["entities"]), len(rows[0]["claims"])) == (67, 22)
    else:
        assert (len(rows[0]["entities"]), len(rows[0]["claims"])) == (66, 22)


def test_page_is_self_contained(release):
    _, page, _ = release
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html
    assert "default-src 'none'" in html  # the browser itself refuses any fetch
    assert "<svg" in html and "claimwire-data" in html


def test_page_content(release):
    path, page, rows = release
    html = page.read_text(encoding="utf-8")
    assert "<td>train</td><td>1</td>" in html
    if rows[0]["annotation"]["n_annotators"] >= 3:
        assert "<td>stance</td><td>22</td><td>0.856</td><td>0.847</td>" in html
        assert f'href="#doc-{rows[0]["id"]}"' in html
        assert "tie_most_recent" in html
    else:
        assert "no agreement to show" in html
    card = (path / "README.md").read_text(encoding="utf-8")
    assert "### Inter-annotator agreement" in card
    if rows[0]["annotation"]["n_annotators"] >= 3:
        assert "| stance | 22 | 0.856 | 0.847 |" in card
        assert "| claim | all | 0.954 | 0.985 | 130 |" in card


def test_report_is_deterministic(release, tmp_path):
    path, page, _ = release
    again = write_report(path, tmp_path / "again.html")
    assert again.read_bytes() == page.read_bytes()


def test_report_command_errors(release, tmp_path, capsys):
    path, _, _ = release
    assert main(["report", str(path), "--out", str(path / "r.html")]) == 2
    assert "cannot go inside the release folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a release folder" in err and "Traceback" not in err
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--out", str(out)]) == 0
    assert out.is_file()
