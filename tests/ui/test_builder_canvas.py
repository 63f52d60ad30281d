"""The canvas: drop, connect, delete, move, undo/redo, copy/paste/duplicate, layout, modules."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, drop_block, make_window, new_ids
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from cnnlab import experiment_from_dict
from cnnlab.spec.edit import positions
from cnnlab.ui.canvas.edge_item import EdgeItem


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_window_opens_with_default_experiment(qtbot):
    window = make_window(qtbot)
    assert window.windowTitle() == f"{window.doc.experiment.name}[*]"
    assert not window.isWindowModified()
    assert "conv1" in window.scene.blocks
    assert window.summary.summary.rowCount() == len(window.analysis.layers) + 1
    assert window.tabs.tabText(0) == "Network"


def test_drop_creates_block_with_readable_id(qtbot):
    window = make_window(qtbot)
    before = window.doc.experiment
    drop_block(window, "Conv2D", QPointF(600, 300))
    added = new_ids(before, window.doc.experiment)
    assert added == ["conv4"]
    item = window.scene.blocks["conv4"]
    assert item.isSelected()
    x, y = positions(window.doc.experiment)["conv4"]
    assert abs(x + 110 - 600) <= 10 and abs(y + 34 - 300) <= 10
    assert window.isWindowModified()
    drop_block(window, "MaxPooling2D", QPointF(900, 300))
    assert "pool3" in window.doc.experiment.model.ids()


def test_connect_by_port_drag_and_multi_input_add(qtbot):
    window = make_window(qtbot)
    drop_block(window, "Add", QPointF(700, 200))
    scene = window.scene
    # drag from conv1's output port to the Add block
    port = scene.blocks["conv1"].out_port
    start = window.view.mapFromScene(port.scenePos())
    end = window.view.mapFromScene(scene.blocks["add1"].sceneBoundingRect().center())
    vp = window.view.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, end)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    edges = {(e.src, e.dst, e.port) for e in window.doc.experiment.model.edges}
    assert ("conv1", "add1", 0) in edges
    window.editor.connect("conv2", "add1")
    edges = {(e.src, e.dst, e.port) for e in window.doc.experiment.model.edges}
    assert ("conv2", "add1", 1) in edges
    assert ("conv1", "add1") in scene.edges and ("conv2", "add1") in scene.edges


def test_connect_refusals_are_messages(qtbot):
    window = make_window(qtbot)
    before = window.doc.experiment
    window.editor.connect("output", "input")  # into an Input block
    window.editor.connect("pool1", "conv1")  # a cycle
    assert window.doc.experiment is before
    assert "cycle" in window.statusBar().currentMessage()


def test_single_input_connection_is_replaced(qtbot):
    window = make_window(qtbot)
    window.editor.connect("conv1", "conv2")
    into = [e.src for e in window.doc.experiment.model.edges if e.dst == "conv2"]
    assert into == ["conv1"]


def test_delete_undo_redo(qtbot):
    window = make_window(qtbot)
    original = window.doc.experiment
    window.scene.select_ids(["pool1"])
    window.menus.actions["delete"].trigger()
    assert "pool1" not in window.doc.experiment.model.ids()
    assert "pool1" not in window.scene.blocks
    assert "pool1" not in positions(window.doc.experiment)
    window.doc.undo_stack.undo()
    assert window.doc.experiment is original
    assert "pool1" in window.scene.blocks
    window.doc.undo_stack.redo()
    assert "pool1" not in window.scene.blocks
    window.doc.undo_stack.undo()
    assert not window.doc.dirty


def test_delete_connection(qtbot):
    window = make_window(qtbot)
    edge = window.scene.edges[("conv1", "pool1")]
    assert isinstance(edge, EdgeItem)
    window.scene.clearSelection()
    edge.setSelected(True)
    window.editor.delete_selection()
    assert all((e.src, e.dst) != ("conv1", "pool1") for e in window.doc.experiment.model.edges)
    assert any("nothing is connected" in t for t in window.problems.texts())


def test_move_is_one_undo_step(qtbot):
    window = make_window(qtbot)
    item = window.scene.blocks["conv2"]
    x0, y0 = positions(window.doc.experiment)["conv2"]
    vp = window.view.viewport()
    start = window.view.mapFromScene(item.sceneBoundingRect().center())
    end = start + window.view.mapFromScene(QPointF(200, 0)) - window.view.mapFromScene(
        QPointF(0, 0))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 6):
        QTest.mouseMove(vp, start + (end - start) * i / 5)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    x1, y1 = positions(window.doc.experiment)["conv2"]
    assert abs(x1 - x0 - 200) <= 20 and y1 == y0
    assert x1 % 10 == 0
    assert window.doc.undo_stack.count() == 1


def test_copy_paste_duplicate(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv2", "pool2"])
    assert window.editor.copy()
    before = window.doc.experiment
    window.editor.paste()
    added = new_ids(before, window.doc.experiment)
    assert sorted(added) == ["conv4", "pool3"]
    edges = {(e.src, e.dst) for e in window.doc.experiment.model.edges}
    assert ("conv4", "pool3") in edges
    assert set(window.scene.selected_top_ids()) == {"conv4", "pool3"}
    pos = positions(window.doc.experiment)
    assert pos["conv4"][0] > positions(before)["conv2"][0]  # beside it (test_canvas_paste)
    window.scene.select_ids(["fc1"])
    window.editor.duplicate()
    assert "fc2" in window.doc.experiment.model.ids()
    assert window.doc.experiment.model.node("fc2").params == \
        window.doc.experiment.model.node("fc1").params


def test_auto_layout_puts_chain_in_one_column(qtbot):
    window = make_window(qtbot)
    window.editor.moved({"conv2": (900.0, 40.0)})
    window.editor.auto_layout()
    pos = positions(window.doc.experiment)
    xs = {pos[i][0] for i in window.doc.experiment.model.ids()}
    ys = [pos[i][1] for i in window.doc.experiment.model.ids()]
    assert len(xs) == 1 and ys == sorted(ys) and len(set(ys)) == len(ys)


def _residual_experiment():
    from cnnlab.spec.module_library import TEMPLATES

    return experiment_from_dict({"name": "res", "model": {
        "nodes": [{"id": "input", "type": "Input", "params": {"shape": [16, 16, 8]}},
                  {"id": "block1", "type": "residual", "params": {"filters": 8}},
                  {"id": "gap", "type": "GlobalAveragePooling2D"},
                  {"id": "output", "type": "Output", "params": {"units": 3}}],
        "edges": [{"src": "input", "dst": "block1"}, {"src": "block1", "dst": "gap"},
                  {"src": "gap", "dst": "output"}],
        "modules": {"residual": TEMPLATES["residual"]}}})


def test_module_collapses_and_expands_in_place(qtbot):
    window = make_window(qtbot, _residual_experiment())
    scene = window.scene
    assert scene.blocks["block1"].node.kind == "module"
    assert scene.blocks["block1"].look.shape == "16×16×8"
    window.editor.fold("block1", False)
    assert "block1" not in scene.blocks and "block1" in scene.groups
    assert "block1_conv1" in scene.blocks and "block1_add" in scene.blocks
    assert positions(window.doc.experiment)["gap"][1] > \
        positions(window.doc.experiment)["block1_out"][1]
    frame = scene.groups["block1"].boundingRect()
    assert frame.contains(scene.blocks["block1_add"].sceneBoundingRect().center())
    window.editor.fold("block1", True)
    assert scene.blocks["block1"].node.kind == "module"
    window.doc.undo_stack.undo()
    assert "block1" in scene.groups


def test_module_from_palette_and_its_params(qtbot):
    window = make_window(qtbot)
    drop_block(window, "bottleneck", QPointF(800, 500))
    exp = window.doc.experiment
    assert "bottleneck" in exp.model.modules and "bottleneck1" in exp.model.ids()
    window.editor.connect("pool2", "bottleneck1")
    window.editor.edit_params("bottleneck1", {"filters": 16, "out_filters": 64})
    assert window.scene.blocks["bottleneck1"].look.shape == "8×8×64"
    window.scene.select_ids(["bottleneck1"])
    assert set(window.properties.editors) == {"filters", "out_filters"}


def test_keyboard_shortcuts_on_the_canvas(qtbot):
    window = make_window(qtbot)
    window.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus, timeout=2000)
    window.scene.select_ids(["fc1"])
    QTest.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert "fc2" in window.doc.experiment.model.ids()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert "fc2" not in window.doc.experiment.model.ids()
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "fc2" in window.doc.experiment.model.ids()
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert "fc2" not in window.doc.experiment.model.ids()
    window.view.zoom_by(3)
    QTest.keyClick(window.view, Qt.Key.Key_F)
    assert window.view.zoom() <= 1.0
