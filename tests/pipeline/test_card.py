"""The release card: a complete datasheet whose every number comes from the released files, a
complete Hugging Face YAML header, baseline scores from a real run, and byte-identical rebuilds."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from support.corpus import groups_by_split, synthetic_article, write_corpus
from support.helpers import seed_inputs

from builder import build, verify
from builder.benchmark.baselines import run
from builder.benchmark.scorer import headline
from builder.contracts.labels import ENTITY_LABELS, ROOT
from builder.core.merge import merge
from builder.io.articles import read_articles
from builder.io.exports import read_export
from builder.pipeline import corpus
from builder.pipeline.card import redistribution, sample_note, size_category
from builder.quality.agreement import DocAgreement, agreement_markdown, summarize

SECTIONS = [
    "## Motivation",
    "## Loading",
    "## Configs",
    "## Composition",
    "## Splits and leakage",
    "## Collection and cleaning",
    "## Annotation process",
    "## Benchmark: scorer and baselines",
    "## Intended uses",
    "## Out-of-scope uses",
    "## Sources and licensing",
    "## Maintenance and versioning",
    "## Citation",
]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    return build(seed_inputs()[0], [seed_inputs()[1]], out, "0.1.0").path


def _card(release: Path) -> tuple[dict, str]:
    _, header, body = (release / "README.md").read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(header), body


def test_yaml_header_is_complete(release: Path) -> None:
    meta, _ = _card(release)
    assert {
        "configs",
        "dataset_info",
        "license",
        "task_categories",
        "language",
        "size_categories",
        "pretty_name",
        "version",
    } <= set(meta)
    assert meta["language"] == ["en"] and meta["size_categories"] == ["n<1K"]
    assert meta["license"] == "other" and "Apache-2.0" in meta["license_name"]
    assert [c["config_name"] for c in meta["configs"]] == [
        "documents",
        "entities",
        "claims",
        "stance",
    ]
    for info in meta["dataset_info"]:
        (split,) = info["splits"]
        rows = pq.read_metadata(
            release / f"data/{info['config_name']}/train-00000-of-00001.parquet"
        ).num_rows
        assert (split["name"], split["num_examples"]) == ("train", rows)


def test_card_is_a_full_datasheet(release: Path) -> None:
    _, body = _card(release)
    positions = [body.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert re.findall(r"\{\{[a-z_]+\}\}", body) == []  # every placeholder was filled
    assert "has two or more independent annotations yet, so no agreement can be measured" in body
    assert (
        "| Sputnik International | 1 | Proprietary (Sputnik International / Rossiya Segodnya)."
    ) in body
    assert "| not cleared: research sample only |" in body
    assert "No article falls in the validation, test split(s) of this version" in body
    assert "estimated Jaccard similarity is at least 0.80" in body
    assert "First release in this folder: 1 article(s), 67 entity mentions, 22 claims." in body


def test_counts_come_from_the_data(release: Path) -> None:
    _, body = _card(release)
    docs = pq.read_table(release / "data/documents/train-00000-of-00001.parquet").to_pylist()
    labels = Counter(e["label"] for d in docs for e in d["entities"])
    for label in ENTITY_LABELS:
        assert f"| {label} | {labels[label]} | {labels[label]} |" in body
    claims = sum(len(d["claims"]) for d in docs)
    assert f"| train | 1 | {sum(labels.values())} | {claims} | 25 |" in body
    assert (sum(labels.values()), claims) == (67, 22)
    assert "| `entities` | 23 |" in body and "| `stance` | 25 |" in body


def test_baseline_table_matches_a_cli_run(release: Path, tmp_path: Path) -> None:
    _, body = _card(release)
    for name in ("majority", "rules"):
        results = run(name, release, "train", out=tmp_path)
        cells = [
            f"{100 * v:.1f}" for r in results for v in headline(r["config"], r["metrics"]).values()
        ]
        assert f"| train | {name} | " + " | ".join(cells) + " |" in body
    assert "This release has no `test` articles, so the baselines are scored on train." in body


def test_rebuild_is_byte_identical(release: Path, tmp_path: Path) -> None:
    again = build(seed_inputs()[0], [seed_inputs()[1]], tmp_path, "0.1.0").path
    for name in ("README.md", "croissant.json", "RELEASE_NOTES.md", "checksums.tsv"):
        assert (again / name).read_bytes() == (release / name).read_bytes(), name


def test_release_with_a_test_split_scores_on_test(tmp_path: Path) -> None:
    groups = groups_by_split()
    arts = [
        synthetic_article(f"t{i}", 60 + i, groups[s][20 + i])
        for i, s in enumerate(["train", "train", "test"])
    ]
    articles, export = write_corpus(tmp_path / "in", arts, seed=False)
    result = build(articles, [export], tmp_path / "dist", "0.1.0")
    _, body = _card(result.path)
    assert "| test | majority |" in body and "| test | rules |" in body
    assert "| train | majority |" not in body and "no `test` articles" not in body
    assert "| train | 2 |" in body and "| test | 1 |" in body
    assert (
        "| Test Wire | 3 | CC-BY-4.0 | yes, under that license's terms; credits per article in "
        "ATTRIBUTION.md |" in body
    )
    credits = (result.path / "ATTRIBUTION.md").read_text(encoding="utf-8").splitlines()
    assert "## Openly licensed texts (3)" in credits
    assert "ATTRIBUTION.md" in (result.path / "checksums.tsv").read_text(encoding="utf-8")
    listed = [line for line in credits if line.startswith("- ")]
    assert len(listed) == 3
    assert all(
        line.endswith("Licence: CC-BY-4.0. Changes: boilerplate lines removed, annotations added.")
        for line in listed
    )
    verify(result.path)


def test_release_loads_with_its_card(release: Path) -> None:
    lines = verify(release)
    assert "load_dataset entities: train=23" in lines


def test_agreement_section_equals_the_whole_list_computation(tmp_path: Path) -> None:
    """The card's agreement figures, accumulated while the build streams, are those computed
    from the list of merged documents (three annotators: every coefficient is defined)."""
    fixture = ROOT / "tests" / "fixtures" / "three_annotators.json"
    articles = {a.id: a for a in read_articles(ROOT / "articles")}
    docs = [merge(articles[t.article_id], t) for t in read_export(fixture)]
    decided = Counter(r.decided_by for d in docs for r in (*d.entities, *d.claims))
    expected = agreement_markdown(summarize(DocAgreement.from_document(d) for d in docs), decided)
    result = build(seed_inputs()[0], [fixture], tmp_path, "0.1.0")
    _, body = _card(result.path)
    assert expected in body
    assert "| stance | 22 | 0.856 | 0.847 |" in expected


def test_baselines_on_a_sample_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the sample size, baselines are scored on the first documents of the split (input
    order), the card says so, and the scores are those of a release of just those documents."""
    groups = groups_by_split()
    arts = [
        synthetic_article(f"s{i}", 80 + i, groups[s][30 + i])
        for i, s in enumerate(["test", "train", "test", "train", "train", "test"])
    ]
    monkeypatch.setattr(corpus, "SAMPLE", 2)
    articles, export = write_corpus(tmp_path / "in", arts, seed=False)
    _, body = _card(build(articles, [export], tmp_path / "dist", "0.1.0").path)
    assert (
        "the baselines are scored on the first 2 of 3 test documents (in input order); "
        "`claimwire baseline rules --split test` (or `majority`) scores the whole split."
    ) in body
    assert "The majority baseline reads its counts from the first 2 of 3 train documents." in body
    monkeypatch.setattr(corpus, "SAMPLE", 1000)
    first = [a for a in arts if a["id"] in ("s0", "s1", "s2", "s3")]
    articles, export = write_corpus(tmp_path / "first", first, seed=False)
    _, small = _card(build(articles, [export], tmp_path / "dist-first", "0.1.0").path)

    def scores(card: str) -> list[str]:
        return [
            line
            for line in card.splitlines()
            if line.startswith(("| test | majority |", "| test | rules |"))
        ]

    assert len(scores(body)) == 2 and scores(body) == scores(small)
    assert "| test | 3 |" in body and "| test | 2 |" in small
    assert "in input order" not in small and "reads its counts from the first" not in small


def test_sample_note_names_every_cut_split() -> None:
    assert sample_note(["test"], {"test": 9, "train": 40}, {"test": 9, "train": 40}, True) == ""
    note = sample_note(
        ["train", "validation"],
        {"train": 5, "validation": 5},
        {"train": 80, "validation": 10},
        True,
    )
    assert (
        "scored on the first 5 of 80 train documents and the first 5 of 10 validation "
        "documents (in input order); `claimwire baseline rules --split SPLIT` (or "
        "`majority`) scores a whole split."
    ) in note
    assert "majority baseline reads" not in note  # train is scored: its sample is the one read


@pytest.mark.parametrize(
    ("n", "bucket"),
    [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (250_000, "100K<n<1M"), (2_000_000, "n>1M")],
)
def test_size_category(n: int, bucket: str) -> None:
    assert size_category(n) == bucket


OPEN = "yes, under that license's terms; credits per article in ATTRIBUTION.md"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("CC-BY-4.0", OPEN),
        ("Public domain (US federal government work)", OPEN),
        ("CC BY 2.5 (https://creativecommons.org/licenses/by/2.5/); credit: Wikinews", OPEN),
        ("Proprietary (Sputnik). Not openly licensed", "not cleared: research sample only"),
        ("All rights reserved", "not cleared: research sample only"),
    ],
)
def test_redistribution_is_honest(text: str, verdict: str) -> None:
    assert redistribution(text) == verdict
