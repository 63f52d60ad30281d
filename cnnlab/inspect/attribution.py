"""Gradient saliency: vanilla and SmoothGrad (Smilkov et al. 2017).

The map is the gradient of the class score (the pre-softmax logit, see
:mod:`cnnlab.inspect.score`) with respect to the input pixels, reduced to one
value per pixel by the maximum absolute value over channels. Maps are raw
magnitudes; use :func:`cnnlab.inspect.scaling.to_unit` for display.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_batch, as_single, input_tensor, value_range
from cnnlab.inspect.score import class_array, pick_scores, score_parts


def class_gradient_fn(model: keras.Model, forward=None):
    """A traced ``(x, classes) -> (d score / d x, classes used)`` for a model.

    Args:
        model: The classifier.
        forward: ``forward(body, x)`` runs the model's body (everything before
            the score); the default is the plain forward pass. Guided
            backpropagation passes its guided-ReLU forward here.
    """
    parts = score_parts(model)
    inp = input_tensor(model)
    spec = tf.TensorSpec((None, *inp.shape[1:]), inp.dtype)
    run_body = forward or (lambda body, x: body(x, training=False))

    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
    def gradient(x, classes):
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores, used = pick_scores(parts.head(run_body(parts.body, x)), classes,
                                       parts.binary)
        return tape.gradient(scores, x), used

    return gradient


def input_gradients(
    model: keras.Model, images: np.ndarray, class_index: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the gradients of the class scores with respect to a batch of inputs.

    Args:
        model: The model.
        images: One image or a batch, shaped like the model's input.
        class_index: The class to explain; ``None`` for each image's predicted class.

    Returns:
        ``(gradients, classes)``: float32 like the batch, and the int classes used.

    """
    x = as_batch(model, images)
    fn = cached(model, "input_gradient", lambda: class_gradient_fn(model))
    grads, used = fn(tf.constant(x), tf.constant(class_array(model, len(x), class_index)))
    return np.asarray(grads, dtype=np.float32), np.asarray(used)


def abs_max(gradient: np.ndarray) -> np.ndarray:
    """Reduce ``(..., H, W, C)`` gradients to ``(..., H, W)`` by the max absolute value."""
    return np.max(np.abs(gradient), axis=-1)


def saliency(model: keras.Model, image: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """Return the vanilla gradient saliency map of one image.

    Args:
        model: The model.
        image: One image shaped like the model's input (a batch axis of 1 is allowed).
        class_index: The class to explain; ``None`` for the predicted class.

    Returns:
        ``(H, W)`` float32, the max over channels of ``|d score / d pixel|``.

    """
    grads, _ = input_gradients(model, as_single(model, image), class_index)
    return abs_max(grads[0])


def smoothgrad(
    model: keras.Model,
    image: np.ndarray,
    class_index: int | None = None,
    samples: int = 25,
    sigma: float = 0.15,
    seed: int = 0,
    batch_size: int = 16,
) -> np.ndarray:
    """Return the SmoothGrad map of one image.

    The raw gradients of ``samples`` noisy copies (Gaussian noise of standard
    deviation ``sigma * (max - min)`` of the image) are averaged, then reduced
    by the max absolute value over channels. All copies explain the class
    predicted for the clean image unless ``class_index`` is given.

    Args:
        model: The model.
        image: One image shaped like the model's input.
        class_index: The class to explain; ``None`` for the predicted class.
        samples: Number of noisy copies.
        sigma: Noise level as a fraction of the image's value range.
        seed: Seed of the noise.
        batch_size: Copies per gradient call.

    Returns:
        ``(H, W)`` float32 map.

    """
    if samples < 1 or sigma < 0 or batch_size < 1:
        raise InspectError("SmoothGrad needs samples >= 1, sigma >= 0 and batch_size >= 1")
    x = as_single(model, image)
    _, used = input_gradients(model, x, class_index)
    lo, hi = value_range(x)
    rng = np.random.default_rng(seed)
    total = np.zeros(x.shape[1:], dtype=np.float64)
    for start in range(0, samples, batch_size):
        n = min(batch_size, samples - start)
        noisy = x + rng.normal(0.0, sigma * (hi - lo), size=(n, *x.shape[1:]))
        grads, _ = input_gradients(model, noisy.astype(np.float32), int(used[0]))
        total += grads.sum(axis=0)
    return abs_max(total / samples).astype(np.float32)
