"""Hostile names and configs, and the Label Studio token: ids and versions can never name a path
outside the output folder, labeling configs are parsed without entity expansion, and the token
shows up in no output, log, error, export or release."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.figures import budget
from support.helpers import workspace

from builder.cli.main import main
from builder.contracts.labels import parse_label_config
from builder.errors import InvalidDataError, UsageError
from builder.io.articles import check_article_id
from builder.pipeline import cache as task_cache
from builder.pipeline.build import build

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

HOSTILE_IDS = [
    "../escape",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "a\x00b",
    ".",
    "..",
    ".hidden",
    "CON",
    "nul",
    "Com1.txt",
    "lpt9",
    "aux.json",
    "trailing.",
    "ok\n",
    "",
    "x" * 129,
    "\u202eexe.txt",
    "C:evil",
]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_hostile_article_ids_are_refused(bad: str) -> None:
    with pytest.raises(InvalidDataError) as err:
        check_article_id(bad, file="meta.json", pointer="/id")
    assert str(err.value).startswith("meta.json, at /id: unsafe article id")


@settings(max_examples=budget("CLAIMWIRE_FUZZ_EXAMPLES", 300), deadline=None, database=None)
@given(st.text(min_size=0, max_size=40))
def test_an_accepted_id_is_one_plain_file_name(article_id: str) -> None:
    try:
        check_article_id(article_id)
    except InvalidDataError:
        return
    out = Path("/tmp/claimwire-out").resolve()
    target = (out / f"{article_id}.json").resolve()
    assert target.parent == out
    assert "\x00" not in article_id and "/" not in article_id and "\\" not in article_id
    assert article_id.isascii() and article_id == article_id.strip()


@pytest.mark.parametrize("bad", ["../../escape", "/abs/olute", "a\x00b", "CON"])
def test_hostile_ids_in_an_export_write_nothing(bad: str, tmp_path: Path, capsys) -> None:
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    tasks[0]["data"]["article_id"] = bad
    ws.write_tasks(tasks)
    before = sorted(p for p in tmp_path.rglob("*"))
    assert ws.build() == 1
    err = capsys.readouterr().err
    assert "annotation for an unknown article" in err and "at /0/data/article_id" in err
    cache = ws.dist.parent / task_cache.DIR_NAME  # the articles read are kept there
    new = set(tmp_path.rglob("*")) - set(before)
    assert {p for p in new if p != cache and cache not in p.parents} <= {ws.dist}
    assert not ws.dist.exists() or list(ws.dist.iterdir()) == []


@pytest.mark.parametrize("version", ["../../evil", "/abs", "1.0", "1.0.0/../../x", "1.0.0\n"])
def test_a_version_cannot_name_a_path(version: str, tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(UsageError) as err:
        build(ws.articles, [ws.export], ws.dist, version)
    assert "release version must be a semantic version like 0.1.0" in str(err.value)
    assert not ws.dist.exists() and not (tmp_path.parent / "evil").exists()


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<View><Labels name="entity" toName="text"><Label value="&lol3;"/></Labels></View>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<View><Labels name="entity" toName="text"><Label value="&secret;"/></Labels></View>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["expansion", "external"])
def test_labeling_config_entities_are_refused(xml: str) -> None:
    with pytest.raises(InvalidDataError) as err:
        parse_label_config(xml, file="labeling_config.xml")
    message = str(err.value)
    assert message.startswith("labeling_config.xml: labeling config is not safe, well-formed XML:")
    assert "EntitiesForbidden" in message or "forbidden" in message.lower()
    assert "root:" not in message and "lollol" not in message


@pytest.mark.labelstudio
def test_token_from_a_file_appears_nowhere(
    ls_server: Any, tmp_path: Path, monkeypatch, capsys, caplog
) -> None:
    """The key comes from LABEL_STUDIO_API_KEY_FILE; push, pull, build, a failing call: the key
    is in no output, no log record (DEBUG, every logger), no error, no export and no release."""
    key_file = tmp_path / "token"
    key_file.write_text(ls_server.api_key + "\n")
    key_file.chmod(0o600)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY_FILE", str(key_file))
    caplog.set_level(logging.DEBUG)
    ws = workspace(tmp_path / "ws")
    exports = tmp_path / "pulled"
    assert main(["ls", "push", "--project", "token-file", "--articles", str(ws.articles)]) == 0
    assert main(["ls", "pull", "--project", "token-file", "--out", str(exports)]) == 0
    # a release built from what was pulled, plus its report
    pulled = json.loads(next(exports.iterdir()).read_bytes())
    gold = ws.tasks()
    pulled[0]["annotations"] = gold[0]["annotations"]
    ws.write_tasks(pulled)
    assert ws.build() == 0
    # a failing call: a wrong key from the file
    key_file.write_text("0" * len(ls_server.api_key))
    assert main(["ls", "pull", "--project", "token-file", "--out", str(exports)]) == 1
    out, err = capsys.readouterr()
    assert "HTTP 401" in err
    texts = {"stdout": out, "stderr": err, "log": caplog.text}
    for path in [*exports.rglob("*"), *ws.dist.rglob("*")]:
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    assert len(texts) >= 3 + 1 + 7
    secret = ls_server.api_key
    assert [where for where, text in texts.items() if secret in text] == []
