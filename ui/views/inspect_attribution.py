"""Attribution panel: saliency, SmoothGrad, guided backprop and Grad-CAM side by side.

The maps explain a class the user picks by name (default: the predicted one).
With "sanity check" on, the same maps are computed for a copy of the model
with randomised weights (Adebayo et al. 2018) and shown beneath, with their
rank correlation and SSIM to the trained model's maps: a map that explains the
model should change, so low similarity is the healthy answer. The computing is
the core's (:func:`cnnlab.inspect.explain`); this panel only shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from cnnlab.inspect import Session, to_unit
from cnnlab.ui.views.inspect_widgets import ZoomImage, note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread

if TYPE_CHECKING:  # the module imports TensorFlow: only in the worker
    from cnnlab.inspect import Explanation

# core method -> caption
METHODS = {"saliency": "saliency", "smoothgrad": "SmoothGrad", "guided": "guided backprop",
           "gradcam": "Grad-CAM"}
OPTIONS = {"smoothgrad": {"samples": 16}}  # fewer noisy copies than a figure: it is live
PREDICTED = "predicted class"
SIMILARITY_HELP = ("Rank correlation (Spearman) and SSIM between the map of the trained "
                   "model and the map of the randomised copy; near 0 is healthy.")


def shown(name: str, raw: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Return a map ready to show: Grad-CAM over the image, the others as grey maps."""
    if name == "gradcam":
        from cnnlab.inspect import overlay

        return overlay(image, raw)
    return to_unit(raw)


def _explain(model, image: np.ndarray, cls: int | None, names: list[str],
             sanity: bool) -> Explanation:
    from cnnlab.inspect import explain  # in the worker: it imports TensorFlow's methods

    return explain(model, image, cls, names, sanity=sanity, options=OPTIONS)


def similarity_caption(rho: float, ssim: float) -> str:
    """The caption under a randomised map."""
    return f"vs trained: rank corr {rho:.2f}, SSIM {ssim:.2f}"


class AttributionPanel(QWidget):
    """The four maps over the chosen input, with an optional sanity-check row."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.image: np.ndarray | None = None
        self.result: Explanation | None = None
        self.retry = QTimer(self)  # owned: it dies with the panel
        self.retry.setSingleShot(True)
        self.retry.setInterval(100)
        self.retry.timeout.connect(self.compute)
        self.worker = Worker(self)
        self.worker.result.connect(self._shown)
        self.worker.failed.connect(lambda m: self.note.setText(f"Cannot compute the maps: {m}"))
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class the maps explain")
        self.class_box.addItem(PREDICTED, None)
        self.class_box.currentIndexChanged.connect(lambda _i: self.compute())
        self.sanity = QCheckBox("Sanity check (randomised weights)")
        self.sanity.toggled.connect(lambda _on: self.compute())
        self.views: dict[str, ZoomImage] = {}
        self.random_views: dict[str, ZoomImage] = {}
        self.captions: dict[str, QLabel] = {}
        self.note = note_label("Load a model and pick an input.")
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Explain"), self.class_box, self.sanity))
        layout.addLayout(self._grid(), 1)
        layout.addWidget(self.note)
        self._show_random(False)

    def _grid(self) -> QGridLayout:
        grid = QGridLayout()
        self.views["input"] = ZoomImage("input")
        grid.addWidget(self.views["input"], 0, 0)
        self.random_caption = note_label("randomised weights")
        grid.addWidget(self.random_caption, 1, 0)
        for i, (name, caption) in enumerate(METHODS.items(), start=1):
            self.views[name] = ZoomImage(caption)
            self.random_views[name] = ZoomImage(f"{caption} (random)")
            self.captions[name] = note_label("")
            self.captions[name].setToolTip(SIMILARITY_HELP)
            grid.addWidget(self.views[name], 0, i)
            grid.addWidget(self.random_views[name], 1, i)
            grid.addWidget(self.captions[name], 2, i)
            grid.setColumnStretch(i, 1)
        grid.setColumnStretch(0, 1)  # five equal columns: every title has room
        grid.setRowStretch(0, 1)
        grid.setRowStretch(1, 1)
        return grid

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model; the class list holds its class names."""
        self.session, self.result = session, None
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem(PREDICTED, None)
        for index, name in enumerate(session.class_names):
            self.class_box.addItem(name, index)
        self.class_box.blockSignals(False)

    def set_input(self, image: np.ndarray) -> None:
        """Use a new input image and recompute."""
        from cnnlab.inspect import display_image

        self.image = image
        self.views["input"].set_image(display_image(image))
        self.compute()

    def chosen_class(self) -> int | None:
        """The class index picked by name, or None for the predicted class."""
        data = self.class_box.currentData()
        return None if data is None else int(data)

    def choose_class(self, name: str) -> bool:
        """Explain the class called ``name`` (or ``predicted class``); False if unknown."""
        index = self.class_box.findText(name)
        if index < 0:
            return False
        self.class_box.setCurrentIndex(index)
        return True

    def compute(self) -> None:
        """Compute the maps in the worker (queued while one runs)."""
        if self.session is None or self.image is None:
            return
        if self.worker.running:
            self.retry.start()  # try again when the running job has ended
            return
        model, image, sanity = self.session.model, self.image, self.sanity.isChecked()
        names, cls = list(self.session.class_names), self.chosen_class()
        self.note.setText("Computing the attribution maps" +
                          (" and the randomised copy's..." if sanity else "..."))
        call_in_thread(self.worker, lambda: (image, _explain(model, image, cls, names, sanity)))

    def _show_random(self, on: bool) -> None:
        self.random_caption.setVisible(on)
        for view in (*self.random_views.values(), *self.captions.values()):
            view.setVisible(on)

    def _shown(self, value: tuple) -> None:
        image, result = value
        self.result = result
        for name, raw in result.maps.items():
            self.views[name].set_image(shown(name, raw, image))
        for name, check in result.checks.items():
            self.random_views[name].set_image(shown(name, check.randomized, image))
            self.captions[name].setText(similarity_caption(check.spearman, check.ssim))
        self._show_random(bool(result.checks))
        text = f"Explaining {result.target.describe()}."
        if result.checks:
            text += (" Below: the same maps for randomised weights; a method that explains "
                     "the model gives low similarity.")
        self.note.setText(text)
