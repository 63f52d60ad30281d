"""Inspect > Samples on a run trained by `cnnlab train`: the gallery of its recorded samples.

Sorted and filtered as the records say, one sample's loss curve, Grad-CAM overlays,
a click on a confusion cell opening the gallery on that cell, and the revision
requests (exclude, relabel) the view emits for the document.
"""

import dataclasses

import numpy as np
import pytest
from cli_support import train_run
from graphs import chain
from PySide6.QtCore import QPointF, Qt

from cnnlab.inspect import Session
from cnnlab.runs import RunStore, read_samples
from cnnlab.spec import save_experiment
from cnnlab.ui.views.inspect_samples import LIMIT, NO_RUN_TEXT, SamplesPanel, caption
from cnnlab.ui.views.inspect_view import InspectView

WAIT = 30_000


def tiny_experiment():
    exp = chain((12, 12, 3), ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
                ("GlobalAveragePooling2D", {}), ("Dense", {"units": 3, "activation": "softmax"}))
    shapes = dataclasses.replace(exp.data.shapes, image_size=12, samples=60,
                                 classes=["circle", "square", "triangle"])
    training = dataclasses.replace(exp.training, epochs=2, batch_size=16)
    return dataclasses.replace(exp, data=dataclasses.replace(exp.data, shapes=shapes),
                               training=training)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A workspace with one run trained (2 epochs) through the real trainer: it has records."""
    folder = tmp_path_factory.mktemp("samples_ws")
    spec = folder / "tiny.json"
    save_experiment(tiny_experiment(), spec)
    ws = folder / "ws"
    run_id = train_run(spec, ws)
    return ws, run_id, RunStore(ws).run_dir(run_id)


@pytest.fixture
def views(qtbot):
    made = []
    yield made
    for view in made:
        view.stop()
        qtbot.waitUntil(lambda v=view: not v.busy(), timeout=WAIT)
        view.close()
        view.deleteLater()


def gallery_of(qtbot, views, ws, run_id):
    view = InspectView(RunStore(ws))
    views.append(view)
    view.resize(1280, 800)
    view.show()
    assert view.load_run(run_id)
    qtbot.waitUntil(lambda: view.session is not None, timeout=WAIT)
    panel = view.gallery
    qtbot.waitUntil(lambda: panel.table is not None or "No samples" in panel.note.text(),
                    timeout=WAIT)
    return view, panel


def settled(qtbot, panel):
    qtbot.waitUntil(lambda: not panel.worker.running and not panel._pending, timeout=WAIT)


def test_gallery_sorts_filters_plots_and_asks_for_revisions(qtbot, views, run):
    ws, run_id, run_dir = run
    view, panel = gallery_of(qtbot, views, ws, run_id)
    settled(qtbot, panel)
    table = read_samples(run_dir)
    expected = table.rows("loss", split="val")[:LIMIT]
    assert expected and panel.gallery.captions() == [caption(r) for r in expected]
    assert "Showing all" in panel.note.text() and not panel.progress.isVisible()
    panel.sort_box.setCurrentIndex(panel.sort_box.findData("wrong-confident"))
    panel.split_box.setCurrentIndex(panel.split_box.findData(None))  # both splits
    settled(qtbot, panel)
    expected = table.rows("wrong-confident")[:LIMIT]
    assert [r.id for r in panel.rows] == [r.id for r in expected]
    assert panel.gallery.count() == len(expected)
    name = table.class_names[1]
    panel.true_box.setCurrentIndex(panel.true_box.findData(name))
    settled(qtbot, panel)
    assert panel.rows and all(r.true == name for r in panel.rows)

    panel.gallery.setCurrentRow(0)  # one sample: its loss over the epochs
    first = panel.rows[0]
    xs, ys = panel.curve.getPlotItem().listDataItems()[0].getData()
    assert list(xs) == [1, 2] and np.allclose(ys, table.loss_curve(first.id))
    assert first.id in panel.detail.text()

    panel.gallery.item(0).setSelected(True)
    if panel.gallery.count() > 1:
        panel.gallery.item(1).setSelected(True)
    ids = panel.selected_ids()
    plain = panel.images[first.id][0]
    panel.cam.setChecked(True)
    settled(qtbot, panel)
    overlay = panel.images[first.id][1]
    assert overlay is not None and overlay.shape[:2] == plain.shape[:2]
    assert not np.allclose(overlay[..., :3], np.clip(plain, 0, 1))
    assert panel.selected_ids() == ids and panel.exclude_button.isEnabled()  # kept
    with qtbot.waitSignal(view.revision_requested, timeout=WAIT) as asked:
        panel.exclude_button.click()
    assert asked.args == [{"exclude": ids}]
    action = next(a for a in panel.relabel_menu.actions() if a.text() == table.class_names[2])
    with qtbot.waitSignal(view.revision_requested, timeout=WAIT) as asked:
        action.trigger()
    assert asked.args == [{"relabel": {sample: table.class_names[2] for sample in ids}}]
    assert "relabel" in panel.note.text()
    click_a_confusion_cell(qtbot, view, run_dir)


def click_a_confusion_cell(qtbot, view, run_dir):
    """Evaluate on the validation split, click its fullest cell: the gallery opens on it."""
    panel, evaluation = view.gallery, view.evaluation
    view.tabs.setCurrentWidget(evaluation)
    evaluation.split_box.setCurrentText("val")
    assert evaluation.evaluate()
    qtbot.waitUntil(lambda: evaluation.result is not None, timeout=WAIT)
    heatmap = evaluation.heatmap
    confusion = heatmap.confusion
    true, pred = np.unravel_index(np.argmax(confusion), confusion.shape)
    qtbot.waitUntil(lambda: heatmap.plot.getViewBox().width() > 50, timeout=WAIT)
    box = heatmap.plot.getViewBox()
    point = heatmap.mapFromScene(box.mapViewToScene(QPointF(pred + 0.5, true + 0.5)))
    qtbot.mouseClick(heatmap.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: view.tabs.currentWidget() is panel, timeout=WAIT)
    settled(qtbot, panel)
    names = heatmap.names
    assert panel.true_box.currentData() == names[true]
    assert panel.pred_box.currentData() == names[pred]
    assert panel.split_box.currentData() is None  # as the user left it
    assert panel.note.text().startswith("From the Evaluation's validation matrix (true ")
    wanted = read_samples(run_dir).rows("wrong-confident", names[true], names[pred])
    assert [r.id for r in panel.rows] == [r.id for r in wanted][:LIMIT]
    assert sum(r.split == "val" for r in panel.rows) == int(confusion[true, pred])
    assert evaluation.cell_examples.count() == int(confusion[true, pred])  # listed there too


def test_a_run_without_records_or_a_model_file_says_so(qtbot, tmp_path):
    panel = SamplesPanel()
    qtbot.addWidget(panel)
    session = Session(None, "old (r1)", "run 'old'", tmp_path, ["a", "b"], np.zeros((0,)))
    panel.set_session(session)
    qtbot.waitUntil(lambda: not panel.worker.running, timeout=WAIT)
    assert "no per-sample records" in panel.note.text() and panel.gallery.count() == 0
    assert not panel.show_cell("a", "b") and not panel.exclude_button.isEnabled()
    assert not panel.exclude_selection()
    panel.set_session(dataclasses.replace(session, run_dir=None))
    assert panel.note.text() == NO_RUN_TEXT and not panel.worker.running


