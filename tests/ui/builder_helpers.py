"""Helpers for the network-builder tests: a window with recorded dialogs, simulated drops."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from cnnlab import default_experiment
from cnnlab.ui import dialogs
from cnnlab.ui.canvas.view import block_mime
from cnnlab.ui.main_window import MainWindow


class DialogRecorder:
    """Stands in for every modal dialog; answers come from its attributes."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []
        self.infos: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.answer = True
        self.save_answer = "discard"
        self.open_answer: str | None = None
        self.save_as_answer: str | None = None
        self.choose_answer = "cancel"

    def install(self, monkeypatch) -> DialogRecorder:
        monkeypatch.setattr(dialogs, "error", lambda _p, t, m: self.errors.append((t, m)))
        monkeypatch.setattr(dialogs, "info", lambda _p, t, m: self.infos.append((t, m)))
        monkeypatch.setattr(dialogs, "ask", self._ask)
        monkeypatch.setattr(dialogs, "ask_save", lambda _p, _n: self.save_answer)
        monkeypatch.setattr(dialogs, "open_path", lambda _p, _d: self.open_answer)
        monkeypatch.setattr(dialogs, "save_path", lambda _p, _s: self.save_as_answer)
        monkeypatch.setattr(dialogs, "choose", self._choose)
        return self

    def _choose(self, _parent, _title, text, _choices):
        self.questions.append(text)
        return self.choose_answer

    def _ask(self, _parent, _title, text):
        self.questions.append(text)
        return self.answer


def make_window(qtbot, exp=None, path=None) -> MainWindow:
    """A shown main window on ``exp`` (the default experiment when None)."""
    window = MainWindow(exp or default_experiment(), path)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    return window


def drop_block(window: MainWindow, type_name: str, at: QPointF) -> None:
    """Drag a palette block onto the canvas at scene point ``at`` (real drag events)."""
    view = window.view
    pos = view.mapFromScene(at)
    mime = block_mime(type_name)
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), move)
    drop = QDropEvent(QPointF(pos), actions, mime, buttons, mods)
    QApplication.sendEvent(view.viewport(), drop)


def new_ids(before, after) -> list[str]:
    """Top-level ids present in ``after`` but not in ``before``."""
    return [i for i in after.model.ids() if i not in set(before.model.ids())]


def view_point(window: MainWindow, scene_point: QPointF) -> QPoint:
    """A scene point in viewport coordinates."""
    return window.view.mapFromScene(scene_point)
