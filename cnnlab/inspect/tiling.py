"""Laying out many small images (channels, filters) as one grid image."""

from __future__ import annotations

import math

import numpy as np

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.scaling import to_unit


def grid(tiles: np.ndarray, cols: int | None = None, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Arrange ``(n, h, w)`` or ``(n, h, w, 3)`` tiles row by row into one image.

    Args:
        tiles: The tiles, already scaled for display.
        cols: Tiles per row; ``None`` for a near-square grid.
        pad: Pixels between tiles.
        fill: Value of the padding.

    Returns:
        Float32 ``(H, W)`` or ``(H, W, 3)`` image.

    """
    tiles = np.asarray(tiles, dtype=np.float32)
    n, h, w = tiles.shape[:3]
    cols = max(1, min(cols or math.ceil(math.sqrt(n)), n)) if n else 1
    rows = max(1, math.ceil(n / cols))
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad, *tiles.shape[3:]), fill,
                  dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = tiles[i]
    return out


def tile_channels(
    act: np.ndarray,
    cols: int | None = None,
    pad: int = 1,
    normalize: str = "channel",
    fill: float = 1.0,
) -> np.ndarray:
    """Tile a layer's activations for one input as one 2-D image.

    Args:
        act: ``(H, W, C)`` feature maps (a leading batch axis of 1 is dropped),
            ``(H, W)`` or a ``(N,)`` vector (shown as a near-square block).
        cols: Channels per row; ``None`` for a near-square grid.
        pad: Pixels between channels.
        normalize: ``"channel"`` (each channel to 0..1), ``"layer"`` (one scale
            for all) or ``"none"``.
        fill: Value of the padding.

    Returns:
        Float32 ``(H', W')`` image.

    Raises:
        InspectError: For an array of another rank or an unknown ``normalize``.

    """
    a = np.asarray(act, dtype=np.float32)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 1:
        side = math.ceil(math.sqrt(a.size))
        block = np.full(side * side, np.nan, dtype=np.float32)
        block[: a.size] = a
        a = block.reshape(side, side)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3:
        raise InspectError(f"Cannot tile activations of shape {np.shape(act)}")
    missing = np.isnan(a)
    a = np.nan_to_num(a, nan=float(np.nanmin(a)) if (~missing).any() else 0.0)
    if normalize == "channel":
        a = to_unit(a, axes=(0, 1))
    elif normalize == "layer":
        a = to_unit(a)
    elif normalize != "none":
        raise InspectError(f"Unknown normalisation '{normalize}'; use channel, layer or none")
    a = np.where(missing, fill, a)
    return grid(np.moveaxis(a, -1, 0), cols=cols, pad=pad, fill=fill)
