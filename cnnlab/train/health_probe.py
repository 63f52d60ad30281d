"""The measurements behind the training-health check, on one fixed small batch.

:class:`HealthProbe` builds, once per ``fit``, a view of the network that
also returns the output of every ReLU, and one ``tf.function`` that runs the
fixed batch forward (inference mode: no batch-norm statistics change) and
backward through the recipe's loss, with no optimizer update. It returns per
weighted layer the gradient norm, the weight norm and the fraction of dead
ReLU units (a unit dead = zero for every sample and position of the batch).
The same step gives the per-step update ratio: the weights now against a
copy kept on the device before the epoch's last batch (:meth:`HealthProbe.snapshot`).

Weighted layers are the network's top-level layers with trainable weights,
normalization layers aside (a frozen layer has none); a ReLU that is not a
weighted layer's own activation counts for the weighted layer it follows
(through batch-norm, dropout and the like), or for itself after a merge.
Imports TensorFlow and Keras at import time; only the health observer imports it.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

NORMALIZATION = (keras.layers.BatchNormalization, keras.layers.LayerNormalization,
                 keras.layers.GroupNormalization, keras.layers.UnitNormalization)
PASS_THROUGH = (keras.layers.BatchNormalization, keras.layers.Dropout,
                keras.layers.SpatialDropout2D, keras.layers.GaussianNoise,
                keras.layers.Activation, keras.layers.ReLU)
CHECK_BATCH = 32  # samples in the fixed batch (a forward and backward pass of it)


EAGER_CHECKS = 3  # epochs checked eagerly before the check is compiled


def weighted_layers(net: Any) -> list:
    """The network's top-level layers that train weights (normalization aside)."""
    return [layer for layer in net.layers
            if layer.trainable_weights and not isinstance(layer, NORMALIZATION)]


def is_relu(layer: Any) -> bool:
    """True when the layer's output is a (plain or capped) ReLU's."""
    if isinstance(layer, keras.layers.ReLU):
        return not float(getattr(layer, "negative_slope", 0.0) or 0.0)
    fn = getattr(layer, "activation", None)
    return fn is keras.activations.relu or fn is keras.activations.relu6


def _producer(layer: Any) -> Any:
    """The layer whose output is ``layer``'s single input, or None."""
    try:
        inputs = layer.input
    except (AttributeError, ValueError):  # shared layers, merges with many inputs
        return None
    if isinstance(inputs, (list, tuple)):
        return None
    history = getattr(inputs, "_keras_history", None)
    return getattr(history, "operation", None) if history is not None else None


def owner_of(layer: Any, weighted: set) -> Any:
    """The weighted layer a ReLU output counts for (itself when none comes first)."""
    current = layer
    while id(current) not in weighted:
        if current is not layer and not isinstance(current, PASS_THROUGH):
            return layer
        current = _producer(current)
        if current is None:
            return layer
    return current


def relu_outputs(net: Any, weighted: list) -> list[tuple[str, Any]]:
    """(layer name it counts for, output tensor) of every top-level ReLU output."""
    ids = {id(layer) for layer in weighted}
    out = []
    for layer in net.layers:
        if isinstance(layer, keras.Model) or not is_relu(layer):
            continue
        try:
            tensor = layer.output
        except (AttributeError, ValueError):  # a shared layer has no single output
            continue
        out.append((owner_of(layer, ids).name, tensor))
    return out


class HealthProbe:
    """One compiled gradient step on a fixed batch, and sampled update ratios.

    Args:
        net: The network being trained (layer names are block ids).
        loss: The compiled loss, ``loss(y_true, y_pred)``.
        x: The fixed batch's inputs (numpy).
        y: Its labels in the training format.
    """

    def __init__(self, net: Any, loss: Any, x: np.ndarray, y: Any):
        self.layers = weighted_layers(net)
        self.names = [layer.name for layer in self.layers]
        relus = relu_outputs(net, self.layers)
        self.relu_names = [name for name, _ in relus]
        outputs = [tensor for _, tensor in relus]
        self._model = keras.Model(net.inputs, [*outputs, *net.outputs])
        self._loss = keras.losses.get(loss) if isinstance(loss, str) else loss
        self._x = tf.constant(x)
        self._y = tf.constant(y)
        self._weights = [list(layer.trainable_weights) for layer in self.layers]
        self._snapshot: list | None = None
        self._step = tf.function(self._measure, autograph=False)
        self._calls = 0

    def snapshot(self, steps: int = 1) -> None:
        """Keep the weights as they are now, ``steps`` optimizer steps before the epoch ends."""
        self._snapshot = ([tf.identity(v.value) for vs in self._weights for v in vs],
                          max(int(steps), 0))

    def measure(self) -> dict[str, dict[str, float]]:
        """The numbers of every weighted layer.

        Returns:
            Per layer: ``grad_norm``, ``weight_norm``, ``update_ratio`` (per
            step, when a snapshot was kept) and, feeding a ReLU, ``dead``.
        """
        if self._snapshot is None:
            self.snapshot(0)  # the same kind of arguments (no second trace), no ratio
        (before, steps), self._snapshot = self._snapshot, None
        # Eager for the first epochs: tracing costs about as much as a dozen eager
        # checks, which a short run (a test, a quick look) never repays.
        self._calls += 1
        step = self._step if self._calls > EAGER_CHECKS else self._measure
        loss, grads, weights, changes, dead = (
            t.numpy() for t in step(self._x, self._y, list(before)))
        out = {}
        for name, g, w, c in zip(self.names, grads, weights, changes, strict=True):
            out[name] = {"grad_norm": float(g), "weight_norm": float(w)}
            if steps:
                out[name]["update_ratio"] = float(c) / steps
        worst: dict[str, float] = {}
        for name, fraction in zip(self.relu_names, dead, strict=True):
            worst[name] = max(worst.get(name, 0.0), float(fraction))
        for name, fraction in worst.items():
            out.setdefault(name, {})["dead"] = fraction
        self.loss = float(loss)
        return out

    def _measure(self, x, y, before):
        variables = [v.value for vs in self._weights for v in vs]
        with tf.GradientTape() as tape:
            tape.watch(variables)
            *acts, pred = _as_list(self._model(x, training=False))
            loss = self._loss(y, tf.cast(pred, tf.float32))
        flat = tape.gradient(loss, variables, unconnected_gradients="zero")
        grads, weights, changes, i = [], [], [], 0
        for vs in self._weights:
            part = slice(i, i + len(vs))
            grads.append(_norm(flat[part]))
            weights.append(_norm(variables[part]))
            moved = [tf.cast(v, tf.float32) - tf.cast(b, tf.float32)
                     for v, b in zip(variables[part], before[part], strict=True)]
            changes.append(_norm(moved) / tf.maximum(_norm(before[part]), 1e-12))
            i += len(vs)
        dead = [_dead_fraction(a) for a in acts]
        return (loss, *(tf.stack(v) if v else tf.zeros([0]) for v in (grads, weights, changes)),
                tf.stack(dead) if dead else tf.zeros([0]))


def _as_list(outputs: Any) -> list:
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _norm(tensors: list) -> tf.Tensor:
    """The L2 norm of several tensors together, in float32."""
    if not tensors:
        return tf.constant(0.0)
    return tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(t, tf.float32))) for t in tensors]))


def _dead_fraction(activation: tf.Tensor) -> tf.Tensor:
    """The fraction of channels (last axis) that are zero for every sample and position."""
    a = tf.cast(activation, tf.float32)
    axes = list(range(len(a.shape) - 1))
    alive = tf.reduce_max(a, axis=axes) > 0.0
    return 1.0 - tf.reduce_mean(tf.cast(alive, tf.float32))


def fixed_batch(data: Any, training: Any, size: int = CHECK_BATCH) -> tuple[np.ndarray, Any]:
    """The check batch: the first samples of the validation split (else training).

    The labels are converted to the training format (one-hot for smoothing,
    mixing or the SVM head), as the validation pipeline does.
    """
    from cnnlab.recipe import make_eval_labels, uses_one_hot

    split = "val" if data.sizes.get("val") else "train"
    x, y = data.samples(split, size)
    if not uses_one_hot(training):  # class indices, as they are
        return x, y
    ds = make_eval_labels(tf.data.Dataset.from_tensors((x, y)), training, data.num_classes)
    x_t, y_t = next(iter(ds))
    return x_t.numpy(), y_t.numpy()
