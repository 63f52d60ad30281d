"""Feature-map panel: one tile per channel of a layer's output for the chosen input."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from cnnlab.inspect import Session, display_image
from cnnlab.ui.views.inspect_widgets import ZoomImage, note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread


def compute_maps(model: Any, image: np.ndarray, layer: str) -> tuple[np.ndarray, int, tuple]:
    """Return (tiled image, tile count, activation shape) of one layer for one input."""
    # cnnlab.inspect.activations is also a submodule: import the function itself.
    from cnnlab.inspect import feature_maps, tile_channels

    act = feature_maps(model, image, [layer])[layer]
    tiles = act.shape[-1] if act.ndim == 3 else 1
    return tile_channels(act), int(tiles), tuple(act.shape)


class FeaturesPanel(QWidget):
    """Pick a layer (or have the canvas pick it); see its activations, zoomable."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.image: np.ndarray | None = None
        self.tile_count = 0
        self.retry = QTimer(self)  # owned: it dies with the panel
        self.retry.setSingleShot(True)
        self.retry.setInterval(50)
        self.retry.timeout.connect(self.compute)
        self.worker = Worker(self)
        self.worker.result.connect(self._shown)
        self.worker.failed.connect(lambda m: self.note.setText(f"Cannot compute the maps: {m}"))
        self.layer_box = QComboBox()
        self.layer_box.setMinimumWidth(160)
        self.layer_box.currentTextChanged.connect(lambda _t: self.compute())
        self.input_view = ZoomImage("input", zoom=False)
        self.input_view.setFixedWidth(180)
        self.maps = ZoomImage("feature maps")
        self.note = note_label("Load a model, then pick an input and a layer.")
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Layer"), self.layer_box))
        body = row(self.input_view, self.maps, stretch_last=False)
        body.setStretch(1, 1)
        layout.addLayout(body, 1)
        layout.addWidget(self.note)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model."""
        self.session = session
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(session.layer_ids())
        self.layer_box.blockSignals(False)

    def set_input(self, image: np.ndarray) -> None:
        """Use a new input image (shaped for the model) and recompute."""
        self.image = image
        self.input_view.set_image(display_image(image))
        self.compute()

    def select_layer(self, block_id: str) -> bool:
        """Show the maps of ``block_id`` (e.g. a block clicked on the canvas).

        Returns:
            False when the loaded model has no such layer.

        """
        index = self.layer_box.findText(block_id)
        if index < 0:
            self.note.setText(f"The loaded model has no layer '{block_id}' with maps to show.")
            return False
        if index == self.layer_box.currentIndex():
            self.compute()
        self.layer_box.setCurrentIndex(index)
        return True

    def compute(self) -> None:
        """Compute the chosen layer's maps in the worker (queued while one runs)."""
        if self.session is None or self.image is None or not self.layer_box.currentText():
            return
        if self.worker.running:
            self.retry.start()  # try again when the running job has ended
            return
        model, image, layer = self.session.model, self.image, self.layer_box.currentText()
        self.note.setText(f"Computing the maps of {layer}...")
        call_in_thread(self.worker, lambda: (layer, *compute_maps(model, image, layer)))

    def _shown(self, value: tuple) -> None:
        layer, tiled, count, shape = value
        self.tile_count = count
        self.maps.set_image(tiled)
        self.maps.set_title(f"{layer}: {count} channel{'s' if count != 1 else ''}")
        self.note.setText(f"{layer} output {shape}; wheel to zoom, drag to pan, "
                          "right-click for the whole grid.")
