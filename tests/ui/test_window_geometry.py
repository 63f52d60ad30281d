"""The window fits the screen: the first start's size and a restored one (issue 14)."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder
from PySide6.QtCore import QMargins, QPoint, QRect, QSettings

from cnnlab import default_experiment
from cnnlab.ui.main_window import DEFAULT_SIZE, MainWindow, fit_rect
from cnnlab.ui.settings import LabSettings

LAPTOP = QRect(0, 0, 1280, 800)
FRAME = QMargins(4, 30, 4, 4)


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def test_fit_rect_shrinks_and_moves_a_window_onto_a_small_screen():
    fitted = fit_rect(QRect(100, 50, 1500, 920), LAPTOP, FRAME)
    assert LAPTOP.contains(fitted.marginsAdded(FRAME))
    assert (fitted.width(), fitted.height()) == (1280 - 8, 800 - 34)
    moved = fit_rect(QRect(1200, 700, 600, 400), LAPTOP, FRAME)  # sticks out: moved in
    assert (moved.width(), moved.height()) == (600, 400)
    assert LAPTOP.contains(moved.marginsAdded(FRAME))
    inside = QRect(200, 100, 800, 500)
    assert fit_rect(inside, LAPTOP, FRAME) == inside  # already fits: unchanged
    assert fit_rect(QRect(-900, -300, 800, 500), LAPTOP, FRAME).topLeft() == QPoint(4, 30)


def _window(qtbot, tmp_path) -> MainWindow:
    settings = LabSettings(QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    window = MainWindow(default_experiment(), settings=settings)
    qtbot.addWidget(window)
    return window


def _on_screen(window: MainWindow) -> None:
    available = window.screen().availableGeometry()
    assert available.contains(window.frameGeometry()), (window.frameGeometry(), available)


def test_the_first_start_fits_a_screen_smaller_than_the_default_size(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    available = window.screen().availableGeometry()
    assert available.width() < DEFAULT_SIZE[0]  # the test screen is smaller (800x800)
    assert window.width() <= available.width() and window.height() <= available.height()
    window.restore_layout()  # nothing saved: stays as it is
    window.show()
    qtbot.waitExposed(window)
    _on_screen(window)


def test_a_layout_saved_on_a_big_screen_is_restored_on_screen(qtbot, tmp_path):
    first = _window(qtbot, tmp_path)
    first.setGeometry(QRect(600, 400, 2400, 1500))
    first.show()
    qtbot.waitExposed(first)
    first.close()
    again = _window(qtbot, tmp_path)
    assert again.settings.window_geometry() is not None
    again.restore_layout()
    again.show()
    qtbot.waitExposed(again)
    _on_screen(again)
