"""The architecture of docs/architecture.md, checked: layers, no import cycle, no private name across modules."""

import ast
import pathlib
import shutil
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "czar_gbdt"


def test_import_contracts_hold():
    """The import-linter contracts of pyproject.toml: layers only import downward."""
    exe = shutil.which("lint-imports", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[test]'")
    result = subprocess.run([exe], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_import_cycle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("czar_gbdt")
    modules = sorted(graph.modules)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for other in sorted(graph.find_modules_directly_imported_by(module)):
            if not other.startswith("czar_gbdt"):
                continue
            if state.get(other) == 1:
                return stack[stack.index(other):] + [other]
            if other not in state:
                cycle = visit(other)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in modules:
        if module not in state:
            cycle = visit(module)
            # a package's __init__ importing its own submodules is not a cycle between modules
            if cycle and not all(cycle[0].startswith(c) or c.startswith(cycle[0]) for c in cycle):
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")


def _shared_privately(module: str) -> bool:
    """Modules that exist to be shared privately: a private module name anywhere in the path."""
    return any(part.startswith("_") and not part.startswith("__") for part in module.split("."))


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.is_dir() or path.with_suffix(".py").is_file()


def test_no_private_name_crosses_modules():
    """``from .x import _name`` and ``alias._name`` of another module are refused, except from the
    modules that exist to be shared privately (``_validation``, ``_jit``, ``_kernels``, ``_adapters``)."""
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text())
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if not source.startswith("czar_gbdt"):
                    continue
                for alias in node.names:
                    full = f"{source}.{alias.name}"
                    aliases[alias.asname or alias.name] = full
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    if private and not _shared_privately(source) and not _is_module(full):
                        problems.append(f"{module}: from {source} import {alias.name}")
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                target = aliases.get(node.value.id)
                if (target and node.attr.startswith("_") and not node.attr.startswith("__")
                        and not _shared_privately(target) and _is_module(target)):
                    problems.append(f"{module}: {node.value.id}.{node.attr} ({target})")
    assert not problems, "private names used across modules:\n" + "\n".join(problems)
