"""The build: read articles → read exports → merge → validate → split → write a release.

Each step is a function of the previous one's output; nothing reaches back. The build streams:
tasks are read as byte slices (:mod:`builder.io.jsonarray`), parsed, merged and turned into rows
in batches, and the rows are appended to one Parquet file per config and split in row groups of a
fixed size (:class:`builder.release.writer.SplitWriter`). The whole-corpus steps (leakage check,
card counts, agreement, baselines) work from per-batch aggregates (:mod:`builder.pipeline.corpus`).
Memory holds a few batches, one row group per file, bounded aggregates and ~10 bytes per annotated
article (an 8-byte digest of its id, to refuse an article annotated twice, and its split for the
leakage report), plus the Parquet writers' metadata (~0.9 KB per column chunk); never the tasks or
the documents. The release notes (:func:`builder.release.diff.release_notes`) give a first
release's totals as the build counted them, and diff against an earlier release in the same
folder by streaming both, with a ~250-byte summary per article of the earlier one and an 8-byte
digest per article of the new one.

With ``jobs > 1`` the batches are processed in worker processes and their results consumed in
input order, so the release is byte-identical whatever ``jobs`` and the batch size are:

- rows keep the input order: export files in the order given (files of a folder sorted by path),
  tasks in the order of each file; each split holds its rows in that order;
- a row group always holds exactly ``row_group_size`` rows (by default a fixed number per config,
  :data:`builder.release.writer.ROW_GROUP_ROWS`; the last one the rest), however the rows arrived;
- errors are reported for the first bad task in input order, as a plain sequential reader would.

With a ``cache_dir``, a task whose bytes, article files, cleaning rules, scheme mapping, options
and code are those of an earlier build takes its result from there (:mod:`builder.pipeline.cache`)
instead of being parsed and merged; the release is the same bytes.
"""

from __future__ import annotations

import gc
import os
import signal
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa

from ..contracts.features import CONFIGS
from ..core.ids import IdSet, id_digest, missing
from ..core.merge import MergeStats, merge
from ..core.quarantine import Quarantined
from ..core.splits import SplitSpec
from ..core.views import split_tables
from ..errors import ClaimwireError, InvalidDataError, Problem, UsageError
from ..io.articles import (
    RULES_FILE,
    CleaningRules,
    is_safe_article_id,
    load_stored_rules,
    read_stored_article,
)
from ..io.exports import (
    RawTask,
    TaskRecord,
    export_files,
    in_source,
    parse_task,
    place,
    read_tasks,
    unknown_article,
)
from ..io.snapshots import DEFAULT_SAME_ARTICLE, Selection
from ..io.storage import ArticleStore
from ..io.task_articles import allows_task_articles, task_article
from ..records import Article, Document
from ..release.diff import release_notes
from ..release.writer import (
    Background,
    SplitWriter,
    Staging,
    json_bytes,
    release_dir,
    write_checksums,
)
from . import cache as task_cache
from . import engines
from .attribution import is_open, write_attribution
from .card import render_card
from .clusters import SplitPlan, group_articles
from .corpus import BatchCorpus, Corpus
from .croissant import croissant
from .quarantine import ON_INVALID, QuarantineFile, whole_task
from .result import BuildResult

if TYPE_CHECKING:
    from ..contracts.scheme import Scheme

BATCH_TASKS = 64  # tasks per unit of work: big enough to amortise the hand-over to a worker
# ... on a Dask cluster, where each batch costs a round trip to the scheduler and back: 10,000
# tasks on 2 workers built in 11.0 s with batches of 64 and 9.3 s with 256 (local: 7.3 s)
BATCH_TASKS_DASK = 256

# progress(tasks done, export bytes done, export bytes in total)
Progress = Callable[[int, int, int], None]


# --- one batch of tasks → rows (runs in a worker process when jobs > 1) ---------------------


@dataclass(frozen=True)
class _Context:
    articles: ArticleStore
    rules: dict[str, CleaningRules]
    n_articles: int
    splits: SplitSpec
    quarantine: bool = False  # --on-invalid quarantine
    scheme: Scheme | None = None  # a team's labeling config -> the canonical scheme
    exclude: frozenset[str] = frozenset()  # article ids left out, with their tasks
    plan: SplitPlan | None = None  # near-duplicates and released articles (pipeline.clusters)
    exclude_uncleared: bool = False  # articles made from tasks: leave out the uncleared ones
    cache: task_cache.Reader | None = None  # per-task results of earlier builds
    files: task_cache.ArticleFiles | None = None  # ... the article files the pre-pass read


@dataclass
class _Outcome:
    """What became of one task. ``early`` errors come before the duplicate-article check."""

    file: str
    task: int | None
    base: str
    article: str | None
    document: bool = False
    error: ClaimwireError | None = None
    early: bool = False


@dataclass
class _Batch:
    outcomes: list[_Outcome]
    tables: dict[tuple[str, str], pa.Table]
    counts: dict[str, Counter[str]]
    corpus: BatchCorpus  # what the whole-corpus steps need (aggregates, signatures)
    stats: MergeStats
    quarantined: list[Quarantined] = field(default_factory=list)  # units set aside, in order
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)  # by the scheme mapping
    # tasks whose article has no file and was made from the task (builder.io.task_articles):
    # read, and left out by exclude_uncleared
    task_articles: Counter[str] = field(default_factory=Counter)
    # ids of the articles made from their tasks that gave a document (ATTRIBUTION.md)
    from_tasks: list[str] = field(default_factory=list)
    # for the cache: (key, blob key, entry) of the tasks processed here, the blob of their
    # rows (key, bytes), keys of the tasks found there
    cached: list[tuple[bytes, bytes | None, bytes]] = field(default_factory=list)
    blob: tuple[bytes, bytes] | None = None
    hits: int = 0  # tasks taken from the cache
    used_blobs: set[bytes] = field(default_factory=set)  # ... the blobs of their rows
    used_entries: list[bytes] = field(default_factory=list)  # ... those without rows

    # From a worker to the main process the tables travel as Arrow IPC streams: written in a
    # fifth of the time pickle takes, and read back without a copy.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["tables"] = {key: _ipc(table) for key, table in self.tables.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["tables"] = {
            key: pa.ipc.open_stream(data).read_all() for key, data in state["tables"].items()
        }
        self.__dict__.update(state)


def _ipc(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


_context: _Context | None = None


def _init(context: _Context, worker: bool) -> None:
    global _context
    _context = context
    if worker:  # Ctrl-C is the parent's to handle: it stops the pool and removes the staging dir
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _article(task: TaskRecord, ctx: _Context) -> Article:
    """The task's article: its file in the articles folder, else, when the scheme mapping
    allows it, the task's own text (:mod:`builder.io.task_articles`; ``from_task`` set)."""
    name = f"{task.article_id}.json"
    if (
        not is_safe_article_id(task.article_id)
        or name == RULES_FILE
        or not ctx.articles.is_file(name)
    ):
        if ctx.scheme is not None and allows_task_articles(ctx.scheme):
            return task_article(task, ctx.scheme)
        raise InvalidDataError(unknown_article(task, ctx.n_articles, ctx.scheme))
    return read_stored_article(ctx.articles, task.article_id, ctx.rules)


def _read_ahead(store: ArticleStore, tasks: list[TaskRecord]) -> None:
    """Ask the kernel to read the batch's article files into the page cache in the background
    (``posix_fadvise(WILLNEED)``), while the tasks before them are merged. When the articles do
    not fit in the cache (a corpus larger than memory, or a first build), each read waits on the
    disk, and a worker reading one file at a time spent a third of its time waiting. Nothing is
    read here and nothing is kept: the merge reads the files, with every check, as before; with
    a warm cache this costs three system calls a file."""
    if not hasattr(os, "posix_fadvise") or not store.is_local:  # then the reads just wait
        return
    folder = store.path
    for task in tasks:
        if not is_safe_article_id(task.article_id):
            continue
        for path in (folder / f"{task.article_id}.json", folder / f"{task.article_id}.txt"):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue  # the merge reports it
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
            except OSError:
                pass  # advice only
            finally:
                os.close(fd)


def _process(items: list[RawTask | ClaimwireError]) -> _Batch:
    """Parse, check, merge and turn into rows every task of a batch, stopping at the first error
    (the build stops there; what follows it in the batch would never be written)."""
    ctx = _context
    assert ctx is not None
    rows: list[dict[str, Any]] = []  # documents rows of ``docs``, and their splits
    docs: list[Document] = []
    splits: list[str] = []
    batch = _Batch([], {}, {}, BatchCorpus([n for n, _ in ctx.splits.shares]), MergeStats())
    gc_was_on = gc.isenabled()
    gc.disable()  # parsing allocates millions of acyclic objects: collecting finds nothing
    try:
        # Parse the batch first (up to a bad task), so its article files can be read ahead.
        tasks: list[TaskRecord] = []
        stop: _Outcome | None = None  # a task that does not parse: the end of the batch
        keys, hits, blobs = _lookup(items, ctx)
        key_of: dict[int, bytes] = {}  # id(task) -> its key in the cache
        for i, item in enumerate(items):
            if isinstance(item, ClaimwireError):
                stop = _Outcome("", None, "", None, error=item, early=True)
                break
            if i in hits:  # its cached result stands in for the task
                tasks.append(cast("TaskRecord", _Hit(hits[i], item, keys[i])))
                continue
            try:
                tasks.append(parse_task(item, ctx.scheme))
                if keys:
                    key_of[id(tasks[-1])] = keys[i]
            except ClaimwireError as exc:
                stop = _Outcome(item.file, None, "", None, error=exc, early=True)
                break
        if ctx.exclude:
            tasks = [t for t in tasks if t.article_id not in ctx.exclude]
        _read_ahead(ctx.articles, [t for t in tasks if isinstance(t, TaskRecord)])
        for task in tasks:
            for control, label, n in task.dropped:
                batch.dropped[(control, label)] += n
        slots: list[task_cache.Cached | None] = []  # per document: its cached rows, or None
        fresh: list[_Fresh] = []  # tasks processed here whose result is to be cached
        for task in tasks:
            if isinstance(task, _Hit):
                _replay(task, ctx, batch, slots, splits)
                continue
            keep = _Fresh.of(task, key_of, ctx)
            outcome = _Outcome(task.file, task.id, task.base, task.article_id)
            try:
                article = _article(task, ctx)
            except ClaimwireError as exc:
                batch.outcomes.append(outcome)
                outcome.error, outcome.early = exc, True
                break
            if article.from_task:
                if ctx.exclude_uncleared and not is_open(article.meta.license):
                    batch.task_articles["left out"] += 1
                    if keep is not None:
                        keep.made = task_cache.LEFT_OUT
                        fresh.append(keep)
                    continue  # as if the task were not in the exports
                batch.task_articles["read"] += 1
            batch.outcomes.append(outcome)
            try:
                held: list[Quarantined] | None = [] if ctx.quarantine else None
                try:
                    mine = keep.stats if keep is not None else batch.stats
                    doc = merge(article, task, mine, quarantine=held)
                except InvalidDataError as exc:
                    if held is None:
                        raise
                    # what cannot be split into units (a task that cannot be anchored, a
                    # text_sha256 mismatch): the whole task is set aside
                    doc, held = None, [whole_task(p, task) for p in exc.problems[:1]]
                if held:
                    held = [_as_exported(u, task) for u in held]
                    batch.quarantined.extend(held)
                    batch.corpus.stats.quarantine(held)
                # not checked against schema/documents.schema.json here: rows come from checked
                # inputs through one function, and `verify` checks every row of a release
                row = doc.to_row() if doc is not None else None
            except ClaimwireError as exc:
                outcome.error = in_source(exc, task)
                break
            if keep is not None:
                batch.stats.update(keep.stats)
                if not held:  # a unit set aside is placed in the export: not cached
                    keep.made = task_cache.READ if article.from_task else 0
                    keep.doc, keep.slot, keep.index = doc, len(slots), len(docs)
                    fresh.append(keep)
            if doc is None:
                continue
            outcome.document = True
            if doc.article.from_task:
                batch.from_tasks.append(doc.article.id)
            split = (
                ctx.plan.split_of(doc.article)
                if ctx.plan is not None
                else ctx.splits.assign(doc.article.group_key)
            )
            batch.corpus.add(doc, split)
            counts = batch.counts.setdefault(split, Counter())
            counts.update(documents=1, entities=len(doc.entities), claims=len(doc.claims))
            docs.append(doc)
            rows.append(cast("dict[str, Any]", row))
            splits.append(split)
            slots.append(None)
        else:
            if stop is not None:
                batch.outcomes.append(stop)
        if ctx.cache is None:
            batch.tables = split_tables(docs, rows, splits)
        else:
            batch.tables, blob, ranges = task_cache.tables(slots, splits, docs, rows, blobs)
    finally:
        if gc_was_on:
            gc.enable()
    batch.corpus.finish()
    if ctx.cache is not None:
        batch.blob = blob.encode() if blob is not None and fresh else None
        blob_key = batch.blob[0] if batch.blob is not None else b""
        batch.cached = [f.entry(batch, blob_key, ranges) for f in fresh]
    return batch


# --- the per-task cache (builder.pipeline.cache) ----------------------------------------------


def _lookup(
    items: list[RawTask | ClaimwireError], ctx: _Context
) -> tuple[list[bytes], dict[int, task_cache.Entry], dict[bytes, task_cache.Blob]]:
    """The keys of the batch's tasks up to its first error, the results found for them and
    the blobs of their rows."""
    if ctx.cache is None:
        return [], {}, {}
    raws: list[RawTask] = []
    for item in items:
        if isinstance(item, ClaimwireError):
            break
        raws.append(item)
    return ctx.cache.lookup(raws, ctx.files)


@dataclass(frozen=True)
class _Hit:
    """A task whose result was cached, in place of its parsed record."""

    entry: task_cache.Entry
    raw: RawTask
    key: bytes

    @property
    def article_id(self) -> str:
        return self.entry.article_id

    @property
    def dropped(self) -> tuple[tuple[str, str, int], ...]:
        return self.entry.dropped


def _replay(
    hit: _Hit,
    ctx: _Context,
    batch: _Batch,
    slots: list[task_cache.Cached | None],
    splits: list[str],
) -> None:
    """Add a cached task's result to the batch, as processing the task would."""
    e, raw = hit.entry, hit.raw
    batch.hits += 1
    if e.document is not None:
        batch.used_blobs.add(e.document.blob)
    else:
        batch.used_entries.append(hit.key)
    batch.stats.update(e.merge_stats())
    if e.made == task_cache.LEFT_OUT:
        batch.task_articles["left out"] += 1
        return
    if e.made == task_cache.READ:
        batch.task_articles["read"] += 1
    base = f"/{raw.index}" if raw.index >= 0 else ""
    batch.outcomes.append(_Outcome(raw.file, e.task, base, e.article_id, e.document is not None))
    d = e.document
    if d is None:
        return
    if e.made == task_cache.READ:
        batch.from_tasks.append(e.article_id)
    split = (
        ctx.plan.split_of(e.stub())
        if ctx.plan is not None
        else ctx.splits.assign(d.group or e.article_id)
    )
    batch.corpus.add_cached(
        e.article_id, split, d.sha256, d.signature, task_cache.agreement(d.agreement)
    )
    task_cache.add_stats(batch.corpus.stats, d.stats, split)
    counts = batch.counts.setdefault(split, Counter())
    counts.update(documents=1, entities=d.entities, claims=d.claims)
    slots.append(d)
    splits.append(split)


@dataclass
class _Fresh:
    """A task processed in this batch, whose result is to be cached."""

    key: bytes
    task: TaskRecord
    digest: bytes  # of its article's files, read before the article
    stats: MergeStats = field(default_factory=MergeStats)  # its own
    made: int = 0
    doc: Document | None = None
    slot: int = -1  # its place among the batch's documents
    index: int = -1  # ... among those processed here

    @classmethod
    def of(cls, task: TaskRecord, key_of: dict[int, bytes], ctx: _Context) -> _Fresh | None:
        if ctx.cache is None:
            return None
        digest = task_cache.article_digest(ctx.articles, task.article_id)
        return cls(key_of[id(task)], task, digest) if digest is not None else None

    def entry(
        self, batch: _Batch, blob: bytes, ranges: list[tuple[int, ...]]
    ) -> tuple[bytes, bytes | None, bytes]:
        assert batch.corpus.signatures is not None
        doc = None
        if self.doc is not None:
            doc = task_cache.cached_document(
                self.doc, batch.corpus.signatures[self.slot], blob, ranges[self.index]
            )
        value = task_cache.entry(
            self.digest,
            self.task.id,
            self.task.article_id,
            self.made,
            self.task.dropped,
            self.stats,
            doc,
        )
        return self.key, blob if doc is not None else None, value


# --- the pipeline ---------------------------------------------------------------------------


def _batches(
    items: Iterator[RawTask | ClaimwireError], size: int
) -> Iterator[tuple[list[RawTask | ClaimwireError], int]]:
    batch: list[RawTask | ClaimwireError] = []
    nbytes = 0
    for item in items:
        batch.append(item)
        if isinstance(item, RawTask):
            nbytes += len(item.data)
        if len(batch) >= size or isinstance(item, ClaimwireError):
            yield batch, nbytes
            batch, nbytes = [], 0
    if batch:
        yield batch, nbytes


def _run(
    batches: Iterator[tuple[list[RawTask | ClaimwireError], int]],
    context: _Context,
    jobs: int,
    engine: str = "local",
    address: str | None = None,
) -> Generator[tuple[_Batch, int], None, None]:
    """Results of :func:`_process` in input order, with at most two batches per worker in
    flight, from the ``engine`` (:mod:`builder.pipeline.engines`)."""
    if engine == "dask":  # (its paths made absolute by build())
        return engines.dask(batches, _process, _init, context, jobs, address)
    return engines.local(batches, _process, _init, context, jobs)


def _article_ids(store: ArticleStore) -> Iterator[str]:
    """Ids of the articles in ``store`` (their metadata file names), in no particular order.

    Listed again when needed rather than kept: a million ids are ~70 MB."""
    return (name[:-5] for name in store.names() if name != RULES_FILE)


def _statement(recorded: Path | None, version: str) -> str | None:
    """The maintainers' words on this version (``releases/<version>.md``), if written."""
    path = recorded / f"{version}.md" if recorded is not None else None
    return path.read_text(encoding="utf-8").strip() if path is not None and path.is_file() else None


def _as_exported(unit: Quarantined, task: TaskRecord) -> Quarantined:
    """``unit`` with its pointer, line and column in the export as written (a task read through
    a scheme mapping may have had results dropped)."""
    if unit.pointer is None or all(t.origin is None for t in (task, *task.pooled)):
        return unit
    (p,) = in_source(
        InvalidDataError(Problem(unit.rule, file=unit.file, pointer=unit.pointer)), task
    ).problems
    return replace(unit, pointer=p.pointer, line=p.line, column=p.column)


def _duplicate(
    exports: list[Path], outcome: _Outcome, scheme: Scheme | None
) -> InvalidDataError | None:
    """The error for an article annotated twice. The first task is found again by reading the
    exports (an error path), so the build keeps only a digest per article; None when that first
    task is this one (two ids with the same digest: not a duplicate)."""
    first = next(t for t in read_tasks(exports, scheme) if t.article_id == outcome.article)
    if (first.file, first.base) == (outcome.file, outcome.base):
        return None
    return InvalidDataError(
        place(
            Problem(
                f"article is annotated in two tasks (also {first.file}, task {first.id})",
                file=outcome.file,
                task=outcome.task,
                article=outcome.article,
                pointer=outcome.base,
                fix="delete the duplicate task in Label Studio, or keep one export",
            )
        )
    )


def build(
    articles_dir: Path | str,
    exports: list[Path],
    out: Path,
    version: str,
    splits: SplitSpec | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    batch_tasks: int | None = None,
    row_group_size: int | None = None,
    on_invalid: str = "fail",
    scheme: Scheme | None = None,
    exclude: Collection[str] = (),
    recorded: Path | None = None,
    same_article: str = DEFAULT_SAME_ARTICLE,
    exclude_uncleared: bool = False,
    cache_dir: Path | None = None,
    cache_max_mb: int = task_cache.MAX_MB,
    engine: str = "local",
    address: str | None = None,
) -> BuildResult:
    """Build ``out/claimwire-<version>`` from ``articles_dir`` and Label Studio ``exports``.
    ``articles_dir`` is a folder or an fsspec URL of one (``s3://bucket/articles``,
    ``file:///abs/path``): every worker reads the articles there (:class:`ArticleStore`).

    ``jobs`` worker processes share the work (1: all in this process); the release is the same
    for any ``jobs`` and ``batch_tasks`` (tasks per unit of work; None: :data:`BATCH_TASKS`,
    :data:`BATCH_TASKS_DASK` with ``engine="dask"``). Interrupted or failed builds leave nothing
    behind.

    ``on_invalid``: ``"fail"`` stops at the first task with a problem; ``"quarantine"`` releases
    what is consistent and writes every unit set aside to ``quarantine.jsonl`` in the release.

    ``exclude``: ids of articles left out of the release as if absent from ``articles_dir``;
    their tasks are parsed (a broken export still stops the build) but not merged.

    ``recorded``: a folder of ``<version>.splits.tsv`` records (``releases/``): the articles
    they list keep their recorded split (:mod:`builder.pipeline.clusters`); None: no record.

    ``same_article``: ``"pool"`` adjudicates the annotations of two annotated tasks of one
    article together, ``"refuse"`` stops at the second (:mod:`builder.io.snapshots`, which also
    reads only the latest state of each task).

    ``exclude_uncleared``: leave out the articles made from their tasks (a scheme mapping with
    ``defaults``: :mod:`builder.io.task_articles`) whose licence is not cleared for
    redistribution, with their tasks; those of ``articles_dir`` are left out by ``exclude``.

    ``cache_dir``: a folder of per-task results (:mod:`builder.pipeline.cache`), read and
    updated, its entries kept under ``cache_max_mb`` megabytes; None: no cache.
    ``engine``: where the batches run (:mod:`builder.pipeline.engines`): ``"local"``, or
    ``"dask"`` on the Dask cluster at ``address`` (None: ``jobs`` worker processes started on
    this machine). Every worker reads the articles at ``articles_dir`` (a local path made
    absolute: a worker started elsewhere has its own working folder; on several machines, a
    URL all of them can read). The release is the same whatever the engine.
    """
    if engine not in engines.ENGINES:
        raise UsageError(
            Problem(f"unknown engine {engine!r}", expected=" or ".join(engines.ENGINES))
        )
    if on_invalid not in ON_INVALID:
        raise UsageError(
            Problem(f"unknown on_invalid {on_invalid!r}", expected=" or ".join(ON_INVALID))
        )
    articles = ArticleStore(articles_dir)
    if engine == "dask":  # the workers read these: a worker started elsewhere has its own cwd
        articles = articles.absolute()
        cache_dir = cache_dir.absolute() if cache_dir is not None else None
    splits = splits or SplitSpec()
    exports = list(exports)  # read more than once
    final = release_dir(out, version)
    rules = load_stored_rules(articles)
    left_out = frozenset(exclude)
    n_articles = sum(1 for i in _article_ids(articles) if i not in left_out)
    names = [name for name, _ in splits.shares]
    context = _Context(
        articles,
        rules,
        n_articles,
        splits,
        on_invalid == "quarantine",
        scheme,
        left_out,
        exclude_uncleared=exclude_uncleared,
    )
    cache = None
    if cache_dir is not None:
        code = task_cache.code_version()
        prefix = task_cache.settings(
            articles, scheme, context.quarantine, exclude_uncleared, code=code
        )
        cache = task_cache.TaskCache(
            cache_dir,
            cache_max_mb << 20,
            prefix,
            articles,
            task_cache.article_settings(articles, code),
        )
        context = replace(context, cache=cache.reader)
    total_bytes = sum(f.stat().st_size for p in exports if p.exists() for f in export_files(p))
    stats = MergeStats()
    dropped: Counter[tuple[str, str]] = Counter()  # regions the scheme mapping dropped
    task_articles: Counter[str] = Counter()  # articles made from their tasks: read, left out
    from_tasks: set[str] = set()  # ... the ids of those released
    counts: dict[str, Counter[str]] = {
        name: Counter(documents=0, entities=0, claims=0) for name, _ in splits.shares
    }
    seen = IdSet()  # digests of the article ids of every task so far
    without = IdSet()  # ... of those whose task gave no document (skipped, cancelled)
    tasks = done_bytes = 0
    # (the Parquet writes run in a thread while the batches are taken in: every write is done
    # when the writers close, before the checksums, and the thread stops before a failed
    # build's staging folder is removed)
    with task_cache.opened(cache), Staging(final) as staging, Background() as background:
        # near-duplicates (and released articles) first: each cluster gets one split
        grouping = group_articles(
            articles,
            rules,
            splits,
            staging.path / ".clusters",
            version,
            recorded,
            jobs,
            left_out,
            cache=cache,
        )
        context = replace(context, plan=grouping.plan, files=grouping.files)
        corpus = Corpus(names, staging.path / ".leakage")
        quarantine = QuarantineFile(staging.path) if on_invalid == "quarantine" else None
        writers = {
            (config, split): SplitWriter(staging.path, config, split, row_group_size, background)
            for split, _ in splits.shares
            for config in CONFIGS
        }
        # the latest state of each task, one task per article (builder.io.snapshots)
        selection = Selection(exports, scheme, same_article)
        items = iter(selection)
        size = batch_tasks or (BATCH_TASKS_DASK if engine == "dask" else BATCH_TASKS)
        with (
            closing(_run(_batches(items, size), context, jobs, engine, address)) as results,
            closing(corpus.leakage),  # its files, open while batches are added
        ):
            for batch, nbytes in results:
                if cache is not None:  # first: what a batch computed stays, whatever follows
                    cache.store(
                        batch.cached, batch.blob, batch.hits, batch.used_blobs, batch.used_entries
                    )
                digests = [
                    id_digest(o.article) if o.article is not None else 0 for o in batch.outcomes
                ]
                fresh: set[int] = set()  # the batch's articles, added to ``seen`` at its end
                known = seen.contains(digests).tolist()
                for outcome, digest, was in zip(batch.outcomes, digests, known, strict=True):
                    if outcome.error is not None and outcome.early:
                        raise outcome.error
                    assert outcome.article is not None
                    if (was or digest in fresh) and (
                        error := _duplicate(exports, outcome, scheme)
                    ) is not None:
                        raise error
                    if outcome.error is not None:
                        raise outcome.error
                    fresh.add(digest)
                    if not outcome.document:
                        without.add(digest)
                seen.update(fresh)
                for key, table in batch.tables.items():
                    writers[key].add(table)
                for split, c in batch.counts.items():
                    counts[split].update(c)
                corpus.add(batch.corpus, batch.tables)
                stats.update(batch.stats)
                dropped.update(batch.dropped)
                task_articles.update(batch.task_articles)
                from_tasks.update(batch.from_tasks)
                if quarantine is not None:
                    quarantine.write(batch.quarantined)
                tasks += len(batch.outcomes)
                done_bytes += nbytes
                if progress is not None:
                    progress(tasks, done_bytes, total_bytes)
        if not corpus.stats.documents:
            raise InvalidDataError(
                Problem(
                    "no article has a usable annotation: every task is unannotated or skipped",
                    file=str(exports[0]) if exports else None,
                    pointer="",
                    fix="annotate at least one task in Label Studio and pull again",
                )
            )
        # Whole-corpus steps, from the aggregates: near-duplicates across splits (signatures
        # on disk in the staging folder, removed before the release is checksummed), then the
        # card's counts, agreement and baselines.
        try:
            leakage = corpus.leakage.check()
        finally:
            corpus.leakage.remove()
        tables = [t for w in writers.values() if (t := w.close()) is not None]
        listed = (i for i in _article_ids(articles) if i not in left_out)
        unannotated = sorted(missing(listed, seen, without))
        for article_id in unannotated:  # every article must be valid, annotated or not
            read_stored_article(articles, article_id, rules)
        result = BuildResult(
            path=final,
            version=version,
            tables=tables,
            articles=n_articles,
            unannotated=unannotated,
            stats=stats,
            counts=counts,
            tasks=tasks,
            quarantined=corpus.stats.quarantined,
            dropped=dropped,
            selection=selection.stats,
            task_articles=task_articles["read"],
            task_articles_left_out=task_articles["left out"],
            cached=cache.hits if cache is not None else 0,
            cache_problem=cache.problem if cache is not None else None,
        )
        written = sum(counts.values(), Counter())
        notes = release_notes(
            out,
            version,
            staging.path,
            (written["documents"], written["entities"], written["claims"]),
            statement=_statement(recorded, version),
        )
        (staging.path / "README.md").write_text(
            render_card(
                result, corpus, splits, leakage=leakage, notes=notes, clusters=grouping.clusters
            ),
            encoding="utf-8",
        )
        if quarantine is not None:
            quarantine.close()
        write_attribution(staging.path, from_tasks=frozenset(from_tasks))
        (staging.path / "croissant.json").write_bytes(
            json_bytes(croissant(result, sorted(corpus.stats.sources)))
        )
        write_checksums(staging.path)
        result.created = staging.publish()
    return result
