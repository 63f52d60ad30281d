"""The per-layer summary: one row per block of the expanded graph, and a totals row.

Columns follow the lecture's arithmetic: output shape, parameters,
multiply-adds, activations and receptive field. Clicking a row selects its
block on the canvas. Parameters are the learned ones (the papers' count); a
network with batch-norm gets two more footer rows, its moving statistics and
the sum, which is Keras's ``count_params()``.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from cnnlab import Analysis, LayerInfo, compact, field_text, grouped, shape_text
from cnnlab.ui.canvas.style import mono_font

COLUMNS = ("Block", "Type", "Output shape", "Params", "Mult-adds", "Activations",
           "Receptive field")
NUMERIC = {3, 4, 5, 6}


def count_sentence(totals) -> str:
    """The parameter total in words that add up to Keras's ``count_params()``.

    ``2,230,277 learned + 34,112 batch-norm state = 2,264,389 (Keras's count)``;
    a network without batch-norm: ``1,234 learned parameters (Keras's count)``.
    """
    if not totals.state:
        return f"{grouped(totals.params)} learned parameters (Keras's count)"
    return (f"{grouped(totals.params)} learned + {grouped(totals.state)} batch-norm state = "
            f"{grouped(totals.params + totals.state)} (Keras's count)")


def footer_rows(totals) -> list[tuple[str, int]]:
    """The footer: the learned total; with batch-norm, its state and Keras's count."""
    if not totals.state:
        return [("Total", totals.params)]
    return [("Total learned", totals.params), ("+ batch-norm state", totals.state),
            ("= Keras's count", totals.params + totals.state)]


class SummaryModel(QAbstractTableModel):
    """Rows of an :class:`Analysis` plus a totals row."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layers: tuple[LayerInfo, ...] = ()
        self.analysis: Analysis | None = None

    def set_analysis(self, analysis: Analysis) -> None:
        """Show a new analysis."""
        self.beginResetModel()
        self.analysis = analysis
        self.layers = analysis.layers
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        """Blocks plus the footer rows (:func:`footer_rows`)."""
        if parent.isValid() or self.analysis is None:
            return 0
        return len(self.layers) + len(footer_rows(self.analysis.totals))

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802, B008 (Qt override)
        """The fixed columns."""
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        """Cell text, alignment, fonts and tooltips."""
        row, col = index.row(), index.column()
        total = row >= len(self.layers)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._total_text(row - len(self.layers), col) if total else self._text(
                self.layers[row], col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole:
            return self._font(col, total)
        if role == Qt.ItemDataRole.BackgroundRole and total:
            return QBrush(QColor("#eef1f5"))
        if role == Qt.ItemDataRole.ToolTipRole and total and col in (0, 3):
            return count_sentence(self.analysis.totals)
        if role == Qt.ItemDataRole.ToolTipRole and not total and col in (3, 4, 5):
            layer = self.layers[row]
            value = (layer.params, layer.macs, layer.activations)[col - 3]
            return grouped(value)
        return None

    @staticmethod
    def _font(col: int, total: bool) -> QFont | None:
        if col == 2:
            return mono_font(9)
        if total:
            font = QFont()
            font.setBold(True)
            return font
        return None

    @staticmethod
    def _text(layer: LayerInfo, col: int) -> str:
        if col == 0:
            return layer.id
        if col == 1:
            return layer.type
        if col == 2:
            return shape_text(layer.output_shape)
        if col == 3:
            return grouped(layer.params)
        if col == 4:
            return compact(layer.macs)
        if col == 5:
            return compact(layer.activations)
        return field_text(layer.receptive_field)

    def _total_text(self, footer: int, col: int) -> str:
        totals = self.analysis.totals
        title, count = footer_rows(totals)[footer]
        if footer:  # the batch-norm state and Keras's count: the parameter column only
            return {0: title, 3: grouped(count)}.get(col, "")
        return {0: title, 3: grouped(count), 4: compact(totals.macs),
                5: f"{compact(totals.activations)} ({compact(totals.activation_bytes)}B)"
                }.get(col, "")

    def row_of(self, block_id: str) -> int:
        """The row of a block, or -1."""
        for i, layer in enumerate(self.layers):
            if layer.id == block_id:
                return i
        return -1


class SummaryTable(QTableView):
    """The summary view. ``blockActivated(id)`` when a block's row is clicked."""

    blockActivated = Signal(str)  # noqa: N815 (Qt naming)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.summary = SummaryModel(self)
        self.setModel(self.summary)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for col, width in enumerate((170, 160, 120, 100, 90, 100, 110)):
            self.setColumnWidth(col, width)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.clicked.connect(self._clicked)

    def set_analysis(self, analysis: Analysis) -> None:
        """Show a new analysis, keeping the selected block selected."""
        current = self.current_block()
        self.summary.set_analysis(analysis)
        if current:
            self.show_block(current)

    def current_block(self) -> str | None:
        """The block of the selected row, if any."""
        rows = self.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.summary.layers):
            return None
        return self.summary.layers[rows[0].row()].id

    def show_block(self, block_id: str) -> None:
        """Select and scroll to a block's row (no signal)."""
        row = self.summary.row_of(block_id)
        self.blockSignals(True)
        try:
            if row < 0:
                self.clearSelection()
            else:
                self.selectRow(row)
                self.scrollTo(self.summary.index(row, 0))
        finally:
            self.blockSignals(False)

    def _clicked(self, index: QModelIndex) -> None:
        if index.row() < len(self.summary.layers):
            self.blockActivated.emit(self.summary.layers[index.row()].id)
