"""What changed between two releases: articles added, removed, changed or moved between splits,
entity mentions and claims added or removed (per label), and the release-notes entry built from it.

Annotations are compared by content, not by id: ids (``e001``...) are renumbered whenever a
mention is added, so an entity is its ``(start, end, label)`` and a claim its span, attribution,
stance, claimer span and target spans. A label fix is then one mention removed and one added.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.ids import IdSet, id_digest
from ..errors import InvalidDataError, Problem, UsageError
from . import reader
from .writer import NAME

NOTES = "RELEASE_NOTES.md"
_VERSION_DIR = re.compile(rf"^{NAME}-(\d+)\.(\d+)\.(\d+)$")
_META = ("title", "source", "url", "published", "license", "language")
_COLUMNS = ["id", "text_sha256", *_META, "entities", "claims"]


def _documents(
    release: Path, wanted: set[str] | None = None
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(split, documents row)`` of a release (only the columns a diff reads), a batch of rows
    at a time; only the rows of ``wanted`` ids when given."""
    if not (release / "data" / "documents").is_dir():
        raise UsageError(
            Problem(
                "not a release folder (no data/documents/)",
                file=str(release),
                fix="pass two folders like dist/claimwire-0.1.0",
            )
        )
    yield from reader.documents(release, columns=_COLUMNS, ids=wanted)


def read_documents(release: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """``{article id: (split, documents row)}`` of a release, the columns a diff reads, all in
    memory (for small releases and tests; :func:`diff_releases` streams)."""
    return {row["id"]: (split, row) for split, row in _documents(release)}


def _entities(row: Mapping[str, Any]) -> Counter[tuple[int, int, str]]:
    return Counter((e["start"], e["end"], e["label"]) for e in row["entities"])


def _claims(row: Mapping[str, Any]) -> Counter[tuple[Any, ...]]:
    spans = {e["id"]: (e["start"], e["end"]) for e in row["entities"]}
    return Counter(
        (
            c["start"],
            c["end"],
            c["attribution"],
            c["stance"],
            spans.get(c["claimer_id"]),
            tuple(sorted(spans[t] for t in c["target_ids"] if t in spans)),
        )
        for c in row["claims"]
    )


@dataclass
class ReleaseDiff:
    old: str
    new: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)  # id -> what changed
    moved: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (old, new split)
    entity_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> old, new
    claim_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # stance/attribution
    entities_added: Counter[str] = field(default_factory=Counter)
    entities_removed: Counter[str] = field(default_factory=Counter)
    claims_added: int = 0
    claims_removed: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
            "moved": {k: list(v) for k, v in self.moved.items()},
            "entity_counts": {
                k: {"old": o, "new": n, "delta": n - o} for k, (o, n) in self.entity_counts.items()
            },
            "claim_counts": {
                k: {"old": o, "new": n, "delta": n - o} for k, (o, n) in self.claim_counts.items()
            },
            "entities_added": dict(sorted(self.entities_added.items())),
            "entities_removed": dict(sorted(self.entities_removed.items())),
            "claims_added": self.claims_added,
            "claims_removed": self.claims_removed,
        }

    def lines(self) -> list[str]:
        """A plain report for the terminal (also the body of a release-notes entry)."""
        out = [f"{self.old} -> {self.new}"]
        out.append(f"articles added ({len(self.added)}): " + (", ".join(self.added) or "none"))
        out.append(
            f"articles removed ({len(self.removed)}): " + (", ".join(self.removed) or "none")
        )
        out.append(
            f"articles changed ({len(self.changed)}): "
            + ("; ".join(f"{k} ({', '.join(v)})" for k, v in self.changed.items()) or "none")
        )
        if self.moved:
            out.append(
                "articles that changed split (splits must be stable!): "
                + ", ".join(f"{k} {a}->{b}" for k, (a, b) in self.moved.items())
            )
        out.append(
            f"entity mentions: +{sum(self.entities_added.values())} "
            f"-{sum(self.entities_removed.values())}; claims: +{self.claims_added} "
            f"-{self.claims_removed}"
        )
        out.append("counts per label (old -> new):")
        for name, counts in (("entity", self.entity_counts), ("claim", self.claim_counts)):
            for label, (o, n) in counts.items():
                out.append(f"  {name} {label:<24} {o:>6} -> {n:<6} ({n - o:+d})")
        return out


def _digest(value: Any) -> bytes:
    return hashlib.blake2b(repr(value).encode("utf-8"), digest_size=8).digest()


@dataclass(frozen=True)
class _Summary:
    """What a diff compares of one article, in a few dozen bytes: its split, its text digest,
    and 8-byte digests of its metadata, entities and claims (as compared: by content)."""

    split: str
    text: str
    meta: bytes
    entities: bytes
    claims: bytes

    @classmethod
    def of(cls, split: str, row: Mapping[str, Any]) -> _Summary:
        return cls(
            split,
            row["text_sha256"],
            _digest(tuple(row[k] for k in _META)),
            _digest(sorted(_entities(row).items())),
            _digest(sorted(_claims(row).items(), key=repr)),
        )


def _twice(release: Path, art: str) -> InvalidDataError | None:
    """The error for an article in two splits of ``release``, found again by reading it (an
    error path); None when ``art`` is there once (another id with the same digest)."""
    splits = [split for split, _ in _documents(release, {art})]
    if len(splits) < 2:
        return None
    return InvalidDataError(
        Problem(
            f"article is in two splits ({splits[0]} and {splits[1]})",
            file=str(release),
            article=art,
            fix="rebuild the release",
        )
    )


def _count(row: Mapping[str, Any], counts: dict[str, Counter[str]]) -> None:
    counts["entities"].update(e["label"] for e in row["entities"])
    counts["stance"].update(c["stance"] for c in row["claims"])
    counts["attribution"].update(c["attribution"] for c in row["claims"])


def diff_releases(old: Path, new: Path) -> ReleaseDiff:
    """Compare two release folders (``claimwire diff OLD NEW``).

    Streams both releases a batch of rows at a time: memory holds a :class:`_Summary` of each
    article of ``old`` (~250 bytes), an 8-byte digest of each id of ``new`` (to refuse an
    article in two splits), and the entity and claim multisets of the articles whose
    annotations changed. Two different multisets with the same 8-byte digest (chance 2^-64 per
    article) would be taken for unchanged."""
    from ..contracts.labels import ATTRIBUTIONS, ENTITY_LABELS, STANCES

    d = ReleaseDiff(old=old.name, new=new.name)
    count_a: dict[str, Counter[str]] = {k: Counter() for k in ("entities", "stance", "attribution")}
    count_b: dict[str, Counter[str]] = {k: Counter() for k in count_a}
    before: dict[str, _Summary] = {}
    for split, row in _documents(old):
        if row["id"] in before:
            raise InvalidDataError(
                Problem(
                    f"article is in two splits ({before[row['id']].split} and {split})",
                    file=str(old),
                    article=row["id"],
                    fix="rebuild the release",
                )
            )
        before[row["id"]] = _Summary.of(split, row)
        _count(row, count_a)
    seen = IdSet()  # digests of the ids of ``new`` read so far, 8 bytes each
    changed: dict[str, list[str]] = {}
    for split, row in _documents(new):
        art = row["id"]
        digest = id_digest(art)
        if digest in seen and (error := _twice(new, art)) is not None:
            raise error
        seen.add(digest)
        _count(row, count_b)
        was = before.pop(art, None)
        if was is None:
            d.added.append(art)
            d.entities_added.update(e["label"] for e in row["entities"])
            d.claims_added += len(row["claims"])
            continue
        now = _Summary.of(split, row)
        what = [
            name
            for name, differs in (
                ("text", was.text != now.text),
                ("metadata", was.meta != now.meta),
                ("entities", was.entities != now.entities),
                ("claims", was.claims != now.claims),
            )
            if differs
        ]
        if what:
            changed[art] = what
        if was.split != now.split:
            d.moved[art] = (was.split, now.split)
    d.removed = sorted(before)
    d.added.sort()
    # The articles whose annotations changed, read again from both releases for what changed.
    annotated = {a for a, what in changed.items() if "entities" in what or "claims" in what}
    old_sets: dict[str, tuple[Counter[Any], Counter[Any]]] = {}
    if annotated or d.removed:
        for _, row in _documents(old, annotated | set(d.removed)):
            if row["id"] in annotated:
                old_sets[row["id"]] = (_entities(row), _claims(row))
            else:
                d.entities_removed.update(e["label"] for e in row["entities"])
                d.claims_removed += len(row["claims"])
    if annotated:
        for _, row in _documents(new, annotated):
            ea, ca = old_sets.pop(row["id"])
            eb, cb = _entities(row), _claims(row)
            d.entities_added.update(label for _, _, label in (eb - ea).elements())
            d.entities_removed.update(label for _, _, label in (ea - eb).elements())
            d.claims_added += sum((cb - ca).values())
            d.claims_removed += sum((ca - cb).values())
    d.changed = dict(sorted(changed.items()))
    d.moved = dict(sorted(d.moved.items()))
    d.entity_counts = {
        lab: (count_a["entities"][lab], count_b["entities"][lab]) for lab in ENTITY_LABELS
    }
    d.claim_counts = {
        **{f"stance={s}": (count_a["stance"][s], count_b["stance"][s]) for s in STANCES},
        **{
            f"attribution={t}": (count_a["attribution"][t], count_b["attribution"][t])
            for t in ATTRIBUTIONS
        },
    }
    return d


def _version(path: Path) -> tuple[int, int, int] | None:
    m = _VERSION_DIR.match(path.name)
    return (int(m[1]), int(m[2]), int(m[3])) if m else None


def previous_release(out: Path, version: str) -> Path | None:
    """The highest release in ``out`` older than ``version`` (complete releases only)."""
    mine = tuple(int(p) for p in version.split("."))
    older = [
        (v, p)
        for p in out.glob(f"{NAME}-*")
        if (v := _version(p)) and v < mine and (p / "checksums.tsv").is_file()
    ]
    return max(older)[1] if older else None


def release_notes(
    out: Path,
    version: str,
    staging: Path,
    totals: tuple[int, int, int],
    statement: str | None = None,
) -> str:
    """Write ``RELEASE_NOTES.md`` into the release being built (``staging``, data files already
    written): this version's entry, from a diff against the previous release in ``out``, on top
    of that release's notes; for a first release, its ``totals`` (articles, entity mentions,
    claims, as the build counted them). ``statement``, the maintainers' words on the version
    (``releases/<version>.md``), opens the entry. Returns the new entry (markdown) for the card."""
    prev = previous_release(out, version)
    if prev is None:
        n_docs, n_ent, n_cl = totals
        entry = (
            f"## {version}\n\nFirst release in this folder: {n_docs} article(s), "
            f"{n_ent} entity mentions, {n_cl} claims.\n"
        )
        older = ""
    else:
        d = diff_releases(prev, staging)
        d.new = f"{NAME}-{version}"
        body = "\n".join(
            f"- {line}" if not line.startswith("  ") else f"  - {line.strip()}"
            for line in d.lines()[1:]
        )
        entry = f"## {version}\n\nChanges since {prev.name}:\n\n{body}\n"
        notes = prev / NOTES
        older = notes.read_text(encoding="utf-8").split("\n", 2)[2] if notes.is_file() else ""
    if statement:
        head, _, rest = entry.partition("\n\n")
        entry = f"{head}\n\n{statement}\n\n{rest}"
    text = f"# Release notes\n\n{entry}\n{older}".rstrip("\n") + "\n"
    (staging / NOTES).write_text(text, encoding="utf-8")
    return entry
