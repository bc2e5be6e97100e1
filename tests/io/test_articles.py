import errno
import json
import os
import random
import re
from pathlib import Path

import pytest
from support.helpers import ROOT, SEED_ID, workspace

from builder.errors import InvalidDataError, Problem
from builder.io.articles import (
    CleaningRules,
    clean,
    clean_lines,
    is_safe_article_id,
    load_rules,
    read_articles,
)
from builder.records import Article, ArticleMeta

RULES = load_rules(ROOT / "articles" / "sources.json")["Sputnik International"]
RAW = (ROOT / "articles" / f"{SEED_ID}.txt").read_text(encoding="utf-8")


def test_seed_is_the_shared_seed_byte_for_byte():
    shared = ROOT.parent / "shared" / "seed" / f"{SEED_ID}.txt"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert (ROOT / "articles" / f"{SEED_ID}.txt").read_bytes() == shared.read_bytes()


def test_seed_loses_exactly_the_boilerplate_lines():
    dropped = {
        no: verdict
        for no, _, verdict in clean_lines(RAW, RULES)
        if verdict not in ("keep", "blank")
    }
    assert dropped == {
        1: "drop ^- Sputnik International$",
        2: "drop ^World$",
        3: "drop ^Get the latest news from around the world",
        7: "drop ^© ",
        8: "drop  - Sputnik International$",
        9: "drop ^Subscribe$",
        16: r"drop ^READ MORE:\s",
        20: "drop  - Sputnik International$",
        21: "drop after  - Sputnik International$",
        28: r"drop ^READ MORE:\s",
        32: "drop  - Sputnik International$",
        33: "drop after  - Sputnik International$",
        40: r"drop ^READ MORE:\s",  # a non-breaking space after the colon
        **{no: "cut" for no in range(42, 49)},
    }


def test_every_story_sentence_survives_cleaning():
    text = clean(RAW, RULES)
    assert text.startswith("Guaido Had 'Clandestine Meetings' With Venezuela's Military")
    assert text.endswith("sanctions relief was possible if Maduro stepped down.")
    assert "WASHINGTON (Sputnik) - Venezuela's self-proclaimed" in text
    assert "READ MORE" not in text and "Subscribe" not in text and "Newsfeed" not in text
    assert text.count("\n\n") == 11  # headline + 11 story paragraphs


def test_cleaning_is_deterministic_and_crlf_insensitive():
    assert clean(RAW.replace("\n", "\r\n"), RULES) == clean(RAW, RULES)


def test_rules_are_data_not_code(tmp_path: Path):
    ws = workspace(tmp_path)
    rules = json.loads((ws.articles / "sources.json").read_text(encoding="utf-8"))
    rules["Sputnik International"]["drop_lines"].append("^WASHINGTON")
    (ws.articles / "sources.json").write_text(json.dumps(rules), encoding="utf-8")
    (article,) = read_articles(ws.articles)
    assert "WASHINGTON (Sputnik)" not in article.text


def test_unknown_source_names_the_fix(tmp_path: Path):
    ws = workspace(tmp_path)
    meta_path = ws.articles / f"{SEED_ID}.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["source"] = "Daily Example"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(InvalidDataError) as err:
        list(read_articles(ws.articles))
    (p,) = err.value.problems
    assert p.pointer == "/source" and p.article == SEED_ID
    assert "add an entry for 'Daily Example' to sources.json" in p.fix


def test_clean_keeps_exactly_the_lines_clean_lines_keeps():
    rng = random.Random(7)
    words = [
        "READ MORE: x",
        "Photo",
        "Related story",
        "Subscribe",
        "Comments",
        "",
        "  ",
        "A sentence.",
        "A teaser",
        "\u00a0",
        "end.",
        "Photo: AP",
        "x\ty",
    ]
    rule_sets = [
        RULES,
        CleaningRules((), (), ()),
        CleaningRules(
            (re.compile("^Photo"),),
            ((re.compile("^Photo"), re.compile(r"\.$")),),
            (re.compile("^Comments$"),),
        ),
        CleaningRules((), ((re.compile("teaser|Photo"), re.compile("^A ")),), ()),
        CleaningRules((), (), (re.compile("^$"),)),  # a cut marker that matches a blank line
    ]
    for _ in range(300):
        raw = rng.choice(["\n", "\r\n", "\r"]).join(
            rng.choice(words) for _ in range(rng.randint(0, 12))
        )
        for rules in rule_sets:
            kept = [line.strip() for _, line, v in clean_lines(raw, rules) if v == "keep"]
            assert clean(raw, rules) == "\n\n".join(kept), (raw, rules)
    assert clean(RAW, RULES) == "\n\n".join(
        line.strip() for _, line, v in clean_lines(RAW, RULES) if v == "keep"
    )


# --- exact rules, errors and reading (each assertion kills mutants of `make mutate`)

META = {
    "id": "a1",
    "source": "S",
    "title": "T",
    "language": "en",
    "license": "CC0",
    "url": "https://example.org/a1",
    "published": "2020-01-02",
    "group": "g",
}


def _folder(tmp_path: Path, raw: bytes = b"Line one.\n\nLine two.\n", **meta: object) -> Path:
    (tmp_path / "sources.json").write_text(json.dumps({"S": {"cut_from": ["^Comments$"]}}))
    data = {**META, **meta}
    (tmp_path / f"{data['id']}.json").write_text(json.dumps(data), encoding="utf-8")
    (tmp_path / f"{data['id']}.txt").write_bytes(raw)
    return tmp_path


def _problem(tmp_path: Path) -> Problem:
    with pytest.raises(InvalidDataError) as err:
        list(read_articles(tmp_path))
    (p,) = err.value.problems
    return p


def test_an_article_with_its_metadata_and_where_it_was_read(tmp_path: Path):
    (article,) = read_articles(_folder(tmp_path, b"Line one.\r\nComments\r\nLine two.\r\n"))
    assert article == Article(
        id="a1",
        text="Line one.",
        meta=ArticleMeta(
            source="S",
            title="T",
            language="en",
            license="CC0",
            url="https://example.org/a1",
            published="2020-01-02",
            group="g",
        ),
        path=str(tmp_path / "a1.txt"),
    )


def test_rules_may_leave_out_any_kind_of_rule(tmp_path: Path):
    path = tmp_path / "sources.json"
    path.write_text(json.dumps({"S": {"cut_from": ["^Comments$"]}, "E": {}}))
    assert load_rules(path) == {
        "S": CleaningRules((), (), (re.compile("^Comments$"),)),
        "E": CleaningRules((), (), ()),
    }


@pytest.mark.parametrize("size", [0, 1, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 3 << 16])
def test_raw_texts_of_any_size_are_read_whole(tmp_path: Path, size: int):
    words = b"word " * (size // 5 + 1)
    raw = words[:size]
    (article,) = read_articles(_folder(tmp_path, raw))
    assert article.text == raw.decode().strip()


def test_an_id_that_is_not_the_file_name(tmp_path: Path):
    _folder(tmp_path)
    (tmp_path / "a1.json").rename(tmp_path / "a2.json")
    assert _problem(tmp_path) == Problem(
        "article id does not match the file name",
        file=str(tmp_path / "a2.json"),
        pointer="/id",
        expected="'a2'",
        found="'a1'",
        fix="rename the file to a1.json or fix the id",
    )


def test_metadata_without_its_raw_text(tmp_path: Path):
    _folder(tmp_path)
    (tmp_path / "a1.txt").unlink()
    assert _problem(tmp_path) == Problem(
        "metadata has no raw text beside it",
        file=str(tmp_path / "a1.json"),
        article="a1",
        expected="a file a1.txt",
        fix="add the scraped text next to its metadata",
    )


def test_a_source_without_rules(tmp_path: Path):
    _folder(tmp_path, source="Daily Example")
    assert _problem(tmp_path) == Problem(
        "no cleaning rules for this source",
        file=str(tmp_path / "a1.json"),
        pointer="/source",
        article="a1",
        expected="one of ['S']",
        found="'Daily Example'",
        fix="add an entry for 'Daily Example' to sources.json",
    )


@pytest.mark.parametrize(
    "raw,line,column,offset",
    [(b"\xff", 1, 1, 0), (b"ab\ncd\xe9f", 2, 3, 5), (b"a\nb\n\nxy\x80", 4, 3, 7)],
)
def test_a_raw_text_that_is_not_utf8_is_located_in_bytes(
    tmp_path: Path, raw: bytes, line: int, column: int, offset: int
):
    _folder(tmp_path, raw)
    assert _problem(tmp_path) == Problem(
        "raw article is not UTF-8",
        file=str(tmp_path / "a1.txt"),
        line=line,
        column=column,
        article="a1",
        found=f"invalid byte at offset {offset}",
        fix="re-save the file as UTF-8",
    )


def test_metadata_against_its_schema_names_the_file(tmp_path: Path):
    _folder(tmp_path)
    data = json.loads((tmp_path / "a1.json").read_text())
    del data["title"]
    (tmp_path / "a1.json").write_text(json.dumps(data))
    assert _problem(tmp_path).file == str(tmp_path / "a1.json")
    (tmp_path / "sources.json").write_text(json.dumps({"S": {"drop_lines": 3}}))
    assert _problem(tmp_path).file == str(tmp_path / "sources.json")


def test_an_unsafe_id_in_metadata_is_named_where_it_is(tmp_path: Path):
    _folder(tmp_path, id="con")
    assert _problem(tmp_path) == Problem(
        "unsafe article id",
        file=str(tmp_path / "con.json"),
        pointer="/id",
        expected="letters, digits, '_', '-', '.', not starting or ending with '.', no '..', not "
        "a reserved device name (CON, NUL, COM1...)",
        found="'con'",
        fix="use a plain id such as 001_3f2a9c",
    )


def test_missing_and_malformed_json_files_are_named(tmp_path: Path):
    with pytest.raises(InvalidDataError) as err:
        list(read_articles(tmp_path))
    assert err.value.problems == [Problem("file not found", file=str(tmp_path / "sources.json"))]
    (tmp_path / "sources.json").write_text('{"S": ')
    with pytest.raises(InvalidDataError) as err:
        list(read_articles(tmp_path))
    (p,) = err.value.problems
    assert (p.file, p.line, p.fix) == (
        str(tmp_path / "sources.json"),
        1,
        "fix the JSON syntax at that position",
    )


def test_a_folder_where_a_file_should_be_is_named_like_open_names_it(tmp_path: Path):
    (tmp_path / "sources.json").mkdir()
    with pytest.raises(IsADirectoryError) as err:
        list(read_articles(tmp_path))
    assert (err.value.errno, err.value.strerror, err.value.filename) == (
        errno.EISDIR,
        os.strerror(errno.EISDIR),
        str(tmp_path / "sources.json"),
    )


@pytest.mark.parametrize("article_id", ["a", "A-b_c.d", "0" * 128, "confetti", "nul_1", "com10"])
def test_safe_article_ids(article_id: str):
    assert is_safe_article_id(article_id) is True


@pytest.mark.parametrize(
    "article_id",
    [
        "",
        "0" * 129,
        ".a",
        "a.",
        "a..b",
        "a/b",
        "../x",
        "a\x00",
        "a\n",
        "con",
        "CON.txt",
        "Nul",
        "com1",
        "lpt\u00b9.x",
        5,
        None,
    ],
)
def test_unsafe_article_ids(article_id: object):
    assert is_safe_article_id(article_id) is False


def test_the_first_line_follows_nothing():
    """A drop-after rule looks at the previous non-blank line; before the first it sees ''."""
    rules = CleaningRules((), ((re.compile("X"), re.compile("never")),), ())
    assert clean("first\nsecond", rules) == "first\n\nsecond"
    assert [v for _, _, v in clean_lines("first\nsecond", rules)] == ["keep", "keep"]
    assert [v for _, _, v in clean_lines("X\n\nsecond", rules)] == ["keep", "blank", "drop after X"]
    assert clean("X\n\nsecond", rules) == "X"


def test_files_are_opened_in_binary_mode_where_the_platform_has_one(tmp_path: Path, monkeypatch):
    """POSIX has no O_BINARY (reading is binary there anyway); Windows has one and needs it, or
    CRLF would become LF before the offsets are counted."""
    _folder(tmp_path)
    flags: list[int] = []
    real_open = os.open

    def spy(path, flag, *args):
        flags.append(flag)
        return real_open(path, os.O_RDONLY, *args)

    monkeypatch.setattr(os, "O_BINARY", 0x8000, raising=False)
    monkeypatch.setattr(os, "open", spy)
    list(read_articles(tmp_path))
    assert flags and set(flags) == {os.O_RDONLY | 0x8000}
