"""Small image helpers: resizing, channel conversion, fitting an image to a model, blur.

Display scaling lives in :mod:`cnnlab.inspect.scaling` (re-exported here).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.scaling import signed_to_unit, to_unit

__all__ = ["fit_image", "gaussian_blur", "resize", "signed_to_unit", "to_channels", "to_unit"]


def resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize ``(H, W)`` or ``(H, W, C)`` bilinearly (antialiased) to ``size``."""
    img = np.asarray(image, dtype=np.float32)
    if img.shape[:2] == tuple(size):
        return img
    flat = img[..., None] if img.ndim == 2 else img
    out = tf.image.resize(flat, size, method="bilinear", antialias=True).numpy()
    return out[..., 0] if img.ndim == 2 else out


def to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """Convert ``(H, W)``/``(H, W, C)`` to ``channels`` (1 or 3): grey<->RGB, drop alpha.

    Raises:
        InspectError: For a channel count that cannot be converted.

    """
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3:
        raise InspectError(f"Expected an image of shape (H, W) or (H, W, C), got {img.shape}")
    if img.shape[-1] == 4:
        img = img[..., :3]
    c = img.shape[-1]
    if c == channels:
        return img
    if c == 1:
        return np.repeat(img, channels, axis=-1)
    if c == 3 and channels == 1:
        luma = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return luma[..., None]
    raise InspectError(f"Cannot convert an image with {c} channels to {channels}")


def fit_image(
    image: np.ndarray,
    shape: tuple[int | None, ...],
    value_range: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Fit a user's image to a model input shape ``(H, W, C)``.

    Integer images (``uint8`` 0..255) are mapped to ``value_range``; float
    images keep their values. The image is resized where the shape fixes a size
    and converted to the channel count.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` array.
        shape: The model's input shape without the batch axis.
        value_range: Range integer pixel values are mapped to.

    Returns:
        Float32 ``(H, W, C)`` image.

    """
    img = np.asarray(image)
    if np.issubdtype(img.dtype, np.integer):
        lo, hi = value_range
        img = img.astype(np.float32) / 255.0 * (hi - lo) + lo
    img = to_channels(img.astype(np.float32), int(shape[-1] or 3))
    h, w = shape[0] or img.shape[0], shape[1] or img.shape[1]
    return resize(img, (int(h), int(w))).astype(np.float32)


def _gauss_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(round(3 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def gaussian_blur(batch: np.ndarray, sigma: float) -> np.ndarray:
    """Blur a ``(N, H, W, C)`` batch spatially with a Gaussian (reflecting edges)."""
    if sigma <= 0:
        return batch
    k = _gauss_kernel(sigma)
    r = len(k) // 2
    out = np.asarray(batch, dtype=np.float64)
    for axis in (1, 2):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > r else "edge")
        n = out.shape[axis]
        out = sum(w * np.take(padded, range(i, i + n), axis=axis) for i, w in enumerate(k))
    return out.astype(np.float32)
