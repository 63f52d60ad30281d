"""The problems list: the analysis's errors and warnings as sentences.

Clicking a problem selects its block on the canvas.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle

from cnnlab import Problem

NODE_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsList(QListWidget):
    """One row per problem. ``blockActivated(id)`` when a problem with a block is clicked."""

    blockActivated = Signal(str)  # noqa: N815 (Qt naming)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.problems: tuple[Problem, ...] = ()

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Show these problems (errors first)."""
        problems = tuple(sorted(problems, key=lambda p: p.severity != "error"))
        if problems == self.problems and self.count():
            return
        self.problems = problems
        self.clear()
        if not problems:
            item = QListWidgetItem("No problems: every block has a shape.")
            item.setForeground(QBrush(QColor("#2e7d32")))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.addItem(item)
            return
        style = self.style()
        for p in problems:
            icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical
                                      if p.severity == "error"
                                      else QStyle.StandardPixmap.SP_MessageBoxWarning)
            item = QListWidgetItem(icon, str(p))
            item.setData(NODE_ROLE, p.node)
            item.setToolTip(f"{p.severity}: {p}")
            self.addItem(item)

    def error_count(self) -> int:
        """How many of the problems are errors."""
        return sum(p.severity == "error" for p in self.problems)

    def texts(self) -> list[str]:
        """The rows as shown (for tests)."""
        return [self.item(i).text() for i in range(self.count())]

    def _clicked(self, item: QListWidgetItem) -> None:
        node = item.data(NODE_ROLE)
        if node:
            self.blockActivated.emit(node)
