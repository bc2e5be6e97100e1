"""Streaming exports: the byte-slice scanner, error places in a streamed file, flat memory."""

import io
import json
import random
import tracemalloc
from pathlib import Path

import orjson
import pytest
from helpers import workspace

from builder import stream
from builder.errors import InvalidDataError
from builder.jsonpos import locate
from builder.labelstudio import read_export
from builder.stream import Damage, Slice, split_array

TRICKY = ['plain', '"', "\\", '\\"', '}],{[', 'x\\\\"y', {"k": ["],", {"a": "\\\\"}]}, 1, None,
          [], {}, "emoji 😀 and CRLF\r\n", ""]


def _split(data: bytes, block: int) -> list[Slice | Damage]:
    f = io.BytesIO(data)
    assert f.read(1) == b"["
    return list(split_array(f, 1, block=block))


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_slices_are_the_elements_byte_for_byte(block: int):
    rng = random.Random(block)
    for _ in range(80):
        value = [
            {"s": rng.choice(TRICKY), "l": [rng.choice(TRICKY) for _ in range(rng.randrange(4))]}
            for _ in range(rng.randrange(0, 6))
        ]
        for data in (orjson.dumps(value), json.dumps(value, indent=2).encode(),
                     json.dumps(value, ensure_ascii=False).encode()):
            pieces = _split(data, block)
            assert all(isinstance(p, Slice) for p in pieces)
            assert [p.index for p in pieces] == list(range(len(value)))
            assert [orjson.loads(p.data) for p in pieces] == value
            assert all(data[p.offset:p.offset + len(p.data)] == p.data for p in pieces)


@pytest.mark.parametrize("data,expected", [
    (b"[]", []),
    (b"[ \n ]\n", []),
    (b"[1,2", [Slice(0, 1, b"1"), Slice(1, 3, b"2"),
               Damage(1, 4, "the array is not closed (the file ends early)")]),
    (b'[{"a": "x]', [Slice(0, 1, b'{"a": "x]'),
                     Damage(0, 10, "the array is not closed (the file ends early)")]),
    (b"[1,,2]", [Slice(0, 1, b"1"), Damage(1, 3, "an empty element (two commas in a row)")]),
    (b"[1,2,]", [Slice(0, 1, b"1"), Slice(1, 3, b"2"),
                 Damage(2, 5, "a comma before the closing bracket")]),
    (b"[1] x", [Slice(0, 1, b"1"), Damage(0, 3, "data after the end of the array")]),
    (b'[{"a":1}}]', [Slice(0, 1, b'{"a":1}}')]),
])
def test_damaged_arrays_are_reported_where_they_break(data: bytes, expected: list):
    assert _split(data, 4) == expected


def test_schema_error_in_a_later_task_names_its_line_and_column(tmp_path: Path):
    ws = workspace(tmp_path)
    first = ws.tasks()[0]
    tasks = []
    for k in range(3):
        t = json.loads(json.dumps(first))
        t["id"] = k + 1
        tasks.append(t)
    tasks[2]["annotations"][0]["result"][5]["value"]["labels"] = ["MISC"]
    ws.write_tasks(tasks)  # indented: tasks start on different lines
    with pytest.raises(InvalidDataError) as err:
        list(read_export(ws.export))
    problem = err.value.problems[0]
    pointer = "/2/annotations/0/result/5/value/labels/0"
    assert problem.pointer == pointer and problem.task == 3
    # The reference: the old way, locating the pointer in the whole text.
    assert (problem.line, problem.column) == locate(ws.export.read_text(encoding="utf-8"), pointer)
    assert problem.line > 1000


def test_malformed_json_in_a_streamed_file_names_line_and_column(tmp_path: Path):
    ws = workspace(tmp_path)
    first = ws.tasks()[0]
    text = json.dumps([first, {**first, "id": 2}], indent=1, ensure_ascii=False)
    cut = text.index('"id": 2')
    ws.export.write_text(text[:cut] + "oops " + text[cut:], encoding="utf-8")
    with pytest.raises(InvalidDataError) as err:
        list(read_export(ws.export))
    problem = err.value.problems[0]
    line = text[:cut].count("\n") + 1
    column = cut - text[:cut].rfind("\n")
    assert problem.message.startswith("malformed JSON")
    assert (problem.line, problem.column) == (line, column)
    assert "export it again" in problem.fix


def test_truncated_export_names_the_end_of_the_file(tmp_path: Path):
    ws = workspace(tmp_path)
    first = ws.tasks()[0]
    text = json.dumps([first, {**first, "id": 2}], ensure_ascii=False)
    ws.export.write_text(text[:-1], encoding="utf-8")  # the closing bracket is lost
    with pytest.raises(InvalidDataError) as err:
        list(read_export(ws.export))
    problem = err.value.problems[0]
    assert problem.message == "malformed JSON: the array is not closed (the file ends early)"
    assert (problem.line, problem.column) == (1, len(text))


def _big_export(tmp_path: Path, n: int) -> Path:
    tmp_path.mkdir()
    ws = workspace(tmp_path)
    first = ws.tasks()[0]
    path = tmp_path / "big.json"
    with path.open("wb") as f:
        f.write(b"[")
        for k in range(n):
            f.write((b"," if k else b"") + orjson.dumps({**first, "id": k + 1}))
        f.write(b"]")
    return path


def _peak(path: Path) -> tuple[list[int], int]:
    tracemalloc.start()
    try:
        ids = [t.id for t in read_export(path)]
        return ids, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_array_export_is_streamed_not_loaded_whole(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK", 256 << 10)
    small = _big_export(tmp_path / "small", 100)  # ~3.7 MB
    large = _big_export(tmp_path / "large", 400)  # ~15 MB
    ids, peak_small = _peak(small)
    assert ids == list(range(1, 101))
    ids, peak_large = _peak(large)
    assert ids == list(range(1, 401))
    # Memory holds a couple of blocks and one parsed task, whatever the file size: four times
    # the tasks, about the same peak, and less than the smaller file itself.
    assert peak_large < 1.25 * peak_small
    assert peak_small < small.stat().st_size


def test_a_folder_of_per_task_files_reads_in_path_order(tmp_path: Path):
    ws = workspace(tmp_path)
    first = ws.tasks()[0]
    folder = tmp_path / "per-task"
    folder.mkdir()
    for k in (3, 1, 2):
        (folder / f"task-{k:03d}.json").write_bytes(orjson.dumps({**first, "id": k}))
    assert [(t.id, t.index, t.base) for t in read_export(folder)] == [
        (1, -1, ""), (2, -1, ""), (3, -1, "")]
