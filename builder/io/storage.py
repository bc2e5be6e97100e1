"""Where exports come from: local files and folders, or any fsspec URL (``s3://``, ``gs://``,
``memory://``, ``file://`` ...) of a JSON export or of a folder that Label Studio's export storage
writes to.

Export storage writes one file per task (the task format) or, in its older default, one file per
annotation with the task nested under ``"task"``. Both are accepted: remote files are copied to a
temporary folder, and per-annotation files are regrouped into one task file per task, so the
reader downstream only ever sees local JSON exports. Problems are reported with the original URL.

Articles (:class:`ArticleStore`) are not copied: every worker reads them in place, from a local
folder or an fsspec URL, so workers on other machines read the same articles.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from ..errors import ClaimwireError, InvalidDataError, Problem, UsageError


def _is_url(source: str) -> bool:
    return "://" in source


def _annotation_file(data: Any) -> bool:
    """A per-annotation storage file: an annotation with its task nested under ``task``."""
    return (
        isinstance(data, dict)
        and "result" in data
        and "data" not in data
        and isinstance(data.get("task"), dict)
        and isinstance(data["task"].get("data"), dict)
    )


def _regroup(files: list[Path], into: Path) -> list[Path]:
    """Task files for a folder of per-annotation files; other files are passed through."""
    tasks: dict[int, dict[str, Any]] = {}
    passed: list[Path] = []
    for file in files:
        try:
            data = orjson.loads(file.read_bytes())
        except (orjson.JSONDecodeError, OSError):
            passed.append(file)  # the reader reports it with line and column
            continue
        if not _annotation_file(data):
            passed.append(file)
            continue
        task = data["task"]
        entry = tasks.setdefault(int(task.get("id", 0)), {**task, "annotations": []})
        entry["annotations"].append({k: v for k, v in data.items() if k != "task"})
    if not tasks:
        return files
    into.mkdir(parents=True, exist_ok=True)
    out = list(passed)
    for task_id, task in sorted(tasks.items()):
        task["annotations"].sort(key=lambda a: a.get("id", 0))
        path = into / f"task-{task_id}.json"
        path.write_bytes(orjson.dumps(task))
        out.append(path)
    return out


def _fetch(source: str, into: Path) -> Path:
    import fsspec

    try:
        fs, root = fsspec.core.url_to_fs(source)
    except (ImportError, ValueError) as exc:
        raise UsageError(
            Problem(
                f"cannot open {source}: {exc}",
                file=source,
                fix="install the fsspec driver for that protocol "
                "(e.g. s3fs, gcsfs) or copy the export locally",
            )
        ) from None
    try:
        if fs.isdir(root):
            names = sorted(p for p in fs.find(root) if p.endswith(".json"))
            for name in names:
                target = into / Path(name).relative_to(root.rstrip("/") or "/")
                target.parent.mkdir(parents=True, exist_ok=True)
                with fs.open(name, "rb") as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
            return into
        into.mkdir(parents=True, exist_ok=True)
        target = into / Path(root).name
        with fs.open(root, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        return target
    except FileNotFoundError:
        raise InvalidDataError(Problem("export not found", file=source)) from None


@contextmanager
def local_exports(sources: list[str]) -> Iterator[list[Path]]:
    """Local paths for ``sources``; temporary copies are removed on exit."""
    with tempfile.TemporaryDirectory(prefix="claimwire-exports-") as tmp:
        names: dict[str, str] = {}  # local prefix -> what the user named
        paths: list[Path] = []
        for n, source in enumerate(sources):
            local = Path(source)
            if _is_url(source):
                local = _fetch(source, Path(tmp) / f"src{n}")
                names[str(local)] = source
            if local.is_dir():
                files = sorted(p for p in local.rglob("*.json") if p.is_file())
                grouped = _regroup(files, Path(tmp) / f"grouped{n}")
                if grouped is not files:
                    names[str(Path(tmp) / f"grouped{n}")] = source
                    folder = Path(tmp) / f"merged{n}"
                    folder.mkdir()
                    for k, f in enumerate(grouped):
                        shutil.copyfile(f, folder / f"{k:06d}-{f.name}")
                    names[str(folder)] = source
                    local = folder
            paths.append(local)
        try:
            yield paths
        except ClaimwireError as exc:
            for i, p in enumerate(exc.problems):
                for prefix, shown in names.items():
                    if p.file and p.file.startswith(prefix):
                        exc.problems[i] = replace(p, file=shown + p.file[len(prefix) :])
            raise


# --- articles: a local folder or an fsspec URL, read in place by every worker ---------------

_filesystems: dict[str, tuple[Any, str]] = {}  # URL -> (filesystem, root): one per process


def read_file(name: str) -> bytes:
    """``Path(name).read_bytes()`` through the file descriptor, without a buffered file object
    (a fifth of the time for a small file: articles are read two files at a time); same
    errors."""
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
    except OSError as exc:  # reading a folder: name it, as open() does
        raise type(exc)(exc.errno, exc.strerror, name) from None
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class ArticleStore:
    """The articles folder: a local path, read with plain system calls (fsspec is not
    imported), or an fsspec URL (``s3://bucket/articles``, ``file:///abs/path``), read in place,
    so that workers on other machines read the same articles. Picklable: it travels as its
    location, and each process opens the filesystem on first use."""

    __slots__ = ("location",)

    def __init__(self, location: str | Path) -> None:
        self.location = str(location)

    def __reduce__(self) -> tuple[type[ArticleStore], tuple[str]]:
        return (ArticleStore, (self.location,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArticleStore) and other.location == self.location

    def __hash__(self) -> int:
        return hash(self.location)

    def __repr__(self) -> str:
        return f"ArticleStore({self.location!r})"

    @property
    def is_local(self) -> bool:
        return not _is_url(self.location)

    @property
    def path(self) -> Path:
        """The local folder (only for a local store)."""
        assert self.is_local, self.location
        return Path(self.location)

    def absolute(self) -> ArticleStore:
        """The same store, a local path made absolute (a worker has its own working folder)."""
        return ArticleStore(self.path.absolute()) if self.is_local else self

    def file(self, name: str) -> str:
        """The name of the file ``name`` in messages (for a local store, its path)."""
        if self.is_local:
            return str(self.path / name)
        return f"{self.location.rstrip('/')}/{name}"

    def _fs(self) -> tuple[Any, str]:
        opened = _filesystems.get(self.location)
        if opened is None:
            import fsspec

            try:
                fs, root = fsspec.core.url_to_fs(self.location)
            except (ImportError, ValueError) as exc:
                raise UsageError(
                    Problem(
                        f"cannot open {self.location}: {exc}",
                        file=self.location,
                        fix="install the fsspec driver for that protocol "
                        "(e.g. s3fs, gcsfs) or copy the articles locally",
                    )
                ) from None
            opened = _filesystems[self.location] = (fs, str(root).rstrip("/"))
        return opened

    def read_bytes(self, name: str) -> bytes:
        """The bytes of the file ``name``; FileNotFoundError when there is none."""
        if self.is_local:
            return read_file(self.file(name))
        fs, root = self._fs()
        try:
            return bytes(fs.cat_file(f"{root}/{name}"))
        except (FileNotFoundError, IsADirectoryError):
            raise FileNotFoundError(2, "No such file", self.file(name)) from None

    def is_file(self, name: str) -> bool:
        if self.is_local:
            return os.path.isfile(self.file(name))
        fs, root = self._fs()
        return bool(fs.isfile(f"{root}/{name}"))

    def names(self) -> Iterator[str]:
        """The names of the files ending in ``.json`` (``sources.json`` too), in no particular
        order. A missing folder raises FileNotFoundError."""
        if self.is_local:
            with os.scandir(self.location) as entries:
                for e in entries:
                    if e.name.endswith(".json"):
                        yield e.name
            return
        fs, root = self._fs()
        try:
            entries = fs.ls(root, detail=True)
        except FileNotFoundError:
            raise FileNotFoundError(2, "No such folder", self.location) from None
        for e in entries:
            name = str(e["name"]).rstrip("/").rsplit("/", 1)[-1]
            if e.get("type") == "file" and name.endswith(".json"):
                yield name
