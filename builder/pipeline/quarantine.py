"""``quarantine.jsonl`` of a release built with ``--on-invalid quarantine``: one JSON object per
unit set aside (see :mod:`builder.core.quarantine`), in input order, so a reviewer can restore
it (``claimwire review --quarantine`` reads it back: :func:`read_quarantine`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from ..core.quarantine import Quarantined
from ..errors import InvalidDataError, Problem
from ..io.exports import TaskRecord

FILE = "quarantine.jsonl"
ON_INVALID = ("fail", "quarantine")
_NONE = type(None)
# the fields of a line, the types each may have and what they are (Quarantined.to_json)
_FIELDS: dict[str, tuple[tuple[type, ...], str]] = {
    "file": ((str,), "a string"),
    "line": ((int, _NONE), "an integer or null"),
    "column": ((int, _NONE), "an integer or null"),
    "task": ((int, _NONE), "an integer or null"),
    "article": ((str, _NONE), "a string or null"),
    "annotation": ((int, _NONE), "an integer or null"),
    "annotator": ((str, _NONE), "a string or null"),
    "pointer": ((str, _NONE), "a string or null"),
    "rule": ((str,), "a string"),
    "fix": ((str, _NONE), "a string or null"),
    "results": ((list,), "a list of Label Studio results (objects)"),
}


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


def read_quarantine(path: Path) -> list[Quarantined]:
    """The units of a ``quarantine.jsonl`` as :class:`QuarantineFile` wrote them, in order;
    :class:`InvalidDataError` at the first line that is not one."""
    name = str(path)
    fix = f"pass the {FILE} of a release built with --on-invalid quarantine, as it was written"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidDataError(
            Problem(f"cannot read the quarantine file: {exc.strerror or exc}", file=name, fix=fix)
        ) from None
    units = []
    for n, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            doc: Any = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidDataError(
                Problem(f"malformed JSON: {exc.msg}", file=name, line=n, fix=fix)
            ) from None
        if not isinstance(doc, dict) or set(doc) != set(_FIELDS):
            found = ", ".join(sorted(doc)) if isinstance(doc, dict) else type(doc).__name__
            raise InvalidDataError(
                Problem(
                    "not a quarantined unit",
                    file=name,
                    line=n,
                    expected="an object with " + ", ".join(_FIELDS),
                    found=found,
                    fix=fix,
                )
            )
        for key, (types, what) in _FIELDS.items():
            value: Any = doc[key]
            if (
                not isinstance(value, types)
                or isinstance(value, bool)
                or (key == "results" and not all(isinstance(r, dict) for r in doc[key]))
            ):
                raise InvalidDataError(
                    Problem(
                        f"a quarantined unit's {key} is not {what}",
                        file=name,
                        line=n,
                        pointer=f"/{key}",
                        expected=what,
                        found=orjson.dumps(value).decode()[:80],
                        fix=fix,
                    )
                )
        units.append(Quarantined(**{**doc, "results": tuple(doc["results"])}))
    return units
