"""The training view: start, pause and stop a run and watch its curves live.

Events from the trainer (a Qt-free ``run(spec, sink, control, ...)``) arrive
through :class:`~cnnlab.ui.views.worker.Worker` as a queued signal; they only
append to :class:`~cnnlab.train.curves.CurveBuffers`, and a 25 Hz timer
redraws the plots when something changed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnlab.runs import RunStore
from cnnlab.spec import Experiment
from cnnlab.train import (
    BatchProgress,
    CurveBuffers,
    EpochEnded,
    Failed,
    Finished,
    RunStarted,
    Stopped,
    TrainingHealth,
)
from cnnlab.ui.views.training_plots import TrainingPlots
from cnnlab.ui.views.worker import Worker

REDRAW_MS = 50  # 20 Hz: smooth to the eye, and cheap while TensorFlow holds the CPUs
# What the final message shows, when the run measured it (test_*: the held-out test split).
END_METRICS = (("val_accuracy", "val accuracy"), ("test_accuracy", "test accuracy"),
               ("test_loss", "test loss"), ("test_top5", "test top-5"))


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _real_trainer(spec, sink, control, **kwargs):
    from cnnlab import run_training

    return run_training(spec, sink, control, **kwargs)


def _trainer_job(trainer, experiment: Experiment, workspace, resume: str | None,
                 fork: str | None = None):
    branch = {"fork": fork} if fork else {}

    def job(sink, control):
        return trainer(experiment, sink, control, workspace=workspace, resume=resume, **branch)

    return job


class TrainingView(TrainingPlots, QWidget):
    """Start/pause/stop, progress with ETA, device, and live loss/accuracy/lr curves.

    Args:
        get_experiment: Returns the experiment to train (an immutable snapshot).
        store: The window's run store; the trainer writes into its workspace.
        trainer: ``run(spec, sink, control, workspace=, resume=)``; None for
            :func:`cnnlab.run_training` (tests pass a fake).

    """

    run_started = Signal(str)
    run_ended = Signal(str)  # run id (empty when the run never started)
    branch_requested = Signal()  # "Branch…": a paused or ended run, to continue as a branch

    def __init__(self, get_experiment: Callable[[], Experiment], store: RunStore,
                 parent: QWidget | None = None, trainer: Callable | None = None):
        super().__init__(parent)
        self._trainer = trainer or _real_trainer
        self._get_experiment = get_experiment
        self.store = store
        self.buffers = CurveBuffers()
        self.worker = Worker(self)
        self.run_id = ""
        self._epochs = 0
        self._initial_epoch = 0
        self._t0 = 0.0
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._last_elapsed = 0.0
        self._run_fraction = 0.0
        self._build()
        self.worker.event.connect(self.on_event)
        self.worker.failed.connect(self._job_failed)
        self.worker.finished.connect(self._job_finished)
        self._drawn: dict = {}
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()
        self._set_running(False)

    # -- layout ------------------------------------------------------------------

    def _build(self) -> None:
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.branch_button = QPushButton("Branch…")
        self.branch_button.setToolTip("Stop here and continue as a branch with another rate, "
                                      "schedule, unfrozen layers, augmentation or epochs")
        self.branch_button.clicked.connect(self.branch_requested)
        self.start_button.clicked.connect(lambda: self.start())
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop)
        self.device_label = QLabel("Device: -   Precision: -")
        buttons = QHBoxLayout()
        for w in (self.start_button, self.pause_button, self.stop_button, self.branch_button):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.device_label)
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setFormat("epoch: %p%")
        self.run_bar = QProgressBar()
        self.run_bar.setFormat("run: %p%")
        self.time_label = QLabel("Elapsed --   ETA --")
        bars = QHBoxLayout()
        bars.addWidget(self.epoch_bar, 2)
        bars.addWidget(self.run_bar, 2)
        bars.addWidget(self.time_label, 1)
        self.message = QLabel("Press Start to train the current experiment.")
        self.message.setWordWrap(True)
        self.readout = QLabel("")
        self.readout.setStyleSheet("color: #444; font-family: monospace;")
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addLayout(bars)
        layout.addWidget(self.message)
        layout.addWidget(self._build_plots(), 1)
        layout.addWidget(self.readout)

    # -- commands ----------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while a run's thread is alive."""
        return self.worker.running

    def start(self, resume: str | None = None, experiment: Experiment | None = None,
              fork: str | None = None) -> bool:
        """Train the current experiment (or ``experiment``), or resume or branch a run.

        ``resume`` continues run RESUME; ``fork`` (``RUN@EPOCH``) starts a branch of
        RUN after EPOCH epochs with ``experiment``'s recipe.
        """
        if self.worker.running:
            self._show("A run is in progress; stop it first.", "warn")
            return False
        try:
            experiment = experiment or self._get_experiment()
        except Exception as exc:  # noqa: BLE001 - shown where the user looks
            self._show(f"No experiment to train: {exc}", "error")
            return False
        self.buffers.clear()
        self._drawn.clear()
        self.health.start(None if resume else experiment.model)  # badges clear
        self.run_id = ""
        self._epochs = experiment.training.epochs
        self._initial_epoch = 0
        self._t0 = time.monotonic()
        self._paused_at, self._paused_total = None, 0.0
        self._last_elapsed = 0.0
        self._run_fraction = 0.0
        self.epoch_bar.setValue(0)
        self.run_bar.setValue(0)
        verb = f"Resuming run {resume}" if resume else f"Branching {fork}" if fork else "Starting"
        self._show(f"{verb}: building the model and loading data...", "info")
        job = _trainer_job(self._trainer, experiment, self.store.workspace, resume, fork)
        self.worker.start(job, "cnnlab-train")
        self._set_running(True)
        return True

    def toggle_pause(self) -> None:
        """Pause between batches, or continue."""
        control = self.worker.control
        if not self.worker.running:
            return
        if control.paused:
            control.resume()
            if self._paused_at is not None:
                self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
            self.pause_button.setText("Pause")
            self.branch_button.setEnabled(False)
            self._show("Training.", "info")
        else:
            control.pause()
            self._paused_at = time.monotonic()
            self.pause_button.setText("Resume")
            self.branch_button.setEnabled(bool(self.run_id))
            self._show("Paused after the current batch.", "info")

    def stop(self) -> None:
        """Ask the run to stop after the current batch (the model is saved)."""
        if self.worker.running:
            self.worker.stop()
            self._show("Stopping after the current batch...", "info")

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Stop a run and wait for its thread (for closing the window)."""
        self.worker.stop()
        return self.worker.wait(timeout)

    # -- events ------------------------------------------------------------------

    def on_event(self, ev: object) -> None:
        """Take one trainer event (GUI thread): append to buffers, update labels."""
        try:
            self._dispatch(ev)
        except Exception as exc:  # noqa: BLE001 - a bad event must not break the view
            self._show(f"Could not show a training event: {exc}", "error")

    def _dispatch(self, ev: object) -> None:
        if isinstance(ev, BatchProgress):
            self.buffers.add_batch(ev)
            self._progress(ev.epoch, ev.step / max(ev.steps, 1), ev.elapsed)
        elif isinstance(ev, EpochEnded):
            self.buffers.add_epoch(ev)
            self._epochs = ev.epochs or self._epochs
            self._progress(ev.epoch, 1.0, self.elapsed())
        elif isinstance(ev, RunStarted):
            self._started(ev)
        elif isinstance(ev, TrainingHealth):
            self.health.show_report(ev)
        elif isinstance(ev, Finished):
            self._show(self._end_text("Finished", ev.epochs_done, ev.metrics), "ok")
            self.epoch_bar.setValue(100)
            self.run_bar.setValue(100)
        elif isinstance(ev, Stopped):
            self._show(f"Stopped after {ev.epochs_done} complete epoch(s); what was trained is"
                       f" saved{' to ' + ev.model_path if ev.model_path else ''}. Resuming"
                       f" trains an epoch cut short again from its start.{self._kept()}",
                       "warn")
        elif isinstance(ev, Failed):
            self._show(f"Training failed: {ev.message}.{self._kept()}", "error")

    def _kept(self) -> str:
        """Say the curves are kept only when there are curves to keep."""
        return " Curves are kept." if self.buffers.batch_x or self.buffers.epoch_x else ""

    def elapsed(self) -> float:
        """Seconds this run has trained, not counting the time it was paused."""
        paused = self._paused_total
        if self._paused_at is not None:
            paused += time.monotonic() - self._paused_at
        return max(time.monotonic() - self._t0 - paused, 0.0)

    def _started(self, ev: RunStarted) -> None:
        self.run_id = ev.run_id
        self._epochs = ev.epochs
        self._initial_epoch = ev.initial_epoch
        self.device_label.setText(f"Device: {ev.device}   Precision: {ev.precision}")
        # A fixed x range (the planned run): new batches then repaint only the plot whose
        # data changed, instead of rescaling all three linked plots every frame.
        self._fit_views()
        self._show(f"Training run {ev.run_id} ({ev.params:,} parameters, {ev.epochs} epochs of"
                   f" {ev.steps_per_epoch} steps).", "info")
        self.run_started.emit(ev.run_id)

    def _end_text(self, what: str, epochs: int, metrics: dict) -> str:
        parts = [f"{label} {metrics[key]:.3f}" for key, label in END_METRICS
                 if _finite(metrics.get(key))]
        tail = "; " + ", ".join(parts) if parts else ""
        return f"{what} after {epochs} epoch(s){tail}."

    def _progress(self, epoch: int, within: float, elapsed: float) -> None:
        self._last_elapsed = elapsed
        total = max(self._epochs - self._initial_epoch, 1)
        done = (epoch - self._initial_epoch + within) / total
        self._run_fraction = min(max(done, 0.0), 1.0)
        self.epoch_bar.setValue(int(round(within * 100)))
        self.run_bar.setValue(int(round(self._run_fraction * 100)))

    def _job_failed(self, message: str) -> None:
        self._show(f"Training failed: {message}.{self._kept()}", "error")

    def _job_finished(self) -> None:
        self._set_running(False)
        self._drawn.pop("lr", None)  # the last stretch of the rate is drawn now, not in 1 s
        self.buffers.dirty = True
        self.redraw()
        self.run_ended.emit(self.run_id)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.branch_button.setEnabled(not running and bool(self.run_id))
        if not running:
            self.pause_button.setText("Pause")

    def _show(self, text: str, kind: str) -> None:
        colors = {"error": "#b00020", "warn": "#8a6d00", "ok": "#1b5e20", "info": "#333"}
        self.message.setStyleSheet(f"color: {colors.get(kind, '#333')};")
        self.message.setText(text)
