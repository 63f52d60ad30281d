"""Confusion matrix heat map with counts; clicking a cell reports (true, predicted).

Class names on the axes are elided to the room a cell has (the left axis to a
fixed width), so neighbours never run together; hovering a cell names both
classes in full with its count. Before an evaluation the view shows a plain
sentence instead of empty axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel, QStackedWidget, QToolTip

EMPTY_TEXT = ("No confusion matrix yet. Press Evaluate to classify the run's test (or "
              "validation) samples; rows will be the true classes, columns the predicted.")
LEFT_AXIS_PX = 110  # the most room the true-class names take
GAP_PX = 6  # between two bottom labels


def row_shares(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (share of a true class predicted as each class)."""
    cm = np.asarray(confusion, dtype=np.float64)
    sums = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, sums, out=np.zeros_like(cm), where=sums > 0)


def elided(names: list[str], width: int, metrics: QFontMetrics) -> list[str]:
    """Each name cut (with an ellipsis) to ``width`` pixels; the index when nothing fits."""
    out = []
    for i, name in enumerate(names):
        text = metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(width, 0))
        out.append(text if text and text != "\u2026" else str(i))
    return out


class ConfusionHeatmap(pg.GraphicsLayoutWidget):
    """Rows are true classes, columns predicted; colour is the row share, text the count.

    Signals:
        cell_clicked(int, int): True and predicted class of the clicked cell.

    """

    cell_clicked = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.click_hint = ""  # a line the hover text adds: what a click does here
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(pg.colormap.get("CET-L18").getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.names: list[str] = []
        self.confusion = np.zeros((0, 0), dtype=np.int64)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hovered)
        self.plot.getViewBox().sigResized.connect(lambda _vb: self.relabel())
        self.plot.getViewBox().sigRangeChanged.connect(lambda *_a: self.relabel())
        self.setMinimumSize(260, 260)

    def set_matrix(self, confusion: np.ndarray, names: list[str]) -> None:
        """Show a ``(K, K)`` confusion matrix labelled with class names."""
        self.confusion = np.asarray(confusion, dtype=np.int64)
        self.names = list(names)
        shares = row_shares(self.confusion)
        self.image.setImage(shares, levels=(0.0, 1.0), autoLevels=False)
        for item in self.texts:
            self.plot.removeItem(item)
        self.texts = [self._count(r, c, shares[r, c]) for r in range(len(shares))
                      for c in range(len(shares))]
        k = len(shares)
        self.plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        self.relabel()

    def cell_px(self) -> float:
        """How wide one cell is on screen now (the aspect lock may leave the view wider)."""
        unit_w = self.plot.getViewBox().viewPixelSize()[0]  # data units per pixel
        return 1.0 / unit_w if unit_w > 0 else 0.0

    def tick_texts(self) -> tuple[list[str], list[str]]:
        """The (bottom, left) axis labels as drawn for the current size."""
        metrics = QFontMetrics(self.font())
        cell = int(self.cell_px()) - GAP_PX
        return elided(self.names, cell, metrics), elided(self.names, LEFT_AXIS_PX, metrics)

    def relabel(self) -> None:
        """Fit the class names to the room the axes have now."""
        bottom, left = self.tick_texts()
        self.plot.getAxis("bottom").setTicks([[(i + 0.5, t) for i, t in enumerate(bottom)]])
        self.plot.getAxis("left").setTicks([[(i + 0.5, t) for i, t in enumerate(left)]])
        widest = max((QFontMetrics(self.font()).horizontalAdvance(t) for t in left), default=0)
        self.plot.getAxis("left").setWidth(min(widest, LEFT_AXIS_PX) + 40)

    def _count(self, r: int, c: int, share: float) -> pg.TextItem:
        color = "w" if share > 0.55 else "k"
        item = pg.TextItem(str(int(self.confusion[r, c])), color=color, anchor=(0.5, 0.5))
        item.setPos(c + 0.5, r + 0.5)
        self.plot.addItem(item)
        return item

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (true, predicted) cell at view coordinates, or None outside."""
        k = len(self.confusion)
        c, r = int(np.floor(x)), int(np.floor(y))
        return (r, c) if 0 <= r < k and 0 <= c < k else None

    def cell_text(self, true: int, predicted: int) -> str:
        """The hover text of a cell: both class names in full, the count and the share."""
        count = int(self.confusion[true, predicted])
        share = row_shares(self.confusion)[true, predicted]
        return (f"true {self.names[true]}, predicted {self.names[predicted]}: "
                f"{count} samples ({share:.0%} of the true class)")

    def _cell_of(self, scene_pos: Any) -> tuple[int, int] | None:
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = vb.mapSceneToView(scene_pos)
        return self.cell_at(point.x(), point.y())

    def _hovered(self, scene_pos: Any) -> None:
        cell = self._cell_of(scene_pos)
        text = self.cell_text(*cell) if cell is not None and self.names else ""
        if text and self.click_hint:
            text += f"\n{self.click_hint}"
        self.setToolTip(text)
        if text:
            view_pos = self.mapFromScene(scene_pos)
            QToolTip.showText(self.mapToGlobal(view_pos), text, self)

    def _clicked(self, event: Any) -> None:
        cell = self._cell_of(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(*cell)


class ConfusionView(QStackedWidget):
    """The heat map, or a plain sentence while there is nothing to show."""

    def __init__(self) -> None:
        super().__init__()
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(24)
        self.heatmap = ConfusionHeatmap()
        self.addWidget(self.empty)
        self.addWidget(self.heatmap)

    def set_matrix(self, confusion: np.ndarray, names: list[str]) -> None:
        """Show a matrix (an empty one brings the sentence back)."""
        self.heatmap.set_matrix(confusion, names)
        self.setCurrentWidget(self.heatmap if len(names) else self.empty)

    def clear(self, text: str = EMPTY_TEXT) -> None:
        """Show the sentence (or another one) instead of the matrix."""
        self.empty.setText(text)
        self.setCurrentWidget(self.empty)
