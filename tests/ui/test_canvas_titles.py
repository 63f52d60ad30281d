"""Block titles: a long one is cut with "…" on the card and shown in full in the tooltip."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def _hover_tooltip(window, item) -> str:
    """The tooltip the view shows over ``item`` (a real help event on the viewport)."""
    view = window.view
    view.ensureVisible(item)
    at = view.mapFromScene(item.sceneBoundingRect().center())
    event = QHelpEvent(QEvent.Type.ToolTip, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    text = QToolTip.text()
    QToolTip.hideText()
    return text


def test_a_long_title_is_cut_with_an_ellipsis_and_shown_whole_in_the_tooltip(qtbot):
    window = make_window(qtbot)
    gap = window.scene.blocks["gap"]
    assert gap.look.title == "GlobalAveragePooling2D"
    shown = gap.shown_title()
    assert shown.endswith("…") and "GlobalAveragePooling2D".startswith(shown[:-1])
    tip = _hover_tooltip(window, gap)
    assert "GlobalAveragePooling2D" in tip and "<b>gap</b>" in tip


def test_a_short_title_is_whole_and_the_tooltip_has_the_key_parameters(qtbot):
    window = make_window(qtbot)
    conv = window.scene.blocks["conv1"]
    assert conv.shown_title() == "Conv2D"
    tip = _hover_tooltip(window, conv)
    assert conv.look.summary and conv.look.summary in tip
    window.editor.edit_params("conv1", {**window.doc.experiment.model.node("conv1").params,
                                        "filters": 48})
    assert "48" in conv.look.summary and conv.look.summary in _hover_tooltip(window, conv)

