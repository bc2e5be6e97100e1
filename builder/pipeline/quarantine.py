"""``quarantine.jsonl`` of a release built with ``--on-invalid quarantine``: one JSON object per
unit set aside (see :mod:`builder.core.quarantine`), in input order, so a reviewer can restore
it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO

import orjson

from ..core.quarantine import Quarantined
from ..errors import Problem
from ..io.exports import TaskRecord

FILE = "quarantine.jsonl"
ON_INVALID = ("fail", "quarantine")


def whole_task(p: Problem, task: TaskRecord) -> Quarantined:
    """A task that cannot be split into units (its text cannot be anchored): all of it."""
    return Quarantined(
        file=p.file or task.file,
        line=p.line,
        column=p.column,
        task=task.id,
        article=task.article_id,
        annotation=None,
        annotator=None,
        pointer=p.pointer,
        rule=p.message.split(" (", 1)[0],
        fix=p.fix,
        results=tuple(r for a in task.annotations for r in a.get("result") or ()),
    )


class QuarantineFile:
    """Appends units to ``quarantine.jsonl`` in a (staging) release folder."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / FILE
        self._out: IO[bytes] = self.path.open("wb")
        self.count = 0

    def write(self, units: Iterable[Quarantined]) -> None:
        for unit in units:
            self._out.write(orjson.dumps(unit.to_json(), option=orjson.OPT_SORT_KEYS) + b"\n")
            self.count += 1

    def close(self) -> None:
        self._out.close()
