"""The benchmark's generator and runner on a few tasks (no timing is asserted)."""

import json
import re
import sys
from pathlib import Path

import orjson
from support.helpers import ROOT

from builder.io.articles import read_articles

sys.path.insert(0, str(ROOT / "bench"))
import run  # noqa: E402
from generate import generate  # noqa: E402


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_generator_is_seeded_and_the_cleaner_keeps_its_text(tmp_path: Path):
    export, articles = generate(60, tmp_path / "a", seed=3)
    generate(60, tmp_path / "b", seed=3)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    tasks = orjson.loads(export.read_bytes())
    assert [t["id"] for t in tasks] == list(range(1, 61))
    texts = {a.id: a.text for a in read_articles(articles)}
    assert all(texts[t["data"]["article_id"]] == t["data"]["text"] for t in tasks)
    raw = [p.read_bytes() for p in sorted(articles.glob("*.txt"))]
    assert sum(b"\r\n" in r for r in raw) == 4  # CRLF files, normalised by the cleaner
    first = tasks[0]["annotations"][0]["result"]
    assert sum(r["type"] == "labels" for r in first) == 30
    assert sum(r["type"] == "relation" for r in first) == 5


def test_run_prints_the_table_and_the_summary_line(tmp_path: Path, capsys):
    assert (
        run.main(
            [
                "--tasks",
                "25",
                "--out",
                str(tmp_path),
                "--jobs",
                "2",
                "--converter-sample",
                "25",
                "--naive-sample",
                "10",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    labels = [line[:36].strip() for line in out[2:7]]
    assert labels == [
        "1 floor: orjson.loads, GC paused",
        "2 Converter JSON -> JSON_MIN",
        "2 Converter JSON -> CONLL2003",
        "3 naive: json.load + jsonschema",
        "4 claimwire build --jobs 2",
    ]
    assert re.search(r"  all, peak RSS \d+ MB \(PSS, all processes\), driver \d+ MB$", out[6])
    cpu = next(line for line in out if line.startswith("build CPU "))
    assert re.fullmatch(
        r"build CPU \d+\.\d\d ms/task = \d+\.\d parses of the floor, \d+\.\d\d "
        r"cores busy \(0\.5x the floor on 2 cores allows <= 4\.0 parses\)",
        cpu,
    )
    assert float(cpu.split()[2]) > 0
    assert re.fullmatch(
        r"build/floor=\d+\.\d\d build/converter=\d+\.\d build/naive=\d+ "
        r"rss=\d+MB load/plain=\d+\.\d\d stream/plain=\d+\.\d\d rebuild/cold=\d+\.\d{3}",
        out[-1],
    )
    cache = next(line for line in out if line.startswith("build cache: "))
    assert re.fullmatch(
        r"build cache: --no-cache \d+\.\d s, cold writing the cache \d+\.\d s \(x\d+\.\d\d, "
        r"\d+ MB\), warm rebuild after 1 of 25 tasks changed \d+\.\d s: rebuild/cold "
        r"\d+\.\d{3} \(target <= 0\.10\)",
        cache,
    )
    result = json.loads((tmp_path / "25" / "result.json").read_text())
    assert result["tasks"] == 25 and result["jobs"] == 2
    assert set(result) >= {
        "floor",
        "converter_json_min",
        "converter_conll",
        "naive",
        "build",
        "rss_mb",
        "cpu_s",
        "load_s",
        "load_plain_s",
        "stream_s",
        "stream_plain_s",
        "cold_cache_s",
        "warm_s",
        "cache_mb",
    }
    assert [p.name for p in (tmp_path / "25").iterdir() if p.name.startswith("claimwire-")] == []


def test_run_with_the_dask_engine_adds_its_ratios(tmp_path: Path, capsys):
    args = ["--tasks", "25", "--out", str(tmp_path), "--jobs", "2", "--no-load"]
    args += ["--converter-sample", "25", "--naive-sample", "10", "--engine", "dask"]
    assert run.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    labels = [line[:36].strip() for line in out[6:9]]
    assert labels == [
        "4 build --engine dask --jobs 2",
        "--engine local --jobs 2",
        "--engine dask --jobs 1",
    ]
    assert re.fullmatch(
        r"build/floor=\d+\.\d\d build/converter=\d+\.\d build/naive=\d+ rss=\d+MB "
        r"rebuild/cold=\d+\.\d{3} dask/local=\d+\.\d\d driver_rss=\d+MB scale2/1=\d+\.\d\d",
        out[-1],
    )
    result = json.loads((tmp_path / "25" / "result.json").read_text())
    assert result["engine"] == "dask"
    assert result["driver_rss_mb"] > 0
    assert set(result) >= {"build_local", "build_dask2", "build_dask1"}


def test_stages_prints_every_step_and_what_they_allow(tmp_path: Path, capsys):
    import stages

    generate(40, tmp_path / "40", seed=4)
    assert (
        stages.main(["--tasks", "40", "--sample", "40", "--out", str(tmp_path), "--cores", "2"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    steps = {line[:38].strip(): line[38:].split() for line in out[1:-2]}
    assert list(steps)[0] == "floor: orjson.loads of the tasks"
    assert {
        "leakage signatures (MinHash)",
        "hand-over: tasks out, tables back",
        "Parquet write, every config",
    } <= set(steps)
    costs = [float(cost.rstrip("x")) for _, _, cost in list(steps.values())[1:]]
    total = float(out[-2].split()[-1].rstrip("x"))
    assert out[-2].startswith("all steps but the floor")
    assert abs(sum(costs) - total) <= 0.05 * len(costs)  # each cost is rounded to 0.1
    allowed = re.fullmatch(
        r"on 2 cores these steps alone allow at most (\d+\.\d\d)x the floor "
        r"\(0\.5x allows <= 4\.0 parses a task\)",
        out[-1],
    )
    assert allowed and abs(float(allowed.group(1)) - 2 / total) < 0.01 + 2 / total * 0.05


def test_parquet_layout_rewrites_the_documents_and_prints_one_line_per_layout(
    tmp_path: Path, capsys
):
    """On a release of a few tasks, one round: the 'release' layout reproduces the release's own
    documents files (the script stops otherwise), and every layout gets its line."""
    import parquet_layout

    assert (
        parquet_layout.main(
            [
                "--tasks",
                "20",
                "--out",
                str(tmp_path),
                "--repeat",
                "1",
                "--only",
                "snappy dict rg10k",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"documents: \d+ rows in \d files; plain to_parquet \d+\.\d\d MB, load \d+\.\d{3} s, "
        r"stream \d+\.\d{3} s \(best of 4 runs each\)",
        out[0],
    )
    names = [line[:30].strip() for line in out[3:-2]]
    assert names == [
        "to_parquet files",
        "release",
        "release, card with features",
        "snappy dict rg10k",
    ]
    row = r" +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+"
    assert all(re.fullmatch(r".{30}" + row + r"( +\d+)?", line.rstrip()) for line in out[3:-2]), out
    assert (tmp_path / "20" / "layout-release").is_dir()
