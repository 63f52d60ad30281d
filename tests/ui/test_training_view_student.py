"""Issue 14: the Training view as a first-time student meets it (pause clock, bars,
legends, layout, failure message, plots that keep their fit)."""

import time

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from test_views_training import fake_trainer, tiny_experiment

from cnnlab.runs import RunStore
from cnnlab.train import events as ev
from cnnlab.ui.views.training_view import TrainingView


def _view(qtbot, trainer=fake_trainer) -> TrainingView:
    view = TrainingView(lambda: tiny_experiment(), RunStore(), trainer=trainer)  # the test's home
    qtbot.addWidget(view)
    return view


def test_clock_stops_while_paused(qtbot):
    def waits(spec, sink, control, **kw):
        sink(ev.RunStarted("r3", "/tmp", "CPU", "float32", 2, 10))
        for s in range(1, 2000):
            control.wait_if_paused()
            if control.stop_requested:
                sink(ev.Stopped("r3", 0))
                return
            sink(ev.BatchProgress(0, s % 10 + 1, 10, 1.0, 0.1, 0.0))
            time.sleep(0.005)

    view = _view(qtbot, waits)
    view.start()
    qtbot.waitUntil(lambda: len(view.buffers.batch_x) > 3, timeout=5000)
    view.toggle_pause()
    qtbot.wait(50)
    at_pause = view.elapsed()
    qtbot.wait(400)
    assert view.elapsed() - at_pause < 0.1  # the clock stood still while paused
    view.toggle_pause()
    qtbot.wait(100)
    assert view.elapsed() > at_pause  # and runs again after Resume
    view.stop()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)


def test_bars_full_after_the_run_and_legends_in_titles(qtbot):
    view = _view(qtbot)
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    assert view.epoch_bar.value() == 100 and view.run_bar.value() == 100
    for plot in (view.loss_plot, view.acc_plot, view.lr_plot):
        assert not plot.getPlotItem().legend.isVisible()  # no box over the curves
    title = view.loss_plot.getPlotItem().titleLabel.text
    assert "train loss" in title and "val loss" in title


def test_failed_start_does_not_promise_curves(qtbot):
    def broken(spec, sink, control, **kw):
        raise ValueError("no such folder")

    view = _view(qtbot, broken)
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    qtbot.wait(30)
    assert "no such folder" in view.message.text()
    assert "Curves are kept" not in view.message.text()


def test_all_three_plots_fit_at_1280_by_800(qtbot):
    view = _view(qtbot)
    view.resize(1280 - 330, 800 - 120)  # the tab beside the palette and properties docks
    view.show()
    qtbot.waitExposed(view)
    for plot in (view.loss_plot, view.acc_plot, view.lr_plot):
        rect = plot.geometry().translated(plot.parentWidget().mapTo(view, QPoint(0, 0)))
        assert view.rect().contains(rect), plot
        assert plot.width() > 250 and plot.height() > 120


def _wheel(widget, modifiers=Qt.KeyboardModifier.NoModifier) -> QWheelEvent:
    target = widget.viewport()
    local = QPointF(target.width() / 2, target.height() / 2)
    event = QWheelEvent(local, QPointF(target.mapToGlobal(local.toPoint())), QPoint(0, 0),
                        QPoint(0, 120), Qt.MouseButton.NoButton, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, event)
    return event


def test_plot_ignores_the_plain_wheel_and_resets_after_a_zoom(qtbot):
    view = _view(qtbot)
    view.show()
    qtbot.waitExposed(view)
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    view.redraw()
    plot = view.lr_plot
    before = plot.getPlotItem().vb.viewRange()
    event = _wheel(plot)
    assert not event.isAccepted()  # passed on to the page around the plot
    assert plot.getPlotItem().vb.viewRange() == before and not plot.user_moved
    _wheel(plot, Qt.KeyboardModifier.ControlModifier)  # Ctrl+wheel zooms
    assert plot.getPlotItem().vb.viewRange() != before
    assert plot.user_moved and plot.reset_button.isVisible()
    plot.reset_button.click()
    assert not plot.reset_button.isVisible() and not plot.user_moved
    assert plot.getPlotItem().vb.viewRange() == before


def _short_epochs(spec, sink, control, **kw):
    """Epochs faster than the 50 ms throttle: only each epoch's first batch is reported."""
    sink(ev.RunStarted("r4", "/tmp", "CPU", "float32", 3, 4, params=10))
    for e in range(3):
        sink(ev.BatchProgress(e, 1, 4, 1.0, 0.01, 0.0))
        sink(ev.EpochEnded(e, 3, {"loss": 1.0}, 0.01, 0.01))
    sink(ev.Finished("r4", 3, {}))


def test_rate_line_reaches_the_end_of_the_run(qtbot):
    view = _view(qtbot, _short_epochs)
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    x, y = view.curves["lr"].getData()
    assert x[-1] == 3.0 and y[-1] == 0.01  # not 2.25, the last reported batch
    assert list(x) == sorted(x)
    assert len(view.curves["batch"].getData()[0]) == 3  # the loss keeps only real batches


def test_failure_after_a_run_clears_the_plots_and_says_so(qtbot):
    def fails(spec, sink, control, **kw):
        sink(ev.Failed("", "the data folder is empty"))

    runs = iter((_short_epochs, fails))
    view = _view(qtbot, lambda *a, **kw: next(runs)(*a, **kw))
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    assert len(view.curves["lr"].getData()[0]) > 0
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    assert "the data folder is empty" in view.message.text()
    assert "Curves are kept" not in view.message.text()
    for key in ("lr", "batch", "loss"):  # what is on screen: nothing of the old run
        x, _ = view.curves[key].getData()
        assert x is None or len(x) == 0
