"""Import TensorFlow in the background after the window is painted.

TensorFlow takes seconds to import; the editor does not need it (the
analysis is pure Python), so the window appears first and the status bar
says ``TensorFlow: loading…`` until the import has finished. Only one thread
may import TensorFlow at a time (two concurrent imports can deadlock or
register its ops twice), so views that use it start after ``finished``, and
a job in another thread waits for :meth:`TensorFlowLoader.current` first (see
:mod:`cnnlab.ui.tf_gate`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, Signal


def _import_tensorflow() -> Any:
    from cnnlab import import_tensorflow

    return import_tensorflow()  # without TensorFlow's start-up lines on stderr


class TensorFlowLoader(QObject):
    """Runs ``import tensorflow`` on a daemon thread and reports the result.

    The import happens once per process, so the process has one current
    loader: the last one started (:meth:`current`).

    Args:
        parent: the owning Qt object.
        importer: imports and returns TensorFlow (a test passes one it controls).

    Signals:
        stateChanged(str): ``loading``, ``ready`` or ``failed``.
    """

    stateChanged = Signal(str)  # noqa: N815 (Qt naming)
    finished = Signal()
    _done = Signal(str, str)

    _current: ClassVar[TensorFlowLoader | None] = None

    def __init__(self, parent: QObject | None = None,
                 importer: Callable[[], Any] = _import_tensorflow) -> None:
        super().__init__(parent)
        self._importer = importer
        self.state = "idle"
        self.version = ""
        self.error = ""
        self._thread: threading.Thread | None = None
        self._done.connect(self._finish)

    def start(self) -> None:
        """Begin the import (once)."""
        if self._thread is not None:
            return
        TensorFlowLoader._current = self
        self.state = "loading"
        self.stateChanged.emit(self.state)
        self._thread = threading.Thread(target=self._work, name="tf-import", daemon=True)
        self._thread.start()

    @classmethod
    def current(cls) -> TensorFlowLoader | None:
        """The loader started last in this process; None when none has started."""
        return cls._current

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the import has finished; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def label(self) -> str:
        """The status bar text."""
        if self.state == "ready":
            return f"TensorFlow: ready {'.'.join(self.version.split('.')[:2])}"
        if self.state == "failed":
            return "TensorFlow: not available"
        if self.state == "loading":
            return "TensorFlow: loading…"
        return "TensorFlow: not loaded"

    def _work(self) -> None:
        try:
            tf = self._importer()
            self._done.emit("ready", str(tf.__version__))
        except Exception as exc:  # noqa: BLE001 (any failure is reported, not raised)
            self._done.emit("failed", f"{type(exc).__name__}: {exc}")

    def _finish(self, state: str, detail: str) -> None:
        self.state = state
        if state == "ready":
            self.version = detail
        else:
            self.error = detail
        self.stateChanged.emit(state)
        self.finished.emit()
