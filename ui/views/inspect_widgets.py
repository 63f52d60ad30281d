"""Small widgets shared by the inspection panels: zoomable images, thumbnails, labels.

Images arrive scaled for display by the core (:mod:`cnnlab.inspect.scaling`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QWidget

from cnnlab.inspect import display_image


class ZoomImage(pg.GraphicsLayoutWidget):
    """One image in a view box: wheel to zoom, drag to pan, right-click to reset.

    Args:
        title: Text above the image (empty for none).
        zoom: Allow mouse zoom and pan.

    """

    def __init__(self, title: str = "", zoom: bool = True) -> None:
        super().__init__()
        self.setBackground("w")
        self.title = self.addLabel(title, color="#222", row=0, col=0) if title else None
        self.box = self.addViewBox(row=1, col=0, lockAspect=True, invertY=True)
        self.box.setMouseEnabled(zoom, zoom)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.box.addItem(self.item)
        self.shown: np.ndarray | None = None
        self.setMinimumSize(120, 120)

    def set_title(self, text: str) -> None:
        """Change the text above the image (also its tooltip, should it be cut off)."""
        if self.title is not None:
            self.title.setText(text, color="#222")
            self.setToolTip(text)

    def set_image(self, image: np.ndarray | None) -> None:
        """Show a 0..1 gray or RGB image and fit it; None clears it."""
        if image is None:
            self.item.clear()
            self.shown = None
            return
        self.shown = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
        self.item.setImage(self.shown, levels=(0.0, 1.0), autoLevels=False)
        self.box.autoRange(padding=0.01)


def to_qimage(image: np.ndarray) -> QImage:
    """Return a 0..1 gray or RGB float image as an RGB QImage (a copy)."""
    img = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    data = np.ascontiguousarray((img[..., :3] * 255).round().astype(np.uint8))
    h, w, _ = data.shape
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def to_icon(image: np.ndarray, size: int) -> QIcon:
    """Return an image scaled (pixelated) to ``size`` pixels as an icon."""
    pix = QPixmap.fromImage(to_qimage(image)).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)
    return QIcon(pix)


class Thumbnails(QListWidget):
    """A strip or grid of clickable image thumbnails with captions.

    Signals:
        picked(int): The data index of the clicked thumbnail.

    """

    picked = Signal(int)

    def __init__(self, size: int = 56, strip: bool = False) -> None:
        super().__init__()
        self.size = size
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(size, size))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setSpacing(4)
        if strip:
            self.setFlow(QListWidget.Flow.LeftToRight)
            self.setWrapping(False)
            self.setFixedHeight(size + 38)
        self.itemClicked.connect(self._clicked)

    def _clicked(self, item: QListWidgetItem) -> None:
        self.picked.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def set_images(self, images: list[np.ndarray], captions: list[str],
                   indices: list[int] | None = None) -> None:
        """Replace the thumbnails; ``indices`` are what ``picked`` reports."""
        self.clear()
        indices = list(range(len(images))) if indices is None else indices
        for image, caption, index in zip(images, captions, indices, strict=True):
            item = QListWidgetItem(to_icon(display_image(image), self.size), caption)
            item.setData(Qt.ItemDataRole.UserRole, int(index))
            item.setToolTip(caption)
            self.addItem(item)

    def captions(self) -> list[str]:
        """The captions shown, in order."""
        return [self.item(i).text() for i in range(self.count())]


def note_label(text: str = "") -> QLabel:
    """Return a word-wrapped label for notes and errors."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def row(*widgets: QWidget, stretch_last: bool = True) -> QHBoxLayout:
    """Return a horizontal layout with the widgets (and a trailing stretch)."""
    layout = QHBoxLayout()
    for w in widgets:
        layout.addWidget(w)
    if stretch_last:
        layout.addStretch(1)
    return layout
