"""The inspect view: a saved run's filters, feature maps and attribution maps.

The model is loaded from the run's saved ``model.keras`` (never a live
training model); every computation runs in the worker thread.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from cnnlab.ui.views.plots import image_view, show_image
from cnnlab.ui.views.worker import Worker, call_in_thread
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

METHODS = ("saliency", "smoothgrad", "guided backprop", "grad-cam")


def _unit(a: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, dtype=np.float32))
    lo, hi = float(a.min()), float(a.max())
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def _load(path: str) -> tuple[Any, np.ndarray]:
    import keras

    from cnnlab.data.shapes import generate_shapes

    model = keras.saving.load_model(path, compile=False)
    _, h, w, c = model.inputs[0].shape
    x, _ = generate_shapes(samples=12, image_size=int(h), channels=int(c), seed=7)
    return model, x


def _compute(model: Any, image: np.ndarray, layer: str) -> dict[str, np.ndarray]:
    import cnnlab.inspect as ins

    out: dict[str, np.ndarray] = {}
    try:
        out["filters"] = ins.filter_grid(model, layer).image
    except Exception:  # noqa: BLE001 - not a convolution: no filters to show
        pass
    act = ins.feature_maps(model, image, [layer])[layer]
    if act.ndim == 3:
        out["maps"] = ins.tile_channels(act)
    x = image.astype(np.float32)
    out["saliency"] = _unit(ins.saliency(model, x))
    out["smoothgrad"] = _unit(ins.smoothgrad(model, x, samples=10))
    out["guided backprop"] = _unit(np.abs(ins.guided_backprop(model, x)).sum(-1))
    cam = ins.gradcam(model, x)
    out["grad-cam"] = ins.overlay(_unit(x), cam)
    return out


class InspectView(QWidget):
    """Pick a run, a layer and a sample; see filters, maps and attributions."""

    def __init__(self, workspace: str | os.PathLike | None = None, parent=None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.model: Any = None
        self.samples: np.ndarray | None = None
        self.worker = Worker(self)
        self.worker.result.connect(self._result)
        self.worker.failed.connect(lambda m: self._show(f"Cannot inspect: {m}"))
        self.run_box = QComboBox()
        self.layer_box = QComboBox()
        self.sample_spin = QSpinBox()
        self.sample_spin.setRange(0, 11)
        load = QPushButton("Load run")
        load.clicked.connect(self.load_run)
        go = QPushButton("Inspect")
        go.clicked.connect(self.inspect)
        bar = QHBoxLayout()
        for label, w in (("Run", self.run_box), ("Layer", self.layer_box),
                         ("Sample", self.sample_spin)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w, 1 if w is not self.sample_spin else 0)
        bar.addWidget(load)
        bar.addWidget(go)
        self.images: dict[str, Any] = {}
        self.tabs = QTabWidget()
        for name in ("filters", "maps"):
            w, item = image_view()
            self.images[name] = item
            self.tabs.addTab(w, {"filters": "Filters", "maps": "Feature maps"}[name])
        attribution = QWidget()
        grid = QGridLayout(attribution)
        for i, name in enumerate(("input", *METHODS)):
            w, item = image_view()
            self.images[name] = item
            grid.addWidget(QLabel(name), 0, i)
            grid.addWidget(w, 1, i)
        self.tabs.addTab(attribution, "Attribution")
        self.message = QLabel("Pick a finished run and press Load run.")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self.refresh_runs()

    def refresh_runs(self) -> None:
        """List runs that saved a model."""
        try:
            from cnnlab.train.store import RunStore

            store = RunStore(self.workspace)
            runs = [r for r in store.list_runs() if r.model_path.exists()]
        except Exception as exc:  # noqa: BLE001
            self._show(f"Cannot read the runs: {exc}")
            return
        self.run_box.clear()
        for r in runs:
            self.run_box.addItem(f"{r.name} ({r.id})", str(r.model_path))

    def load_run(self) -> None:
        """Load the chosen run's saved model in the worker thread."""
        path = self.run_box.currentData()
        if not path:
            self._show("No run with a saved model yet.")
            return
        self._show("Loading the model...")
        call_in_thread(self.worker, lambda: ("loaded", _load(path)))

    def inspect(self) -> None:
        """Compute the views for the chosen layer and sample in the worker thread."""
        if self.model is None or self.samples is None:
            self._show("Load a run first.")
            return
        model, layer = self.model, self.layer_box.currentText()
        image = self.samples[self.sample_spin.value()].astype(np.float32) / 255.0
        self._show("Computing...")
        call_in_thread(self.worker, lambda: ("maps", (image, _compute(model, image, layer))))

    def _result(self, value: Any) -> None:
        kind, payload = value
        try:
            if kind == "loaded":
                self.model, self.samples = payload
                import cnnlab.inspect as ins

                self.layer_box.clear()
                self.layer_box.addItems(ins.inspectable_layer_ids(self.model))
                self._show("Model loaded; pick a layer and press Inspect.")
            else:
                image, maps = payload
                show_image(self.images["input"], image)
                for name, arr in maps.items():
                    show_image(self.images[name], arr)
                self._show("")
        except Exception as exc:  # noqa: BLE001
            self._show(f"Cannot show the result: {exc}")

    def _show(self, text: str) -> None:
        self.message.setText(text)
