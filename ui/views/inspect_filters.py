"""Filters panel: a layer's kernels, replayed over the epochs of a run.

The per-epoch snapshots (``run_dir/filters/epoch_NNN.npz``) are read in the
worker; the folder is polled every two seconds while the panel is visible,
so a run that is training adds epochs as they are written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QVBoxLayout, QWidget

from cnnlab.inspect import Session
from cnnlab.ui.views.inspect_widgets import ZoomImage, note_label, row
from cnnlab.ui.views.worker import Worker, call_in_thread

POLL_MS = 2000


def kernel_image(kernel: np.ndarray, kind: str) -> np.ndarray:
    """A raw kernel (as Keras stores it, a ``kind`` layout) as the core's filter grid image."""
    from cnnlab.inspect import as_filters, filter_image

    return filter_image(as_filters(kernel, kind)).image


def _model_kernels(model: Any, kinds: dict[str, str]) -> dict[str, np.ndarray]:
    from cnnlab.inspect import raw_kernel

    return {layer.name: raw_kernel(layer) for layer in model.layers if layer.name in kinds}


def snapshot_signature(run_dir: Path | None) -> tuple[str, ...]:
    """The snapshot files of a run (names), to notice new epochs cheaply."""
    folder = run_dir / "filters" if run_dir is not None else None
    if folder is None or not folder.is_dir():
        return ()
    return tuple(sorted(p.name for p in folder.glob("epoch_*.npz")))


class FiltersPanel(QWidget):
    """Kernels of a convolution layer with an epoch slider over the run's snapshots."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.kinds: dict[str, str] = {}
        self.history: list[tuple[int, dict[str, np.ndarray]]] = []
        self.saved: dict[str, np.ndarray] = {}
        self._signature: tuple[str, ...] = ()
        self.worker = Worker(self)
        self.worker.result.connect(self._loaded)
        self.worker.failed.connect(lambda m: self.note.setText(f"Cannot read the filters: {m}"))
        self.layer_box = QComboBox()
        self.layer_box.currentTextChanged.connect(lambda _t: self.redraw())
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.valueChanged.connect(lambda _v: self.redraw())
        self.epoch_label = QLabel("")
        self.image = ZoomImage()
        self.note = note_label("Load a run or a model file.")
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Layer"), self.layer_box, QLabel("Epoch"), self.slider,
                             self.epoch_label, stretch_last=False))
        layout.addWidget(self.image, 1)
        layout.addWidget(self.note)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)

    def set_session(self, session: Session) -> None:
        """Show a newly loaded model's filters and read its run's history."""
        self.session = session
        self.history, self._signature = [], ()
        self.kinds = session.filter_kinds()
        self.saved = _model_kernels(session.model, self.kinds)
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(list(self.saved))
        self.layer_box.blockSignals(False)
        self._update_slider(at_end=True)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the run's snapshots when new ones appeared (call it any time)."""
        session = self.session
        if session is None or session.run_dir is None:
            return
        signature = snapshot_signature(session.run_dir)
        if signature == self._signature or self.worker.running:
            return
        from cnnlab.train import load_history

        run_dir = session.run_dir
        call_in_thread(self.worker, lambda: (run_dir, signature, load_history(run_dir)))

    def poll(self) -> None:
        """Timer tick: refresh while visible."""
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Start polling for new snapshots while shown."""
        self.timer.start()
        self.refresh()
        super().showEvent(event)

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Stop polling while hidden."""
        self.timer.stop()
        super().hideEvent(event)

    def _loaded(self, value: tuple) -> None:
        run_dir, signature, history = value
        if self.session is None or self.session.run_dir != run_dir:
            return
        at_end = self.slider.value() >= self.slider.maximum()
        self.history, self._signature = history, signature
        self._update_slider(at_end)

    def _update_slider(self, at_end: bool) -> None:
        count = len(self.history)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        if at_end:
            self.slider.setValue(max(0, count - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(count > 1)
        if not count:
            where = "a model file" if self.session and self.session.run_dir is None else "this run"
            self.note.setText(f"No filter snapshots for {where}: showing the saved model's "
                              "filters; the epoch slider is off.")
        else:
            self.note.setText(f"{count} snapshots; drag the slider to replay training.")
        self.redraw()

    def current_epoch(self) -> int | None:
        """The epoch the slider shows, or None for the saved model."""
        if not self.history:
            return None
        return self.history[min(self.slider.value(), len(self.history) - 1)][0]

    def redraw(self) -> None:
        """Show the chosen layer at the chosen epoch."""
        layer = self.layer_box.currentText()
        kernels = dict(self.history[self.slider.value()][1]) if self.history else self.saved
        kernel = kernels.get(layer)
        epoch = self.current_epoch()
        last = self.history[-1][0] if self.history else None
        self.epoch_label.setText("saved model" if epoch is None else f"{epoch} / {last}")
        if kernel is None:
            self.image.set_image(None)
            if layer:
                self.note.setText(f"Epoch {epoch} has no snapshot of layer '{layer}'.")
            return
        self.image.set_image(kernel_image(kernel, self.kinds[layer]))
