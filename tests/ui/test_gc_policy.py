"""Garbage is collected by the GUI thread's timer, not by whichever thread allocates."""

import gc

from cnnlab.ui.gc_policy import MainThreadCollector


def test_collector_disables_automatic_gc_and_collects_on_its_timer(qtbot, qapp):
    class Cycle:
        pass

    collector = MainThreadCollector(None, tick_ms=20)
    try:
        collector.start()
        assert not gc.isenabled()
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        del a, b
        before = gc.get_count()[0]
        assert before > 0
        qtbot.waitUntil(lambda: gc.get_count()[0] < before, timeout=2000)
    finally:
        collector.timer.stop()
