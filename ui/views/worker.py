"""Run a job (training or an inspection) in a Python thread and report to Qt.

The job is a plain callable ``job(sink, control)``. Whatever it passes to
``sink`` arrives in the GUI thread through the queued :attr:`Worker.event`
signal; its return value arrives through :attr:`Worker.result` and an
exception through :attr:`Worker.failed` as one readable line. Cancelling sets
the :class:`~cnnlab.train.events.Control` token; nothing kills the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from cnnlab.train.events import Control

Job = Callable[[Callable[[object], None], Control], Any]


def error_text(exc: BaseException) -> str:
    """Return one readable line for an exception (no traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


class Worker(QObject):
    """Runs one job at a time in a daemon thread; signals are queued to the GUI thread."""

    event = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.control = Control()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while a job's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, job: Job, name: str = "cnnlab-job") -> bool:
        """Start ``job`` in a new thread with a fresh control token.

        Returns:
            False (and does nothing) when a job is still running.

        """
        if self.running:
            return False
        self.control = Control()
        self._thread = threading.Thread(
            target=self._main, args=(job, self.control), name=name, daemon=True
        )
        self._thread.start()
        return True

    def _main(self, job: Job, control: Control) -> None:
        try:
            value = job(self.event.emit, control)
        except Exception as exc:  # noqa: BLE001 - reported to the user as one line
            self.failed.emit(error_text(exc))
        else:
            self.result.emit(value)
        finally:
            self.finished.emit()

    def stop(self) -> None:
        """Ask the job to stop (it checks the token between batches or steps)."""
        self.control.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the thread; return True when it has ended."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()


def call_in_thread(worker: Worker, fn: Callable[[], Any]) -> bool:
    """Run a no-argument function as a job (for inspections and previews)."""
    return worker.start(lambda _sink, _control: fn())
