"""The layers of DESIGN.md ("Layers and data flow"), held by reading every module's imports.

collectors -> db -> metrics -> dashboard, with the composition root (`teamtide`: config
schema and command line) wiring them. A layer imports only those before it;
`metrics/` never imports `dashboard/` or `collectors/`, `collectors/` never imports
`metrics/`, and nothing in production imports `sandbox/` except the command line's
`sandbox` and `demo` commands, inside the functions that need it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"collectors", "db", "metrics", "dashboard", "sandbox", "teamtide", "benchmarks"}
# What each production package may import of ours (the config schema counts as the root's).
ALLOWED = {
    "db": set(),
    "collectors": {"db", "teamtide.config"},
    "metrics": {"teamtide.config"},
    "dashboard": {"db", "metrics", "teamtide.config", "teamtide.configload", "teamtide.compute"},
}


def imports(path: Path) -> list[tuple[str, bool]]:
    """Every absolute import of ours that runs in `path`: (module, at module level).

    Imports under `if TYPE_CHECKING:` never run and are left out.
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
            names = [node.module]
            if node.module in OURS:  # `from teamtide import compute`
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [(n, id(node) in top) for n in names if n.split(".")[0] in OURS]
    return found


def allowed(module: str, rules: set[str]) -> bool:
    return any(module == rule or module.startswith(rule + ".") for rule in rules)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_before_it(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module, _ in imports(path)
        if module.split(".")[0] != package and not allowed(module, ALLOWED[package])
    ]
    assert wrong == []


def test_only_the_sandbox_commands_import_the_sandbox_and_only_when_run() -> None:
    wrong = []
    for package in [*ALLOWED, "teamtide"]:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module, at_top in imports(path):
                if module.split(".")[0] != "sandbox":
                    continue
                if path.relative_to(ROOT).as_posix() != "teamtide/cli.py" or at_top:
                    wrong.append(f"{path.relative_to(ROOT)}: {module}")
    assert wrong == []


def test_the_import_reader_sees_the_kinds_of_import_it_judges(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import db.models\n"
        "from teamtide import compute\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from sandbox.stack import SandboxStack\n"
        "def f():\n"
        "    from sandbox import truth\n"
    )
    assert imports(module) == [
        ("db.models", True),
        ("teamtide.compute", True),
        ("sandbox.truth", False),
    ]
