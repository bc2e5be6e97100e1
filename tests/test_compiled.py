"""The compiled core (mypyc, ``setup.py``) and the pure-Python one give the same releases, byte for
byte: the shipped release and a synthetic export, in quarantine mode and across worker processes,
are built once with the compiled modules and once with ``CLAIMWIRE_NO_COMPILE=1`` (every module
from its ``.py`` file), and their ``checksums.tsv`` compared. In CI the core must be compiled:
an install that silently fell back to pure Python fails here instead of passing as pure twice."""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import ROOT, in_ci

sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402
from problems import slip  # noqa: E402


def compiled_modules() -> list[str]:
    """The modules ``setup.py`` compiles, read from its ``COMPILED`` list."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == [
            "COMPILED"
        ]:
            paths = ast.literal_eval(node.value)
            return [p.removesuffix(".py").replace("/", ".") for p in paths]
    raise AssertionError("setup.py has no COMPILED list")


def is_extension(name: str) -> bool:
    module = importlib.import_module(name)
    return str(module.__file__).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def compiled_or_skip() -> None:
    if not all(is_extension(m) for m in compiled_modules()):
        if in_ci():
            pytest.fail("the core is not compiled: the install fell back to pure Python")
        pytest.skip("the core is not compiled here (no C compiler, or CLAIMWIRE_NO_COMPILE)")


def test_the_core_is_compiled_or_wholly_pure() -> None:
    """All or none: compiled code calls the other compiled modules directly."""
    modules = compiled_modules()
    assert len(modules) >= 8 and "builder.core.merge" in modules
    kinds = {m: is_extension(m) for m in modules}
    assert len(set(kinds.values())) == 1, kinds
    compiled_or_skip()


def test_the_package_knows_which_modules_are_compiled() -> None:
    import builder

    assert [f"builder.{m}" for m in builder.COMPILED_MODULES] == compiled_modules()


def test_an_edited_compiled_module_runs_as_pure_python(tmp_path: Path) -> None:
    """In a source checkout, a compiled module whose ``.py`` changed after the compile would run
    the old code: the whole core runs from the ``.py`` files then, with one line saying so."""
    compiled_or_skip()
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "builder", copy / "builder", symlinks=True)
    shutil.copy(ROOT / "setup.py", copy / "setup.py")
    (copy / "schema").symlink_to(ROOT / "schema")  # read when the contracts are imported
    for group in ROOT.glob("*__mypyc*"):
        shutil.copy(group, copy / group.name)
    probe = "import builder.core.merge as m; print(m.__file__.endswith('.py'))"

    def run() -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "CLAIMWIRE_NO_COMPILE"}
        env["PYTHONPATH"] = str(copy)
        return subprocess.run(
            [sys.executable, "-c", probe], env=env, cwd=copy, capture_output=True, text=True
        )

    assert run().stdout.split() == ["False"] and not run().stderr
    edited = copy / "builder" / "core" / "offsets.py"
    compiled = edited.with_suffix(importlib.machinery.EXTENSION_SUFFIXES[0])
    later = compiled.stat().st_mtime + 60  # edited after the compile
    os.utime(edited, (later, later))
    after = run()
    assert after.stdout.split() == ["True"]
    assert after.stderr == (
        f"claimwire: {edited} changed after it was compiled: running the pure-Python core "
        "(make install compiles it again)\n"
    )


def test_no_compile_imports_every_module_from_its_source() -> None:
    probe = (
        "import sys, importlib\n"
        f"names = {compiled_modules()!r}\n"
        "files = [importlib.import_module(n).__file__ for n in names]\n"
        "print(all(f.endswith('.py') for f in files))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "CLAIMWIRE_NO_COMPILE": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.split() == ["True"]


def test_compiled_frozen_records_survive_pickling() -> None:
    """Tasks go to the workers and results come back pickled; a compiled frozen dataclass would
    refuse the field-by-field unpickling of a native object (builder.records.picklable)."""
    import pickle

    from builder.core.adjudicate import Policy, Version
    from builder.core.offsets import ResolvedSpan
    from builder.core.quarantine import Quarantined
    from builder.io.exports import RawTask, TaskRecord
    from builder.quality.agreement import DocAgreement

    records: list[object] = [
        RawTask("export.json", 3, 120, b"{}"),
        TaskRecord("export.json", 3, 7, "a1", "text", None, ({"id": 1, "result": []},)),
        ResolvedSpan(0, 4, "text", ("trimmed-whitespace",)),
        Policy(("majority", "most_recent")),
        Version(0, "ann-1", ("2026-01-01", 1), False, (), ()),
        Quarantined("export.json", 1, 2, 3, "a1", 4, "ann-1", "/0", "rule", "fix", ()),
        DocAgreement("a1", 2, 0.5, (), ()),
    ]
    for record in records:
        assert pickle.loads(pickle.dumps(record, pickle.HIGHEST_PROTOCOL)) == record


def _build(out: Path, pure: bool, *args: str) -> bytes:
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    env.pop("CLAIMWIRE_NO_COMPILE", None)
    if pure:
        env["CLAIMWIRE_NO_COMPILE"] = "1"
    run = subprocess.run(
        [sys.executable, "-m", "builder", "build", "--out", str(out), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (release,) = out.iterdir()
    return (release / "checksums.tsv").read_bytes()


def test_compiled_and_pure_builds_of_the_shipped_release_are_identical(tmp_path: Path) -> None:
    from builder.version import DATASET_VERSION

    compiled_or_skip()
    native = _build(tmp_path / "compiled", False, "--version", DATASET_VERSION)
    pure = _build(tmp_path / "pure", True, "--version", DATASET_VERSION)
    assert native == pure
    assert native == (ROOT / "releases" / f"{DATASET_VERSION}.tsv").read_bytes()


def test_compiled_and_pure_builds_of_a_synthetic_export_are_identical(tmp_path: Path) -> None:
    """A few hundred generated tasks, one claim per task slipped (REPORTED marked AUTHOR with its
    claimer kept) so that quarantine sets units aside, built by two worker processes (the tasks
    and the results cross between processes, pickled)."""
    compiled_or_skip()
    export, articles = generate(300, tmp_path / "syn", seed=11)
    tasks = json.loads(export.read_text(encoding="utf-8"))
    assert slip(tasks[::3]) > 50
    export.write_text(json.dumps(tasks), encoding="utf-8")
    (tmp_path / "none").mkdir()  # no recorded releases
    args = ["--version", "0.9.0", "--articles", str(articles), "--annotations", str(export)]
    args += ["--on-invalid", "quarantine", "--jobs", "2", "--recorded", str(tmp_path / "none")]
    native = _build(tmp_path / "compiled", False, *args)
    pure = _build(tmp_path / "pure", True, *args)
    assert native == pure
    assert b"quarantine.jsonl" in native
