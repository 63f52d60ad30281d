"""Python's cyclic garbage collection runs in the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate. When
that is a worker thread (training, inspection) and the garbage holds a Qt
object, Qt destroys it there: the worker takes a Qt lock and waits for the
GIL, while the GUI thread, holding the GIL, waits for that lock, and the window
freezes for good. pyqtgraph's :class:`GarbageCollector` is the remedy: it
switches automatic collection off and collects on a GUI-thread timer, each
generation once its count passes Python's own threshold.
"""

from __future__ import annotations

from pyqtgraph.util.garbage_collector import GarbageCollector


def install(interval: float = 1.0) -> GarbageCollector:
    """Collect garbage in the calling (GUI) thread from now on, every ``interval`` seconds.

    Keep the returned collector as long as the application runs: Qt holds its
    timer's callback weakly, so collection stops when the collector is dropped.
    """
    return GarbageCollector(interval=interval)
