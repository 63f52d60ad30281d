"""Per-epoch checkpoints of a run: ``last.keras``, ``best.keras`` and ``state.json``.

A ``.keras`` file holds the weights and the optimizer state (its batch
counter is the schedule position; with gradient accumulation also the
gradients of an unfinished group), so a run killed at any
moment resumes from its last completed epoch as if it had never stopped.
Every file is written atomically: a kill mid-write leaves the previous
checkpoint in place (and a temporary file that :meth:`Checkpoints.clean` removes).

``state.json`` is written right after ``last.keras``; when a kill falls
between the two, the checkpoint's own batch counter shows that it is
one epoch newer than the state says, and :meth:`Checkpoints.restore` trusts the
checkpoint. Only completed epochs are ever checkpointed.

Every epoch's checkpoint is also kept, for branching a run from any epoch
(``cnnlab train SPEC --fork RUN@EPOCH``): ``epochs/epoch-0003.keras`` (the
weights and optimizer state after 3 completed epochs, a hard link to that
epoch's ``last.keras`` where the file system allows, else a copy) and
``epochs/epoch-0003.json`` (its ``state.json``). Retention: every epoch while
the kept files of a run total at most :data:`EPOCH_BUDGET_BYTES` (1 GiB);
past it the oldest epochs are removed first, never the newest.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cnnlab.atomic import atomic_path, atomic_write_json

LAST = "last.keras"
BEST = "best.keras"
STATE = "state.json"
STATE_VERSION = 1
EPOCHS_DIRNAME = "epochs"
EPOCH_BUDGET_BYTES = 1 << 30  # per run: all epochs of a small model, the newest of a big one


@dataclass(frozen=True)
class CheckpointState:
    """What ``state.json`` says about the last checkpoint.

    Attributes:
        epochs_done: Completed epochs (the next epoch to train, 0-based).
        iterations: The optimizer's batch counter when the checkpoint was
            written (batches trained; the schedule's position).
        steps_per_epoch: Batches per epoch.
        phase: Index of the transfer-learning phase the checkpoint belongs to.
        monitor: The metric that picks ``best.keras``.
        best_value: Its best value so far (None before the first epoch).
        best_epoch: The epoch of ``best.keras``.
        epochs_planned: The run's target number of epochs.
        updates: Optimizer updates applied (``iterations / N`` with N
            gradient accumulation steps, else ``iterations``).
        metrics: The checkpointed epoch's metrics (also in the index, which
            is written after the checkpoint).
    """

    epochs_done: int
    iterations: int
    steps_per_epoch: int
    phase: int = 0
    monitor: str = "val_loss"
    best_value: float | None = None
    best_epoch: int | None = None
    epochs_planned: int = 0
    updates: int = 0
    metrics: dict | None = None
    version: int = STATE_VERSION


def _before_commit(tmp: Path) -> None:
    """Test seam: called after a checkpoint is written to its temporary file."""


class Checkpoints:
    """The checkpoint folder of one run.

    Args:
        folder: The run's checkpoint directory.
        monitor: Metric deciding ``best.keras``; ``val_loss`` falls back to
            ``loss`` when the run has no validation data.
    """

    def __init__(self, folder: str | Path, monitor: str = "val_loss",
                 budget_bytes: int = EPOCH_BUDGET_BYTES):
        self.folder = Path(folder)
        self.monitor = monitor
        self.budget_bytes = budget_bytes
        self.best_value: float | None = None
        self.best_epoch: int | None = None

    @property
    def last_path(self) -> Path:
        """``last.keras``."""
        return self.folder / LAST

    @property
    def best_path(self) -> Path:
        """``best.keras``."""
        return self.folder / BEST

    @property
    def epochs_dir(self) -> Path:
        """``epochs/``: the kept checkpoint of every epoch (see :meth:`kept_epochs`)."""
        return self.folder / EPOCHS_DIRNAME

    def clean(self) -> None:
        """Remove temporary files left by a write that was killed."""
        for tmp in [*self.folder.glob(".*.tmp-*"), *self.epochs_dir.glob(".*.tmp-*")]:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)

    def save(self, model: Any, epoch: int, logs: dict, state: dict) -> list[tuple[Path, bool]]:
        """Write the checkpoint of a completed epoch.

        Args:
            model: The compiled model (its optimizer state is saved too).
            epoch: The epoch just completed (0-based).
            logs: The epoch's metrics (to decide whether it is the best).
            state: Extra ``state.json`` fields: ``steps_per_epoch``, ``phase``,
                ``epochs_planned``, ``metrics``.

        Returns:
            ``(path, best)`` for each file written: ``last.keras``, then
            ``best.keras`` when this epoch improved the monitored metric.
        """
        written = [(self._write_model(model, self.last_path), False)]
        improved = self._improves(logs)
        if improved:
            self.best_value, self.best_epoch = float(logs[self._key(logs)]), epoch
        self._write_state(epoch + 1, model.optimizer, state)
        self._keep_epoch(epoch + 1)
        if improved:
            with atomic_path(self.best_path) as tmp:
                shutil.copyfile(self.last_path, tmp)
            written.append((self.best_path, True))
        return written

    def _write_model(self, model: Any, target: Path) -> Path:
        with atomic_path(target) as tmp:
            model.save(tmp)
            _before_commit(tmp)
        return target

    def _write_state(self, epochs_done: int, optimizer: Any, extra: dict) -> None:
        from cnnlab.recipe.optimizers import batch_counter, update_count

        state = CheckpointState(
            epochs_done=epochs_done, iterations=batch_counter(optimizer),
            updates=update_count(optimizer),
            steps_per_epoch=int(extra.get("steps_per_epoch", 0)),
            phase=int(extra.get("phase", 0)), monitor=self.monitor,
            best_value=self.best_value, best_epoch=self.best_epoch,
            epochs_planned=int(extra.get("epochs_planned", 0)),
            metrics=_finite_only(extra.get("metrics")))
        atomic_write_json(self.folder / STATE, asdict(state))

    def _keep_epoch(self, epochs_done: int) -> None:
        """Keep ``last.keras`` and ``state.json`` as this epoch's; thin out past the budget."""
        self.epochs_dir.mkdir(exist_ok=True)
        target = self.epoch_path(epochs_done)
        with atomic_path(target) as tmp:
            try:
                os.link(self.last_path, tmp)  # last.keras is replaced, never rewritten
            except OSError:
                shutil.copyfile(self.last_path, tmp)
        with atomic_path(target.with_suffix(".json")) as tmp:
            shutil.copyfile(self.folder / STATE, tmp)
        kept = self.kept_epochs()
        sizes = {n: self.epoch_path(n).stat().st_size for n in kept}
        while len(kept) > 1 and sum(sizes[n] for n in kept) > self.budget_bytes:
            oldest = kept.pop(0)
            self.epoch_path(oldest).with_suffix(".json").unlink(missing_ok=True)
            self.epoch_path(oldest).unlink(missing_ok=True)

    def epoch_path(self, epochs_done: int) -> Path:
        """The kept checkpoint after ``epochs_done`` completed epochs (may not exist)."""
        return self.epochs_dir / f"epoch-{int(epochs_done):04d}.keras"

    def kept_epochs(self) -> list[int]:
        """The epoch counts whose checkpoint and state are kept, ascending."""
        found = []
        for path in self.epochs_dir.glob("epoch-*.keras"):
            number = path.stem.removeprefix("epoch-")
            if number.isdigit() and path.with_suffix(".json").is_file():
                found.append(int(number))
        return sorted(found)

    def epoch_state(self, epochs_done: int) -> CheckpointState | None:
        """The state kept with epoch ``epochs_done``'s checkpoint (None when not kept)."""
        return _read_state(self.epoch_path(epochs_done).with_suffix(".json"))

    def _key(self, logs: dict) -> str:
        return self.monitor if self.monitor in logs else self.monitor.removeprefix("val_")

    def _improves(self, logs: dict) -> bool:
        value = logs.get(self._key(logs))
        if value is None or not math.isfinite(float(value)):
            return False
        if self.best_value is None:
            return True
        if "accuracy" in self.monitor:
            return float(value) > self.best_value
        return float(value) < self.best_value

    def read_state(self) -> CheckpointState | None:
        """The saved state, or None when the run has no usable checkpoint yet."""
        if not self.last_path.is_file():
            return None
        state = _read_state(self.folder / STATE)
        if state is None:
            return None
        self.monitor = state.monitor
        self.best_value, self.best_epoch = state.best_value, state.best_epoch
        return state

    def restore(self, model: Any, state: CheckpointState, with_optimizer: bool,
                path: Path | None = None) -> int:
        """Load ``last.keras`` into ``model`` and return the number of completed epochs.

        Args:
            model: The rebuilt model. With ``with_optimizer`` it must be
                compiled (its optimizer is built here and its state loaded);
                without, only the layers' weights are loaded.
            state: From :meth:`read_state`.
            with_optimizer: Load the optimizer state too (False when the
                checkpoint belongs to another transfer phase, whose optimizer
                tracks other variables).
            path: The checkpoint to load (default ``last.keras``; a kept
                epoch's for a branch).

        Returns:
            Completed epochs: ``state.epochs_done``, or one more when the
            checkpoint is newer than ``state.json`` (a kill between the two writes).
        """
        if with_optimizer:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(path or self.last_path)
        if not with_optimizer or not state.steps_per_epoch:
            return state.epochs_done
        from cnnlab.recipe.optimizers import batch_counter

        if batch_counter(model.optimizer) > state.iterations:
            return state.epochs_done + 1
        return state.epochs_done


def _read_state(path: Path) -> CheckpointState | None:
    """A ``state.json`` as a CheckpointState; None when missing or unreadable."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        fields = CheckpointState.__dataclass_fields__
        return CheckpointState(**{k: v for k, v in raw.items() if k in fields})
    except (OSError, ValueError, TypeError):
        return None


def _finite_only(metrics: dict | None) -> dict | None:
    """JSON-safe metrics: NaN and infinities left out."""
    if not metrics:
        return None
    return {k: float(v) for k, v in metrics.items() if math.isfinite(float(v))}
