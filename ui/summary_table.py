"""The per-layer summary: one row per block of the expanded graph, and a totals row.

Columns follow the lecture's arithmetic: output shape, parameters,
multiply-adds, activations and receptive field. Clicking a row selects its
block on the canvas.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from cnnlab import Analysis, LayerInfo
from cnnlab.formatting import compact, field_text, grouped, shape_text
from cnnlab.ui.canvas.style import mono_font

COLUMNS = ("Block", "Type", "Output shape", "Params", "Mult-adds", "Activations",
           "Receptive field")
NUMERIC = {3, 4, 5, 6}


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
        """Blocks plus the totals row."""
        return 0 if parent.isValid() or self.analysis is None else len(self.layers) + 1

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
        total = row == len(self.layers)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._total_text(col) if total else self._text(self.layers[row], col)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole:
            return self._font(col, total)
        if role == Qt.ItemDataRole.BackgroundRole and total:
            return QBrush(QColor("#eef1f5"))
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

    def _total_text(self, col: int) -> str:
        totals = self.analysis.totals
        return {0: "Total", 3: grouped(totals.params), 4: compact(totals.macs),
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
