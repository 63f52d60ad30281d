"""DESIGN.md's import boundaries: the core never imports Qt; spec and analysis never TF."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return {m.split(".")[0] for m in out.stdout.split()}


def test_spec_analysis_and_cli_help_stay_light():
    mods = _imported_after("import cnnlab, cnnlab.spec, cnnlab.analysis, cnnlab.cli, "
                           "cnnlab.presetlib, cnnlab.recipe, cnnlab.data")
    assert not mods & {"tensorflow", "keras", "PySide6", "pyqtgraph"}


def test_no_core_module_imports_qt_or_the_ui():
    offenders = []
    for path in (ROOT / "cnnlab").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            qt = len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[
                0] in ("PySide6", "pyqtgraph")
            if qt or line.startswith(("from cnnlab.ui", "import cnnlab.ui")):
                offenders.append(f"{path.relative_to(ROOT)}: {line.strip()}")
    assert not offenders, offenders


def test_import_linter_contract_holds():
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        import pytest

        pytest.skip("import-linter is not installed")
    out = subprocess.run([str(exe)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
