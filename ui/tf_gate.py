"""Let a background job wait for the window's TensorFlow import before using TensorFlow.

Two threads must never import TensorFlow at the same time (see
:mod:`cnnlab.ui.tf_loader`). A job that may import it (a model import, a
folder check) asks for a gate in the GUI thread and calls it first thing in
its worker thread: the gate blocks until the window's loader has finished,
and returns at once when there is no loader or it is done.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from cnnlab.ui.tf_loader import TensorFlowLoader


def find_loader(widget: QWidget) -> TensorFlowLoader | None:
    """The TensorFlow loader of ``widget``'s top-level window, if it has one."""
    window = widget.window()
    for child in window.children():
        if isinstance(child, TensorFlowLoader):
            return child
    return None


def tensorflow_gate(widget: QWidget) -> Callable[[], None]:
    """Return a function for a worker thread that waits for the window's TensorFlow import.

    Call this in the GUI thread; call what it returns in the worker thread.
    """
    loader = find_loader(widget)
    if loader is None or loader.state != "loading":
        return lambda: None
    return lambda: loader.wait()
