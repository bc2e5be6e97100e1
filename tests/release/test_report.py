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
from support.corpus import groups_by_split, synthetic_article, write_corpus
from support.helpers import seed_inputs

from builder.benchmark.baselines import NAMES, run
from builder.benchmark.scorer import evaluate, headline
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


class _Tables(HTMLParser):
    """The cells of every table with a given class, row by row (header row first)."""

    def __init__(self, cls: str) -> None:
        super().__init__()
        self.cls, self.depth, self.rows, self.cell = cls, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("class") == self.cls:
            self.depth = 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth = 0
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def _baseline_cells(page: Path) -> list[list[str]]:
    tables = _Tables("baselines")
    tables.feed(page.read_text(encoding="utf-8"))
    return tables.rows


@pytest.fixture(scope="module")
def split_release(tmp_path_factory) -> Path:
    """A release with articles in every split (the seed and nine synthetic articles)."""
    groups = groups_by_split(60)
    arts = [
        synthetic_article(f"syn_{split}_{k}", seed=10 * i + k, group=groups[split][k])
        for i, split in enumerate(("train", "validation", "test"))
        for k in range(3)
    ]
    articles, export = write_corpus(tmp_path_factory.mktemp("in"), arts)
    return build(articles, [export], tmp_path_factory.mktemp("dist"), "0.1.0").path


def test_report_shows_the_scorers_baseline_figures(split_release, tmp_path):
    page = tmp_path / "report.html"
    assert main(["report", str(split_release), "--out", str(page)]) == 0
    header, *rows = _baseline_cells(page)
    assert header[:2] == ["split", "baseline"]
    assert [r[:2] for r in rows] == [["test", "majority"], ["test", "rules"]]
    shown = {(r[1], h): cell for r in rows for h, cell in zip(header[2:], r[2:], strict=True)}
    # the figures `claimwire baseline NAME --split test` writes and `claimwire evaluate` scores
    expected = {}
    for name in NAMES:
        for result in run(name, split_release, "test", out=tmp_path / "predictions"):
            config = result["config"]
            again = evaluate(config, Path(result["predictions"]), split_release, "test")
            assert again["metrics"] == result["metrics"]
            for metric, value in headline(config, again["metrics"]).items():
                expected[(name, f"{config}: {metric}")] = f"{100 * value:.1f}"
    assert shown == expected
    # and the card's baseline table holds the same rows
    card = (split_release / "README.md").read_text(encoding="utf-8")
    for r in rows:
        assert "| " + " | ".join(r) + " |" in card
    assert "Scored on the test split by the official scorer" in page.read_text(encoding="utf-8")


def test_report_without_a_test_split_says_what_is_scored(release, tmp_path):
    path, page, _ = release
    assert "Not computed for this page" in page.read_text(encoding="utf-8")  # write_report alone
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "has no test articles, so the baselines are scored on train" in html
    assert [r[:2] for r in _baseline_cells(out)[1:]] == [["train", "majority"], ["train", "rules"]]
