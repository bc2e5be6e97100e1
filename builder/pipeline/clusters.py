"""Near-duplicates share a split, automatically: the articles are grouped before the build.

Splits are assigned per story key (:mod:`builder.core.splits`): the metadata ``group``, or the
article id. Before the build reads a task, :func:`group_articles` reads every article of
``articles/`` (cleaned, as annotators see it), a batch at a time, and computes its MinHash
signature with the leakage check's own code (:mod:`builder.quality.leakage`, signatures kept on
disk). Every pair at or above the leakage threshold (identical texts included) is found, and the
pairs are joined transitively together with the explicit groups (an article's group still
joins it to every article of that group) into clusters. A cluster takes one split:

- the split its released articles were released in, when it holds any (see below);
- otherwise the split of its smallest story key, so an article with no near-duplicate keeps
  its story key and the split it had before this step existed.

Released articles keep their split. ``releases/<version>.splits.tsv`` (written by
``python releases/check.py --record`` with the checksums) lists the split of every article of a
release; the build reads those of every recorded version of the major version it builds, up to
that version (a new major version may assign new splits). A recorded article keeps its split
whatever its group or its shares say now, and a cluster that holds recorded articles takes their
split; a cluster that would need two recorded articles in two splits is an error naming both.

What the build's per-task work receives is a :class:`SplitPlan`: the split of the articles whose
split is not their story key's (members of clusters with another key, articles kept where they
were released), as sorted 8-byte id digests and a split code each; every other article is
assigned by its story key, as before. The end-of-build leakage check stays as the guard; it
can no longer fire for articles of ``articles/``.

Memory: per article ~20 bytes while the articles are read (the digests of its id and story key,
its story key's split, its recorded split, and the leakage index's byte), ~60 bytes while the
leakage code pairs the signatures (plus a fixed 16 MB chunk of them) and ~40 while the clusters
are formed; ids, story keys and signatures stay on disk (in the build's staging folder) and are
read back only for the members of clusters. The recorded splits take ~11 bytes per recorded
article. Measured (one core): 89 articles 0.05 s; 10,000 articles 1.0 s; 100,000 articles 10 s
and a peak of 42 MB of Python and numpy allocations.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core.ids import id_digest
from ..core.splits import SPLIT_NAMES, SplitSpec
from ..errors import ClaimwireError, InvalidDataError, Problem, UsageError
from ..io.articles import RULES_FILE, CleaningRules, is_safe_article_id, read_stored_article
from ..io.storage import ArticleStore
from ..markdown import markdown_table
from ..quality.leakage import BINS, THRESHOLD, LeakageIndex, signatures
from ..records import Article
from . import engines
from .cache import ArticleFiles, Reader, Signed, TaskCache

SUFFIX = ".splits.tsv"  # releases/<version>.splits.tsv
HEADER = "article_id\tsplit"
BATCH_ARTICLES = 64  # articles read and signed at a time (as many texts as a build batch)
_NONE = 255  # no recorded split
_RECORD = re.compile(r"^(\d+)\.(\d+)\.(\d+)" + re.escape(SUFFIX) + "$")
_KEYS = "keys.jsonl"  # per article, in reading order: [id, story key]


def _code(split: str) -> int:
    return SPLIT_NAMES.index(split)


# --- what the build receives ----------------------------------------------------------------


@dataclass(frozen=True)
class SplitPlan:
    """The split of every article: the listed ones (sorted id digests, split codes into
    :data:`SPLIT_NAMES`) where the grouping put them, the rest by their story key.

    An article whose id shares its 8-byte digest with a listed one would follow it (chance
    ~n·m/2⁶⁴ for n articles and m listed: 5e-8 for a million of each)."""

    spec: SplitSpec
    digests: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    codes: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))

    def split_of(self, article: Article) -> str:
        if self.digests.size:
            digest = np.uint64(id_digest(article.id))
            i = int(np.searchsorted(self.digests, digest))
            if i < self.digests.size and self.digests[i] == digest:
                return SPLIT_NAMES[int(self.codes[i])]
        return self.spec.assign(article.group_key)


@dataclass(frozen=True)
class Cluster:
    """Articles joined by near-duplicate texts (and the explicit groups of those), one split."""

    members: tuple[str, ...]  # article ids, sorted
    # (a, b, estimated Jaccard, identical texts) of every near-duplicate pair found, a < b
    pairs: tuple[tuple[str, str, float, bool], ...]
    key: str  # the smallest story key of the members
    split: str
    released: str | None = None  # the version whose recorded split the cluster keeps


@dataclass(frozen=True)
class Grouping:
    plan: SplitPlan
    clusters: list[Cluster]  # clusters of two or more articles with a near-duplicate pair
    articles: int  # articles read
    moved: int  # articles whose split is not their story key's
    files: ArticleFiles | None = None  # with a build cache: the digests of the files read


# --- recorded splits ------------------------------------------------------------------------


def splits_record(release: Path) -> bytes:
    """``<version>.splits.tsv`` of a built release: a header, then ``article_id<TAB>split``
    for every document, sorted by id."""
    from ..release.reader import documents

    rows = sorted((row["id"], split) for split, row in documents(release, columns=["id"]))
    return "".join(f"{line}\n" for line in [HEADER, *(f"{a}\t{s}" for a, s in rows)]).encode()


def _version(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in text.split("."))
    return major, minor, patch


@dataclass
class RecordedSplits:
    """The recorded split of every article of the recorded versions read (sorted id digests),
    with the first of those versions that recorded it."""

    versions: list[str] = field(default_factory=list)
    folder: Path | None = None
    digests: NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    codes: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    first: NDArray[np.uint16] = field(default_factory=lambda: np.zeros(0, dtype=np.uint16))

    @classmethod
    def read(cls, folder: Path | None, version: str) -> RecordedSplits:
        """The records in ``folder`` of the versions with ``version``'s major number, up to
        ``version``; none without a folder."""
        if folder is None:
            return cls()
        wanted = _version(version)
        found = sorted(
            (v, p)
            for p in folder.glob(f"*{SUFFIX}")
            if _RECORD.match(p.name)
            and (v := _version(p.name[: -len(SUFFIX)]))[0] == wanted[0]
            and v <= wanted
        )
        out = cls([p.name[: -len(SUFFIX)] for _, p in found], folder)
        digests, codes, first = [], [], []
        for k, (_, path) in enumerate(found):
            d, c = _read_record(path)
            digests.append(d)
            codes.append(c)
            first.append(np.full(d.size, k, dtype=np.uint16))
        if not digests:
            return out
        d, c, f = np.concatenate(digests), np.concatenate(codes), np.concatenate(first)
        order = np.lexsort((f, d))  # by digest, then version: the first version first
        d, c, f = d[order], c[order], f[order]
        same = np.flatnonzero(d[1:] == d[:-1])
        moved = same[c[same] != c[same + 1]]
        if moved.size:
            out._moved_error(d[moved[0]])
        keep = np.ones(d.size, dtype=bool)
        keep[same + 1] = False
        out.digests, out.codes, out.first = d[keep], c[keep], f[keep]
        return out

    def _moved_error(self, digest: np.uint64) -> None:
        assert self.folder is not None
        seen: list[tuple[str, str, str]] = []  # (version, article, split)
        for v in self.versions:
            for article, split in _record_rows(self.folder / f"{v}{SUFFIX}"):
                if id_digest(article) == int(digest):
                    seen.append((v, article, split))
        (va, a, sa), (vb, _, sb) = next(
            (x, y) for x, y in zip(seen, seen[1:], strict=False) if x[2] != y[2]
        )
        raise InvalidDataError(
            Problem(
                "an article is recorded in two different splits",
                file=str(self.folder / f"{vb}{SUFFIX}"),
                article=a,
                expected=f"the split it was released in: {sa} (in {va})",
                found=f"{sb} in {vb}",
                fix=f"restore {vb}{SUFFIX} as that release recorded it",
            )
        )

    def lookup(self, digests: NDArray[np.uint64]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
        """For each digest: its recorded split code (``255``: none) and its row (-1: none)."""
        codes = np.full(digests.size, _NONE, dtype=np.uint8)
        rows = np.full(digests.size, -1, dtype=np.int64)
        if self.digests.size and digests.size:
            i = np.searchsorted(self.digests, digests).clip(max=self.digests.size - 1)
            hit = self.digests[i] == digests
            codes[hit] = self.codes[i[hit]]
            rows[hit] = i[hit]
        return codes, rows

    def version_of(self, article_id: str) -> str:
        _, rows = self.lookup(np.array([id_digest(article_id)], dtype=np.uint64))
        return self.versions[int(self.first[rows[0]])]


def _record_rows(path: Path) -> Iterator[tuple[str, str]]:
    """``(article id, split)`` of every line of a record; a damaged line is an error."""
    with path.open(encoding="utf-8") as f:
        for no, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if no == 1 and line == HEADER:
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not is_safe_article_id(parts[0]) or parts[1] not in SPLIT_NAMES:
                raise InvalidDataError(
                    Problem(
                        "damaged line in a record of splits",
                        file=str(path),
                        line=no,
                        expected=f"an article id, a tab and one of {', '.join(SPLIT_NAMES)}",
                        found=repr(line),
                        fix="restore the file as python releases/check.py --record wrote it",
                    )
                )
            yield parts[0], parts[1]


def _read_record(path: Path) -> tuple[NDArray[np.uint64], NDArray[np.uint8]]:
    digests: list[int] = []
    codes = bytearray()
    for article, split in _record_rows(path):
        digests.append(id_digest(article))
        codes.append(_code(split))
    return np.array(digests, dtype=np.uint64), np.frombuffer(bytes(codes), dtype=np.uint8)


# --- reading the articles (in worker processes when jobs > 1) -------------------------------


@dataclass
class _Read:
    ids: list[str]
    keys: list[str]
    digests: NDArray[np.uint64]  # of the ids
    key_digests: NDArray[np.uint64]
    splits: bytes  # the story key's split code
    signatures: NDArray[np.uint32]
    sha256: bytes
    fresh: list[tuple[bytes, bytes]]  # for the build cache: new entries (key, value)
    used: list[bytes]  # ... the groups of the entries found
    files: bytes  # ... the digests of the articles' files (16 bytes each, as ids)


_Settings = tuple[ArticleStore, dict[str, CleaningRules], SplitSpec, Reader | None]
_reader: _Settings | None = None


def _init(settings: _Settings, worker: bool) -> None:
    global _reader
    _reader = settings
    if worker:  # Ctrl-C is the parent's to handle
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _read(names: list[str]) -> _Read:
    """Read, check and sign the articles ``names``; one found in the build cache (the same
    files, rules and code) is not read again: its entry holds what this gives."""
    assert _reader is not None
    folder, rules, spec, cache = _reader
    names = [name for name in names if is_safe_article_id(name)]
    if cache is not None:
        digests, cache_keys, found = cache.articles(names)
    else:
        digests, cache_keys, found = [None] * len(names), [None] * len(names), {}
    files: list[bytes] = []  # for those read or found: their files' digests (zeros: none)
    ids: list[str] = []  # those read or found
    got: list[Signed | None] = []  # ... what each gave
    fresh: list[tuple[int, Article]] = []  # ... those read here: (place, article)
    key_of: dict[int, bytes | None] = {}  # ... and their keys in the cache
    for i, name in enumerate(names):
        if (hit := found.get(i)) is not None:
            ids.append(name)
            got.append(hit[0])
            files.append(digests[i] or bytes(16))
            continue
        try:
            article = read_stored_article(folder, name, rules)
        except (ClaimwireError, OSError):
            # an article that cannot be read fails the build anyway, where it did before this
            # step (at its task, or with the unannotated articles): no cluster for it
            continue
        key_of[len(got)] = cache_keys[i]
        fresh.append((len(got), article))
        ids.append(article.id)
        got.append(None)
        files.append(digests[i] or bytes(16))
    new: list[tuple[bytes, bytes]] = []
    if fresh:
        rows = signatures([a.text for _, a in fresh])
        for (at, a), row in zip(fresh, rows, strict=True):
            sha = hashlib.sha256(a.text.encode("utf-8")).digest()
            got[at] = signed = Signed(a.group_key, row.tobytes(), sha)
            if (key := key_of[at]) is not None:
                new.append((key, signed.encode()))
    done = [g for g in got if g is not None]
    keys = [g.key for g in done]
    return _Read(
        ids=ids,
        keys=keys,
        digests=np.array([id_digest(i) for i in ids], dtype=np.uint64),
        key_digests=np.array([id_digest(k) for k in keys], dtype=np.uint64),
        splits=bytes(_code(spec.assign(k)) for k in keys),
        signatures=np.frombuffer(b"".join(g.signature for g in done), dtype=np.uint32).reshape(
            len(done), BINS
        ),
        sha256=b"".join(g.sha256 for g in done),
        fresh=new,
        used=[group for _, group in found.values()],
        files=b"".join(files),
    )


def _names(folder: ArticleStore, size: int, exclude: frozenset[str]) -> Iterator[list[str]]:
    """The article ids of ``folder`` (metadata file names) but ``exclude``, ``size`` at a
    time."""
    batch: list[str] = []
    for name in folder.names():
        if name != RULES_FILE and name[:-5] not in exclude:
            batch.append(name[:-5])
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


def _reads(
    folder: ArticleStore,
    rules: dict[str, CleaningRules],
    spec: SplitSpec,
    jobs: int,
    size: int,
    exclude: frozenset[str],
    cache: Reader | None = None,
) -> Generator[_Read, None, None]:
    """:func:`_read` of every batch, in order, with at most ``2 * jobs`` batches in flight
    (the build's local engine, :func:`builder.pipeline.engines.local`)."""
    batches = ((names, 0) for names in _names(folder, size, exclude))
    settings: _Settings = (folder, rules, spec, cache)
    with closing(engines.local(batches, _read, _init, settings, jobs)) as reads:
        for read, _ in reads:
            yield read


# --- the clusters ---------------------------------------------------------------------------


def group_articles(
    articles_dir: ArticleStore | Path,
    rules: dict[str, CleaningRules],
    spec: SplitSpec,
    folder: Path,
    version: str,
    recorded: Path | None = None,
    jobs: int = 1,
    exclude: frozenset[str] = frozenset(),
    batch: int = BATCH_ARTICLES,
    threshold: float = THRESHOLD,
    cache: TaskCache | None = None,
) -> Grouping:
    """Cluster the articles of ``articles_dir`` (but ``exclude``) and plan their splits (see
    the module doc).

    ``folder`` (created, and removed before returning) holds the signatures and story keys;
    ``recorded`` is the folder of ``<version>.splits.tsv`` records, None for none; ``cache``:
    the build cache, whose entries stand for the articles read before (the same files, rules
    and code), and which keeps those read here."""
    records = RecordedSplits.read(recorded, version)
    index = LeakageIndex(folder / "signatures", SPLIT_NAMES)
    try:
        store = (
            articles_dir if isinstance(articles_dir, ArticleStore) else ArticleStore(articles_dir)
        )
        reader = cache.reader if cache is not None else None
        with closing(_reads(store, rules, spec, jobs, batch, exclude, reader)) as reads:
            return _group(reads, spec, folder, records, index, threshold, cache)
    finally:
        index.remove()
        (folder / _KEYS).unlink(missing_ok=True)
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _group(
    reads: Iterable[_Read],
    spec: SplitSpec,
    folder: Path,
    records: RecordedSplits,
    index: LeakageIndex,
    threshold: float,
    cache: TaskCache | None = None,
) -> Grouping:
    ids_d: list[NDArray[np.uint64]] = []
    keys_d: list[NDArray[np.uint64]] = []
    own: list[NDArray[np.uint8]] = []
    kept: list[NDArray[np.uint8]] = []
    files: list[bytes] = []
    with (folder / _KEYS).open("wb") as keys_file:
        for r in reads:
            if cache is not None:
                cache.store_articles(r.fresh, r.used)
                files.append(r.files)
            index.add(r.ids, r.splits, r.signatures, r.sha256)
            keys_file.write(
                b"".join(
                    json.dumps([i, k]).encode() + b"\n" for i, k in zip(r.ids, r.keys, strict=True)
                )
            )
            ids_d.append(r.digests)
            keys_d.append(r.key_digests)
            own.append(np.frombuffer(r.splits, dtype=np.uint8))
            kept.append(records.lookup(r.digests)[0])
    n = index.count
    read = ArticleFiles.of(ids_d, files) if cache is not None else None
    if not n:
        return Grouping(SplitPlan(spec), [], 0, 0, read)
    digests = np.concatenate(ids_d)
    split = np.concatenate(own)  # the story key's split
    recorded = np.concatenate(kept)
    del ids_d, own, kept
    _check_recorded_splits(recorded, spec, records, folder)

    # Components: explicit groups (one node per story key) joined by near-duplicate pairs.
    _, group = np.unique(np.concatenate(keys_d), return_inverse=True)
    del keys_d
    pairs = index.near_pairs(threshold)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for i, j, _, _ in pairs:
        a, b = find(int(group[i])), find(int(group[j]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    root = np.arange(int(group.max()) + 1)
    for g in list(parent):
        root[g] = find(g)
    component = root[group]
    del group, root
    touched = np.unique(component[np.array([i for i, _, _, _ in pairs], dtype=np.int64)])

    # A component's split: its recorded articles' split, else its smallest story key's.
    target = np.zeros(component.max() + 1, dtype=np.uint8)
    target[component] = split  # one story key: every member has that key's split
    members = np.flatnonzero(np.isin(component, touched))
    lines = _lines(folder / _KEYS, members)
    names = {int(k): lines[int(k)][0] for k in members}
    smallest: dict[int, str] = {}
    for k in members.tolist():
        c, key = int(component[k]), lines[k][1]
        if c not in smallest or key < smallest[c]:
            smallest[c] = key
    for c, key in smallest.items():
        target[c] = _code(spec.assign(key))
    held = np.flatnonzero(recorded != _NONE)
    _check_conflicts(held, component, recorded, records, folder, touched)
    target[component[held]] = recorded[held]

    moved = np.flatnonzero(target[component] != split)
    order = np.argsort(digests[moved])
    plan = SplitPlan(spec, digests[moved][order], target[component[moved]][order])

    by_component: dict[int, list[int]] = {}
    for k in members.tolist():
        by_component.setdefault(int(component[k]), []).append(k)
    edges: dict[int, list[tuple[str, str, float, bool]]] = {}
    for i, j, sim, exact in pairs:
        first_id, second_id = sorted((names[i], names[j]))
        edges.setdefault(int(component[i]), []).append((first_id, second_id, round(sim, 4), exact))
    clusters = []
    for c, ks in by_component.items():
        rec = [k for k in ks if recorded[k] != _NONE]
        first = min(rec, key=lambda k: names[k]) if rec else None
        clusters.append(
            Cluster(
                members=tuple(sorted(names[k] for k in ks)),
                pairs=tuple(sorted(edges[c])),
                key=smallest[c],
                split=SPLIT_NAMES[int(target[c])],
                released=records.version_of(names[first]) if first is not None else None,
            )
        )
    clusters.sort(key=lambda cl: cl.members)
    return Grouping(plan, clusters, n, int(moved.size), read)


def _lines(path: Path, wanted: Iterable[int]) -> dict[int, tuple[str, str]]:
    """Lines ``wanted`` (indexes) of the story keys file, as ``(id, key)``."""
    want = set(int(k) for k in wanted)
    out: dict[int, tuple[str, str]] = {}
    if not want:
        return out
    last = max(want)
    with path.open("rb") as f:
        for k, line in enumerate(f):
            if k in want:
                i, key = json.loads(line)
                out[k] = (i, key)
            if k >= last:
                break
    return out


def _check_recorded_splits(
    recorded: NDArray[np.uint8], spec: SplitSpec, records: RecordedSplits, folder: Path
) -> None:
    """Every recorded split of an article present is a split of this build."""
    allowed = np.zeros(256, dtype=bool)
    allowed[[_code(name) for name, _ in spec.shares]] = True
    allowed[_NONE] = True
    bad = np.flatnonzero(~allowed[recorded])
    if not bad.size:
        return
    lines = _lines(folder / _KEYS, bad)
    article, split = min((lines[int(k)][0], SPLIT_NAMES[int(recorded[k])]) for k in bad)
    version = records.version_of(article)
    raise UsageError(
        Problem(
            f"article {article} was released in the {split} split, which this build does not have",
            file=str(records.folder),
            article=article,
            expected=f"the splits of {version} (a released article keeps its split)",
            found=", ".join(name for name, _ in spec.shares),
            fix=f"build with --splits naming every split of {version}, or release a new major "
            "version with new splits",
        )
    )


def _check_conflicts(
    held: NDArray[np.int64],
    component: NDArray[np.int64],
    recorded: NDArray[np.uint8],
    records: RecordedSplits,
    folder: Path,
    touched: NDArray[Any],
) -> None:
    """Raise naming every cluster that holds recorded articles of two splits."""
    comp = component[held]
    splits_of: dict[int, set[int]] = {}
    for c, s in zip(comp.tolist(), recorded[held].tolist(), strict=True):
        splits_of.setdefault(c, set()).add(s)
    bad = {c for c, s in splits_of.items() if len(s) > 1}
    if not bad:
        return
    rows = held[np.isin(comp, list(bad))]
    lines = _lines(folder / _KEYS, rows)
    near = set(touched.tolist())
    problems = []
    for c in sorted(bad, key=lambda c: min(lines[k][0] for k in rows if component[k] == c)):
        mine = sorted((lines[int(k)][0], int(recorded[k])) for k in rows if component[k] == c)
        (a, sa), (b, sb) = mine[0], next(x for x in mine if x[1] != mine[0][1])
        va, vb = records.version_of(a), records.version_of(b)
        how = (
            "near-duplicate texts join them"
            if c in near
            else f'they have the group "{lines[int(rows[component[rows] == c][0])][1]}"'
        )
        problems.append(
            Problem(
                f"released articles of two splits would share one split ({how})",
                file=str(records.folder),
                article=a,
                expected="the articles of a cluster (near-duplicates and their groups) in one "
                "split",
                found=f"{a} in {SPLIT_NAMES[sa]} (released in {va}), "
                f"{b} in {SPLIT_NAMES[sb]} (released in {vb})",
                fix=f'give them different "group"s (articles/{a}.json, articles/{b}.json) and '
                "drop any near-duplicate text that joins them, or release a new major version "
                "with new splits",
            )
        )
    raise InvalidDataError(problems)


def describe_clusters(clusters: Sequence[Cluster], unreleased: Iterable[str] = ()) -> str:
    """The card's paragraph and table of the clusters; empty when there is none (a release
    without near-duplicates reads as it did before clusters existed)."""
    if not clusters:
        return ""
    out = set(unreleased)
    marked = False

    def name(article: str) -> str:
        nonlocal marked
        if article in out:
            marked = True
            return f"{article}*"
        return article

    rows = []
    for n, cl in enumerate(clusters, start=1):
        origin = (
            f"released in {cl.released}"
            if cl.released
            else "story key " + cl.key.replace("|", "\\|").replace("\n", " ")
        )
        rows.append(
            [
                n,
                cl.split,
                origin,
                ", ".join(name(m) for m in cl.members),
                ", ".join(
                    f"{name(a)} ~ {name(b)} " + ("identical" if same else f"{s:.2f}")
                    for a, b, s, same in cl.pairs
                ),
            ]
        )
    table = markdown_table(
        ["cluster", "split", "split from", "articles", "near-duplicate pairs (estimated Jaccard)"],
        rows,
    )
    note = "\n\n\\* not in this release (no usable annotation)." if marked else ""
    return (
        f"Near-duplicates share a split. Before the build, every article of `articles/` is "
        "compared by the MinHash comparison above, and the pairs at or above the threshold are "
        "joined, transitively and with their explicit `group`s, into clusters; a cluster takes "
        "the split its released articles were released in, or else the split of its smallest "
        f"story key. {len(clusters)} cluster(s) of two or more articles:\n\n{table}{note}\n"
    )
