"""Learning-rate schedules from the recipe: Keras schedules plus a linear warm-up.

Step unit: one step is one training batch. Keras evaluates a schedule at the
optimizer's batch counter (:mod:`cnnlab.recipe.counter`), also with gradient
accumulation, where the public ``optimizer.iterations`` counts updates
instead; an update made after N accumulated batches uses the rate of its last
batch. So ``steps_per_epoch`` is the number of batches per epoch, with or
without accumulation, and :func:`lr_curve` has one value per batch.

The trainer keeps that position right: a transfer phase that compiles a new
optimizer starts its batch counter at ``phase start epoch x batches per
epoch`` (:func:`cnnlab.recipe.optimizers.set_batch_counter`; ``iterations``
cannot be assigned under accumulation), and a resumed run restores it from
the checkpoint. Accumulation groups follow the batch counter, so when a
phase starts in the middle of a group (batches per epoch x head epochs not
a multiple of N) its first update sums fewer than N batches' gradients and
still divides by N (a smaller step).

Durations are in epochs and are measured from the end of the warm-up (the
schedule starts when the warm-up ends), except ``step`` boundaries, which
are absolute epochs of the run.

There is one linear warm-up, :class:`LinearWarmUp`: the schedules wrap their
rate in it, and ``plateau`` (a float rate that Keras's ``ReduceLROnPlateau``
changes) has :class:`cnnlab.recipe.callbacks.WarmUpCallback` set the rate
from it batch by batch.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from cnnlab.spec.sections import TrainingSpec

schedules = keras.optimizers.schedules


@keras.saving.register_keras_serializable(package="cnnlab")
class LinearWarmUp(schedules.LearningRateSchedule):
    """Ramp linearly from 0 to ``target`` over ``warmup_steps``, then run ``after``.

    ``after`` (a float or a schedule) starts at its own step 0 when the
    warm-up ends; ``target`` is its value there, so the rate is continuous.
    With ``warmup_steps == 0`` it is ``after`` from step 0.
    """

    def __init__(self, after, warmup_steps: int, target: float, name: str = "LinearWarmUp"):
        super().__init__()
        if isinstance(after, dict):
            after = schedules.deserialize(after)
        self.after = after
        self.warmup_steps = int(warmup_steps)
        self.target = float(target)
        self.name = name

    def __call__(self, step):
        """Return the learning rate at ``step`` (a scalar or a vector of steps)."""
        step = ops.cast(step, "float32")
        warm = float(self.warmup_steps)
        ramp = self.target * step / max(warm, 1.0)
        if isinstance(self.after, schedules.LearningRateSchedule):
            rest = ops.cast(self.after(ops.maximum(step - warm, 0.0)), "float32")
        else:
            rest = ops.full_like(step, float(self.after))
        return ops.where(step < warm, ramp, rest)

    def get_config(self):
        """Serializable configuration (the inner schedule serialized)."""
        after = self.after
        if isinstance(after, schedules.LearningRateSchedule):
            after = schedules.serialize(after)
        return {"after": after, "warmup_steps": self.warmup_steps, "target": self.target,
                "name": self.name}


def warmup_steps(training: TrainingSpec, steps_per_epoch: int) -> int:
    """Return the number of warm-up batches (``warmup_epochs * steps_per_epoch``, rounded)."""
    return warmup_batches(training.schedule.warmup_epochs, steps_per_epoch)


def warmup_batches(warmup_epochs: float, steps_per_epoch: int) -> int:
    """Return ``warmup_epochs * steps_per_epoch`` rounded to whole batches."""
    return int(round(float(warmup_epochs) * int(steps_per_epoch)))


def constant_warm_up(warmup_epochs: float, steps_per_epoch: int, target: float) -> LinearWarmUp:
    """The warm-up of a constant rate: 0 to ``target`` over the warm-up, then ``target``."""
    return LinearWarmUp(float(target), warmup_batches(warmup_epochs, steps_per_epoch),
                        float(target))


def make_schedule(training: TrainingSpec, steps_per_epoch: int):
    """Build the learning rate of the recipe: a float or a ``LearningRateSchedule``.

    Args:
        training: The recipe (``optimizer.learning_rate`` and ``schedule``).
        steps_per_epoch: Batches per epoch (see the module docstring).

    Returns:
        ``constant`` and ``plateau``: the base rate as a float (``plateau``'s
        reductions and warm-up come from :func:`cnnlab.recipe.recipe_callbacks`,
        because Keras can only change a float rate). Otherwise a Keras schedule,
        wrapped in :class:`LinearWarmUp` when ``warmup_epochs > 0``.

    """
    spe = max(int(steps_per_epoch), 1)
    lr = float(training.optimizer.learning_rate)
    name = training.schedule.name
    if name == "plateau":
        return lr
    warm = warmup_steps(training, spe)
    inner, target = _inner_schedule(training, spe, warm)
    if warm <= 0:
        return inner
    return LinearWarmUp(inner, warm, target)


def _inner_schedule(training: TrainingSpec, spe: int, warm: int):
    """Return the schedule that follows the warm-up, and its value at its own step 0."""
    s = training.schedule
    lr = float(training.optimizer.learning_rate)
    if s.name == "step":
        return _step_schedule(training, spe, warm)
    if s.name == "exponential":
        return schedules.ExponentialDecay(lr, spe, s.decay_rate), lr
    if s.name == "cosine":
        total = max(training.epochs * spe - warm, 1)
        return schedules.CosineDecay(lr, total, alpha=s.alpha), lr
    if s.name == "cosine_restarts":
        first = max(int(round(s.first_decay_epochs * spe)), 1)
        return schedules.CosineDecayRestarts(lr, first, t_mul=s.t_mul, m_mul=s.m_mul,
                                             alpha=s.alpha), lr
    return lr, lr


def _step_schedule(training: TrainingSpec, spe: int, warm: int):
    """PiecewiseConstantDecay: the rate is multiplied by gamma from each boundary epoch on.

    Boundaries are absolute epochs; Keras keeps the old value up to and
    including a boundary step, so a drop at relative step r is given as r - 1.
    Boundaries inside the warm-up lower the rate the warm-up ramps to.
    """
    s = training.schedule
    lr = float(training.optimizer.learning_rate)
    starts = [int(round(b * spe)) - warm for b in s.boundaries]
    early = sum(1 for r in starts if r <= 0)
    later = sorted(r for r in starts if r > 0)
    first = lr * s.gamma ** early
    if not later:
        return first, first
    bounds, values = [], [first]
    for r in later:
        if bounds and bounds[-1] == r - 1:
            values[-1] *= s.gamma
        else:
            bounds.append(r - 1)
            values.append(values[-1] * s.gamma)
    return schedules.PiecewiseConstantDecay(bounds, values), first


def lr_curve(training: TrainingSpec, steps_per_epoch: int,
             epochs: int | None = None) -> np.ndarray:
    """Return the learning rate at every batch of the planned run, for plotting.

    Args:
        training: The recipe.
        steps_per_epoch: Batches per epoch.
        epochs: Epochs to cover (default ``training.epochs``); the schedule is
            still planned for ``training.epochs``.

    Returns:
        A float64 array of ``epochs * steps_per_epoch`` rates; ``plateau``
        shows its warm-up and then the base rate (its reductions depend on
        the run).

    """
    spe = max(int(steps_per_epoch), 1)
    total = (training.epochs if epochs is None else int(epochs)) * spe
    steps = np.arange(total, dtype=np.float32)
    schedule = make_schedule(training, spe)
    s = training.schedule
    if s.name == "plateau" and warmup_steps(training, spe) > 0:
        schedule = constant_warm_up(s.warmup_epochs, spe, float(schedule))
    if not isinstance(schedule, schedules.LearningRateSchedule):
        return np.full(total, float(schedule))
    if total == 0:
        return np.zeros(0)
    values = ops.convert_to_numpy(schedule(ops.convert_to_tensor(steps)))
    return np.broadcast_to(np.asarray(values, dtype=np.float64), (total,)).copy()
