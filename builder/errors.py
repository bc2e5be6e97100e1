"""The error hierarchy. Every user-facing failure is one of these, never a bare traceback.

A :class:`Problem` pins one defect to a place (file, line/column, task or article id, JSON
pointer) and says what was expected and how to fix it. Errors carry one or more problems; the CLI
prints them and maps the error class to an exit code (1 invalid data, 2 usage).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypedDict, Unpack, cast


class Where(TypedDict, total=False):
    """The location fields of a :class:`Problem`, as keyword arguments (``**where``)."""

    file: str | None
    line: int | None
    column: int | None
    task: int | str | None
    article: str | None
    pointer: str | None


class Details(Where, total=False):
    """Every optional field of a :class:`Problem`: its location, and what was expected, what
    was found and the fix."""

    expected: str | None
    found: str | None
    fix: str | None


@dataclass(frozen=True)
class Problem:
    """One defect in the input, located as precisely as the input allows."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    task: int | str | None = None
    article: str | None = None
    pointer: str | None = None
    expected: str | None = None
    found: str | None = None
    fix: str | None = None

    def located(self, **where: Unpack[Details]) -> Problem:
        """A copy with more location filled in (fields already set win)."""
        updates = {k: v for k, v in where.items() if getattr(self, k) is None and v is not None}
        return replace(self, **cast(Details, updates)) if updates else self

    def where(self) -> str:
        place = self.file or "<input>"
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        bits = [place]
        if self.task is not None:
            bits.append(f"task {self.task}")
        if self.article is not None:
            bits.append(f"article {self.article}")
        if self.pointer is not None:
            bits.append(f"at {self.pointer or '/'}")
        return ", ".join(bits)

    def __str__(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.expected is not None:
            text += f"\n    expected: {self.expected}"
        if self.found is not None:
            text += f"\n    found:    {self.found}"
        if self.fix is not None:
            text += f"\n    fix:      {self.fix}"
        return text


class ClaimwireError(Exception):
    """Base class: a failure the user can act on."""

    exit_code = 1

    def __init__(self, problems: Problem | list[Problem] | str) -> None:
        if isinstance(problems, str):
            problems = Problem(problems)
        self.problems: list[Problem] = problems if isinstance(problems, list) else [problems]
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def __reduce__(self) -> tuple[type[ClaimwireError], tuple[list[Problem]]]:
        # Errors found in worker processes travel back pickled: keep the problems, not the text.
        return (type(self), (self.problems,))


class InvalidDataError(ClaimwireError):
    """Input data (articles, exports, predictions, a release) breaks a contract."""

    exit_code = 1


class UsageError(ClaimwireError):
    """The command was asked to do something it cannot (bad option, existing release...)."""

    exit_code = 2


class OutputError(ClaimwireError):
    """The release could not be written: disk full, an unwritable or missing output folder."""

    exit_code = 1


class LabelStudioError(ClaimwireError):
    """The Label Studio server refused or failed a request."""

    exit_code = 1
