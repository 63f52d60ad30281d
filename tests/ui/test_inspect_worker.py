"""The worker thread of the views: a job that outlives its view ends quietly, and the
worker counts as running until its last signal has reached the GUI thread."""

import threading
import time

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QWidget

from cnnlab.ui.views.worker import Worker, call_in_thread


def test_a_job_that_outlives_its_view_emits_nothing_and_raises_nothing(qtbot, monkeypatch):
    """Before the fix the thread emitted through the dead Worker: "Signal source has been
    deleted" in the thread, printed under the tests."""
    errors, results = [], []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    owner = QWidget()
    worker = Worker(owner)
    worker.result.connect(results.append)
    release = threading.Event()
    assert call_in_thread(worker, lambda: release.wait(10) and "late")
    owner.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the view is gone
    release.set()
    assert worker.wait(10)
    qtbot.wait(50)  # anything queued would be delivered now
    assert errors == [] and results == []


def test_running_lasts_until_the_result_is_delivered(qtbot):
    owner = QWidget()
    worker = Worker(owner)
    seen = []
    worker.result.connect(lambda value: seen.append((value, worker.running)))
    assert call_in_thread(worker, lambda: 42)
    assert worker.wait(10)
    time.sleep(0.01)
    assert worker.running and seen == []  # the thread has ended; its result is still queued
    assert not worker.start(lambda _sink, _control: 0)  # one job at a time, until delivered
    with qtbot.waitSignal(worker.finished, timeout=5000):
        pass
    assert seen == [(42, True)] and not worker.running
    assert call_in_thread(worker, lambda: None)
    qtbot.waitUntil(lambda: not worker.running, timeout=5000)
