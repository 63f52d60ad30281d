"""A worker's TensorFlow gate waits for the process's one background import."""

import threading
import types

from PySide6.QtWidgets import QWidget

from cnnlab.ui.tf_gate import tensorflow_gate
from cnnlab.ui.tf_loader import TensorFlowLoader


def test_the_gate_of_any_widget_waits_for_the_running_import(qtbot):
    release = threading.Event()

    def slow_import():
        release.wait(10)
        return types.SimpleNamespace(__version__="2.21.0")

    loader = TensorFlowLoader(importer=slow_import)  # owned by no window
    widget = QWidget()
    qtbot.addWidget(widget)
    loader.start()
    assert TensorFlowLoader.current() is loader
    passed = threading.Event()
    gate = tensorflow_gate(widget)
    worker = threading.Thread(target=lambda: (gate(), passed.set()), name="job")
    worker.start()
    try:
        assert not passed.wait(0.3)  # the import is still running: the job waits
    finally:
        release.set()
    worker.join(10)
    assert passed.is_set() and loader.wait(0)
    qtbot.waitUntil(lambda: loader.state == "ready", timeout=5000)
    assert loader.label() == "TensorFlow: ready 2.21"

