"""Exports read through a scheme mapping: canonical names past the reader, dropped regions
counted, and every error pointing into the file as written."""

import copy
import dataclasses
import json
from pathlib import Path

import orjson
import pytest
from support.foreign import FOREIGN_CONFIG, foreign_task
from support.helpers import ROOT, workspace

from builder.contracts.scheme import Scheme, draft_scheme
from builder.core.merge import merge
from builder.errors import InvalidDataError
from builder.io.articles import read_articles
from builder.io.exports import RawTask, parse_task, raw_tasks, read_export
from builder.io.jsonpos import locate
from builder.pipeline.validate import validate_paths

GOLD = ROOT / "annotations" / "exports" / "gold.json"
SCHEME = draft_scheme(FOREIGN_CONFIG, "foreign.xml").scheme
FIX = "run `claimwire scheme init` again for the project's current labeling config, or add"


def _write(path: Path, tasks: list[dict]) -> Path:
    path.write_text(json.dumps(tasks, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def _at(path: Path, pointer: str) -> tuple[int, int] | None:
    return locate(path.read_text(encoding="utf-8"), pointer)


def test_the_identity_mapping_changes_nothing_in_the_shipped_exports():
    plain = list(read_export(GOLD))
    assert list(read_export(GOLD, Scheme.identity())) == plain  # skipped: nothing to translate
    # the same mapping with an unused drop entry is not the identity: translation runs, and
    # gives the same records
    forced = dataclasses.replace(Scheme.identity(), drop={"unused": "never in the exports"})
    assert not forced.is_identity
    assert list(read_export(GOLD, forced)) == plain
    assert all(t.dropped == () and t.origin is None for t in read_export(GOLD, forced))
    # ...and the same bytes: every task translates to itself
    for raw in raw_tasks(GOLD):
        assert isinstance(raw, RawTask)
        task = orjson.loads(raw.data)
        translated = forced.translate(task, f"/{raw.index}", predictions=True)
        assert orjson.dumps(translated.task) == orjson.dumps(task)


def test_a_foreign_export_reads_as_the_canonical_one_minus_what_the_mapping_drops(
    tmp_path: Path,
):
    ws = workspace(tmp_path)
    (gold,) = read_export(ws.export)
    foreign = _write(tmp_path / "foreign.json", [foreign_task(ws.tasks()[0], ("Russia", "China"))])
    (task,) = read_export(foreign, SCHEME)
    # the MISC regions went with their portrayal and the relations to them, and are counted;
    # the document-level sentiment choice went too
    assert task.dropped == (("ner", "MISC", 2),)
    assert task.annotations == gold.annotations
    assert (task.article_id, task.text, task.text_sha256) == (gold.article_id, gold.text, None)
    # the merge takes it as it takes the shipped task
    (article,) = read_articles(ws.articles)
    doc = merge(article, task)
    assert doc is not None and doc == merge(article, gold)
    assert len(doc.entities) > 10 and len(doc.claims) > 3
    # every relation is claimer or target, every region an entity or a claim
    results = [r for a in task.annotations for r in a["result"]]
    assert {r["from_name"] for r in results if "from_name" in r} == {
        "entity",
        "claim",
        "stance",
        "attribution",
        "portrayal",
    }
    assert {r["labels"][0] for r in results if r["type"] == "relation"} == {"claimer", "target"}


def test_a_label_the_mapping_does_not_know_is_the_exact_error(tmp_path: Path):
    ws = workspace(tmp_path)
    task = foreign_task(ws.tasks()[0], ("Russia",))
    results = task["annotations"][0]["result"]
    j = next(k for k, r in enumerate(results) if r.get("value", {}).get("labels") == ["COUNTRY"])
    results[j]["value"]["labels"] = ["ANIMAL"]
    path = _write(tmp_path / "foreign.json", [task])
    with pytest.raises(InvalidDataError) as err:
        list(read_export(path, SCHEME))
    (p,) = err.value.problems
    pointer = f"/0/annotations/0/result/{j}/value/labels/0"
    line, column = _at(path, pointer)
    assert str(p) == (
        f"{path}:{line}:{column}, task 1, at {pointer}: label 'ANIMAL' of control 'ner' is not "
        "in the scheme\n"
        "    expected: one of the labels the scheme lists for 'ner': 'PERSON', 'ORGANIZATION', "
        "'COUNTRY', 'LOCATION', 'Nationality', 'Event', 'MISC'\n"
        "    found:    'ANIMAL'\n"
        f'    fix:      {FIX} "ANIMAL": "<canonical name or drop>" under "spans" > "ner" > '
        '"labels" in the scheme file'
    )
    assert (
        path.read_text(encoding="utf-8").splitlines()[line - 1][column - 1 :].startswith('"ANIMAL"')
    )


def test_the_first_unmapped_name_is_the_error_whatever_its_kind(tmp_path: Path):
    ws = workspace(tmp_path)
    base = foreign_task(ws.tasks()[0])
    path = tmp_path / "foreign.json"
    named = dataclasses.replace(SCHEME, file="annotations/scheme.json")

    def first(change) -> tuple[str, str, str]:
        task = copy.deepcopy(base)
        change(task["annotations"][0]["result"], task)
        _write(path, [task])
        with pytest.raises(InvalidDataError) as err:
            list(read_export(path, named))
        (p,) = err.value.problems
        assert p.file == str(path) and p.task == 1 and p.line is not None
        assert p.fix is not None and "annotations/scheme.json" in p.fix
        return p.message, p.pointer or "", p.fix

    def stance(results):
        return next(k for k, r in enumerate(results) if r.get("from_name") == "stance")

    def rel(results):
        return next(k for k, r in enumerate(results) if r["type"] == "relation")

    def choice_then_control(results, _):
        results[stance(results)]["value"]["choices"] = ["maybe"]
        results[-1]["from_name"] = "mood"  # later: not the error

    message, pointer, _ = first(choice_then_control)
    k = stance(base["annotations"][0]["result"])
    assert message == "value 'maybe' of control 'stance' is not in the scheme"
    assert pointer == f"/0/annotations/0/result/{k}/value/choices/0"

    def control(results, _):
        results[0]["from_name"] = "keyword"

    message, pointer, fix = first(control)
    assert message == "control 'keyword' is not in the scheme"
    assert pointer == "/0/annotations/0/result/0/from_name"
    assert '"keyword" under "spans" (a Labels control), "choices"' in fix

    def relation(results, _):
        results[rel(results)]["labels"] = ["cites"]

    message, pointer, _ = first(relation)
    assert message == "relation label 'cites' is not in the scheme"
    assert pointer.endswith("/labels/0")

    def unlabeled(results, _):
        results[rel(results)]["labels"] = []

    message, _, fix = first(unlabeled)
    assert message.startswith("relation has no label")
    assert '"": "drop"' in fix

    def other_tag(results, _):
        results[0]["to_name"] = "headline"

    message, pointer, _ = first(other_tag)
    assert message == "control 'ner' labels tag 'headline', not the scheme's text tag 'body'"
    assert pointer == "/0/annotations/0/result/0/to_name"

    def no_text(_, task):
        task["data"]["text"] = task["data"].pop("content")

    message, pointer, fix = first(no_text)
    assert message == "task data has no 'content' (the scheme's text key)"
    assert pointer == "/0/data"
    assert "set text.data_key in annotations/scheme.json" in fix


def test_problems_found_after_reading_point_into_the_file_as_written(tmp_path: Path):
    """Dropped results shift the indices and data keys are renamed: the schema's and the
    merge's pointers are turned back into the file's, with their lines and columns."""
    ws = workspace(tmp_path)
    task = foreign_task(ws.tasks()[0], ("Russia", "China"))
    results = task["annotations"][0]["result"]
    # after the six results of the MISC regions: a span whose text is not at its offsets, and
    # one whose end is not a number
    j = next(k for k in range(8, len(results)) if results[k].get("from_name") == "ner")
    results[j]["value"]["text"] = "elsewhere"
    path = _write(tmp_path / "foreign.json", [task])
    problems, _ = validate_paths([path], ws.articles, SCHEME)
    (p,) = problems
    assert p.message == "span offsets do not match the span text"
    assert p.pointer == f"/0/annotations/0/result/{j}/value"
    assert (p.line, p.column) == _at(path, p.pointer)

    # a renamed data key: the article's checksum, kept under another name
    results[j]["value"]["text"] = ws.tasks()[0]["annotations"][0]["result"][j - 6]["value"]["text"]
    task["data"]["checksum"] = "0" * 64
    path = _write(tmp_path / "checksum.json", [task])  # (a new file: positions are cached)
    data = {**SCHEME.data, "text_sha256": "checksum"}
    problems, _ = validate_paths([path], ws.articles, dataclasses.replace(SCHEME, data=data))
    assert [p.pointer for p in problems] == ["/0/data/checksum"]
    assert problems[0].message == "text_sha256 does not match the task text"
    assert (problems[0].line, problems[0].column) == _at(path, "/0/data/checksum")

    results[j]["value"]["end"] = "12"
    path = _write(tmp_path / "end.json", [task])
    with pytest.raises(InvalidDataError) as err:
        list(read_export(path, SCHEME))
    (p,) = err.value.problems
    assert p.pointer == f"/0/annotations/0/result/{j}/value/end"
    assert (p.line, p.column) == _at(path, p.pointer)


def test_predictions_are_translated_on_request():
    task = foreign_task(json.loads(GOLD.read_text(encoding="utf-8"))[0])
    task["predictions"] = [{"model_version": "m", "result": task["annotations"][0]["result"]}]
    out = SCHEME.translate(task, "/0", predictions=True).task
    assert out["predictions"][0]["result"] == out["annotations"][0]["result"]
    assert SCHEME.translate(task, "/0").task["predictions"] == task["predictions"]


def test_parse_task_takes_the_mapping(tmp_path: Path):
    ws = workspace(tmp_path)
    path = _write(tmp_path / "foreign.json", [foreign_task(ws.tasks()[0])])
    (raw,) = raw_tasks(path)
    assert isinstance(raw, RawTask)
    assert parse_task(raw, SCHEME) == next(read_export(path, SCHEME))
    with pytest.raises(InvalidDataError, match="not one of"):
        parse_task(raw)  # foreign names are refused by the task schema without a mapping


def test_an_unknown_article_points_at_the_projects_own_id_key(tmp_path: Path):
    ws = workspace(tmp_path)
    task = foreign_task(ws.tasks()[0])
    task["data"]["doc_id"] = "no-such-article"
    del task["data"]["article_id"]
    path = _write(tmp_path / "foreign.json", [task])
    data = {**SCHEME.data, "article_id": "doc_id"}
    no_defaults = dataclasses.replace(SCHEME, data=data, defaults=None)  # with them: an article
    problems, _ = validate_paths([path], ws.articles, no_defaults)
    (p,) = problems
    assert (p.message, p.article, p.pointer) == (
        "annotation for an unknown article",
        "no-such-article",
        "/0/data/doc_id",
    )
    assert (p.line, p.column) == _at(path, "/0/data/doc_id")


def test_an_exports_predictions_are_read_in_canonical_names(tmp_path: Path):
    """Predictions in the project's names (a pre-annotation made in the team's project) are
    read through the mapping like annotations: canonical names, the regions the mapping drops
    gone with their choices and relations (not counted: no release holds predictions), and a
    name the mapping does not know an error pointing into the prediction."""
    ws = workspace(tmp_path)
    shipped = ws.tasks()[0]
    task = foreign_task(shipped, ("Russia",))
    foreign_results = task["annotations"][0]["result"]
    task["predictions"] = [
        {"id": 9, "model_version": "m", "result": copy.deepcopy(foreign_results)}
    ]
    path = _write(tmp_path / "foreign.json", [task])
    (record,) = read_export(path, SCHEME)
    (prediction,) = record.predictions
    assert prediction["model_version"] == "m"
    assert prediction["result"] == shipped["annotations"][0]["result"]
    assert record.dropped == (("ner", "MISC", 1),)  # the annotation's
    # without a mapping, predictions are kept as the export holds them
    (plain,) = read_export(ws.export)
    assert plain.predictions == tuple(shipped["predictions"])

    task["predictions"][0]["result"][0]["value"]["labels"] = ["Person"]
    path = _write(tmp_path / "unknown.json", [task])
    with pytest.raises(InvalidDataError) as err:
        list(read_export(path, SCHEME))
    (p,) = err.value.problems
    assert p.message == "label 'Person' of control 'ner' is not in the scheme"
    assert p.pointer == "/0/predictions/0/result/0/value/labels/0"
    assert (p.line, p.column) == _at(path, p.pointer)
