"""Per-layer learning-rate multipliers for Keras optimizers.

Keras has no per-variable learning rate, but every Keras optimizer computes
its update variable by variable in ``update_step(gradient, variable,
learning_rate)``. :class:`LayerwiseOptimizer` is a mixin that passes
``learning_rate * m`` there, where ``m`` is the multiplier of the variable's
layer. That scales the update itself, not the gradient (scaling Adam's
gradient would not change its step), and it scales decoupled weight decay
too. Variables with ``m == 0`` are left out of the update altogether, so they
stay bit-identical (no weight decay, no constraint, no slot update).

The concrete classes (``LayerwiseSGD``, ``LayerwiseAdam``, ...) are plain Keras
optimizers otherwise: same variables, same ``iterations`` and
``learning_rate``, gradient accumulation, and they save and load in a
``.keras`` file (registered, package ``cnnlab``; the multipliers are in the
config). A variable's layer is found by its path (``conv1/kernel`` belongs to
layer ``conv1``; the deepest path segment named in the multipliers wins).
"""

from __future__ import annotations

from collections.abc import Mapping

import keras
from keras import ops


def multiplier_for(path: str, multipliers: Mapping[str, float]) -> float:
    """Return the multiplier of a variable path; 1.0 when no layer in it is named."""
    for segment in reversed(path.split("/")[:-1]):
        if segment in multipliers:
            return float(multipliers[segment])
    return 1.0


class LayerwiseOptimizer:
    """Mixin: scale each variable's update by its layer's learning-rate multiplier.

    Use it in front of a Keras optimizer class:
    ``class LayerwiseAdam(LayerwiseOptimizer, keras.optimizers.Adam)``.

    Args:
        layer_multipliers: ``{layer name: m}``; layers not named use 1.0.
        *args: The Keras optimizer's arguments.
        **kwargs: The Keras optimizer's keyword arguments.

    """

    def __init__(self, *args, layer_multipliers: Mapping[str, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer_multipliers = {str(k): float(v) for k, v in
                                  (layer_multipliers or {}).items()}
        self._multipliers: list[float] = []

    def build(self, variables):
        """Build the optimizer, and look up each variable's multiplier."""
        super().build(variables)
        self._multipliers = [multiplier_for(v.path, self.layer_multipliers)
                             for v in variables]

    def multiplier(self, variable) -> float:
        """Return the multiplier of a variable the optimizer was built with."""
        return self._multipliers[self._get_variable_index(variable)]

    def apply(self, grads, trainable_variables=None):
        """Apply the gradients of every variable whose multiplier is not 0."""
        if trainable_variables is None:
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            with keras.name_scope(self.name, caller=self):
                self.build(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables, strict=True)
                 if self.multiplier(v) != 0]
        if not pairs:
            self._iterations.assign_add(1)
            return
        kept_grads = [g for g, _ in pairs]
        kept_vars = [v for _, v in pairs]
        super().apply(kept_grads, kept_vars)

    def update_step(self, gradient, variable, learning_rate):
        """Run the Keras update with the learning rate times the variable's multiplier."""
        m = self.multiplier(variable)
        if m != 1.0:
            learning_rate = ops.multiply(ops.cast(learning_rate, variable.dtype), m)
        super().update_step(gradient, variable, learning_rate)

    def _apply_weight_decay(self, variables):
        """Decoupled weight decay, scaled by each group's multiplier like the update."""
        decay = self.weight_decay
        if decay is None:
            return super()._apply_weight_decay(variables)
        groups: dict[float, list] = {}
        for v in variables:
            groups.setdefault(self.multiplier(v), []).append(v)
        try:
            for m, group in groups.items():
                # Keras reads ``weight_decay`` while it applies it; scale it per group.
                self.weight_decay = decay * m
                super()._apply_weight_decay(group)
        finally:
            self.weight_decay = decay

    def get_config(self):
        """Return the optimizer's config plus the multipliers."""
        return {**super().get_config(), "layer_multipliers": dict(self.layer_multipliers)}


@keras.saving.register_keras_serializable(package="cnnlab")
class LayerwiseSGD(LayerwiseOptimizer, keras.optimizers.SGD):
    """SGD with per-layer learning-rate multipliers."""


@keras.saving.register_keras_serializable(package="cnnlab")
class LayerwiseAdam(LayerwiseOptimizer, keras.optimizers.Adam):
    """Adam with per-layer learning-rate multipliers."""


@keras.saving.register_keras_serializable(package="cnnlab")
class LayerwiseAdamW(LayerwiseOptimizer, keras.optimizers.AdamW):
    """AdamW with per-layer learning-rate multipliers."""


@keras.saving.register_keras_serializable(package="cnnlab")
class LayerwiseRMSprop(LayerwiseOptimizer, keras.optimizers.RMSprop):
    """RMSprop with per-layer learning-rate multipliers."""


@keras.saving.register_keras_serializable(package="cnnlab")
class LayerwiseAdagrad(LayerwiseOptimizer, keras.optimizers.Adagrad):
    """Adagrad with per-layer learning-rate multipliers."""


LAYERWISE = {"sgd": LayerwiseSGD, "adam": LayerwiseAdam, "adamw": LayerwiseAdamW,
             "rmsprop": LayerwiseRMSprop, "adagrad": LayerwiseAdagrad}
