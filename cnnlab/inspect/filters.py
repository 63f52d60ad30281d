"""Convolution kernels as an image grid.

Supported layers: ``Conv2D`` (one tile per output filter), ``Conv2DTranspose``,
``DepthwiseConv2D`` and ``SeparableConv2D`` (the depthwise kernels: one
single-channel tile per input channel and multiplier; the 1x1 pointwise part
has nothing spatial to show).

Modes: ``"rgb"`` shows each filter in colour (needs 3 input channels, i.e.
the first layer of an RGB model); ``"channels"`` shows one grey tile per
filter and input channel (a row per filter); ``"mean"`` averages the input
channels into one grey tile per filter; ``"auto"`` is ``rgb`` for 3 input
channels, ``channels`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import find_layer
from cnnlab.inspect.tiling import grid

MODES = ("auto", "rgb", "channels", "mean")
NORMALIZATIONS = ("filter", "layer")


@dataclass(frozen=True, eq=False)
class FilterGrid:
    """Kernels of one layer, ready to show.

    Attributes:
        image: The grid, float32 in 0..1: ``(H, W, 3)`` for ``rgb``, else ``(H, W)``.
        filters: Raw weights, ``(n, kh, kw, c)``: one entry per filter.
        tiles: The display tiles in 0..1: ``(n, kh, kw, 3)`` for ``rgb``,
            ``(n, c, kh, kw)`` for ``channels``, ``(n, kh, kw)`` for ``mean``.
        mode: The mode used (``rgb``, ``channels`` or ``mean``).

    """

    image: np.ndarray
    filters: np.ndarray
    tiles: np.ndarray
    mode: str


def kernels(layer: keras.layers.Layer) -> np.ndarray:
    """Return a convolution's kernels as ``(n, kh, kw, c)`` float32, one per filter.

    Raises:
        InspectError: If the layer is not a supported 2-D convolution.

    """
    if isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
        k = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") else layer.kernel
        k = np.asarray(k)  # (kh, kw, cin, multiplier)
        kh, kw, cin, mult = k.shape
        return k.reshape(kh, kw, cin * mult, 1).transpose(2, 0, 1, 3).astype(np.float32)
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return np.asarray(layer.kernel).transpose(2, 0, 1, 3).astype(np.float32)
    if isinstance(layer, keras.layers.Conv2D):
        return np.asarray(layer.kernel).transpose(3, 0, 1, 2).astype(np.float32)
    raise InspectError(
        f"Layer '{layer.name}' ({type(layer).__name__}) is not a 2-D convolution; filters can "
        "be shown for Conv2D, Conv2DTranspose, DepthwiseConv2D and SeparableConv2D layers"
    )


def _scale(w: np.ndarray, normalize: str, axes: tuple[int, ...]) -> np.ndarray:
    if normalize == "layer":
        peak = float(np.abs(w).max())
        return 0.5 + 0.5 * w / peak if peak > 0 else np.full_like(w, 0.5)
    lo, hi = w.min(axis=axes, keepdims=True), w.max(axis=axes, keepdims=True)
    span = hi - lo
    return np.where(span > 0, (w - lo) / np.where(span > 0, span, 1.0), 0.5)


def _tiles(w: np.ndarray, mode: str, normalize: str) -> np.ndarray:
    if mode == "rgb":
        return _scale(w, normalize, (1, 2, 3))
    if mode == "mean":
        return _scale(w.mean(axis=-1), normalize, (1, 2))
    return _scale(w.transpose(0, 3, 1, 2), normalize, (1, 2, 3))


def filter_grid(
    model: keras.Model,
    layer_id: str,
    mode: str = "auto",
    normalize: str = "filter",
    max_filters: int | None = None,
    pad: int = 1,
) -> FilterGrid:
    """Return the kernels of a convolution layer as an image grid.

    Args:
        model: The model.
        layer_id: The convolution's id.
        mode: ``auto``, ``rgb``, ``channels`` or ``mean`` (see the module docs).
        normalize: ``filter``: each filter min..max to 0..1; ``layer``: one
            symmetric scale for the layer, zero at 0.5 (signs comparable).
        max_filters: Show at most this many filters (the first ones).
        pad: Pixels between tiles.

    Returns:
        A :class:`FilterGrid`.

    Raises:
        InspectError: For an unknown layer, a non-convolution, or a bad option.

    """
    if mode not in MODES or normalize not in NORMALIZATIONS:
        raise InspectError(f"Unknown filter view '{mode}'/'{normalize}'; modes are "
                           f"{', '.join(MODES)}, normalisations {', '.join(NORMALIZATIONS)}")
    w = kernels(find_layer(model, layer_id))[:max_filters]
    if mode == "auto":
        mode = "rgb" if w.shape[-1] == 3 else "channels"
    if mode == "rgb" and w.shape[-1] != 3:
        raise InspectError(f"Layer '{layer_id}' has {w.shape[-1]} input channels per filter; "
                           "colour needs 3 (use channels or mean)")
    tiles = _tiles(w, mode, normalize).astype(np.float32)
    if mode == "channels":
        n, c, kh, kw = tiles.shape
        image = grid(tiles.reshape(n * c, kh, kw), cols=c, pad=pad)
    else:
        image = grid(tiles, pad=pad)
    return FilterGrid(image=image, filters=w, tiles=tiles, mode=mode)
