"""Deep dream panel: amplify what layers see in an image, watched live, saved as a figure.

The dream runs in the worker; the core sends a preview of the whole image
(``DreamFrame``) a few times a second and at the end of every octave, and the
worker's control token is the stop token, checked before every step. Save PNG
writes the same labelled figure as ``cnnlab inspect --method deep-dream``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnlab.inspect import DREAM_DEFAULTS, LIMITS, Session, display_image
from cnnlab.ui.views.inspect_widgets import ZoomImage, note_label, row
from cnnlab.ui.views.worker import Worker, error_text

PREVIEW_SECONDS = 0.1


@dataclass(frozen=True)
class DreamSettings:
    """What to dream: the layers and the octaves, steps per octave and step size."""

    layers: tuple[str, ...]
    octaves: int
    steps: int
    step_size: float

    @property
    def total(self) -> int:
        """Steps over all octaves."""
        return self.octaves * self.steps


def dream(model: Any, image: np.ndarray, settings: DreamSettings,
          value_range: tuple[float, float], sink: Any, stop: Any) -> Any:
    """Run the core's deep dream with live previews to ``sink``; return its result."""
    from cnnlab.inspect import deep_dream

    return deep_dream(model, image, list(settings.layers), octaves=settings.octaves,
                      steps=settings.steps, step_size=settings.step_size,
                      input_range=value_range, stop=stop, preview=sink,
                      preview_interval=PREVIEW_SECONDS)


def _spin(name: str, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(*LIMITS[name])
    spin.setValue(value)
    return spin


class DreamPanel(QWidget):
    """Pick a layer and the input (a sample or a file), octaves, steps and step size; Run."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.input: np.ndarray | None = None
        self.input_label = ""
        self.frames = 0
        self.last: Any = None
        self.result: Any = None
        self.ran: DreamSettings | None = None
        self.generation = 0  # a new model makes a dream still running on the old one stale
        self.worker = Worker(self)
        self.worker.event.connect(self._frame)
        self.worker.result.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose activations the dream amplifies")
        self.octaves_spin = _spin("octaves", DREAM_DEFAULTS["octaves"])
        self.steps_spin = _spin("steps", DREAM_DEFAULTS["steps"])
        self.step_spin = QDoubleSpinBox()
        self.step_spin.setDecimals(4)
        self.step_spin.setRange(*LIMITS["step_size"])
        self.step_spin.setSingleStep(0.005)
        self.step_spin.setValue(DREAM_DEFAULTS["step_size"])
        self.run_button = self._button("Run", self.run)
        self.stop_button = self._button("Stop", self.stop, enabled=False)
        self.save_button = self._button("Save PNG...", self._save_dialog, enabled=False)
        self.progress = QProgressBar()
        self.input_view = ZoomImage("input")
        self.dream_view = ZoomImage("deep dream")
        self.note = note_label("Load a model, pick an input above, a layer and press Run.")
        self._lay_out()

    def _button(self, text: str, slot: Any, enabled: bool = True) -> QPushButton:
        button = QPushButton(text)
        button.clicked.connect(slot)
        button.setEnabled(enabled)
        return button

    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Layer"), self.layer_box, QLabel("Octaves"),
                             self.octaves_spin, QLabel("Steps per octave"), self.steps_spin,
                             QLabel("Step size"), self.step_spin, self.run_button,
                             self.stop_button, self.save_button))
        layout.addWidget(self.progress)
        images = QHBoxLayout()
        images.addWidget(self.input_view, 1)
        images.addWidget(self.dream_view, 1)
        layout.addLayout(images, 1)
        layout.addWidget(self.note)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model (the input comes with :meth:`set_input`)."""
        self.stop()
        self.generation += 1
        self.session, self.result, self.last, self.input = session, None, None, None
        self.layer_box.clear()
        self.layer_box.addItems(session.layer_ids())
        conv = session.conv_ids()
        if conv:
            self.layer_box.setCurrentText(conv[-1])
        self.input_view.set_image(None)
        self.dream_view.set_image(None)
        self.save_button.setEnabled(False)

    def set_input(self, image: np.ndarray, label: str = "") -> None:
        """Dream on this image (shaped for the model) next time."""
        self.input = np.asarray(image, dtype=np.float32)
        self.input_label = label or "the chosen image"
        self.input_view.set_image(display_image(self.input))
        self.input_view.set_title(f"input: {self.input_label}")

    def settings(self) -> DreamSettings:
        """The settings the controls describe."""
        return DreamSettings((self.layer_box.currentText(),), self.octaves_spin.value(),
                             self.steps_spin.value(), float(self.step_spin.value()))

    def run(self) -> bool:
        """Start the dream in the worker; False when nothing to dream on or one runs."""
        if self.session is None or self.input is None or self.worker.running:
            return False
        model, image, value_range = self.session.model, self.input, self.session.value_range
        settings = self.settings()
        self.frames, self.last, self.result, self.ran = 0, None, None, settings
        self.progress.setRange(0, settings.total)
        self.progress.setValue(0)
        generation = self.generation

        def job(sink: Any, control: Any) -> tuple[int, Any]:
            return generation, dream(model, image, settings, value_range,
                                     lambda frame: sink((generation, frame)), control)

        started = self.worker.start(job)
        self.run_button.setEnabled(not started)
        self.stop_button.setEnabled(started)
        self.save_button.setEnabled(False)
        self.note.setText(f"Dreaming on {settings.layers[0]}: {settings.octaves} octaves x "
                          f"{settings.steps} steps...")
        return started

    def stop(self) -> None:
        """Ask a running dream to stop before its next step."""
        if self.worker.running:
            self.worker.stop()
            self.note.setText("Stopping...")

    def _frame(self, event: tuple[int, Any]) -> None:
        from cnnlab.inspect import DreamFrame

        generation, frame = event
        if generation != self.generation or not isinstance(frame, DreamFrame):
            return
        self.frames += 1
        self.last = frame
        self.dream_view.set_image(display_image(frame.image))
        self.progress.setValue(frame.step)
        self.dream_view.set_title(f"octave {frame.octave + 1}, step {frame.step} / "
                                  f"{frame.total}: objective {frame.value:.3g}")

    def _done(self, outcome: tuple[int, Any]) -> None:
        self._idle()
        generation, result = outcome
        if generation != self.generation:
            self.note.setText("The dream on the previous model was dropped.")
            return
        self.result = result
        self.dream_view.set_image(display_image(result.image))
        done = len(result.values)
        self.progress.setValue(done)
        self.save_button.setEnabled(True)
        self.note.setText(f"{'Stopped' if result.stopped else 'Done'} after {done} steps: "
                          f"objective {result.start_value:.3g} -> {result.final_value:.3g}.")

    def _failed(self, message: str) -> None:
        self._idle()
        self.note.setText(f"Cannot dream: {message}")

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def save_png(self, path: str | Path) -> bool:
        """Write the labelled figure of the last dream (input, dream, change) as a PNG.

        The file dialog has already asked before replacing a file; a name
        without ``.png`` gets it.
        """
        if self.result is None or self.ran is None or self.input is None:
            return False
        from cnnlab import check_output
        from cnnlab.inspect import dream_figure, save_png

        path = Path(path) if Path(path).suffix.lower() == ".png" else Path(f"{path}.png")
        ran, result = self.ran, self.result
        where = f"{self.session.title if self.session else ''}; input: {self.input_label}"
        try:
            check_output(path, force=True, suffixes=(".png",), what="the picture")
            figure = dream_figure(self.input, result.image, ran.layers,
                                  (ran.octaves, ran.steps, ran.step_size),
                                  (result.start_value, result.final_value), where)
            save_png(figure, path)
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never raised
            self.note.setText(f"Cannot save {path.name}: {error_text(exc)}")
            return False
        self.note.setText(f"Saved {path}")
        return True

    def _save_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, "Save the dream", "dream.png",
                                              "PNG images (*.png)")
        if path:
            self.save_png(path)
