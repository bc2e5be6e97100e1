"""`claimwire build --exclude-uncleared`: the articles whose licence is not cleared for
redistribution (the seed, a scraped Sputnik page) are left out with their annotations, everywhere
in the release; by default they are included and marked "not cleared"."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from support.corpus import groups_by_split, synthetic_article, write_corpus
from support.helpers import SEED_ID

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.pipeline.attribution import uncleared
from builder.pipeline.build import build
from builder.release import reader


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The seed (not cleared) and six CC-BY-4.0 articles, two in each split."""
    groups = groups_by_split(60)
    arts = [
        synthetic_article(f"cc_{split}_{k}", seed=10 * i + k, group=groups[split][k])
        for i, split in enumerate(("train", "validation", "test"))
        for k in range(2)
    ]
    return write_corpus(tmp_path_factory.mktemp("in"), arts, seed=True)


def _build(inputs: tuple[Path, Path], out: Path, *extra: str) -> tuple[Path, str]:
    articles, export = inputs
    argv = ["build", "--articles", str(articles), "--annotations", str(export)]
    return out / f"claimwire-{DATASET_VERSION}", _run([*argv, "--out", str(out), *extra])


def _run(argv: list[str]) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(argv) == 0
    return buf.getvalue()


def _splits(release: Path) -> dict[str, str]:
    return {row["id"]: split for split, row in reader.documents(release, columns=["id"])}


def _ids_in_every_config(release: Path) -> set[str]:
    ids = set(_splits(release))
    for config in ("entities", "claims", "stance"):
        for split in reader.splits(release, config):
            ids |= {r["document_id"] for r in reader.rows(release, config, split)}
    return ids


def test_uncleared_names_the_seed_alone(inputs: tuple[Path, Path]) -> None:
    assert uncleared(inputs[0]) == [SEED_ID]


def test_default_includes_the_seed_marked_not_cleared(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    release, out = _build(inputs, tmp_path)
    assert "left out" not in out and "articles: 7 (0 without annotation)" in out
    assert SEED_ID in _ids_in_every_config(release)
    attribution = (release / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "## Texts not cleared for redistribution (1)" in attribution
    card = (release / "README.md").read_text(encoding="utf-8")
    assert "| Sputnik International | 1 |" in card and "not cleared: research sample only" in card
    assert "This release includes 1 text(s) not cleared for redistribution" in card
    assert "`claimwire build` includes texts that are not cleared by default" in card


def test_exclude_uncleared_leaves_the_seed_out_everywhere(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    full, _ = _build(inputs, tmp_path / "full")
    release, out = _build(inputs, tmp_path / "open", "--exclude-uncleared")
    assert "left out (--exclude-uncleared): 1 article(s) whose licence is not cleared" in out
    assert SEED_ID in out
    # counted neither as an article nor as one without annotation
    assert "articles: 6 (0 without annotation)" in out
    assert SEED_ID not in _ids_in_every_config(release)
    # the other articles keep their splits
    kept = _splits(full)
    del kept[SEED_ID]
    assert _splits(release) == kept
    attribution = (release / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "## Openly licensed texts (6)" in attribution and "not cleared" not in attribution
    card = (release / "README.md").read_text(encoding="utf-8")
    assert "Sputnik International |" not in card
    assert "Every text of this release is cleared for redistribution." in card
    croissant = json.loads((release / "croissant.json").read_text(encoding="utf-8"))
    assert "Sputnik" not in json.dumps(croissant["isBasedOn"])
    assert main(["verify", str(release), "--no-load"]) == 0


def test_excluded_article_is_not_unannotated(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """build(exclude=...) leaves an article out as if it were not in the folder, annotated or
    not, and reads its task without merging it."""
    articles, export = inputs
    result = build(articles, [export], tmp_path, "1.0.0", exclude={SEED_ID, "cc_test_0"})
    assert result.articles == 5 and result.unannotated == []
    assert set(_splits(result.path)) == {
        "cc_train_0",
        "cc_train_1",
        "cc_validation_0",
        "cc_validation_1",
        "cc_test_1",
    }
