"""UI test set-up: helper modules importable by name; a clean clipboard at the end."""

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session", autouse=True)
def _clear_clipboard_at_exit(qapp):
    """Qt's offscreen platform crashes at exit if Python-made mime data is still on the
    clipboard (copy/paste tests put some there), so empty it when the session ends."""
    yield
    qapp.clipboard().clear()
