"""Presets in the window, and the speed of the edit -> refresh path on big networks."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, make_window
from nets import resnet
from PySide6.QtWidgets import QApplication

import cnnlab
from cnnlab import preset_choice
from cnnlab.ui.presets_dialog import PresetsDialog


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_every_preset_loads_in_the_window(qtbot):
    window = make_window(qtbot)
    entries = cnnlab.list_presets()
    assert entries
    for entry in entries:
        exp = preset_choice.fitted_preset(entry.name)
        window.files.show_experiment(exp, None)
        assert window.scene.blocks, entry.name
        assert not window.analysis.errors(), (entry.name, window.analysis.errors()[:1])
        assert len(window.scene.blocks) == len(window.graph.nodes)


def test_presets_dialog_resizes_and_counts(qtbot):
    dialog = PresetsDialog(None, selected="default")
    qtbot.addWidget(dialog)
    assert dialog.current_name() == "default"
    dialog.classes_box.setValue(3)
    count = dialog.count.text()
    dialog.height_box.setValue(64)
    dialog.width_box.setValue(64)
    assert dialog.count.text() != "–"
    assert dialog.count.text() == count  # GAP head: size does not change the count
    dialog.height_box.setValue(2)
    dialog.width_box.setValue(2)
    assert "does not fit" in dialog.message.text() and dialog.ok_button.isEnabled()
    dialog.height_box.setValue(64)
    dialog.width_box.setValue(64)
    assert dialog.message.text() == ""
    dialog.accept()
    exp = dialog.experiment
    shapes = [n.params["shape"] for n in exp.model.nodes if n.type == "Input"]
    units = [n.params["units"] for n in exp.model.nodes if n.type == "Output"]
    assert shapes == [[64, 64, 3]] and units == [3]


def test_resnet50_edits_refresh_the_canvas(qtbot):
    # Speed: benchmarks/bench_canvas_refresh.py. Here: every edit reaches the canvas.
    window = make_window(qtbot, resnet(50))
    assert len(window.analysis.layers) > 150
    window.scene.select_ids(["conv1"])
    for filters in (32, 48, 64):
        node = window.doc.experiment.model.node("conv1")
        window.editor.edit_params("conv1", {**node.params, "filters": filters})
        QApplication.processEvents()
        assert window.scene.blocks["conv1"].look.summary.startswith(f"{filters} ")
    assert window.doc.experiment.model.node("conv1").params["filters"] == 64


def test_resnet50_expanded_edit_refreshes_once_and_shows_it(qtbot, monkeypatch):
    # Speed: benchmarks/bench_canvas_refresh.py. Here: one edit, one refresh, the right one.
    window = make_window(qtbot, resnet(50))
    window.editor.fold_all(False)
    assert len(window.scene.blocks) > 150
    changes, syncs = [], []
    window.doc.changed.connect(changes.append)
    sync = window.scene.sync
    monkeypatch.setattr(window.scene, "sync", lambda *a: (syncs.append(a[0]), sync(*a))[1])
    node = window.doc.experiment.model.node("conv1")
    window.editor.edit_params("conv1", {**node.params, "filters": 48})
    QApplication.processEvents()
    assert len(changes) == 1 and len(syncs) == 1
    assert window.analysis.layer("conv1").output_shape[-1] == 48
    assert window.scene.blocks["conv1"].look.shape.endswith("×48")
    assert len(window.scene.blocks) > 150  # still expanded
    assert not window.analysis.errors()


def test_resnet152_loads_lays_out_and_paints(qtbot):
    # Speed: benchmarks/bench_canvas_refresh.py.
    window = make_window(qtbot)
    window.files.show_experiment(resnet(152), None)
    window.view.viewport().repaint()
    QApplication.processEvents()
    assert len(window.scene.blocks) < 100  # modules collapsed
    window.editor.fold_all(False)
    assert len(window.scene.blocks) > 500
    window.view.viewport().repaint()


def test_presets_menu_loads_through_the_dialog(qtbot, monkeypatch):
    window = make_window(qtbot)
    menu = window.menus.presets_menu
    window.menus._fill_presets(menu)
    titles = [a.text() for a in menu.actions()]
    assert "Load Preset…" in titles[0] and len(titles) > 2
    monkeypatch.setattr(PresetsDialog, "exec", lambda self: (self.accept(), 1)[1])
    name = cnnlab.list_presets()[-1].name
    assert window.files.load_preset(name)
    assert window.doc.path is None and not window.doc.dirty
    assert window.doc.experiment.name == preset_choice.fitted_preset(name).name
