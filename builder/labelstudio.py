"""Read Label Studio exports into plain task records.

Accepted: the JSON export (a snapshot or a direct export: a JSON array of tasks), the legacy
pre-1.0 format (``completions`` instead of ``annotations``), and a folder of per-task JSON files
as Label Studio's export storage writes them. JSON_MIN, CSV, TSV and CONLL exports are refused:
they drop relations, skipped annotations and per-region stance, so a release built from them would
silently lose labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .errors import InvalidDataError, Problem
from .jsonpos import locate
from .schemas import iter_problems

GET_JSON = (
    "export the project as JSON (Export > JSON, or `claimwire ls pull`), which keeps "
    "relations, per-region choices and skipped annotations"
)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task as read from an export; ``results`` stay raw Label Studio dicts."""

    file: str
    index: int  # position in the file (or 0 for a per-task file), for JSON pointers
    id: int
    article_id: str
    text: str
    text_sha256: str | None
    annotations: tuple[dict[str, Any], ...]

    @property
    def base(self) -> str:
        """JSON pointer prefix of this task inside its file."""
        return f"/{self.index}" if self.index >= 0 else ""


def export_files(path: Path) -> list[Path]:
    """The export files under ``path`` (a file, or a folder searched for ``*.json``)."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*.json") if p.is_file())
    return [path]


def read_export(path: Path) -> Iterator[TaskRecord]:
    """Yield every task of an export file or folder, validated against the task schema."""
    if path.is_dir():
        for file in export_files(path):
            data = _load(file)
            if isinstance(data, list):
                yield from _tasks(file, data)
            else:
                yield from _tasks(file, [data], single=True)
        return
    yield from _tasks(path, _load(path))


def _load(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidDataError(Problem("export file not found", file=str(path))) from None
    except IsADirectoryError:
        raise InvalidDataError(Problem("expected a file", file=str(path))) from None
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
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidDataError(
            Problem(
                f"malformed JSON: {exc.msg}",
                file=str(path),
                line=exc.lineno,
                column=exc.colno,
                fix="the file is damaged or truncated; export it again from Label Studio",
            )
        ) from None


def _tasks(file: Path, data: Any, single: bool = False) -> Iterator[TaskRecord]:
    name = str(file)
    if not isinstance(data, list):
        raise InvalidDataError(
            Problem(
                "a Label Studio JSON export is an array of tasks",
                file=name,
                pointer="",
                found=type(data).__name__,
                fix=GET_JSON,
            )
        )
    for index, task in enumerate(data):
        base = "" if single else f"/{index}"
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
                    file,
                )
            )
        problems = list(iter_problems("labelstudio-task", task, base))
        if problems:
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
                            fix="correct the task in Label Studio and export again",
                        ),
                        file,
                    )
                    for p in problems
                ]
            )
        yield TaskRecord(
            file=name,
            index=-1 if single else index,
            id=task["id"],
            article_id=task["data"]["article_id"],
            text=task["data"]["text"],
            text_sha256=task["data"].get("text_sha256"),
            annotations=tuple(task.get("annotations") or ()),
        )


_text_cache: dict[Path, str] = {}


def _place(p: Problem, file: Path) -> Problem:
    """Fill in file, line and column for a problem whose pointer is known."""
    p = p.located(file=str(file))
    if p.pointer is None or p.line is not None:
        return p
    try:
        text = _text_cache.get(file) or file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return p
    _text_cache.clear()
    _text_cache[file] = text
    where = locate(text, p.pointer)
    return p.located(line=where[0], column=where[1]) if where else p


def place(p: Problem) -> Problem:
    """Public form of :func:`_place` for problems found after reading (by the merge step)."""
    return _place(p, Path(p.file)) if p.file else p
