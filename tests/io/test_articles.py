import json
import random
import re
from pathlib import Path

import pytest
from support.helpers import ROOT, SEED_ID, workspace

from builder.errors import InvalidDataError
from builder.io.articles import CleaningRules, clean, clean_lines, load_rules, read_articles

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
