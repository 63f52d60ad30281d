"""Where the inspected model comes from: the run picker, the model-file button, image files.

The session itself (the saved model, its run folder, samples and class names)
is the core's :class:`cnnlab.inspect.Session`, the same one ``cnnlab inspect``
uses; this module only adds the widgets and reads image files through Qt.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

MODEL_FILTER = "Keras models (*.keras *.h5)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif)"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as ``(H, W, 3)`` uint8.

    Raises:
        ValueError: When the file is not an image Qt can read.

    """
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"{Path(path).name} is not an image that can be read")
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=h * stride)
    return raw.reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


class SourceBar(QWidget):
    """Run picker, Load run and Open model file buttons.

    Signals:
        run_requested(str): The id of the run to load.
        file_requested(str): A model file the user chose.

    """

    run_requested = Signal(str)
    file_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.run_box = QComboBox()
        self.run_box.setMinimumWidth(220)
        load = QPushButton("Load run")
        load.clicked.connect(self._load)
        open_file = QPushButton("Open model file...")
        open_file.clicked.connect(self._open)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Run"))
        layout.addWidget(self.run_box, 1)
        layout.addWidget(load)
        layout.addWidget(open_file)

    def set_runs(self, runs: list[tuple[str, str]]) -> None:
        """List ``(run id, label)`` pairs, keeping the current choice when it remains."""
        current = self.run_box.currentData()
        self.run_box.clear()
        for run_id, label in runs:
            self.run_box.addItem(label, run_id)
        index = self.run_box.findData(current)
        if index >= 0:
            self.run_box.setCurrentIndex(index)

    def _load(self) -> None:
        run_id = self.run_box.currentData()
        if run_id:
            self.run_requested.emit(str(run_id))

    def _open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a model", "", MODEL_FILTER)
        if path:
            self.file_requested.emit(path)

