"""The data panel: source and options, a labelled sample grid, class counts."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnlab.spec.schema import section_params
from cnnlab.spec.sections import DataSpec, ShapesSpec
from cnnlab.ui.views.param_form import ParamForm
from cnnlab.ui.views.plots import image_view, make_plot, show_image, tile_images
from cnnlab.ui.views.worker import Worker, call_in_thread

GRID = 16


def _load_samples(data: DataSpec) -> tuple[np.ndarray, list[str], list[str], np.ndarray]:
    """Return (images, their labels, class names, counts per class)."""
    if data.source == "shapes":
        from cnnlab.data.shapes import generate_shapes

        s = data.shapes
        x, y = generate_shapes(s.classes, s.samples, s.image_size, s.channels, s.noise, s.seed)
        names = list(s.classes)
        counts = np.bincount(y, minlength=len(names))
        return x[:GRID], [names[i] for i in y[:GRID]], names, counts
    from cnnlab.data import load_data

    splits = load_data(data, None, 0)
    x, y = splits.samples("train", GRID)
    names = list(splits.class_names)
    labels = np.asarray(y).reshape(len(x), -1)
    idx = labels.argmax(-1) if labels.shape[1] > 1 else labels[:, 0].astype(int)
    from cnnlab.data import class_counts

    counts = np.asarray(class_counts(splits, "train"))
    return x, [names[i] for i in idx], names, counts


class DataPanel(QWidget):
    """Edit the experiment's ``data`` section; emits ``changed(new DataSpec)``."""

    changed = Signal(object)

    def __init__(self, data: DataSpec | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data or DataSpec()
        self.form = ParamForm(section_params(DataSpec))
        self.shapes_form = ParamForm(section_params(ShapesSpec))
        self.form.edited.connect(self._edited)
        self.shapes_form.edited.connect(self._edited)
        self.grid, self.grid_item = image_view()
        self.grid.setMinimumSize(300, 300)
        self.labels = QLabel("")
        self.labels.setWordWrap(True)
        self.counts_plot = make_plot("Samples per class", "count", "class")
        self.counts_plot.setMinimumHeight(200)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Data</b>"))
        left.addWidget(self.form)
        left.addWidget(QLabel("<b>Shapes dataset</b>"))
        left.addWidget(self.shapes_form)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.grid, 2)
        right.addWidget(self.labels)
        right.addWidget(self.counts_plot, 1)
        right.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self.worker = Worker(self)
        self.worker.result.connect(self._show_samples)
        self.worker.failed.connect(lambda m: self.message.setText(f"Cannot load samples: {m}"))
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.update_samples)
        self.set_value(self.data)

    def set_value(self, data: DataSpec) -> None:
        """Show this data section (no signal) and reload the samples."""
        self.data = data
        own = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}
        self.form.set_values(own)
        self.shapes_form.set_values(dataclasses.asdict(data.shapes))
        self._debounce.start()

    def _edited(self) -> None:
        try:
            shapes = ShapesSpec(**self.shapes_form.values())
            shapes.check("data.shapes")
            new = dataclasses.replace(self.data, **self.form.values(), shapes=shapes)
            new.check("data")
        except Exception as exc:  # noqa: BLE001
            self.message.setText(str(exc))
            return
        self.message.setText("")
        if new != self.data:
            self.data = new
            self.changed.emit(new)
            self._debounce.start()

    def update_samples(self) -> None:
        """Load a few samples and the class counts in the worker thread."""
        if self.worker.running:
            self._debounce.start()
            return
        data = self.data
        call_in_thread(self.worker, lambda: _load_samples(data))

    def _show_samples(self, result: Any) -> None:
        try:
            images, labels, names, counts = result
            show_image(self.grid_item, tile_images(images, cols=4, pad=2))
            rows = [", ".join(labels[i:i + 4]) for i in range(0, len(labels), 4)]
            self.labels.setText("Labels by row: " + " | ".join(rows))
            self.counts_plot.clear()
            x = np.arange(len(names))
            self.counts_plot.addItem(pg.BarGraphItem(x=x, height=counts, width=0.7,
                                                     brush="#1f77b4"))
            self.counts_plot.getAxis("bottom").setTicks([list(zip(x, names, strict=True))])
            self.bar_heights = list(np.asarray(counts).tolist())
        except Exception as exc:  # noqa: BLE001
            self.message.setText(f"Cannot show samples: {exc}")
