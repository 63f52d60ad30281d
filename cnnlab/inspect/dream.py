"""Deep dream: amplify what chosen layers see in a user's image, over octaves.

The objective is the sum over the chosen layers of the mean squared
activation (the squared L2 norm per activation) of the image clipped to the
input range, raised by normalised gradient ascent; the values reported are
those of the image that is shown. Octaves go from coarse to fine: at each octave the image is
split into a low-resolution part (the parameters of the ascent) and the detail
that resolution cannot hold; the model always sees
``upsample(low) + detail`` at its own input size, so models with a fixed
input size work too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.ascent import AscentResult, Reporter, Sink, StopToken
from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_single, find_layer, input_tensor, layer_output, value_range
from cnnlab.inspect.images import resize
from cnnlab.inspect.settings import check_dream


def _dream_fn(model: keras.Model, ids: tuple[str, ...], size: tuple[int, int]):
    inp = input_tensor(model)
    probe = keras.Model(inp, [layer_output(model, find_layer(model, i)) for i in ids])
    channels = inp.shape[-1]
    low_spec = tf.TensorSpec((1, None, None, channels), tf.float32)
    detail_spec = tf.TensorSpec((1, *size, channels), tf.float32)

    @tf.function(input_signature=[low_spec, detail_spec, tf.TensorSpec((2,), tf.float32)])
    def objective(low, detail, bounds):
        with tf.GradientTape() as tape:
            tape.watch(low)
            x = tf.image.resize(low, size, method="bilinear") + detail
            x = tf.clip_by_value(x, bounds[0], bounds[1])  # what the image will be
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


@dataclass(frozen=True, eq=False)
class DreamFrame:
    """The dream so far: the image after ``step`` of ``total`` steps, in ``octave``."""

    image: np.ndarray
    step: int
    total: int
    octave: int
    value: float


Preview = Callable[[DreamFrame], None]


@dataclass
class _Dreamer:
    """One dream's state: the objective, the clip range and where to report."""

    fn: Callable
    size: tuple[int, int]
    lo: float
    hi: float
    step_size: float
    report: Reporter
    preview: Preview | None
    preview_interval: float
    stop: StopToken | None
    total: int
    values: list[float] = field(default_factory=list)
    last_preview: float = -float("inf")

    @property
    def bounds(self) -> np.ndarray:
        """The clip range as the objective takes it."""
        return np.array([self.lo, self.hi], np.float32)

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def image(self, low: np.ndarray, detail: np.ndarray) -> np.ndarray:
        return np.clip(_upsample(low, self.size) + detail, self.lo, self.hi).astype(np.float32)

    def octave(self, x: np.ndarray, octave: int, size: tuple[int, int], steps: int) -> np.ndarray:
        """Climb ``steps`` steps at one octave; return the full-size image."""
        low = resize(x[0], size)[None]
        detail = x - _upsample(low, self.size)
        for step in range(steps):
            if self.stopped():
                break
            value, grad = (np.asarray(v) for v in self.fn(low, detail, self.bounds))
            low = low + self.step_size * (self.hi - self.lo) * grad / (
                np.sqrt(np.mean(grad**2)) + 1e-12)
            self.values.append(float(value))
            self.report(len(self.values), float(value))
            self._show(low, detail, octave, float(value), last=step == steps - 1)
        return self.image(low, detail)

    def _show(self, low, detail, octave: int, value: float, last: bool) -> None:
        now = time.monotonic()
        if self.preview is None or not (last or now - self.last_preview >= self.preview_interval):
            return
        self.last_preview = now
        self.preview(DreamFrame(self.image(low, detail)[0], len(self.values), self.total,
                                octave, value))


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
    preview: Preview | None = None,
    preview_interval: float = 0.1,
) -> AscentResult:
    """Dream on a user's image.

    Args:
        model: The model.
        image: The image, shaped like one model input.
        layer_ids: Layers whose activations to amplify.
        octaves: Number of scales, coarse to fine (limits: :mod:`cnnlab.inspect.settings`).
        octave_scale: Size ratio between neighbouring octaves.
        steps: Gradient steps per octave.
        step_size: Mean change per pixel per step, as a fraction of the value range.
        input_range: Range to clip to; ``None`` for the image's own min..max.
        sink: Receives :class:`AscentProgress` events (steps counted over all octaves).
        stop: Token checked before every step.
        preview: Receives a :class:`DreamFrame` (the whole image so far) at most
            every ``preview_interval`` seconds and at the end of every octave.
        preview_interval: Least seconds between previews.

    Returns:
        An :class:`AscentResult` with the dreamed image.

    Raises:
        InspectError: For unknown layers, no layers, or bad settings.

    """
    if not layer_ids:
        raise InspectError("Deep dream needs at least one layer")
    check_dream(octaves, steps, step_size, octave_scale)
    x = as_single(model, image)
    size = (int(x.shape[1]), int(x.shape[2]))
    ids = tuple(dict.fromkeys(layer_ids))
    fn = cached(model, ("dream", ids, size), lambda: _dream_fn(model, ids, size))
    lo, hi = input_range or value_range(x)
    total = octaves * steps
    dreamer = _Dreamer(fn, size, lo, hi, step_size, Reporter(sink, total, 0.05), preview,
                       preview_interval, stop, total)
    start_value = float(fn(x, np.zeros_like(x), dreamer.bounds)[0])
    for octave, octave_size in enumerate(_octave_sizes(size, octaves, octave_scale)):
        x = dreamer.octave(x, octave, octave_size, steps)
        if dreamer.stopped():
            break
    final_value = float(fn(x, np.zeros_like(x), dreamer.bounds)[0])
    stopped = len(dreamer.values) < total
    return AscentResult(x[0], np.asarray(dreamer.values, np.float32), start_value, final_value,
                        stopped)
