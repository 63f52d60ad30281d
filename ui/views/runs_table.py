"""The runs table: one row per run, branches under their parent, sortable as a tree.

A branch (a run forked from another's checkpoint) sits right under its parent,
its name indented with an arrow; sorting by a column orders the runs that
are no branches, and each run's branches among themselves, so a branch
never leaves its parent.
"""

from __future__ import annotations

import datetime as dt
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

COLUMNS = ("Name", "What changed", "Date", "Status", "Architecture", "Params", "Best val acc",
           "Test acc", "Reproducible", "Duration", "Tags")
PARAMS_TIP = ("Keras's count_params(): the learned parameters plus the batch-norm state "
              "(moving means and variances)")
ID_ROLE = Qt.ItemDataRole.UserRole
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
DEPTH_ROLE = Qt.ItemDataRole.UserRole + 2
BRANCH_MARK = "\u21b3 "  # an arrow down and right


class SortItem(QTableWidgetItem):
    """A cell that sorts by a hidden key (numbers as numbers, unknown last)."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            return a < b
        return str(a) < str(b)


def _cell(text: str, key: object) -> SortItem:
    item = SortItem(text)
    item.setData(SORT_ROLE, key)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _duration(rec) -> float:
    if rec.started_at is None or rec.ended_at is None:
        return math.nan
    return rec.ended_at - rec.started_at


def _test_cell(rec) -> SortItem:
    """The test accuracy, with the test loss and top-5 accuracy in the tooltip."""
    acc = rec.test_accuracy
    item = _cell(f"{acc:.4f}" if acc is not None else "-", acc if acc is not None else -1.0)
    parts = [f"{label} {value:.4f}" for label, value in
             (("test loss", rec.test_loss), ("test accuracy", acc), ("test top-5", rec.test_top5))
             if value is not None]
    item.setToolTip(", ".join(parts) if parts else "not evaluated on a test split")
    return item


def _tipped(item: SortItem, tip: str) -> SortItem:
    item.setToolTip(tip)
    return item


def _architecture(rec, summary: str) -> str:
    """The run's own label (a preset's title) with the layer summary, or the summary."""
    if rec.label and summary not in ("", "-"):
        return f"{rec.label} ({summary})"
    return rec.label or summary or "-"


def branch_name(name: str, depth: int) -> str:
    """A run's name as the table shows it: indented with an arrow under its parent."""
    return f"{'    ' * (depth - 1)}{BRANCH_MARK}{name}" if depth > 0 else name


def row_cells(rec, change: tuple[str, str] = ("", ""), summary: str = "") -> list[SortItem]:
    """Return the cells of one run record (a ``RunRecord``).

    Args:
        rec: The run's record.
        change: What changed since the experiment's previous run, and its tooltip.
        summary: The layer summary of the run's network (``3 conv, 2 dense``).

    """
    from cnnlab import format_duration

    date = dt.datetime.fromtimestamp(rec.created_at).strftime("%Y-%m-%d %H:%M")
    acc = rec.best_val_accuracy
    dur = _duration(rec)
    arch = _architecture(rec, summary)
    return [
        _cell(rec.name, rec.name.lower()),
        _tipped(_cell(change[0] or "-", change[0].lower()), change[1]),
        _cell(date, rec.created_at),
        _cell(rec.status, rec.status),
        _cell(arch, arch.lower()),
        _tipped(_cell(f"{rec.params:,}" if rec.params else "-", rec.params or -1), PARAMS_TIP),
        _cell(f"{acc:.4f}" if acc is not None else "-", acc if acc is not None else -1.0),
        _test_cell(rec),
        _cell("yes" if rec.deterministic else "-", int(rec.deterministic)),
        _cell(format_duration(dur, '--'), dur if math.isfinite(dur) else -1.0),
        _cell(", ".join(rec.tags), ", ".join(rec.tags)),
    ]


class RunsTable(QTableWidget):
    """A table of run records; the run id sits in the first column's user data.

    Qt's own sorting is off (it would take branches away from their parents):
    a click on a header sorts the tree by that column, a second click reverses it.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.sectionClicked.connect(self._sort_by)
        self.sort_key: tuple[int, bool] | None = None  # (column, descending)
        self._shown: tuple = ([], None, {})

    def fill(self, records, labels=None, branches=None) -> None:
        """Replace the rows with ``records`` (as a tree), keeping the selection where possible.

        Args:
            records: The run records to show.
            labels: A :class:`~cnnlab.ui.views.run_labels.RunLabels` for the
                "What changed" and "Architecture" columns; None leaves them empty.
            branches: Run id -> ("What changed" text, tooltip) for branches:
                the steer against the parent instead of the previous run.

        """
        from cnnlab.runs import tree_order

        self._shown = (list(records), labels, dict(branches or {}))
        keep = set(self.selected_ids())
        rows = [self._cells(rec, labels, branches or {}) for rec in records]
        by_id = {rec.id: cells for rec, cells in zip(records, rows, strict=True)}
        if self.sort_key is not None:
            column, descending = self.sort_key
            order = sorted(range(len(records)), key=lambda i: _Key(rows[i][column]),
                           reverse=descending)
            records = [records[i] for i in order]
        tree = tree_order(list(records))
        self.setRowCount(len(tree))
        for r, (rec, depth) in enumerate(tree):
            cells = by_id[rec.id]
            cells[0].setText(branch_name(rec.name, depth))
            cells[0].setData(DEPTH_ROLE, depth)
            for c, item in enumerate(cells):
                self.setItem(r, c, item)
        for r in range(self.rowCount()):
            if self.item(r, 0).data(ID_ROLE) in keep:
                self.selectRow(r)

    def _cells(self, rec, labels, branches: dict) -> list[SortItem]:
        if labels is None:
            cells = row_cells(rec, branches.get(rec.id, ("", "")))
        else:
            change = branches.get(rec.id) or labels.change_cell(rec.id)
            cells = row_cells(rec, change, labels.architectures.get(rec.id, ""))
        cells[0].setData(ID_ROLE, rec.id)
        branch = (f"\nbranch of {rec.parent} after epoch {rec.fork_epoch}"
                  if getattr(rec, "parent", None) else "")
        cells[0].setToolTip(f"{rec.id}{branch}\n{rec.message or ''}".strip())
        return cells

    def _sort_by(self, column: int) -> None:
        """Sort the tree by a column (again: the other way round)."""
        descending = bool(self.sort_key and self.sort_key[0] == column and not self.sort_key[1])
        self.sort_key = (column, descending)
        header = self.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSortIndicator(column, Qt.SortOrder.DescendingOrder if descending
                                else Qt.SortOrder.AscendingOrder)
        self.fill(*self._shown)

    def row_depth(self, row: int) -> int:
        """How deep a row's run is in the tree (0: no branch, 1: a branch, ...)."""
        return int(self.item(row, 0).data(DEPTH_ROLE) or 0)

    def selected_ids(self) -> list[str]:
        """Return the selected runs' ids in table order."""
        rows = sorted({i.row() for i in self.selectedIndexes()})
        return [self.item(r, 0).data(ID_ROLE) for r in rows if self.item(r, 0)]

    def select_ids(self, ids: list[str]) -> None:
        """Select the rows of these run ids."""
        self.clearSelection()
        mode = self.selectionMode()
        self.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r in range(self.rowCount()):
            if self.item(r, 0).data(ID_ROLE) in ids:
                self.selectRow(r)
        self.setSelectionMode(mode)


class _Key:
    """A cell's sort key, ordered as :meth:`SortItem.__lt__` orders cells."""

    def __init__(self, item: SortItem) -> None:
        self.item = item

    def __lt__(self, other: _Key) -> bool:
        return self.item < other.item
