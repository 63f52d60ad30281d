"""Activations of every layer (or chosen layers) for one input, in one forward pass.

One multi-output ``keras.Model`` per requested set of layers is built once,
wrapped in a traced ``tf.function`` and cached per model.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_single, find_layer, input_tensor, layer_output


def inspectable_layer_ids(model: keras.Model) -> list[str]:
    """Return the ids of layers with one tensor output, in graph order (inputs excluded)."""
    ids = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            layer_output(model, layer)
        except InspectError:
            continue
        ids.append(layer.name)
    return ids


def _features_fn(model: keras.Model, ids: tuple[str, ...]):
    inp = input_tensor(model)
    probe = keras.Model(inp, [layer_output(model, find_layer(model, i)) for i in ids])
    spec = tf.TensorSpec((None, *inp.shape[1:]), inp.dtype)

    @tf.function(input_signature=[spec])
    def features(x):
        out = probe(x, training=False)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    return features


def feature_maps(
    model: keras.Model, image: np.ndarray, layer_ids: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Return the activations of layers for one image.

    Args:
        model: The model.
        image: One image shaped like the model's input.
        layer_ids: Layers to read, in any order; ``None`` for every layer
            listed by :func:`inspectable_layer_ids`.

    Returns:
        ``{layer_id: activation}`` in graph order, each float32 without the
        batch axis (``(H, W, C)`` for convolutions, ``(units,)`` for dense).
        Tile one with :func:`cnnlab.inspect.tiling.tile_channels`.

    Raises:
        InspectError: For an unknown layer or an unfit image.

    """
    order = inspectable_layer_ids(model)
    if layer_ids is None:
        ids = tuple(order)
    else:
        wanted = set(layer_ids)
        for layer_id in wanted:
            find_layer(model, layer_id)
        ids = tuple(i for i in order if i in wanted)
        if len(ids) != len(wanted):
            missing = sorted(wanted - set(ids))
            raise InspectError(f"Layer '{missing[0]}' has no single output to show")
    if not ids:
        return {}
    x = as_single(model, image)
    fn = cached(model, ("features", ids), lambda: _features_fn(model, ids))
    outs = fn(tf.constant(x))
    return {i: np.asarray(o, dtype=np.float32)[0] for i, o in zip(ids, outs, strict=True)}
