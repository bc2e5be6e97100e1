"""claimwire: build, validate and verify an annotated news-article dataset.

Public API: :func:`build`, :func:`verify`, :func:`read_articles`, :func:`read_export`, the record
types and the error hierarchy. The command line is ``claimwire`` (:mod:`builder.cli`).

The package reads like its data flow; each subpackage's docstring says what it owns and what it
may import (``tests/test_layers.py`` enforces it):

- :mod:`builder.errors`, :mod:`builder.records`, :mod:`builder.version`: the error hierarchy, the
  frozen records and the dataset version, imported by everything;
- :mod:`builder.contracts`: what the data must look like (JSON Schemas, label sets, Features);
- :mod:`builder.io`: reading articles and Label Studio exports;
- :mod:`builder.quality`: agreement and near-duplicate measures over records;
- :mod:`builder.core`: one task's annotations → one document (offsets, merge, adjudication),
  splits and the task views;
- :mod:`builder.release`: writing, verifying, reading and comparing a release;
- :mod:`builder.benchmark`: the scorer and the baselines;
- :mod:`builder.pipeline`: the whole build, its card and Croissant metadata, ``validate``;
- :mod:`builder.labelstudio`: the Label Studio server, client and review tasks;
- :mod:`builder.cli`: the ``claimwire`` command; the only place that parses arguments.

Names are imported lazily (PEP 562), so ``import builder`` and ``claimwire --help`` stay light.

The per-task core is compiled with mypyc when the package is installed (``setup.py``): the
extension modules sit next to their ``.py`` files and are imported in their place. With
``CLAIMWIRE_NO_COMPILE=1`` in the environment every module of the package is imported from its
``.py`` file instead (the same release bytes, a slower build): for debugging, for the tests that
compare the two, and for mutation testing, whose mutants are ``.py`` files.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from importlib.machinery import (
    EXTENSION_SUFFIXES,
    SOURCE_SUFFIXES,
    FileFinder,
    ModuleSpec,
    SourceFileLoader,
)
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .version import DATASET_VERSION

if TYPE_CHECKING:
    from .errors import ClaimwireError, InvalidDataError, Problem, UsageError
    from .io.articles import read_articles
    from .io.exports import read_export
    from .pipeline.build import build
    from .records import AnnotationInfo, Article, ArticleMeta, Claim, Document, Entity
    from .release.verify import verify

_WHERE = {
    "build": ".pipeline.build",
    "verify": ".release.verify",
    "read_articles": ".io.articles",
    "read_export": ".io.exports",
    **dict.fromkeys(("ClaimwireError", "InvalidDataError", "Problem", "UsageError"), ".errors"),
    **dict.fromkeys(
        ("AnnotationInfo", "Article", "ArticleMeta", "Claim", "Document", "Entity"), ".records"
    ),
}

__all__ = [
    "DATASET_VERSION",
    "AnnotationInfo",
    "Article",
    "ArticleMeta",
    "Claim",
    "ClaimwireError",
    "Document",
    "Entity",
    "InvalidDataError",
    "Problem",
    "UsageError",
    "build",
    "read_articles",
    "read_export",
    "verify",
]

NO_COMPILE_ENV = "CLAIMWIRE_NO_COMPILE"


class _SourceOnly:
    """Finds the modules of this package in their ``.py`` files only, never in a compiled
    extension module next to them."""

    @staticmethod
    def find_spec(
        name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not name.startswith(__name__ + ".") or path is None:
            return None
        for folder in path:
            finder = FileFinder(folder, (SourceFileLoader, SOURCE_SUFFIXES))
            spec = finder.find_spec(name)
            if spec is not None:
                return spec
        return None


# The modules setup.py compiles (tests/test_compiled.py keeps the two lists the same).
COMPILED_MODULES = (
    "core.offsets",
    "core.merge",
    "core.adjudicate",
    "core.anchor",
    "core.quarantine",
    "core.views",
    "io.exports",
    "quality.agreement",
    "benchmark.tally",
)


def _stale_source() -> str | None:
    """In a source checkout (an editable install compiles in place), the first compiled module
    whose ``.py`` file changed after it was compiled: its extension module would run the old
    code."""
    here = os.path.dirname(os.path.abspath(__file__))
    if not os.path.exists(os.path.join(os.path.dirname(here), "setup.py")):
        return None  # an installed package: compiled and copied together
    for name in COMPILED_MODULES:
        base = os.path.join(here, *name.split("."))
        try:
            compiled = os.stat(base + EXTENSION_SUFFIXES[0]).st_mtime
        except OSError:
            continue
        if os.stat(base + ".py").st_mtime > compiled:
            return base + ".py"
    return None


def _pure() -> bool:
    if os.environ.get(NO_COMPILE_ENV, "").strip() not in ("", "0"):
        return True
    stale = _stale_source()
    if stale is not None:
        print(
            f"claimwire: {stale} changed after it was compiled: running the pure-Python core "
            "(make install compiles it again)",
            file=sys.stderr,
        )
    return stale is not None


if _pure():
    sys.meta_path.insert(0, _SourceOnly())


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
