"""The class score that attribution methods differentiate: the pre-softmax logit.

The score of class ``c`` is the logit, never the probability, so that a
confident class still has a useful gradient. How the logit is found, from the
layer that produces the model's (first) output:

* ``Dense`` with a softmax or sigmoid activation: the logit is computed from
  that layer's input and its own weights, ``input @ kernel + bias`` (the
  layer is not cloned; its variables are read live).
* ``Activation``/``Softmax`` layer with softmax or sigmoid: its input.
* Anything else: the output itself (already a score).

For a single sigmoid unit (binary), class 1 scores ``+z`` and class 0 ``-z``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_batch, input_tensor, layer_input, output_tensor, producer

_SQUASHING = ("softmax", "sigmoid")


@dataclass(frozen=True)
class ScoreParts:
    """A model split into a body (a functional model) and a head giving logits.

    Attributes:
        body: Model from the input to the tensor the head reads.
        head: Maps the body's output to logits ``(N, classes)``.
        binary: True for a single sigmoid/logit unit.
        source: One line describing where the logits come from.

    """

    body: keras.Model
    head: Callable[[tf.Tensor], tf.Tensor]
    binary: bool
    source: str


def activation_name(layer: keras.layers.Layer) -> str:
    """Return the name of a layer's activation function ('' if it has none)."""
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    fn = getattr(layer, "activation", None)
    if fn is None:
        return ""
    try:
        name = keras.activations.serialize(fn)
    except (TypeError, ValueError):
        return getattr(fn, "__name__", "")
    return name if isinstance(name, str) else getattr(fn, "__name__", "")


def _dense_head(layer: keras.layers.Layer) -> Callable[[tf.Tensor], tf.Tensor]:
    def head(h: tf.Tensor) -> tf.Tensor:
        z = keras.ops.matmul(h, layer.kernel)
        return z + layer.bias if layer.use_bias else z

    return head


def _build_parts(model: keras.Model) -> ScoreParts:
    inp, out = input_tensor(model), output_tensor(model)
    layer = producer(model, out)
    binary = out.shape[-1] == 1
    act = activation_name(layer) if layer is not None else ""
    if act in _SQUASHING and isinstance(layer, keras.layers.Dense):
        source = f"logits from '{layer.name}' input @ kernel + bias ({act} removed)"
        return ScoreParts(keras.Model(inp, layer_input(model, layer)), _dense_head(layer), binary,
                          source)
    if act in _SQUASHING and isinstance(layer, (keras.layers.Activation, keras.layers.Softmax)):
        source = f"logits = input of '{layer.name}' ({act} removed)"
        return ScoreParts(keras.Model(inp, layer_input(model, layer)), tf.identity, binary,
                          source)
    return ScoreParts(keras.Model(inp, out), tf.identity, binary, "model output (no softmax)")


def score_parts(model: keras.Model) -> ScoreParts:
    """Return the (cached) body/head split of ``model`` for class scores."""
    return cached(model, "score_parts", lambda: _build_parts(model))


def score_source(model: keras.Model) -> str:
    """Return one line telling where the class score of ``model`` comes from."""
    return score_parts(model).source


def pick_scores(logits: tf.Tensor, classes: tf.Tensor, binary: bool) -> tuple[tf.Tensor, tf.Tensor]:
    """Return per-sample scores and the classes used; a class ``< 0`` means the predicted one.

    Args:
        logits: ``(N, K)`` logits (``K == 1`` when ``binary``).
        classes: ``(N,)`` int32 class indices, ``-1`` for "the predicted class".
        binary: Whether the logits are one sigmoid unit.

    Returns:
        ``(scores (N,), classes (N,))``.

    """
    logits = tf.reshape(logits, (tf.shape(logits)[0], -1))
    if binary:
        z = logits[:, 0]
        predicted = tf.cast(z > 0, tf.int32)
        classes = tf.where(classes < 0, predicted, classes)
        return tf.where(classes == 1, z, -z), classes
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    classes = tf.where(classes < 0, predicted, classes)
    return tf.gather(logits, classes, axis=1, batch_dims=1), classes


def num_classes(model: keras.Model) -> int:
    """Return the number of classes (2 for a single sigmoid unit)."""
    k = output_tensor(model).shape[-1]
    return 2 if k == 1 else int(k)


def class_labels(model: keras.Model, names: Sequence[str] | None = None) -> list[str]:
    """One name per class: ``names`` when there is one for every class, else the indices."""
    k = num_classes(model)
    labels = [str(n) for n in names or []]
    return labels if len(labels) == k else [str(i) for i in range(k)]


def class_array(model: keras.Model, n: int, class_index: int | None) -> np.ndarray:
    """Return ``n`` copies of ``class_index`` as int32 (``-1`` for "predicted").

    Raises:
        InspectError: If the class index is out of range.

    """
    k = num_classes(model)
    if class_index is not None and not 0 <= int(class_index) < k:
        raise InspectError(f"Class index {class_index} is out of range; the model has {k} classes")
    return np.full((n,), -1 if class_index is None else int(class_index), dtype=np.int32)


def _logits_fn(model: keras.Model):
    parts = score_parts(model)

    @tf.function(reduce_retracing=True)
    def logits(x):
        return parts.head(parts.body(x, training=False))

    return logits


def logits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """Return the class logits of a batch as ``(N, K)`` float32."""
    fn = cached(model, "logits", lambda: _logits_fn(model))
    x = as_batch(model, images)
    return np.asarray(fn(x), dtype=np.float32).reshape(len(x), -1)


def predicted_class(model: keras.Model, image: np.ndarray) -> int:
    """Return the class the model predicts for one image."""
    z = logits(model, as_batch(model, image))[0]
    return int(z[0] > 0) if z.shape[0] == 1 else int(np.argmax(z))
