"""Arrows on the canvas: straight down a free column, around the blocks in the way."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, drop_block, make_window
from PySide6.QtCore import QPointF

from cnnlab import experiment_from_dict
from cnnlab.diagram.layout import BLOCK_H, BLOCK_W, ROW
from cnnlab.spec.edit import positions
from cnnlab.spec.module_library import TEMPLATES


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def _span(window, src: str, dst: str) -> tuple[float, float, QPointF, QPointF]:
    """(left, right) of an arrow's path and its two anchors."""
    edge = window.scene.edges[(src, dst)]
    rect = edge._path.boundingRect()
    return rect.left(), rect.right(), edge.src.anchor("out"), edge.dst.anchor("in")


def test_an_arrow_straight_down_a_free_column_is_a_straight_line(qtbot):
    window = make_window(qtbot)
    x, y = positions(window.doc.experiment)["fc1"]
    window.editor.moved({"output": (x, y + 4 * ROW)})  # far below, nothing in between
    left, right, start, end = _span(window, "fc1", "output")
    assert end.y() - start.y() > 3 * ROW and start.x() == end.x()
    assert left == right == start.x()  # not a loop out to the side
    window.editor.moved({"output": (x + 20, y + 4 * ROW)})  # a small offset: a gentle S
    left, right, start, end = _span(window, "fc1", "output")
    assert left >= start.x() - 0.5 and right <= end.x() + 0.5


def test_a_block_moved_into_the_way_makes_the_arrow_go_around_it(qtbot):
    window = make_window(qtbot)
    x, y = positions(window.doc.experiment)["fc1"]
    window.editor.moved({"output": (x, y + 4 * ROW)})
    drop_block(window, "Dropout", QPointF(x + BLOCK_W / 2, y + 2 * ROW + BLOCK_H / 2))
    left, right, start, _ = _span(window, "fc1", "output")
    assert right > start.x() + BLOCK_W / 2  # bows out to the right of the column
    window.doc.undo_stack.undo()  # the dropped block goes: straight again
    left, right, start, _ = _span(window, "fc1", "output")
    assert left == right == start.x()


def test_a_resnet_shortcut_still_bows_around_its_column(qtbot):
    exp = experiment_from_dict({"name": "res", "model": {
        "nodes": [{"id": "input", "type": "Input", "params": {"shape": [16, 16, 8]}},
                  {"id": "block1", "type": "residual", "params": {"filters": 8}},
                  {"id": "gap", "type": "GlobalAveragePooling2D"},
                  {"id": "output", "type": "Output", "params": {"units": 3}}],
        "edges": [{"src": "input", "dst": "block1"}, {"src": "block1", "dst": "gap"},
                  {"src": "gap", "dst": "output"}],
        "modules": {"residual": TEMPLATES["residual"]}}})
    window = make_window(qtbot, exp)
    window.editor.fold("block1", False)
    left, right, start, _ = _span(window, "input", "block1_add")
    assert right > start.x() + BLOCK_W / 2
    left, right, start, _ = _span(window, "input", "block1_conv1")  # the main path
    assert left == right == start.x()
