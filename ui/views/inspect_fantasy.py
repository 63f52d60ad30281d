"""Fantasy panel: gradient ascent on the input for a filter or a class, watched live.

The ascent runs in the worker in short legs, each starting from the last
image, so the panel can show the image forming; the worker's control token
is the stop token, checked before every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnlab.inspect import Session, to_unit
from cnnlab.ui.views.inspect_widgets import ZoomImage, note_label, row
from cnnlab.ui.views.worker import Worker

LEG_STEPS = 8
TARGETS = ("filter", "class")


@dataclass(frozen=True)
class Goal:
    """What to maximise: a layer's filter, or a class (``layer`` is then unused)."""

    target: str
    layer: str
    index: int
    steps: int


@dataclass(frozen=True)
class Frame:
    """The image after ``step`` of ``total`` steps and the objective then.

    ``dead`` is True while the objective has been 0 at every step so far (a
    unit that never activates; see :func:`cnnlab.inspect.never_active`).
    """

    image: np.ndarray
    step: int
    total: int
    value: float
    dead: bool = False


def _leg(model: Any, goal: Goal, start: np.ndarray | None, steps: int, seed: int,
         value_range: tuple[float, float], stop: Any) -> Any:
    from cnnlab.inspect import AscentSettings, maximize_class, maximize_filter

    settings = AscentSettings(steps=steps, seed=seed)
    if goal.target == "class":
        return maximize_class(model, goal.index, settings, value_range, start, stop=stop)
    return maximize_filter(model, goal.layer, goal.index, settings, value_range, start,
                               stop=stop)


def ascend(model: Any, goal: Goal, value_range: tuple[float, float], sink: Any,
           stop: Any) -> Frame | None:
    """Run the ascent in legs, sending a :class:`Frame` after each; return the last one."""
    from cnnlab.inspect import never_active

    image, done, frame, dead = None, 0, None, True
    while done < goal.steps and not stop.is_set():
        steps = min(LEG_STEPS, goal.steps - done)
        result = _leg(model, goal, image, steps, done, value_range, stop)
        done += len(result.values)
        image = result.image
        dead = dead and never_active(result)
        frame = Frame(image, done, goal.steps, float(result.final_value), dead)
        sink(frame)
        if result.stopped or not len(result.values):
            break
    return frame


class FantasyPanel(QWidget):
    """Choose a layer and filter, or a class; Run and Stop; watch the image form."""

    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.frames = 0
        self.last: Frame | None = None
        self._goal: Goal | None = None
        self.worker = Worker(self)
        self.worker.event.connect(self._frame)
        self.worker.result.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.target_box = QComboBox()
        self.target_box.addItems(TARGETS)
        self.target_box.currentTextChanged.connect(self._target_changed)
        self.layer_box = QComboBox()
        self.layer_box.currentTextChanged.connect(lambda _t: self._update_range())
        self.index_spin = QSpinBox()
        self.index_spin.setToolTip("Which filter (channel) of the layer")
        self.class_box = QComboBox()
        self.class_box.setToolTip("The class whose score the image should raise")
        self.index_label = QLabel("Filter")
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, 5000)
        self.steps_spin.setValue(120)
        self.run_button = QPushButton("Run")
        self.run_button.clicked.connect(self.run)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.image = ZoomImage("fantasy image")
        self.note = note_label("Load a model; pick a filter or a class and press Run.")
        layout = QVBoxLayout(self)
        layout.addLayout(row(QLabel("Maximise"), self.target_box, QLabel("Layer"), self.layer_box,
                             self.index_label, self.index_spin, self.class_box,
                             QLabel("Steps"), self.steps_spin, self.run_button,
                             self.stop_button))
        self._target_changed(self.target_box.currentText())
        layout.addWidget(self.progress)
        layout.addWidget(self.image, 1)
        layout.addWidget(self.note)

    def set_session(self, session: Session) -> None:
        """Use a newly loaded model."""
        self.stop()
        self.session = session
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(session.layer_ids())
        conv = session.conv_ids()
        if conv:
            self.layer_box.setCurrentText(conv[-1])
        self.layer_box.blockSignals(False)
        self.class_box.clear()
        self.class_box.addItems(session.class_names)
        self._update_range()

    def _target_changed(self, target: str) -> None:
        by_class = target == "class"
        self.layer_box.setEnabled(not by_class)
        self.index_label.setText("Class" if by_class else "Filter")
        self.index_spin.setVisible(not by_class)
        self.class_box.setVisible(by_class)
        self._update_range()

    def _update_range(self) -> None:
        layer = self.layer_box.currentText()
        if self.session is None or not layer:
            return
        count = int(self.session.model.get_layer(layer).output.shape[-1] or 1)
        self.index_spin.setRange(0, max(0, count - 1))
        self.index_spin.setToolTip(f"Which of the {count} filters (channels) of {layer}")

    def goal(self) -> Goal:
        """The goal the controls describe (a class by its position in the class names)."""
        target = self.target_box.currentText()
        index = self.class_box.currentIndex() if target == "class" else self.index_spin.value()
        return Goal(target, self.layer_box.currentText(), max(0, index), self.steps_spin.value())

    def run(self) -> bool:
        """Start the ascent in the worker; False when nothing is loaded or one runs."""
        if self.session is None or self.worker.running:
            return False
        model, goal, value_range = self.session.model, self.goal(), self.session.value_range
        self.frames, self.last, self._goal = 0, None, goal
        self.progress.setRange(0, goal.steps)
        self.progress.setValue(0)
        started = self.worker.start(lambda sink, control: ascend(model, goal, value_range,
                                                                 sink, control))
        self.run_button.setEnabled(not started)
        self.stop_button.setEnabled(started)
        self.note.setText(f"Climbing {self._describe(goal)}...")
        return started

    def stop(self) -> None:
        """Ask a running ascent to stop before its next step."""
        if self.worker.running:
            self.worker.stop()
            self.note.setText("Stopping...")

    def _describe(self, goal: Goal) -> str:
        if goal.target == "class":
            names = self.session.class_names if self.session else []
            name = names[goal.index] if goal.index < len(names) else goal.index
            return f"class '{name}'"
        return f"filter {goal.index} of {goal.layer}"

    def _frame(self, frame: Any) -> None:
        if not isinstance(frame, Frame):
            return
        self.frames += 1
        self.last = frame
        self.image.set_image(to_unit(frame.image))  # stretched: small changes show
        self.progress.setValue(frame.step)
        self.image.set_title(f"step {frame.step} / {frame.total}: objective {frame.value:.3g}")

    def _done(self, frame: Frame | None) -> None:
        self._idle()
        stopped = frame is None or frame.step < frame.total
        text = ("Stopped" if stopped else "Done") + (f" after {frame.step} steps."
                                                      if frame else ".")
        if frame is not None and frame.dead and self._goal is not None:
            from cnnlab.inspect import dead_unit_note

            what = self._describe(self._goal)
            text += " " + dead_unit_note(what[0].upper() + what[1:])
        self.note.setText(text)

    def _failed(self, message: str) -> None:
        self._idle()
        self.note.setText(f"Cannot run the ascent: {message}")

    def _idle(self) -> None:
        self.run_button.setEnabled(True)
        self.stop_button.setEnabled(False)
