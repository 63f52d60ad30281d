"""Grad-CAM (Selvaraju et al. 2017) for any layer with a 4-D output.

The class score (pre-softmax logit, see :mod:`cnnlab.inspect.score`) is
differentiated with respect to the layer's activations ``A`` (N, h, w, k);
each channel is weighted by its spatially averaged gradient, the weighted sum
is passed through a ReLU, upsampled bilinearly to the input size and scaled
to 0..1 by its maximum.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from cnnlab.inspect.cache import cached
from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import as_single, find_layer, input_tensor, layer_output
from cnnlab.inspect.guided import guided_backprop
from cnnlab.inspect.score import class_array, pick_scores, score_parts


def _four_d_output(model: keras.Model, layer_id: str):
    layer = find_layer(model, layer_id)
    out = layer_output(model, layer)
    if len(out.shape) != 4:
        raise InspectError(
            f"Layer '{layer_id}' ({type(layer).__name__}) has a {len(out.shape)}-D output; "
            "Grad-CAM needs a convolution or another layer with a 4-D (N, H, W, C) output"
        )
    return out


def last_conv_layer_id(model: keras.Model) -> str:
    """Return the id of the last layer with a 4-D output (the usual Grad-CAM layer).

    Raises:
        InspectError: If no layer has a 4-D output.

    """
    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            out = layer_output(model, layer)
        except InspectError:
            continue
        if len(out.shape) == 4:
            return layer.name
    raise InspectError(f"Model '{model.name}' has no layer with a 4-D output for Grad-CAM")


def _cam_fn(model: keras.Model, layer_id: str):
    parts = score_parts(model)
    inp = input_tensor(model)
    probe = keras.Model(inp, [_four_d_output(model, layer_id), parts.body.output])
    spec = tf.TensorSpec((None, *inp.shape[1:]), inp.dtype)

    @tf.function(input_signature=[spec, tf.TensorSpec((None,), tf.int32)])
    def cam(x, classes):
        with tf.GradientTape() as tape:
            acts, h = probe(x, training=False)
            scores, used = pick_scores(parts.head(h), classes, parts.binary)
        grads = tape.gradient(scores, acts)
        if grads is None:
            return tf.zeros(tf.shape(acts)[:3]), used, tf.constant(False)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        return tf.nn.relu(tf.reduce_sum(weights * acts, axis=-1)), used, tf.constant(True)

    return cam


def gradcam(
    model: keras.Model,
    image: np.ndarray,
    layer_id: str | None = None,
    class_index: int | None = None,
    upsample: bool = True,
) -> np.ndarray:
    """Return the Grad-CAM heat map of one image.

    Args:
        model: The model.
        image: One image shaped like the model's input.
        layer_id: Layer to explain; ``None`` for the last layer with a 4-D output.
        class_index: The class to explain; ``None`` for the predicted class.
        upsample: Resize the map to the input's height and width.

    Returns:
        Float32 ``(H, W)`` map in 0..1 (the layer's ``(h, w)`` if not upsampled).

    Raises:
        InspectError: For an unknown layer, a layer without a 4-D output, or a
            layer the class score does not depend on.

    """
    x = as_single(model, image)
    layer_id = layer_id or last_conv_layer_id(model)
    fn = cached(model, ("gradcam", layer_id), lambda: _cam_fn(model, layer_id))
    cam, _, connected = fn(tf.constant(x), tf.constant(class_array(model, 1, class_index)))
    if not bool(connected):
        raise InspectError(f"The class score does not depend on layer '{layer_id}'")
    cam = np.asarray(cam, dtype=np.float32)[0]
    if upsample:
        cam = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear").numpy()[..., 0]
    peak = float(cam.max())
    return (cam / peak if peak > 0 else np.zeros_like(cam)).astype(np.float32)


def guided_gradcam(
    model: keras.Model,
    image: np.ndarray,
    layer_id: str | None = None,
    class_index: int | None = None,
) -> np.ndarray:
    """Return guided Grad-CAM: guided backprop times the upsampled Grad-CAM map.

    Returns:
        Float32 array shaped like one input sample (signed, channels kept).

    """
    cam = gradcam(model, image, layer_id, class_index)
    return guided_backprop(model, image, class_index) * cam[..., None]
