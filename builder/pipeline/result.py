"""What a build made: the release folder, its tables and counts (read by the card, Croissant and
the command line)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..core.merge import MergeStats
from ..io.snapshots import SelectionStats
from ..release.writer import SplitTable


@dataclass
class BuildResult:
    path: Path
    version: str
    tables: list[SplitTable]
    articles: int
    unannotated: list[str]
    stats: MergeStats
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # split -> what -> n
    created: bool = True  # False: an identical release of this version was already there
    tasks: int = 0  # tasks read from the exports
    # units set aside by --on-invalid quarantine, by (rule, annotator pseudonym or "-")
    quarantined: Counter[tuple[str, str]] = field(default_factory=Counter)
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (control, label) regions
    # tasks left out as older states, unannotated beside another task, or pooled
    selection: SelectionStats = field(default_factory=SelectionStats)
    # tasks whose article has no file in the articles folder, read as their own article
    # (builder.io.task_articles), and those left out by exclude_uncleared
    task_articles: int = 0
    task_articles_left_out: int = 0
    cached: int = 0  # tasks whose result came from the build cache (builder.pipeline.cache)
    cache_problem: str | None = None  # why the build cache could not be written, if it could not
