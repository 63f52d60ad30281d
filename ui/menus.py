"""Menus, actions and shortcuts of the main window."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from cnnlab.ui import preset_source

if TYPE_CHECKING:
    from cnnlab.ui.main_window import MainWindow

CANVAS = Qt.ShortcutContext.WidgetWithChildrenShortcut


class Menus:
    """Builds the menu bar; keeps the actions by name in ``actions``."""

    def __init__(self, window: MainWindow):
        self.w = window
        self.actions: dict[str, QAction] = {}
        self.recent_menu: QMenu | None = None
        bar = window.menuBar()
        self._file(bar.addMenu("&File"))
        self._edit(bar.addMenu("&Edit"))
        self._view(bar.addMenu("&View"))
        self._presets(bar.addMenu("&Presets"))
        self._help(bar.addMenu("&Help"))

    def _add(self, menu: QMenu, name: str, text: str, slot, keys=(), canvas: bool = False,
             tip: str = "") -> QAction:
        action = QAction(text, self.w)
        action.setObjectName(f"action_{name}")
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        if canvas:
            action.setShortcutContext(CANVAS)
            self.w.view.addAction(action)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.actions[name] = action
        return action

    def _file(self, menu: QMenu) -> None:
        f = self.w.files
        self._add(menu, "new", "&New", f.new, [QKeySequence.StandardKey.New])
        self._add(menu, "open", "&Open…", f.open, [QKeySequence.StandardKey.Open])
        self.recent_menu = menu.addMenu("Open &Recent")
        self._add(menu, "import", "&Import Model…", f.import_model, ["Ctrl+I"],
                  tip="Open a Keras model file (.keras, .h5) as a new experiment")
        menu.addSeparator()
        self._add(menu, "save", "&Save", f.save, [QKeySequence.StandardKey.Save])
        self._add(menu, "save_as", "Save &As…", f.save_as, ["Ctrl+Shift+S"])
        menu.addSeparator()
        self._add(menu, "quit", "&Quit", self.w.close, [QKeySequence.StandardKey.Quit])
        self.update_recent(self.w.settings.recent_files())

    def update_recent(self, files: list[str]) -> None:
        """List the recent files in File ▸ Open Recent."""
        menu = self.recent_menu
        menu.clear()
        for path in files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.w.files.open(p))
        menu.setEnabled(bool(files))

    def _edit(self, menu: QMenu) -> None:
        e, stack = self.w.editor, self.w.doc.undo_stack
        undo = stack.createUndoAction(self.w, "&Undo")
        undo.setShortcuts([QKeySequence("Ctrl+Z")])
        redo = stack.createRedoAction(self.w, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        menu.addAction(undo)
        menu.addAction(redo)
        self.actions.update(undo=undo, redo=redo)
        menu.addSeparator()
        self._add(menu, "cut", "Cu&t", e.cut, ["Ctrl+X"], canvas=True)
        self._add(menu, "copy", "&Copy", e.copy, ["Ctrl+C"], canvas=True)
        self._add(menu, "paste", "&Paste", e.paste, ["Ctrl+V"], canvas=True)
        self._add(menu, "duplicate", "D&uplicate", e.duplicate, ["Ctrl+D"], canvas=True)
        self._add(menu, "delete", "&Delete", e.delete_selection, ["Delete", "Backspace"],
                  canvas=True)
        menu.addSeparator()
        self._add(menu, "select_all", "Select &All", self._select_all, ["Ctrl+A"], canvas=True)

    def _select_all(self) -> None:
        for item in self.w.scene.blocks.values():
            item.setSelected(True)

    def _view(self, menu: QMenu) -> None:
        v, e = self.w.view, self.w.editor
        self._add(menu, "fit", "&Fit to View", v.fit_all, ["F"], canvas=True)
        self._add(menu, "zoom_in", "Zoom &In", lambda: v.zoom_by(1.25), ["Ctrl++", "Ctrl+="])
        self._add(menu, "zoom_out", "Zoom &Out", lambda: v.zoom_by(0.8), ["Ctrl+-"])
        self._add(menu, "zoom_reset", "&Actual Size", v.resetTransform, ["Ctrl+0"])
        menu.addSeparator()
        self._add(menu, "layout", "Arrange &Automatically", e.auto_layout, ["Ctrl+L"],
                  tip="Top-down layout, layered by longest path, branches side by side")
        self._add(menu, "expand_all", "&Expand All Modules", lambda: e.fold_all(False))
        self._add(menu, "collapse_all", "&Collapse All Modules", lambda: e.fold_all(True))
        menu.addSeparator()
        for dock in self.w.docks.values():
            menu.addAction(dock.toggleViewAction())

    def _presets(self, menu: QMenu) -> None:
        f = self.w.files
        self._add(menu, "load_preset", "&Load Preset…", f.load_preset, ["Ctrl+Shift+O"])
        menu.addSeparator()
        menu.aboutToShow.connect(lambda: self._fill_presets(menu))
        self.presets_menu = menu

    def _fill_presets(self, menu: QMenu) -> None:
        """List the presets the first time the menu opens (keeps start-up fast)."""
        if len(menu.actions()) > 2:
            return
        try:
            entries = preset_source.list_presets()
        except Exception as exc:  # noqa: BLE001 (a broken preset file must not stop the window)
            self.w.show_message(f"presets unavailable: {exc}")
            return
        for entry in entries:
            action = menu.addAction(f"{entry.title}…")
            action.setStatusTip(entry.description)
            action.triggered.connect(lambda _c=False, n=entry.name: self.w.files.load_preset(n))

    def _help(self, menu: QMenu) -> None:
        self._add(menu, "about", "&About CNN Lab", self.w.show_about)
