"""The layers of docs/architecture.md, checked on the source: each package
imports only the layers below it (``solvers`` nothing of ours, nor Flask or
SQLAlchemy; ``matcher`` never the web app), and no module of ours imports
itself back through others (no import cycles)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("solvers", "matcher", "web", "seeds")

#: What each package must never import (a top-level name, or a package of ours).
FORBIDDEN = {
    "solvers": {"matcher", "web", "flask", "flask_socketio", "sqlalchemy", "alembic"},
    "matcher": {"web", "flask", "flask_socketio", "flask_wtf", "flask_limiter", "werkzeug"},
    "seeds": {"matcher", "web", "solvers"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, as absolute names (relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else \
        _module_name(path).rpartition(".")[0]
    found = set()
    # Imports only a type checker sees (``if TYPE_CHECKING:``) are not made at run time.
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
                   for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            found.add(stem)
            # ``from web import api`` may import the module web.api.
            found.update(f"{stem}.{alias.name}" for alias in node.names)
    return found


def _sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield package, path


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_the_layers_above_it(package):
    wrong = []
    for owner, path in _sources():
        if owner != package:
            continue
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_no_import_cycles():
    modules = {_module_name(path): path for _, path in _sources()}
    graph = {name: sorted({imported for imported in _imports(path) if imported in modules
                           and imported != name})
             for name, path in modules.items()}
    # A package's __init__ importing its own modules is how a package is built,
    # not a cycle between layers of code.
    graph = {name: [other for other in targets if not name.startswith(other + ".")]
             for name, targets in graph.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(name, trail):
        state[name] = 1
        for other in graph[name]:
            if state.get(other) == 1:
                cycles.append(" → ".join(trail[trail.index(other):] + [other]))
            elif other not in state:
                visit(other, trail + [other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)
