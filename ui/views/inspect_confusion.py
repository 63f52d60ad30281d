"""Confusion matrix heat map with counts; clicking a cell reports (true, predicted)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal


def row_shares(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (share of a true class predicted as each class)."""
    cm = np.asarray(confusion, dtype=np.float64)
    sums = cm.sum(axis=1, keepdims=True)
    return np.divide(cm, sums, out=np.zeros_like(cm), where=sums > 0)


class ConfusionHeatmap(pg.GraphicsLayoutWidget):
    """Rows are true classes, columns predicted; colour is the row share, text the count.

    Signals:
        cell_clicked(int, int): True and predicted class of the clicked cell.

    """

    cell_clicked = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.setBackground("w")
        self.plot = self.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.setLabel("left", "true")
        self.plot.setLabel("bottom", "predicted")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(pg.colormap.get("CET-L18").getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.confusion = np.zeros((0, 0), dtype=np.int64)
        self.scene().sigMouseClicked.connect(self._clicked)
        self.setMinimumSize(260, 260)

    def set_matrix(self, confusion: np.ndarray, names: list[str]) -> None:
        """Show a ``(K, K)`` confusion matrix labelled with class names."""
        self.confusion = np.asarray(confusion, dtype=np.int64)
        shares = row_shares(self.confusion)
        self.image.setImage(shares, levels=(0.0, 1.0), autoLevels=False)
        for item in self.texts:
            self.plot.removeItem(item)
        self.texts = [self._count(r, c, shares[r, c]) for r in range(len(shares))
                      for c in range(len(shares))]
        shifted = [[(i + 0.5, name) for i, name in enumerate(names)]]
        self.plot.getAxis("bottom").setTicks(shifted)
        self.plot.getAxis("left").setTicks(shifted)
        k = len(shares)
        self.plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)

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

    def _clicked(self, event: Any) -> None:
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = vb.mapSceneToView(event.scenePos())
        cell = self.cell_at(point.x(), point.y())
        if cell is not None:
            self.cell_clicked.emit(*cell)
