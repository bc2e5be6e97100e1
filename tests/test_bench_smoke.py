"""The benchmark's generator and runner on a few tasks (no timing is asserted)."""

import json
import re
import sys
from pathlib import Path

import orjson
from helpers import ROOT

from builder.articles import read_articles

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
    assert run.main(["--tasks", "25", "--out", str(tmp_path), "--jobs", "2",
                     "--converter-sample", "25", "--naive-sample", "10"]) == 0
    out = capsys.readouterr().out.splitlines()
    labels = [line[:36].strip() for line in out[2:7]]
    assert labels == ["1 floor: orjson.loads, GC paused", "2 Converter JSON -> JSON_MIN",
                      "2 Converter JSON -> CONLL2003", "3 naive: json.load + jsonschema",
                      "4 claimwire build --jobs 2"]
    assert re.search(r"  all, peak RSS \d+ MB \(PSS, all processes\)$", out[6])
    cpu = next(line for line in out if line.startswith("build CPU "))
    assert re.fullmatch(r"build CPU \d+\.\d\d ms/task = \d+\.\d parses of the floor, \d+\.\d\d "
                        r"cores busy \(0\.5x the floor on 2 cores allows <= 4\.0 parses\)", cpu)
    assert float(cpu.split()[2]) > 0
    assert re.fullmatch(r"build/floor=\d+\.\d\d build/converter=\d+\.\d build/naive=\d+ "
                        r"rss=\d+MB load/plain=\d+\.\d\d stream/plain=\d+\.\d\d", out[-1])
    result = json.loads((tmp_path / "25" / "result.json").read_text())
    assert result["tasks"] == 25 and result["jobs"] == 2
    assert set(result) >= {"floor", "converter_json_min", "converter_conll", "naive", "build",
                           "rss_mb", "cpu_s", "load_s", "load_plain_s", "stream_s", "stream_plain_s"}
    assert [p.name for p in (tmp_path / "25").iterdir() if p.name.startswith("claimwire-")] == []
