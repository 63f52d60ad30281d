"""Activation maximisation ("fantasy images"): inputs a filter or class loves.

Starting from a small random image, gradient ascent on the input raises a
chosen filter's mean activation (``maximize_filter``) or a class score, the
pre-softmax logit (``maximize_class``); see :mod:`cnnlab.inspect.ascent` for
the regularisation (jitter, blur, L2 decay, clipping) and the progress/stop
protocol.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.ascent import (
    AscentResult,
    AscentSettings,
    Objective,
    Sink,
    StopToken,
    ascend,
    random_start,
)
from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_single, find_layer, input_shape, input_tensor, layer_output
from cnnlab.inspect.score import class_array, pick_scores, score_parts


def _filter_fn(model: keras.Model, layer_id: str):
    inp = input_tensor(model)
    probe = keras.Model(inp, layer_output(model, find_layer(model, layer_id)))
    spec = tf.TensorSpec((None, *inp.shape[1:]), inp.dtype)

    @tf.function(input_signature=[spec, tf.TensorSpec((), tf.int32)])
    def objective(x, index):
        with tf.GradientTape() as tape:
            tape.watch(x)
            act = tf.gather(probe(x, training=False), index, axis=-1)
            axes = tf.range(1, tf.rank(act))
            value = tf.reduce_mean(act, axis=axes)
        return value, tape.gradient(value, x)

    return objective


def _class_fn(model: keras.Model):
    parts = score_parts(model)
    inp = input_tensor(model)
    spec = tf.TensorSpec((None, *inp.shape[1:]), inp.dtype)

    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
    def objective(x, classes):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value, _ = pick_scores(parts.head(parts.body(x, training=False)), classes,
                                   parts.binary)
        return value, tape.gradient(value, x)

    return objective


def _numpy(fn, index) -> Objective:
    def objective(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value, grad = fn(tf.constant(x, dtype=tf.float32), index)
        return np.asarray(value), np.asarray(grad, dtype=np.float32)

    return objective


def _start(model: keras.Model, start: np.ndarray | None, value_range: tuple[float, float],
           settings: AscentSettings) -> np.ndarray:
    if start is not None:
        return as_single(model, start)
    shape = input_shape(model)
    if any(d is None for d in shape):
        raise InspectError("The model's input size is not fixed; pass a start image")
    return random_start(shape, value_range, settings)


def maximize_filter(
    model: keras.Model,
    layer_id: str,
    filter_index: int,
    settings: AscentSettings | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    start: np.ndarray | None = None,
    sink: Sink | None = None,
    stop: StopToken | None = None,
) -> AscentResult:
    """Find an input that maximises one filter's (or unit's) mean activation.

    Args:
        model: The model.
        layer_id: The layer; its last axis indexes the filters.
        filter_index: Which filter (channel) of that layer.
        settings: Ascent settings; defaults to :class:`AscentSettings()`.
        value_range: The model's input value range; the image is clipped to it.
        start: Start image; ``None`` for small noise around mid-range.
        sink: Receives :class:`AscentProgress` events.
        stop: Token checked before every step.

    Returns:
        An :class:`AscentResult`.

    Raises:
        InspectError: For an unknown layer or a filter index out of range.

    """
    channels = layer_output(model, find_layer(model, layer_id)).shape[-1]
    if not 0 <= filter_index < channels:
        raise InspectError(f"Filter {filter_index} is out of range; layer '{layer_id}' "
                           f"has {channels}")
    settings = settings or AscentSettings()
    fn = cached(model, ("filter_objective", layer_id), lambda: _filter_fn(model, layer_id))
    objective = _numpy(fn, tf.constant(filter_index, tf.int32))
    x0 = _start(model, start, value_range, settings)
    return ascend(objective, x0, settings, value_range, sink, stop)


def maximize_class(
    model: keras.Model,
    class_index: int,
    settings: AscentSettings | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    start: np.ndarray | None = None,
    sink: Sink | None = None,
    stop: StopToken | None = None,
) -> AscentResult:
    """Find an input that maximises a class score (its pre-softmax logit).

    Args are as for :func:`maximize_filter`, with ``class_index`` the class.

    Returns:
        An :class:`AscentResult`.

    """
    settings = settings or AscentSettings()
    classes = tf.constant(class_array(model, 1, class_index))
    fn = cached(model, "class_objective", lambda: _class_fn(model))
    x0 = _start(model, start, value_range, settings)
    return ascend(_numpy(fn, classes), x0, settings, value_range, sink, stop)


def never_active(result: AscentResult) -> bool:
    """True when the objective was 0 at the start, at every step and at the end.

    A ReLU unit that is negative before its activation for every input the
    ascent reaches outputs 0 with a gradient of 0: the image cannot change.
    """
    values = np.asarray(result.values)
    return (result.start_value == 0.0 and result.final_value == 0.0
            and bool(np.all(values == 0.0)))


def dead_unit_note(what: str) -> str:
    """Plain words for a fantasy that ended at objective 0 (see :func:`never_active`)."""
    return (f"{what} never activated: its output stayed 0 for every input the ascent tried, "
            "so there was no gradient to follow and the image could not change (a dead "
            "unit). Try another filter or layer.")
