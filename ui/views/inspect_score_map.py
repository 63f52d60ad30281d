"""Score-map panel: the model made fully convolutional, slid over an image larger than its input.

The lectures' FC-to-convolution conversion (:mod:`cnnlab.modelio.fully_conv`)
turns the loaded model's Flatten+Dense head into convolutions with the same
weights; on a larger image the copy gives one class score per window of the
original input size. The panel shows one class's scores as a heat map over
the image (a mosaic of the run's samples, or an image file), each cell drawn
centred on the window it scores. Conversion and scoring run in the worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from cnnlab.inspect import Session, display_image, jet
from cnnlab.ui.views.inspect_widgets import note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread

MOSAICS = (2, 3, 4)
OPACITY = 0.55
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif)"


def fitted_image(fc: Any, image: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """A user's image at a size the copy can score (its own, within bounds), in model range."""
    from cnnlab.inspect import fit_image
    from cnnlab.modelio import scene_size

    h, w = scene_size(fc, image.shape[0], image.shape[1])
    return fit_image(image, (h, w, fc.input_shape[2]), value_range)


def _probabilities(values: np.ndarray) -> bool:
    return float(np.min(values)) >= 0.0 and float(np.max(values)) <= 1.0


def _scale(values: np.ndarray) -> str:
    if _probabilities(values):
        return "blue 0, red 1"
    return "blue the lowest score, red the highest"


def heat(values: np.ndarray, absolute: bool = True) -> np.ndarray:
    """RGB heat map: probabilities as they are (0 blue, 1 red), other scores min-max scaled.

    Args:
        values: One class's scores.
        absolute: The scores are probabilities (all classes' scores lie in 0..1).
    """
    values = np.asarray(values, dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    if not absolute:
        values = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return jet(values)


class ScoreMapPanel(QWidget):
    """Pick a class and a larger image; see where the converted model finds that class."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.fc: Any = None
        self.scene: np.ndarray | None = None
        self.scores: np.ndarray | None = None
        self.label = ""
        self._waiting = False  # a session arrived while hidden: score it when shown
        self._next: Callable[[], None] | None = None  # the request that waits for the worker
        self._generation = 0
        self.worker = Worker(self)
        self.worker.result.connect(self._scored)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(self._start_next)
        self.class_box = QComboBox()
        self.class_box.setMinimumWidth(140)
        self.class_box.currentIndexChanged.connect(lambda _i: self._draw())
        self.mosaic_box = QComboBox()
        for n in MOSAICS:
            self.mosaic_box.addItem(f"{n}x{n} samples", n)
        self.mosaic_box.activated.connect(lambda _i: self.use_mosaic())
        self.open_button = QPushButton("Open image...")
        self.open_button.clicked.connect(lambda _c=False: self._ask_image())
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setBackground("w")
        self.box = self.plot.addViewBox(lockAspect=True, invertY=True)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.map_item = pg.ImageItem(axisOrder="row-major")
        self.map_item.setOpacity(OPACITY)
        self.box.addItem(self.image_item)
        self.box.addItem(self.map_item)
        self.note = note_label("Load a run whose model ends in Flatten and Dense layers: its "
                               "fully convolutional copy scores every window of a larger image.")
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Class"), self.class_box, QLabel("Image"), self.mosaic_box,
                             self.open_button))
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model: convert it and score a mosaic of its samples.

        The copy is made when the panel is first shown (a model that is never
        looked at this way is never copied).
        """
        self.session, self.fc, self.scores = session, None, None
        self._generation += 1
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItems(list(session.class_names))
        self.class_box.blockSignals(False)
        self.image_item.clear()
        self.map_item.clear()
        self._waiting = not self.isVisible()
        if not self._waiting:
            self.use_mosaic()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Convert and score a newly loaded model the first time the panel is seen."""
        super().showEvent(event)
        if self._waiting:
            self._waiting = False
            self.use_mosaic()

    def use_mosaic(self, per_side: int | None = None) -> bool:
        """Score a ``per_side`` x ``per_side`` mosaic of the session's samples (the chosen one)."""
        if per_side is not None:
            self.mosaic_box.setCurrentIndex(max(0, self.mosaic_box.findData(per_side)))
        per_side = int(self.mosaic_box.currentData())
        if self.session is None:
            return False
        from cnnlab import CnnlabError
        from cnnlab.modelio import mosaic

        try:
            scene = mosaic(self.session.samples, per_side)
        except CnnlabError as exc:
            self.note.setText(f"No mosaic: {exc}.")
            return False
        return self.set_scene(scene, f"a {per_side}x{per_side} mosaic of samples")

    def open_image(self, path: str | os.PathLike) -> bool:
        """Score an image file at its own size (enlarged or shrunk only to fit the bounds)."""
        from cnnlab.ui.views.inspect_source import read_image

        if self.session is None:
            self.note.setText("Load a model before choosing an image.")
            return False
        try:
            image = read_image(path)
        except ValueError as exc:
            self.note.setText(f"Cannot use {Path(path).name}: {exc}")
            return False
        session, name = self.session, Path(path).name
        return self._request(lambda: self._score(session, None, image, name))

    def set_scene(self, scene: np.ndarray, label: str = "the image") -> bool:
        """Score ``scene`` (already in the model's value range, at least the input size)."""
        if self.session is None:
            return False
        session = self.session
        return self._request(lambda: self._score(session, np.asarray(scene, np.float32),
                                                 None, label))

    def _request(self, start: Callable[[], None]) -> bool:
        if self.worker.running:
            self._next = start  # the latest request runs when the worker is free
        else:
            start()
        return True

    def _start_next(self) -> None:
        start, self._next = self._next, None
        if start is not None:
            start()

    def _score(self, session: Session, scene: np.ndarray | None, raw: np.ndarray | None,
               label: str) -> None:
        generation, fc = self._generation, self.fc
        self.note.setText(f"Scoring {label}...")

        def job() -> tuple:
            from cnnlab.modelio import fully_convolutional, score_maps

            made = fc if fc is not None else fully_convolutional(session.model)
            image = scene if scene is not None else fitted_image(made, raw, session.value_range)
            return generation, made, image, score_maps(made, image), label

        call_in_thread(self.worker, job)

    def _scored(self, value: tuple) -> None:
        generation, fc, scene, scores, label = value
        if generation != self._generation:
            return  # a result for a model that is no longer loaded
        self.fc, self.scene, self.scores, self.label = fc, scene, scores, label
        self.image_item.setImage(display_image(scene), levels=(0.0, 1.0), autoLevels=False)
        self.box.autoRange(padding=0.01)
        self._draw()

    def _failed(self, text: str) -> None:
        self.note.setText(f"No score map: {text}")

    def _draw(self) -> None:
        if self.scores is None or self.fc is None or self.scene is None:
            return
        from cnnlab.modelio import map_rect

        k = max(0, self.class_box.currentIndex())
        values = self.scores[..., min(k, self.scores.shape[-1] - 1)]
        rows, cols = values.shape
        colours = heat(values, _probabilities(self.scores))
        self.map_item.setImage(colours, levels=(0.0, 1.0), autoLevels=False)
        self.map_item.setRect(QRectF(*map_rect(self.fc, rows, cols)))
        self.note.setText(self._describe(values, k))

    def _describe(self, values: np.ndarray, k: int) -> str:
        (h0, w0, _c), (sh, sw) = self.fc.input_shape, self.fc.stride
        apart = f"{sh}" if sh == sw else f"{sh}x{sw}"
        i, j = np.unravel_index(int(np.argmax(values)), values.shape)
        name = self.class_box.itemText(k) or str(k)
        h, w = self.scene.shape[:2]
        return (f"'{name}' over {self.label} ({h}x{w}): a {values.shape[0]}x{values.shape[1]} "
                f"map, each cell the score of a {h0}x{w0} window, {apart} pixels apart; highest "
                f"{values.max():.3g} at row {i}, column {j} ({_scale(self.scores)}). The head "
                "became convolutions: "
                + "; ".join(r.describe() for r in self.fc.rewrites) + ".")

    def _ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a larger image", "", IMAGE_FILTER)
        if path:
            self.open_image(path)
