"""Guided backpropagation (Springenberg et al. 2015).

At every ReLU the gradient passes only where both the forward input and the
backward gradient are positive. The model's forward pass is re-run layer by
layer through its own functional graph (branches, ``Add`` and
``Concatenate`` included, nested models too), calling the original layers, so their weights are
used live and the model is never changed. Behind every ReLU (a layer with
``activation="relu"``, an ``Activation("relu")`` or a plain ``ReLU`` layer)
the walk inserts a guided gate made with ``tf.custom_gradient``: identity
forward, ``max(gradient, 0)`` backward. The ReLU's own backward pass then
masks where its input was not positive, so together they apply the guided
rule ``g * (x > 0) * (g > 0)`` exactly, without rebuilding any layer.

The score is the class logit (see :mod:`cnnlab.inspect.score`).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.attribution import class_gradient_fn
from cnnlab.inspect.cache import cached
from cnnlab.inspect.graph import as_single
from cnnlab.inspect.score import activation_name, class_array

_RELU_NAMES = ("relu", "relu6")


@tf.custom_gradient
def guided_gate(y: tf.Tensor):
    """Pass ``y`` forward unchanged; pass only the positive part of the gradient back."""

    def backward(dy: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(dy)

    return tf.identity(y), backward


def is_relu(layer: object) -> bool:
    """Tell whether a layer ends in a plain ReLU (not leaky, no threshold)."""
    if isinstance(layer, keras.layers.ReLU):
        slope = float(getattr(layer, "negative_slope", 0.0) or 0.0)
        return slope == 0.0 and float(getattr(layer, "threshold", 0.0) or 0.0) == 0.0
    if not isinstance(layer, keras.layers.Layer) or isinstance(layer, keras.Model):
        return False
    return activation_name(layer) in _RELU_NAMES


def _guided_operation(op: Callable) -> Callable:
    if isinstance(op, keras.Sequential):
        return lambda x, **kwargs: _guided_sequence(op.layers, x)
    if isinstance(op, keras.Model) and len(getattr(op, "inputs", None) or []) == 1:
        return lambda x, **kwargs: guided_forward(op, x)
    if not is_relu(op):
        return op

    def call(*args, **kwargs):
        return guided_gate(op(*args, **kwargs))

    return call


def _guided_sequence(layers: list, x: tf.Tensor) -> tf.Tensor:
    for layer in layers:
        x = _guided_operation(layer)(x)
    return x


def guided_forward(body: keras.Model, x: tf.Tensor) -> tf.Tensor:
    """Run ``body`` (a functional model) on ``x`` with guided gates behind every ReLU.

    Nested models (a base model kept as one layer, e.g. from an ``.h5`` file)
    are walked the same way, so their ReLUs are guided too.
    """
    # Keras's own graph walk (as used by Functional.call); each op is wrapped.
    out = body._run_through_graph([x], operation_fn=_guided_operation)
    return out[0] if isinstance(out, (list, tuple)) else out


def guided_backprop(
    model: keras.Model, image: np.ndarray, class_index: int | None = None
) -> np.ndarray:
    """Return the guided-backpropagation gradient of one image.

    Args:
        model: The model.
        image: One image shaped like the model's input.
        class_index: The class to explain; ``None`` for the predicted class.

    Returns:
        Float32 array shaped like one input sample (channels kept, signed);
        show it with :func:`cnnlab.inspect.images.signed_to_unit`.

    """
    x = as_single(model, image)
    fn = cached(model, "guided_gradient", lambda: class_gradient_fn(model, guided_forward))
    grads, _ = fn(tf.constant(x), tf.constant(class_array(model, 1, class_index)))
    return np.asarray(grads, dtype=np.float32)[0]
