"""Smith's learning-rate range test: an exponential ramp of the rate, the loss at each step.

The rate grows from ``start`` (1e-7) to ``end`` (10) over about 100 training
steps of a fresh copy of the initial model (built from the recipe's seed, a
transfer base's pretrained weights copied in; never a run's weights); the
test stops when the smoothed loss exceeds four times its best (the loss
exploded) or is not finite. The suggestion is the rate where the smoothed
loss falls fastest against log(rate): the steepest descent. A network that
learns little in 100 steps (the default experiment: its loss stays flat until
the rate is too high) gets no suggestion; more steps (300) show its descent.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cnnlab.errors import CnnlabError
from cnnlab.spec.experiment import Experiment

START, END, STEPS = 1e-7, 10.0, 100
MIN_STEPS, MAX_STEPS = 10, 1000
EXPLODED = 4.0  # smoothed loss / best smoothed loss
SMOOTHING = 0.9  # exponential moving average of the loss, bias-corrected
MIN_DESCENT = 0.01  # the smoothed loss must fall this share of its start to suggest a rate
MAX_RATE = 10.0  # the spec's limit on learning_rate


@dataclass(frozen=True)
class LrFindResult:
    """The range test: the rates tried, the raw losses, and the suggested rate (None: none)."""

    rates: tuple[float, ...]
    losses: tuple[float, ...]
    suggested: float | None
    stopped_early: bool = False  # the loss exploded before the last rate

    @property
    def smoothed(self) -> list[float]:
        """The smoothed losses the suggestion is read from."""
        return smooth(self.losses)

    def to_json(self) -> dict:
        """``cnnlab lr-find --json``: ``{"suggested", "rates", "losses"}``."""
        return {"suggested": self.suggested, "rates": list(self.rates),
                "losses": [loss if math.isfinite(loss) else None for loss in self.losses]}


def ramp(steps: int = STEPS, start: float = START, end: float = END) -> list[float]:
    """The exponential ramp: ``steps`` rates from ``start`` to ``end``, evenly spaced in log."""
    if steps == 1:
        return [start]
    return [start * (end / start) ** (i / (steps - 1)) for i in range(steps)]


def smooth(losses: Sequence[float], beta: float = SMOOTHING) -> list[float]:
    """Bias-corrected exponential moving average (a non-finite loss stays non-finite)."""
    out, avg = [], 0.0
    for i, loss in enumerate(losses, start=1):
        if not math.isfinite(loss):
            out.append(float("inf"))
            continue
        avg = beta * avg + (1 - beta) * loss
        out.append(avg / (1 - beta**i))
    return out


def exploded(smoothed: Sequence[float]) -> bool:
    """True when the last smoothed loss is not finite or above four times the best."""
    last = smoothed[-1]
    return not math.isfinite(last) or last > EXPLODED * min(smoothed)


def suggest_rate(rates: Sequence[float], losses: Sequence[float]) -> float | None:
    """The rate of steepest descent of the smoothed loss against log10(rate).

    The first tenth of the ramp (the average still settling) and the points
    after the best smoothed loss (the climb to the explosion) are left out.
    The moving average lags the loss by ``SMOOTHING / (1 - SMOOTHING)`` steps
    (9), so the steepest point of the smoothed curve is read at the rate of
    that many steps earlier: where the loss itself fell fastest.

    Returns:
        The rate, to three significant digits; None with fewer than 5 usable
        points, or when the smoothed loss never fell by ``MIN_DESCENT`` (1 %)
        of its start (a flat curve: its steepest point is noise).
    """
    values = smooth(losses)
    finite = [i for i, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        return None
    best = min(finite, key=lambda i: values[i])
    first = max(1, len(values) // 10)
    if best - first < 4 or values[best] > (1 - MIN_DESCENT) * values[first]:
        return None
    slopes = {i: (values[i + 1] - values[i - 1])
              / (math.log10(rates[i + 1]) - math.log10(rates[i - 1]))
              for i in range(first, best)}
    steepest = min(slopes, key=slopes.get)
    lag = round(SMOOTHING / (1 - SMOOTHING))
    return float(f"{min(rates[max(steepest - lag, 0)], MAX_RATE):.3g}")


def with_learning_rate(exp: Experiment, rate: float) -> Experiment:
    """``exp`` with ``training.optimizer.learning_rate = rate``."""
    if not 0 < rate <= MAX_RATE:
        raise CnnlabError(f"a learning rate must be above 0 and at most {MAX_RATE:g} "
                          f"(got {rate:g})")
    training = exp.training
    optimizer = dataclasses.replace(training.optimizer, learning_rate=float(rate))
    return dataclasses.replace(exp, training=dataclasses.replace(training, optimizer=optimizer))


def find_learning_rate(exp: Experiment, steps: int = STEPS, start: float = START,
                       end: float = END, progress: Callable[[int, int], None] | None = None,
                       should_stop: Callable[[], bool] | None = None) -> LrFindResult:
    """Run the range test on a fresh copy of ``exp``'s initial model.

    The recipe's schedule is replaced by the ramp; everything else (optimizer,
    loss, augmentation, device, transfer phase) is the recipe's.

    Args:
        exp: The experiment.
        steps: Steps of the ramp (10 to 1000).
        start: The first rate (above 0).
        end: The last rate (above ``start``).
        progress: Called with ``(steps done, steps)`` after each step.
        should_stop: Polled after each step; True ends the test early.

    Returns:
        The rates tried, their losses and the suggestion.

    Raises:
        CnnlabError: Bad ramp, or the experiment cannot train (one line).
    """
    _check_ramp(steps, start, end)
    from cnnlab.plan.prepared import prepared_training
    from cnnlab.spec.sections import ScheduleSpec

    constant = dataclasses.replace(exp, training=dataclasses.replace(
        exp.training, schedule=ScheduleSpec(), early_stopping=dataclasses.replace(
            exp.training.early_stopping, enabled=False)))
    rates, losses = [], []
    with prepared_training(constant, single_steps=True, base_weights=True) as ready:
        model, batches = ready.model, iter(ready.sets.train.repeat())
        for rate in ramp(steps, start, end):
            model.optimizer.learning_rate = rate
            x, y = next(batches)
            logs = model.train_on_batch(x, y, return_dict=True)
            rates.append(rate)
            losses.append(float(logs["loss"]))
            if progress is not None:
                progress(len(rates), steps)
            if exploded(smooth(losses)) or (should_stop is not None and should_stop()):
                break
    early = len(rates) < steps and exploded(smooth(losses))
    return LrFindResult(tuple(rates), tuple(losses), suggest_rate(rates, losses), early)


def _check_ramp(steps: int, start: float, end: float) -> None:
    if not MIN_STEPS <= steps <= MAX_STEPS:
        raise CnnlabError(f"the range test takes {MIN_STEPS} to {MAX_STEPS} steps (got {steps})")
    if not 0 < start < end <= MAX_RATE:
        raise CnnlabError(f"the ramp must go up from a rate above 0 to at most {MAX_RATE:g} "
                          f"(got {start:g} to {end:g})")
