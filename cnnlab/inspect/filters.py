"""Convolution kernels as an image grid.

Supported layers: ``Conv2D`` (one tile per output filter), ``Conv2DTranspose``,
``DepthwiseConv2D`` and ``SeparableConv2D`` (the depthwise kernels: one
single-channel tile per input channel and multiplier; the 1x1 pointwise part
has nothing spatial to show).

Kernel layouts in Keras: ``Conv2D`` ``(kh, kw, in, filters)``;
``Conv2DTranspose`` ``(kh, kw, filters, in)`` (output channels before input
channels); depthwise ``(kh, kw, in, multiplier)``. Every kind is turned into
``(n, kh, kw, c)``: filter ``j`` is what output channel ``j`` sees of the ``c``
input channels. The window's replay of saved snapshots (raw kernels) and this
module's :func:`filter_grid` share :func:`as_filters` and :func:`filter_image`.

Modes: ``"rgb"`` shows each filter in colour (needs 3 input channels, i.e.
the first layer of an RGB model); ``"channels"`` shows one grey tile per
filter and input channel (a row per filter); ``"mean"`` averages the input
channels into one grey tile per filter; ``"auto"`` is ``rgb`` for 3 input
channels, ``channels`` for several (up to :data:`MAX_CHANNEL_TILES` tiles),
``mean`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.graph import find_layer
from cnnlab.inspect.scaling import signed_to_unit, to_unit
from cnnlab.inspect.tiling import grid

MODES = ("auto", "rgb", "channels", "mean")
NORMALIZATIONS = ("filter", "layer")
KINDS = ("conv", "transpose", "depthwise")
MAX_CHANNEL_TILES = 2048


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


def layer_kind(layer: keras.layers.Layer) -> str:
    """The kernel layout of a 2-D convolution: ``conv``, ``transpose`` or ``depthwise``.

    Raises:
        InspectError: If the layer is not a supported 2-D convolution.

    """
    if isinstance(layer, (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)):
        return "depthwise"
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return "transpose"
    if isinstance(layer, keras.layers.Conv2D):
        return "conv"
    raise InspectError(
        f"Layer '{layer.name}' ({type(layer).__name__}) is not a 2-D convolution; filters can "
        "be shown for Conv2D, Conv2DTranspose, DepthwiseConv2D and SeparableConv2D layers"
    )


def raw_kernel(layer: keras.layers.Layer) -> np.ndarray:
    """The layer's spatial kernel as Keras stores it (the depthwise part of a separable one)."""
    kernel = getattr(layer, "depthwise_kernel", None)
    return np.asarray(kernel if kernel is not None else layer.kernel, dtype=np.float32)


def as_filters(kernel: np.ndarray, kind: str) -> np.ndarray:
    """Return a raw Keras kernel of one layout as ``(n, kh, kw, c)`` float32, one per filter.

    Args:
        kernel: ``(kh, kw, a, b)`` as the layer stores it (see the module docs).
        kind: ``conv``, ``transpose`` or ``depthwise`` (:func:`layer_kind`).

    Raises:
        InspectError: For another rank or an unknown kind.

    """
    k = np.asarray(kernel, dtype=np.float32)
    if k.ndim != 4 or kind not in KINDS:
        raise InspectError(f"Cannot show a kernel of shape {k.shape} as filters ({kind})")
    if kind == "depthwise":  # (kh, kw, cin, multiplier): one single-channel filter each
        kh, kw, cin, mult = k.shape
        return k.reshape(kh, kw, cin * mult, 1).transpose(2, 0, 1, 3)
    if kind == "transpose":  # (kh, kw, filters, cin)
        return k.transpose(2, 0, 1, 3)
    return k.transpose(3, 0, 1, 2)  # (kh, kw, cin, filters)


def kernels(layer: keras.layers.Layer) -> np.ndarray:
    """Return a convolution's kernels as ``(n, kh, kw, c)`` float32, one per filter.

    Raises:
        InspectError: If the layer is not a supported 2-D convolution.

    """
    return as_filters(raw_kernel(layer), layer_kind(layer))


def filter_kinds(model: keras.Model) -> dict[str, str]:
    """``{layer id: kind}`` of the model's 2-D convolutions, in model order."""
    out = {}
    for layer in model.layers:
        try:
            out[layer.name] = layer_kind(layer)
        except InspectError:
            continue
    return out


def auto_mode(filters: np.ndarray, max_tiles: int = MAX_CHANNEL_TILES) -> str:
    """The ``auto`` mode for ``(n, kh, kw, c)`` filters (see the module docs)."""
    n, c = filters.shape[0], filters.shape[-1]
    if c == 3:
        return "rgb"
    return "channels" if 1 < c and n * c <= max_tiles else "mean"


def _scale(w: np.ndarray, normalize: str, axes: tuple[int, ...]) -> np.ndarray:
    if normalize == "layer":
        return signed_to_unit(w)
    return to_unit(w, axes=axes, constant=0.5)


def _tiles(w: np.ndarray, mode: str, normalize: str) -> np.ndarray:
    if mode == "rgb":
        return _scale(w, normalize, (1, 2, 3))
    if mode == "mean":
        return _scale(w.mean(axis=-1), normalize, (1, 2))
    return _scale(w.transpose(0, 3, 1, 2), normalize, (1, 2, 3))


def filter_image(filters: np.ndarray, mode: str = "auto", normalize: str = "filter",
                 pad: int = 1, name: str = "the layer") -> FilterGrid:
    """Lay out ``(n, kh, kw, c)`` filters (:func:`as_filters`) as one image grid.

    Args:
        filters: The filters, one per output channel.
        mode: ``auto``, ``rgb``, ``channels`` or ``mean`` (see the module docs).
        normalize: ``filter``: each filter min..max to 0..1; ``layer``: one
            symmetric scale for the layer, zero at 0.5 (signs comparable).
        pad: Pixels between tiles.
        name: What to call the layer in messages.

    Returns:
        A :class:`FilterGrid`.

    Raises:
        InspectError: For a bad option, or ``rgb`` without 3 input channels.

    """
    if mode not in MODES or normalize not in NORMALIZATIONS:
        raise InspectError(f"Unknown filter view '{mode}'/'{normalize}'; modes are "
                           f"{', '.join(MODES)}, normalisations {', '.join(NORMALIZATIONS)}")
    w = np.asarray(filters, dtype=np.float32)
    mode = auto_mode(w) if mode == "auto" else mode
    if mode == "rgb" and w.shape[-1] != 3:
        raise InspectError(f"Layer {name} has {w.shape[-1]} input channels per filter; "
                           "colour needs 3 (use channels or mean)")
    tiles = _tiles(w, mode, normalize)
    if mode == "channels":
        n, c, kh, kw = tiles.shape
        image = grid(tiles.reshape(n * c, kh, kw), cols=c, pad=pad)
    else:
        image = grid(tiles, pad=pad)
    return FilterGrid(image=image, filters=w, tiles=tiles, mode=mode)


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
        normalize: ``filter`` or ``layer`` (see :func:`filter_image`).
        max_filters: Show at most this many filters (the first ones).
        pad: Pixels between tiles.

    Returns:
        A :class:`FilterGrid`.

    Raises:
        InspectError: For an unknown layer, a non-convolution, or a bad option.

    """
    w = kernels(find_layer(model, layer_id))[:max_filters]
    return filter_image(w, mode, normalize, pad, name=f"'{layer_id}'")
