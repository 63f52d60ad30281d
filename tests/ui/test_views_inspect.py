"""The inspect view on a tiny trained run: filters, maps, attribution, fantasy, evaluation."""

import dataclasses

import numpy as np
import pytest
from graphs import chain, trained_run

from cnnlab.runs import RunStore
from cnnlab.train import filter_history
from cnnlab.ui.views.inspect_view import InspectView

WAIT = 30_000


def tiny_experiment():
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("Conv2D", {"filters": 6, "kernel_size": 3, "activation": "relu"}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 6, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=90)
    return dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A workspace with one finished run: a briefly trained model.keras and its spec."""
    ws = tmp_path_factory.mktemp("inspect_ws")
    store, record, data = trained_run(ws, tiny_experiment(), "tiny", epochs=2)
    return ws, record.id, store.run_dir(record.id), data


def loaded_view(qtbot, views, ws, run_id):
    view = InspectView(RunStore(ws))
    views.append(view)
    view.resize(1400, 900)
    assert view.source.run_box.count() == 1
    assert view.load_run(run_id)
    qtbot.waitUntil(lambda: view.session is not None, timeout=WAIT)
    return view


@pytest.fixture
def views(qtbot):
    """Views made by a test; their background jobs are finished before teardown."""
    made = []
    yield made
    for view in made:  # not qtbot.addWidget: it deletes views before this teardown
        view.stop()
        qtbot.waitUntil(lambda v=view: not v.busy(), timeout=WAIT)
        view.close()
        view.deleteLater()


def test_filters_replay_snapshots(qtbot, views, run):
    ws, run_id, run_dir, _ = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.filters
    assert not panel.slider.isEnabled()
    assert "slider is off" in panel.note.text()
    assert panel.image.shown is not None
    rng = np.random.default_rng(0)
    first = panel.layer_box.currentText()
    for epoch in range(3):
        filter_history.save_snapshot(run_dir, epoch, {first: rng.normal(size=(3, 3, 3, 4))})
    panel.refresh()
    qtbot.waitUntil(lambda: len(panel.history) == 3, timeout=WAIT)
    assert panel.slider.isEnabled() and panel.current_epoch() == 2
    before = panel.image.shown.copy()
    panel.slider.setValue(0)
    assert panel.current_epoch() == 0
    assert not np.array_equal(before, panel.image.shown)
    filter_history.save_snapshot(run_dir, 3, {first: rng.normal(size=(3, 3, 3, 4))})
    panel.refresh()
    qtbot.waitUntil(lambda: len(panel.history) == 4, timeout=WAIT)
    assert panel.slider.maximum() == 3


def test_feature_maps_and_attribution(qtbot, views, run):
    ws, run_id, _, _ = run
    view = loaded_view(qtbot, views, ws, run_id)
    assert view.samples.count() == 12
    assert view.select_layer("b1")
    qtbot.waitUntil(lambda: view.features.tile_count == 6, timeout=WAIT)
    assert view.features.maps.shown is not None
    assert not view.select_layer("nope")
    panel = view.attribution
    qtbot.waitUntil(lambda: panel.result is not None, timeout=WAIT)
    assert set(panel.result.maps) == {"saliency", "smoothgrad", "guided", "gradcam"}
    assert all(m.shape == (16, 16) for m in panel.result.maps.values())
    panel.sanity.setChecked(True)
    qtbot.waitUntil(lambda: len(panel.result.checks) == 4, timeout=WAIT)
    assert all(-1.0 <= c.spearman <= 1.0 for c in panel.result.checks.values())
    caption = panel.captions["saliency"]
    assert "rank corr" in caption.text() and "SSIM" in caption.text()
    assert caption.isVisibleTo(panel) and caption.wordWrap()  # wrapped, never cut off
    assert caption.heightForWidth(90) > caption.heightForWidth(2000)


def test_fantasy_runs_and_stops(qtbot, views, run):
    ws, run_id, _, _ = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.fantasy
    panel.steps_spin.setValue(16)
    assert panel.run()
    qtbot.waitUntil(lambda: not panel.worker.running and panel.run_button.isEnabled(),
                    timeout=WAIT)
    assert panel.last is not None and panel.last.step == 16 and panel.frames >= 2
    assert panel.image.shown.shape[:2] == (16, 16)
    panel.target_box.setCurrentText("class")
    panel.steps_spin.setValue(5000)
    assert panel.run()
    qtbot.waitUntil(lambda: panel.frames >= 1, timeout=WAIT)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.worker.running and panel.run_button.isEnabled(),
                    timeout=WAIT)
    assert panel.last.step < 5000
    assert "Stopped" in panel.note.text()


def test_evaluation_confusion_and_cells(qtbot, views, run, tmp_path):
    ws, run_id, _, data = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.evaluation
    assert panel.confusion.currentWidget() is panel.confusion.empty  # a sentence, no axes
    assert "Press Evaluate" in panel.confusion.empty.text()
    assert panel.evaluate()
    qtbot.waitUntil(lambda: panel.result is not None, timeout=WAIT)
    assert panel.confusion.currentWidget() is panel.heatmap
    n_test = len(data.labels("test"))
    assert int(panel.heatmap.confusion.sum()) == n_test
    assert len(panel.heatmap.texts) == 36
    cm = panel.heatmap.confusion
    true, pred = np.unravel_index(np.argmax(cm), cm.shape)
    listed = panel.show_cell(int(true), int(pred))
    assert len(listed) == cm[true, pred] == panel.cell_examples.count()
    assert all(data.labels("test")[i] == true for i in listed)
    assert all(panel.result.predicted[i] == pred for i in listed)
    assert panel.table.rowCount() == 6
    image = tmp_path / "mine.png"
    from cnnlab.ui.views.inspect_widgets import to_qimage

    to_qimage(np.random.default_rng(1).random((20, 20, 3))).save(str(image))
    assert panel.predict_file(str(image))
    qtbot.waitUntil(lambda: panel.prediction is not None, timeout=WAIT)
    assert len(panel.prediction.top) == 5
    assert "Your image" in panel.predict_label.text()


def test_model_file_and_broken_file(qtbot, views, run, tmp_path):
    ws, run_id, run_dir, _ = run
    view = InspectView(RunStore(tmp_path / "empty_ws"))
    views.append(view)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip at all")
    assert view.load_file(broken)
    qtbot.waitUntil(lambda: "Cannot load the model" in view.message.text(), timeout=WAIT)
    assert "Traceback" not in view.message.text()
    assert view.load_file(run_dir / "model.keras")
    qtbot.waitUntil(lambda: view.session is not None, timeout=WAIT)
    assert view.session.run_dir is None
    assert not view.filters.slider.isEnabled()
    assert not view.evaluation.eval_button.isEnabled()
    assert "model file" in view.evaluation.confusion.empty.text()
    qtbot.waitUntil(lambda: view.features.tile_count > 0, timeout=WAIT)


def test_deep_dream_runs_live_stops_and_saves(qtbot, views, run, tmp_path):
    ws, run_id, _, _ = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.dream
    view.tabs.setCurrentWidget(panel)
    assert not view.input_row.isHidden()  # the sample strip and Open image... pick the input
    assert panel.input is not None and panel.input_label.startswith("sample 0 (")
    assert panel.layer_box.currentText() == "b1"  # the last convolution
    panel.octaves_spin.setValue(2)
    panel.steps_spin.setValue(3)
    assert panel.run()
    qtbot.waitUntil(lambda: not panel.worker.running and panel.run_button.isEnabled(),
                    timeout=WAIT)
    assert panel.frames >= 2  # at least the end of each octave, live
    assert len(panel.result.values) == 6 and not panel.result.stopped
    assert not np.allclose(panel.dream_view.shown, panel.input_view.shown)
    assert "Done after 6 steps" in panel.note.text()
    out = tmp_path / "dream"
    assert panel.save_png(out)
    assert (tmp_path / "dream.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    panel.octaves_spin.setValue(8)
    panel.steps_spin.setValue(5000)
    assert panel.run()
    assert not panel.save_button.isEnabled()
    qtbot.waitUntil(lambda: panel.frames >= 1, timeout=WAIT)
    panel.stop()
    qtbot.waitUntil(lambda: not panel.worker.running and panel.run_button.isEnabled(),
                    timeout=WAIT)
    assert panel.result.stopped and len(panel.result.values) < 8 * 5000
    assert "Stopped after" in panel.note.text()

    image = tmp_path / "mine.png"
    from cnnlab.ui.views.inspect_widgets import to_qimage

    to_qimage(np.random.default_rng(2).random((20, 20, 3))).save(str(image))
    assert view.open_image(image)
    assert panel.input_label == "mine.png" and panel.input.shape == (16, 16, 3)


def test_a_dream_on_the_last_model_is_dropped_when_another_loads(qtbot, views, run):
    ws, run_id, run_dir, _ = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.dream
    panel.octaves_spin.setValue(8)
    panel.steps_spin.setValue(5000)
    assert panel.run()
    qtbot.waitUntil(lambda: panel.frames >= 1, timeout=WAIT)
    old = view.session
    assert view.load_file(run_dir / "model.keras")
    qtbot.waitUntil(lambda: view.session is not old, timeout=WAIT)
    qtbot.waitUntil(lambda: not panel.worker.running and panel.run_button.isEnabled(),
                    timeout=WAIT)
    assert panel.result is None and panel.dream_view.shown is None
    assert "dropped" in panel.note.text()
    assert panel.input is not None  # the new model's first sample


def test_attribution_explains_a_class_picked_by_name(qtbot, views, run):
    ws, run_id, _, data = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.attribution
    names = list(data.class_names)
    assert [panel.class_box.itemText(i) for i in range(panel.class_box.count())] == [
        "predicted class", *names]
    qtbot.waitUntil(lambda: panel.result is not None, timeout=WAIT)
    predicted = panel.result.target.predicted
    assert panel.result.target.index == predicted and "(predicted, p=" in panel.note.text()
    other = names[(predicted + 1) % len(names)]
    assert panel.choose_class(other) and panel.chosen_class() == names.index(other)
    qtbot.waitUntil(lambda: panel.result.target.index == names.index(other), timeout=WAIT)
    assert f"Explaining class '{other}' (asked, p=" in panel.note.text()
    assert f"predicted '{names[predicted]}'" in panel.note.text()
    assert not panel.choose_class("no such class")


def test_fantasy_names_classes_and_says_why_a_dead_filter_stays_grey(qtbot, views, run,
                                                                   tmp_path):
    ws, run_id, run_dir, data = run
    view = loaded_view(qtbot, views, ws, run_id)
    panel = view.fantasy
    panel.target_box.setCurrentText("class")
    assert panel.class_box.isVisibleTo(panel) and not panel.index_spin.isVisibleTo(panel)
    names = [panel.class_box.itemText(i) for i in range(panel.class_box.count())]
    assert names == list(data.class_names)
    panel.class_box.setCurrentText("square")
    assert panel.goal().index == names.index("square")
    panel.steps_spin.setValue(4)
    assert panel.run()
    assert "class 'square'" in panel.note.text()
    qtbot.waitUntil(lambda: not panel.worker.running, timeout=WAIT)
    assert "Done after 4 steps." == panel.note.text()

    import keras

    model = keras.saving.load_model(run_dir / "model.keras")
    kernel, bias = model.get_layer("b1").get_weights()
    kernel[..., 2], bias[2] = 0.0, -1.0  # filter 2 of b1 (ReLU) can never fire
    model.get_layer("b1").set_weights([kernel, bias])
    model.save(tmp_path / "dead.keras")
    assert view.load_file(tmp_path / "dead.keras")
    qtbot.waitUntil(lambda: view.session.run_dir is None, timeout=WAIT)
    panel.target_box.setCurrentText("filter")
    panel.layer_box.setCurrentText("b1")
    panel.index_spin.setValue(2)
    panel.steps_spin.setValue(10)
    assert panel.run()
    qtbot.waitUntil(lambda: not panel.worker.running, timeout=WAIT)
    assert "Filter 2 of b1 never activated" in panel.note.text()
    assert "Try another filter or layer." in panel.note.text()
