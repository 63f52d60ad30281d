"""Make fully convolutional… on a trained run, and the score map over a larger image in Inspect."""

import dataclasses
import json

import numpy as np
import pytest
from builder_helpers import DialogRecorder
from graphs import chain, trained_run
from PySide6.QtGui import QImage

from cnnlab.inspect import open_run
from cnnlab.modelio.fully_conv import map_rect
from cnnlab.runs import RunStore
from cnnlab.ui.fully_conv_action import FullyConvDialog, default_target, open_for_run
from cnnlab.ui.views.inspect_score_map import ScoreMapPanel, heat

WAIT = 60_000


def _experiment(name, *head):
    exp = chain((16, 16, 3), ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("MaxPooling2D", {"pool_size": 2}), *head, name=name)
    shapes = dataclasses.replace(exp.data.shapes, image_size=16, samples=60)
    return dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A run with a Flatten+Dense head (valid padding: each score is one window's) and a
    globally pooled one."""
    ws = tmp_path_factory.mktemp("fcn_ws")
    flat = _experiment("flat net", ("Flatten", {}), ("Dense", {"units": 8}),
                       ("Dropout", {"rate": 0.3}), ("Output", {"units": 6}))
    pooled = _experiment("pooled net", ("GlobalAveragePooling2D", {}), ("Output", {"units": 6}))
    store, record, _ = trained_run(ws, flat, "flat net", epochs=1)
    _, gap_record, _ = trained_run(ws, pooled, "pooled net", epochs=1)
    return ws, record, gap_record


def test_the_dialog_converts_a_run_and_asks_before_replacing(qtbot, monkeypatch, runs):
    _ws, record, _ = runs
    dialogs = DialogRecorder().install(monkeypatch)
    dialog = open_for_run(None, record)
    qtbot.addWidget(dialog)
    out = default_target(record.run_dir, "flat net")
    assert dialog.path_edit.text() == str(out) and out.name == "flat_net_fcn.keras"
    assert dialog.convert()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    text = dialog.message.text()
    assert dialog.result is not None and out.is_file(), text
    assert "b3: Dense 196 -> 8 became 8 filters of 7x7x4" in text and "max difference" in text
    assert "a 32x32 image gives a 9x9 map of 6 class scores, 2 pixels apart" in text
    assert dialog.progress.value() == 100
    manifest = json.loads((out.parent / f"{out.name}.manifest.json").read_text())
    assert manifest["verification"]["max_abs_diff"] <= 1e-4
    written = out.read_bytes()
    dialogs.answer = False
    assert not dialog.convert()
    assert "Nothing was replaced" in dialog.message.text() and out.read_bytes() == written
    assert len(dialogs.questions) == 1 and str(out) in dialogs.questions[0]
    dialog.path_edit.setText(str(out.with_suffix(".h5")))
    assert not dialog.convert() and ".keras" in dialog.message.text()


def test_the_dialog_says_why_a_pooled_model_cannot_be_converted(qtbot, runs):
    _ws, _record, gap_record = runs
    dialog = FullyConvDialog(gap_record.run_dir, "pooled net")
    qtbot.addWidget(dialog)
    assert dialog.convert()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT)
    text = dialog.message.text()
    assert text.startswith("Cannot make it fully convolutional: the model has no Flatten")
    assert "Nothing was written" in text and dialog.result is None
    assert not default_target(gap_record.run_dir, "pooled net").exists()


def test_the_score_map_lies_over_a_mosaic_of_samples(qtbot, runs):
    ws, record, _ = runs
    session = open_run(RunStore(ws, read_only=True), record.id)
    panel = ScoreMapPanel()
    qtbot.addWidget(panel)
    panel.set_session(session)
    qtbot.wait(50)
    assert panel.scores is None and not panel.worker.running  # nothing before it is seen
    panel.show()
    qtbot.waitUntil(lambda: panel.scores is not None, timeout=WAIT)
    assert panel.scene.shape == (32, 32, 3) and panel.scores.shape == (9, 9, 6)
    assert panel.map_item.image.shape == (9, 9, 3)
    rect = panel.map_item.mapRectToParent(panel.map_item.boundingRect())
    assert (rect.x(), rect.y(), rect.width(), rect.height()) == map_rect(panel.fc, 9, 9)
    # Each cell is the trained model's score of the window it lies on (valid padding).
    windows = np.stack([panel.scene[:16, :16], panel.scene[16:, 16:]])
    expected = np.asarray(session.model(windows, training=False))
    assert np.allclose(panel.scores[[0, 8], [0, 8]], expected, atol=1e-4)
    panel.class_box.setCurrentIndex(2)
    assert np.allclose(panel.map_item.image, heat(panel.scores[..., 2]))
    assert f"'{session.class_names[2]}'" in panel.note.text() and "2 pixels apart" in \
        panel.note.text()
    assert len(session.samples) == 6  # the test split of 60 samples
    assert not panel.use_mosaic(3)
    assert "a 3x3 mosaic needs 9 samples (got 6)" in panel.note.text()
    assert panel.mosaic_box.currentData() == 3 and panel.scores.shape == (9, 9, 6)


def test_an_image_file_is_scored_at_its_own_size(qtbot, runs, tmp_path):
    ws, record, gap_record = runs
    image = QImage(24, 40, QImage.Format.Format_RGB888)
    image.fill(0x3366CC)
    path = tmp_path / "wide.png"
    assert image.save(str(path))
    panel = ScoreMapPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_session(open_run(RunStore(ws, read_only=True), record.id))
    assert panel.open_image(path)
    qtbot.waitUntil(lambda: panel.scores is not None and panel.scene.shape[0] == 40,
                    timeout=WAIT)
    assert panel.scene.shape == (40, 24, 3) and panel.scores.shape == (13, 5, 6)
    assert "wide.png" in panel.note.text()
    assert not panel.open_image(tmp_path / "missing.png")
    assert "Cannot use missing.png" in panel.note.text()
    panel.set_session(open_run(RunStore(ws, read_only=True), gap_record.id))
    qtbot.waitUntil(lambda: "No score map" in panel.note.text(), timeout=WAIT)
    assert "no Flatten" in panel.note.text() and panel.scores is None
