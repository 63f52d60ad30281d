"""Let a background job wait for the window's TensorFlow import before using TensorFlow.

Two threads must never import TensorFlow at the same time (see
:mod:`cnnlab.ui.tf_loader`). A job that may import it (a model import, a
folder check) asks for a gate in the GUI thread and calls it first thing in
its worker thread: the gate blocks until the process's loader
(:meth:`TensorFlowLoader.current`) has finished, and returns at once when no
loader has started or it is done.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from cnnlab.ui.tf_loader import TensorFlowLoader


def tensorflow_gate(widget: QWidget) -> Callable[[], None]:
    """Return a function for a worker thread that waits for the TensorFlow import.

    Call this in the GUI thread; call what it returns in the worker thread.

    Args:
        widget: the widget that starts the job. The import is the process's,
            not the widget's, so any widget gets the same gate.
    """
    del widget  # kept for the callers: one import per process, whoever asks
    loader = TensorFlowLoader.current()
    if loader is None or loader.state != "loading":
        return lambda: None
    return lambda: loader.wait()
