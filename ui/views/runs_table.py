"""The runs table: one sortable row per run of the store."""

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
    """A table of run records; the run id sits in the first column's user data."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSortingEnabled(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)

    def fill(self, records, labels=None) -> None:
        """Replace the rows with ``records``, keeping the selection where possible.

        Args:
            records: The run records to show.
            labels: A :class:`~cnnlab.ui.views.run_labels.RunLabels` for the
                "What changed" and "Architecture" columns; None leaves them empty.

        """
        keep = set(self.selected_ids())
        self.setSortingEnabled(False)
        self.setRowCount(len(records))
        for r, rec in enumerate(records):
            if labels is None:
                cells = row_cells(rec)
            else:
                cells = row_cells(rec, labels.change_cell(rec.id),
                                  labels.architectures.get(rec.id, ""))
            cells[0].setData(ID_ROLE, rec.id)
            cells[0].setToolTip(f"{rec.id}\n{rec.message or ''}".strip())
            for c, item in enumerate(cells):
                self.setItem(r, c, item)
        self.setSortingEnabled(True)
        for r in range(self.rowCount()):
            if self.item(r, 0).data(ID_ROLE) in keep:
                self.selectRow(r)

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
