import math
import time

import numpy as np
from graphs import chain
from PySide6.QtCore import Qt

from cnnlab.runs import RunStore
from cnnlab.train import events as ev
from cnnlab.train.curves import CurveBuffers
from cnnlab.ui.views.training_view import TrainingView


def tiny_experiment(samples=60, epochs=2):
    import dataclasses

    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=samples)
    data = dataclasses.replace(exp.data, shapes=shapes)
    training = dataclasses.replace(exp.training, epochs=epochs, batch_size=16)
    return dataclasses.replace(exp, data=data, training=training)


def fake_trainer(spec, sink, control, workspace=None, resume=None, epochs=None):
    sink(ev.RunStarted("r1", "/tmp/r1", "CPU", "float32", 3, 4, params=123))
    for e in range(3):
        for s in range(1, 5):
            control.wait_if_paused()
            if control.stop_requested:
                sink(ev.Stopped("r1", e))
                return None
            loss = math.nan if (e, s) == (1, 2) else 1.0 / (e * 4 + s)
            sink(ev.BatchProgress(e, s, 4, loss, 1e-3, 0.01))
            time.sleep(0.01)
        sink(ev.EpochEnded(e, 3, {"loss": 1.0, "val_loss": math.nan if e == 1 else 1.2,
                                  "accuracy": 0.5, "val_accuracy": 0.4}, 1e-3, 0.1))
    sink(ev.Finished("r1", 3, {"val_accuracy": 0.4}))


def test_buffers_keep_nan_as_gaps():
    b = CurveBuffers()
    b.add_batch(ev.BatchProgress(0, 1, 2, 1.0, 0.1, 0.0))
    b.add_batch(ev.BatchProgress(0, 2, 2, math.nan, 0.1, 0.0))
    b.add_batch(ev.BatchProgress(1, 1, 2, 0.5, 0.1, 0.0))
    assert math.isnan(b.batch_smooth[1])
    assert 0.5 < b.batch_smooth[2] < 1.0
    assert b.values_at(1.4)["lr"] == 0.1


def test_training_view_with_fake_trainer(qtbot, tmp_path):
    view = TrainingView(lambda: tiny_experiment(), RunStore(tmp_path), trainer=fake_trainer)
    qtbot.addWidget(view)
    assert view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    qtbot.wait(60)
    assert "Finished" in view.message.text()
    x, y = view.curves["val_loss"].getData()
    assert len(x) == 3 and math.isnan(y[1])
    bx, _ = view.curves["batch"].getData()
    assert len(bx) == 12
    assert "CPU" in view.device_label.text()
    view.crosshairs[0].show_at(1.5)
    assert "val_loss" in view.readout.text()


def test_training_view_stop_keeps_curves(qtbot, tmp_path):
    def slow(spec, sink, control, **kw):
        sink(ev.RunStarted("r2", "/tmp", "CPU", "float32", 100, 10))
        for s in range(1, 1000):
            if control.stop_requested:
                sink(ev.Stopped("r2", 0))
                return
            sink(ev.BatchProgress(0, s % 10 + 1, 10, 1.0, 0.1, 0.0))
            time.sleep(0.005)

    view = TrainingView(lambda: tiny_experiment(), RunStore(tmp_path), trainer=slow)
    qtbot.addWidget(view)
    view.start()
    qtbot.waitUntil(lambda: len(view.buffers.batch_x) > 3, timeout=5000)
    view.toggle_pause()
    assert view.worker.control.paused
    view.toggle_pause()
    view.stop()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    assert "Stopped" in view.message.text() and "cut short" in view.message.text()
    assert len(view.curves["batch"].getData()[0]) > 3


def test_training_view_reports_failure(qtbot, tmp_path):
    def broken(spec, sink, control, **kw):
        raise ValueError("the data folder is empty\nmore detail")

    view = TrainingView(lambda: tiny_experiment(), RunStore(tmp_path), trainer=broken)
    qtbot.addWidget(view)
    view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    qtbot.wait(30)
    assert "the data folder is empty" in view.message.text()
    assert view.start_button.isEnabled()


def test_training_view_real_training(qtbot, tmp_path):
    view = TrainingView(lambda: tiny_experiment(samples=60, epochs=2), RunStore(tmp_path))
    qtbot.addWidget(view)
    assert view.start()
    qtbot.waitUntil(lambda: not view.running, timeout=120_000)
    qtbot.wait(60)
    assert view.run_id, view.message.text()
    assert "Finished" in view.message.text(), view.message.text()
    assert len(view.curves["loss"].getData()[0]) == 2

    record = RunStore(tmp_path).get(view.run_id)
    assert record.test_accuracy is not None  # the held-out test split was evaluated ...
    assert f"test accuracy {record.test_accuracy:.3f}" in view.message.text()  # ... and shown
    assert "test loss" in view.message.text()


def click_run_row(qtbot, runs, run_id: str) -> None:
    """Click a run's row in the Runs view's table, as the user does."""
    table = runs.table
    row = next(r for r in range(table.rowCount())
               if table.item(r, 0).data(Qt.ItemDataRole.UserRole) == run_id)
    table.scrollToItem(table.item(row, 0))
    center = table.visualItemRect(table.item(row, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=center)


def test_real_run_stopped_from_the_ui_resumes_and_compares(qtbot, tmp_path):
    """Train for real from the view, stop mid-run, resume from the Runs view, compare runs."""
    from cnnlab.ui.views.runs_view import RunsView

    first = TrainingView(lambda: tiny_experiment(samples=400, epochs=6), RunStore(tmp_path))
    qtbot.addWidget(first)
    assert first.start()
    qtbot.waitUntil(lambda: len(first.buffers.epoch_x) >= 1, timeout=120_000)
    first.stop()
    qtbot.waitUntil(lambda: not first.running, timeout=60_000)
    assert "Stopped" in first.message.text(), first.message.text()
    stopped_id = first.run_id
    store = RunStore(tmp_path)
    assert store.get(stopped_id).status == "stopped"
    done_before = store.get(stopped_id).epochs_done
    assert 1 <= done_before < 6

    runs = RunsView(RunStore(tmp_path))
    qtbot.addWidget(runs)
    runs.resume_requested.connect(lambda run_id: first.start(resume=run_id))
    runs.show()
    qtbot.waitExposed(runs)
    click_run_row(qtbot, runs, stopped_id)
    assert runs.selected_ids() == [stopped_id]
    with qtbot.waitSignal(runs.resume_requested) as resumed:
        qtbot.mouseClick(runs.buttons["Resume"], Qt.MouseButton.LeftButton)
    assert resumed.args == [stopped_id] and first.running
    qtbot.waitUntil(lambda: not first.running and "Finished" in first.message.text(),
                    timeout=120_000)
    record = store.get(stopped_id)
    assert record.status == "finished" and record.epochs_done == 6
    losses = store.metrics(stopped_id)["loss"]
    assert len(losses) == 6 and all(np.isfinite(losses))

    second = TrainingView(lambda: tiny_experiment(samples=400, epochs=2), RunStore(tmp_path))
    qtbot.addWidget(second)
    assert second.start()
    qtbot.waitUntil(lambda: not second.running, timeout=120_000)
    runs.refresh()
    runs.select([stopped_id, second.run_id])
    assert len(runs.overlay_items) == 2
    assert {item.name() for item in runs.overlay_items} == {"t", "epochs 2"}  # by the change
    assert "training.epochs: 6 -> 2" in runs.diff_text.toPlainText()
