"""Small image helpers: display scaling, resizing, channel conversion, blur."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from cnnlab.inspect.errors import InspectError


def to_unit(x: np.ndarray) -> np.ndarray:
    """Scale ``x`` linearly to 0..1 (min to 0, max to 1); a constant becomes zeros."""
    x = np.asarray(x, dtype=np.float32)
    lo, hi = (float(np.min(x)), float(np.max(x))) if x.size else (0.0, 0.0)
    return (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)


def signed_to_unit(x: np.ndarray) -> np.ndarray:
    """Map signed values to 0..1 with zero at 0.5 (scaled by the max absolute value)."""
    x = np.asarray(x, dtype=np.float32)
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    return 0.5 + 0.5 * x / peak if peak > 0 else np.full_like(x, 0.5)


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
