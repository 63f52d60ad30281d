"""The lab's Keras callbacks: live events, the stop/pause token, NaN guard, checkpoints.

:class:`BatchMonitor` runs after every batch and must stay cheap: Keras has
already turned the batch logs into floats, so it compares a clock, reads two
flags and checks that the loss is finite; events go out at most every 50 ms.
:class:`EpochRecorder` writes each completed epoch's checkpoint, then records
it in the run store and sends :class:`~cnnlab.train.events.EpochEnded`; an
epoch cut short by a stop is neither checkpointed nor recorded (a resumed run
trains it again from its start).
:class:`Heartbeat` tells the store, from a side thread, that the run is alive.

This module imports Keras at import time; it is only imported by the trainer.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from cnnlab.train.checkpoints import Checkpoints
from cnnlab.train.events import BatchProgress, CheckpointWritten, Control, EpochEnded

LOG = logging.getLogger("cnnlab.train")
PROGRESS_INTERVAL_S = 0.05
LR_INTERVAL_S = 0.5


@dataclass
class RunContext:
    """What the callbacks share with the trainer during one ``fit``.

    The trainer fills the first group; the callbacks fill the outcome fields.
    """

    sink: Callable[[Any], None]
    control: Control
    run_id: str
    store: Any
    checkpoints: Checkpoints
    epochs: int
    steps: int
    started: float = field(default_factory=time.monotonic)
    state: dict = field(default_factory=dict)  # extra state.json fields (phase, ...)
    epochs_done: int = 0
    last_metrics: dict = field(default_factory=dict)
    stopped_by_user: bool = False
    stopped_mid_epoch: bool = False  # the stop came before the epoch's last batch
    nan: tuple[int, int, float] | None = None  # (epoch, step, loss) of the first bad batch


def current_lr(model: Any) -> float:
    """The optimizer's learning rate now (the schedule's value at the current step)."""
    try:
        return float(model.optimizer.learning_rate)
    except (AttributeError, TypeError, ValueError):
        return math.nan


class BatchMonitor(keras.callbacks.Callback):
    """After each batch: throttled progress, NaN guard, pause and stop."""

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.ctx = ctx
        self._epoch = 0
        self._last_emit = -math.inf
        self._last_lr_read = -math.inf
        self._lr = math.nan

    def on_epoch_begin(self, epoch, logs=None):
        """Remember the epoch for the progress events."""
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """Check the loss, send progress (at most every 50 ms), then honour the token."""
        loss = logs.get("loss") if logs else None
        if isinstance(loss, float) and not math.isfinite(loss):
            self.ctx.nan = self.ctx.nan or (self._epoch, batch + 1, loss)
            self.model.stop_training = True
            return
        now = time.monotonic()
        if now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self._progress(batch, loss, logs, now)
        control = self.ctx.control
        if control.paused:
            control.wait_if_paused()
            self._last_emit = time.monotonic()
        if control.stop_requested:
            self.ctx.stopped_by_user = True
            self.ctx.stopped_mid_epoch = batch + 1 < self.ctx.steps
            self.model.stop_training = True

    def on_test_batch_end(self, batch, logs=None):
        """Skip validating weights that are already NaN."""
        if self.ctx.nan is not None:
            self.model.stop_evaluating = True

    def _progress(self, batch: int, loss: Any, logs: dict, now: float) -> None:
        if now - self._last_lr_read >= LR_INTERVAL_S:
            self._last_lr_read = now
            self._lr = current_lr(self.model)
        acc = logs.get("accuracy")
        self.ctx.sink(BatchProgress(
            epoch=self._epoch, step=batch + 1, steps=self.ctx.steps,
            loss=float(loss) if loss is not None else math.nan, lr=self._lr,
            elapsed=now - self.ctx.started, accuracy=float(acc) if _number(acc) else None,
        ))


class EpochRecorder(keras.callbacks.Callback):
    """After each completed epoch: write the checkpoint, store the metrics, send EpochEnded.

    The order is what a kill at any moment can never contradict: the index
    never counts an epoch that the checkpoint does not hold. The checkpoint's
    ``state.json`` carries the epoch's metrics, so a resume after a kill
    between the checkpoint and the index records them (see
    :func:`recover_last_epoch`).
    """

    def __init__(self, ctx: RunContext):
        super().__init__()
        self.ctx = ctx
        self._t0 = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        """Start the epoch's clock."""
        self._t0 = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        """Record a finite, complete epoch; a NaN or stopped-short epoch is never saved."""
        if self.ctx.stopped_mid_epoch:
            return
        logs = logs or {}
        seconds = time.monotonic() - self._t0
        loss = logs.get("loss")
        if self.ctx.nan is not None or not _finite(loss):
            if self.ctx.nan is None:
                self.ctx.nan = (epoch, self.ctx.steps, float(loss) if loss is not None
                                else math.nan)
            self.model.stop_training = True
            return
        lr = current_lr(self.model)
        metrics = {k: float(v) for k, v in logs.items() if _number(v)}
        metrics.update(lr=lr, seconds=seconds)
        ctx = self.ctx
        written = ctx.checkpoints.save(self.model, epoch, logs, {**ctx.state, "metrics": metrics})
        ctx.store.record_epoch(ctx.run_id, epoch, metrics)
        ctx.epochs_done = epoch + 1
        ctx.last_metrics = metrics
        ctx.sink(EpochEnded(epoch=epoch, epochs=ctx.epochs, metrics=metrics, lr=lr,
                            seconds=seconds))
        for path, best in written:
            ctx.sink(CheckpointWritten(epoch=epoch, path=str(path), best=best))


def recover_last_epoch(store: Any, run_id: str, state: Any) -> dict:
    """Record the checkpointed epoch's metrics when a kill kept them out of the index.

    Args:
        store: The run store.
        run_id: The resumed run.
        state: Its :class:`~cnnlab.train.checkpoints.CheckpointState` (or None).

    Returns:
        The metrics of the last checkpointed epoch ({} when unknown).
    """
    if state is None or not state.epochs_done:
        return {}
    last = state.epochs_done - 1
    table = store.metrics(run_id)
    recorded = {k: v[last] for k, v in table.items() if len(v) > last and not math.isnan(v[last])}
    if recorded or not state.metrics:
        return recorded
    store.record_epoch(run_id, last, state.metrics)
    return dict(state.metrics)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    return _number(value) and math.isfinite(value)


class BestEffort(keras.callbacks.Callback):
    """Run an optional callback's train and epoch hooks; its first error turns it off.

    For extras such as filter snapshots: they must never fail a run.

    Args:
        inner: The optional callback.
        target: The model it should see (the network itself rather than a
            training wrapper); None for the model being fitted.
    """

    def __init__(self, inner: Any, target: Any = None):
        super().__init__()
        self.inner = inner
        self._target = target
        self.error: str | None = None

    def set_model(self, model):
        """Give the inner callback its model."""
        super().set_model(model)
        self.inner.set_model(self._target if self._target is not None else model)

    def set_params(self, params):
        """Pass Keras's parameters on."""
        super().set_params(params)
        self.inner.set_params(params)

    def _call(self, hook: str, *args) -> None:
        if self.error is not None:
            return
        try:
            getattr(self.inner, hook)(*args)
        except Exception as exc:  # noqa: BLE001 - an optional extra never fails the run
            self.error = f"{type(self.inner).__name__} turned off: {type(exc).__name__}: {exc}"
            LOG.warning(self.error)

    def on_train_begin(self, logs=None):
        """Forward."""
        self._call("on_train_begin", logs)

    def on_epoch_begin(self, epoch, logs=None):
        """Forward."""
        self._call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        """Forward."""
        self._call("on_epoch_end", epoch, logs)

    def on_train_end(self, logs=None):
        """Forward."""
        self._call("on_train_end", logs)


class Heartbeat:
    """Beat the store every few seconds from a daemon thread while a run trains.

    Use as a context manager around training; a failing beat is ignored (the
    next one tries again).
    """

    def __init__(self, store: Any, run_id: str, every_s: float = 10.0):
        self._store = store
        self._run_id = run_id
        self._every = every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._done.wait(self._every):
            try:
                self._store.heartbeat(self._run_id)
            except Exception:  # noqa: BLE001, S112 - a missed beat is harmless
                continue
