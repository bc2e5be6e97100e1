"""A version's own words (``releases/<version>.md``) open its entry in RELEASE_NOTES.md and the
card; without them the entry is the build's counts or the diff, as before."""

from __future__ import annotations

from pathlib import Path

from support.helpers import workspace


def test_the_maintainers_words_open_the_entry(tmp_path: Path):
    ws = workspace(tmp_path)
    records = tmp_path / "records"
    records.mkdir()
    (records / "9.0.0.md").write_text("Splits change once, on purpose.\n", encoding="utf-8")
    assert ws.build("--version", "9.0.0", "--recorded", str(records)) == 0
    notes = (ws.dist / "claimwire-9.0.0" / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    assert notes.startswith(
        "# Release notes\n\n## 9.0.0\n\nSplits change once, on purpose.\n\n"
        "First release in this folder: 1 article(s), 67 entity mentions, 22 claims.\n"
    )
    card = (ws.dist / "claimwire-9.0.0" / "README.md").read_text(encoding="utf-8")
    assert "### This release\n\nSplits change once, on purpose." in card


def test_without_them_the_entry_is_the_counts(tmp_path: Path):
    ws = workspace(tmp_path)
    assert ws.build("--version", "9.0.1", "--recorded", str(tmp_path)) == 0
    notes = (ws.dist / "claimwire-9.0.1" / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    assert notes == (
        "# Release notes\n\n## 9.0.1\n\n"
        "First release in this folder: 1 article(s), 67 entity mentions, 22 claims.\n"
    )
