"""UI test set-up: helper modules importable by name; garbage collected in the GUI thread;
a clean clipboard at the end."""

import gc
import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(scope="session", autouse=True)
def _gui_thread_garbage_collection(qapp):
    """As the app does (cnnlab.ui.gc_policy): automatic collection could destroy a Qt object
    of an earlier test inside a worker thread and deadlock with the GUI thread."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test(_gui_thread_garbage_collection):
    yield
    gc.collect()


@pytest.fixture(scope="session", autouse=True)
def _clear_clipboard_at_exit(qapp):
    """Qt's offscreen platform crashes at exit if Python-made mime data is still on the
    clipboard (copy/paste tests put some there), so empty it when the session ends."""
    yield
    qapp.clipboard().clear()
