"""Guided backpropagation (Springenberg et al. 2015).

At every ReLU the gradient passes only where both the forward input and the
backward gradient are positive. :func:`guided_model` makes a guided copy of
the model's body with Keras's ``clone_model``: every layer that ends in a
ReLU (a layer with ``activation="relu"``, an ``Activation("relu")`` or a
plain ``ReLU`` layer) is replaced by :class:`GuidedReLU`, which calls that
same layer and then a guided gate made with ``tf.custom_gradient``: identity
forward, ``max(gradient, 0)`` backward. The ReLU's own backward pass then
masks where its input was not positive, so together they apply the guided
rule ``g * (x > 0) * (g > 0)`` exactly. Every other layer is reused as it
is, nested models (a base kept as one layer, e.g. from an ``.h5`` file) are
cloned the same way, so the copy shares the model's weights live and the
model itself is never changed.

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
from cnnlab.inspect.score import activation_name, class_array, score_parts

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


class GuidedReLU(keras.layers.Layer):
    """A ReLU-ending layer followed by the guided gate; the wrapped layer is shared, not copied.

    Args:
        layer: The layer whose output goes through the gate (its name is kept).

    """

    def __init__(self, layer: keras.layers.Layer):
        super().__init__(name=layer.name, dtype=layer.dtype_policy)
        self.layer = layer

    def call(self, inputs):
        """Run the wrapped layer, then the gate."""
        return guided_gate(self.layer(inputs))

    def compute_output_spec(self, inputs):
        """The wrapped layer's output (the gate does not change it)."""
        return self.layer.compute_output_spec(inputs)


def _guided_layer(layer: keras.layers.Layer) -> keras.layers.Layer:
    return GuidedReLU(layer) if is_relu(layer) else layer


def guided_model(body: keras.Model) -> keras.Model:
    """Return a copy of ``body`` (a functional or sequential model) with guided ReLUs.

    The copy calls ``body``'s own layers (so their weights are used live), each
    ReLU-ending one inside a :class:`GuidedReLU`; nested models are copied the
    same way.
    """
    return keras.models.clone_model(body, clone_function=_guided_layer, recursive=True)


def _guided_gradient_fn(model: keras.Model) -> Callable:
    guided = guided_model(score_parts(model).body)
    return class_gradient_fn(model, lambda body, x: guided(x, training=False))


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
    fn = cached(model, "guided_gradient", lambda: _guided_gradient_fn(model))
    grads, _ = fn(tf.constant(x), tf.constant(class_array(model, 1, class_index)))
    return np.asarray(grads, dtype=np.float32)[0]
