"""The Dask engine builds the same release as the local one, byte for byte: from the shipped
exports, from a synthetic JSON array and from a folder of per-task files, on a cluster of two
worker processes. It stops at the same first bad task, and a lost worker, Ctrl-C or a missing
extra leave nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import psutil
import pytest
from distributed import Client, LocalCluster
from support.corpus import per_task_corpus
from support.helpers import ROOT

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.errors import ClaimwireError
from builder.pipeline.build import build

sys.path.insert(0, str(ROOT / "bench"))

N = 300


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A synthetic export of N tasks, its articles, and the same tasks as per-task files."""
    return per_task_corpus(tmp_path_factory.mktemp("corpus"), N, seed=19)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """The address of a cluster of two worker processes, one thread each, shared by the tests
    that do not stop workers."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c.scheduler_address


def _checksums(release: Path) -> bytes:
    return (release / "checksums.tsv").read_bytes()


def _descendants() -> set[int]:
    """Processes started by this one, but multiprocessing's resource tracker (one per process,
    kept for its lifetime)."""
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if "resource_tracker" not in " ".join(p.cmdline())
    }


def test_shipped_exports_give_the_recorded_release(tmp_path: Path):
    """From the shipped exports, on a cluster the build starts (2 workers) and stops."""
    kw = dict(recorded=ROOT / "releases", jobs=2)
    before = _descendants()
    local = build(ROOT / "articles", [ROOT / "annotations/exports"], tmp_path / "l", "1.0.0", **kw)
    dask = build(
        ROOT / "articles",
        [ROOT / "annotations/exports"],
        tmp_path / "d",
        "1.0.0",
        engine="dask",
        **kw,
    )
    assert _checksums(dask.path) == _checksums(local.path)
    assert b"data/documents/train-00000-of-00001.parquet" in _checksums(dask.path)
    recorded = (ROOT / "releases/1.0.0.tsv").read_text(encoding="utf-8")
    assert _checksums(dask.path).decode().split("\t")[0] in recorded
    # the build's own cluster is shut down: no scheduler, nanny or worker process is left
    deadline = time.monotonic() + 10
    while _descendants() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _descendants() - before == set()


@pytest.mark.parametrize("shape", ["JSON array", "per-task files"])
def test_dask_and_local_give_the_same_bytes(corpus, cluster: str, tmp_path: Path, shape: str):
    export, articles, folder = corpus
    source = export if shape == "JSON array" else folder
    local = build(articles, [export], tmp_path / "local", "1.0.0", jobs=1)
    dask = build(
        articles,
        [source],
        tmp_path / "dask",
        "1.0.0",
        jobs=2,
        batch_tasks=16,
        engine="dask",
        address=cluster,
    )
    assert _checksums(dask.path) == _checksums(local.path)
    assert dask.tasks == local.tasks == N


def test_a_relative_articles_path_reaches_workers_started_elsewhere(
    corpus, cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The cluster's workers were started in another working folder, as on another node."""
    export, articles, _ = corpus
    local = build(articles, [export], tmp_path / "local", DATASET_VERSION, jobs=1)
    monkeypatch.chdir(articles.parent)
    args = ["build", "--articles", articles.name, "--annotations", str(export)]
    args += ["--out", str(tmp_path / "dask"), "--engine", "dask", "--address", cluster]
    assert main(args) == 0
    assert _checksums(tmp_path / "dask" / f"claimwire-{DATASET_VERSION}") == _checksums(local.path)


def test_the_workers_read_the_build_cache_at_a_relative_path(
    corpus, cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    """A cache filled by a local build, read by the workers of a dask build run from another
    working folder with a relative --cache-dir: every task reused, the same bytes."""
    export, articles, _ = corpus
    monkeypatch.chdir(tmp_path)
    common = ["build", "--articles", str(articles), "--annotations", str(export)]
    assert main([*common, "--out", "local", "--cache-dir", "cache"]) == 0
    assert (
        main(
            [
                *common,
                "--out",
                "dask",
                "--cache-dir",
                "cache",
                "--engine",
                "dask",
                "--address",
                cluster,
            ]
        )
        == 0
    )
    assert f"cache: {N} of {N} task(s) reused" in capsys.readouterr().out
    assert _checksums(tmp_path / "dask" / f"claimwire-{DATASET_VERSION}") == _checksums(
        tmp_path / "local" / f"claimwire-{DATASET_VERSION}"
    )


def _broken(export: Path, tmp_path: Path, how: str) -> tuple[Path, int]:
    """The export with a bad task in the middle; the id of the first bad task."""
    tasks = orjson.loads(export.read_bytes())
    if how == "annotated twice":
        tasks[160]["data"]["article_id"] = tasks[3]["data"]["article_id"]
        tasks[230]["annotations"][0]["result"][0]["value"]["start"] += 1  # a bad span, later
        data = orjson.dumps(tasks)
        first = tasks[160]["id"]
    else:  # a bad span, then JSON that is no task later in the same batch
        tasks[150]["annotations"][0]["result"][0]["value"]["start"] += 1
        data = orjson.dumps(tasks)
        task = orjson.dumps(tasks[153])
        at = data.index(task)
        data = data[:at] + b'"not a task"' + data[at + len(task) :]
        first = tasks[150]["id"]
    bad = tmp_path / "bad.json"
    bad.write_bytes(data)
    return bad, first


@pytest.mark.parametrize("how", ["annotated twice", "bad span before an unparsable task"])
def test_errors_name_the_same_first_bad_task(corpus, cluster: str, tmp_path: Path, how: str):
    export, articles, _ = corpus
    bad, first = _broken(export, tmp_path, how)
    messages = []
    for name, kw in {
        "local": dict(jobs=1, batch_tasks=1),
        "dask": dict(jobs=2, batch_tasks=8, engine="dask", address=cluster),
    }.items():
        out = tmp_path / name
        with pytest.raises(ClaimwireError) as err:
            build(articles, [bad], out, "1.0.0", same_article="refuse", **kw)
        messages.append(str(err.value))
        assert list(out.iterdir()) == []  # no release, no staging folder, no lock
    assert messages[0] == messages[1]
    assert f"task {first}" in messages[0]


def test_a_lost_worker_gives_the_same_bytes_or_a_clean_failure(corpus, tmp_path: Path):
    """One of the two worker processes is killed mid-build. Dask reruns its batches on the
    other one (and the nanny starts a new worker); the driver consumes every batch once."""
    export, articles, _ = corpus
    local = build(articles, [export], tmp_path / "local", "1.0.0", jobs=1)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = sorted(client.run(os.getpid).values())
        assert len(pids) == 2
        killed = []

        def kill(tasks: int, done: int, total: int) -> None:
            if tasks >= N // 3 and not killed:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(tasks)

        out = tmp_path / "dask"
        try:
            dask = build(
                articles,
                [export],
                out,
                "1.0.0",
                jobs=2,
                batch_tasks=4,
                engine="dask",
                address=cluster.scheduler_address,
                progress=kill,
            )
        except ClaimwireError as exc:  # a clean failure: nothing left behind
            assert "Dask workers" in str(exc)
            assert list(out.iterdir()) == []
        else:
            assert _checksums(dask.path) == _checksums(local.path)
            assert dask.tasks == N
            assert [p.name for p in out.iterdir()] == ["claimwire-1.0.0"]  # no staging folder
            print("lost worker: the build completed with the same bytes")
        assert killed and killed[0] < N
        assert not psutil.pid_exists(pids[0]) or psutil.Process(pids[0]).status() == "zombie"


SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from builder.pipeline.build import build

    def slow(tasks, done, total):
        print("batch", tasks, flush=True)
        time.sleep(0.2)

    build(Path(sys.argv[1]), [Path(sys.argv[2])], Path(sys.argv[3]), "1.0.0", jobs=2,
          batch_tasks=2, engine="dask", progress=slow)
    """
)


@pytest.mark.parametrize("target", ["the build process", "its process group"])
def test_ctrl_c_leaves_nothing_behind(corpus, tmp_path: Path, target: str):
    """SIGINT mid-build, to the build process alone or to its whole process group (Ctrl-C in a
    terminal): no release, no staging folder, and no scheduler or worker process left."""
    export, articles, _ = corpus
    out = tmp_path / "dist"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(articles), str(export), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("batch "), proc.stderr.read() if proc.stderr else ""
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2  # the workers (and their nannies)
        if target == "the build process":
            os.kill(proc.pid, signal.SIGINT)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
    assert list(out.iterdir()) == []  # no release, no staging folder, no lock
    _, alive = psutil.wait_procs(children, timeout=15)
    assert alive == []


def test_without_the_extra_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys
):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    code = main(["build", "--engine", "dask", "--out", str(tmp_path / "dist")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Dask distributed, which is not installed" in err
    assert 'pip install "claimwire[dask]"' in err
    assert "Traceback" not in err
    assert not (tmp_path / "dist").exists() or list((tmp_path / "dist").iterdir()) == []


def test_address_needs_the_dask_engine(capsys):
    assert main(["build", "--address", "tcp://127.0.0.1:8786"]) == 2
    assert "needs --engine dask" in capsys.readouterr().err
