"""Putting a parent run's checkpoint into a branch's model: weights and optimizer state.

The parent's model is rebuilt from its own spec exactly as a resume would
(augmentation wrapper, transfer phase, compiled optimizer) and its kept
checkpoint loaded, so its optimizer state is read back by Keras itself. Then
the branch (see :mod:`cnnlab.train.fork`) gets every weight by block id and
every optimizer variable by name (``conv1_kernel_momentum``; its batch
counter too); the learning rate is the branch's own. A variable the parent's
optimizer did not have (a base layer the branch unfreezes) starts at zero,
as Keras starts it.

Only the training session imports it (Keras is loaded by then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnlab.errors import RunError
from cnnlab.train import preparation as prep
from cnnlab.train.checkpoints import Checkpoints
from cnnlab.train.fork import ForkPoint

# Optimizer variables a branch never takes from its parent: the rate is the steer.
OWN_VARIABLES = frozenset({"learning_rate"})


@dataclass(frozen=True)
class ParentState:
    """The parent's state at the fork: layer weights by block id, optimizer variables by name."""

    weights: dict[str, list[np.ndarray]]
    optimizer: dict[tuple[str, int], np.ndarray]
    steps_per_epoch: int


def variable_name(variable: Any) -> str:
    """An optimizer variable's name without its optimizer's prefix (``adam/``, ``adam_1/``)."""
    return str(variable.path).split("/", 1)[-1]


def keyed_variables(optimizer: Any) -> list[tuple[tuple[str, int], Any]]:
    """An optimizer's variables keyed by (name, occurrence).

    A name that comes twice (a loss-scale wrapper's own ``iteration`` and its
    inner optimizer's, say) is told apart by its order.
    """
    seen: dict[str, int] = {}
    out = []
    for variable in optimizer.variables:
        name = variable_name(variable)
        seen[name] = seen.get(name, -1) + 1
        out.append(((name, seen[name]), variable))
    return out


def read_parent(point: ForkPoint, plan: Any, data: Any, steps: int) -> ParentState:
    """Rebuild the parent's model as it trained at the fork and load its kept checkpoint.

    Raises:
        RunError: The checkpoint does not load into the parent's own model.
    """
    from cnnlab.build import build_model
    from cnnlab.spec.load import experiment_from_dict

    parent = experiment_from_dict(dict(point.parent_spec))
    training, state = parent.training, point.state
    phases = prep.phases(training, state.epochs_planned or training.epochs)
    with plan.scope():
        net = build_model(parent)
        model = prep.with_augmentation(net, training, prep.value_range(data))
        multipliers = prep.apply_phase(net, training, phases[min(state.phase, len(phases) - 1)])
        prep.compile_model(model, training, data.num_classes, plan,
                           state.steps_per_epoch or steps, multipliers)
        try:
            Checkpoints(point.checkpoint.parent).restore(model, state, with_optimizer=True,
                                                         path=point.checkpoint)
        except (ValueError, OSError) as exc:
            raise RunError(f"run {point.parent}'s checkpoint after epoch {point.epoch} does "
                           f"not load: {exc}") from None
    weights = {layer.name: layer.get_weights() for layer in net.layers if layer.weights}
    import keras

    slots = {key: keras.ops.convert_to_numpy(v) for key, v in keyed_variables(model.optimizer)}
    return ParentState(weights, slots, state.steps_per_epoch)


def check_weights(net: Any, parent: ParentState, parent_id: str) -> None:
    """Refuse a branch whose network differs from the parent's (its weights cannot load).

    Raises:
        RunError: Naming the first block whose weights differ, or that one side lacks.
    """
    own = {layer.name: layer for layer in net.layers if layer.weights}
    for name in sorted(set(own) | set(parent.weights)):
        if name not in parent.weights:
            _refuse(parent_id, f"block {name} is new")
        if name not in own:
            _refuse(parent_id, f"block {name} is missing")
        mine = [tuple(w.shape) for w in own[name].get_weights()]
        theirs = [tuple(w.shape) for w in parent.weights[name]]
        if mine != theirs:
            _refuse(parent_id, f"block {name} has weights {mine}, the parent's are {theirs}")


def _refuse(parent_id: str, what: str) -> None:
    raise RunError(f"this experiment's network differs from run {parent_id}'s ({what}), so "
                   f"the parent's weights cannot load; a branch changes the recipe, not the "
                   f"network")


def graft(net: Any, optimizer: Any, parent: ParentState) -> list[str]:
    """Set the branch's weights and optimizer variables to the parent's.

    Args:
        net: The branch's network (checked by :func:`check_weights`).
        optimizer: Its compiled and built optimizer.
        parent: From :func:`read_parent`.

    Returns:
        The optimizer variables that started fresh (none when nothing changed
        which layers train).
    """
    for layer in net.layers:
        if layer.name in parent.weights:
            layer.set_weights(parent.weights[layer.name])
    fresh = []
    for key, variable in keyed_variables(optimizer):
        value = parent.optimizer.get(key)
        if key[0] in OWN_VARIABLES:
            continue
        if value is None or tuple(value.shape) != tuple(variable.shape):
            fresh.append(key[0])
            continue
        variable.assign(value)
    return fresh
