"""Gradient ascent on the input: settings, progress events and the shared loop.

Like training, a run reports only through ``sink(event)`` with small frozen
dataclasses and is stopped only through a token with an ``is_set()`` method
(e.g. ``threading.Event``), checked before every step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.images import gaussian_blur


class StopToken(Protocol):
    """Anything with ``is_set()``; a set token stops the run before the next step."""

    def is_set(self) -> bool:
        """Tell whether the run should stop."""


@dataclass(frozen=True)
class AscentProgress:
    """One step done: ``value`` is the objective at that step (before its update)."""

    step: int
    total: int
    value: float


Sink = Callable[[AscentProgress], None]
# objective(x) -> (value per sample, gradient of the summed value w.r.t. x)
Objective = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class AscentSettings:
    """How to climb.

    Attributes:
        steps: Number of gradient steps.
        step_size: Mean change per pixel per step, as a fraction of the value
            range (the gradient is divided by its root mean square).
        jitter: Random shift of up to this many pixels per step (0 = off).
        blur_every: Blur the image every this many steps (0 = never).
        blur_sigma: Standard deviation of the blur, in pixels.
        l2_decay: Each step, pull the image toward mid-range by this fraction.
        seed: Seed of the start image and the jitter.
        start_noise: Spread of the random start around mid-range, as a
            fraction of the value range.
        report_interval: Least seconds between progress events (the first
            and last step are always reported).

    """

    steps: int = 100
    step_size: float = 0.02
    jitter: int = 2
    blur_every: int = 4
    blur_sigma: float = 0.5
    l2_decay: float = 1e-3
    seed: int = 0
    start_noise: float = 0.05
    report_interval: float = 0.05

    def check(self) -> None:
        """Raise :class:`InspectError` for settings that cannot run."""
        if self.steps < 1 or self.step_size <= 0 or self.jitter < 0 or self.blur_every < 0:
            raise InspectError("Gradient ascent needs steps >= 1, step_size > 0, jitter >= 0 "
                               "and blur_every >= 0")
        if not 0 <= self.l2_decay < 1:
            raise InspectError("l2_decay must be in [0, 1)")


@dataclass(frozen=True, eq=False)
class AscentResult:
    """The outcome of a gradient-ascent run.

    Attributes:
        image: The final input, float32, shaped like one model input.
        values: Objective at each step taken (jittered image, before the update).
        start_value: Objective of the start image.
        final_value: Objective of the final image.
        stopped: True when the stop token ended the run early.

    """

    image: np.ndarray
    values: np.ndarray
    start_value: float
    final_value: float
    stopped: bool


class Reporter:
    """Forward progress to a sink, at most one event per ``interval`` seconds."""

    def __init__(self, sink: Sink | None, total: int, interval: float):
        self._sink, self._total, self._interval = sink, total, interval
        self._last = -float("inf")

    def __call__(self, step: int, value: float, force: bool = False) -> None:
        """Report ``step`` unless the last report was too recent (always when forced)."""
        now = time.monotonic()
        due = force or step in (1, self._total) or now - self._last >= self._interval
        if self._sink is not None and due:
            self._last = now
            self._sink(AscentProgress(step=step, total=self._total, value=float(value)))


def random_start(shape: tuple[int, ...], value_range: tuple[float, float],
                 settings: AscentSettings) -> np.ndarray:
    """Return a small random image ``(1, *shape)`` around the middle of the range."""
    lo, hi = value_range
    rng = np.random.default_rng(settings.seed)
    noise = rng.normal(0.0, settings.start_noise * (hi - lo), size=(1, *shape))
    return np.clip((lo + hi) / 2 + noise, lo, hi).astype(np.float32)


def _step(x: np.ndarray, objective: Objective, rng: np.random.Generator,
          s: AscentSettings, span: float) -> tuple[np.ndarray, float]:
    dy, dx = (rng.integers(-s.jitter, s.jitter + 1, size=2) if s.jitter else (0, 0))
    value, grad = objective(np.roll(x, (dy, dx), axis=(1, 2)))
    grad = np.roll(grad, (-dy, -dx), axis=(1, 2))
    rms = float(np.sqrt(np.mean(np.square(grad)))) + 1e-12
    return x + s.step_size * span * grad / rms, float(np.sum(value))


def ascend(objective: Objective, start: np.ndarray, settings: AscentSettings,
           value_range: tuple[float, float], sink: Sink | None = None,
           stop: StopToken | None = None) -> AscentResult:
    """Maximise ``objective`` from ``start`` by normalised gradient ascent.

    Each step: random shift (jitter), gradient, step, L2 decay toward the
    middle of ``value_range``, blur every ``blur_every`` steps, clip to the range.

    Returns:
        An :class:`AscentResult`.

    """
    settings.check()
    lo, hi = value_range
    mid, span = (lo + hi) / 2, hi - lo
    rng = np.random.default_rng(settings.seed + 1)
    report = Reporter(sink, settings.steps, settings.report_interval)
    x = np.asarray(start, dtype=np.float32).copy()
    start_value = float(np.sum(objective(x)[0]))
    values: list[float] = []
    for step in range(1, settings.steps + 1):
        if stop is not None and stop.is_set():
            break
        x, value = _step(x, objective, rng, settings, span)
        x = mid + (x - mid) * (1.0 - settings.l2_decay)
        if settings.blur_every and step % settings.blur_every == 0:
            x = gaussian_blur(x, settings.blur_sigma)
        x = np.clip(x, lo, hi).astype(np.float32)
        values.append(value)
        report(step, value)
    stopped = len(values) < settings.steps
    final_value = float(np.sum(objective(x)[0]))
    if stopped and values:
        report(len(values), values[-1], force=True)
    return AscentResult(x[0], np.asarray(values, np.float32), start_value, final_value, stopped)
