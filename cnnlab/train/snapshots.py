"""Snapshot ensembles: the weights at the end of each cosine-with-restarts cycle.

The lectures' "restart learning rate: potential model combination" (Huang et
al., *Snapshot Ensembles*): with the ``cosine_restarts`` schedule, each cycle
ends in a minimum; :class:`SnapshotObserver` saves the network's weights
there (``snapshots/cycle-N.npz`` in the run folder, atomic) and, at the end
of a finished run, evaluates on the test split the average of the snapshots'
predictions against the final model alone. Both go into the last epoch's
metrics (``test_snapshot_ensemble_accuracy``, ``test_final_accuracy``,
``snapshot_count``, recorded with the epoch) and into
``snapshots/ensemble.json``; a run that ended early (early stopping) gets the
file only.

Cycle ends are counted in batches, as the schedule counts them
(:mod:`cnnlab.recipe.schedules`: warm-up first, then cycles of
``first_decay_epochs * t_mul**i`` epochs). The observer never fails a run:
its first error turns it off with a warning (and a note in the file).
"""

from __future__ import annotations

import bisect
import logging
import math
from pathlib import Path
from typing import Any

import keras
import numpy as np

from cnnlab.atomic import atomic_path, atomic_write_json

LOG = logging.getLogger("cnnlab.train")
FOLDER = "snapshots"
RESULT_NAME = "ensemble.json"
MAX_CYCLES = 10_000  # cycle ends listed at most (t_mul = 1 over a very long run)


def callbacks(session: Any, ctx: Any) -> list:
    """The snapshot observer for a ``cosine_restarts`` run; nothing otherwise."""
    training = session.training
    if training.schedule.name != "cosine_restarts":
        return []
    folder = session.store.run_dir(session.trainer.run_id) / FOLDER
    return [SnapshotObserver(session, ctx, folder)]


def cycle_ends(schedule: Any, steps_per_epoch: int, epochs: int) -> list[int]:
    """The batch counts at which the cycles of ``cosine_restarts`` end, within ``epochs``.

    Args:
        schedule: The recipe's :class:`~cnnlab.spec.sections.ScheduleSpec`.
        steps_per_epoch: Batches per epoch.
        epochs: Epochs of the run.

    Returns:
        Increasing batch counts (a snapshot is taken after that many batches).
    """
    from cnnlab.recipe.schedules import warmup_batches

    spe = max(int(steps_per_epoch), 1)
    total = int(epochs) * spe
    start = warmup_batches(schedule.warmup_epochs, spe)
    length = float(max(int(round(schedule.first_decay_epochs * spe)), 1))
    ends: list[int] = []
    position = float(start)
    while len(ends) < MAX_CYCLES:
        position += length
        end = int(round(position))
        if end > total:
            break
        ends.append(end)
        length *= float(schedule.t_mul)
    return ends


class SnapshotObserver(keras.callbacks.Callback):
    """Save the weights at each cycle end; compare their ensemble with the final model."""

    def __init__(self, session: Any, ctx: Any, folder: Path):
        super().__init__()
        self.session = session
        self.ctx = ctx
        self.folder = Path(folder)
        self.ends = cycle_ends(session.training.schedule, ctx.steps, ctx.epochs)
        self._epoch = 0
        self._next = 0  # index in ``ends`` of the next cycle end to come
        self._done = False
        self.error: str | None = None

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch (batch counts are absolute: epoch x batches per epoch)."""
        self._epoch = epoch
        self._next = bisect.bisect_right(self.ends, epoch * self.ctx.steps)

    def on_train_batch_end(self, batch, logs=None):
        """Save a snapshot when this batch ends a cycle (cheap otherwise: one compare)."""
        position = self._epoch * self.ctx.steps + batch + 1
        if self._next >= len(self.ends) or self.ends[self._next] > position:
            return
        self._next = bisect.bisect_right(self.ends, position)  # several, with steps_per_execution
        if self.ctx.nan is None:
            self._guard(self._save, self._next)

    def on_epoch_end(self, epoch, logs=None):
        """At the run's last epoch, evaluate and add the numbers to the epoch's metrics."""
        if epoch + 1 < self.ctx.epochs or not self._finished_epoch():
            return
        numbers = self._guard(self._evaluate)
        self._done = True
        if numbers and logs is not None:
            logs.update(numbers)

    def on_train_end(self, logs=None):
        """A run that ended early but finished (early stopping): the file only."""
        if self._done or not self._finished_early():
            return
        self._done = True
        self._guard(self._evaluate)

    def _finished_epoch(self) -> bool:
        ctx = self.ctx
        return ctx.nan is None and not ctx.stopped_mid_epoch

    def _finished_early(self) -> bool:
        ctx = self.ctx
        return (ctx.nan is None and not ctx.stopped_by_user
                and bool(self.session.model.stop_training))

    def _guard(self, fn, *args):
        """Run ``fn``; its first error turns the observer off (noted), never the run."""
        if self.error is not None:
            return None
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - an observer never fails the run
            self.error = f"snapshot ensemble turned off: {type(exc).__name__}: {exc}"
            LOG.warning(self.error)
            self._write_note()
            return None

    def _save(self, cycle: int) -> None:
        weights = self.session.net.get_weights()
        with atomic_path(self.folder / f"cycle-{cycle}.npz") as tmp:
            np.savez(tmp, *weights)

    def _evaluate(self) -> dict[str, float] | None:
        """Test accuracy of the snapshots' averaged predictions and of the final model."""
        from cnnlab.train import preparation as prep

        paths = snapshot_paths(self.folder)
        test = prep.test_dataset(self.session.data, self.session.training)
        if not paths or test is None:
            what = "no cycle ended" if not paths else "the data has no test split"
            self._write({"snapshot_count": len(paths), "note": f"no ensemble: {what}"})
            return None
        result = compare(self.session, test, paths)
        self._write({**result, "snapshots": [p.name for p in paths]})
        return result

    def _write(self, record: dict) -> None:
        atomic_write_json(self.folder / RESULT_NAME, record)

    def _write_note(self) -> None:
        try:
            self._write({"note": self.error})
        except Exception:  # noqa: BLE001, S110 - the warning was logged already
            pass


def snapshot_paths(folder: Path) -> list[Path]:
    """The saved snapshots, in cycle order."""
    found = list(Path(folder).glob("cycle-*.npz"))
    return sorted(found, key=lambda p: int(p.stem.split("-")[1]))


def compare(session: Any, test: Any, paths: list[Path]) -> dict[str, float]:
    """Accuracy on ``test`` of the mean prediction of ``paths`` and of the final weights.

    A fresh copy of the network is built for the snapshots, so the model that
    trains (and its checkpoint) is never touched.
    """
    from cnnlab.build import build_model

    labels = np.concatenate([_class_ids(y) for _, y in test.as_numpy_iterator()])
    images = test.map(lambda x, y: x)
    copy = build_model(session.spec)
    copy.set_weights(session.net.get_weights())
    final = copy.predict(images, verbose=0)
    total = np.zeros_like(final, dtype="float64")
    for path in paths:
        with np.load(path) as stored:
            copy.set_weights([stored[f"arr_{i}"] for i in range(len(stored.files))])
        total += copy.predict(images, verbose=0)
    ensemble = total / len(paths)
    return {
        "test_snapshot_ensemble_accuracy": _accuracy(ensemble, labels),
        "test_final_accuracy": _accuracy(final, labels),
        "snapshot_count": float(len(paths)),
    }


def _class_ids(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    return y.argmax(axis=-1) if y.ndim > 1 else y.astype("int64")


def _accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    if not len(labels):
        return math.nan
    return float(np.mean(np.asarray(scores).argmax(axis=-1) == labels))
