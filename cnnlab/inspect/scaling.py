"""Scaling values for display: min-max to 0..1, and signed values around 0.5.

The one place the inspection methods, the figures and the window stretch
numbers to an image's range. Light on purpose (numpy only): the window uses it
without TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def to_unit(x: np.ndarray, axes: int | Sequence[int] | None = None,
            constant: float = 0.0) -> np.ndarray:
    """Scale ``x`` linearly to 0..1: its minimum to 0, its maximum to 1.

    Args:
        x: Any array; NaN becomes 0 and infinities the largest finite values first.
        axes: Scale over these axes separately for every index of the others
            (``(0, 1)`` of ``(H, W, C)`` maps: each channel on its own;
            ``(1, 2, 3)`` of ``(n, kh, kw, c)`` kernels: each filter on its own);
            ``None`` for one scale for the whole array.
        constant: The value of a constant part (no range to stretch).

    Returns:
        Float32 array of the same shape.

    """
    a = np.nan_to_num(np.asarray(x, dtype=np.float32))
    if not a.size:
        return a
    axis = tuple(axes) if isinstance(axes, Sequence) else axes
    lo = a.min(axis=axis, keepdims=True)
    span = a.max(axis=axis, keepdims=True) - lo
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (a - lo) / safe, np.float32(constant)).astype(np.float32)


def signed_to_unit(x: np.ndarray) -> np.ndarray:
    """Map signed values to 0..1 with zero at 0.5 (scaled by the max absolute value)."""
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 0.5 + 0.5 * x / peak if peak > 0 else np.full_like(x, 0.5)


def display_image(image: np.ndarray) -> np.ndarray:
    """A model input (any range, 1 or 3 channels) as a 0..1 grey ``(H, W)`` or RGB image.

    Values already in 0..1 are kept; any other range is stretched to 0..1.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.size and (float(img.min()) < 0.0 or float(img.max()) > 1.0):
        return to_unit(img)
    return img
