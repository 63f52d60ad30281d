"""One picture per inspection method, for ``cnnlab inspect`` and reports.

``render`` turns a method's numpy output into an RGB image in [0, 1];
``write_png`` writes it atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cnnlab.inspect.errors import InspectError

METHODS = ("filters", "feature-maps", "saliency", "smoothgrad", "guided-backprop", "gradcam",
           "fantasy", "confusion")
NEEDS_IMAGE = ("feature-maps", "saliency", "smoothgrad", "guided-backprop", "gradcam")


def render(model, method: str, image: np.ndarray | None = None, layer: str | None = None,
           class_index: int | None = None, eval_data=None) -> np.ndarray:
    """The picture of one inspection method as an RGB float image.

    Args:
        model: The trained ``keras.Model``.
        method: One of ``METHODS``.
        image: One input image ``(H, W, C)`` shaped for the model (attribution
            and feature maps).
        layer: Block id (filters, feature maps, Grad-CAM, fantasy).
        class_index: Class to explain or maximise (default: the predicted one).
        eval_data: ``(x, y, class_names)`` for ``confusion``.

    Raises:
        InspectError: When an argument the method needs is missing.

    """
    import cnnlab.inspect as ins

    if method in NEEDS_IMAGE and image is None:
        raise InspectError(f"{method} needs an input image (--image PATH)")
    if method == "filters":
        return _rgb(ins.filter_grid(model, layer or _first_conv(model)).image)
    if method == "feature-maps":
        return _feature_tiles(model, image, layer)
    if method in ("saliency", "smoothgrad", "guided-backprop"):
        return _attribution(model, method, image, class_index)
    if method == "gradcam":
        heat = ins.gradcam(model, image, layer_id=layer, class_index=class_index)
        return _side_by_side(_rgb(image), ins.overlay(_rgb(image), heat))
    if method == "fantasy":
        return _fantasy(model, layer, class_index)
    if method == "confusion":
        return _confusion(model, eval_data)
    raise InspectError(f"unknown method {method!r} (known: {', '.join(METHODS)})")


def _first_conv(model) -> str:
    from cnnlab.inspect.cam import last_conv_layer_id

    for layer in model.layers:
        if "Conv" in type(layer).__name__:
            return layer.name
    return last_conv_layer_id(model)


def _feature_tiles(model, image, layer):
    import cnnlab.inspect as ins

    ids = [layer] if layer else None
    maps = ins.feature_maps(model, image, ids)
    name = layer or next(iter(k for k, v in maps.items() if np.ndim(v) == 3))
    act = maps[name]
    if np.ndim(act) != 3:
        raise InspectError(f"{name} has no feature maps (its output is a vector)")
    return _rgb(ins.tile_channels(act))


def _attribution(model, method, image, class_index):
    import cnnlab.inspect as ins
    from cnnlab.inspect.images import signed_to_unit

    if method == "saliency":
        heat = ins.jet(_unit(ins.saliency(model, image, class_index)))
    elif method == "smoothgrad":
        heat = ins.jet(_unit(ins.smoothgrad(model, image, class_index)))
    else:
        heat = signed_to_unit(ins.guided_backprop(model, image, class_index))
    return _side_by_side(_rgb(image), _rgb(heat))


def _fantasy(model, layer, class_index):
    import cnnlab.inspect as ins

    if layer:
        result = ins.maximize_filter(model, layer, class_index or 0)
    else:
        result = ins.maximize_class(model, class_index or 0)
    return _rgb(_unit(result.image))


def _confusion(model, eval_data):
    import cnnlab.inspect as ins

    if eval_data is None:
        raise InspectError("confusion needs the run's dataset (give a run id, not a file)")
    x, y, names = eval_data
    ev = ins.evaluate(model, x, y, names)
    counts = ev.confusion.astype(np.float64)
    rows = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    cell = max(8, 256 // max(1, len(rows)))
    return np.kron(ins.jet(rows), np.ones((cell, cell, 1)))


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    lo, hi = float(np.min(x)), float(np.max(x))
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def _rgb(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    if x.min() < 0 or x.max() > 1:
        x = _unit(x)
    return x[..., :3]


def _side_by_side(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    gap = np.ones((a.shape[0], max(2, a.shape[1] // 16), 3), np.float32)
    return np.concatenate([a, gap, b], axis=1)


def write_png(path: str | Path, image: np.ndarray, min_size: int = 256) -> Path:
    """Write an RGB float image as PNG (upscaled by whole pixels to >= min_size)."""
    import tensorflow as tf

    from cnnlab.atomic import atomic_write_bytes

    img = np.clip(np.asarray(image, dtype=np.float32), 0, 1)
    scale = max(1, -(-min_size // max(img.shape[:2])))
    img = np.kron(img, np.ones((scale, scale, 1), np.float32))
    data = tf.io.encode_png(tf.convert_to_tensor((img * 255).round().astype(np.uint8)))
    path = Path(path)
    atomic_write_bytes(path, data.numpy())
    return path
