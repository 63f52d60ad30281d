"""Small pyqtgraph helpers shared by the views: plots, crosshair, image grids."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QPushButton

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


class LabPlot(pg.PlotWidget):
    """A plot that fits its data until the user moves it, then offers "Reset view".

    The plain mouse wheel is passed on (the form or page around the plot scrolls);
    Ctrl+wheel zooms and dragging pans. Once the user has zoomed or panned,
    ``user_moved`` is True, views stop refitting the range, and a "Reset view"
    button in the corner brings the fitted view back.

    Attributes:
        user_moved: The user changed the range by hand since the last reset.
        on_reset: Called by the reset (default: autorange both axes).

    """

    reset_button: QPushButton | None = None

    def __init__(self, title: str) -> None:
        super().__init__(title=title)
        self.user_moved = False
        self.on_reset: Callable[[], None] = self.getPlotItem().enableAutoRange
        self.reset_button = QPushButton("Reset view", self)
        self.reset_button.setToolTip("Fit the plot to all its data again")
        self.reset_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.reset_button.setStyleSheet("QPushButton { background: #fff8e1; border: 1px solid "
                                        "#c9a227; border-radius: 3px; padding: 1px 6px; }")
        self.reset_button.hide()
        self.reset_button.clicked.connect(self.reset_view)
        self.getPlotItem().vb.sigRangeChangedManually.connect(self._moved_by_user)

    def _moved_by_user(self, *_args) -> None:
        self.user_moved = True
        self.reset_button.show()
        self._place_button()

    def reset_view(self) -> None:
        """Forget the user's zoom or pan and fit the data again."""
        self.user_moved = False
        self.reset_button.hide()
        self.on_reset()

    def wheelEvent(self, ev: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        """Zoom with Ctrl+wheel only; a plain wheel goes to the parent (it scrolls)."""
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev)
        else:
            ev.ignore()

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt override)
        """Keep the reset button in the top-right corner."""
        super().resizeEvent(ev)
        self._place_button()

    def _place_button(self) -> None:
        if self.reset_button is None:  # pyqtgraph resizes during __init__
            return
        self.reset_button.adjustSize()
        self.reset_button.move(self.width() - self.reset_button.width() - 6, 4)
        self.reset_button.raise_()


def make_plot(title: str, left: str, bottom: str = "epoch") -> LabPlot:
    """Return a plot widget with a grid, labels and a legend (see :class:`LabPlot`)."""
    plot = LabPlot(title)
    plot.setBackground("w")
    plot.showGrid(x=True, y=True, alpha=0.3)
    for axis in ("left", "bottom"):  # major grid lines only: half the painting per frame
        plot.getAxis(axis).setStyle(maxTickLevel=0)
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    for axis in ("left", "bottom"):
        plot.getAxis(axis).enableAutoSIPrefix(False)
    plot.addLegend(offset=(-10, 10))
    return plot


def curve(plot: pg.PlotWidget, name: str, color: str, width: float = 2.0,
          symbol: str | None = None, dash: bool = False) -> pg.PlotDataItem:
    """Add an empty curve that skips NaN points (gaps, not a broken plot)."""
    pen = pg.mkPen(color, width=width)
    if dash:
        pen.setStyle(pg.QtCore.Qt.PenStyle.DashLine)
    item = pg.PlotDataItem([], [], pen=pen, name=name, connect="finite", symbol=symbol,
                           symbolSize=6, symbolBrush=color, symbolPen=None)
    plot.addItem(item)
    return item


def legend_in_title(plot: pg.PlotWidget, title: str) -> str:
    """Name the plot's curves in its title, in their colours, instead of a legend box.

    A legend box inside the plot covers the curves it names; the title row never
    does. Returns the title's HTML.
    """
    item = plot.getPlotItem()
    names = []
    for data in item.listDataItems():
        name = data.name()
        if not name:
            continue
        color = data.opts["pen"].color().name() if data.opts.get("pen") is not None else "#333"
        names.append(f"<span style='color:{color}'>&#9632;&nbsp;{name}</span>")
    if item.legend is not None:
        item.legend.hide()
    html = f"<b>{title}</b>&nbsp;&nbsp; " + " &nbsp;".join(names)
    item.setTitle(html, size="9pt", color="#222")
    return html


def set_finite(item: pg.PlotDataItem, x: list[float], y: list[float]) -> None:
    """Set curve data, turning infinities into NaN gaps."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    ys = np.where(np.isfinite(ys), ys, np.nan)
    item.setData(xs, ys, connect="finite")


class Crosshair:
    """A vertical line following the mouse with a read-out of the values there.

    Args:
        plot: The plot to follow.
        readout: Called with the x under the mouse; returns the label text.
        on_text: Receives the text (to show it in a label).

    """

    def __init__(self, plot: pg.PlotWidget, readout: Callable[[float], str],
                 on_text: Callable[[str], None]) -> None:
        self.plot = plot
        self.line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", width=1))
        self.line.setVisible(False)
        plot.addItem(self.line, ignoreBounds=True)
        self._readout = readout
        self._on_text = on_text
        plot.scene().sigMouseMoved.connect(self._moved)

    def _moved(self, pos: QPointF) -> None:
        vb = self.plot.getPlotItem().vb
        if not self.plot.sceneBoundingRect().contains(pos):
            return
        x = vb.mapSceneToView(pos).x()
        self.show_at(x)

    def show_at(self, x: float) -> None:
        """Place the line at ``x`` and report the values there."""
        self.line.setPos(x)
        self.line.setVisible(True)
        try:
            self._on_text(f"x={x:.2f}  " + self._readout(x))
        except Exception:  # noqa: BLE001 - a read-out must never break the plot
            self._on_text("")


def tile_images(images: np.ndarray, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Return images (N, H, W[, C]) in [0, 1] or uint8 as one RGB grid image (float)."""
    imgs = np.asarray(images)
    if imgs.dtype == np.uint8:
        imgs = imgs.astype(np.float32) / 255.0
    imgs = np.clip(np.nan_to_num(imgs.astype(np.float32)), 0.0, 1.0)
    if imgs.ndim == 3:
        imgs = imgs[..., None]
    if imgs.shape[-1] == 1:
        imgs = np.repeat(imgs, 3, axis=-1)
    imgs = imgs[..., :3]
    n, h, w, _ = imgs.shape
    cols = cols or max(1, int(np.ceil(np.sqrt(n))))
    rows = max(1, int(np.ceil(n / cols)))
    out = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = imgs[i]
    return out


def image_view() -> tuple[pg.GraphicsLayoutWidget, pg.ImageItem]:
    """Return a widget showing one image (row 0 at the top, no axes, aspect locked)."""
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground("w")
    vb = widget.addViewBox(lockAspect=True, invertY=True)
    vb.setMouseEnabled(False, False)
    item = pg.ImageItem(axisOrder="row-major")
    vb.addItem(item)
    return widget, item


def show_image(item: pg.ImageItem, image: np.ndarray) -> None:
    """Show an RGB or gray float image in [0, 1] in an ImageItem, fitted to its view."""
    item.setImage(np.asarray(image), levels=(0.0, 1.0), autoLevels=False)
    vb = item.getViewBox()
    if vb is not None:
        vb.autoRange(padding=0.01)
