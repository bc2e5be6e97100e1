"""Run a build in a child process and stop it at a chosen filesystem step, so a test can SIGKILL
it exactly there.

The steps are what a crash can interrupt: every change the build makes under the output folder
(seen through Python audit hooks: open for writing, mkdir, rename, remove, rmtree, flock) and
every Parquet write (pyarrow writes from C++, invisible to audit hooks, so ``ParquetWriter`` is
wrapped: a step before it opens its file, before each row group, and around its close). The
child stops itself with SIGSTOP before step ``k``; the parent waits for the stop and sends
SIGKILL. A step is named by what it does, with the random
part of the staging folder name masked, and a kill point is (name, occurrence): a build that
first sweeps leftovers of a killed one has extra steps, but the same named points.

Children are forked from the test process, which has imported the builder already: a fresh
interpreter costs seconds per kill point, a fork milliseconds.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_RANDOM = re.compile(r"\.partial-[A-Za-z0-9_]+")
_PATH_EVENTS = {"os.mkdir", "os.rename", "os.replace", "os.remove", "os.rmdir", "shutil.rmtree"}


@dataclass
class Run:
    pid: int
    out: Path
    log: Path
    steps: list[str] = field(default_factory=list)


def _is_write(args: tuple) -> bool:
    _path, mode, flags = args
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


Point = tuple[str, int]  # step name, occurrence (1-based)


def points(steps: list[str]) -> list[Point]:
    seen: dict[str, int] = {}
    out = []
    for name in steps:
        seen[name] = seen.get(name, 0) + 1
        out.append((name, seen[name]))
    return out


def _install(out: Path, stop_at: Point | None, trace: Path | None) -> None:
    """In the child: name steps; stop before ``stop_at``; append each step name to ``trace``."""
    import pyarrow.parquet as pq

    root = str(out.resolve())
    seen: dict[str, int] = {}

    def step(name: str) -> None:
        name = _RANDOM.sub(".partial-*", name)
        seen[name] = seen.get(name, 0) + 1
        if stop_at is not None and (name, seen[name]) == stop_at:
            os.kill(os.getpid(), signal.SIGSTOP)
        if trace is not None:
            with open(trace, "a", encoding="utf-8") as f:  # noqa: PTH123 (audit-visible, fine)
                f.write(name + "\n")

    busy = [False]

    def hook(event: str, args: tuple) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "open" and isinstance(args[0], str | Path) and _is_write(args):
                path = os.path.abspath(os.fspath(args[0]))
                if path.startswith(root):
                    step(f"open {os.path.relpath(path, root)}")
            elif event in _PATH_EVENTS and isinstance(args[0], str | Path):
                path = os.path.abspath(os.fspath(args[0]))
                if path.startswith(root):
                    step(f"{event} {os.path.relpath(path, root)}")
            elif event == "fcntl.flock":
                step(f"flock op={args[1]}")
        finally:
            busy[0] = False

    real_writer = pq.ParquetWriter

    class ParquetWriter(real_writer):  # type: ignore[misc, valid-type]
        def __init__(self, where, *a, **kw):  # type: ignore[no-untyped-def]
            self._step_name = os.path.relpath(os.fspath(where), root)
            step(f"parquet-open {self._step_name}")
            super().__init__(where, *a, **kw)

        def write_table(self, table, *a, **kw):  # type: ignore[no-untyped-def]
            step(f"parquet-write {self._step_name}")
            super().write_table(table, *a, **kw)

        def close(self):  # type: ignore[no-untyped-def]
            step(f"parquet-close {self._step_name}")
            super().close()
            step(f"parquet-closed {self._step_name}")

    pq.ParquetWriter = ParquetWriter
    sys.addaudithook(hook)


def start(
    build: Callable[[], int],
    out: Path,
    log: Path,
    stop_at: Point | None = None,
    trace: Path | None = None,
    before: Callable[[], None] | None = None,
) -> Run:
    """Fork a child that runs ``build()`` (stdout and stderr to ``log``) and exits with its code."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never return into the test runner
        code = 70
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            if before is not None:
                before()
            _install(out, stop_at, trace)
            code = build()
        except BaseException as exc:  # noqa: BLE001 - report, then exit with a telling code
            print(f"child crashed: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 71
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return Run(pid=pid, out=out, log=log)


def wait_stopped(run: Run) -> bool:
    """Wait until the child stops at its step (True) or exits because it never got there."""
    _, status = os.waitpid(run.pid, os.WUNTRACED)
    if os.WIFSTOPPED(status):
        return True
    run.exit = os.waitstatus_to_exitcode(status)  # type: ignore[attr-defined]
    return False


def kill(run: Run) -> int:
    """SIGKILL a stopped child and reap it; returns the wait status code (-9)."""
    os.kill(run.pid, signal.SIGKILL)
    _, status = os.waitpid(run.pid, 0)
    return os.waitstatus_to_exitcode(status)


def resume(run: Run) -> int:
    """Let a stopped child go on and return its exit code."""
    os.kill(run.pid, signal.SIGCONT)
    while True:
        _, status = os.waitpid(run.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):
            return os.waitstatus_to_exitcode(status)


def finish(run: Run) -> int:
    _, status = os.waitpid(run.pid, 0)
    return os.waitstatus_to_exitcode(status)


def count_steps(build: Callable[[], int], out: Path, scratch: Path) -> list[str]:
    """Run ``build()`` to the end in a child and return the names of its steps, in order."""
    trace = scratch / "steps.txt"
    trace.unlink(missing_ok=True)
    run = start(build, out, scratch / "count.log", trace=trace)
    code = finish(run)
    assert code == 0, (scratch / "count.log").read_text()
    return trace.read_text(encoding="utf-8").splitlines()
