"""Pasted and duplicated blocks land on a free spot, never on top of other blocks."""

from __future__ import annotations

import itertools

import pytest
from builder_helpers import DialogRecorder, make_window, new_ids
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cnnlab.spec.edit import positions


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def _no_overlaps(window) -> None:
    rects = [item.scene_rect() for item in window.scene.blocks.values()]
    for a, b in itertools.combinations(rects, 2):
        assert not a.intersects(b), (a, b)


def test_paste_twice_and_duplicate_never_land_on_a_block(qtbot):
    window = make_window(qtbot)
    window.scene.select_ids(["conv2", "pool2"])
    assert window.editor.copy()
    before = positions(window.doc.experiment)
    for _ in range(2):
        window.editor.paste()
        _no_overlaps(window)
    window.scene.select_ids(["fc1"])
    window.editor.duplicate()
    _no_overlaps(window)
    pos = positions(window.doc.experiment)
    assert pos["conv4"][1] == before["conv2"][1] and pos["conv4"][0] > before["conv2"][0]
    assert pos["conv5"][0] > pos["conv4"][0]  # the second paste beside the first
    assert pos["fc2"][1] == before["fc1"][1] and pos["fc2"] != before["fc1"]


def test_a_duplicate_is_one_undo_step_through_the_keyboard(qtbot):
    window = make_window(qtbot)
    window.activateWindow()
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus, timeout=2000)
    window.scene.select_ids(["conv1", "pool1"])
    original = window.doc.experiment
    QTest.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert sorted(new_ids(original, window.doc.experiment)) == ["conv4", "pool3"]
    _no_overlaps(window)
    assert window.doc.undo_stack.count() == 1
    window.doc.undo_stack.undo()
    assert window.doc.experiment is original and "conv4" not in window.scene.blocks
