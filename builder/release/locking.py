"""One build per release version at a time, and cleanup after builds that died.

A build holds an exclusive ``flock`` on ``<out>/.claimwire-<version>.lock`` from before it creates
its staging folder until after it has published or removed it. The kernel drops the lock when the
process dies, however it dies (SIGKILL included), so a lock that can be taken means that no live
build owns that version's staging folders: they are leftovers and can be removed.

The lock file is unlinked by its holder before it unlocks, so a finished build leaves nothing
behind. A process that opened the file just before it was unlinked notices (the inode it locked
is no longer the one at the path) and starts over.

``fcntl`` exists on every POSIX system; on Windows ``msvcrt.locking`` takes its place (the lock
file is then closed before it is unlinked, as Windows cannot unlink an open file). Where neither
exists, importing works and taking a lock is a clear error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from types import ModuleType

from ..errors import OutputError, Problem

fcntl: ModuleType | None
msvcrt: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
try:
    import msvcrt
except ImportError:  # POSIX
    msvcrt = None

LOCK_SUFFIX = ".lock"
PARTIAL_MARK = ".partial-"
_MAX_ATTEMPTS = 100  # bounded: each retry means another process unlinked the file meanwhile


class VersionLock:
    """A non-blocking exclusive lock on one release name (``claimwire-<version>``) in ``out``."""

    def __init__(self, out: Path, name: str) -> None:
        self.path = out / f".{name}{LOCK_SUFFIX}"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock; False if another live process holds it."""
        for _ in range(_MAX_ATTEMPTS):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                _lock(fd)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            try:
                now = os.stat(self.path)
            except FileNotFoundError:
                os.close(fd)
                continue
            mine = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
                os.close(fd)
                continue
            self._fd = fd
            return True
        return False

    def release(self) -> None:
        """Unlink the lock file, then unlock (in that order, see the module docstring)."""
        if self._fd is None:
            return
        if fcntl is None:  # Windows: an open file cannot be unlinked
            os.close(self._fd)
            self._fd = None
            with contextlib.suppress(PermissionError):  # another build opened it; it removes it
                self.path.unlink(missing_ok=True)
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


def _lock(fd: int) -> None:
    """An exclusive, non-blocking lock on ``fd``; BlockingIOError if another process has it."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    elif msvcrt is not None:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            raise BlockingIOError(*exc.args) from None
    else:
        raise OutputError(
            Problem(
                "cannot lock the release folder: this platform has neither fcntl nor msvcrt",
                fix="build on Linux, macOS or Windows; nothing was written",
            )
        )


def owner_name(entry: str) -> str | None:
    """``claimwire-0.1.0`` for ``.claimwire-0.1.0.partial-x1y2`` or ``.claimwire-0.1.0.lock``."""
    if not entry.startswith("."):
        return None
    if PARTIAL_MARK in entry:
        return entry[1:].split(PARTIAL_MARK, 1)[0] or None
    if entry.endswith(LOCK_SUFFIX):
        return entry[1 : -len(LOCK_SUFFIX)] or None
    return None


def sweep(out: Path, prefix: str, held: VersionLock | None = None) -> list[str]:
    """Remove staging folders and lock files in ``out`` left by builds that are gone.

    Only names starting with ``.<prefix>`` are considered. A version whose lock is held by a live
    build is left alone; ``held`` is the caller's own lock (its leftovers are stale by definition,
    since the caller has not created its staging folder yet). Returns the names removed.
    """
    removed: list[str] = []
    if not out.is_dir():
        return removed
    entries = sorted(e.name for e in out.iterdir() if e.name.startswith(f".{prefix}"))
    by_owner: dict[str, list[str]] = {}
    for entry in entries:
        owner = owner_name(entry)
        if owner is not None:
            by_owner.setdefault(owner, []).append(entry)
    for owner, names in by_owner.items():
        mine = held is not None and held.held and held.path.name == f".{owner}{LOCK_SUFFIX}"
        lock = held if mine and held is not None else VersionLock(out, owner)
        if not mine and not lock.acquire():
            continue  # a live build owns these
        try:
            for name in names:
                path = out / name
                if PARTIAL_MARK in name and path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(name)
        finally:
            if not mine:
                lock.release()  # also removes a stale lock file
                if f".{owner}{LOCK_SUFFIX}" in names:
                    removed.append(f".{owner}{LOCK_SUFFIX}")
    return removed
