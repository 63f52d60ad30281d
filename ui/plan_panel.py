"""The Plan panel next to the Summary: memory per part against the device, time on demand.

The memory estimate follows every edit (pure arithmetic on the analysis, no
TensorFlow; the free RAM of this machine until a measurement reads the
device). "Measure step time" runs ``cnnlab plan``'s micro-benchmark in a
worker thread after the TensorFlow gate, with progress, and shows the
measured times, the device's free memory and the warnings.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab.ui.views.worker import Worker, error_text

PARTS = ("weights", "gradients", "optimizer", "activations", "data", "total")
SCALE = 1000


class PlanPanel(QWidget):
    """Memory bars per part vs the available memory, the largest batch, measured time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("plan_panel")
        self.experiment: Any = None
        self.estimate: Any = None
        self.largest: int | None = None
        self.device = "CPU"
        self.available: int | None = None
        self.measured: Any = None  # the last Plan from a measurement, for its experiment
        layout = QVBoxLayout(self)
        self.heading = QLabel("")
        layout.addWidget(self.heading)
        grid = QGridLayout()
        self.bars: dict[str, QProgressBar] = {}
        self.values: dict[str, QLabel] = {}
        for row, part in enumerate(PARTS):
            bar = QProgressBar(objectName=f"plan_bar_{part}", maximum=SCALE, textVisible=False)
            bar.setMaximumHeight(12)
            self.bars[part], self.values[part] = bar, QLabel("")
            grid.addWidget(QLabel(part), row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(self.values[part], row, 2)
        layout.addLayout(grid)
        self.batch_label = QLabel("")
        layout.addWidget(self.batch_label)
        row = QHBoxLayout()
        self.measure_button = QPushButton("Measure step time", objectName="plan_measure")
        self.measure_button.clicked.connect(self.measure)
        self.progress = QProgressBar(objectName="plan_progress", visible=False)
        row.addWidget(self.measure_button)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        self.time_label = QLabel("Step time: not measured yet", wordWrap=True)
        self.warnings_label = QLabel("", wordWrap=True, objectName="plan_warnings")
        self.warnings_label.setStyleSheet("color: #b03a2e;")
        layout.addWidget(self.time_label)
        layout.addWidget(self.warnings_label)
        layout.addStretch(1)
        self.worker = Worker(self)
        self.worker.event.connect(self._progress)
        self.worker.result.connect(self._measured)
        self.worker.failed.connect(self._failed)
        self.worker.finished.connect(lambda: self._busy(False))
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self.update_estimate)

    # -- following the document ---------------------------------------------------------------
    def set_experiment(self, experiment: Any) -> None:
        """Follow the document: re-estimate shortly after a change of model or recipe."""
        old = self.experiment
        if old is not None and experiment.model is old.model and \
                experiment.training == old.training and experiment.data == old.data:
            return
        self.experiment = experiment
        self._debounce.start()

    def update_estimate(self) -> None:
        """Estimate memory now (pure arithmetic) and show it."""
        from cnnlab.plan import available_ram, estimate_memory, max_batch_size, spec_data_bytes

        exp = self.experiment
        if exp is None:
            return
        if self.measured is None:  # until a measurement has read the device's memory
            self.available = available_ram()
        try:
            data = spec_data_bytes(exp) or 0
            self.estimate = estimate_memory(exp, data, self.available)
            self.largest = max_batch_size(exp, data, self.available)
        except Exception as exc:  # noqa: BLE001 - a graph with errors: say so here
            self.heading.setText(f"No estimate: {error_text(exc)}")
            return
        self._show(spec_data_bytes(exp) is None)

    def _show(self, data_unknown: bool = False) -> None:
        from cnnlab.plan import human_bytes, plan_warnings

        est, exp = self.estimate, self.experiment
        have = "unknown" if est.available is None else human_bytes(est.available)
        self.heading.setText(f"<b>Memory at batch size {exp.training.batch_size}</b> on "
                             f"{self.device} ({have} free)")
        base = est.available or max(est.total, 1)
        for part in PARTS:
            value = getattr(est, part)
            self.bars[part].setValue(min(SCALE, int(SCALE * value / base)))
            self.values[part].setText(human_bytes(value) + (" (size known once loaded)"
                                                            if part == "data" and data_unknown
                                                            else ""))
        self.bars["total"].setStyleSheet("" if est.fits else
                                         "QProgressBar::chunk { background: #d64545; }")
        if self.largest is not None:
            self.batch_label.setText(f"Largest batch size that fits: {self.largest:,}")
        warnings = plan_warnings(exp, est, self.largest, None, self.device)
        if self.measured is not None and self.measured[0] is exp:
            warnings = list(self.measured[1].warnings)
        self.warnings_label.setText("\n".join(warnings))

    # -- measuring ----------------------------------------------------------------------------
    def measure(self) -> None:
        """Time real training steps in a worker thread (after the TensorFlow gate)."""
        from cnnlab.ui.tf_gate import tensorflow_gate

        exp = self.experiment
        if exp is None or self.worker.running:
            return
        gate = tensorflow_gate(self)

        def job(sink, _control):
            gate()
            from cnnlab.plan import check_plannable, make_plan

            check_plannable(exp)
            return exp, make_plan(exp, progress=lambda what, done, total: sink((what, done,
                                                                               total)))

        self._busy(True)
        self.time_label.setText("Measuring: building the model and the data pipeline…")
        self.worker.start(job, name="cnnlab-plan")

    def _busy(self, busy: bool) -> None:
        self.measure_button.setEnabled(not busy)
        self.progress.setVisible(busy)

    def _progress(self, event: Any) -> None:
        what, done, total = event
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.time_label.setText(f"Measuring: {what} ({done}/{total})")

    def _measured(self, value: Any) -> None:
        from cnnlab.plan import human_seconds

        exp, plan = value
        self.measured = (exp, plan)
        self.device, self.available = plan.device, plan.memory.available
        t = plan.timing
        if t is None:
            self.time_label.setText("Step time: not measured (it does not fit)")
        else:
            self.time_label.setText(
                f"Measured on {t.device} ({t.steps_measured} steps after a warm-up): "
                f"{human_seconds(t.step_seconds)} per step, {human_seconds(t.epoch_seconds)} "
                f"per epoch, {human_seconds(t.run_seconds)} for {t.epochs} epochs, "
                f"{t.samples_per_second:,.0f} samples/s")
        if exp is self.experiment:
            self.estimate, self.largest = plan.memory, plan.max_batch_size
            self._show()
        else:
            self.update_estimate()

    def _failed(self, message: str) -> None:
        self.time_label.setText(f"Cannot measure: {message}")

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Wait for a running measurement (window closing, tests)."""
        return self.worker.wait(timeout)
