"""How long training takes: a micro-benchmark of real training steps on the chosen device.

The experiment's model and pipeline are built as a run builds them
(:mod:`cnnlab.plan.prepared`); one warm-up step (which traces and compiles)
is not counted, then 10-20 steps of ``fit`` over the real input pipeline are
timed. The input pipeline alone is timed too, to tell when the model waits
for data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from cnnlab.errors import CnnlabError
from cnnlab.spec.experiment import Experiment

DEFAULT_STEPS = 15
MIN_STEPS, MAX_STEPS = 10, 20
WARMUP_STEPS = 1
Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class StepTiming:
    """Measured seconds per training step and what follows from them.

    Attributes:
        step_seconds: One training step (forward, backward, update) with its batch.
        pipeline_seconds: The input pipeline alone, per batch.
        steps_per_epoch: Batches in one epoch.
        epochs: Epochs of the run.
        batch_size: Images per batch.
        device: The device measured on, for people.
        steps_measured: How many steps were timed (after the warm-up).
    """

    step_seconds: float
    pipeline_seconds: float
    steps_per_epoch: int
    epochs: int
    batch_size: int
    device: str
    steps_measured: int

    @property
    def epoch_seconds(self) -> float:
        """One epoch (training steps only; validation adds a little)."""
        return self.step_seconds * self.steps_per_epoch

    @property
    def run_seconds(self) -> float:
        """The whole run."""
        return self.epoch_seconds * self.epochs

    @property
    def samples_per_second(self) -> float:
        """Training images per second."""
        return self.batch_size / self.step_seconds if self.step_seconds > 0 else 0.0


def measure_steps(exp: Experiment, steps: int = DEFAULT_STEPS,
                  progress: Progress | None = None) -> StepTiming:
    """Time ``steps`` real training steps of ``exp`` after a warm-up step.

    Args:
        exp: The experiment (its model, data, recipe and device).
        steps: Steps to time, 10 to 20.
        progress: Called with ``(what, done, total)`` as the steps run.

    Returns:
        The timing, stated for the device it ran on.

    Raises:
        CnnlabError: ``steps`` is out of range, or the experiment cannot train.
    """
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise CnnlabError(f"the micro-benchmark times {MIN_STEPS} to {MAX_STEPS} steps "
                          f"(got {steps})")
    from cnnlab.plan.prepared import prepared_training

    report = progress or (lambda what, done, total: None)
    with prepared_training(exp) as ready:
        report("building the model and the data pipeline", 0, steps)
        step = _time_fit(ready.model, ready.sets.train, steps, report)
        pipeline = _time_pipeline(ready.sets.train, steps)
        return StepTiming(step_seconds=step, pipeline_seconds=pipeline,
                          steps_per_epoch=ready.sets.steps, epochs=exp.training.epochs,
                          batch_size=exp.training.batch_size, device=ready.plan.name,
                          steps_measured=steps)


def _time_fit(model, train, steps: int, report: Progress) -> float:
    """Seconds per step of ``fit`` over the pipeline, the warm-up step left out."""
    import keras

    stamps: list[tuple[int, float]] = []

    class Stamp(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            stamps.append((int(batch), time.perf_counter()))
            report("timing training steps", max(len(stamps) - WARMUP_STEPS, 0), steps)

    model.fit(train.repeat(), epochs=1, steps_per_epoch=WARMUP_STEPS + steps,
              callbacks=[Stamp()], verbose=0, shuffle=False)
    (first, t0), (last, t1) = stamps[WARMUP_STEPS - 1], stamps[-1]
    return (t1 - t0) / max(last - first, 1)


def _time_pipeline(train, steps: int) -> float:
    """Seconds per batch of the input pipeline alone, its first batch left out."""
    batches = iter(train.repeat())
    next(batches)
    start = time.perf_counter()
    for _ in range(steps):
        next(batches)
    return (time.perf_counter() - start) / steps
