"""Garbage is collected by the GUI thread's timer, never by a worker thread that allocates.

Collected in a worker thread, a Qt object is destroyed there, and the worker and
the GUI thread deadlock (see :mod:`cnnlab.ui.gc_policy`). The test puts a Qt object
in a reference cycle, lets a worker allocate enough to trigger a collection, and
records which thread frees the cycle: the GUI thread with the collector
installed; without it the worker (automatic collection) or nobody (the UI tests
switch automatic collection off), and the test fails.
"""

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from cnnlab.ui import gc_policy


class Cycle:
    """A node of a reference cycle."""


def test_a_cycle_holding_a_qt_object_is_freed_in_the_gui_thread(qtbot):
    freed_in: list[str] = []
    collector = gc_policy.install(interval=0.05)
    try:
        a, b = Cycle(), Cycle()
        a.other, b.other, a.qt = b, a, QObject()
        weakref.finalize(a, lambda: freed_in.append(threading.current_thread().name))
        del a, b
        junk: list[list] = []  # kept until the end: it keeps the young generation full

        def allocate() -> None:
            junk.extend([] for _ in range(5 * gc.get_threshold()[0]))

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: freed_in != [], timeout=3000)
        assert freed_in == [threading.main_thread().name]
    finally:
        collector.timer.stop()
