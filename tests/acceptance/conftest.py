"""Acceptance matrix set-up: the helper module importable by name, one shared lab."""

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from matrix_lab import Lab  # noqa: E402


@pytest.fixture(scope="session")
def lab(tmp_path_factory) -> Lab:
    """One workspace and the tiny base experiment for every case of the matrix."""
    return Lab(tmp_path_factory.mktemp("matrix"))
