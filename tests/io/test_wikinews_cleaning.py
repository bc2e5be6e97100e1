"""The Wikinews articles of 1.0.0: which raw lines the cleaner drops (pinned on three articles
that show the three rules), the metadata every Wikinews article carries, and that the selection
accounts for every row of the shared corpus (chosen or rejected with a reason)."""

from __future__ import annotations

import csv
import datetime
import json
import re
from pathlib import Path

import pytest
from support.helpers import ROOT, in_ci

from builder.io.articles import clean, clean_lines, load_rules

ARTICLES = ROOT / "articles"
RULES = load_rules(ARTICLES / "sources.json")["Wikinews"]
CORPUS = ROOT.parent / "shared" / "corpus" / "wikinews"
REJECTED = ROOT / "scripts" / "wikinews_rejected.tsv"
CSV_ROWS = 295  # wikinews_2019.csv (171) + wikinews_2020.csv (124), see its SOURCE.md

DATELINE = (
    "drop ^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?:January|February"
    "|March|April|May|June|July|August|September|October|November|December) [1-9][0-9]?, "
    "(?:19|20)[0-9]{2}$"
)
LEGEND = "drop ^█"
PULL_QUOTE = r"drop ^—\S"
NBSP = "\xa0"


def dropped(article_id: str) -> list[tuple[int, str, str]]:
    """(line number, raw line, verdict) of every line the cleaner removes from the article."""
    raw = (ARTICLES / f"{article_id}.txt").read_text(encoding="utf-8")
    return [t for t in clean_lines(raw, RULES) if t[2] not in ("keep", "blank")]


def test_dateline_and_pull_quote_are_dropped():
    assert dropped("wn-2019-08-16-7c0861c4") == [
        (1, f"Friday, August 16, 2019{NBSP}", DATELINE),
        (13, "—John Hickenlooper", PULL_QUOTE),
    ]


def test_dateline_and_map_legend_are_dropped():
    assert dropped("wn-2019-12-16-1a77fd04") == [
        (1, f"Monday, December 16, 2019{NBSP}", DATELINE),
        (4, f"██{NBSP}Conservative Party - 365 seats", LEGEND),
        (6, f"██{NBSP}Labour Party - 203 seats", LEGEND),
        (8, f"██{NBSP}Scottish National Party - 48 seats", LEGEND),
        (10, f"██{NBSP}Liberal Democrats - 11 seats", LEGEND),
        (12, f"██{NBSP}Democratic Unionist Party - 8 seats", LEGEND),
        (14, f"██{NBSP}Sinn Féin - 7 seats", LEGEND),
        (16, f"██{NBSP}Plaid Cymru - 4 seats", LEGEND),
        (18, f"██{NBSP}Green Party (E & W) - 1 seat", LEGEND),
        (20, f"██{NBSP}Alliance Party of Northern Ireland - 1 seat", LEGEND),
    ]


def test_pull_quote_with_its_medium_is_dropped_and_no_dateline_is_assumed():
    # a 2020 text: no dateline line to drop
    assert dropped("wn-2020-03-20-155b2329") == [(13, "—Mike DeWine, Twitter", PULL_QUOTE)]


@pytest.mark.parametrize(
    "article_id", ["wn-2019-08-16-7c0861c4", "wn-2019-12-16-1a77fd04", "wn-2020-03-20-155b2329"]
)
def test_the_cleaned_text_is_the_kept_lines(article_id: str):
    raw = (ARTICLES / f"{article_id}.txt").read_text(encoding="utf-8")
    kept = [line.strip() for _, line, v in clean_lines(raw, RULES) if v == "keep"]
    text = clean(raw, RULES)
    assert text == "\n\n".join(kept)
    assert "██" not in text and not re.search(r"^—\S", text, re.MULTILINE)


def _wikinews_metadata() -> list[dict[str, str | None]]:
    metas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(ARTICLES.glob("wn-*.json"))]
    return [m for m in metas if m["id"].startswith("wn-")]


def test_every_wikinews_article_has_complete_metadata():
    metas = _wikinews_metadata()
    assert len(metas) == 88
    for m in metas:
        assert m["source"] == "Wikinews", m["id"]
        url = m["url"]
        assert isinstance(url, str), m["id"]
        assert url.startswith("https://en.wikinews.org/wiki/"), m["id"]
        assert "//wiki/" not in url, m["id"]
        assert m["language"] == "en", m["id"]
        assert isinstance(m["license"], str) and m["license"].startswith("CC BY 2.5"), m["id"]
        published = m["published"]
        assert isinstance(published, str), m["id"]
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", published), m["id"]
        datetime.date.fromisoformat(published)  # a real date
        assert m["id"].startswith(f"wn-{published}-"), m["id"]
        assert (ARTICLES / f"{m['id']}.txt").is_file(), m["id"]


def _corpus() -> Path:
    if not (CORPUS / "wikinews_2019.csv").is_file():
        message = f"the shared Wikinews corpus is not beside this checkout ({CORPUS})"
        if in_ci():
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)
    return CORPUS


def test_chosen_and_rejected_account_for_every_corpus_row():
    corpus = _corpus()
    rows = []
    for name in ("wikinews_2019.csv", "wikinews_2020.csv"):
        with open(corpus / name, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    assert len(rows) == CSV_ROWS
    urls = [r["url"].replace("//wiki/", "/wiki/", 1) for r in rows]
    assert len(set(urls)) == CSV_ROWS  # one row per article

    lines = REJECTED.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "url\ttitle\treason"
    rejected = [line.split("\t") for line in lines[1:]]
    assert all(len(r) == 3 and r[2] for r in rejected), "every rejection gives a reason"
    chosen = [str(m["url"]) for m in _wikinews_metadata()]

    assert len(rejected) + len(chosen) == CSV_ROWS
    assert sorted([r[0] for r in rejected] + chosen) == sorted(urls)
    assert not {r[0] for r in rejected} & set(chosen)
    # each chosen article is its row's text byte for byte, under its row's title and date
    by_url = {u: r for u, r in zip(urls, rows, strict=True)}
    for m in _wikinews_metadata():
        row = by_url[str(m["url"])]
        assert (m["title"], m["published"]) == (row["title"], row["date"]), m["id"]
        raw = (ARTICLES / f"{m['id']}.txt").read_bytes()
        assert raw == row["text"].encode("utf-8"), m["id"]
