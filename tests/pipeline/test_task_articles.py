"""A team's export whose articles have no file in articles/: with a scheme mapping that has
``defaults`` (and a licence), each task is its own article, its text as imported and its
metadata from the mapped data keys and the defaults; without the licence the build names the
mapping entry to set; without a mapping the unknown article stays the error it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from support.corpus import synthetic_article
from support.foreign import FOREIGN_CONFIG, foreign_task
from support.helpers import SEED_ID, workspace

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.contracts.scheme import DEFAULTS_COMMENT, draft_scheme, load_scheme
from builder.errors import InvalidDataError
from builder.io.exports import read_export
from builder.labelstudio.spec import resolve
from builder.pipeline.documents import merged
from builder.pipeline.validate import validate_paths
from builder.release import reader

TITLE = "Officials count border crossings"
URL = "https://news.example.org/2024/border"


def _tasks() -> list[dict[str, Any]]:
    """Two tasks in the shipped names: team_001 with a title, url and source in its data,
    team_002 with none of them."""
    out = []
    for n, (article_id, data) in enumerate(
        (
            ("team_001", {"title": TITLE, "url": URL, "source": "Example News"}),
            ("team_002", {}),
        ),
        start=1,
    ):
        art = synthetic_article(article_id, 10 + n)
        out.append(
            {
                "id": n,
                "data": {"text": art["text"], "article_id": article_id, **data},
                "annotations": [
                    {"id": n, "completed_by": 1, "result": resolve(art["spec"], art["text"])}
                ],
            }
        )
    return out


def _foreign(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks in the foreign project's names: the title under headline, url and source
    under their own names."""
    out = []
    for task in tasks:
        foreign = foreign_task(task)
        for key in ("url", "source"):
            if key in task["data"]:
                foreign["data"][key] = task["data"][key]
        out.append(foreign)
    return out


def _inputs(tmp: Path, license_text: str | None = "CC BY 4.0", foreign: bool = True) -> Path:
    """An articles folder with no article, the export, and the mapping ``init`` drafts for the
    foreign config, with ``license_text`` set under defaults."""
    (tmp / "articles").mkdir()
    (tmp / "articles" / "sources.json").write_text('{"Test Wire": {}}', encoding="utf-8")
    (tmp / "exports").mkdir()
    tasks = _foreign(_tasks()) if foreign else _tasks()
    (tmp / "exports" / "team.json").write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    doc = draft_scheme(FOREIGN_CONFIG, "foreign.xml", project="Team Wire").document
    if license_text is not None:
        doc["defaults"]["license"] = license_text
    (tmp / "scheme.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return tmp


def _build(tmp: Path, *extra: str) -> int:
    return main(
        [
            "build",
            "--articles",
            str(tmp / "articles"),
            "--annotations",
            str(tmp / "exports"),
            "--out",
            str(tmp / "dist"),
            *extra,
        ]
    )


def test_init_writes_defaults_without_a_licence():
    doc = draft_scheme(FOREIGN_CONFIG, "foreign.xml", project="Team Wire").document
    assert doc["defaults"] == {
        "comment": DEFAULTS_COMMENT,
        "source": "Team Wire",
        "language": "en",
    }
    assert 'Set "license"' in DEFAULTS_COMMENT
    assert draft_scheme(FOREIGN_CONFIG, "foreign.xml").document["defaults"]["source"] == "unknown"


def test_the_reader_keeps_the_mapped_data_fields(tmp_path: Path):
    tmp = _inputs(tmp_path)
    first, second = read_export(tmp / "exports" / "team.json", load_scheme(tmp / "scheme.json"))
    assert first.meta == (("title", TITLE), ("url", URL), ("source", "Example News"))
    assert second.meta == ()  # the headline is null, no url, no source


def test_tasks_without_article_files_build_with_a_licence(tmp_path: Path, capsys):
    tmp = _inputs(tmp_path)
    assert _build(tmp, "--scheme", str(tmp / "scheme.json")) == 0
    out = capsys.readouterr().out
    assert (
        f"  articles: 2 (0 without annotation, 2 made from their tasks: no file in "
        f"{tmp / 'articles'})" in out
    )
    release = tmp / "dist" / f"claimwire-{DATASET_VERSION}"
    columns = ["id", "title", "url", "source", "license", "language", "published", "text"]
    rows = {row["id"]: row for _, row in reader.documents(release, columns=columns)}
    texts = {t["data"]["article_id"]: t["data"]["text"] for t in _tasks()}
    assert {k: {c: v for c, v in row.items() if c != "text"} for k, row in rows.items()} == {
        "team_001": {
            "id": "team_001",
            "title": TITLE,
            "url": URL,
            "source": "Example News",
            "license": "CC BY 4.0",
            "language": "en",
            "published": None,
        },
        "team_002": {
            "id": "team_002",
            "title": "team_002",  # no title in the task: the article id
            "url": None,
            "source": "Team Wire",  # the mapping's default
            "license": "CC BY 4.0",
            "language": "en",
            "published": None,
        },
    }
    assert {k: row["text"] for k, row in rows.items()} == texts  # as imported
    attribution = (release / "ATTRIBUTION.md").read_text(encoding="utf-8")
    changes = "Changes: text as imported into Label Studio, annotations added."
    assert f"- {TITLE} (Example News), <{URL}>. Licence: CC BY 4.0. {changes}" in attribution
    assert f"- team_002 (Team Wire), no public URL. Licence: CC BY 4.0. {changes}" in attribution
    assert "## Openly licensed texts (2)" in attribution
    assert "boilerplate lines removed," not in attribution


def test_attribution_says_per_article_what_was_changed(tmp_path: Path):
    """A build of both kinds: the articles made from their tasks are credited with their text
    as imported, the article of articles/ with its boilerplate removed, its line the same as
    in a build without any task-born article."""
    alone = workspace(tmp_path / "alone")
    assert alone.build() == 0
    seed_line = next(
        line
        for line in (alone.dist / f"claimwire-{DATASET_VERSION}" / "ATTRIBUTION.md")
        .read_text("utf-8")
        .splitlines()
        if line.startswith("- ")
    )
    assert seed_line.endswith("Changes: boilerplate lines removed, annotations added.")
    assert "text as imported" not in (
        alone.dist / f"claimwire-{DATASET_VERSION}" / "ATTRIBUTION.md"
    ).read_text("utf-8")

    (tmp_path / "both").mkdir()
    tmp = _inputs(tmp_path / "both")
    for name in ("sources.json", f"{SEED_ID}.txt", f"{SEED_ID}.json"):
        shutil.copyfile(alone.articles / name, tmp / "articles" / name)
    seed = [foreign_task(alone.tasks()[0])]
    (tmp / "exports" / "seed.json").write_text(json.dumps(seed), encoding="utf-8")
    assert _build(tmp, "--scheme", str(tmp / "scheme.json")) == 0
    lines = (
        (tmp / "dist" / f"claimwire-{DATASET_VERSION}" / "ATTRIBUTION.md")
        .read_text("utf-8")
        .splitlines()
    )
    credits = [line for line in lines if line.startswith("- ")]
    assert len(credits) == 3
    assert seed_line in credits
    imported = "Changes: text as imported into Label Studio, annotations added."
    assert sorted(line.endswith(imported) for line in credits) == [False, True, True]
    assert any(
        line.startswith("- team_002 (Team Wire)") and line.endswith(imported) for line in credits
    )
    assert "each is the text of its task as it was imported, not cleaned" in lines[2]
    croissant = json.loads(
        (tmp / "dist" / f"claimwire-{DATASET_VERSION}" / "croissant.json").read_text("utf-8")
    )
    assert croissant["rai:dataPreprocessingProtocol"][-1] == (
        "2 article(s) have no file in the repository: each is the text of its Label Studio task "
        "as imported, not cleaned by these rules (ATTRIBUTION.md says which)."
    )
    assert croissant["rai:dataCollectionRawData"] == (
        "The raw scraped text of every article but 2 is kept in the repository "
        "(articles/<id>.txt) next to its metadata. Those 2 have no raw text there: their text "
        "is that of their Label Studio task as imported, which the release holds "
        "(ATTRIBUTION.md says which)."
    )
    assert croissant["rai:dataCollection"].endswith(
        " 2 article(s) come from the texts of Label Studio tasks instead, imported by the "
        "annotating team."
    )
    alone_croissant = (alone.dist / f"claimwire-{DATASET_VERSION}" / "croissant.json").read_text(
        "utf-8"
    )
    assert "no file in the repository" not in alone_croissant
    alone_rai = json.loads(alone_croissant)
    assert alone_rai["rai:dataCollectionRawData"] == (
        "The raw scraped text of every article is kept in the repository (articles/<id>.txt) "
        "next to its metadata."
    )
    assert alone_rai["rai:dataCollection"].endswith("(articles/sources.json).")


def test_without_a_licence_the_error_names_the_mapping_entry_and_the_task(tmp_path: Path, capsys):
    tmp = _inputs(tmp_path, license_text=None)
    mapping, export = tmp / "scheme.json", tmp / "exports" / "team.json"
    assert _build(tmp, "--scheme", str(mapping)) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {mapping}, task 1, article team_001, at /defaults/license: no licence for the "
        f"text of task 1 in {export}: its article has no file in articles/, and the scheme "
        "mapping sets no /defaults/license\n"
        '    expected: a "license" under "defaults", such as "CC BY 4.0"\n'
        f'    fix:      set "license" under "defaults" in {mapping} to the licence of the texts '
        "imported into the project (the card and ATTRIBUTION.md credit each text under it), or "
        "add the article to articles/\n"
    )
    assert not (tmp / "dist" / f"claimwire-{DATASET_VERSION}").exists()
    # validate says the same, for every task
    problems, _ = validate_paths([export], tmp / "articles", load_scheme(mapping))
    assert [(p.file, p.task, p.pointer) for p in problems] == [
        (str(mapping), 1, "/defaults/license"),
        (str(mapping), 2, "/defaults/license"),
    ]


def test_without_a_mapping_an_unknown_article_is_the_error_it_was(tmp_path: Path, capsys):
    tmp = _inputs(tmp_path, foreign=False)  # the shipped names: readable without a mapping
    export = tmp / "exports" / "team.json"
    assert _build(tmp) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {export}:6:18, task 1, article team_001, at /0/data/article_id: annotation for "
        "an unknown article\n"
        "    expected: one of the 0 article ids in articles/\n"
        "    fix:      add the article to articles/ or drop the task from the export\n"
    )


def test_a_mapping_without_defaults_keeps_the_error_and_says_how_to_allow_it(
    tmp_path: Path, capsys
):
    tmp = _inputs(tmp_path)
    mapping = tmp / "scheme.json"
    doc = json.loads(mapping.read_text(encoding="utf-8"))
    del doc["defaults"]
    mapping.write_text(json.dumps(doc), encoding="utf-8")
    assert _build(tmp, "--scheme", str(mapping)) == 1
    err = capsys.readouterr().err
    assert "annotation for an unknown article" in err
    assert (
        f"fix:      add the article to articles/, drop the task from the export, or add a "
        f'"defaults" object with a "license" to {mapping} to build the task\'s text as its '
        "article" in err
    )


def test_exclude_uncleared_leaves_out_task_articles_under_an_uncleared_licence(
    tmp_path: Path, capsys
):
    tmp = _inputs(tmp_path, license_text="All rights reserved")
    mapping = tmp / "scheme.json"
    assert _build(tmp, "--scheme", str(mapping), "--exclude-uncleared") == 1
    err = capsys.readouterr().err
    assert "no article has a usable annotation" in err  # both were left out
    assert _build(tmp, "--scheme", str(mapping)) == 0  # by default they are included
    out = capsys.readouterr().out
    assert "made from their tasks" in out
    attribution = (tmp / "dist" / f"claimwire-{DATASET_VERSION}" / "ATTRIBUTION.md").read_text(
        "utf-8"
    )
    assert "## Texts not cleared for redistribution (2)" in attribution


def test_exclude_uncleared_counts_what_it_left_out(tmp_path: Path, capsys):
    tmp = _inputs(tmp_path, license_text="All rights reserved")
    # one article with a file and an open licence keeps the release from being empty
    art = synthetic_article("kept", 40)
    (tmp / "articles" / "kept.txt").write_text(art["text"], encoding="utf-8")
    meta = {"id": "kept", "source": "Test Wire", "title": "Kept", "language": "en"}
    (tmp / "articles" / "kept.json").write_text(
        json.dumps({**meta, "license": "CC BY 4.0"}), encoding="utf-8"
    )
    export = tmp / "exports" / "team.json"
    tasks = json.loads(export.read_text(encoding="utf-8"))
    task = {
        "id": 3,
        "data": {"text": art["text"], "article_id": "kept"},
        "annotations": [{"id": 3, "completed_by": 1, "result": resolve(art["spec"], art["text"])}],
    }
    tasks += _foreign([task])
    export.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    assert _build(tmp, "--scheme", str(tmp / "scheme.json"), "--exclude-uncleared") == 0
    out = capsys.readouterr().out
    assert "  articles: 1 (0 without annotation)\n" in out
    assert (
        "  left out (--exclude-uncleared): 2 article(s) made from their tasks, whose licence "
        "(the scheme's defaults) is not cleared\n" in out
    )
    release = tmp / "dist" / f"claimwire-{DATASET_VERSION}"
    assert [row["id"] for _, row in reader.documents(release, columns=["id"])] == ["kept"]


def test_unsafe_ids_and_bad_metadata_point_at_the_task(tmp_path: Path):
    tmp = _inputs(tmp_path)
    export = tmp / "exports" / "team.json"
    tasks = json.loads(export.read_text(encoding="utf-8"))
    tasks[0]["data"]["article_id"] = "../etc/passwd"
    tasks[1]["data"]["published"] = "last Tuesday"
    export.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    problems, _ = validate_paths([export], tmp / "articles", load_scheme(tmp / "scheme.json"))
    unsafe, published = problems
    assert (unsafe.message, unsafe.file, unsafe.task, unsafe.pointer, unsafe.found) == (
        "unsafe article id",
        str(export),
        1,
        "/0/data/article_id",
        "'../etc/passwd'",
    )
    assert unsafe.line is not None
    assert published.message.startswith("task data 'published' cannot be the article's published")
    assert (published.file, published.task, published.pointer) == (
        str(export),
        2,
        "/1/data/published",
    )
    # a default that would break the article contract is refused by the mapping's schema
    doc = json.loads((tmp / "scheme.json").read_text(encoding="utf-8"))
    doc["defaults"]["language"] = "English"
    (tmp / "scheme.json").write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InvalidDataError) as err:
        load_scheme(tmp / "scheme.json")
    assert [p.pointer for p in err.value.problems] == ["/defaults/language"]


def test_agreement_and_review_read_task_articles(tmp_path: Path):
    tmp = _inputs(tmp_path)
    found = list(
        merged([tmp / "exports"], tmp / "articles", None, load_scheme(tmp / "scheme.json"))
    )
    assert [(task.article_id, doc.article.meta.title) for task, doc, _ in found] == [
        ("team_001", TITLE),
        ("team_002", "team_002"),
    ]


def test_a_warm_build_credits_task_born_articles_as_the_cold_one(tmp_path: Path, capsys):
    """Articles made from their tasks, taken from the build cache: the same release, the
    same ATTRIBUTION.md (the cache keeps that a task's article was made from it)."""
    tmp = _inputs(tmp_path)
    release = tmp / "dist" / f"claimwire-{DATASET_VERSION}"
    assert _build(tmp, "--scheme", str(tmp / "scheme.json"), "--no-cache") == 0
    cold = (release / "checksums.tsv").read_bytes()
    shutil.rmtree(tmp / "dist")
    for _ in range(2):  # the first fills the cache, the second reads it
        assert _build(tmp, "--scheme", str(tmp / "scheme.json")) == 0
        assert (release / "checksums.tsv").read_bytes() == cold
        shutil.rmtree(tmp / "dist")
    assert "cache: 2 of 2 task(s) reused" in capsys.readouterr().out
