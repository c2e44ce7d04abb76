"""The architecture of docs/architecture.md, checked: layers, no import cycle, no private name across modules,
modules of at most 600 lines, the typed configuration read by attribute, and the code formatted and linted."""

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
                return stack[stack.index(other) :] + [other]
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
                if (
                    target
                    and node.attr.startswith("_")
                    and not node.attr.startswith("__")
                    and not _shared_privately(target)
                    and _is_module(target)
                ):
                    problems.append(f"{module}: {node.value.id}.{node.attr} ({target})")
    assert not problems, "private names used across modules:\n" + "\n".join(problems)


ROOT = PACKAGE.parent
MAX_MODULE_LINES = 600
#: The config's tables: reading one of them by string key is a read of the untyped config.
SECTIONS = {"study", "data", "splits", "model", "loss", "compare", "report", "cluster"}
#: String-key reads of the config allowed outside the config package (issue 23: at most 20).
CONFIG_READ_ALLOWANCE = 20


def test_every_module_is_at_most_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them along their concerns): {long}"


def _names_a_config(node: ast.AST) -> bool:
    """Whether ``node`` is (a table read from) a configuration: a name or attribute holding
    ``cfg``/``config``, or a subscript of one (``cfg["model"]["params"]``)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "cfg" in name.lower() or "config" in name.lower()


def _config_reads(tree: ast.AST) -> list[int]:
    """Lines that read a table of a configuration by string key: ``cfg["model"]``, ``config.get("model")``
    (model cards, trial parameters and result rows have keys of the same names: they are not counted)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key, owner = node.slice, node.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            key, owner = node.args[0], node.func.value
        else:
            continue
        if isinstance(key, ast.Constant) and key.value in SECTIONS and _names_a_config(owner):
            lines.append(node.lineno)
    return lines


def test_the_engine_reads_the_typed_config():
    reads = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "config":
            continue
        if found := _config_reads(ast.parse(path.read_text())):
            reads[str(rel)] = found
    total = sum(map(len, reads.values()))
    assert total <= CONFIG_READ_ALLOWANCE, (
        f"{total} string-key reads of the config outside czar_gbdt/config (allowed {CONFIG_READ_ALLOWANCE}): "
        f"read the typed Config's attributes instead: {reads}"
    )


def test_code_is_formatted_and_linted():
    ruff = shutil.which("ruff", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is part of the test extra: pip install -e '.[test]'"
    for args in (["format", "--check", "--quiet"], ["check", "--quiet"]):
        done = subprocess.run([ruff, *args, "."], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, f"ruff {args[0]}: {done.stdout}{done.stderr}"
