"""Attribution panel: saliency, SmoothGrad, guided backprop and Grad-CAM side by side.

With "sanity check" on, the same maps are computed for a copy of the model
with randomised weights (Adebayo et al. 2018) and shown beneath, with their
rank correlation and SSIM to the trained model's maps: a map that explains the
model should change, so low similarity is the healthy answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from cnnlab.ui.views.inspect_source import Session
from cnnlab.ui.views.inspect_widgets import ZoomImage, display, note_label, row, unit
from cnnlab.ui.views.worker import Worker, call_in_thread

METHODS = ("saliency", "smoothgrad", "guided backprop", "grad-cam")


@dataclass
class Attribution:
    """Raw maps (``(H, W)``) for the trained model and, optionally, the randomised copy."""

    class_index: int
    maps: dict[str, np.ndarray]
    random_maps: dict[str, np.ndarray] = field(default_factory=dict)
    similarity: dict[str, tuple[float, float]] = field(default_factory=dict)


def raw_maps(model: Any, image: np.ndarray, class_index: int) -> dict[str, np.ndarray]:
    """Return the four ``(H, W)`` attribution maps for one image and class."""
    # Submodules share names with their functions: import the functions directly.
    from cnnlab.inspect.attribution import saliency, smoothgrad
    from cnnlab.inspect.cam import gradcam
    from cnnlab.inspect.guided import guided_backprop

    guided = guided_backprop(model, image, class_index)
    return {
        "saliency": saliency(model, image, class_index),
        "smoothgrad": smoothgrad(model, image, class_index, samples=16),
        "guided backprop": np.abs(guided).max(axis=-1),
        "grad-cam": gradcam(model, image, class_index=class_index),
    }


def compute_attribution(model: Any, image: np.ndarray, sanity: bool) -> Attribution:
    """Compute the maps (and the sanity check's) for the class the model predicts."""
    from cnnlab.inspect.sanity import randomized_copy
    from cnnlab.inspect.score import predicted_class
    from cnnlab.inspect.similarity import spearman, ssim

    cls = predicted_class(model, image)
    result = Attribution(cls, raw_maps(model, image, cls))
    if sanity:
        copy = randomized_copy(model, seed=0)
        result.random_maps = raw_maps(copy, image, cls)
        for name, original in result.maps.items():
            other = result.random_maps[name]
            result.similarity[name] = (spearman(original, other), ssim(original, other))
    return result


def shown(name: str, raw: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Return a map ready to show: Grad-CAM over the image, the others as grey maps."""
    if name == "grad-cam":
        from cnnlab.inspect.colormap import overlay

        return overlay(image, raw)
    return unit(raw)


class AttributionPanel(QWidget):
    """The four maps over the chosen input, with an optional sanity-check row."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.image: np.ndarray | None = None
        self.result: Attribution | None = None
        self.retry = QTimer(self)  # owned: it dies with the panel
        self.retry.setSingleShot(True)
        self.retry.setInterval(100)
        self.retry.timeout.connect(self.compute)
        self.worker = Worker(self)
        self.worker.result.connect(self._shown)
        self.worker.failed.connect(lambda m: self.note.setText(f"Cannot compute the maps: {m}"))
        self.sanity = QCheckBox("Sanity check (randomised weights)")
        self.sanity.toggled.connect(lambda _on: self.compute())
        self.views: dict[str, ZoomImage] = {}
        self.random_views: dict[str, ZoomImage] = {}
        grid = QGridLayout()
        self.views["input"] = ZoomImage("input")
        grid.addWidget(self.views["input"], 0, 0)
        self.random_caption = QLabel("randomised\nweights")
        grid.addWidget(self.random_caption, 1, 0)
        for i, name in enumerate(METHODS, start=1):
            self.views[name] = ZoomImage(name)
            self.random_views[name] = ZoomImage(f"{name} (random)")
            grid.addWidget(self.views[name], 0, i)
            grid.addWidget(self.random_views[name], 1, i)
        self.note = note_label("Load a model and pick an input.")
        layout = QVBoxLayout(self)
        layout.addLayout(row(self.sanity))
        layout.addLayout(grid, 1)
        layout.addWidget(self.note)
        self._show_random(False)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model."""
        self.session, self.result = session, None

    def set_input(self, image: np.ndarray) -> None:
        """Use a new input image and recompute."""
        self.image = image
        self.views["input"].set_image(display(image))
        self.compute()

    def compute(self) -> None:
        """Compute the maps in the worker (queued while one runs)."""
        if self.session is None or self.image is None:
            return
        if self.worker.running:
            self.retry.start()  # try again when the running job has ended
            return
        model, image, sanity = self.session.model, self.image, self.sanity.isChecked()
        self.note.setText("Computing the attribution maps" +
                          (" and the randomised copy's..." if sanity else "..."))
        call_in_thread(self.worker, lambda: (image, compute_attribution(model, image, sanity)))

    def _show_random(self, on: bool) -> None:
        self.random_caption.setVisible(on)
        for view in self.random_views.values():
            view.setVisible(on)

    def _shown(self, value: tuple) -> None:
        image, result = value
        self.result = result
        names = self.session.class_names if self.session else []
        cls = names[result.class_index] if result.class_index < len(names) else result.class_index
        for name, raw in result.maps.items():
            self.views[name].set_image(shown(name, raw, image))
        for name, raw in result.random_maps.items():
            rho, ssim = result.similarity[name]
            self.random_views[name].set_image(shown(name, raw, image))
            self.random_views[name].set_title(f"random: rank corr {rho:.2f}, SSIM {ssim:.2f}")
        self._show_random(bool(result.random_maps))
        text = f"Explaining the predicted class '{cls}'."
        if result.random_maps:
            text += (" Below: the same maps for randomised weights; a method that explains "
                     "the model gives low similarity.")
        self.note.setText(text)
