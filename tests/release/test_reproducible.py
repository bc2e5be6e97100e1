"""Same inputs, same bytes (whatever the folder, hash seed, locale or time zone); a single flipped
byte anywhere in a release is caught and the damaged file named; recorded releases stay put."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.figures import report
from support.helpers import ROOT, workspace

from builder import DATASET_VERSION
from builder.errors import InvalidDataError
from builder.release.verify import verify

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ENVIRONMENTS = [
    {"PYTHONHASHSEED": "0", "LC_ALL": "C", "TZ": "UTC"},
    {"PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8", "TZ": "Pacific/Kiritimati"},
]


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_two_builds_in_different_places_and_environments_are_byte_identical(tmp_path: Path):
    procs = []
    for i, extra in enumerate(ENVIRONMENTS):
        ws = workspace(tmp_path / f"place-{i}" / ("deeper" * i or "here"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
        env.update(extra, HF_DATASETS_OFFLINE="1")
        # relative paths from different working folders: nothing may depend on where it ran
        procs.append(
            (
                ws,
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "builder",
                        "build",
                        "--articles",
                        "articles",
                        "--annotations",
                        "exports",
                        "--out",
                        "dist",
                    ],
                    cwd=ws.root,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                ),
            )
        )
    releases = []
    for ws, proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()
        releases.append(_files(ws.dist / f"claimwire-{DATASET_VERSION}"))
    first, second = releases
    assert sorted(first) == sorted(second)
    assert {name for name in first if first[name] != second[name]} == set()


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace(tmp_path_factory.mktemp("flip"))
    assert ws.build() == 0
    return ws.dist / f"claimwire-{DATASET_VERSION}"


def test_a_single_flipped_byte_in_any_file_is_named(release: Path, tmp_path: Path, request):
    files = _files(release)
    flips = 0
    for name, data in files.items():
        for where in sorted({0, len(data) // 3, len(data) // 2, len(data) - 2}):
            copy = tmp_path / f"copy-{flips}"
            shutil.copytree(release, copy)
            damaged = bytearray(data)
            damaged[where] ^= 0x01
            (copy / name).write_bytes(bytes(damaged))
            with pytest.raises(InvalidDataError) as err:
                verify(copy, load=False)
            named = {Path(p.file).relative_to(copy).as_posix() for p in err.value.problems}
            assert named == {name}, (name, where, str(err.value))
            shutil.rmtree(copy)
            flips += 1
    assert (
        flips == 4 * len(files) == 36
    )  # card, notes, Croissant, attribution, checksums, 4 Parquet
    report(
        request.config,
        f"verify: {flips} single-byte flips in {len(files)} release files, "
        f"{flips} detected with the right file named",
    )


def test_damaged_checksums_file_is_reported_not_crashed(release: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    shutil.copytree(release, copy)
    sums = copy / "checksums.tsv"
    lines = sums.read_bytes().split(b"\n")
    sums.write_bytes(b"\n".join(lines[:2] + [b"garbage"] + lines[3:]))
    with pytest.raises(InvalidDataError) as err:
        verify(copy, load=False)
    assert str(err.value).startswith(
        f"{sums}: checksums.tsv is damaged: its content does not match its own digest"
    )


def _release_check():
    spec = importlib.util.spec_from_file_location("release_check", ROOT / "releases" / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recorded_release_would_not_change():
    """What CI runs: rebuilding the current version from the committed inputs must give the
    recorded checksums, or the version must be bumped."""
    ok, message = _release_check().check()
    assert ok, message
    assert (ROOT / "releases" / f"{DATASET_VERSION}.tsv").is_file(), message


def test_release_check_fails_when_a_recorded_version_would_change(tmp_path: Path):
    check = _release_check()
    recorded = (ROOT / "releases" / f"{DATASET_VERSION}.tsv").read_text()
    records = tmp_path / "releases"
    records.mkdir()
    (records / f"{DATASET_VERSION}.tsv").write_text(recorded.replace("\t7", "\t8", 1))
    ok, message = check.check(records=records)
    assert not ok
    assert message.startswith(
        f"{DATASET_VERSION} is released and these inputs would change it; bump the version"
    )
    ok, message = check.check(version="9.9.9", records=records)
    assert ok and message.startswith("9.9.9 is not recorded yet")
