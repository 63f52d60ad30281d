"""Training-health observer: dead units, gradient norms and update ratios after each epoch.

After every complete epoch (before it is checkpointed and recorded) the
:class:`HealthMonitor` measures the network on one fixed small batch with one
compiled gradient step (:mod:`cnnlab.train.health_probe`), with the update
ratio of the epoch's last batch (sampled), applies the rules of
:mod:`cnnlab.train.health_rules`, appends the record to the run folder's
``health.jsonl`` (:mod:`cnnlab.train.health_store`) and sends a
:class:`~cnnlab.train.events.TrainingHealth` to the sink. A resumed run reads
the records its checkpoint holds (the losses and the warnings already given).

Set the environment variable ``CNNLAB_HEALTH=0`` (or ``off``) to train
without the check (the benchmark compares both). NaN and infinite losses
stay the trainer's: an epoch it does not record is not checked either. The
check never fails a run: its first error turns it off with a note in the log.
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any

import keras

from cnnlab.train import health_store
from cnnlab.train.events import TrainingHealth
from cnnlab.train.health_rules import judge

LOG = logging.getLogger("cnnlab.train")
ENV_SWITCH = "CNNLAB_HEALTH"
OFF_VALUES = ("0", "off", "false", "no")


def enabled() -> bool:
    """False when ``CNNLAB_HEALTH`` turns the check off."""
    return os.environ.get(ENV_SWITCH, "1").strip().lower() not in OFF_VALUES


def callbacks(session: Any, ctx: Any) -> list:
    """The health monitor of one ``fit`` (none when switched off)."""
    return [HealthMonitor(session, ctx)] if enabled() else []


class HealthMonitor(keras.callbacks.Callback):
    """Checks the network after every recorded epoch and reports what looks unhealthy.

    Args:
        session: The :class:`~cnnlab.train.session.Session` (its ``net``,
            ``model``, ``data``, ``training``, ``store``).
        ctx: The run's :class:`~cnnlab.train.callbacks.RunContext`.
    """

    def __init__(self, session: Any, ctx: Any):
        super().__init__()
        self.session = session
        self.ctx = ctx
        self.run_dir = session.store.runs_dir / ctx.run_id
        self.probe: Any = None
        self.error: str | None = None
        self.losses: list[float] = []
        self.seen: set[tuple[str, str]] = set()

    # -- Keras hooks (each guarded: the check never fails a run) ----------------------------

    def on_train_begin(self, logs=None):
        """Read what earlier epochs recorded and build the probe."""
        self._guarded(self._begin)

    def on_train_batch_begin(self, batch, logs=None):
        """Keep the weights before the epoch's last batch (the sampled step)."""
        if self.probe is not None and batch + self._per_call() >= self.ctx.steps:
            self._guarded(self.probe.snapshot, self.ctx.steps - batch)

    def on_epoch_end(self, epoch, logs=None):
        """Check an epoch the recorder will record; send and store the report."""
        loss = (logs or {}).get("loss")
        ctx = self.ctx
        if self.probe is None or ctx.stopped_mid_epoch or ctx.nan is not None \
                or not isinstance(loss, (int, float)) or not math.isfinite(loss):
            return
        self._guarded(self._check, epoch, float(loss))

    # -- the work ---------------------------------------------------------------------------

    def _begin(self) -> None:
        from cnnlab.train.health_probe import HealthProbe, fixed_batch

        records = health_store.keep_epochs_before(self.run_dir, self.ctx.epochs_done)
        self.losses = [r["loss"] if isinstance(r.get("loss"), float) else math.nan
                       for r in records]
        self.seen = {(w.get("layer", ""), w.get("kind", "")) for r in records
                     for w in r.get("warnings", []) if isinstance(w, dict)}
        s = self.session
        x, y = fixed_batch(s.data, s.training)
        self.probe = HealthProbe(s.net, s.model.loss, x, y)

    def _per_call(self) -> int:
        """Batches per compiled call (Keras reports only the first and last of each)."""
        return max(int(getattr(self.model, "steps_per_execution", 1) or 1), 1)

    def _check(self, epoch: int, loss: float) -> None:
        started = time.perf_counter()
        layers = self.probe.measure()
        self.losses.append(loss)
        warnings = tuple(judge(epoch, layers, self.losses, self.seen))
        self.seen.update((w.layer, w.kind) for w in warnings)
        report = TrainingHealth(epoch=epoch, layers=layers, warnings=warnings, loss=loss,
                              seconds=time.perf_counter() - started)
        health_store.append_report(self.run_dir, report)
        self.ctx.sink(report)

    def _guarded(self, step, *args) -> None:
        if self.error is not None:
            return
        try:
            step(*args)
        except Exception as exc:  # noqa: BLE001 - the check never fails a run
            self.error = f"training-health check turned off: {type(exc).__name__}: {exc}"
            self.probe = None
            LOG.warning(self.error)
