"""Layers and regularizers Keras lacks: Maxout, local response normalization, KL sparsity.

All are registered Keras serializables (package ``cnnlab``), so saved models
load in plain Keras once ``cnnlab.layers`` is imported.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="cnnlab")
class Maxout(keras.layers.Layer):
    """Maxout units (Goodfellow et al. 2013): ``max_k (x W_k + b_k)`` over k pieces.

    Applied to the last axis, like Dense, so it works on vectors and (per
    position) on feature maps.
    """

    def __init__(self, units: int, pieces: int = 2, kernel_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, activity_regularizer=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.pieces = int(pieces)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)

    def build(self, input_shape):
        """Create a kernel of shape (inputs, units * pieces) and its bias."""
        width = self.units * self.pieces
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], width), initializer="glorot_uniform",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight(name="bias", shape=(width,), initializer="zeros",
                                    regularizer=self.bias_regularizer)

    def call(self, inputs):
        """The max over the pieces of each unit."""
        z = ops.matmul(inputs, self.kernel) + self.bias
        shape = ops.shape(z)
        z = ops.reshape(z, (*shape[:-1], self.units, self.pieces))
        return ops.max(z, axis=-1)

    def compute_output_shape(self, input_shape):
        """Same as Dense: the last axis becomes ``units``."""
        return (*input_shape[:-1], self.units)

    def get_config(self):
        """Serializable configuration."""
        return {
            **super().get_config(),
            "units": self.units,
            "pieces": self.pieces,
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": keras.constraints.serialize(self.kernel_constraint),
        }


@keras.saving.register_keras_serializable(package="cnnlab")
class LocalResponseNormalization(keras.layers.Layer):
    """AlexNet's NORM: ``x / (k + alpha * sum_{nearby c} x_c^2) ** beta`` across channels."""

    def __init__(self, depth_radius: int = 2, bias: float = 2.0, alpha: float = 1e-4,
                 beta: float = 0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = int(depth_radius)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, inputs):
        """Normalise each value by the energy of its neighbouring channels."""
        r = self.depth_radius
        squared = ops.square(inputs)
        channels = ops.shape(inputs)[-1]
        padded = ops.pad(squared, [[0, 0]] * (len(inputs.shape) - 1) + [[r, r]])
        total = padded[..., 0:channels]
        for i in range(1, 2 * r + 1):
            total = total + padded[..., i:i + channels]
        return inputs / ops.power(self.bias + self.alpha * total, self.beta)

    def compute_output_shape(self, input_shape):
        """Shape is unchanged."""
        return input_shape

    def get_config(self):
        """Serializable configuration."""
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="cnnlab")
class KLSparsity(keras.regularizers.Regularizer):
    """Sparsity penalty ``beta * sum_j KL(rho || q_j)`` on mean activations ``q_j``.

    ``q_j`` is the mean activation of unit (channel) ``j`` over the batch and
    positions, clipped into (0, 1); the lectures' cross-entropy form differs
    from KL only by a constant.
    """

    def __init__(self, rho: float = 0.05, beta: float = 1e-3, l1: float = 0.0):
        self.rho = float(rho)
        self.beta = float(beta)
        self.l1 = float(l1)

    def __call__(self, x):
        """The penalty for a batch of activations.

        Keras divides a layer's activity penalty by the batch size. The KL
        term is already a statistic of the batch, so it is multiplied by the
        batch size here and the layer's loss stays ``beta * sum_j KL``
        whatever the batch size (the L1 term becomes a mean per sample, as
        with Keras's own L1).
        """
        axes = tuple(range(len(x.shape) - 1))
        q = ops.clip(ops.mean(x, axis=axes), 1e-6, 1.0 - 1e-6)
        rho = self.rho
        kl = rho * ops.log(rho / q) + (1 - rho) * ops.log((1 - rho) / (1 - q))
        batch = ops.cast(ops.shape(x)[0], kl.dtype)
        penalty = self.beta * ops.sum(kl) * batch
        if self.l1:
            penalty = penalty + self.l1 * ops.sum(ops.abs(x))
        return penalty

    def get_config(self):
        """Serializable configuration."""
        return {"rho": self.rho, "beta": self.beta, "l1": self.l1}
