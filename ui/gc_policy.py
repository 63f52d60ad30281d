"""Python's cyclic garbage collection runs in the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate. When
that is a worker thread (training, inspection) and the garbage holds a Qt
object, Qt destroys it there: the worker takes a Qt lock and waits for the
GIL, while the GUI thread, holding the GIL, waits for that lock, and the window
freezes for good. So automatic collection is switched off and a GUI-thread
timer collects instead: the young generation every second, everything every
half minute.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

TICK_MS = 1000
FULL_EVERY = 30


class MainThreadCollector(QObject):
    """Owns the timer that collects garbage in the GUI thread."""

    def __init__(self, parent: QObject | None = None, tick_ms: int = TICK_MS) -> None:
        super().__init__(parent)
        self._ticks = 0
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.collect)

    def start(self) -> None:
        """Switch automatic collection off and start collecting on the timer."""
        gc.disable()
        self.timer.start()

    def collect(self) -> None:
        """One timer tick: collect the young generation, and everything now and then."""
        self._ticks += 1
        gc.collect(2 if self._ticks % FULL_EVERY == 0 else 0)


def install(app: QObject) -> MainThreadCollector:
    """Collect garbage in the GUI thread of ``app`` from now on."""
    collector = MainThreadCollector(app)
    collector.start()
    return collector
