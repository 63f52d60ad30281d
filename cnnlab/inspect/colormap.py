"""A built-in jet colormap and heat-map overlays, in numpy."""

from __future__ import annotations

import numpy as np

from cnnlab.inspect.images import resize, to_channels
from cnnlab.inspect.scaling import to_unit


def jet(values: np.ndarray) -> np.ndarray:
    """Map values in 0..1 to RGB with the jet colormap (blue, cyan, yellow, red).

    Args:
        values: Any shape; clipped to 0..1.

    Returns:
        Float32 array of shape ``values.shape + (3,)`` in 0..1.

    """
    v = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)[..., None]
    centres = np.array([3.0, 2.0, 1.0], dtype=np.float32)  # red, green, blue peaks at 4v
    return np.clip(1.5 - np.abs(4.0 * v - centres), 0.0, 1.0).astype(np.float32)


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4) -> np.ndarray:
    """Blend a jet-coloured heat map over an image.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` image, any value range (scaled to 0..1).
        heatmap: ``(h, w)`` map, any range (scaled to 0..1); resized to the image.
        alpha: Weight of the heat map, 0 (image only) to 1 (heat map only).

    Returns:
        Float32 ``(H, W, 3)`` RGB image in 0..1.

    """
    rgb = to_unit(to_channels(np.asarray(image, dtype=np.float32), 3))
    heat = to_unit(resize(np.asarray(heatmap, dtype=np.float32), rgb.shape[:2]))
    a = float(np.clip(alpha, 0.0, 1.0))
    return ((1.0 - a) * rgb + a * jet(heat)).astype(np.float32)
