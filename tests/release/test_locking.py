"""Two builds of one version at once: the lock lets exactly one write; the other is refused with
a message that says why, and the release that lands is intact."""

from __future__ import annotations

import os
from pathlib import Path

from support.helpers import workspace
from support.killpoints import finish, resume, start, wait_stopped

from builder import DATASET_VERSION as V
from builder.cli.main import main
from builder.release.verify import verify

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def test_second_build_of_the_same_version_is_refused_while_the_first_runs(tmp_path, capsys):
    ws = workspace(tmp_path)
    # the first build stops half-way through writing (lock held, staging folder half full)
    first = start(
        ws.build,
        ws.dist,
        tmp_path / "first.log",
        stop_at=(
            f"parquet-close .claimwire-{V}.partial-*/data/claims/train-00000-of-00001.parquet",
            1,
        ),
    )
    assert wait_stopped(first), (tmp_path / "first.log").read_text()
    capsys.readouterr()
    assert ws.build() == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: {ws.dist}: another build of claimwire-{V} is running "
        f"(it holds .claimwire-{V}.lock)"
    )
    assert "fix:      wait for it to finish, then build again" in err
    # the refused build touched nothing: the first one's staging folder is still there
    hidden = sorted(p.name for p in ws.dist.iterdir())
    assert hidden[0] == f".claimwire-{V}.lock" and hidden[1].startswith(f".claimwire-{V}.partial-")
    assert len(hidden) == 2
    # another version is not blocked by this one
    assert ws.build("--version", "9.0.0") == 0
    assert resume(first) == 0
    assert "built " in (tmp_path / "first.log").read_text()
    assert sorted(p.name for p in ws.dist.iterdir()) == [f"claimwire-{V}", "claimwire-9.0.0"]
    verify(ws.dist / f"claimwire-{V}")
    assert ws.build() == 0
    assert "up to date: " in capsys.readouterr().out


def test_builds_started_together_publish_one_release(tmp_path: Path):
    """Without pausing either: whichever order the kernel picks, one build publishes, every other
    one is refused by the lock or finds the identical release already there."""
    ws = workspace(tmp_path)
    ws.dist.mkdir()
    runs = [
        start(
            lambda: main(
                [
                    "build",
                    "--articles",
                    str(ws.articles),
                    "--annotations",
                    str(ws.export.parent),
                    "--out",
                    str(ws.dist),
                ]
            ),
            ws.dist,
            tmp_path / f"run{i}.log",
        )
        for i in range(3)
    ]
    codes = [finish(r) for r in runs]
    logs = [(tmp_path / f"run{i}.log").read_text() for i in range(3)]
    built = [log for log in logs if log.startswith("built ")]
    others = [log for code, log in zip(codes, logs, strict=True) if not log.startswith("built ")]
    assert len(built) == 1, logs
    for code, log in zip(codes, logs, strict=True):
        assert code in (0, 2) and "Traceback" not in log
        if code == 2:
            assert f"another build of claimwire-{V} is running" in log
    assert all(o.startswith(("up to date: ", "error: ")) for o in others)
    assert sorted(p.name for p in ws.dist.iterdir()) == [f"claimwire-{V}"]
    verify(ws.dist / f"claimwire-{V}")
