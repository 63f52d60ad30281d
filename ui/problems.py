"""The problems list: the analysis's errors and warnings as sentences.

Clicking a problem selects its block on the canvas. A problem the lab can fix
by itself (an Output whose units differ from the data's class count) gets a
second row, "Fix: ...", that applies the fix with one click.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle

from cnnlab import Problem

NODE_ROLE = Qt.ItemDataRole.UserRole + 1
FIX_ROLE = Qt.ItemDataRole.UserRole + 2
# Problem code -> the text of its one-click fix ({node} and {units} filled in).
FIXES = {"output_classes": "Fix: set {node}'s units to the data's class count"}


class ProblemsList(QListWidget):
    """One row per problem. ``blockActivated(id)`` when a problem with a block is clicked."""

    blockActivated = Signal(str)  # noqa: N815 (Qt naming)
    fixRequested = Signal(str, str)  # noqa: N815 (Qt naming): block id, problem code

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.itemClicked.connect(self._clicked)
        self.itemActivated.connect(self._clicked)
        self.problems: tuple[Problem, ...] = ()
        self.data_problems: tuple[Problem, ...] = ()

    def set_data_problems(self, problems: Sequence[Problem]) -> None:
        """Problems of the model against its data, shown with the next ``set_problems``."""
        self.data_problems = tuple(problems)

    def set_problems(self, problems: Sequence[Problem]) -> None:
        """Show these problems and the data problems (errors first)."""
        merged = dict.fromkeys([*problems, *self.data_problems])
        problems = tuple(sorted(merged, key=lambda p: p.severity != "error"))
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
            if p.code in FIXES and p.node:
                self._add_fix(p)

    def _add_fix(self, problem: Problem) -> None:
        fix = QListWidgetItem("    " + FIXES[problem.code].format(node=problem.node))
        fix.setForeground(QBrush(QColor("#1565c0")))
        fix.setData(FIX_ROLE, (problem.node, problem.code))
        fix.setToolTip("Click to apply this fix (Edit > Undo takes it back)")
        self.addItem(fix)

    def fix_rows(self) -> list[int]:
        """The rows that apply a fix when clicked (for tests)."""
        return [i for i in range(self.count()) if self.item(i).data(FIX_ROLE)]

    def error_count(self) -> int:
        """How many of the problems are errors."""
        return sum(p.severity == "error" for p in self.problems)

    def texts(self) -> list[str]:
        """The rows as shown (for tests)."""
        return [self.item(i).text() for i in range(self.count())]

    def _clicked(self, item: QListWidgetItem) -> None:
        fix = item.data(FIX_ROLE)
        if fix:
            self.fixRequested.emit(*fix)
            return
        node = item.data(NODE_ROLE)
        if node:
            self.blockActivated.emit(node)
