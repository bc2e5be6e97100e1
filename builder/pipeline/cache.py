"""Rebuild only what changed: a content-addressed cache of per-task results.

A team pulls a new snapshot and builds a new version; most tasks have not changed. The build
keeps what each task gave — its rows in every config, its share of the whole-corpus aggregates,
its merge fixes — in a cache folder outside the release, and a later build takes a task's result
from there instead of parsing, checking and merging it again.

Key (:func:`task_key`): the task's bytes as exported (with those of the tasks pooled with it,
:mod:`builder.io.snapshots`) and a digest of everything else a task's result depends on, made once
per build (:func:`settings`): the code (every file of the ``builder`` package and the JSON
Schemas, the package's version, Python's and the libraries' versions), the cleaning rules
(``sources.json``), the scheme mapping, the options that change a task's result (``on_invalid``,
``exclude_uncleared``) and the environment the merge reads (the pseudonym salt and the
adjudication policy). The article is checked at lookup: an entry holds the digest of the
article files it was made from (:func:`article_digest`: ``<id>.json`` and ``<id>.txt``, or their
absence), and an entry whose article changed is a miss. The split is not in the key: it is
assigned after, from the split plan, so a new plan, new shares or a new recorded release reuse
every entry.

Value (:class:`Entry`): the task's id, article id and outcome, the regions the scheme mapping
dropped, its :class:`~builder.core.merge.MergeStats`, and for a document its rows of every config
as Arrow record batches (IPC messages without their schema, read back without a copy), its
leakage signature and text digest, its card counts and its agreement data. A cached task costs
its key, its article files' digest, a lookup and reading those messages back: no JSON is parsed,
no article is cleaned, no view is made. Not kept: a task that failed (errors are never cached:
the task is processed again and reports its problem), and a task that had units quarantined
(a unit records its line and column in the export, which the key does not hold).

The near-duplicate pre-pass (:mod:`builder.pipeline.clusters`) reads, checks and signs every
article before the tasks: it keeps what it made of each article (:class:`Signed`: story key,
MinHash row, text digest) under a key of the article's id, its files' digest, the cleaning rules
and the code (:func:`article_settings`), so a warm build reads the article files but parses,
cleans and signs none of them again.

Storage: ``tasks.sqlite`` in the cache folder (SQLite in WAL mode). Workers read; the main
process alone writes, as the batches are consumed, one transaction per ~1,000 entries stored or
used or per tenth of a second, so a build killed at any point leaves every committed entry whole
and nothing half-written (and loses at most the last tenth of a second's entries). Entries are
stored in groups: the entries of a batch's documents share the blob of their rows, the articles
of a pre-pass batch share a group, and a build marks a group used, not each entry (a row written
per entry found cost ~40 us, a transaction per batch ~1 ms: together a fifth of the main process
of a warm build). The entries' bytes are kept under a cap: past it the groups least recently
used (by build) are deleted with their entries; an entry whose group a build used stays, even if
that build did not use it itself, until its group goes. A cache of another layout
(``PRAGMA user_version``) is emptied and made anew.
"""

from __future__ import annotations

import importlib.metadata
import os
import pickle
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import xxhash
from numpy.typing import NDArray

from ..contracts.features import CONFIGS, arrow_schema
from ..contracts.schemas import SCHEMA_DIR
from ..contracts.scheme import Scheme
from ..core.adjudicate import POLICY_ENV
from ..core.ids import id_digest
from ..core.merge import SALT_ENV, MergeStats
from ..core.views import Views
from ..errors import Problem, UsageError
from ..io.articles import RULES_FILE, is_safe_article_id
from ..io.exports import RawTask
from ..io.storage import ArticleStore, read_file
from ..quality.agreement import DocAgreement
from ..records import Article, ArticleMeta, Document, SpanCount, UnitLabel
from .corpus import CorpusStats

DIR_NAME = ".claimwire-cache"  # default: beside the output folder (``dist/``)
DB_FILE = "tasks.sqlite"
MAX_MB = 2048  # default cap on the entries' bytes (~10 GB holds 250,000 tasks of bench/generate)
FORMAT = b"claimwire-task-cache 2"  # the layout of an entry: changed, every entry misses
SCHEMA = 2  # the tables' layout (PRAGMA user_version): another one is dropped and made anew
_LIBRARIES = ("claimwire", "pyarrow", "numpy", "orjson", "jsonschema-rs", "rapidfuzz", "xxhash")
_BUSY_MS = 30_000  # how long a connection waits for another build's transaction
_FLUSH_ENTRIES, _FLUSH_SECONDS = 1024, 0.1  # a transaction at most this often

LEFT_OUT, READ = 1, 2  # Entry.made: an article made from the task, left out or read


def _digest(*parts: bytes) -> bytes:
    h = xxhash.xxh3_128()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.digest()


def code_version() -> bytes:
    """A digest of the code that makes a task's result: every file of the package (sources,
    and compiled modules should there be any) and of ``schema/``, and the versions of Python
    and of the libraries the per-task steps use. Read once per build (~100 small files)."""
    h = xxhash.xxh3_128(FORMAT)
    h.update(sys.version.encode())
    for name in _LIBRARIES:
        try:
            h.update(f"{name}={importlib.metadata.version(name)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{name}=-\n".encode())
    package = Path(__file__).resolve().parents[1]
    for root in (package, SCHEMA_DIR):
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
        for p in files:
            h.update(_digest(p.relative_to(root).as_posix().encode(), p.read_bytes()))
    return h.digest()


def settings(
    articles_dir: ArticleStore,
    scheme: Scheme | None,
    quarantine: bool,
    exclude_uncleared: bool,
    code: bytes | None = None,
) -> bytes:
    """The part of every key that is the same for every task of a build."""
    return _digest(
        code if code is not None else code_version(),
        articles_dir.read_bytes(RULES_FILE) if articles_dir.is_file(RULES_FILE) else b"-",
        repr(scheme).encode() if scheme is not None else b"-",  # every field, file name aside
        b"quarantine" if quarantine else b"fail",
        b"exclude_uncleared" if exclude_uncleared else b"include",
        os.environ.get(SALT_ENV, "\x00").encode(),
        os.environ.get(POLICY_ENV, "\x00").encode(),
    )


def task_key(prefix: bytes, raw: RawTask) -> bytes:
    """A task's key: the build's settings and the bytes of the task and of those pooled with
    it (their place in the export is not part of it)."""
    return _digest(prefix, raw.data, *(p.data for p in raw.pooled))


def article_settings(articles_dir: ArticleStore, code: bytes) -> bytes:
    """The part of every article entry's key that is the same for a build: the code and the
    cleaning rules (what reading and signing an article depends on, besides its files)."""
    rules = articles_dir.read_bytes(RULES_FILE) if articles_dir.is_file(RULES_FILE) else b"-"
    return _digest(b"article", code, rules)


def article_digest(folder: ArticleStore, article_id: str) -> bytes | None:
    """The digest of an article's files (``-`` for an article that has none: one made from its
    task, or an error); None when a file cannot be read (never cached)."""
    if not is_safe_article_id(article_id) or f"{article_id}.json" == RULES_FILE:
        return b"-"
    read = read_file if folder.is_local else folder.read_bytes
    base = os.path.join(folder.location, article_id) if folder.is_local else article_id
    meta = _get(read, base + ".json")
    if meta is None or meta is _UNREADABLE:
        return b"-" if meta is None else None
    raw = _get(read, base + ".txt")
    if raw is _UNREADABLE:
        return None
    return _digest(meta) if raw is None else _digest(meta, raw)


_UNREADABLE = b"\x00unreadable"


def _get(read: Callable[[str], bytes], name: str) -> bytes | None:
    """``read(name)`` (None: no such file; _UNREADABLE: it cannot be read)."""
    try:
        return read(name)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError:
        return _UNREADABLE


# --- what one task gave ---------------------------------------------------------------------


# Named tuples, not dataclasses: an entry is unpickled for every task found, and a tuple is
# rebuilt in C (a frozen dataclass through Python: ~10 us more a task).


class Cached(NamedTuple):
    """A document's part of a cached result."""

    group: str | None  # the article's story key (with its id, all the split plan needs)
    stats: tuple[Any, ...]  # its CorpusStats, split aside (:func:`flat_stats`)
    sha256: bytes
    signature: bytes  # MinHash row (uint32)
    agreement: tuple[Any, ...] | None  # DocAgreement as plain tuples (unpickled 5x faster)
    entities: int
    claims: int
    blob: bytes  # the key of the Blob holding its rows
    rows: tuple[int, ...]  # per config: its first row in the blob and its number of rows


class Entry(NamedTuple):
    """What one task gave, as kept in the cache (pickled)."""

    article: bytes  # article_digest when it was made
    task: int
    article_id: str
    made: int  # 0, or LEFT_OUT / READ for an article made from the task
    dropped: tuple[tuple[str, str, int], ...]
    fixes: tuple[tuple[str, int], ...]
    cancelled: int
    reanchored: int
    carried: int
    document: Cached | None

    def merge_stats(self) -> MergeStats:
        return MergeStats(dict(self.fixes), self.cancelled, self.reanchored, self.carried)

    def stub(self) -> Article:
        """An article standing in for the document's, for the split plan (id and story key)."""
        assert self.document is not None
        return Article(
            self.article_id, "", ArticleMeta("", "", "", "", group=self.document.group), ""
        )


def entry(
    digest: bytes,
    task: int,
    article_id: str,
    made: int,
    dropped: tuple[tuple[str, str, int], ...],
    stats: MergeStats,
    document: Cached | None,
) -> bytes:
    return pickle.dumps(
        Entry(
            digest,
            task,
            article_id,
            made,
            dropped,
            tuple(stats.fixes.items()),
            stats.cancelled,
            stats.reanchored,
            stats.carried,
            document,
        ),
        pickle.HIGHEST_PROTOCOL,
    )


def flat_stats(doc: Document) -> tuple[Any, ...]:
    """A document's :class:`CorpusStats` without its split, field by field (split-keyed
    counters: the counter alone; counters as dicts, sets as tuples), key order kept."""
    s = CorpusStats()
    s.add(doc, "")
    out: list[Any] = []
    for f in fields(CorpusStats):
        v = getattr(s, f.name)
        if isinstance(v, Counter):
            out.append(dict(v))
        elif isinstance(v, dict):
            out.append(dict(v[""]))
        elif isinstance(v, set):
            out.append(tuple(v))
        else:
            out.append(v)
    return tuple(out)


def add_stats(stats: CorpusStats, flat: tuple[Any, ...], split: str) -> None:
    """Add to ``stats`` a document in ``split`` kept by :func:`flat_stats`, as
    :meth:`CorpusStats.update` adds a document's own stats."""
    for name, v in zip(_STATS_FIELDS, flat, strict=True):
        current = getattr(stats, name)
        if isinstance(current, Counter):
            current.update(v)
        elif isinstance(current, dict):
            current.setdefault(split, Counter()).update(v)
        elif isinstance(current, set):
            current.update(v)
        else:
            setattr(stats, name, current + v)


_STATS_FIELDS = tuple(f.name for f in fields(CorpusStats))


def tables(
    slots: Sequence[Cached | None],
    splits: Sequence[str],
    docs: Sequence[Document],
    rows: Sequence[dict[str, Any]],
    blobs: dict[bytes, Blob],
) -> tuple[dict[tuple[str, str], pa.Table], Blob | None, list[tuple[int, ...]]]:
    """The batch's table per (config, split), rows in document order, from its documents in
    order: a cached one's rows (``slots``, in ``blobs``) or, for None, the next of ``docs``
    (``rows``: their documents rows), whose views are made here. Also the blob of ``docs`` to
    cache (None without docs), and the rows of each of ``docs`` in it (:attr:`Cached.rows`).
    Each table is one compact chunk (what leaves a worker is read in one piece)."""
    fresh: Blob | None = None
    ranges: list[list[int]] = [[] for _ in docs]
    if docs:
        views = Views(docs, rows)
        fresh = Blob(tuple(views.table(config) for config in CONFIGS))
        for config in CONFIGS:
            offsets = views.row_offsets(config).tolist()
            for k in range(len(docs)):
                ranges[k] += (offsets[k], offsets[k + 1] - offsets[k])
    out: dict[tuple[str, str], pa.Table] = {}
    for c, config in enumerate(CONFIGS):
        # per split: runs of consecutive rows of one source (a blob, or this batch's own
        # tables), sliced without a copy and copied once into the table
        runs: dict[str, list[list[Any]]] = {}
        k = 0
        for slot, split in zip(slots, splits, strict=True):
            if slot is None:
                assert fresh is not None
                source, lo, n = fresh, ranges[k][2 * c], ranges[k][2 * c + 1]
                k += 1
            else:
                source, lo, n = blobs[slot.blob], slot.rows[2 * c], slot.rows[2 * c + 1]
            if not n:
                continue
            mine = runs.setdefault(split, [])
            last = mine[-1] if mine else None
            if last is not None and last[0] is source and last[1] + last[2] == lo:
                last[2] += n
            else:
                mine.append([source, lo, n])
        for split, parts in runs.items():
            pieces = [source.tables[c].slice(lo, n) for source, lo, n in parts]
            out[(config, split)] = pa.concat_tables(pieces).combine_chunks()
    return out, fresh, [tuple(r) for r in ranges]


@dataclass(frozen=True)
class Blob:
    """The rows of the documents of a batch processed together, per config: what
    :attr:`Cached.rows` points into. Kept once for all of them (an Arrow message of one
    table costs what one document's does: ~45 us each, and 1 us a document as one)."""

    tables: tuple[pa.Table, ...]  # per config

    def encode(self) -> tuple[bytes, bytes]:
        """Its key and its bytes (one IPC message per config, without the schema)."""
        messages = [_message(t) for t in self.tables]
        data = b"".join(len(m).to_bytes(8, "little") + m for m in messages)
        return _digest(data), data

    @classmethod
    def decode(cls, data: bytes) -> Blob:
        out: list[pa.Table] = []
        view, at = memoryview(data), 0
        for config in CONFIGS:
            n = int.from_bytes(view[at : at + 8], "little")
            batch = pa.ipc.read_record_batch(
                pa.py_buffer(view[at + 8 : at + 8 + n]), arrow_schema(config)
            )
            out.append(pa.Table.from_batches([batch]))
            at += 8 + n
        return cls(tuple(out))


def _message(table: pa.Table) -> bytes:
    batch = table.combine_chunks().to_batches()
    if not batch:
        batch = [pa.RecordBatch.from_pylist([], schema=table.schema)]
    data: bytes = batch[0].serialize().to_pybytes()
    return data


def _plain(d: DocAgreement) -> tuple[Any, ...]:
    return (
        d.id,
        d.n_annotators,
        d.agreement,
        tuple(tuple(getattr(s, f) for f in _SPAN) for s in d.spans),
        tuple(tuple(getattr(u, f) for f in _LABEL) for u in d.labels),
    )


_SPAN = tuple(f.name for f in fields(SpanCount))
_LABEL = tuple(f.name for f in fields(UnitLabel))


def agreement(plain: tuple[Any, ...] | None) -> DocAgreement | None:
    """The :class:`DocAgreement` kept as plain tuples by :func:`cached_document`."""
    if plain is None:
        return None
    doc_id, n, value, spans, labels = plain
    return DocAgreement(
        doc_id, n, value, tuple(SpanCount(*t) for t in spans), tuple(UnitLabel(*t) for t in labels)
    )


def cached_document(doc: Document, signature: Any, blob: bytes, rows: tuple[int, ...]) -> Cached:
    """What a document of a task gives the batch, split aside."""
    a = doc.annotation
    return Cached(
        doc.article.meta.group,
        flat_stats(doc),
        bytes.fromhex(doc.text_sha256),
        np.ascontiguousarray(signature, dtype=np.uint32).tobytes(),
        # as BatchCorpus.add keeps it
        _plain(DocAgreement.from_document(doc)) if a.spans or a.labels else None,
        len(doc.entities),
        len(doc.claims),
        blob,
        rows,
    )


@dataclass(frozen=True, slots=True)
class Signed:
    """What the near-duplicate pre-pass (:mod:`builder.pipeline.clusters`) keeps of an article
    read, checked and signed: its story key, its MinHash row and its text's digest."""

    key: str
    signature: bytes  # uint32 x BINS
    sha256: bytes

    def encode(self) -> bytes:
        return (
            self.sha256
            + len(self.signature).to_bytes(4, "little")
            + self.signature
            + (self.key.encode("utf-8"))
        )

    @classmethod
    def decode(cls, data: bytes) -> Signed:
        n = int.from_bytes(data[32:36], "little")
        return cls(data[36 + n :].decode("utf-8"), data[36 : 36 + n], data[:32])


@dataclass(frozen=True)
class ArticleFiles:
    """The digests of the article files (:func:`article_digest`) the pre-pass read, by article
    id: a task found in the cache is checked against them instead of reading its article's
    files again (~30 us a task). 24 bytes an article."""

    ids: NDArray[np.uint64]  # id_digest of each article id, sorted
    digests: NDArray[np.void]  # ... the digest of its files (16 bytes)

    @classmethod
    def of(cls, ids: Sequence[NDArray[np.uint64]], digests: Sequence[bytes]) -> ArticleFiles:
        """From the pre-pass's batches: id digests and their files' digests, in order."""
        keys = np.concatenate(ids) if ids else np.zeros(0, np.uint64)
        values = np.frombuffer(b"".join(digests), dtype="V16")
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], values[order])

    def get(self, article_id: str) -> bytes | None:
        """The digest of the article's files as the pre-pass read them; None if it did not."""
        key = np.uint64(id_digest(article_id))
        at = int(np.searchsorted(self.ids, key))
        if at < len(self.ids) and self.ids[at] == key:
            return bytes(self.digests[at])
        return None


# --- the store --------------------------------------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=_BUSY_MS / 1000, isolation_level=None)
    db.execute(f"PRAGMA busy_timeout={_BUSY_MS}")
    return db


def _broken(path: Path, exc: Exception) -> UsageError:
    return UsageError(
        Problem(
            f"the build cache cannot be used: {exc}",
            file=str(path),
            expected="a folder the build can write, holding the cache it made",
            fix=f"delete {path.parent} (it is rebuilt), give another --cache-dir, or build "
            "with --no-cache",
        )
    )


@dataclass
class Reader:
    """Looks tasks and articles up; picklable (a worker opens its own connection on first
    use)."""

    path: Path | None  # None: no cache yet, every task misses
    prefix: bytes
    articles_dir: ArticleStore
    article_prefix: bytes = b""

    def __post_init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def __getstate__(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "prefix": self.prefix,
            "articles_dir": self.articles_dir,
            "article_prefix": self.article_prefix,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def _conn(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():  # a forked worker: its own connection
            assert self.path is not None
            self._db = _connect(self.path)
            self._db.execute("PRAGMA query_only=1")
            self._pid = os.getpid()
        return self._db

    def _select(self, sql: str, keys: Sequence[bytes]) -> Iterator[tuple[Any, ...]]:
        """The rows of ``sql`` (``... IN ({marks})``) for ``keys``, 500 keys a query (SQLite
        takes 999 parameters at most)."""
        for i in range(0, len(keys), 500):
            some = keys[i : i + 500]
            yield from self._conn().execute(sql.format(marks=",".join("?" * len(some))), some)

    def lookup(
        self, items: Sequence[RawTask], files: ArticleFiles | None = None
    ) -> tuple[list[bytes], dict[int, Entry], dict[bytes, Blob]]:
        """The keys of ``items``, the entries found for them (by position) whose article files
        are those they were made from (as ``files`` has them, else read here), and the blobs
        holding their rows."""
        keys = [task_key(self.prefix, raw) for raw in items]
        if not keys or self.path is None:
            return keys, {}, {}
        found = dict(self._select("SELECT key, value FROM tasks WHERE key IN ({marks})", keys))
        hits: dict[int, Entry] = {}
        for i, key in enumerate(keys):
            value = found.get(key)
            if value is None:
                continue
            e: Entry = pickle.loads(value)
            digest = files.get(e.article_id) if files is not None else None
            if digest is None:
                digest = article_digest(self.articles_dir, e.article_id)
            if digest == e.article:
                hits[i] = e
        wanted = list({e.document.blob for e in hits.values() if e.document is not None})
        blobs = {
            key: Blob.decode(data)
            for key, data in self._select(
                "SELECT key, data FROM rows WHERE key IN ({marks})", wanted
            )
        }
        # an entry whose blob is gone (deleted by another build meanwhile) is a miss
        hits = {i: e for i, e in hits.items() if e.document is None or e.document.blob in blobs}
        return keys, hits, blobs

    def articles(
        self, ids: Sequence[str]
    ) -> tuple[list[bytes | None], list[bytes | None], dict[int, tuple[Signed, bytes]]]:
        """The digests of the files of the articles ``ids`` (:func:`article_digest`; None: one
        not to cache: no files, or unreadable), their keys, and the entries found for them (by
        position), with the group each belongs to."""
        keys: list[bytes | None] = []
        digests: list[bytes | None] = []
        for article_id in ids:
            digest = article_digest(self.articles_dir, article_id)
            if digest is None or digest == b"-":
                keys.append(None)
                digests.append(None)
            else:
                keys.append(_digest(self.article_prefix, article_id.encode(), digest))
                digests.append(digest)
        wanted = [k for k in keys if k is not None]
        if not wanted or self.path is None:
            return digests, keys, {}
        found = {
            key: (value, group)
            for key, value, group in self._select(
                "SELECT key, value, grp FROM articles WHERE key IN ({marks})", wanted
            )
        }
        hits: dict[int, tuple[Signed, bytes]] = {}
        for i, key in enumerate(keys):
            if key is not None and (row := found.get(key)) is not None:
                hits[i] = (Signed.decode(row[0]), row[1])
        return digests, keys, hits

    def close(self) -> None:
        if self._db is not None and self._pid == os.getpid():
            self._db.close()
        self._db = None


class _Unwritable(Exception):
    """The cache cannot be written here (a full disk, a read-only folder)."""


_TABLES = (
    # the value last: the other columns are read without its overflow pages
    "CREATE TABLE IF NOT EXISTS tasks (key BLOB PRIMARY KEY, size INTEGER NOT NULL, "
    "used INTEGER NOT NULL, blob BLOB, value BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS tasks_used ON tasks (used)",
    "CREATE INDEX IF NOT EXISTS tasks_blob ON tasks (blob)",
    # a group of entries stored together: the documents of a batch (whose rows are in
    # ``rows``), or a batch of articles of the pre-pass; entries are marked used by their group
    "CREATE TABLE IF NOT EXISTS blobs (key BLOB PRIMARY KEY, size INTEGER NOT NULL, "
    "used INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS blobs_used ON blobs (used)",
    # the rows of a group's documents, apart: marking a group used rewrites its row, and a row
    # holding the data rewrote it all (~1 MB a batch)
    "CREATE TABLE IF NOT EXISTS rows (key BLOB PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS articles (key BLOB PRIMARY KEY, size INTEGER NOT NULL, "
    "grp BLOB NOT NULL, value BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS articles_grp ON articles (grp)",
)


class TaskCache:
    """The cache folder, as the build's main process holds it: it alone writes."""

    def __init__(
        self,
        folder: Path,
        max_bytes: int,
        prefix: bytes,
        articles_dir: ArticleStore,
        article_prefix: bytes = b"",
    ) -> None:
        self.folder, self.path = folder, folder / DB_FILE
        self.max_bytes = max_bytes
        self.stamp = time.time_ns()  # entries used by this build
        self.db: sqlite3.Connection | None = None
        self.hits = 0  # tasks taken from the cache
        self._pending: list[tuple[str, Sequence[Any]]] = []  # statements not yet committed
        self._entries = 0  # ... the entries they store or mark
        self._last = time.monotonic()  # when they were last committed
        # why the cache stopped being written during this build (a full disk...): the build
        # goes on without it, its entries as the last whole transaction left them
        self.problem: str | None = None
        exists = self.path.is_file()
        if exists:
            try:
                self._open()
            except _Unwritable as exc:  # a full disk, a read-only folder: a build without it
                self.problem, exists = str(exc), False
        # nothing to find in a cache that does not exist yet: it is made on the first store
        self.reader = Reader(self.path if exists else None, prefix, articles_dir, article_prefix)

    def _open(self) -> sqlite3.Connection:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.db = db = _connect(self.path)
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the tables: freed pages go
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash loses the last commits
            (layout,) = db.execute("PRAGMA user_version").fetchone()
            if layout != SCHEMA:  # made by another version of claimwire: its entries go
                db.execute("BEGIN IMMEDIATE")
                for table in ("tasks", "blobs", "rows", "articles"):
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute(f"PRAGMA user_version={SCHEMA}")
                db.execute("COMMIT")
            for sql in _TABLES:
                db.execute(sql)
            self.evict()  # a cap lowered since the last build
        except (OSError, sqlite3.OperationalError) as exc:
            if self.db is not None:
                self.db.close()
                self.db = None
            raise _Unwritable(str(exc)) from None
        except sqlite3.Error as exc:  # not a database, or a damaged one
            raise _broken(self.path, exc) from None
        return db

    def _write(self, *statements: tuple[str, Sequence[Any]]) -> bool:
        """Run ``statements`` in one transaction (False: the cache cannot be written; the
        build goes on without it)."""
        if self.problem is not None:
            return False
        try:
            db = self.db if self.db is not None else self._open()
        except _Unwritable as exc:
            self.problem = str(exc)
            return False
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in statements:
                    if sql.startswith("INSERT"):
                        db.executemany(sql, rows)
                    else:
                        db.execute(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            self.problem = str(exc)
            self.db = None
            db.close()
            return False
        return True

    def _mark(self, table: str, keys: Sequence[bytes]) -> list[tuple[str, Sequence[Any]]]:
        """Statements marking ``keys`` of ``table`` used by this build (at most 500 a
        statement: SQLite takes 999 parameters at most)."""
        return [
            (
                f"UPDATE {table} SET used=? WHERE key IN ({','.join('?' * len(some))})",
                (self.stamp, *some),
            )
            for i in range(0, len(keys), 500)
            if (some := keys[i : i + 500])
        ]

    def store(
        self,
        new: Sequence[tuple[bytes, bytes | None, bytes]],
        blob: tuple[bytes, bytes] | None,
        hits: int = 0,
        used_blobs: Collection[bytes] = (),
        used_entries: Sequence[bytes] = (),
    ) -> None:
        """Add a batch's new entries (key, blob key, entry) and the blob of their rows, and
        mark used what gave its ``hits``: the blobs of their rows, the entries without rows
        (an entry is kept as long as its blob: marking a blob costs one row write for all
        its entries), in one transaction."""
        if not new and not hits:
            return
        statements = self._mark("blobs", list(used_blobs))
        statements += self._mark("tasks", used_entries)
        if blob is not None and new:
            statements.append(
                (
                    "INSERT OR IGNORE INTO blobs (key, size, used) VALUES (?,?,?)",
                    [(blob[0], len(blob[1]), self.stamp)],
                )
            )
            statements.append(
                ("INSERT OR IGNORE INTO rows (key, data) VALUES (?,?)", [(blob[0], blob[1])])
            )
            statements += self._mark("blobs", [blob[0]])  # ... already there: used now
        statements.append(
            (
                "INSERT OR REPLACE INTO tasks (key, size, used, blob, value) VALUES (?,?,?,?,?)",
                [(key, len(value), self.stamp, b, value) for key, b, value in new],
            )
        )
        self.hits += hits
        self._queue(statements, len(new) + hits)

    def store_articles(self, new: Sequence[tuple[bytes, bytes]], used: Sequence[bytes]) -> None:
        """Add a batch of the pre-pass's new article entries (key, :meth:`Signed.encode`) as
        one group, and mark used the groups of the entries it found (``used``)."""
        if not new and not used:
            return
        statements = self._mark("blobs", list(dict.fromkeys(used)))
        if new:
            group = _digest(b"articles", *(key for key, _ in new))
            statements.append(
                (
                    "INSERT OR IGNORE INTO blobs (key, size, used) VALUES (?,?,?)",
                    [(group, len(group), self.stamp)],
                )
            )
            statements += self._mark("blobs", [group])
            statements.append(
                (
                    "INSERT OR REPLACE INTO articles (key, size, grp, value) VALUES (?,?,?,?)",
                    [(key, len(key) + len(value), group, value) for key, value in new],
                )
            )
        self._queue(statements, len(new) + len(used))

    def _queue(self, statements: list[tuple[str, Sequence[Any]]], entries: int) -> None:
        """Keep ``statements`` for the next transaction: one per :data:`_FLUSH_ENTRIES` entries
        stored or used, or :data:`_FLUSH_SECONDS` (a transaction per batch cost ~1 ms: a tenth
        of a warm build's main process)."""
        self._pending += statements
        self._entries += entries
        if self._entries >= _FLUSH_ENTRIES or time.monotonic() - self._last >= _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Commit what :meth:`store` and :meth:`store_articles` kept."""
        if self._pending:
            self._write(*self._pending)
        self._pending, self._entries, self._last = [], 0, time.monotonic()

    def size(self) -> int:
        """The bytes of the entries, of the blobs and of the article entries."""
        db = self.db
        assert db is not None
        (size,) = db.execute(
            "SELECT (SELECT coalesce(sum(size), 0) FROM tasks)"
            " + (SELECT coalesce(sum(size), 0) FROM blobs)"
            " + (SELECT coalesce(sum(size), 0) FROM articles)"
        ).fetchone()
        return int(size)

    def evict(self) -> None:
        """Delete the groups least recently used (a build's own last, the first it stored
        first) with their entries, and the entries without a group likewise, until the rest
        fit in 90% of the cap."""
        db = self.db
        assert db is not None
        size = self.size()
        if size <= self.max_bytes:
            return
        excess = size - self.max_bytes * 9 // 10
        # (used, kind, rowid, key, bytes): a group with its entries, or an entry without one
        candidates = [
            (used, 0, rowid, key, int(n))
            for rowid, key, used, n in db.execute(
                "SELECT b.rowid, b.key, b.used, b.size"
                " + coalesce((SELECT sum(t.size) FROM tasks t WHERE t.blob = b.key), 0)"
                " + coalesce((SELECT sum(a.size) FROM articles a WHERE a.grp = b.key), 0)"
                " FROM blobs b"
            )
        ]
        candidates += [
            (used, 1, rowid, key, int(n))
            for rowid, key, used, n in db.execute(
                "SELECT rowid, key, used, size FROM tasks WHERE blob IS NULL"
            )
        ]
        candidates.sort()
        groups: list[bytes] = []
        loose: list[bytes] = []
        for _, kind, _, key, n in candidates:
            if excess <= 0:
                break
            (loose if kind else groups).append(key)
            excess -= n
        db.execute("BEGIN IMMEDIATE")
        for i in range(0, len(groups), 500):
            some = groups[i : i + 500]
            marks = ",".join("?" * len(some))
            db.execute(f"DELETE FROM tasks WHERE blob IN ({marks})", some)
            db.execute(f"DELETE FROM articles WHERE grp IN ({marks})", some)
            db.execute(f"DELETE FROM rows WHERE key IN ({marks})", some)
            db.execute(f"DELETE FROM blobs WHERE key IN ({marks})", some)
        for i in range(0, len(loose), 500):
            some = loose[i : i + 500]
            db.execute(f"DELETE FROM tasks WHERE key IN ({','.join('?' * len(some))})", some)
        db.execute("COMMIT")

    def close(self) -> None:
        """Keep the entries under the cap (checked at the end of a build, not during it: an
        entry evicted while a build reads the export in order would be one it needs later)."""
        self.reader.close()
        self.flush()
        db = self.db
        if db is None:
            return
        try:
            self.evict()
            db.execute("PRAGMA incremental_vacuum")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass  # another build reads: the next one checkpoints
        db.close()


@contextmanager
def opened(cache: TaskCache | None) -> Iterator[TaskCache | None]:
    try:
        yield cache
    finally:
        if cache is not None:
            cache.close()
