"""Streaming exports: the byte-slice scanner, error places in a streamed file, flat memory."""

import io
import json
import random
import tracemalloc
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.figures import budget
from support.helpers import workspace

from builder.errors import InvalidDataError
from builder.io import jsonarray
from builder.io.exports import export_files, read_export
from builder.io.jsonarray import Damage, Slice, split_array
from builder.io.jsonpos import locate

TRICKY = [
    "plain",
    '"',
    "\\",
    '\\"',
    "}],{[",
    'x\\\\"y',
    {"k": ["],", {"a": "\\\\"}]},
    1,
    None,
    [],
    {},
    "emoji 😀 and CRLF\r\n",
    "",
]


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
        for data in (
            orjson.dumps(value),
            json.dumps(value, indent=2).encode(),
            json.dumps(value, ensure_ascii=False).encode(),
        ):
            pieces = _split(data, block)
            assert all(isinstance(p, Slice) for p in pieces)
            assert [p.index for p in pieces] == list(range(len(value)))
            assert [orjson.loads(p.data) for p in pieces] == value
            assert all(data[p.offset : p.offset + len(p.data)] == p.data for p in pieces)


@pytest.mark.parametrize(
    "data,expected",
    [
        (b"[]", []),
        (b"[ \n ]\n", []),
        (
            b"[1,2",
            [
                Slice(0, 1, b"1"),
                Slice(1, 3, b"2"),
                Damage(1, 4, "the array is not closed (the file ends early)"),
            ],
        ),
        (
            b'[{"a": "x]',
            [
                Slice(0, 1, b'{"a": "x]'),
                Damage(0, 10, "the array is not closed (the file ends early)"),
            ],
        ),
        (b"[1,,2]", [Slice(0, 1, b"1"), Damage(1, 3, "an empty element (two commas in a row)")]),
        (
            b"[1,2,]",
            [
                Slice(0, 1, b"1"),
                Slice(1, 3, b"2"),
                Damage(2, 5, "a comma before the closing bracket"),
            ],
        ),
        (b"[1] x", [Slice(0, 1, b"1"), Damage(0, 3, "data after the end of the array")]),
        (b'[{"a":1}}]', [Slice(0, 1, b'{"a":1}}')]),
    ],
)
def test_damaged_arrays_are_reported_where_they_break(data: bytes, expected: list):
    assert _split(data, 4) == expected


@pytest.mark.parametrize("block", [1, 3, 64, None])
@pytest.mark.parametrize(
    "data,expected",
    [
        (b"[1,,2]", [Slice(0, 1, b"1"), Damage(1, 3, "an empty element (two commas in a row)")]),
        (
            b"[1,2,]",
            [
                Slice(0, 1, b"1"),
                Slice(1, 3, b"2"),
                Damage(2, 5, "a comma before the closing bracket"),
            ],
        ),
        (b'[{"a":1}}]', [Slice(0, 1, b'{"a":1}}')]),
        (
            b'[ "a\\\\", ["b"] ,\n{} ]',
            [Slice(0, 1, b' "a\\\\"'), Slice(1, 8, b' ["b"] '), Slice(2, 16, b"\n{} ")],
        ),
        (
            b'[1, "x\\"]',
            [
                Slice(0, 1, b"1"),
                Slice(1, 3, b' "x\\"]'),
                Damage(1, 9, "the array is not closed (the file ends early)"),
            ],
        ),
    ],
)
def test_damage_and_whitespace_do_not_depend_on_the_block(block, data: bytes, expected: list):
    assert _split(data, block) == expected


@pytest.mark.parametrize("block", [1, 3, 64, None])
def test_data_after_the_array_is_found_past_any_whitespace(block):
    spaces = b" \n" * (3 * (block or jsonarray.BLOCK))
    assert _split(b"[1]" + spaces, block) == [Slice(0, 1, b"1")]
    assert _split(b"[1]" + spaces + b"x", block) == [
        Slice(0, 1, b"1"),
        Damage(0, 3, "data after the end of the array"),
    ]


# The reference: the scanner's rules one byte at a time (a quote after an odd run of backslashes
# is escaped, wherever it is; brackets, braces and commas count outside strings only).
def _reference(buf: bytes) -> tuple[list[int], int]:
    depth, inside, run, commas = 1, False, 0, []
    for i, b in enumerate(buf):
        if b == 0x22 and run % 2 == 0:
            inside = not inside
        elif not inside and b in b"[{":
            depth += 1
        elif not inside and b in b"]}":
            depth -= 1
            if depth <= 0:
                return commas, i
        elif not inside and b == 0x2C and depth == 1:
            commas.append(i)
        run = run + 1 if b == 0x5C else 0
    return commas, -1


def _structure(buf: bytes) -> tuple[list[int], int]:
    commas, end = jsonarray._structure(buf)
    return commas.tolist(), end


# Bytes of a JSON array's inside, weighted towards the ones the scanner looks at; y, Y and _ fold
# into brace-like bytes, and the rest is filler.
SCAN_BYTES = st.sampled_from(b'""\\\\\\[]{},,  ax_yY\n')


@settings(
    max_examples=budget("CLAIMWIRE_FUZZ_EXAMPLES", 400),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.lists(SCAN_BYTES, max_size=700).map(bytes))
def test_the_scanner_follows_its_rules_byte_for_byte(buf: bytes):
    assert _structure(buf) == _reference(buf)


def test_the_scanner_follows_its_rules_on_long_buffers():
    rng = random.Random(7)
    for _ in range(300):
        weights = [rng.random() for _ in range(len(b'"\\[]{},ax_'))]
        buf = bytes(rng.choices(b'"\\[]{},ax_', weights, k=rng.randrange(64, 3000)))
        assert _structure(buf) == _reference(buf)


@pytest.mark.parametrize("run", range(1, 7))
@pytest.mark.parametrize("at", [1, 2, 61, 62, 63, 64, 65, 127, 128, 200])
def test_backslash_runs_before_quotes_across_word_boundaries(run: int, at: int):
    # A run of backslashes that ends right before byte ``at``, inside or outside a string.
    for text in (b'"' + b"x" * at, b"x" * at, b'{"' + b"x" * at):
        head = text[: at - run] if at > run else text[:0]
        for tail in (b'"],1,"a,", 2', b'", 3],4', b'"}, 5'):
            buf = head + b"\\" * run + tail
            assert _structure(buf) == _reference(buf), buf
            buf = b"[" * 70 + buf + b"]" * 70  # deep: the depth count per word
            assert _structure(buf) == _reference(buf), buf


@pytest.mark.parametrize("run", [63, 64, 65, 127, 128, 129, 191, 192, 193, 300, 301])
def test_backslash_runs_longer_than_a_word(run: int):
    # Whole words of backslashes pass on whether the next byte is escaped.
    for before in range(70):  # the run starts at every bit of a word, in a string or not
        for after in (b'"],1', b'x",2', b'}"'):
            head = b'"' * (before % 3 == 0) + b"a" * before
            buf = head + b"\\" * run + after + b',"\\\\",3'
            assert _structure(buf) == _reference(buf), (before, after)


@pytest.mark.parametrize("block", [1, 2, 5, 13, 64, 100])
@pytest.mark.parametrize("run", range(1, 7))
def test_backslash_runs_across_a_block_boundary(block: int, run: int):
    # Strings that end with a run of backslashes before a quote (escaped when the run is odd),
    # the run at every offset of a block.
    tail = "\\" * (run // 2) + ('"' if run % 2 else "")
    value = ["x" * k + "]," + tail for k in range(40)]
    value += [{"k": "}" + tail, "l": ["[" + "\\" * k for k in range(run)]}]
    data = orjson.dumps(value)
    assert b"," + b"\\" * run + b'"' in data
    pieces = _split(data, block)
    assert [orjson.loads(p.data) for p in pieces] == value
    assert all(data[p.offset : p.offset + len(p.data)] == p.data for p in pieces)


def _words_mark_the_depth(n: int) -> bytes:
    # Elements that close at every offset around 64-byte words, with braces in strings.
    return orjson.dumps([{"a": ["}" * k, [[{"b": "x" * k}]]]} for k in range(n)])


@pytest.mark.parametrize("block", [7, 64, 256, 4096, None])
def test_elements_that_end_anywhere_in_a_word(block: int):
    data = _words_mark_the_depth(140)
    pieces = _split(data, block)
    assert [orjson.loads(p.data) for p in pieces] == orjson.loads(data)


@pytest.mark.parametrize("block", [3, 64, None])
def test_arrays_of_scalars_and_of_long_elements(block: int):
    # Top-level commas everywhere (scalars), or few between long elements: both ways of finding
    # the commas at depth 1.
    scalars = [1, "a,b", None, "]", 2.5, "\\\\", True, "[{"] * 50
    long = [{"text": "x, y] " * 300, "n": [1, 2, [3]]}, "s", ["a", {"b": ","}] * 100] * 3
    for value in (scalars, long, scalars + long, long + scalars):
        for data in (orjson.dumps(value), json.dumps(value, indent=1).encode()):
            pieces = _split(data, block)
            assert [orjson.loads(p.data) for p in pieces] == value


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)  # orjson's integers
    | st.text(alphabet='ab"\\[]{},: \n\x00é😀'),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=budget("CLAIMWIRE_FUZZ_EXAMPLES", 200),
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    st.lists(JSON_VALUES, max_size=8),
    st.sampled_from([1, 2, 7, 64, None]),
    st.sampled_from([None, 0, 2]),
)
def test_random_arrays_split_into_their_elements(value: list, block: int, indent: int | None):
    data = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    pieces = _split(data, block)
    assert all(isinstance(p, Slice) for p in pieces)
    assert [orjson.loads(p.data) for p in pieces] == value
    assert all(data[p.offset : p.offset + len(p.data)] == p.data for p in pieces)


def test_the_popcount_without_numpy_2():
    words = np.random.default_rng(0).integers(0, 2**63, 500, dtype=np.uint64) * np.uint64(2)
    words[:3] = [0, np.uint64(2**64 - 1), 1]
    assert jsonarray._swar_popcount(words).tolist() == [int(w).bit_count() for w in words]


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
    monkeypatch.setattr(jsonarray, "BLOCK", 256 << 10)
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
        (1, -1, ""),
        (2, -1, ""),
        (3, -1, ""),
    ]


def test_a_folder_is_listed_in_the_order_of_its_sorted_paths(tmp_path: Path):
    """The folder is walked a directory at a time, never listed whole; the order is still that
    of every matching path sorted, around folders whose names prefix files' and the reverse."""
    root = tmp_path / "export"
    names = [
        "b.json",
        "a.json",
        "a/z.json",
        "a/b/c.json",
        "a-b.json",
        "a.json.d/x.json",
        "A.json",
        "z/y/x/w.json",
        ".json",
        "é.json",
        "e.json",
        "notes.txt",
        "a/b.txt",
        "x.json/inside.json",
    ]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"{}")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "hidden.json").write_bytes(b"{}")
    (root / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (root / "file-link.json").symlink_to(root / "b.json")
    expected = sorted(p for p in root.rglob("*.json") if p.is_file())
    listed = list(export_files(root))
    assert listed == expected
    assert root / "a/z.json" in listed and root / "x.json/inside.json" in listed
    assert not any("hidden" in p.name for p in listed)  # symlinked folders are not followed
    assert list(export_files(root / "b.json")) == [root / "b.json"]
