"""Presets in the window, and the speed of the edit -> refresh path on big networks."""

from __future__ import annotations

import time

import pytest
from builder_helpers import DialogRecorder, make_window
from nets import resnet
from PySide6.QtWidgets import QApplication

from cnnlab import preset_choice
from cnnlab.ui.presets_dialog import PresetsDialog


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_every_preset_loads_in_the_window(qtbot):
    window = make_window(qtbot)
    entries = preset_choice.list_presets()
    assert entries
    for entry in entries:
        exp = preset_choice.load_preset(entry.name)
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


def test_resnet50_refresh_is_under_100_ms(qtbot):
    window = make_window(qtbot, resnet(50))
    assert len(window.analysis.layers) > 150
    window.scene.select_ids(["conv1"])
    times = []
    for filters in (32, 48, 64, 96, 64):
        node = window.doc.experiment.model.node("conv1")
        start = time.perf_counter()
        window.editor.edit_params("conv1", {**node.params, "filters": filters})
        QApplication.processEvents()
        times.append(time.perf_counter() - start)
    assert window.doc.experiment.model.node("conv1").params["filters"] == 64
    best = sorted(times)[len(times) // 2]
    print(f"ResNet-50 edit -> refresh: median {best * 1000:.1f} ms, last "
          f"{window.last_refresh_s * 1000:.1f} ms")
    assert best < 0.1


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


def test_resnet152_loads_lays_out_and_paints_fast(qtbot):
    window = make_window(qtbot)
    start = time.perf_counter()
    exp = resnet(152)
    window.files.show_experiment(exp, None)
    window.view.viewport().repaint()
    QApplication.processEvents()
    elapsed = time.perf_counter() - start
    print(f"ResNet-152 load + layout + paint: {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0
    window.editor.fold_all(False)
    assert len(window.scene.blocks) > 500
    window.view.viewport().repaint()
    assert time.perf_counter() - start < 4.0


def test_presets_menu_loads_through_the_dialog(qtbot, monkeypatch):
    window = make_window(qtbot)
    menu = window.menus.presets_menu
    window.menus._fill_presets(menu)
    titles = [a.text() for a in menu.actions()]
    assert "Load Preset…" in titles[0] and len(titles) > 2
    monkeypatch.setattr(PresetsDialog, "exec", lambda self: (self.accept(), 1)[1])
    name = preset_choice.list_presets()[-1].name
    assert window.files.load_preset(name)
    assert window.doc.path is None and not window.doc.dirty
    assert window.doc.experiment.name == preset_choice.load_preset(name).name
