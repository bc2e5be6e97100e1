"""The release is byte-identical however it was built: one task at a time, streamed in batches,
in worker processes, from one array or a folder of per-task files. Rows keep the input order.
Ctrl-C leaves nothing behind."""

import multiprocessing
import sys
from collections import Counter
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from support.corpus import per_task_corpus
from support.helpers import ROOT

from builder.cli.main import main
from builder.core.splits import SplitSpec
from builder.io.exports import read_export
from builder.pipeline.build import build
from builder.release import writer as release_writer
from builder.release.writer import SplitWriter

sys.path.insert(0, str(ROOT / "bench"))

N = 90
ROW_GROUP = 16


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A synthetic export of N tasks, its articles, and the same tasks as per-task files."""
    return per_task_corpus(tmp_path_factory.mktemp("corpus"), N, seed=11)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def builds(corpus, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    export, articles, folder = corpus
    modes = {
        "plain: one task at a time": dict(exports=[export], jobs=1, batch_tasks=1),
        "streamed in batches": dict(exports=[export], jobs=1, batch_tasks=7),
        "parallel": dict(exports=[export], jobs=2, batch_tasks=5),
        "parallel, per-task files": dict(exports=[folder], jobs=2, batch_tasks=64),
    }
    out = {}
    for name, kw in modes.items():
        dist = tmp_path_factory.mktemp("dist")
        result = build(articles, out=dist, version="1.0.0", row_group_size=ROW_GROUP, **kw)
        out[name] = result.path
    return out


def test_every_way_of_building_gives_the_same_bytes(builds: dict[str, Path]):
    trees = {name: _tree(path) for name, path in builds.items()}
    reference = trees.pop("plain: one task at a time")
    # 4 configs x 3 splits + card, release notes, croissant, attribution, checksums
    assert len(reference) == 17
    for name, tree in trees.items():
        assert tree == reference, name


def test_rows_keep_the_input_order(corpus, builds: dict[str, Path]):
    export, articles, _ = corpus
    release = builds["parallel"]
    spec = SplitSpec()
    expected: dict[str, list[str]] = {}
    documented = 0
    for task in read_export(export):
        if all(a.get("was_cancelled") for a in task.annotations):
            continue  # every annotation skipped: no document
        documented += 1
        meta = orjson.loads((articles / f"{task.article_id}.json").read_bytes())
        expected.setdefault(spec.assign(meta["group"]), []).append(task.article_id)
    assert documented == 90
    assert {s: len(ids) for s, ids in expected.items()} == {
        "train": 54,
        "validation": 12,
        "test": 24,
    }
    for split, ids in expected.items():
        table = pq.read_table(release / f"data/documents/{split}-00000-of-00001.parquet")
        assert table.column("id").to_pylist() == ids


def test_row_groups_have_a_fixed_size(builds: dict[str, Path]):
    meta = pq.ParquetFile(
        builds["parallel"] / "data/entities/train-00000-of-00001.parquet"
    ).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert set(sizes[:-1]) == {ROW_GROUP}
    assert 0 < sizes[-1] <= ROW_GROUP
    assert sum(sizes) == meta.num_rows


def test_first_error_in_input_order_wins_in_parallel(corpus, tmp_path: Path):
    export, articles, _ = corpus
    tasks = orjson.loads(export.read_bytes())
    tasks[60]["data"]["article_id"] = tasks[3]["data"]["article_id"]  # annotated twice
    tasks[75]["annotations"][0]["result"][0]["value"]["start"] += 1  # a bad span, later
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(tasks))
    messages = []
    for jobs, batch in ((1, 1), (2, 4)):
        with pytest.raises(Exception) as err:
            build(
                articles,
                [bad],
                tmp_path / f"d{jobs}",
                "1.0.0",
                jobs=jobs,
                batch_tasks=batch,
                same_article="refuse",
            )
        messages.append(str(err.value))
        assert not (tmp_path / f"d{jobs}").exists() or not any((tmp_path / f"d{jobs}").iterdir())
    assert messages[0] == messages[1]
    assert "article is annotated in two tasks (also " in messages[0]
    assert f"task {tasks[60]['id']}" in messages[0]


@pytest.mark.parametrize("batch", [1, 8, 64])
def test_a_bad_span_before_an_unparsable_task_wins(corpus, tmp_path: Path, batch: int):
    """A batch is parsed before it is merged; the first bad task in input order is still the
    one reported, whether the two fall in one batch or not."""
    export, articles, _ = corpus
    tasks = orjson.loads(export.read_bytes())
    tasks[10]["annotations"][0]["result"][0]["value"]["start"] += 1  # merge error, first
    data = orjson.dumps(tasks)
    # task 13 becomes JSON that is no task: a parse error, later in the same batch of 8 or 64
    at = data.index(orjson.dumps(tasks[13]))
    bad = tmp_path / "bad.json"
    bad.write_bytes(data[:at] + b'"not a task"' + data[at + len(orjson.dumps(tasks[13])) :])
    with pytest.raises(Exception) as err:
        build(articles, [bad], tmp_path / "dist", "1.0.0", jobs=2, batch_tasks=batch)
    assert "span offsets do not match the span text" in str(err.value)
    assert f"task {tasks[10]['id']}" in str(err.value)


def test_ctrl_c_stops_cleanly_and_leaves_no_partial_release(corpus, tmp_path: Path):
    export, articles, _ = corpus
    calls = []

    def interrupt(tasks: int, done: int, total: int) -> None:
        calls.append((tasks, done <= total))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(articles, [export], tmp_path, "1.0.0", jobs=2, batch_tasks=4, progress=interrupt)
    assert calls == [(4, True)]
    assert list(tmp_path.iterdir()) == []  # no release, no hidden staging folder
    assert multiprocessing.active_children() == []  # the workers are gone


def test_cli_jobs_and_quiet_progress_when_not_a_terminal(corpus, tmp_path: Path, capsys):
    export, articles, _ = corpus
    code = main(
        [
            "build",
            "--articles",
            str(articles),
            "--annotations",
            str(export),
            "--out",
            str(tmp_path),
            "--jobs",
            "2",
            "--version",
            "1.0.0",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""  # no progress bar in CI / when stderr is not a terminal
    assert "train         54 documents" in out
    counts = Counter(line.split()[0] for line in out.splitlines() if "documents" in line)
    assert counts == {"train": 1, "validation": 1, "test": 1}
    with pytest.raises(SystemExit) as exc:
        main(["build", "--jobs", "many"])
    assert exc.value.code == 2
    assert "expected a number of processes" in capsys.readouterr().err


def test_default_row_groups_are_sized_per_config(
    builds: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Without ``row_group_size``, each config gets its own size from ``ROW_GROUP_ROWS``."""
    sizes = {"documents": 7, "entities": 50, "claims": 40, "stance": 9}
    monkeypatch.setattr(release_writer, "ROW_GROUP_ROWS", sizes)
    for config, size in sizes.items():
        rows = pq.read_table(builds["parallel"] / f"data/{config}/train-00000-of-00001.parquet")
        writer = SplitWriter(tmp_path, config, "train")
        for start in range(0, rows.num_rows, 13):  # chunks that never line up with a group
            writer.add(rows.slice(start, 13))
        written = writer.close()
        assert written is not None and written.num_examples == rows.num_rows
        meta = pq.ParquetFile(tmp_path / written.path).metadata
        groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        assert rows.num_rows > size and set(groups[:-1]) == {size}, config
        assert pq.read_table(tmp_path / written.path).equals(rows), config
