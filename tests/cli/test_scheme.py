"""`claimwire scheme init` and `--scheme` on the commands that read exports."""

import json
from pathlib import Path

import pytest
from support.foreign import FOREIGN_CONFIG, foreign_task
from support.helpers import workspace

from builder.cli.main import main
from builder.contracts.scheme import draft_scheme, load_scheme


def _foreign(tmp_path: Path):
    ws = workspace(tmp_path)
    export = tmp_path / "foreign" / "export.json"
    export.parent.mkdir()
    task = foreign_task(ws.tasks()[0], ("Russia", "China"))
    # a second annotator, who left out an entity that no relation touches
    second = json.loads(json.dumps(task["annotations"][0]))
    linked = {
        r[k] for r in second["result"] if r["type"] == "relation" for k in ("from_id", "to_id")
    }
    left_out = next(
        r["id"] for r in second["result"] if r.get("from_name") == "ner" and r["id"] not in linked
    )
    second["result"] = [r for r in second["result"] if r.get("id") != left_out]
    second.update(id=2, completed_by=2, ground_truth=False)
    task["annotations"][0]["ground_truth"] = False
    task["annotations"].append(second)
    export.write_text(json.dumps([task], indent=1, ensure_ascii=False), encoding="utf-8")
    config = tmp_path / "foreign.xml"
    config.write_text(FOREIGN_CONFIG, encoding="utf-8")
    return ws, export, config


def test_init_writes_the_draft_and_prints_what_it_mapped_and_dropped(tmp_path: Path, capsys):
    _, _, config = _foreign(tmp_path)
    out = tmp_path / "annotations" / "scheme.json"
    assert main(["scheme", "init", "--from", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert (
        json.loads(out.read_text(encoding="utf-8"))
        == draft_scheme(FOREIGN_CONFIG, str(config)).document
    )
    assert load_scheme(out) == draft_scheme(FOREIGN_CONFIG).scheme
    assert "| what | control | name | becomes | why |" in printed
    assert "| label | ner | PERSON | PER |  |" in printed
    assert "| label | ner | MISC | drop | MISC has no canonical entity type |" in printed
    assert (
        "| control | sentiment |  | drop | document-level Choices (not perRegion): no place in "
        "the scheme |" in printed
    )
    assert f"wrote {out}: 20 mapped, 2 dropped." in printed
    # an existing mapping is kept unless --force
    assert main(["scheme", "init", "--from", str(config), "--out", str(out)]) == 2
    assert "the mapping file exists" in capsys.readouterr().err
    assert main(["scheme", "init", "--from", str(config), "--out", str(out), "--force"]) == 0


def test_validate_with_a_scheme_checks_a_foreign_export(tmp_path: Path, capsys):
    ws, export, config = _foreign(tmp_path)
    scheme = tmp_path / "scheme.json"
    assert main(["scheme", "init", "--from", str(config), "--out", str(scheme)]) == 0
    capsys.readouterr()
    # without the mapping the foreign names are refused
    assert main(["validate", str(export), "--articles", str(ws.articles)]) == 1
    out = capsys.readouterr().out
    assert '"ner" is not one of' in out
    assert "map its names onto claimwire's: `claimwire scheme init" in out
    args = ["validate", str(export), "--articles", str(ws.articles), "--scheme", str(scheme)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "scheme mapping dropped 4 region(s) (ner:MISC 4)" in err
    assert "valid: 2 task(s) and article(s) checked, 0 problem(s)" in err


def test_annotations_scheme_json_is_the_default(tmp_path: Path, capsys, monkeypatch):
    ws, export, config = _foreign(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["scheme", "init", "--from", str(config), "--out", "annotations/scheme.json"]) == 0
    capsys.readouterr()
    assert main(["validate", str(export), "--articles", str(ws.articles)]) == 0
    err = capsys.readouterr().err
    assert "scheme mapping: annotations/scheme.json (pass --scheme to use another)" in err
    assert main(["agreement", str(export), "--articles", str(ws.articles)]) == 0
    assert "| PER |" in capsys.readouterr().out
    out = tmp_path / "review.json"
    args = ["review", str(export), "--articles", str(ws.articles), "--out", str(out)]
    assert main([*args, "--threshold", "1.1"]) == 0
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    # every version in the project's names, for its labeling config
    assert len(task["predictions"]) == 3
    names = {r.get("from_name") for p in task["predictions"] for r in p["result"]}
    assert names == {"ner", "claim_span", "stance", "attribution", "portrayal", None}
    assert set(task["data"]) >= {"content", "article_id", "headline"}


def test_agreement_with_a_mapping_that_does_not_fit_names_the_fix(tmp_path: Path, capsys):
    ws, export, _ = _foreign(tmp_path)
    doc = draft_scheme(FOREIGN_CONFIG).document
    del doc["spans"]["ner"]["labels"]["MISC"]
    scheme = tmp_path / "scheme.json"
    scheme.write_text(json.dumps(doc), encoding="utf-8")
    args = ["agreement", str(export), "--articles", str(ws.articles), "--scheme", str(scheme)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "label 'MISC' of control 'ner' is not in the scheme" in err
    assert f'"MISC": "<canonical name or drop>" under "spans" > "ner" > "labels" in {scheme}' in err


def test_a_broken_mapping_file_is_an_error(tmp_path: Path, capsys):
    ws, export, _ = _foreign(tmp_path)
    scheme = tmp_path / "scheme.json"
    scheme.write_text('{"text": {}}', encoding="utf-8")
    args = ["validate", str(export), "--articles", str(ws.articles), "--scheme", str(scheme)]
    assert main(args) == 1
    assert f"error: {scheme}" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["build"], ["validate"], ["agreement"], ["review"]])
def test_the_commands_that_read_exports_take_scheme(command, capsys):
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    assert "--scheme FILE" in capsys.readouterr().out
