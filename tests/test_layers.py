"""The layers of docs/architecture.md, held by reading every module's imports.

    config <- db <- collectors
                 <- metrics <- report <- dashboard
    teamtide (the composition root) imports them all; nothing imports it.

A package imports only the layers before it, every package is checked (the root too),
no module of ours sits in an import cycle with another, and the sandbox (a test and demo
tool) is imported by no production module at all. The layer rules are the whole policy:
there are no per-module exceptions.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What each package may import of ours besides itself. `tests/` is not a package here.
LAYERS: dict[str, set[str]] = {
    "config": set(),
    "db": {"config"},
    "collectors": {"config", "db"},
    "metrics": {"config", "db"},
    "report": {"config", "db", "metrics"},
    "dashboard": {"config", "db", "metrics", "report"},
    "teamtide": {"config", "db", "collectors", "metrics", "report", "dashboard"},
    # Tools beside the product: the sandbox stands in for Jira, GitHub and Kubernetes, so
    # it knows nothing of teamtide; the benchmarks drive the product as a user would.
    "sandbox": set(),
    "benchmarks": {"config", "db", "collectors", "metrics", "report", "dashboard", "sandbox"},
}
PRODUCTION = ("config", "db", "collectors", "metrics", "report", "dashboard", "teamtide")
# Scripts that Streamlit or Alembic run: read here, but never imported as modules.
SCRIPTS = ("dashboard/app.py", "dashboard/views/", "db/migrations/")


def modules() -> dict[str, Path]:
    """Every module of ours by dotted name (`db.models`; a package by its `__init__`)."""
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(path: Path, known: set[str] | frozenset[str] = frozenset()) -> list[tuple[str, bool]]:
    """Every absolute import of ours that runs in `path`: (module, at module level).

    `from pkg import name` counts as `pkg.name` when that is a module of ours (`known`),
    else as `pkg`. Imports under `if TYPE_CHECKING:` never run and are left out.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = [ast.Pass()]
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [
                f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in known
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found += [(n, id(node) in top) for n in names if n.split(".")[0] in LAYERS]
    return list(dict.fromkeys(found))


def graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (module level or inside a function)."""
    known = modules()
    return {
        name: {module for module, _ in imports(path, set(known)) if module != name}
        for name, path in known.items()
    }


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_each_package_imports_only_the_layers_before_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module, _ in imports(path)
        if module.split(".")[0] not in {package, *LAYERS[package]}
    ]
    assert wrong == []


def test_nothing_imports_the_composition_root() -> None:
    wrong = [
        f"{name}: {module}"
        for name, targets in graph().items()
        if not name.startswith("teamtide")
        for module in targets
        if module.split(".")[0] == "teamtide"
    ]
    assert wrong == []


def test_no_production_module_imports_the_sandbox() -> None:
    wrong = [
        f"{name}: {module}"
        for name, targets in graph().items()
        if name.split(".")[0] in PRODUCTION
        for module in targets
        if module.split(".")[0] == "sandbox"
    ]
    assert wrong == []


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_ours_is_in_an_import_cycle() -> None:
    edges = graph()
    # A package's `__init__` re-exporting its modules would be an edge back from each of
    # them; ours hold docstrings only, so every edge here is a real dependency.
    assert cycles(edges) == []


@pytest.mark.parametrize("package", PRODUCTION)
def test_importing_a_layer_alone_loads_no_higher_layer(package: str) -> None:
    names = sorted(
        name
        for name, path in modules().items()
        if name.split(".")[0] == package
        and not any(path.relative_to(ROOT).as_posix().startswith(s) for s in SCRIPTS)
        and name != "teamtide.__main__"
    )
    probe = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(LAYERS)!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert loaded <= {package, *LAYERS[package]}


def test_the_cycle_finder_finds_a_cycle_and_only_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_reader_sees_the_kinds_of_import_it_judges(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import db.models\n"
        "from metrics import reading\n"
        "from config.schema import Config\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from sandbox.stack import SandboxStack\n"
        "def f():\n"
        "    from sandbox import truth\n"
    )
    assert imports(module, {"metrics.reading", "sandbox.truth"}) == [
        ("db.models", True),
        ("metrics.reading", True),
        ("config.schema", True),
        ("sandbox.truth", False),
    ]
