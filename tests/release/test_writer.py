"""Release folders are readable by others (0755 folders, 0644 files under a 022 umask), and the
version lock degrades to a clear error where the platform has no file locking."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import ROOT, workspace


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_release_folders_and_files_follow_the_umask(tmp_path: Path, mask: int):
    ws = workspace(tmp_path)
    old = os.umask(mask)
    try:
        assert ws.build("--version", "9.9.9") == 0
    finally:
        os.umask(old)
    release = ws.dist / "claimwire-9.9.9"
    modes = {
        p.relative_to(release).as_posix() or ".": stat.S_IMODE(p.stat().st_mode)
        for p in [release, *release.rglob("*")]
    }
    assert modes["."] == 0o777 & ~mask
    assert {m for p, m in modes.items() if (release / p).is_dir()} == {0o777 & ~mask}
    assert {m for p, m in modes.items() if (release / p).is_file()} == {0o666 & ~mask}
    assert "checksums.tsv" in modes and "data/documents/train-00000-of-00001.parquet" in modes


def test_without_fcntl_the_package_imports_and_locking_says_why(tmp_path: Path):
    """As on a platform with neither fcntl nor msvcrt: import works, a build fails clearly."""
    ws = workspace(tmp_path)
    code = (
        "import sys\nsys.modules['fcntl'] = None\nsys.modules['msvcrt'] = None\n"
        "import builder\nfrom builder.cli.main import main\n"
        f"sys.exit(main(['build', '--articles', {str(ws.articles)!r}, '--annotations', "
        f"{str(ws.export.parent)!r}, '--out', {str(ws.dist)!r}]))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert (
        "cannot lock the release folder: this platform has neither fcntl nor msvcrt" in run.stderr
    )
    assert not any(p.name.startswith("claimwire-") for p in ws.dist.iterdir())
