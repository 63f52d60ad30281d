"""The training-health rules: thresholds, the sentence each finding says, and what to try.

Pure Python (no TensorFlow): :func:`judge` turns one epoch's numbers per
weighted layer (see :mod:`cnnlab.train.health_probe`) and the run's epoch
losses into :class:`~cnnlab.train.events.HealthWarning` values. The numbers:

- ``dead``: the fraction of a layer's ReLU units that output zero for every
  sample of the fixed check batch (a dead unit passes no gradient back, so it
  never recovers by itself).
- ``grad_norm`` / ``weight_norm``: the L2 norm of the loss's gradient on the
  check batch and of the weights; their ratio is the layer's *relative
  gradient*, comparable between layers of different sizes.
- ``update_ratio``: how much one optimizer step changes the layer, ``|dW| / |W|``,
  sampled on the epoch's last batch (CS231n's rule of thumb: about 1e-3).

The thresholds (one sentence each):

- :data:`DEAD_FRACTION` (0.5): a layer whose units are at least half dead
  has lost most of its capacity ("mostly dead").
- :data:`VANISHING_FACTOR` (1e-3): a layer whose relative gradient is a
  thousand times smaller than the best-fed layer's barely learns: the
  gradient vanishes on its way back through the layers above (a mostly dead
  layer is told as dead, which explains its missing gradient).
- :data:`EXPLODING_RATIO` (10): a gradient ten times the size of the weights
  (or a non-finite one) throws the weights far away in one step.
- :data:`LARGE_UPDATE_RATIO` (0.1): one step that changes a layer by a tenth
  of its size (100 times the healthy 1e-3) means the learning rate is too high.
- :data:`STALL_EPOCHS` (3) and :data:`STALL_CHANGE` (1 %): a training loss
  that moved less than 1 % over three epochs while above
  :data:`STALL_MIN_LOSS` (0.05, not yet fitted) is stuck.

The remedies are the lectures': ReLU variants (leaky ReLU, ELU), batch-norm,
a lower learning rate, better initialisation (He), shortcut connections.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from cnnlab.train.events import HealthWarning

DEAD_FRACTION = 0.5
VANISHING_FACTOR = 1e-3
EXPLODING_RATIO = 10.0
LARGE_UPDATE_RATIO = 0.1
STALL_EPOCHS = 3
STALL_CHANGE = 0.01
STALL_MIN_LOSS = 0.05
TINY = 1e-12  # below this a norm counts as zero

KINDS = ("dead", "vanishing", "exploding", "large_updates", "stalled")
# What each kind is called in one word or two (the Training view's "what" column).
TITLES = {"dead": "dead ReLU units", "vanishing": "vanishing gradient",
          "exploding": "exploding gradient", "large_updates": "steps too large",
          "stalled": "loss not moving"}
REMEDIES = {
    "dead": "try leaky ReLU or ELU instead of ReLU, He initialisation, a lower learning rate, "
            "or batch-norm before the activation",
    "vanishing": "try ReLU (or leaky ReLU, ELU) instead of sigmoid or tanh, batch-norm, "
                 "He initialisation, or shortcut (residual) connections",
    "exploding": "try a lower learning rate, gradient clipping (clipnorm), batch-norm, "
                 "or He initialisation",
    "large_updates": "try a lower learning rate (or a schedule that lowers it), "
                     "or gradient clipping",
    "stalled": "try another learning rate (cnnlab lr-find suggests one), batch-norm, "
               "ReLU instead of saturating activations, and check the data and labels",
}


def relative_gradient(numbers: Mapping[str, float]) -> float:
    """``grad_norm / weight_norm`` of one layer (inf for zero weights with a gradient)."""
    grad, weight = numbers.get("grad_norm", math.nan), numbers.get("weight_norm", math.nan)
    if not math.isfinite(grad):
        return math.inf
    if weight <= TINY:
        return 0.0 if grad <= TINY else math.inf
    return grad / weight


def judge(epoch: int, layers: Mapping[str, Mapping[str, float]], losses: Sequence[float],
          seen: Iterable[tuple[str, str]] = ()) -> list[HealthWarning]:
    """The findings of one epoch.

    Args:
        epoch: The 0-based epoch just checked.
        layers: Per weighted layer: ``grad_norm``, ``weight_norm``,
            ``update_ratio`` and (feeding a ReLU) ``dead``.
        losses: The training loss of every epoch so far, this one last.
        seen: (layer, kind) pairs already reported in this run (their warnings
            are not ``new``).

    Returns:
        The warnings, layer by layer in ``layers``' order, the stalled loss last.
    """
    seen = set(seen)
    found: list[tuple[str, str, str, float]] = []
    best = max((r for r in map(relative_gradient, layers.values()) if math.isfinite(r)),
               default=0.0)
    for name, numbers in layers.items():
        found.extend((name, kind, text, value)
                     for kind, text, value in _layer_findings(numbers, best))
    stalled = _stalled(losses)
    if stalled is not None:
        found.append(("", "stalled", *stalled))
    return [HealthWarning(epoch=epoch, layer=name, kind=kind, message=_sentence(name, text),
                          remedy=REMEDIES[kind], value=float(value),
                          new=(name, kind) not in seen)
            for name, kind, text, value in found]


def _sentence(layer: str, text: str) -> str:
    return f"{layer}: {text}" if layer else text


def _layer_findings(numbers: Mapping[str, float], best: float) -> list[tuple[str, str, float]]:
    out = []
    dead = numbers.get("dead")
    if dead is not None and dead >= DEAD_FRACTION:
        out.append(("dead", f"{dead:.0%} of its ReLU units output zero for every sample of "
                            f"the check batch (dead units pass no gradient and do not recover)",
                    dead))
    rel = relative_gradient(numbers)
    if rel > EXPLODING_RATIO:
        what = "not finite" if not math.isfinite(numbers.get("grad_norm", math.nan)) \
            else f"{rel:.3g} times the size of its weights"
        out.append(("exploding", f"its gradient is {what}, so one step throws the weights "
                                 f"far away", rel))
    elif best > TINY and rel < VANISHING_FACTOR * best and not out:  # dead explains it
        factor = best / rel if rel > 0 else math.inf
        text = ("it gets no gradient at all" if rel <= 0
                else f"its relative gradient is {factor:.3g} times smaller than the "
                     f"best-fed layer's")
        out.append(("vanishing", f"{text}, so it barely learns (the gradient vanishes on "
                                 f"its way back)", rel))
    update = numbers.get("update_ratio", math.nan)
    if math.isfinite(update) and update > LARGE_UPDATE_RATIO:
        out.append(("large_updates", f"one optimizer step changes its weights by {update:.1%} "
                                     f"of their size (about 0.1% is healthy)", update))
    return out


def _stalled(losses: Sequence[float]) -> tuple[str, float] | None:
    """(sentence, relative change) when the last :data:`STALL_EPOCHS` losses hardly moved."""
    window = [float(v) for v in losses[-STALL_EPOCHS:]]
    if len(window) < STALL_EPOCHS or not all(math.isfinite(v) for v in window):
        return None
    top = max(abs(v) for v in window)
    if top < STALL_MIN_LOSS:
        return None
    change = (max(window) - min(window)) / top
    if change >= STALL_CHANGE:
        return None
    return (f"the training loss moved by only {change:.2%} over the last {STALL_EPOCHS} epochs "
            f"(it stays near {window[-1]:.4g})", change)
