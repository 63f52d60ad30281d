"""Help: the keyboard shortcuts page (read from the window's actions) and First Steps; the title."""

from __future__ import annotations

import pytest
from builder_helpers import DialogRecorder, make_window
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QDialog, QTextBrowser


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    return DialogRecorder().install(monkeypatch)


def page_text(window, name: str) -> str:
    dialog = window.findChild(QDialog, name)
    assert dialog is not None and dialog.isVisible()
    return dialog.findChild(QTextBrowser).toPlainText()


def test_shortcuts_page_lists_every_action_with_keys(qtbot):
    window = make_window(qtbot)
    window.menus.actions["shortcuts"].trigger()
    text = page_text(window, "help_shortcuts")
    for name, action in window.menus.actions.items():
        for key in action.shortcuts():
            native = key.toString(QKeySequence.SequenceFormat.NativeText)
            assert native in text, (name, native)
    assert "Quit" in text and "Ctrl+Q" in text and "Empty Network" in text
    assert "Undo\n" in text  # the action's name, not the text of the last edit
    assert "Copy (on the canvas)" in text


def test_shortcuts_page_follows_a_changed_shortcut(qtbot):
    window = make_window(qtbot)
    window.menus.actions["fit"].setShortcuts([QKeySequence("Ctrl+Shift+F")])
    window.show_shortcuts()
    text = page_text(window, "help_shortcuts")
    assert "Ctrl+Shift+F" in text
    window.show_shortcuts()  # shown again: the same page, not a second one
    assert len(window.findChildren(QDialog, "help_shortcuts")) == 1


def test_first_steps_page(qtbot):
    window = make_window(qtbot)
    assert [k.toString() for k in window.menus.actions["first_steps"].shortcuts()] == ["F1"]
    window.menus.actions["first_steps"].trigger()
    text = page_text(window, "help_first_steps")
    for words in ("Blocks", "Properties", "Recipe", "Training", "Start", "Runs", "Inspect",
                  "Empty Network", "cnnlab train"):
        assert words in text, words
    help_menu = window.menuBar().actions()[-1].menu()
    assert [a.text() for a in help_menu.actions() if a.text()] == [
        "&First Steps", "&Keyboard Shortcuts", "&About CNN Lab"]


def test_title_names_the_experiment_once_with_qts_unsaved_mark(qtbot):
    assert QApplication.applicationDisplayName()  # Qt appends it; the title must not repeat it
    window = make_window(qtbot)
    name = window.doc.experiment.name
    assert window.windowTitle() == f"{name}[*]" and not window.isWindowModified()
    assert "CNN Lab" not in window.windowTitle()
    window.editor.edit_params("conv1", {"filters": 8})
    assert window.isWindowModified()
    window.doc.undo_stack.undo()
    assert not window.isWindowModified()
    window.editor.rename_experiment("Odd [*] name")
    assert window.windowTitle() == "Odd [*][*] name[*]" and window.isWindowModified()
