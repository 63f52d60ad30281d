"""The ``shapes`` dataset: synthetic images of geometric shapes, made offline from a seed.

Each image holds one shape (its class) at a random position, size and
rotation, in a random colour on a random background colour, plus uniform
pixel noise. Every shape is described by a signed distance function (negative
inside) evaluated on the pixel grid of all images of a class at once, so the
whole dataset is a handful of vectorised numpy operations. Edges are
anti-aliased: a pixel's coverage is ``clip(0.5 - distance_in_pixels, 0, 1)``.

Pure numpy: importing this module never loads TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from cnnlab.errors import DataError

DEFAULT_CLASSES = ("circle", "square", "triangle", "star", "cross", "ring")

_F = np.float32
_Sdf = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _length(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.sqrt(u * u + v * v)


def _box(u: np.ndarray, v: np.ndarray, half_w: float, half_h: float) -> np.ndarray:
    qx = np.abs(u) - half_w
    qy = np.abs(v) - half_h
    outside = _length(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _star_polygon(radii: Sequence[float], angles: Sequence[float]) -> _Sdf:
    """Return the distance function of a polygon that is star-shaped around the origin.

    The vertices are given in polar form, counter-clockwise. A point's angle
    picks the sector (and so the edge) it lies in; its signed distance to
    that edge's line is exact near the edge, which is all anti-aliasing needs.
    """
    ang = np.asarray(angles, dtype=np.float64) % (2 * np.pi)
    order = np.argsort(ang)
    ang = ang[order]
    rad = np.asarray(radii, dtype=np.float64)[order]
    vx, vy = rad * np.cos(ang), rad * np.sin(ang)
    ex, ey = np.roll(vx, -1) - vx, np.roll(vy, -1) - vy
    norm = np.hypot(ex, ey)
    ax, ay, ex, ey = (a.astype(_F) for a in (vx, vy, ex / norm, ey / norm))

    def sdf(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        phi = np.arctan2(v, u) % (2 * np.pi)
        k = (np.searchsorted(ang, phi, side="right") - 1) % len(ang)
        return -(ex[k] * (v - ay[k]) - ey[k] * (u - ax[k]))

    return sdf


def _regular(n: int, radius: float = 1.0) -> _Sdf:
    angles = np.pi / 2 + 2 * np.pi * np.arange(n) / n
    return _star_polygon([radius] * n, angles)


def _star(points: int = 5, inner: float = 0.45) -> _Sdf:
    angles = np.pi / 2 + np.pi * np.arange(2 * points) / points
    return _star_polygon([1.0, inner] * points, angles)


def _circle(u, v):
    return _length(u, v) - 1.0


def _ring(u, v):
    return np.abs(_length(u, v) - 0.72) - 0.28


def _square(u, v):
    return _box(u, v, 0.8, 0.8)


def _cross(u, v):
    return np.minimum(_box(u, v, 1.0, 0.3), _box(u, v, 0.3, 1.0))


def _ellipse(u, v):
    # Not an exact distance, but a good one near the edge for this aspect ratio.
    return (_length(u, v / 0.5) - 1.0) * 0.5


def _half_disc(u, v):
    return np.maximum(_length(u, v + 0.4) - 1.0, -(v + 0.4))


def _crescent(u, v):
    return np.maximum(_length(u, v) - 1.0, -(_length(u - 0.5, v) - 0.8))


def _bar(u, v):
    return _box(u, v, 1.0, 0.25)


_SHAPES: dict[str, _Sdf] = {
    "circle": _circle,
    "square": _square,
    "triangle": _regular(3),
    "star": _star(),
    "cross": _cross,
    "ring": _ring,
    "pentagon": _regular(5),
    "hexagon": _regular(6),
    "ellipse": _ellipse,
    "half_disc": _half_disc,
    "crescent": _crescent,
    "bar": _bar,
}

SHAPE_CLASSES: tuple[str, ...] = tuple(_SHAPES)


def generate_shapes(
    classes: Sequence[str] = DEFAULT_CLASSES,
    samples: int = 3000,
    image_size: int = 32,
    channels: int = 3,
    noise: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the synthetic shapes dataset.

    The same arguments always give the same images. Classes are balanced
    (counts differ by at most one) and appear in random order.

    Args:
        classes: Shape names from ``SHAPE_CLASSES``; label ``i`` is ``classes[i]``.
        samples: Number of images in total.
        image_size: Height and width in pixels.
        channels: 1 (grayscale) or 3 (RGB).
        noise: Standard deviation of the (uniform, zero-mean) pixel noise, images
            in [0, 1].
        seed: Random seed.

    Returns:
        ``(x, y)``: uint8 images of shape (samples, image_size, image_size,
        channels) and int32 labels of shape (samples,).

    Raises:
        DataError: If an argument is out of range or a class is unknown.

    """
    classes = _check_args(classes, samples, image_size, channels, noise)
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(samples) % len(classes)).astype(np.int32)
    params = _draw_params(rng, samples, image_size, channels)
    coverage = np.empty((samples, image_size, image_size), dtype=_F)
    for label, name in enumerate(classes):
        idx = np.flatnonzero(y == label)
        coverage[idx] = _render(_SHAPES[name], params, idx, image_size)
    return _compose(coverage, params, noise, rng), y


def _compose(coverage, params, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Blend foreground over background by coverage, add noise, quantise to uint8."""
    fg = params["fg"][:, None, None, :] * 255.0
    bg = params["bg"][:, None, None, :] * 255.0
    img = coverage[..., None] * (fg - bg)
    img += bg
    if noise > 0:
        # Uniform noise with the asked standard deviation: as good as Gaussian
        # here, and several times faster to draw.
        half_width = _F(noise * 255.0 * np.sqrt(3.0))
        img += (rng.random(size=img.shape, dtype=_F) * 2 - 1) * half_width
    img += 0.5
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def _check_args(classes, samples, image_size, channels, noise) -> list[str]:
    classes = [str(c) for c in classes]
    unknown = [c for c in classes if c not in _SHAPES]
    if unknown:
        raise DataError(f"unknown shape class {unknown[0]!r}; known: {', '.join(SHAPE_CLASSES)}")
    if len(set(classes)) != len(classes) or len(classes) < 2:
        raise DataError("shapes needs at least 2 different classes, each named once")
    if not 1 <= int(samples) <= 1_000_000:
        raise DataError(f"shapes samples must be between 1 and 1000000, got {samples}")
    if not 8 <= int(image_size) <= 512:
        raise DataError(f"shapes image_size must be between 8 and 512, got {image_size}")
    if channels not in (1, 3):
        raise DataError(f"shapes channels must be 1 or 3, got {channels}")
    if not 0 <= float(noise) <= 1:
        raise DataError(f"shapes noise must be between 0 and 1, got {noise}")
    return classes


def _draw_params(
    rng: np.random.Generator, n: int, size: int, channels: int
) -> dict[str, np.ndarray]:
    """Draw per-image size, position, rotation and colours (same order for every class)."""
    radius = rng.uniform(0.3, 0.45, n) * size
    margin = radius + 0.5
    cx = margin + rng.uniform(0, 1, n) * (size - 2 * margin)
    cy = margin + rng.uniform(0, 1, n) * (size - 2 * margin)
    theta = rng.uniform(0, 2 * np.pi, n)
    fg, bg = _draw_colours(rng, n, channels)
    return {"r": radius, "cx": cx, "cy": cy, "theta": theta, "fg": fg, "bg": bg}


def _draw_colours(rng: np.random.Generator, n: int, channels: int):
    """Return foreground and background colours with a clear brightness difference."""
    dark = rng.uniform(0.0, 0.35, (n, 3))
    light = rng.uniform(0.6, 1.0, (n, 3))
    swap = rng.uniform(size=n) < 0.3
    fg = np.where(swap[:, None], dark, light)
    bg = np.where(swap[:, None], light, dark)
    if channels == 1:
        weights = np.array([0.299, 0.587, 0.114])
        fg, bg = fg @ weights[:, None], bg @ weights[:, None]
    return fg.astype(_F), bg.astype(_F)


def _render(sdf: _Sdf, p: dict[str, np.ndarray], idx: np.ndarray, size: int) -> np.ndarray:
    """Return the anti-aliased coverage (len(idx), size, size) of one shape class."""
    grid = np.arange(size, dtype=_F) + 0.5
    r = p["r"][idx].astype(_F)[:, None, None]
    dx = grid[None, None, :] - p["cx"][idx].astype(_F)[:, None, None]
    dy = grid[None, :, None] - p["cy"][idx].astype(_F)[:, None, None]
    cos = np.cos(p["theta"][idx]).astype(_F)[:, None, None]
    sin = np.sin(p["theta"][idx]).astype(_F)[:, None, None]
    # Image rows grow downwards; flip y so shapes are drawn the usual way up.
    u = (cos * dx - sin * dy) / r
    v = (-sin * dx - cos * dy) / r
    return np.clip(0.5 - sdf(u, v) * r, 0.0, 1.0)
