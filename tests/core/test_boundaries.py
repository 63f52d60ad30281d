"""DESIGN.md's import boundaries: the core never imports Qt; spec and analysis never TF."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QT = {"PySide6", "shiboken6", "pyqtgraph"}
# The one way from the core to the window: `cnnlab` (no subcommand) opens it through the
# UI's documented entry point cnnlab.ui.app.main, imported lazily inside a CLI function.
WINDOW_ENTRY = "cnnlab.ui.app"


def _imports(source: str, package: str) -> Iterator[tuple[str, int, bool]]:
    """Every module ``source`` imports: ``(name, line, inside a function)``.

    Sees imports at any depth (in functions, ``try`` and ``if`` blocks), relative
    imports (resolved against the file's ``package``), and ``importlib.import_module``
    or ``__import__`` calls with a literal name.
    """
    parts = package.split(".")

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) + 1 - node.level] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            yield name, node.lineno, in_function
            yield from ((f"{name}.{a.name}", node.lineno, in_function) for a in node.names)
        elif isinstance(node, ast.Call) and _call_name(node) in ("import_module", "__import__"):
            if node.args and isinstance(node.args[0], ast.Constant):
                yield str(node.args[0].value), node.lineno, in_function
        inner = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                 ast.Lambda))
        for child in ast.iter_child_nodes(node):
            yield from visit(child, inner)

    yield from visit(ast.parse(source), False)


def _call_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _package(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).parent.parts)


def _forbidden(name: str, package: str, in_function: bool) -> bool:
    if name.split(".")[0] in QT:
        return True
    if name != "cnnlab.ui" and not name.startswith("cnnlab.ui."):
        return False
    entry = name in (WINDOW_ENTRY, f"{WINDOW_ENTRY}.main")
    return not (entry and in_function and (package + ".").startswith("cnnlab.cli."))


def _offenders(path: Path) -> list[str]:
    package = _package(path)
    where = path.relative_to(ROOT)
    return [f"{where}:{line}: imports {name}"
            for name, line, inside in _imports(path.read_text(encoding="utf-8"), package)
            if _forbidden(name, package, inside)]


def test_no_core_module_imports_qt_or_the_ui():
    offenders = [o for path in sorted((ROOT / "cnnlab").rglob("*.py")) for o in _offenders(path)]
    assert not offenders, offenders


def test_the_scan_sees_imports_at_any_depth():
    source = '''
import os, PySide6.QtCore
def f():
    try:
        from pyqtgraph import Qt
    except ImportError:
        import importlib
        importlib.import_module("cnnlab.ui.views")
    from ..ui import canvas
    from cnnlab.ui.app import main
'''
    found = {name: inside for name, _, inside in _imports(source, "cnnlab.cli")}
    assert found["PySide6.QtCore"] is False and found["pyqtgraph"] is True
    assert "cnnlab.ui.views" in found and "cnnlab.ui.canvas" in found
    assert [n for n in found if _forbidden(n, "cnnlab.cli", found[n])] == [
        "PySide6.QtCore", "pyqtgraph", "pyqtgraph.Qt", "cnnlab.ui.views", "cnnlab.ui",
        "cnnlab.ui.canvas"]
    assert _forbidden("cnnlab.ui.app", "cnnlab.cli", False)  # not at module level
    assert _forbidden("cnnlab.ui.app", "cnnlab.train", True)  # not outside the CLI
    assert _forbidden("cnnlab.ui.app", "cnnlab.client", True)


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_spec_analysis_and_cli_help_stay_light():
    mods = _imported_after("import cnnlab, cnnlab.spec, cnnlab.analysis, cnnlab.cli, "
                           "cnnlab.presetlib, cnnlab.recipe, cnnlab.data")
    assert not mods & {"tensorflow", "keras", "PySide6", "pyqtgraph"}


def test_import_linter_contract_holds():
    exe = Path(sys.executable).with_name("lint-imports")
    assert exe.exists(), ("import-linter is not installed in the test environment: "
                          "pip install -e '.[test]'")
    out = subprocess.run([str(exe)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
