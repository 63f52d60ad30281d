"""The recipe's optimizer: a Keras optimizer with schedule, clipping, decay and accumulation.

Two counters (Keras's own): the *batch counter* (a variable,
:func:`cnnlab.recipe.counter.counter_variable`) counts the batches the
optimizer has seen, and the learning-rate schedule is evaluated at it;
``optimizer.iterations`` counts *updates*. They are the same without gradient
accumulation; with N accumulation steps ``iterations`` is the batch counter
floor-divided by N, a computed tensor that cannot be assigned. Set and read
the schedule position with :func:`set_batch_counter` and
:func:`batch_counter`, never through ``iterations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from cnnlab.errors import SpecError
from cnnlab.recipe.counter import counter_variable
from cnnlab.recipe.layerwise import LAYERWISE
from cnnlab.recipe.schedules import make_schedule
from cnnlab.spec.sections import TrainingSpec

_KERAS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
          "adamw": keras.optimizers.AdamW, "rmsprop": keras.optimizers.RMSprop,
          "adagrad": keras.optimizers.Adagrad}


def make_optimizer(training: TrainingSpec, steps_per_epoch: int,
                   lr_multipliers: Mapping[str, float] | None = None, *,
                   start_step: int = 0) -> keras.optimizers.Optimizer:
    """Build the recipe's optimizer.

    Args:
        training: The recipe (``optimizer``, ``schedule``,
            ``gradient_accumulation_steps``).
        steps_per_epoch: Batches per epoch; the schedule counts batches, also
            with gradient accumulation (see :mod:`cnnlab.recipe.schedules`).
        lr_multipliers: ``{layer name: m}`` from
            :func:`cnnlab.recipe.transfer.apply_phase`. When any m differs from
            1 the optimizer is the matching ``Layerwise*`` class, which scales
            those layers' updates (m = 0 freezes them exactly).
        start_step: Batch counter to start from, so that a later transfer
            phase (which recompiles with a new optimizer) continues the
            schedule instead of restarting it: pass
            ``phase.start_epoch * steps_per_epoch`` (batches, also with
            gradient accumulation; see :func:`set_batch_counter`).

    Returns:
        A new, unbuilt Keras optimizer.

    Raises:
        SpecError: When clipnorm and clipvalue are both set.

    """
    kwargs = _common_kwargs(training)
    kwargs["learning_rate"] = make_schedule(training, steps_per_epoch)
    kwargs.update(_specific_kwargs(training))
    name = training.optimizer.name
    multipliers = {k: float(v) for k, v in (lr_multipliers or {}).items()}
    if any(m != 1.0 for m in multipliers.values()):
        optimizer = LAYERWISE[name](layer_multipliers=multipliers, **kwargs)
    else:
        optimizer = _KERAS[name](**kwargs)
    if start_step:
        set_batch_counter(optimizer, start_step)
    return optimizer


def batch_counter(optimizer: keras.optimizers.Optimizer) -> int:
    """Return the batches the optimizer has seen (the schedule's position).

    With gradient accumulation this is N times the number of updates (plus
    the batches of an unfinished group); without, it equals ``iterations``.
    """
    return int(keras.ops.convert_to_numpy(counter_variable(optimizer)))


def set_batch_counter(optimizer: keras.optimizers.Optimizer, batches: int) -> None:
    """Move the schedule to batch ``batches`` (a phase start: epoch x batches per epoch).

    Keras has no public setter: ``iterations`` is read-only under gradient
    accumulation, so this assigns the batch counter variable itself.
    """
    counter_variable(optimizer).assign(int(batches))


def update_count(optimizer: keras.optimizers.Optimizer) -> int:
    """Return the optimizer updates applied so far (Keras's ``iterations``)."""
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def _common_kwargs(training: TrainingSpec) -> dict[str, Any]:
    """Arguments every Keras optimizer takes: decay, clipping, accumulation."""
    o = training.optimizer
    if o.clipnorm is not None and o.clipvalue is not None:
        raise SpecError("training.optimizer.clipvalue",
                        "set clipnorm or clipvalue, not both (Keras allows one)")
    out: dict[str, Any] = {"clipnorm": o.clipnorm, "clipvalue": o.clipvalue}
    if o.weight_decay is not None:
        out["weight_decay"] = float(o.weight_decay)
    steps = int(training.gradient_accumulation_steps)
    if steps > 1:
        out["gradient_accumulation_steps"] = steps
    return out


def _specific_kwargs(training: TrainingSpec) -> dict[str, Any]:
    """Arguments of the chosen optimizer (Keras names)."""
    o = training.optimizer
    if o.name == "sgd":
        return {"momentum": o.momentum, "nesterov": o.nesterov}
    if o.name in ("adam", "adamw"):
        return {"beta_1": o.beta_1, "beta_2": o.beta_2, "epsilon": o.epsilon}
    if o.name == "rmsprop":
        return {"momentum": o.momentum, "epsilon": o.epsilon}
    return {"epsilon": o.epsilon}
