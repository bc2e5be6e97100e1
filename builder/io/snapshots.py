"""Which tasks of the exports the build reads: the latest state of each task, one task per article.

Label Studio exports are snapshots of a project. ``claimwire ls pull`` after ``claimwire ls
pull`` leaves every state of a project side by side in ``annotations/exports/``, a fresh server
(``make ls-serve`` in a fresh clone) holds new, still unannotated tasks for articles the shipped
export already annotates, and an article may sit in two projects or be imported twice into one.
:class:`Selection` turns the export files into the stream of tasks the build reads:

1. **A task's latest state wins.** A task is ``(project, id, created_at)``, from the task's own
   fields. A snapshot names no server, but ``created_at`` (to the microsecond, set once by the
   server that holds the task) tells apart two servers' tasks with the same project and task
   id: a fresh server numbers both from 1 again. A task missing one of the three is never
   superseded. Of the states of one task, the one in the latest snapshot is read and the others
   are left out. A snapshot's time is the later of the time in its file name (``claimwire ls
   pull`` writes ``<project>-YYYYMMDDTHHMMSSZ.json``, UTC; Label Studio's own export names are
   ``project-N-at-YYYY-MM-DD-HH-MM-<hash>.json``) and the latest ``updated_at`` or
   ``created_at`` of a task or an annotation in it: the name says when the snapshot was taken
   (a deleted annotation leaves no later time inside), the content covers a file that was
   renamed. Equal times: the file later in input order (files of a folder sorted by path, which
   for ``ls pull`` names is by time). Older snapshots need not be deleted.
2. **A task with no annotation never collides.** A task whose annotations are all skipped (or
   that has none) is left out when its article has an annotated task; of several unannotated
   tasks of one article, the first is read (it adds the article to nothing, only to the count of
   tasks without annotation).
3. **Two annotated tasks of one article** (two projects, a re-import) are **pooled** (default,
   ``same_article="pool"``): the first in input order is read with the others attached
   (:attr:`RawTask.pooled <builder.io.exports.RawTask>`), and the merge re-anchors each on the
   article and adjudicates all their annotations together, like the annotations of one task
   with several annotators (an annotator is the Label Studio user id: the same id in two
   projects of one server is one person, who votes once, with the most recent annotation). With
   ``same_article="refuse"`` the second annotated task is an error, at its place in the input.

Rows keep the input order; a pooled article is where its first annotated task is.

Cost: the exports are read twice: the first read cuts the arrays into tasks, the second takes
each task's bytes where the first found them (no second cut). With one export file, the first
read only looks for the article id key in each task's bytes (a JSON string holds no bare quote,
so ``"article_id":`` is a key wherever it occurs) and parses only the tasks of articles met
twice; with several files, every task is parsed once more in this process, for its identity,
annotations and times. Held per task: two 16-byte BLAKE2b digests (article id; task identity),
its offset, length and file, and a flag (~45 bytes); digests this long are taken as the ids
themselves (a collision among a billion tasks has a chance of ~1e-21).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from ..errors import ClaimwireError, InvalidDataError, Problem, UsageError
from .exports import RawTask, export_files, place, raw_tasks

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..contracts.scheme import Scheme

SAME_ARTICLE = ("pool", "refuse")  # what two annotated tasks of one article become
DEFAULT_SAME_ARTICLE = "pool"

_NONE = bytes(16)  # no digest: no article id / no identity
_UNKNOWN, _NO, _YES = 2, 0, 1  # is the task annotated
# `claimwire ls pull`: <slug>-20261202T051940Z.json (UTC);
# Label Studio: project-1-at-2026-12-02-05-19-ab12cd34.json
_PULLED = re.compile(r"-(\d{8}T\d{6})Z\.json$")
_LS_EXPORT = re.compile(r"^project-\d+-at-(\d{4}-\d{2}-\d{2}-\d{2}-\d{2})-[0-9a-f]+\.json$")
_EPOCH, _MICRO = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)
_VALUE = re.compile(rb'\s*:\s*"([^"\\]*)"')  # a string value without escapes


@dataclass
class SelectionStats:
    """What the selection left out (the build's summary prints it)."""

    tasks: int = 0  # tasks in the exports
    superseded: int = 0  # older states of a task that a later snapshot holds
    unannotated: int = 0  # tasks without annotation beside another task of their article
    pooled: int = 0  # tasks whose annotations were pooled into another task of their article

    @property
    def summary(self) -> str:
        return (
            f"{self.tasks} task(s) in the exports: {self.superseded} older state(s) of a task "
            f"in a later snapshot, {self.unannotated} without annotation beside another task "
            f"of their article, {self.pooled} pooled into another task of their article"
        )


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _micros(stamp: Any) -> int:
    """An ISO 8601 time as microseconds since the epoch (naive: UTC); 0 if it is none."""
    if not isinstance(stamp, str) or not stamp:
        return 0
    try:
        t = datetime.fromisoformat(stamp)
    except ValueError:
        return 0
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return (t - _EPOCH) // _MICRO


def name_time(name: str) -> int:
    """The time a snapshot's file name gives (``claimwire ls pull``'s or Label Studio's), in
    microseconds since the epoch; 0 when the name has none."""
    if m := _PULLED.search(name):
        t = datetime.strptime(m.group(1), "%Y%m%dT%H%M%S")
    elif m := _LS_EXPORT.match(name):
        t = datetime.strptime(m.group(1), "%Y-%m-%d-%H-%M")
    else:
        return 0
    return (t.replace(tzinfo=UTC) - _EPOCH) // _MICRO


@dataclass(frozen=True)
class TaskFacts:
    """What the selection needs of one parsed task."""

    article: str | None
    identity: tuple[Any, Any, str] | None  # (project, id, created_at)
    annotated: bool
    time: int  # latest updated_at / created_at of the task and its annotations (µs)
    task_id: int | None


def task_facts(task: Any, article_key: str | None = "article_id") -> TaskFacts:
    """:class:`TaskFacts` of a parsed task; tolerant: what is malformed is left for the reader
    to report."""
    if not isinstance(task, dict):
        return TaskFacts(None, None, False, 0, None)
    data = task.get("data")
    article = data.get(article_key) if isinstance(data, dict) and article_key else None
    project, task_id, created = task.get("project"), task.get("id"), task.get("created_at")
    identity = None
    if (
        isinstance(task_id, int)
        and isinstance(created, str)
        and created
        and isinstance(project, (int, str))
        and not isinstance(project, bool)
    ):
        identity = (project, task_id, created)
    annotations = task.get("annotations")
    if annotations is None:
        annotations = task.get("completions")  # the legacy format
    annotated, time = False, max(_micros(task.get("updated_at")), _micros(created))
    if isinstance(annotations, list):
        for a in annotations:
            if isinstance(a, dict):
                annotated = annotated or not a.get("was_cancelled", False)
                time = max(time, _micros(a.get("updated_at")), _micros(a.get("created_at")))
    return TaskFacts(
        article if isinstance(article, str) else None,
        identity,
        annotated,
        time,
        task_id if isinstance(task_id, int) and not isinstance(task_id, bool) else None,
    )


class Selection:
    """The tasks of ``exports`` the build reads (see the module docstring), as
    :func:`builder.io.exports.raw_tasks` gives them: unparsed, errors in place. Iterate it once
    per read; :attr:`stats` is filled by the first pass (made on creation)."""

    def __init__(
        self,
        exports: list[Path],
        scheme: Scheme | None = None,
        same_article: str = DEFAULT_SAME_ARTICLE,
    ) -> None:
        if same_article not in SAME_ARTICLE:
            raise UsageError(
                Problem(
                    f"unknown same_article {same_article!r}", expected=" or ".join(SAME_ARTICLE)
                )
            )
        self.exports = list(exports)
        self.same_article = same_article
        key = "article_id" if scheme is None else scheme.data.get("article_id")
        self._key = key
        self._needle = orjson.dumps(key) if key else None
        self.stats = SelectionStats()
        # what becomes of the tasks that are not read as they are, by position in the input
        self._drop: set[int] = set()
        self._pool: dict[int, list[int]] = {}  # first annotated task -> the others
        self._refuse: dict[int, int] = {}  # second annotated task -> the first
        self._files: list[str] = []
        self._errors: dict[int, ClaimwireError] = {}  # the problems of the input, in place
        self._plan()

    # --- the first read: facts of every task, then the decisions --------------------------

    def _plan(self) -> None:
        files = list(itertools.islice((f for p in self.exports for f in export_files(p)), 2))
        full = len(files) > 1  # several files: snapshots may hold states of one task
        articles, identities = bytearray(), bytearray()
        annotated = bytearray()
        offsets: array[int] = array("q")
        lengths: array[int] = array("q")
        file_of: array[int] = array("l")
        file_time: list[int] = []
        indices: array[int] = array("q")
        for item in self._items():
            if isinstance(item, ClaimwireError):
                facts: TaskFacts | None = None
                article: bytes | None = None
                self._errors[len(offsets)] = item
                offsets.append(-1)
                lengths.append(0)
                indices.append(-1)
                file_of.append(max(len(self._files) - 1, 0))
            else:
                if not self._files or self._files[-1] != item.file:
                    self._files.append(item.file)
                    file_time.append(name_time(Path(item.file).name))
                offsets.append(item.offset)
                lengths.append(len(item.data))
                indices.append(item.index)
                file_of.append(len(self._files) - 1)
                facts, article = None, None
                if not full:
                    article = self._fast_article(item.data)
                if full or (article is None and self._needle is not None):
                    facts = self._facts(item.data)
            if facts is not None:
                article = facts.article.encode("utf-8") if facts.article is not None else b""
                f = file_of[-1]
                file_time[f] = max(file_time[f], facts.time)
            articles += _digest(article) if article else _NONE
            identity = facts.identity if facts is not None else None
            identities += _digest(orjson.dumps(identity)) if identity else _NONE
            annotated.append(_UNKNOWN if facts is None else _YES if facts.annotated else _NO)
        n = len(offsets)
        self.stats.tasks = sum(1 for o in offsets if o >= 0)
        self._offsets, self._lengths, self._indices = offsets, lengths, indices
        self._file_of = np.frombuffer(file_of, dtype=np.dtype(file_of.typecode)).astype(np.int64)
        if n < 2:
            return
        alive = np.ones(n, dtype=bool)
        art = np.frombuffer(bytes(articles), dtype="<u8").reshape(-1, 2)
        ident = np.frombuffer(bytes(identities), dtype="<u8").reshape(-1, 2)
        flags = np.frombuffer(bytes(annotated), dtype=np.uint8).copy()
        if not full:  # parse the tasks of articles met twice: their identity and annotations
            ident = ident.copy()
            for pos in (int(p) for g in _runs(art, alive) for p in g):
                if flags[pos] == _UNKNOWN:
                    facts = self._facts(self._read(pos))
                    flags[pos] = _YES if facts.annotated else _NO
                    if facts.identity is not None:
                        d = _digest(orjson.dumps(facts.identity))
                        ident[pos] = np.frombuffer(d, dtype="<u8")
        # 1. the latest state of each task
        times = np.asarray(file_time, dtype=np.int64)[self._file_of]
        for group in _runs(ident, alive, times):
            older = group[:-1]  # the runs are sorted by snapshot time, then position
            alive[older] = False
            self._drop.update(int(p) for p in older)
            self.stats.superseded += len(older)
        # 2. and 3. one task per article
        for group in _runs(art, alive):
            members = [int(p) for p in group]
            for pos in members:
                if flags[pos] == _UNKNOWN:
                    flags[pos] = _YES if self._facts(self._read(pos)).annotated else _NO
            done = [p for p in members if flags[p] == _YES]
            rest = [p for p in members if flags[p] != _YES]
            if not done:
                rest = rest[1:]  # the first unannotated one stays
            self._drop.update(rest)
            self.stats.unannotated += len(rest)
            if len(done) > 1:
                if self.same_article == "pool":
                    self._pool[done[0]] = done[1:]
                    self._drop.update(done[1:])
                    self.stats.pooled += len(done) - 1
                else:
                    self._refuse[done[1]] = done[0]
                    self._drop.update(done[2:])  # one error is enough: the build stops there

    def _items(self) -> Iterator[RawTask | ClaimwireError]:
        for path in self.exports:
            yield from raw_tasks(path)

    def _fast_article(self, data: bytes) -> bytes | None:
        """The article id's bytes when the key occurs once with a plain string value (no
        escapes: then the bytes are its UTF-8); None: parse the task to know."""
        if self._needle is None:
            return None
        at = data.find(self._needle)
        if at < 0 or data.find(self._needle, at + 1) >= 0:
            return None
        m = _VALUE.match(data, at + len(self._needle))
        return m.group(1) if m else None

    def _facts(self, data: bytes) -> TaskFacts:
        try:
            task = orjson.loads(data)
        except orjson.JSONDecodeError:
            return TaskFacts(None, None, False, 0, None)  # the reader reports it, in place
        return task_facts(task, self._key)

    def _read(self, pos: int) -> bytes:
        """The bytes of the task at ``pos``, read again from its file."""
        file = Path(self._files[int(self._file_of[pos])])
        if self._indices[pos] < 0:  # a per-task file, as the reader takes it
            data = file.read_bytes()
            return data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        with file.open("rb") as f:
            f.seek(self._offsets[pos])
            return f.read(self._lengths[pos])

    def _raw(self, pos: int) -> RawTask:
        return RawTask(
            self._files[int(self._file_of[pos])],
            self._indices[pos],
            self._offsets[pos],
            self._read(pos),
        )

    # --- the second read: the stream ------------------------------------------------------

    def _again(self) -> Iterator[RawTask | ClaimwireError]:
        """What :meth:`_items` gave, from where the first read found it: each task's bytes
        read at its offset (the array is not cut again: that is most of a read's CPU). An
        export that can no longer be read is an error in its place, and the last item."""
        pos, n = 0, len(self._offsets)
        name = ""
        try:
            while pos < n:
                name = self._files[int(self._file_of[pos])] if self._files else ""
                if (error := self._errors.get(pos)) is not None:
                    yield error
                    pos += 1
                elif self._indices[pos] < 0:  # a per-task file
                    yield self._raw(pos)
                    pos += 1
                else:  # the tasks of one array, in order
                    f = int(self._file_of[pos])
                    with Path(name).open("rb") as handle:
                        while (
                            pos < n
                            and self._indices[pos] >= 0
                            and pos not in self._errors
                            and self._file_of[pos] == f
                        ):
                            handle.seek(self._offsets[pos])
                            data = handle.read(self._lengths[pos])
                            yield RawTask(name, self._indices[pos], self._offsets[pos], data)
                            pos += 1
        except OSError as exc:
            yield InvalidDataError(
                Problem(
                    f"the export could not be read again: {exc.strerror or exc}",
                    file=name,
                    expected="the export files unchanged while a build reads them",
                    fix="leave the exports in place until the build ends, then build again",
                )
            )

    def __iter__(self) -> Iterator[RawTask | ClaimwireError]:
        for pos, item in enumerate(self._again()):
            if pos in self._refuse:
                yield self._refused(pos, self._refuse[pos])
            elif pos in self._drop:
                continue
            elif pos in self._pool and isinstance(item, RawTask):
                yield replace(item, pooled=tuple(self._raw(p) for p in self._pool[pos]))
            else:
                yield item

    def _refused(self, pos: int, first: int) -> InvalidDataError:
        this, other = self._raw(pos), self._raw(first)
        facts, first_facts = self._facts(this.data), self._facts(other.data)
        base = f"/{this.index}" if this.index >= 0 else ""
        return InvalidDataError(
            place(
                Problem(
                    f"article is annotated in two tasks (also {other.file}, task "
                    f"{first_facts.task_id})",
                    file=this.file,
                    task=facts.task_id,
                    article=facts.article,
                    pointer=base,
                    fix="delete the duplicate task in Label Studio, or keep one export; "
                    "`claimwire build --same-article pool` (the default) adjudicates the "
                    "annotations of both tasks together",
                )
            )
        )


def _runs(
    digests: NDArray[np.uint64], alive: NDArray[np.bool_], times: NDArray[np.int64] | None = None
) -> Iterator[NDArray[np.int64]]:
    """Positions of the live tasks that share a digest (not the empty one), two or more, each
    group sorted by ``times`` and then position (by position alone without ``times``)."""
    live = alive & ((digests[:, 0] | digests[:, 1]) != 0)
    pos = np.flatnonzero(live)
    if pos.size < 2:
        return
    d = digests[pos]
    keys: tuple[Any, ...] = (pos,) if times is None else (pos, times[pos])
    order = np.lexsort((*keys, d[:, 1], d[:, 0]))
    d, pos = d[order], pos[order]
    change = np.ones(pos.size, dtype=bool)
    change[1:] = np.any(d[1:] != d[:-1], axis=1)
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], pos.size)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        if b - a > 1:
            yield pos[a:b]
