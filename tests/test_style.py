"""The code stays ruff clean (configuration in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    exe = Path(sys.executable).with_name("ruff")
    if not exe.exists():
        exe = Path(shutil.which("ruff") or exe)
    assert exe.exists(), "ruff is not installed in the test environment: pip install -e '.[test]'"
    out = subprocess.run([str(exe), "check", "--output-format", "concise", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:]
