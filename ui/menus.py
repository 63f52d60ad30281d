"""Menus, actions and shortcuts of the main window."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

from cnnlab import list_presets

if TYPE_CHECKING:
    from cnnlab.ui.main_window import MainWindow

CANVAS = Qt.ShortcutContext.WidgetWithChildrenShortcut

FIRST_STEPS = """
<h2>First steps</h2>
<ol>
<li><b>Look at the network.</b> The <i>Network</i> tab shows the default small CNN, top to
bottom. Click a block: <i>Properties</i> (right) shows its settings, <i>Summary</i> (bottom)
its output shape, parameters and multiply-adds, worked out as you edit.</li>
<li><b>Change it.</b> Edit a number in <i>Properties</i>; drag a block from <i>Blocks</i>
(left) onto the canvas, or double-click one to add it below the selected block; drag from a
block's lower dot to another block to connect them. <i>Problems</i> (bottom right) says what
does not fit. <i>Edit &#9656; Undo</i> takes any step back.</li>
<li><b>Start over.</b> <i>File &#9656; New</i> gives the <i>Default CNN</i> again, an
<i>Empty Network</i> (an Input block only) to build yourself, or a network <i>From Preset</i>
(LeNet-5, VGG, ResNet&hellip;).</li>
<li><b>Choose data and a recipe.</b> The <i>Recipe</i> tab (once TensorFlow has loaded, see
the status bar) sets the data set, optimizer, schedule and augmentation.</li>
<li><b>Train.</b> In the <i>Training</i> tab press <i>Start</i> and watch loss and accuracy.
<i>Stop</i> ends after the current batch and keeps what was trained.</li>
<li><b>Compare and look inside.</b> <i>Runs</i> lists every run: compare curves, resume a
stopped run, open a run's network in the editor. <i>Inspect</i> shows filters, feature maps
and what the network looks at.</li>
<li><b>Keep it.</b> <i>File &#9656; Save</i> writes the experiment as one JSON file; the
<code>cnnlab</code> command trains the same file without the window
(<code>cnnlab train FILE.json</code>).</li>
</ol>
"""


def plain_text(text: str) -> str:
    """A menu text without its ``&`` mnemonic markers (``&&`` stays one ``&``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def shortcut_rows(bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu path, command, keys) for every menu action that has a shortcut, in menu order."""
    rows: list[tuple[str, str, str]] = []

    def visit(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                visit(action.menu(), f"{path} ▸ {plain_text(action.text())}")
                continue
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in action.shortcuts() if not k.isEmpty())
            if keys:
                name = action.property("help_name") or plain_text(action.text()).rstrip("…")
                where = " (on the canvas)" if action.shortcutContext() == CANVAS else ""
                rows.append((path, name + where, keys))

    for top in bar.actions():
        if top.menu() is not None:
            visit(top.menu(), plain_text(top.text()))
    return rows


def shortcuts_html(bar: QMenuBar) -> str:
    """The keyboard shortcuts page: one table row per action, read from the menus."""
    cells = "".join(f"<tr><td>{html.escape(m)}</td><td>{html.escape(c)}</td>"
                    f"<td><b>{html.escape(k)}</b></td></tr>" for m, c, k in shortcut_rows(bar))
    return ("<h2>Keyboard shortcuts</h2><table cellspacing='0' cellpadding='4'>"
            "<tr><th align='left'>Menu</th><th align='left'>Command</th>"
            f"<th align='left'>Keys</th></tr>{cells}</table>")


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
        new = menu.addMenu("&New")
        new.setObjectName("menu_new")
        self._add(new, "new", "&Default CNN", f.new, [QKeySequence.StandardKey.New],
                  tip="The small CNN every new experiment starts with")
        self._add(new, "new_empty", "&Empty Network", f.new_empty, ["Ctrl+Shift+N"],
                  tip="An Input block only: build the network yourself")
        new.addSeparator()
        self._add(new, "new_preset", "From &Preset…", f.load_preset,
                  tip="A network from the preset library (LeNet-5, VGG, ResNet…)")
        self._add(menu, "open", "&Open…", f.open, [QKeySequence.StandardKey.Open])
        self.recent_menu = menu.addMenu("Open &Recent")
        self._add(menu, "import", "&Import Model…", f.import_model, ["Ctrl+I"],
                  tip="Open a Keras model file (.keras, .h5) as a new experiment")
        menu.addSeparator()
        self._add(menu, "save", "&Save", f.save, [QKeySequence.StandardKey.Save])
        self._add(menu, "save_as", "Save &As…", f.save_as, ["Ctrl+Shift+S"])
        menu.addSeparator()
        self._add(menu, "export_figure", "Export Network &Figure…", self._export_figure,
                  tip="The canvas as SVG, PDF or PNG, for slides and theses")
        menu.addSeparator()
        self._add(menu, "quit", "&Quit", self.w.close, ["Ctrl+Q"])
        self.update_recent(self.w.settings.recent_files())

    def _export_figure(self) -> None:
        from cnnlab.ui.figure_export import export_network_figure

        export_network_figure(self.w)

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
        undo.setProperty("help_name", "Undo")
        redo.setProperty("help_name", "Redo")
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
            entries = list_presets()
        except Exception as exc:  # noqa: BLE001 (a broken preset file must not stop the window)
            self.w.show_message(f"presets unavailable: {exc}")
            return
        for entry in entries:
            action = menu.addAction(f"{entry.title}…")
            action.setStatusTip(entry.description)
            action.triggered.connect(lambda _c=False, n=entry.name: self.w.files.load_preset(n))

    def _help(self, menu: QMenu) -> None:
        self._add(menu, "first_steps", "&First Steps", self.w.show_first_steps, ["F1"])
        self._add(menu, "shortcuts", "&Keyboard Shortcuts", self.w.show_shortcuts,
                  ["Ctrl+/"])
        menu.addSeparator()
        self._add(menu, "about", "&About CNN Lab", self.w.show_about)
