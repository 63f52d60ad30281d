"""Training events and the control token: the whole protocol between trainer and UI.

Events are small frozen dataclasses of plain numbers and strings, sent only
through ``sink(event)``. The only way in is :class:`Control`, which a Keras
callback reads after each batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RunStarted:
    """The model is built and training begins."""

    run_id: str
    run_dir: str
    device: str  # "CPU" or "NVIDIA H100 80GB (79.1 GiB)"
    precision: str  # "float32", "mixed_float16", ...
    epochs: int
    steps_per_epoch: int
    initial_epoch: int = 0  # > 0 when resuming
    params: int = 0
    data_lines: tuple[str, ...] = ()  # skipped files and left-out classes (cnnlab.data.report)


@dataclass(frozen=True)
class BatchProgress:
    """Throttled: at most one every 50 ms."""

    epoch: int  # 0-based
    step: int  # 1-based within the epoch
    steps: int
    loss: float
    lr: float
    elapsed: float  # seconds since the run started
    accuracy: float | None = None  # running accuracy of the epoch so far, when measured


@dataclass(frozen=True)
class EpochEnded:
    """One epoch finished; ``metrics`` has loss, accuracy, val_loss, val_accuracy, ..."""

    epoch: int  # 0-based
    epochs: int
    metrics: dict = field(default_factory=dict)
    lr: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class CheckpointWritten:
    """A checkpoint file was written atomically."""

    epoch: int
    path: str
    best: bool = False


@dataclass(frozen=True)
class Finished:
    """All epochs done (or early stopping ended the run).

    ``metrics`` are the last epoch's, plus ``test_loss``, ``test_accuracy``
    (and ``test_top5``) from the test split when the data have one.
    """

    run_id: str
    epochs_done: int
    metrics: dict = field(default_factory=dict)
    model_path: str = ""


@dataclass(frozen=True)
class Stopped:
    """The user stopped the run; what was trained is kept and saved."""

    run_id: str
    epochs_done: int
    model_path: str = ""


@dataclass(frozen=True)
class Failed:
    """The run failed: ``message`` for the user, ``detail`` for the log."""

    run_id: str
    message: str
    detail: str = ""


@dataclass(frozen=True)
class HealthWarning:
    """One training-health finding (see :mod:`cnnlab.train.health_rules`).

    Attributes:
        epoch: The 0-based epoch it was found after.
        layer: The layer (block id) it concerns; "" for the whole run (a stalled loss).
        kind: ``dead``, ``vanishing``, ``exploding``, ``large_updates`` or ``stalled``.
        message: One sentence for people, with the measured number.
        remedy: What to try (the lectures' remedies).
        value: The measured number the rule compared with its threshold.
        new: True the first time this (layer, kind) is found in the run.
    """

    epoch: int
    layer: str
    kind: str
    message: str
    remedy: str
    value: float = 0.0
    new: bool = True


@dataclass(frozen=True)
class TrainingHealth:
    """The training-health check after one epoch (also in the run folder's health.jsonl).

    ``layers`` maps each weighted layer to its numbers: ``grad_norm``,
    ``weight_norm``, ``update_ratio`` (per step, sampled on the epoch's last
    batch) and ``dead`` (fraction of dead ReLU units, when it feeds a ReLU).
    ``warnings`` are all the findings of this epoch (``new`` marks the first of a kind).
    """

    epoch: int
    layers: dict = field(default_factory=dict)
    warnings: tuple[HealthWarning, ...] = ()
    loss: float = 0.0
    seconds: float = 0.0  # the check's own cost


Event = (RunStarted | BatchProgress | EpochEnded | CheckpointWritten | Finished | Stopped
         | Failed | TrainingHealth)


class Control:
    """Stop and pause token shared between the UI thread and the training thread."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        """Ask the run to stop after the current batch."""
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        """Pause between batches."""
        self._running.clear()

    def resume(self) -> None:
        """Continue after a pause."""
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        """True while paused."""
        return not self._running.is_set()

    def is_set(self) -> bool:
        """Alias of stop_requested, so a Control works as a stop token anywhere."""
        return self._stop.is_set()

    def wait_if_paused(self, timeout: float = 0.1) -> None:
        """Block while paused (returns at once when running or stopping)."""
        while not self._running.wait(timeout):
            if self._stop.is_set():
                return
