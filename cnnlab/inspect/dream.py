"""Deep dream: amplify what chosen layers see in a user's image, over octaves.

The objective is the sum over the chosen layers of the mean squared
activation (the squared L2 norm per activation), raised by normalised
gradient ascent. Octaves go from coarse to fine: at each octave the image is
split into a low-resolution part (the parameters of the ascent) and the detail
that resolution cannot hold; the model always sees
``upsample(low) + detail`` at its own input size, so models with a fixed
input size work too.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.ascent import AscentResult, Reporter, Sink, StopToken
from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_single, find_layer, input_tensor, layer_output, value_range
from cnnlab.inspect.images import resize


def _dream_fn(model: keras.Model, ids: tuple[str, ...], size: tuple[int, int]):
    inp = input_tensor(model)
    probe = keras.Model(inp, [layer_output(model, find_layer(model, i)) for i in ids])
    channels = inp.shape[-1]
    low_spec = tf.TensorSpec((1, None, None, channels), tf.float32)
    detail_spec = tf.TensorSpec((1, *size, channels), tf.float32)

    @tf.function(input_signature=[low_spec, detail_spec])
    def objective(low, detail):
        with tf.GradientTape() as tape:
            tape.watch(low)
            x = tf.image.resize(low, size, method="bilinear") + detail
            outs = probe(x, training=False)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            value = tf.add_n([tf.reduce_mean(tf.square(o)) for o in outs])
        return value, tape.gradient(value, low)

    return objective


def _upsample(low: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return tf.image.resize(low, size, method="bilinear").numpy()


def _octave_sizes(size: tuple[int, int], octaves: int, scale: float) -> list[tuple[int, int]]:
    return [(max(1, round(size[0] / scale**k)), max(1, round(size[1] / scale**k)))
            for k in reversed(range(octaves))]


def deep_dream(
    model: keras.Model,
    image: np.ndarray,
    layer_ids: Sequence[str],
    octaves: int = 3,
    octave_scale: float = 1.4,
    steps: int = 20,
    step_size: float = 0.01,
    input_range: tuple[float, float] | None = None,
    sink: Sink | None = None,
    stop: StopToken | None = None,
) -> AscentResult:
    """Dream on a user's image.

    Args:
        model: The model.
        image: The image, shaped like one model input.
        layer_ids: Layers whose activations to amplify.
        octaves: Number of scales, coarse to fine.
        octave_scale: Size ratio between neighbouring octaves.
        steps: Gradient steps per octave.
        step_size: Mean change per pixel per step, as a fraction of the value range.
        input_range: Range to clip to; ``None`` for the image's own min..max.
        sink: Receives :class:`AscentProgress` events (steps counted over all octaves).
        stop: Token checked before every step.

    Returns:
        An :class:`AscentResult` with the dreamed image.

    Raises:
        InspectError: For unknown layers, no layers, or bad settings.

    """
    if not layer_ids or octaves < 1 or steps < 1 or octave_scale <= 1 or step_size <= 0:
        raise InspectError("Deep dream needs layers, octaves >= 1, steps >= 1, "
                           "octave_scale > 1 and step_size > 0")
    x = as_single(model, image)
    size = (int(x.shape[1]), int(x.shape[2]))
    ids = tuple(dict.fromkeys(layer_ids))
    fn = cached(model, ("dream", ids, size), lambda: _dream_fn(model, ids, size))
    lo, hi = input_range or value_range(x)
    report = Reporter(sink, octaves * steps, 0.05)
    start_value = float(fn(x, np.zeros_like(x))[0])
    values: list[float] = []
    for octave in _octave_sizes(size, octaves, octave_scale):
        low = resize(x[0], octave)[None]
        detail = x - _upsample(low, size)
        for _ in range(steps):
            if stop is not None and stop.is_set():
                break
            value, grad = (np.asarray(v) for v in fn(low, detail))
            low = low + step_size * (hi - lo) * grad / (np.sqrt(np.mean(grad**2)) + 1e-12)
            values.append(float(value))
            report(len(values), float(value))
        x = np.clip(_upsample(low, size) + detail, lo, hi).astype(np.float32)
        if stop is not None and stop.is_set():
            break
    stopped = len(values) < octaves * steps
    final_value = float(fn(x, np.zeros_like(x))[0])
    return AscentResult(x[0], np.asarray(values, np.float32), start_value, final_value, stopped)
