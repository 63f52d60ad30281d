"""Recipe > Optimizer > Find learning rate…: Smith's range test with its curve.

The test runs in a worker thread (after the TensorFlow gate) on a fresh copy
of the experiment's initial model; the dialog draws the loss against the
rate on a log axis as the steps arrive, marks the suggested rate, and "Use
it" emits :attr:`LrFindDialog.rate_chosen` (the Optimizer panel applies it
to the document as one undoable edit). Closing the dialog stops the test.
"""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnlab.ui.views.plots import curve, make_plot
from cnnlab.ui.views.worker import Worker


class LrFindDialog(QDialog):
    """Run the range test for ``experiment`` and offer its suggested rate."""

    rate_chosen = Signal(float)

    def __init__(self, experiment: Any, parent: QWidget | None = None, steps: int = 100):
        super().__init__(parent)
        self.setObjectName("lr_find_dialog")
        self.setWindowTitle("Find learning rate")
        self.experiment, self.steps = experiment, steps
        self.result: Any = None
        self.rates: list[float] = []
        self.losses: list[float] = []
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Smith's range test: the rate grows from 1e-7 to 10 over "
                                "the steps below, on a fresh copy of the initial model (no "
                                "run's weights); it stops when the loss explodes.",
                                wordWrap=True))
        row = QHBoxLayout()
        self.steps_box = QSpinBox(objectName="lr_find_steps", minimum=10, maximum=1000,
                                  value=steps, suffix=" steps")
        self.run_button = QPushButton("Run again", objectName="lr_find_run", enabled=False)
        self.run_button.clicked.connect(self.start)
        row.addWidget(self.steps_box)
        row.addWidget(self.run_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.plot = make_plot("Loss against the learning rate", "loss", "learning rate")
        self.plot.setLogMode(x=True, y=False)
        self.plot.setMinimumSize(520, 300)
        self.raw_item = curve(self.plot, "loss", "#9ecae1", width=1.0)
        self.smooth_item = curve(self.plot, "smoothed", "#1f77b4")
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen("#d62728", width=2))
        self.marker.setVisible(False)
        self.plot.addItem(self.marker)
        layout.addWidget(self.plot)
        self.progress = QProgressBar(objectName="lr_find_progress", maximum=steps)

        self.message = QLabel("", objectName="lr_find_message", wordWrap=True)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.use_button = QPushButton("Use it", objectName="lr_find_use", enabled=False)
        self.use_button.clicked.connect(self._use)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close).clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.worker = Worker(self)
        self.worker.event.connect(self._step)
        self.worker.result.connect(self._finished)
        self.worker.failed.connect(lambda m: self.message.setText(f"Cannot run the test: {m}"))
        self.worker.finished.connect(lambda: self.run_button.setEnabled(True))

    def start(self) -> bool:
        """Start the test in the background (returns False while one runs)."""
        from cnnlab.ui.tf_gate import tensorflow_gate

        if self.worker.running:
            return False
        self.steps = steps = self.steps_box.value()
        gate, exp = tensorflow_gate(self), self.experiment
        self.result = None
        self.use_button.setEnabled(False)
        self.run_button.setEnabled(False)
        self.marker.setVisible(False)
        self.progress.setRange(0, steps)
        self.progress.setValue(0)

        def job(sink, control):
            gate()
            from cnnlab.plan import check_plannable, find_learning_rate

            check_plannable(exp)
            return find_learning_rate(exp, steps, progress=lambda done, _t: sink(done),
                                      should_stop=lambda: control.stop_requested)

        self.message.setText("Building the model and the data pipeline…")
        return self.worker.start(job, name="cnnlab-lr-find")

    def _step(self, done: int) -> None:
        self.progress.setValue(done)
        self.message.setText(f"Step {done} of {self.steps}")

    def _finished(self, result: Any) -> None:
        from cnnlab.plan import smooth_losses as smooth

        self.result = result
        self.rates, self.losses = list(result.rates), list(result.losses)
        smoothed = smooth(self.losses)
        finite = [i for i, v in enumerate(smoothed) if math.isfinite(v)]
        self.raw_item.setData([self.rates[i] for i in finite], [self.losses[i] for i in finite])
        self.smooth_item.setData([self.rates[i] for i in finite], [smoothed[i] for i in finite])
        self.progress.setValue(self.steps)
        end = " (stopped: the loss exploded)" if result.stopped_early else ""
        if result.suggested is None:
            self.message.setText(f"{len(self.rates)} steps{end}: the smoothed loss never fell "
                                 "clearly, so there is no rate to suggest; the model learns "
                                 "too little in so few steps: try 300 steps.")
            return
        self.marker.setPos(math.log10(result.suggested))
        self.marker.setVisible(True)
        self.message.setText(f"{len(self.rates)} steps{end}. Suggested learning rate: "
                             f"{result.suggested:g} (steepest descent of the smoothed loss)")
        self.use_button.setEnabled(True)

    def _use(self) -> None:
        if self.result is not None and self.result.suggested is not None:
            self.rate_chosen.emit(float(self.result.suggested))
            self.accept()

    def done(self, code: int) -> None:  # noqa: D401 - Qt override
        """Stop a running test and wait for its thread before closing."""
        self.worker.stop()
        self.worker.wait(60.0)
        super().done(code)
