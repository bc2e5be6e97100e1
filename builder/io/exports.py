"""Read Label Studio exports into plain task records.

Accepted: the JSON export (a snapshot or a direct export: a JSON array of tasks), the legacy
pre-1.0 format (``completions`` instead of ``annotations``), and a folder of per-task JSON files
as Label Studio's export storage writes them. JSON_MIN, CSV, TSV and CONLL exports are refused:
they drop relations, skipped annotations and per-region stance, so a release built from them would
silently lose labels.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from ..contracts.schemas import fast_check, iter_problems
from ..errors import ClaimwireError, InvalidDataError, Problem
from ..records import picklable
from .jsonarray import Damage, Slice, file_position, open_array, slice_position, split_array
from .jsonpos import loads, locate

if TYPE_CHECKING:  # a mapping is made by the caller; reading without one imports nothing more
    from ..contracts.scheme import Origin, Scheme

META_KEYS = ("title", "url", "published", "source")  # what an article made from a task takes
DAMAGED = "the file is damaged or truncated; export it again from Label Studio"
FOREIGN = (
    "correct the task in Label Studio and export again; if the export comes from a project "
    "with its own labeling config, map its names onto claimwire's: `claimwire scheme init "
    "--from CONFIG.xml --out annotations/scheme.json` (see README, Bring your own Label Studio "
    "project)"
)
GET_JSON = (
    "export the project as JSON (Export > JSON, or `claimwire ls pull`), which keeps "
    "relations, per-region choices and skipped annotations"
)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task as read from an export; ``results`` stay raw Label Studio dicts.

    Read with a scheme mapping (:mod:`builder.contracts.scheme`), the results are in canonical
    names, those of the annotations and of the ``predictions`` alike (a prediction's regions
    the mapping drops go with their choices and relations, as an annotation's do; they are not
    counted in ``dropped``, which is about what a release could hold). ``dropped`` counts the
    regions the mapping dropped from the annotations, per (control, label), and ``origin``
    turns pointers into the translated task back into pointers into the file (see
    :func:`in_source`). Without one, or with the identity mapping, both are empty."""

    file: str
    index: int  # position in the file (-1 for a per-task file), for JSON pointers
    id: int
    article_id: str
    text: str
    text_sha256: str | None
    annotations: tuple[dict[str, Any], ...]
    dropped: tuple[tuple[str, str, int], ...] = ()  # (control, label, regions)
    origin: Origin | None = None
    # other tasks of the same article whose annotations are adjudicated with these (see
    # :mod:`builder.io.snapshots`); each keeps its own file, index, text and origin (``dropped``
    # above counts theirs too)
    pooled: tuple[TaskRecord, ...] = ()
    # the data keys an article made from this task takes (title, url, published, source; see
    # builder.io.task_articles), as the task holds them: (canonical key, value), set ones only
    meta: tuple[tuple[str, Any], ...] = ()
    # the task's predictions (model pre-annotations, review suggestions) as read: not built
    predictions: tuple[dict[str, Any], ...] = ()

    @property
    def base(self) -> str:
        """JSON pointer prefix of this task inside its file."""
        return f"/{self.index}" if self.index >= 0 else ""

    def pointer(self, inside: str) -> str:
        """The JSON pointer in the file of ``inside``, a pointer into the (canonical) task such
        as ``/data/article_id``: the project's own data key when read through a mapping."""
        at = self.base + inside
        return self.origin.pointer(at) if self.origin is not None else at


def export_files(path: Path) -> Iterator[Path]:
    """The export files under ``path``: the file itself, or the ``*.json`` files of a folder and
    its subfolders (symlinked folders are not followed) in path order.

    A folder is walked a directory at a time, each sorted by name (which is the order of the
    sorted paths): memory holds the names of one directory, ~70 bytes a file. A sorted list of
    every path took ~860 bytes a file (a million per-task files: 860 MB and 39 s)."""
    if path.is_dir():
        yield from _walk(path)
    else:
        yield path


def _walk(folder: Path) -> Iterator[Path]:
    files: list[str] = []
    folders: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            elif entry.name.endswith(".json") and entry.is_file():
                files.append(entry.name)
    files.sort()
    folders.sort()
    for name, is_folder in heapq.merge(((n, False) for n in files), ((n, True) for n in folders)):
        if is_folder:
            yield from _walk(folder / name)
        else:
            yield folder / name


@dataclass(frozen=True, slots=True)
class RawTask:
    """The unparsed bytes of one task, and where they are: what a worker process parses."""

    file: str
    index: int  # position in the array, or -1 for a per-task file
    offset: int  # byte offset of ``data`` in the file
    data: bytes
    pooled: tuple[RawTask, ...] = ()  # other tasks of the same article (builder.io.snapshots)


def read_export(path: Path, scheme: Scheme | None = None) -> Iterator[TaskRecord]:
    """Yield every task of an export file or folder, validated against the task schema, in
    canonical names when a ``scheme`` mapping is given (see :func:`parse_task`).

    A JSON array is streamed (see :mod:`builder.stream`): memory stays flat at any export size.
    """
    for item in raw_tasks(path):
        if isinstance(item, ClaimwireError):
            raise item
        yield parse_task(item, scheme)


def raw_tasks(path: Path) -> Iterator[RawTask | ClaimwireError]:
    """The tasks of an export file or folder as unparsed bytes, in order.

    Errors are yielded in place rather than raised, so that a pipeline that parses tasks ahead
    (in other processes) still reports the first problem in input order.
    """
    for file in export_files(path):
        try:
            yield from _raw_file(file, single_ok=path.is_dir())
        except ClaimwireError as exc:
            yield exc


def _raw_file(file: Path, single_ok: bool) -> Iterator[RawTask | ClaimwireError]:
    name = str(file)
    try:
        opened = open_array(file)
    except FileNotFoundError:
        raise InvalidDataError(Problem("export file not found", file=name)) from None
    except IsADirectoryError:
        raise InvalidDataError(Problem("expected a file", file=name)) from None
    if opened is None:  # not an array: a per-task file, or not a JSON export at all
        data = _check_head(file, file.read_bytes())
        if single_ok and data.lstrip()[:1] == b"{":
            yield RawTask(name, -1, 0, data)
            return
        _tasks(file, _parse(file, data))  # raises: the top level must be an array
        return
    f, start = opened
    with f:
        for piece in split_array(f, start):
            if isinstance(piece, Damage):
                line, column = file_position(file, piece.offset)
                yield InvalidDataError(
                    Problem(
                        f"malformed JSON: {piece.message}",
                        file=name,
                        line=line,
                        column=column,
                        pointer=f"/{piece.index}",
                        fix=DAMAGED,
                    )
                )
                return
            yield RawTask(name, piece.index, piece.offset, piece.data)


def parse_task(raw: RawTask, scheme: Scheme | None = None) -> TaskRecord:
    """Parse and check one task (schema, JSON_MIN shape); errors carry line and column.

    With a ``scheme`` mapping the task is translated to canonical names first (data keys,
    controls, labels, choices, relation labels; regions mapped to drop are removed and counted
    in ``dropped``); the identity mapping, like None, translates nothing."""
    try:
        task = orjson.loads(raw.data)
    except orjson.JSONDecodeError as exc:
        piece = Slice(max(raw.index, 0), raw.offset, raw.data)
        line, column = slice_position(Path(raw.file), piece, exc.pos)
        raise InvalidDataError(
            Problem(
                f"malformed JSON: {exc.msg}",
                file=raw.file,
                line=line,
                column=column,
                fix=DAMAGED,
            )
        ) from None
    if raw.index >= 0:  # where it is, should a problem have to be located in it later
        if len(_slices) >= _SLICES:
            _slices.clear()
        _slices[(raw.file, raw.index)] = (raw.offset, len(raw.data))
    record = _task(raw.file, task, raw.index, scheme)
    if raw.pooled:  # the regions the mapping dropped are counted on the task read
        pooled = tuple(parse_task(p, scheme) for p in raw.pooled)
        dropped: dict[tuple[str, str], int] = {}
        for t in (record, *pooled):
            for control, label, n in t.dropped:
                dropped[(control, label)] = dropped.get((control, label), 0) + n
        record = replace(
            record, pooled=pooled, dropped=tuple((c, lab, n) for (c, lab), n in dropped.items())
        )
    return record


def _check_head(path: Path, raw: bytes) -> bytes:
    if raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM (an editor's save): not CSV, just JSON
        raw = raw[3:]
    head = raw.lstrip()[:1]
    if head not in (b"[", b"{"):
        kind = "CONLL" if b" -X- " in raw[:4096] else "CSV/TSV" if head else "an empty file"
        raise InvalidDataError(
            Problem(
                f"this looks like {kind}, not a Label Studio JSON export",
                file=str(path),
                line=1,
                column=1,
                expected="a JSON array of tasks",
                fix=GET_JSON,
            )
        )
    return raw


def _parse(path: Path, raw: bytes) -> Any:
    return loads(raw, str(path), fix=DAMAGED)


def _tasks(file: Path, data: Any, single: bool = False) -> list[TaskRecord]:
    """Task records of a parsed export (an array, or one task when ``single``)."""
    if not isinstance(data, list):
        raise InvalidDataError(
            Problem(
                "a Label Studio JSON export is an array of tasks",
                file=str(file),
                pointer="",
                found=type(data).__name__,
                fix=GET_JSON,
            )
        )
    return [_task(file, task, -1 if single else index) for index, task in enumerate(data)]


def _task(file: Path | str, task: Any, index: int, scheme: Scheme | None = None) -> TaskRecord:
    """One parsed task, checked; ``index`` -1 means a per-task file (pointers start at the root)."""
    name = str(file)
    base = "" if index < 0 else f"/{index}"
    if isinstance(task, dict) and "completions" in task and "annotations" not in task:
        task = {**task, "annotations": task["completions"]}  # legacy pre-1.0 export
    if isinstance(task, dict) and "data" not in task and "annotations" not in task:
        raise InvalidDataError(
            _place(
                Problem(
                    "this looks like a JSON_MIN export (flat task records without "
                    "'data' and 'annotations')",
                    pointer=base,
                    expected="tasks with 'data' and 'annotations'",
                    fix=GET_JSON,
                    task=task.get("id") if isinstance(task.get("id"), int) else None,
                ),
                Path(file),
            )
        )
    origin: Origin | None = None
    dropped: tuple[tuple[str, str, int], ...] = ()
    if scheme is not None and not scheme.is_identity and isinstance(task, dict):
        try:
            translated = scheme.translate(task, base, predictions=True)
        except InvalidDataError as exc:
            raise InvalidDataError([_place(p, Path(file)) for p in exc.problems]) from None
        task, origin, dropped = translated.task, translated.origin, translated.dropped
    if not fast_check("labelstudio-task")(task):  # the fast path: one call
        problems = list(iter_problems("labelstudio-task", task, base))
        if origin is not None:
            problems = [_origin(p, origin) for p in problems]
        task_id = task.get("id") if isinstance(task, dict) else None
        article = None
        if isinstance(task, dict) and isinstance(task.get("data"), dict):
            article = task["data"].get("article_id")
        raise InvalidDataError(
            [
                _place(
                    p.located(
                        task=task_id,
                        article=article if isinstance(article, str) else None,
                        fix=FOREIGN
                        if scheme is None and (p.pointer or "").endswith("/from_name")
                        else "correct the task in Label Studio and export again",
                    ),
                    Path(file),
                )
                for p in problems
            ]
        )
    data = task["data"]
    return TaskRecord(
        file=name,
        index=index,
        id=task["id"],
        article_id=data["article_id"],
        text=data["text"],
        text_sha256=data.get("text_sha256"),
        annotations=tuple(task.get("annotations") or ()),
        dropped=dropped,
        origin=origin,
        meta=tuple((k, data[k]) for k in META_KEYS if data.get(k) is not None),
        predictions=tuple(p for p in task.get("predictions") or () if isinstance(p, dict)),
    )


def _origin(p: Problem, origin: Origin) -> Problem:
    """``p`` with its pointer into a translated task turned into one into the file."""
    if p.pointer is None:
        return p
    moved = origin.pointer(p.pointer)
    return p if moved == p.pointer else replace(p, pointer=moved, line=None, column=None)


def in_source(exc: ClaimwireError, task: TaskRecord) -> ClaimwireError:
    """``exc``, raised about ``task`` after reading (by the merge), with pointers into the
    export as written: a task read through a scheme mapping may have had results dropped and
    data keys renamed. Line and column are found again. Unchanged for an untranslated task.
    A problem about a task pooled with ``task`` is moved by that task's own origin."""
    parts = [t for t in (task, *task.pooled) if t.origin is not None]
    if not parts:
        return exc
    problems = []
    for p in exc.problems:
        part = next((t for t in parts if _about(p, t)), None)
        if part is not None and part.origin is not None:
            moved = _origin(p, part.origin)
            p = _place(moved, Path(part.file)) if moved is not p else p
        problems.append(p)
    return type(exc)(problems)


def _about(p: Problem, task: TaskRecord) -> bool:
    """Whether ``p`` points into ``task`` (its file, and its place in the file)."""
    if p.file != task.file:
        return False
    return not task.base or p.pointer is None or (p.pointer + "/").startswith(task.base + "/")


_located: dict[tuple[str, int], tuple[str, int, int]] = {}
# (file, task index) -> (byte offset, length) of the tasks parsed lately in this process: a
# problem found by the merge reads its task's bytes directly instead of scanning the file again
_slices: dict[tuple[str, int], tuple[int, int]] = {}
_SLICES = 1 << 16


def _element(file: Path, pointer: str) -> tuple[str, str, int, int] | None:
    """The text holding ``pointer`` in ``file``, the pointer inside it, and the line and column
    where that text starts. For an array export only the one task is read (streaming), so
    placing an error costs no more memory than reading the export."""
    opened = open_array(file)
    if opened is None:
        text = file.read_text(encoding="utf-8", errors="replace")
        return text, pointer, 1, 1
    f, start = opened
    parts = pointer.split("/", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        f.close()
        return None
    index, rest = int(parts[1]), "/" + parts[2] if len(parts) > 2 else ""
    key = (str(file), index)
    if key not in _located:
        with f:
            piece = _known_slice(f, key) or next(
                (p for p in split_array(f, start) if isinstance(p, Slice) and p.index == index),
                None,
            )
        if piece is None:
            return None
        line, column = file_position(file, piece.offset)
        _located.clear()
        _located[key] = (piece.data.decode("utf-8", errors="replace"), line, column)
    else:
        f.close()
    text, line, column = _located[key]
    return text, rest, line, column


def _known_slice(f: BinaryIO, key: tuple[str, int]) -> Slice | None:
    """The task at ``key`` read straight from its recorded offset, if this process parsed it."""
    where = _slices.get(key)
    if where is None:
        return None
    offset, length = where
    f.seek(offset)
    data = f.read(length)
    return Slice(key[1], offset, data) if len(data) == length else None


def _place(p: Problem, file: Path) -> Problem:
    """Fill in file, line and column for a problem whose pointer is known."""
    p = p.located(file=str(file))
    if p.pointer is None or p.line is not None:
        return p
    try:
        found = _element(file, p.pointer)
    except OSError:
        return p
    if found is None:
        return p
    text, inner, line0, column0 = found
    where = locate(text, inner)
    if where is None:
        return p
    line, column = where
    return p.located(line=line0 + line - 1, column=column0 + column - 1 if line == 1 else column)


def place(p: Problem) -> Problem:
    """Public form of :func:`_place` for problems found after reading (by the merge step)."""
    return _place(p, Path(p.file)) if p.file else p


def unknown_article(task: TaskRecord, n_articles: int, scheme: Scheme | None = None) -> Problem:
    """The problem of a task whose article is not in the articles folder, placed in its file.
    Read through a ``scheme`` mapping (which has no ``defaults``: with them the task would be
    its own article), the fix says how to make it one."""
    fix = "add the article to articles/ or drop the task from the export"
    if scheme is not None:
        fix = (
            "add the article to articles/, drop the task from the export, or add a "
            f'"defaults" object with a "license" to {scheme.file or "the scheme mapping"} to '
            "build the task's text as its article"
        )
    return place(
        Problem(
            "annotation for an unknown article",
            file=task.file,
            task=task.id,
            article=task.article_id,
            pointer=task.pointer("/data/article_id"),
            expected=f"one of the {n_articles} article ids in articles/",
            fix=fix,
        )
    )


def read_tasks(exports: Iterable[Path], scheme: Scheme | None = None) -> Iterator[TaskRecord]:
    """Every task of ``exports`` (files), in order (in canonical names with a ``scheme``)."""
    for path in exports:
        yield from read_export(path, scheme)


picklable(TaskRecord, RawTask)  # compiled, see builder.records
