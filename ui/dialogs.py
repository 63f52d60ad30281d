"""Message boxes and file dialogs, in one place so tests can replace them.

Every function here blocks on a modal dialog; the test suite monkeypatches
them with recorders.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

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
