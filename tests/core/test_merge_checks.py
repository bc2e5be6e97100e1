"""Every annotation check of :mod:`builder.core.merge`, one broken copy of the shipped Label Studio
export each, through `claimwire validate`: the exit code, the exact message, its JSON pointer and
the line and column it points at."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.helpers import SEED_ID, Workspace, workspace

from builder.cli.main import main
from builder.io.jsonpos import locate

Results = list[dict[str, Any]]
RESULT = "/0/annotations/0/result"


def _at(results: Results, kind: str, rid: str, control: str | None = None) -> int:
    """Index of the result of type ``kind`` for region ``rid`` (and control ``control``)."""
    (index,) = [
        j
        for j, r in enumerate(results)
        if r["type"] == kind
        and r.get("id") == rid
        and (control is None or r["from_name"] == control)
    ]
    return index


def _relation(results: Results, from_id: str, to_id: str, label: str) -> int:
    (index,) = [
        j
        for j, r in enumerate(results)
        if r["type"] == "relation"
        and (r["from_id"], r["to_id"], r["labels"]) == (from_id, to_id, [label])
    ]
    return index


def _new_relation(from_id: str, to_id: str, label: str) -> dict[str, Any]:
    return {
        "type": "relation",
        "from_id": from_id,
        "to_id": to_id,
        "direction": "right",
        "labels": [label],
    }


def _resolve(document: Any, pointer: str) -> Any:
    for part in pointer.split("/")[1:]:
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def _validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Callable[[dict[str, Any]], None]
) -> tuple[Workspace, int, str, str]:
    ws = workspace(tmp_path)
    tasks = ws.tasks()
    edit(tasks[0])
    ws.write_tasks(tasks)
    code = main(["validate", str(ws.export), "--articles", str(ws.articles)])
    out, err = capsys.readouterr()
    return ws, code, out, err


def _expect(
    ws: Workspace,
    out: str,
    err: str,
    code: int,
    pointer: str,
    message: str,
    *details: str,
    starts: str,
) -> None:
    """One problem, printed exactly, whose line and column hold ``starts``."""
    text = ws.export.read_text(encoding="utf-8")
    where = locate(text, pointer)
    assert where is not None, pointer
    line, column = where
    assert text.splitlines()[line - 1][column - 1 :].startswith(starts)
    head = f"{ws.export}:{line}:{column}, task 1, article {SEED_ID}, at {pointer}: {message}"
    assert out == "\n".join([head, *details]) + "\n"
    assert err == "invalid: 2 task(s) and article(s) checked, 1 problem(s)\n"
    assert code == 1


def test_reported_claim_without_a_claimer(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        results = task["annotations"][0]["result"]
        del results[_relation(results, "c1", "e001", "claimer")]

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    pointer = f"{RESULT}/{_at(results, 'labels', 'c1')}"
    assert _resolve(ws.tasks(), pointer)["id"] == "c1"
    _expect(
        ws,
        out,
        err,
        code,
        pointer,
        "a REPORTED claim needs a claimer relation",
        "    fix:      draw a 'claimer' relation from the claim to the entity that asserts it",
        starts="{",
    )


def test_author_claim_with_a_claimer(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        results = task["annotations"][0]["result"]
        choice = results[_at(results, "choices", "c8", "attribution")]
        assert choice["value"]["choices"] == ["AUTHOR"]
        results.append(_new_relation("c8", "e012", "claimer"))

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    pointer = f"{RESULT}/{_at(results, 'labels', 'c8')}"
    _expect(
        ws,
        out,
        err,
        code,
        pointer,
        "an AUTHOR claim has a claimer relation",
        "    fix:      either mark it REPORTED or delete the claimer relation",
        starts="{",
    )


@pytest.mark.parametrize("control", ["stance", "attribution"])
def test_claim_without_a_stance_or_an_attribution(tmp_path: Path, capsys, control: str) -> None:
    def edit(task: dict[str, Any]) -> None:
        results = task["annotations"][0]["result"]
        del results[_at(results, "choices", "c1", control)]

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    pointer = f"{RESULT}/{_at(results, 'labels', 'c1')}"
    _expect(
        ws,
        out,
        err,
        code,
        pointer,
        f"claim has no {control}",
        f"    expected: a per-region {control} choice",
        f"    fix:      select the claim in Label Studio and pick its {control}",
        starts="{",
    )


def test_orphan_choice(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        results = task["annotations"][0]["result"]
        results[_at(results, "choices", "e001", "portrayal")]["id"] = "e999"

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    pointer = f"{RESULT}/{_at(results, 'choices', 'e999', 'portrayal')}/id"
    _expect(
        ws,
        out,
        err,
        code,
        pointer,
        "per-region choice 'portrayal' attaches to no region",
        "    expected: the id of a entity region",
        "    found:    'e999'",
        "    fix:      delete the orphan choice in Label Studio (select the region, then choose)",
        starts='"e999"',
    )


def test_choice_on_the_wrong_kind_of_region(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        results = task["annotations"][0]["result"]
        results[_at(results, "choices", "e001", "portrayal")]["id"] = "c1"

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    pointer = f"{RESULT}/{_at(results, 'choices', 'c1', 'portrayal')}/from_name"
    _expect(
        ws,
        out,
        err,
        code,
        pointer,
        "'portrayal' belongs on a entity region, not on 'claim'",
        "    fix:      remove the portrayal choice from that region",
        starts='"portrayal"',
    )


def test_claim_with_two_claimers(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        task["annotations"][0]["result"].append(_new_relation("c1", "e002", "claimer"))

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    pointer = f"{RESULT}/{len(results) - 1}"
    assert _resolve(ws.tasks(), pointer)["to_id"] == "e002"
    _expect(
        ws,
        out,
        err,
        code,
        pointer,
        "a claim has more than one claimer",
        "    expected: one claimer relation",
        "    fix:      keep the relation to the entity that asserts the claim",
        starts="{",
    )


def test_two_regions_with_one_id(tmp_path: Path, capsys) -> None:
    # e003 has no choice and no relation: renaming it breaks nothing else
    def edit(task: dict[str, Any]) -> None:
        results = task["annotations"][0]["result"]
        uses = [r for r in results if "e003" in (r.get("id"), r.get("from_id"), r.get("to_id"))]
        assert [r["type"] for r in uses] == ["labels"]
        results[_at(results, "labels", "e003")]["id"] = "e002"

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    second = [j for j, r in enumerate(results) if r["type"] == "labels" and r["id"] == "e002"][1]
    _expect(
        ws,
        out,
        err,
        code,
        f"{RESULT}/{second}/id",
        "two regions share this id",
        "    found:    'e002'",
        "    fix:      export again; if it persists, delete one of the regions in Label Studio",
        starts='"e002"',
    )


def test_relation_between_two_entities(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        task["annotations"][0]["result"].append(_new_relation("e001", "e002", "target"))

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    _expect(
        ws,
        out,
        err,
        code,
        f"{RESULT}/{len(results) - 1}",
        "a relation links a claim and an entity",
        "    expected: claim -> entity",
        "    found:    entity -> entity",
        "    fix:      redraw it from the claim to the entity",
        starts="{",
    )


def test_relation_to_a_missing_region(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        task["annotations"][0]["result"].append(_new_relation("c1", "e404", "target"))

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    results = ws.tasks()[0]["annotations"][0]["result"]
    _expect(
        ws,
        out,
        err,
        code,
        f"{RESULT}/{len(results) - 1}/to_id",
        "relation points to a region that does not exist",
        "    found:    'e404'",
        "    fix:      delete the relation in Label Studio and draw it again",
        starts='"e404"',
    )


def test_text_sha256_mismatch(tmp_path: Path, capsys) -> None:
    def edit(task: dict[str, Any]) -> None:
        task["data"]["text_sha256"] = "0" * 64

    ws, code, out, err = _validate(tmp_path, capsys, edit)
    digest = hashlib.sha256(ws.tasks()[0]["data"]["text"].encode("utf-8")).hexdigest()
    _expect(
        ws,
        out,
        err,
        code,
        "/0/data/text_sha256",
        "text_sha256 does not match the task text",
        f"    expected: {digest}",
        f"    found:    {'0' * 64}",
        "    fix:      regenerate the tasks with `claimwire ls tasks`",
        starts='"' + "0" * 64 + '"',
    )


def test_the_shipped_export_passes_every_check(tmp_path: Path, capsys) -> None:
    """The baseline of the cases above: the unedited copy is valid."""
    ws, code, out, err = _validate(tmp_path, capsys, lambda task: None)
    assert (code, out) == (0, "")
    assert err == "valid: 2 task(s) and article(s) checked, 0 problem(s)\n"
