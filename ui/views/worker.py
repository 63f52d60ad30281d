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

from PySide6.QtCore import QObject, Qt, Signal

from cnnlab.train import Control

Job = Callable[[Callable[[object], None], Control], Any]


def error_text(exc: BaseException) -> str:
    """Return one readable line for an exception (no traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


class _Relay(QObject):
    """What a job's thread emits through: it lives as long as the thread needs it.

    The :class:`Worker` is a child of its view and dies with it, possibly while
    a job still runs; a thread emitting a dead object's signal fails with
    "Signal source has been deleted". The thread therefore emits only through
    its own relay (never parented, kept alive by the thread), whose signals are
    queued to the Worker's; Qt drops those connections when the Worker dies,
    so a job that outlives its view ends quietly.
    """

    event = Signal(object)
    result = Signal(object)
    failed = Signal(str)
    finished = Signal()


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
        self._relay: _Relay | None = None
        self._delivering = False

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the job's last signal has reached the GUI thread.

        That is longer than the thread lives: a result still queued counts, so
        a view that waits until its workers are idle has seen every result.
        """
        alive = self._thread is not None and self._thread.is_alive()
        return alive or self._delivering

    def start(self, job: Job, name: str = "cnnlab-job") -> bool:
        """Start ``job`` in a new thread with a fresh control token.

        Returns:
            False (and does nothing) when a job is still running.

        """
        if self.running:
            return False
        self.control = Control()
        self._relay = relay = _Relay()
        queued = Qt.ConnectionType.QueuedConnection
        relay.event.connect(self.event, queued)
        relay.result.connect(self.result, queued)
        relay.failed.connect(self.failed, queued)
        relay.finished.connect(self._delivered, queued)
        self._delivering = True
        self._thread = threading.Thread(
            target=_main, args=(relay, job, self.control), name=name, daemon=True
        )
        self._thread.start()
        return True

    def _delivered(self) -> None:
        self._delivering = False
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


def _main(relay: _Relay, job: Job, control: Control) -> None:
    """The thread: run the job and report through the relay (never through the Worker)."""
    try:
        value = job(relay.event.emit, control)
    except Exception as exc:  # noqa: BLE001 - reported to the user as one line
        relay.failed.emit(error_text(exc))
    else:
        relay.result.emit(value)
    finally:
        relay.finished.emit()


def call_in_thread(worker: Worker, fn: Callable[[], Any]) -> bool:
    """Run a no-argument function as a job (for inspections and previews)."""
    return worker.start(lambda _sink, _control: fn())
