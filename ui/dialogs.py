"""Message boxes and file dialogs, in one place so tests can replace them.

Every function here blocks on a modal dialog; the test suite monkeypatches
them with recorders.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

FILE_FILTER = "Experiments (*.json);;All files (*)"


def error(parent: QWidget | None, title: str, text: str) -> None:
    """Show an error message."""
    QMessageBox.critical(parent, title, text)


def info(parent: QWidget | None, title: str, text: str) -> None:
    """Show a message."""
    QMessageBox.information(parent, title, text)


def ask(parent: QWidget | None, title: str, text: str) -> bool:
    """Ask a yes/no question; True for yes."""
    answer = QMessageBox.question(parent, title, text)
    return answer == QMessageBox.StandardButton.Yes


def choose(parent: QWidget | None, title: str, text: str,
           choices: Sequence[tuple[str, str]]) -> str:
    """Ask with one button per ``(key, label)`` choice; returns the chosen key.

    The first choice is the default button; the last one answers Escape and
    closing the box.
    """
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.NoButton,
                      parent)
    buttons = {}
    for i, (key, label) in enumerate(choices):
        last = i == len(choices) - 1
        role = QMessageBox.ButtonRole.RejectRole if last else QMessageBox.ButtonRole.AcceptRole
        buttons[box.addButton(label, role)] = key
    first, last = list(buttons)[0], list(buttons)[-1]
    box.setDefaultButton(first)
    box.setEscapeButton(last)
    box.exec()
    return buttons.get(box.clickedButton(), choices[-1][0])


def page(parent: QWidget | None, name: str, title: str, html: str) -> QDialog:
    """Show (not modal) a page of rich text, reusing the parent's open page called ``name``."""
    dialog = parent.findChild(QDialog, name) if parent is not None else None
    if dialog is None:
        dialog = QDialog(parent)
        dialog.setObjectName(name)
        dialog.resize(620, 560)
        text = QTextBrowser(dialog)
        text.setObjectName("page_text")
        text.setOpenExternalLinks(False)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        close.rejected.connect(dialog.close)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(close)
    dialog.setWindowTitle(title)
    dialog.findChild(QTextBrowser, "page_text").setHtml(html)
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.show()
    dialog.raise_()
    return dialog


def ask_save(parent: QWidget | None, name: str) -> str:
    """Ask what to do with unsaved changes: ``save``, ``discard`` or ``cancel``."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                      f"“{name}” has unsaved changes. Save them first?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def open_path(parent: QWidget | None, folder: str) -> str | None:
    """Ask for an experiment file to open."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open experiment", folder, FILE_FILTER)
    return path or None


def save_path(parent: QWidget | None, suggestion: str) -> str | None:
    """Ask where to save an experiment."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save experiment", suggestion, FILE_FILTER)
    if path and not path.lower().endswith(".json"):
        path += ".json"
    return path or None
