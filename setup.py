"""Build hook: compiles the per-task core of the builder with mypyc (the metadata is in
pyproject.toml).

The modules of ``COMPILED`` are ordinary typed Python; mypyc turns them into C extensions that
sit next to their ``.py`` files and are imported in their place. Without a C compiler (or with
``CLAIMWIRE_NO_COMPILE=1``) the package installs as pure Python: the same code, the same release
bytes, a slower build. A failed compile prints one warning line and falls back to that.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

# What a build does once per task: merge and adjudication, the task views, the task parsing and
# the agreement counts; and once per row of the card's baseline sample: the scorer's and the rules
# baselines' loops (their integer and string part: the ratios stay interpreted). Not
# builder/records.py: mypyc keeps a dataclass's generated methods, so a compiled frozen record is
# built through ``object.__setattr__`` field by field, four times slower than the interpreted
# fast constructors there (whose class swap a native class forbids). Not the pipeline, the
# command line, the Label Studio code or anything that imports ``datasets``.
COMPILED = [
    "builder/core/offsets.py",
    "builder/core/merge.py",
    "builder/core/adjudicate.py",
    "builder/core/anchor.py",
    "builder/core/quarantine.py",
    "builder/core/views.py",
    "builder/io/exports.py",
    "builder/quality/agreement.py",
    "builder/benchmark/tally.py",
]

NO_COMPILE_ENV = "CLAIMWIRE_NO_COMPILE"
SLOWER = "a build takes about 25% more CPU"


def _warn(reason: str) -> None:
    print(
        f"WARNING: claimwire: {reason}; installing the pure-Python core ({SLOWER})",
        file=sys.stderr,
    )


class OptionalBuildExt(build_ext):
    """``build_ext`` that falls back to the pure-Python modules when compiling fails."""

    failed = False

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, a compiler error, a missing header...
            self.failed = True
            for ext in self.extensions:  # no half-built core: all compiled or none
                Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
            _warn(f"could not compile the core ({type(exc).__name__}: no working C compiler?)")

    def get_outputs(self) -> list[str]:
        return [] if self.failed else list(super().get_outputs())

    def get_output_mapping(self) -> dict[str, str]:
        return {} if self.failed else dict(super().get_output_mapping())


def extensions() -> list[Any]:
    if os.environ.get(NO_COMPILE_ENV, "").strip() not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        _warn("mypyc is not installed")
        return []
    try:
        # (the flags: a build environment without numpy or pyarrow sees their values as Any)
        flags = ["--no-warn-unused-ignores", "--no-warn-return-any"]
        return list(mypycify([*flags, *COMPILED], opt_level="3", debug_level="0"))
    except BaseException as exc:  # mypyc exits on a type error
        _warn(f"mypyc could not translate the core ({type(exc).__name__})")
        return []


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
