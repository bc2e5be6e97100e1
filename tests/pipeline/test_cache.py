"""The build cache: a warm build gives the bytes of a cold one, a change to a task, an article,
the cleaning rules or the scheme mapping is a miss, errors are never kept, a killed build leaves
the cache usable, and the size cap holds."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from support.helpers import ROOT, SEED_ID, workspace

from builder import DATASET_VERSION
from builder.cli.main import CACHE_DIR, CACHE_MAX_MB, main
from builder.contracts.scheme import draft_scheme
from builder.core.ids import id_digest
from builder.io.exports import RawTask, raw_tasks
from builder.io.storage import ArticleStore
from builder.pipeline import cache as task_cache
from builder.pipeline.build import build

sys.path.insert(0, str(ROOT / "bench"))
from generate import generate  # noqa: E402


def _checksums(out: Path) -> bytes:
    (release,) = [p for p in out.iterdir() if p.name.startswith("claimwire-")]
    return (release / "checksums.tsv").read_bytes()


def _build(articles: Path, exports: Path, out: Path, cache: Path | None, jobs: int = 1, **kw):
    return build(
        articles,
        [exports],
        out,
        DATASET_VERSION,
        jobs=jobs,
        recorded=ROOT / "releases",
        cache_dir=cache,
        batch_tasks=16,
        **kw,
    )


def _entries(cache: Path) -> tuple[int, int]:
    """Entries in the cache, and the bytes of the entries and of the blobs of their rows."""
    with sqlite3.connect(cache / task_cache.DB_FILE) as db:
        try:
            n, size = db.execute("SELECT count(*), coalesce(sum(size), 0) FROM tasks").fetchone()
            (blobs,) = db.execute("SELECT coalesce(sum(size), 0) FROM blobs").fetchone()
        except sqlite3.OperationalError:  # being created by the build
            return 0, 0
    return n, size + blobs


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_warm_build_of_the_shipped_exports_gives_the_cold_bytes(tmp_path: Path, jobs: int):
    articles, exports = ROOT / "articles", ROOT / "annotations" / "exports"
    plain = _build(articles, exports, tmp_path / "plain", None, jobs)
    cold = _build(articles, exports, tmp_path / "cold", tmp_path / "cache", jobs)
    warm = _build(articles, exports, tmp_path / "warm", tmp_path / "cache", jobs)
    assert plain.cached == cold.cached == 0
    assert warm.cached == warm.tasks > 0  # every task came from the cache
    assert _checksums(tmp_path / "plain") == _checksums(tmp_path / "cold")
    assert _checksums(tmp_path / "cold") == _checksums(tmp_path / "warm")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    export, articles = generate(300, tmp_path_factory.mktemp("synthetic"), seed=11)
    return articles, export


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_warm_build_of_a_synthetic_export_gives_the_cold_bytes(
    tmp_path: Path, synthetic: tuple[Path, Path], jobs: int
):
    articles, export = synthetic
    plain = _build(articles, export, tmp_path / "plain", None, jobs)
    _build(articles, export, tmp_path / "cold", tmp_path / "cache", jobs)
    warm = _build(articles, export, tmp_path / "warm", tmp_path / "cache", jobs)
    assert warm.cached == warm.tasks == plain.tasks == 300
    assert _checksums(tmp_path / "plain") == _checksums(tmp_path / "cold")
    assert _checksums(tmp_path / "cold") == _checksums(tmp_path / "warm")
    # a task changed in a copy of the export: the others still come from the cache
    data = export.read_bytes()
    seventh = next(t for t in raw_tasks(export) if isinstance(t, RawTask) and t.index == 7)
    task = orjson.loads(seventh.data)
    _relabel(task)
    changed = tmp_path / "changed.json"  # the other tasks byte for byte
    end = seventh.offset + len(seventh.data)
    changed.write_bytes(data[: seventh.offset] + orjson.dumps(task) + data[end:])
    again = _build(articles, changed, tmp_path / "again", tmp_path / "cache", jobs)
    _build(articles, changed, tmp_path / "fresh", None, jobs)
    assert again.cached == 299
    assert _checksums(tmp_path / "again") == _checksums(tmp_path / "fresh")
    assert _checksums(tmp_path / "again") != _checksums(tmp_path / "warm")


def _relabel(task: dict[str, Any]) -> None:
    """Change the label of the task's first entity (PER and ORG swap, any other becomes PER)."""
    entity = next(r for r in task["annotations"][0]["result"] if r["from_name"] == "entity")
    label = entity["value"]["labels"][0]
    entity["value"]["labels"] = ["ORG" if label == "PER" else "PER"]


def _seed(tmp: Path) -> tuple[Path, Path, Path]:
    ws = workspace(tmp / "in")
    return ws.articles, ws.export, tmp / "cache"


def _after_change(tmp: Path, articles: Path, export: Path, cache: Path, **kw) -> None:
    """Build with the cache, and without it: the same bytes, and the cache was not used."""
    warm = _build(articles, export, tmp / "warm", cache, **kw)
    _build(articles, export, tmp / "plain", None, **kw)
    assert warm.cached == 0
    assert _checksums(tmp / "warm") == _checksums(tmp / "plain")


def test_a_changed_task_misses(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    _build(articles, export, tmp_path / "before", cache)
    tasks = json.loads(export.read_text(encoding="utf-8"))
    _relabel(tasks[0])
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    _after_change(tmp_path, articles, export, cache)
    assert _checksums(tmp_path / "warm") != _checksums(tmp_path / "before")


def test_a_changed_article_file_misses(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    _build(articles, export, tmp_path / "before", cache)
    meta_path = articles / f"{SEED_ID}.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["title"] += " (updated)"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    _after_change(tmp_path, articles, export, cache)
    assert _checksums(tmp_path / "warm") != _checksums(tmp_path / "before")


def test_changed_cleaning_rules_miss(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    _build(articles, export, tmp_path / "before", cache)
    rules_path = articles / "sources.json"
    rules = json.loads(rules_path.read_text(encoding="utf-8"))
    for rule in rules.values():
        rule.setdefault("drop_lines", []).append("^a line no article has$")
    rules_path.write_text(json.dumps(rules), encoding="utf-8")
    _after_change(tmp_path, articles, export, cache)


def test_a_changed_scheme_mapping_misses(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    config = (ROOT / "annotations" / "labeling_config.xml").read_text(encoding="utf-8")
    doc = draft_scheme(config, "labeling_config.xml").document
    mapping = tmp_path / "scheme.json"
    mapping.write_text(json.dumps(doc), encoding="utf-8")
    assert main(_cli(articles, export, tmp_path / "before", cache, "--scheme", str(mapping))) == 0
    doc["spans"]["entity"]["labels"]["PER"] = "ORG"  # people now read as organisations
    mapping.write_text(json.dumps(doc), encoding="utf-8")
    assert main(_cli(articles, export, tmp_path / "warm", cache, "--scheme", str(mapping))) == 0
    assert main(_cli(articles, export, tmp_path / "plain", None, "--scheme", str(mapping))) == 0
    assert _checksums(tmp_path / "warm") == _checksums(tmp_path / "plain")
    assert _checksums(tmp_path / "warm") != _checksums(tmp_path / "before")


def _cli(articles: Path, export: Path, out: Path, cache: Path | None, *extra: str) -> list[str]:
    where = ["--cache-dir", str(cache)] if cache is not None else ["--no-cache"]
    return [
        "build",
        "--articles",
        str(articles),
        "--annotations",
        str(export),
        "--out",
        str(out),
        "--recorded",
        str(ROOT / "releases"),
        *where,
        *extra,
    ]


def test_the_command_line_reuses_the_cache_beside_the_output_folder(tmp_path: Path, capsys):
    articles, export, _ = _seed(tmp_path)
    out = tmp_path / "dist"
    assert main(_cli(articles, export, out, None)[:-1]) == 0  # no cache flag: the default
    assert (tmp_path / CACHE_DIR / task_cache.DB_FILE).is_file()
    assert "cache: 0 of 1 task(s) reused" in capsys.readouterr().out
    assert main(_cli(articles, export, tmp_path / "again", None)[:-1]) == 0
    assert "cache: 1 of 1 task(s) reused" in capsys.readouterr().out
    assert (CACHE_DIR, CACHE_MAX_MB) == (task_cache.DIR_NAME, task_cache.MAX_MB)


def test_errors_are_not_kept(tmp_path: Path, capsys):
    articles, export, cache = _seed(tmp_path)
    tasks = json.loads(export.read_text(encoding="utf-8"))
    entity = next(r for r in tasks[0]["annotations"][0]["result"] if r["from_name"] == "entity")
    entity["value"]["end"] = 10**6  # past the end of the text
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    errors = []
    for _ in range(2):  # the second build reports the same problem: nothing was kept
        assert main(_cli(articles, export, tmp_path / "dist", cache)) == 1
        errors.append(capsys.readouterr().err)
        assert _entries(cache)[0] == 0  # no task kept (the article read is)
    assert "task 1" in errors[0]
    assert errors[0] == errors[1]


def test_quarantined_tasks_are_processed_again_with_the_same_bytes(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    tasks = json.loads(export.read_text(encoding="utf-8"))
    entity = next(r for r in tasks[0]["annotations"][0]["result"] if r["from_name"] == "entity")
    entity["value"]["end"] = 10**6
    export.write_text(json.dumps(tasks, ensure_ascii=False), encoding="utf-8")
    kw = {"on_invalid": "quarantine"}
    cold = _build(articles, export, tmp_path / "cold", cache, **kw)
    warm = _build(articles, export, tmp_path / "warm", cache, **kw)
    assert sum(cold.quarantined.values()) > 0
    assert warm.cached == 0  # its units' place in the export is not part of the key
    assert _checksums(tmp_path / "cold") == _checksums(tmp_path / "warm")


def test_the_cap_evicts_the_least_recently_used(tmp_path: Path, synthetic: tuple[Path, Path]):
    articles, export = synthetic
    cache = tmp_path / "cache"
    _build(articles, export, tmp_path / "cold", cache, cache_max_mb=1)
    n, size = _entries(cache)
    assert 0 < n < 300
    assert size <= 1 << 20
    warm = _build(articles, export, tmp_path / "warm", cache, cache_max_mb=1)
    assert 0 < warm.cached < 300
    assert _checksums(tmp_path / "cold") == _checksums(tmp_path / "warm")
    assert _entries(cache)[1] <= 1 << 20


def test_a_cache_of_another_layout_is_made_anew(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    cache.mkdir()
    with sqlite3.connect(cache / task_cache.DB_FILE) as db:  # the tables of an older version
        db.execute(
            "CREATE TABLE tasks (key BLOB PRIMARY KEY, size INTEGER, used INTEGER, "
            "blob BLOB, value BLOB)"
        )
        db.execute("CREATE TABLE blobs (key BLOB PRIMARY KEY, size INTEGER, data BLOB)")
        db.execute("INSERT INTO blobs VALUES (x'00', 1, x'00')")
    cold = _build(articles, export, tmp_path / "cold", cache)
    warm = _build(articles, export, tmp_path / "warm", cache)
    assert (cold.cached, warm.cached) == (0, warm.tasks)
    assert _checksums(tmp_path / "cold") == _checksums(tmp_path / "warm")
    with sqlite3.connect(cache / task_cache.DB_FILE) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (task_cache.SCHEMA,)
        assert db.execute("SELECT count(*) FROM blobs WHERE key = x'00'").fetchone() == (0,)


def test_a_warm_build_marks_what_it_used(tmp_path: Path, synthetic: tuple[Path, Path]):
    """Entries are marked used through their group (one row write for a batch's documents);
    what a warm build used is then evicted after what it did not."""
    articles, export = synthetic
    cache = tmp_path / "cache"
    _build(articles, export, tmp_path / "cold", cache)
    with sqlite3.connect(cache / task_cache.DB_FILE) as db:
        (stamp,) = db.execute("SELECT max(used) FROM blobs").fetchone()
    first = next(t for t in raw_tasks(export) if isinstance(t, RawTask))
    part = tmp_path / "part.json"  # the first task alone: its blob, and the articles, are used
    part.write_bytes(b"[" + first.data + b"]")
    _build(articles, part, tmp_path / "part", cache)
    with sqlite3.connect(cache / task_cache.DB_FILE) as db:
        used = db.execute("SELECT count(*) FROM blobs WHERE used > ?", (stamp,)).fetchone()[0]
        n, size = _entries(cache)
    assert used >= 2  # the first task's blob and the article groups, not the other blobs
    _build(articles, part, tmp_path / "again", cache, cache_max_mb=max(1, size >> 21))
    again = _build(articles, part, tmp_path / "again2", cache)
    assert again.cached == 1  # kept through the eviction: it was used last
    assert _entries(cache)[0] < n


def test_a_cached_task_is_checked_against_the_article_files_the_pre_pass_read(tmp_path: Path):
    """The article files' digest of a task found in the cache comes from the pre-pass (read
    once per build); an article it did not read is read at the lookup."""
    articles, export, cache = _seed(tmp_path)
    _build(articles, export, tmp_path / "cold", cache)
    store = ArticleStore(articles)
    code = task_cache.code_version()
    prefix = task_cache.settings(store, None, False, False, code=code)
    tasks = [t for t in raw_tasks(export) if isinstance(t, RawTask)]
    with task_cache.opened(task_cache.TaskCache(cache, 1 << 30, prefix, store)) as opened:
        assert opened is not None
        reader = opened.reader
        digest = task_cache.article_digest(store, SEED_ID)
        assert digest is not None
        ids = np.array([id_digest(SEED_ID)], dtype=np.uint64)
        same = task_cache.ArticleFiles.of([ids], [digest])
        other = task_cache.ArticleFiles.of([ids], [bytes(16)])
        elsewhere = task_cache.ArticleFiles.of([ids + np.uint64(1)], [bytes(16)])
        assert len(reader.lookup(tasks)[1]) == len(reader.lookup(tasks, same)[1]) == 1
        assert len(reader.lookup(tasks, elsewhere)[1]) == 1  # not read: its files are
        assert reader.lookup(tasks, other)[1] == {}  # read with other bytes: a miss


def test_a_killed_build_leaves_the_cache_valid(tmp_path: Path, synthetic: tuple[Path, Path]):
    articles, export = synthetic
    cache = tmp_path / "cache"
    cmd = [sys.executable, "-m", "builder", *_cli(articles, export, tmp_path / "dist", cache)]
    cmd += ["--jobs", "2"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if (cache / task_cache.DB_FILE).is_file() and _entries(cache)[0] >= 50:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the build ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the build and its workers, mid-way
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert not (tmp_path / "dist" / f"claimwire-{DATASET_VERSION}").exists()
    with sqlite3.connect(cache / task_cache.DB_FILE) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    kept = _entries(cache)[0]
    assert 50 <= kept < 300
    again = _build(articles, export, tmp_path / "again", cache, jobs=2)
    _build(articles, export, tmp_path / "plain", None)
    assert again.cached >= kept
    assert _checksums(tmp_path / "again") == _checksums(tmp_path / "plain")


def test_a_broken_cache_file_is_a_clear_error(tmp_path: Path, capsys):
    articles, export, cache = _seed(tmp_path)
    cache.mkdir()
    (cache / task_cache.DB_FILE).write_bytes(b"not a database" * 100)
    assert main(_cli(articles, export, tmp_path / "dist", cache)) == 2
    err = capsys.readouterr().err
    assert str(cache / task_cache.DB_FILE) in err
    assert "--no-cache" in err


def test_a_cache_that_cannot_be_written_leaves_the_build_complete(tmp_path: Path):
    articles, export, cache = _seed(tmp_path)
    _build(articles, export, tmp_path / "plain", None)
    largest = max(p.stat().st_size for p in (tmp_path / "plain").rglob("*") if p.is_file())

    def limit() -> None:  # the kernel refuses writes past this size, as a full disk would
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest * 3 // 2, largest * 3 // 2))

    cmd = [sys.executable, "-m", "builder", *_cli(articles, export, tmp_path / "dist", cache)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, preexec_fn=limit)
    assert done.returncode == 0, done.stderr
    assert f"warning: the build cache in {cache} could not be written" in done.stderr
    assert _checksums(tmp_path / "dist") == _checksums(tmp_path / "plain")
    again = _build(articles, export, tmp_path / "again", cache)  # no limit: it is written
    assert again.cached == 0
    assert _checksums(tmp_path / "again") == _checksums(tmp_path / "plain")
    assert _build(articles, export, tmp_path / "warm", cache).cached == 1
