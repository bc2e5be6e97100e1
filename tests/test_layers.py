"""The package's layering, read from the source: every import, at module level, inside a function
or under ``TYPE_CHECKING``, goes to the same subpackage or a layer below; there is no import cycle
between modules of any kind; ``datasets`` is imported only inside functions; and the command line
starts without pyarrow, pandas, ``datasets``, fsspec or Dask, and a build runs without
``datasets``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from support.helpers import ROOT

PACKAGE = ROOT / "builder"
# Lowest first. The root modules are imported by everything; each subpackage may import only
# the root modules, its own modules and the subpackages before it.
LAYERS = (
    "contracts",
    "io",
    "quality",
    "core",
    "release",
    "benchmark",
    "pipeline",
    "labelstudio",
    "cli",
)
ROOT_MODULES = ("builder.errors", "builder.records", "builder.version", "builder.markdown")
HEAVY = ("datasets", "pandas", "pyarrow", "fsspec", "distributed")


def _module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = ROOT) -> list[tuple[str, int, bool]]:
    """``(imported module, line, at module level)`` for every import statement of ``path``;
    ``from X import name`` counts ``X.name`` when that is a module of the package."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for a in node.names:
                sub = f"{module}.{a.name}"
                is_module = (root / Path(*sub.split("."))).with_suffix(".py").is_file() or (
                    root / Path(*sub.split(".")) / "__init__.py"
                ).is_file()
                out.append((sub if is_module else module, node.lineno, id(node) in top))
    return out


def _graph(package: Path = PACKAGE) -> dict[str, list[tuple[str, int, bool]]]:
    return {_module_name(p): _imports(p) for p in sorted(package.rglob("*.py"))}


def _rank(module: str) -> int:
    """-1 for the root modules, the layer's index for a subpackage's modules."""
    if module in ROOT_MODULES:
        return -1
    parts = module.split(".")
    if len(parts) < 3 or parts[1] not in LAYERS:
        raise AssertionError(f"{module} is in no declared layer: add it to LAYERS or ROOT_MODULES")
    return LAYERS.index(parts[1])


def layer_violations(graph: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    found = []
    for module, imports in graph.items():
        if (
            module in ("builder", "builder.__main__")
            or module.count(".") == 1
            and module.split(".")[1] in LAYERS
        ):
            continue  # the lazy public API, ``python -m builder``, and the package docstrings
        rank = _rank(module)
        for target, line, _ in imports:
            if not target.startswith("builder.") or target == module:
                continue
            if target == "builder":
                found.append(f"{module}:{line} imports the package root (use the module itself)")
                continue
            layer = target.split(".")[1]
            same_package = layer in LAYERS and module.split(".")[1] == layer
            if not same_package and _rank(target) >= rank and rank >= 0:
                found.append(f"{module}:{line} imports {target} (not a lower layer)")
            if rank == -1 and target not in ROOT_MODULES:
                found.append(f"{module}:{line} (a root module) imports {target}")
    return found


def cycles(graph: dict[str, list[tuple[str, int, bool]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    edges = {
        m: sorted({t for t, _, _ in imps if t in graph and t != m}) for m, imps in graph.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_every_import_goes_down_the_layers():
    assert layer_violations(_graph()) == []


def test_there_is_no_import_cycle():
    graph = {m: i for m, i in _graph().items() if m != "builder"}  # the lazy API is a facade
    assert cycles(graph) == []


def test_datasets_is_imported_only_inside_functions():
    found = [
        f"{m}:{line}"
        for m, imps in _graph().items()
        for t, line, top in imps
        if top and t.split(".")[0] == "datasets"
    ]
    assert found == []


def test_a_sideways_import_is_caught(tmp_path: Path):
    """The check above can fail: plant a core module that imports the pipeline, and a cycle."""
    graph = _graph()
    graph["builder.core.planted"] = [("builder.pipeline.build", 3, False)]
    assert layer_violations(graph) == [
        "builder.core.planted:3 imports builder.pipeline.build (not a lower layer)"
    ]
    assert cycles(graph) == []
    # merge -> planted -> pipeline.build -> (already) core.merge closes a cycle
    graph["builder.core.merge"] = [*graph["builder.core.merge"], ("builder.core.planted", 9, False)]
    (found,) = cycles(graph)
    assert {"builder.core.merge", "builder.core.planted", "builder.pipeline.build"} <= set(found)


def test_a_function_level_import_is_read_from_source(tmp_path: Path):
    """An import inside a function is seen (the reason the old cycles were hidden)."""
    src = tmp_path / "builder" / "core" / "x.py"
    src.parent.mkdir(parents=True)
    src.write_text("def f():\n    from ..pipeline import build\n", encoding="utf-8")
    (tmp_path / "builder" / "pipeline").mkdir()
    (tmp_path / "builder" / "pipeline" / "build.py").write_text("", encoding="utf-8")
    imports = _imports(src, tmp_path)
    assert imports == [("builder.pipeline.build", 2, False)]
    assert layer_violations({"builder.core.x": imports}) == [
        "builder.core.x:2 imports builder.pipeline.build (not a lower layer)"
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["validate", "--help"],
        ["build", "--help"],
        ["ls", "--help"],
        ["validate", "annotations/exports", "--articles", "articles"],
    ],
)
def test_the_command_line_starts_without_heavy_libraries(argv: list[str]):
    """``claimwire --help`` and ``validate`` (a pre-commit hook) import none of pyarrow, pandas,
    ``datasets``, fsspec (article URLs) or Dask (the dask engine)."""
    code = (
        "import sys\nfrom builder.cli.main import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_a_build_runs_without_datasets(tmp_path: Path):
    """A whole ``claimwire build`` of the shipped data, in one process (``--jobs 1``, no cache),
    never imports ``datasets``: the Parquet schemas and croissant.json come from the declared
    features in pyarrow alone (importing ``datasets`` cost ~0.4 s of CPU per build)."""
    code = (
        "import sys\nfrom builder.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] == 'datasets'))"
    )
    argv = ["build", "--out", str(tmp_path), "--jobs", "1", "--no-cache"]
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "0 []"
    (release,) = tmp_path.glob("claimwire-*")
    assert (release / "croissant.json").is_file()
    assert list((release / "data").glob("*/*.parquet"))
