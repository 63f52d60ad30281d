"""Buffers that training events append to; plots redraw from them on a timer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from cnnlab.train.events import BatchProgress, EpochEnded

EPOCH_KEYS = ("loss", "val_loss", "accuracy", "val_accuracy")


def _num(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


@dataclass
class CurveBuffers:
    """Per-epoch metrics, per-batch loss and the learning rate, x in (fractional) epochs.

    The rate (``lr_x``, ``lr``) has a point per batch report and one at the end
    of each epoch: batch reports are throttled, so a short epoch may report only
    its first batches, and the rate line still reaches the end of the run.

    Attributes:
        smoothing: Weight of the previous value in the batch-loss moving average.
        dirty: Set by every append; the redraw timer clears it.

    """

    smoothing: float = 0.9
    epoch_x: list[float] = field(default_factory=list)
    epoch: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in EPOCH_KEYS})
    batch_x: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    batch_smooth: list[float] = field(default_factory=list)
    lr_x: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    dirty: bool = False
    _ema: float = math.nan

    def clear(self) -> None:
        """Forget everything (a new run starts)."""
        self.epoch_x.clear()
        for values in self.epoch.values():
            values.clear()
        for values in (self.batch_x, self.batch_loss, self.batch_smooth, self.lr_x, self.lr):
            values.clear()
        self._ema = math.nan
        self.dirty = True

    def add_batch(self, ev: BatchProgress) -> None:
        """Append one batch report; NaN losses are kept as gaps."""
        x = ev.epoch + ev.step / max(ev.steps, 1)
        loss = _num(ev.loss)
        if math.isfinite(loss):
            self._ema = loss if math.isnan(self._ema) else (
                self.smoothing * self._ema + (1 - self.smoothing) * loss)
        self.batch_x.append(x)
        self.batch_loss.append(loss)
        self.batch_smooth.append(self._ema if math.isfinite(loss) else math.nan)
        self._add_rate(x, ev.lr)
        self.dirty = True

    def add_epoch(self, ev: EpochEnded) -> None:
        """Append one epoch's metrics (and its rate) at x = epoch + 1, the end of that epoch."""
        self.epoch_x.append(float(ev.epoch + 1))
        for key, values in self.epoch.items():
            values.append(_num(ev.metrics.get(key, math.nan)))
        if math.isfinite(_num(ev.lr)):
            self._add_rate(float(ev.epoch + 1), ev.lr)
        self.dirty = True

    def _add_rate(self, x: float, lr: object) -> None:
        """Append a rate point; one at the same x as the last replaces it."""
        if self.lr_x and self.lr_x[-1] >= x:
            if self.lr_x[-1] > x:
                return  # an older point (a report arriving late) adds nothing
            self.lr_x.pop()
            self.lr.pop()
        self.lr_x.append(x)
        self.lr.append(_num(lr))

    def values_at(self, x: float) -> dict[str, float]:
        """Return the values nearest to ``x`` (for the crosshair read-out)."""
        out: dict[str, float] = {}
        if self.epoch_x:
            i = min(range(len(self.epoch_x)), key=lambda k: abs(self.epoch_x[k] - x))
            out.update({k: v[i] for k, v in self.epoch.items()})
        if self.batch_x:
            i = min(range(len(self.batch_x)), key=lambda k: abs(self.batch_x[k] - x))
            out["batch loss (smoothed)"] = self.batch_smooth[i]
        if self.lr_x:
            i = min(range(len(self.lr_x)), key=lambda k: abs(self.lr_x[k] - x))
            out["lr"] = self.lr[i]
        return out


def eta_seconds(elapsed: float, done_fraction: float) -> float:
    """Estimate the remaining time from the elapsed time and the fraction done."""
    if done_fraction <= 0 or not math.isfinite(elapsed):
        return math.nan
    return elapsed * (1 - done_fraction) / done_fraction


def format_values(values: dict[str, float]) -> str:
    """Return ``name=value`` pairs for the crosshair label."""
    parts = []
    for key, value in values.items():
        text = "nan" if not math.isfinite(value) else f"{value:.4g}"
        parts.append(f"{key}={text}")
    return "  ".join(parts)
