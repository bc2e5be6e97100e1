"""Faults during a build: SIGKILL at every filesystem step, a full disk, an unwritable output
folder. Whatever happens, no partial release is ever visible and earlier releases keep every
byte. (Label Studio faults during ``ls push``/``ls pull`` are in
tests/labelstudio/test_retry.py.)"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
from pathlib import Path

import pytest
from support.figures import report
from support.helpers import Workspace, in_ci, workspace
from support.killpoints import count_steps, kill, points, start, wait_stopped

from builder import DATASET_VERSION as V
from builder.errors import InvalidDataError
from builder.release.locking import sweep
from builder.release.verify import verify

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def bytes_changed(before: dict[str, bytes], after: dict[str, bytes]) -> int:
    """Bytes that differ, counting a missing or extra file as all its bytes."""
    changed = 0
    for name in set(before) | set(after):
        a, b = before.get(name, b""), after.get(name, b"")
        changed += sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
    return changed


def visible_partials(dist: Path) -> list[str]:
    """Release folders a user could see that are not complete, verified releases."""
    bad = []
    for entry in sorted(dist.iterdir()):
        if entry.name.startswith("."):
            continue
        try:
            verify(entry, load=False)
        except InvalidDataError:
            bad.append(entry.name)
    return bad


def _kill_everywhere(ws: Workspace, tmp: Path, version: str) -> tuple[int, int, int, list[str]]:
    """Kill a build of ``version`` before each of its steps; returns (kill points, partial
    releases seen, bytes changed in the default release, the steps)."""
    earlier = snapshot(ws.dist / f"claimwire-{V}")

    def build() -> int:
        return ws.build("--version", version)

    sweep(ws.dist, "claimwire")  # leftovers of earlier kills would add steps to the count
    steps = count_steps(build, ws.dist, tmp)
    final = ws.dist / f"claimwire-{version}"
    renamed_at = next((i for i, s in enumerate(steps) if s.startswith("os.rename")), None)
    if version != V:
        assert renamed_at is not None
        for p in final.rglob("*"):
            p.chmod(0o644)
        import shutil

        shutil.rmtree(final)
    partials = changed = 0
    for k, point in enumerate(points(steps)):
        run = start(build, ws.dist, tmp / "kill.log", stop_at=point)
        assert wait_stopped(run), (steps[k], (tmp / "kill.log").read_text())
        assert kill(run) == -signal.SIGKILL
        # the release appears only after its rename, complete; before, nothing is visible
        published = renamed_at is not None and k > renamed_at
        assert final.exists() == (published or version == V), steps[k]
        partials += len(visible_partials(ws.dist))
        changed += bytes_changed(earlier, snapshot(ws.dist / f"claimwire-{V}"))
        hidden = [p.name for p in ws.dist.iterdir() if p.name.startswith(".")]
        assert all(h.startswith(f".claimwire-{version}.") for h in hidden), hidden
        if published:
            import shutil

            shutil.rmtree(final)  # so the next kill point builds it again
    return len(steps), partials, changed, steps


def test_sigkill_at_every_step_leaves_no_partial_release(tmp_path: Path, request) -> None:
    ws = workspace(tmp_path)
    assert ws.build() == 0
    original = snapshot(ws.dist / f"claimwire-{V}")
    new_points, new_partials, new_changed, steps = _kill_everywhere(ws, tmp_path, "0.2.0")
    # the steps of a build, in order: lock, staging, four Parquet configs, card, rename, unlock
    assert steps[:4] == [
        "os.mkdir .",
        "open .claimwire-0.2.0.lock",
        "flock op=6",
        "os.mkdir .claimwire-0.2.0.partial-*",
    ]
    assert steps[-2] == "os.rename .claimwire-0.2.0.partial-*"
    assert steps[-1] == "os.remove .claimwire-0.2.0.lock"
    assert sum(s.startswith("parquet-open") for s in steps) == 4
    same_points, same_partials, same_changed, _ = _kill_everywhere(ws, tmp_path, V)
    assert (new_partials, new_changed, same_partials, same_changed) == (0, 0, 0, 0)
    # the next build sweeps what the killed ones left behind
    assert ws.build("--version", "0.2.0") == 0
    assert sorted(p.name for p in ws.dist.iterdir()) == sorted(
        [f"claimwire-{V}", "claimwire-0.2.0"]
    )
    assert snapshot(ws.dist / f"claimwire-{V}") == original
    verify(ws.dist / f"claimwire-{V}")
    report(
        request.config,
        f"SIGKILL: {new_points + same_points} kill points tested "
        f"({new_points} in a new release, {same_points} in a rebuild of an existing one), "
        f"{new_partials + same_partials} partial releases found, "
        f"{new_changed + same_changed} bytes changed in earlier releases",
    )


def test_file_size_limit_mid_write_is_a_clear_error(tmp_path: Path, capsys) -> None:
    """RLIMIT_FSIZE makes the kernel refuse a write half-way through a file, like a full disk."""
    ws = workspace(tmp_path)
    assert ws.build() == 0
    capsys.readouterr()
    earlier = snapshot(ws.dist / f"claimwire-{V}")
    largest = max(len(b) for b in earlier.values())

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest // 2, largest // 2))

    log = tmp_path / "limited.log"
    run = start(lambda: ws.build("--version", "0.2.0"), ws.dist, log, before=limit)
    _, status = os.waitpid(run.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1
    err = log.read_text()
    assert "error: " in err and "cannot write the release: " in err and "File too large" in err
    assert "holds no partial release" in err and "Traceback" not in err
    assert sorted(p.name for p in ws.dist.iterdir()) == [f"claimwire-{V}"]
    assert snapshot(ws.dist / f"claimwire-{V}") == earlier


@contextlib.contextmanager
def tmpfs(where: Path, options: str):
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "claimwire-test", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        message = f"cannot mount a tmpfs here: {done.stderr.decode().strip()}"
        if in_ci():  # the disk-full and read-only cases would otherwise pass unseen in CI
            pytest.fail(f"CI is set and {message}", pytrace=False)
        pytest.skip(message)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_tmpfs_that_cannot_be_mounted_skips_locally_and_fails_in_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    failed = pytest.raises(
        pytest.fail.Exception, match="^CI is set and cannot mount a tmpfs here: "
    )
    with failed, tmpfs(tmp_path / "in-ci", "no-such-tmpfs-option"):
        pass
    for unset in ("", "0", "false"):
        monkeypatch.setenv("CI", unset)
        skipped = pytest.raises(pytest.skip.Exception, match="^cannot mount a tmpfs here: ")
        with skipped, tmpfs(tmp_path / f"local-{unset}", "no-such-tmpfs-option"):
            pass


def test_disk_full_is_a_clear_error(tmp_path: Path, capsys) -> None:
    ws = workspace(tmp_path)
    with tmpfs(tmp_path / "small", "size=24k") as small:
        code = ws.build("--out", str(small))
        out, err = capsys.readouterr()
        assert code == 1
        assert "cannot write the release: " in err and "No space left on device" in err
        assert "Traceback" not in err and "built" not in out
        assert list(small.iterdir()) == []


def test_read_only_output_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    ws = workspace(tmp_path)
    with tmpfs(tmp_path / "ro", "ro,size=64k") as ro:
        code = ws.build("--out", str(ro))
        err = capsys.readouterr().err
        assert code == 1
        assert f"{ro}/.claimwire-{V}.lock: cannot write the release: Read-only file system" in err
        assert list(ro.iterdir()) == []
        assert "Traceback" not in err


def test_output_folder_that_is_a_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    ws = workspace(tmp_path)
    blocker = tmp_path / "dist-file"
    blocker.write_text("not a folder\n")
    code = ws.build("--out", str(blocker / "sub"))
    err = capsys.readouterr().err
    assert code == 1
    assert f"{blocker / 'sub'}: cannot write the release: Not a directory" in err
    assert blocker.read_text() == "not a folder\n"
