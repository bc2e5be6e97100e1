"""Articles behind an fsspec URL (``memory://``, ``file://``, ``s3://`` ...) are read in place by
every worker: the release is byte for byte the one built from the local folder, with one process,
a pool of two and a Dask cluster; a broken article behind a URL is reported as a local one, the
URL and the file named."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from distributed import LocalCluster
from support.corpus import per_task_corpus
from support.helpers import ROOT, SEED_ID

from builder import DATASET_VERSION
from builder.cli.main import main
from builder.errors import ClaimwireError
from builder.io.storage import ArticleStore
from builder.pipeline.attribution import uncleared
from builder.pipeline.build import build

N = 120


def _checksums(release: Path) -> bytes:
    return (release / "checksums.tsv").read_bytes()


def _to_memory(folder: Path, url: str) -> None:
    fs = fsspec.filesystem("memory")
    root = url.removeprefix("memory://")
    if fs.exists(root):
        fs.rm(root, recursive=True)
    for path in sorted(folder.iterdir()):
        fs.pipe_file(f"{root}/{path.name}", path.read_bytes())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A synthetic export of N tasks and its articles."""
    export, articles, _ = per_task_corpus(tmp_path_factory.mktemp("corpus"), N, seed=23)
    return export, articles


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as c:
        yield c.scheduler_address


def test_a_local_store_never_imports_fsspec_and_names_files_by_path(tmp_path: Path):
    store = ArticleStore(tmp_path)
    assert store.is_local and store.file("a.json") == str(tmp_path / "a.json")
    url = ArticleStore("s3://bucket/articles/")
    assert not url.is_local and url.file("a.json") == "s3://bucket/articles/a.json"
    assert ArticleStore("articles").absolute().path.is_absolute()
    assert url.absolute() == url


def test_shipped_articles_in_memory_give_the_recorded_release(tmp_path: Path):
    url = "memory://shipped/articles"
    _to_memory(ROOT / "articles", url)
    kw = dict(recorded=ROOT / "releases")
    exports = [ROOT / "annotations/exports"]
    local = build(ROOT / "articles", exports, tmp_path / "local", "1.0.0", **kw)
    remote = build(url, exports, tmp_path / "remote", "1.0.0", **kw)
    assert _checksums(remote.path) == _checksums(local.path)
    assert remote.articles == local.articles
    recorded = (ROOT / "releases/1.0.0.tsv").read_text(encoding="utf-8")
    assert _checksums(remote.path).decode().split("\t")[0] in recorded


def test_exclude_uncleared_reads_the_licences_behind_the_url(tmp_path: Path):
    url = "memory://uncleared/articles"
    _to_memory(ROOT / "articles", url)
    assert uncleared(url) == uncleared(ROOT / "articles") == [SEED_ID]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_url_gives_the_local_bytes(corpus, tmp_path: Path, jobs: int):
    export, articles = corpus
    local = build(articles, [export], tmp_path / "local", "1.0.0", jobs=1)
    remote = build(
        articles.as_uri(), [export], tmp_path / "remote", "1.0.0", jobs=jobs, batch_tasks=16
    )
    assert _checksums(remote.path) == _checksums(local.path)
    assert remote.tasks == local.tasks == N


def test_dask_workers_read_the_articles_at_the_url(corpus, cluster: str, tmp_path: Path):
    """The command line, with --engine dask on a cluster of two worker processes."""
    export, articles = corpus
    common = ["build", "--annotations", str(export), "--recorded", str(ROOT / "releases")]
    assert main([*common, "--articles", str(articles), "--out", str(tmp_path / "local")]) == 0
    args = [*common, "--articles", articles.as_uri(), "--out", str(tmp_path / "dask")]
    assert main([*args, "--engine", "dask", "--address", cluster]) == 0
    release = f"claimwire-{DATASET_VERSION}"
    assert _checksums(tmp_path / "dask" / release) == _checksums(tmp_path / "local" / release)


def test_the_cache_reads_the_articles_at_the_url(corpus, tmp_path: Path):
    export, articles = corpus
    url = articles.as_uri()
    cache = tmp_path / "cache"
    first = build(url, [export], tmp_path / "a", "1.0.0", cache_dir=cache)
    again = build(url, [export], tmp_path / "b", "1.0.0", cache_dir=cache)
    local = build(articles, [export], tmp_path / "c", "1.0.0")
    assert _checksums(first.path) == _checksums(again.path) == _checksums(local.path)


@pytest.mark.parametrize(
    ("broken", "file"),
    [
        (f"{SEED_ID}.txt", f"{SEED_ID}.json"),  # metadata without its raw text
        ("sources.json", "sources.json"),  # no cleaning rules
    ],
)
def test_a_missing_file_behind_a_url_is_named_as_a_local_one(
    tmp_path: Path, broken: str, file: str
):
    local_dir = tmp_path / "articles"
    shutil.copytree(ROOT / "articles", local_dir)
    (local_dir / broken).unlink()
    url = "memory://broken/articles"
    _to_memory(local_dir, url)
    exports = [ROOT / "annotations/exports"]
    errors = []
    for source in (local_dir, url):
        with pytest.raises(ClaimwireError) as exc:
            build(source, exports, tmp_path / "out", "1.0.0")
        errors.append(exc.value.problems[0])
    at_path, at_url = errors
    assert at_path.file == str(local_dir / file)
    assert at_url.file == f"{url}/{file}"
    assert at_url.message == at_path.message
    assert at_url.expected == at_path.expected
    assert not (tmp_path / "out" / "claimwire-1.0.0").exists()


def test_an_unknown_protocol_says_what_to_install(tmp_path: Path, capsys):
    args = ["build", "--articles", "nosuchproto://bucket/articles", "--out", str(tmp_path)]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "nosuchproto://bucket/articles" in err and "fsspec driver" in err
