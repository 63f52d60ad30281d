"""Per-layer learning-rate multipliers for Keras optimizers.

Keras has no per-variable learning rate, but every Keras optimizer computes
its update variable by variable in ``update_step(gradient, variable,
learning_rate)``. :class:`LayerwiseOptimizer` is a mixin that passes
``learning_rate * m`` there, where ``m`` is the multiplier of the variable's
layer. That scales the update itself, not the gradient (scaling Adam's
gradient would not change its step), and it scales decoupled weight decay
too: Keras decays the variables with ``m == 1``, and the others are excluded
from its decay (``exclude_from_weight_decay``) and decayed in ``update_step``
with the rate times ``m``. Variables with ``m == 0`` are left out of the
update altogether, so they stay bit-identical (no weight decay, no
constraint, no slot update). The mixin therefore sets the optimizer's weight
decay exclusions itself, when it is built.

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

from cnnlab.recipe.counter import counter_variable


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
        self._built_variables: list = []

    def build(self, variables):
        """Build the optimizer, and look up each variable's multiplier.

        Keras's own weight decay is limited to the variables with multiplier 1;
        :meth:`update_step` decays the others.
        """
        variables = list(variables)
        multipliers = [multiplier_for(v.path, self.layer_multipliers) for v in variables]
        self.exclude_from_weight_decay(
            var_list=[v for v, m in zip(variables, multipliers, strict=True) if m != 1.0])
        super().build(variables)
        self._multipliers = multipliers
        self._built_variables = variables

    def multiplier(self, variable) -> float:
        """Return the multiplier of a variable the optimizer was built with."""
        # ``_get_variable_index`` is how Keras's own optimizers (and the custom
        # optimizer in Keras's ``Optimizer`` docstring) find a variable's slots; it
        # also maps the TensorFlow variable that ``update_step`` receives.
        return self._multipliers[self._get_variable_index(variable)]

    def apply(self, grads, trainable_variables=None):
        """Apply the gradients of every variable whose multiplier is not 0."""
        if trainable_variables is None:
            trainable_variables = self._built_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            with keras.name_scope(self.name, caller=self):
                self.build(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables, strict=True)
                 if self.multiplier(v) != 0]
        if not pairs:  # nothing to update: the batch still counts, as in Keras's apply
            counter_variable(self).assign_add(1)
            return
        kept_grads = [g for g, _ in pairs]
        kept_vars = [v for _, v in pairs]
        super().apply(kept_grads, kept_vars)

    def update_step(self, gradient, variable, learning_rate):
        """Run the Keras update with the learning rate times the variable's multiplier."""
        m = self.multiplier(variable)
        if m != 1.0:
            self._scaled_weight_decay(variable, learning_rate, m)
            learning_rate = ops.multiply(ops.cast(learning_rate, variable.dtype), m)
        super().update_step(gradient, variable, learning_rate)

    def _scaled_weight_decay(self, variable, learning_rate, m: float) -> None:
        """Decoupled weight decay with the decay times ``m``, as Keras decays the others."""
        if self.weight_decay is None:
            return
        lr = ops.cast(learning_rate, variable.dtype)
        wd = ops.cast(self.weight_decay * m, variable.dtype)
        self.assign_sub(variable, variable * wd * lr)

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
