"""Closing the window during TensorFlow's background import: the process waits, then returns.

The window exits by returning its status from ``main`` (no ``os._exit``); an
import still running is waited for, within a bound, so the interpreter is not
torn down around half-loaded native libraries.
"""

import os
import subprocess
import sys
import threading
import time
import types

import pytest

from cnnlab.ui.app import wait_for_import
from cnnlab.ui.tf_loader import TensorFlowLoader

QUIT_WHILE_LOADING = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from cnnlab.ui.app import main
from cnnlab.ui.tf_loader import TensorFlowLoader

qapp = QApplication([])

def quit_once_loading():
    loader = TensorFlowLoader.current()
    if loader is None:
        QTimer.singleShot(10, quit_once_loading)
        return
    print("quit while", loader.state, flush=True)
    qapp.quit()

QTimer.singleShot(0, quit_once_loading)
code = main(["--workspace", sys.argv[1]])
print("main returned", code, "import ended", TensorFlowLoader.current().wait(0), flush=True)
sys.exit(code)
"""


def test_wait_for_import_waits_within_its_bound(qtbot):
    release = threading.Event()

    def slow_import():
        release.wait(10)
        return types.SimpleNamespace(__version__="2.21.0")

    loader = TensorFlowLoader(importer=slow_import)
    assert wait_for_import(loader, timeout=0.01)  # never started: nothing to wait for
    loader.start()
    started = time.monotonic()
    assert not wait_for_import(loader, timeout=0.2)  # the bound: still importing
    assert time.monotonic() - started >= 0.2
    threading.Timer(0.2, release.set).start()
    assert wait_for_import(loader, timeout=10)  # waited for the import to end
    qtbot.waitUntil(lambda: loader.state == "ready", timeout=5000)


@pytest.mark.slow  # CI budget (9 s, a fresh process); the test above covers the loader's end
def test_quitting_during_the_import_returns_from_main_after_it(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CNNLAB_HOME=str(tmp_path / "ws"))
    done = subprocess.run([sys.executable, "-c", QUIT_WHILE_LOADING, str(tmp_path / "ws")],
                          capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["quit while loading", "main returned 0 import ended True"]
