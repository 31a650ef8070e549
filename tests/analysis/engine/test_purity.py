"""analysis/engine stays a plain library: no Django, no project imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[3] / "analysis" / "engine"
ALLOWED_THIRD_PARTY = {"numpy", "scipy", "pandas"}
PROJECT_PACKAGES = {
    "config",
    "core",
    "reviews",
    "searches",
    "screening",
    "extraction",
    "quality",
    "delphi",
    "reporting",
    "bench",
    "tests",
}


def _imported_roots(tree: ast.AST) -> list[tuple[str, int]]:
    roots: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                roots.append((".", node.lineno))
            elif node.module:
                roots.append((node.module, node.lineno))
    return roots


MODULES = sorted(ENGINE.glob("*.py"))


def test_engine_has_modules() -> None:
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_engine_module_imports_nothing_from_django_or_the_project(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for name, line in _imported_roots(tree):
        root = name.split(".")[0]
        where = f"{path.name}:{line} imports {name}"
        assert root != "django", where
        assert root not in PROJECT_PACKAGES, where
        if root == "analysis":
            # Only the engine itself; never analysis.models/services/adapters.
            assert name.startswith("analysis.engine"), where
        elif root not in ALLOWED_THIRD_PARTY and root != ".":
            import sys

            assert root in sys.stdlib_module_names, where
