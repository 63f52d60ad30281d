"""The block palette: the catalogue grouped, searchable, dragged onto the canvas.

Each entry carries its block type in a QMimeData; help texts are tooltips.
The Modules group lists the library's modules and the modules the open
experiment defines. Double-clicking an entry adds the block below the
selection.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDrag, QIcon, QPixmap
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from cnnlab import ModuleDef, blocks_by_group
from cnnlab.spec import module_template, module_template_names
from cnnlab.ui.canvas.style import GROUP_COLORS
from cnnlab.ui.canvas.view import block_mime

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def _swatch(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour))
    return QIcon(pixmap)


class _Tree(QTreeWidget):
    """A tree whose leaves drag their block type."""

    def startDrag(self, actions) -> None:  # noqa: N802 (Qt override)
        """Drag the current entry's block type."""
        item = self.currentItem()
        kind = item.data(0, TYPE_ROLE) if item else None
        if not kind:
            return
        drag = QDrag(self)
        drag.setMimeData(block_mime(kind))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Search box over a grouped tree of block types.

    Signals:
        activated(str): An entry was double-clicked (add it to the canvas).
    """

    activated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search blocks…")
        self.search.setClearButtonEnabled(True)
        self.tree = _Tree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setRootIsDecorated(True)
        self.tree.setIndentation(12)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self._modules_item: QTreeWidgetItem | None = None
        self._build()

    def _build(self) -> None:
        for group, blocks in blocks_by_group().items():
            if not blocks:
                continue
            top = self._group_item(group)
            for block in blocks:
                self._leaf(top, block.type, block.help, block.type)
        self._modules_item = self._group_item("Modules")
        self.set_modules({})

    def _group_item(self, name: str) -> QTreeWidgetItem:
        top = QTreeWidgetItem(self.tree, [name])
        top.setFlags(Qt.ItemFlag.ItemIsEnabled)
        top.setIcon(0, _swatch(GROUP_COLORS.get(name, "#7b8794")))
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        top.setExpanded(True)
        return top

    @staticmethod
    def _leaf(parent: QTreeWidgetItem, label: str, helptext: str, kind: str) -> None:
        item = QTreeWidgetItem(parent, [label])
        item.setData(0, TYPE_ROLE, kind)
        item.setToolTip(0, helptext)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsDragEnabled)

    def set_modules(self, defined: Mapping[str, ModuleDef]) -> None:
        """List the library modules and those the experiment defines."""
        top = self._modules_item
        if top is None:
            return
        names = dict.fromkeys([*defined, *module_template_names()])
        current = [top.child(i).data(0, TYPE_ROLE) for i in range(top.childCount())]
        if current == list(names):
            return
        top.takeChildren()
        for name in names:
            mod = defined.get(name) or module_template(name)
            self._leaf(top, name, mod.description or f"module {name}", name)
        self.filter(self.search.text())

    def filter(self, text: str) -> None:
        """Show only entries whose type or help contains ``text``."""
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            shown = 0
            for j in range(top.childCount()):
                leaf = top.child(j)
                match = not needle or needle in leaf.text(0).lower() \
                    or needle in leaf.toolTip(0).lower()
                leaf.setHidden(not match)
                shown += match
            top.setHidden(shown == 0)

    def visible_types(self) -> list[str]:
        """Block types currently shown (for tests)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            out += [top.child(j).data(0, TYPE_ROLE) for j in range(top.childCount())
                    if not top.isHidden() and not top.child(j).isHidden()]
        return out

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, TYPE_ROLE)
        if kind:
            self.activated.emit(kind)
