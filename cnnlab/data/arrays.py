"""Numpy helpers for datasets: class counts, splits, pixel scale, channels, statistics.

The checks of label and image arrays are in :mod:`cnnlab.data.array_checks`.

Pure numpy: importing this module never loads TensorFlow.
"""

from __future__ import annotations

import math

import numpy as np

from cnnlab.errors import DataError

SPLITS = ("train", "val", "test")
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
CHANNEL_WORDS = {1: "grayscale", 3: "RGB"}


def class_counts(y: np.ndarray, num_classes: int) -> np.ndarray:
    """Count the samples of each class, for the class-balance bar chart.

    Args:
        y: Integer class indices.
        num_classes: Number of classes; classes without samples count 0.

    Returns:
        int64 array of length ``num_classes``.

    Raises:
        DataError: If a label is outside ``0 .. num_classes - 1``.

    """
    y = np.asarray(y).reshape(-1)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        bad = int(y.min()) if y.min() < 0 else int(y.max())
        raise DataError(f"label {bad} is outside the classes 0..{num_classes - 1}")
    return np.bincount(y.astype(np.int64), minlength=num_classes).astype(np.int64)


def pixel_scale(x: np.ndarray, normalization: str) -> tuple[float, str | None]:
    """Return the divisor that brings ``x`` to [0, 1] under ``"scale"`` (1.0 otherwise) and a note.

    uint8 and other integer images in 0..255 are divided by 255; float images
    already in [0, 1] are kept; float images in 0..255 are divided by 255.
    """
    if normalization != "scale" or x.size == 0:
        return 1.0, None
    lo, hi = float(x.min()), float(x.max())
    if x.dtype == np.uint8:
        return 255.0, None
    if x.dtype.kind in "iu":
        if lo >= 0 and hi <= 255:
            return 255.0, None
        if lo >= 0 and hi <= 65535:
            return 65535.0, "divided 16-bit pixel values by 65535"
    elif lo >= 0 and hi <= 1:
        return 1.0, None
    elif lo >= 0 and hi <= 255:
        return 255.0, "divided float pixel values in 0..255 by 255"
    return 1.0, f"pixel values span {lo:g}..{hi:g}; left them unscaled"


def channel_plan(have: int, want: int) -> str | None:
    """Return the note for converting ``have`` channels to ``want`` (None if equal).

    Raises:
        DataError: If no conversion exists (only grayscale <-> RGB are done).

    """
    if have == want:
        return None
    if {have, want} != {1, 3}:
        raise DataError(
            f"the data has {have} channel(s) but the model's input takes {want}; "
            "only grayscale (1) <-> RGB (3) conversions are done"
        )
    return (
        f"converted {CHANNEL_WORDS[have]} to {CHANNEL_WORDS[want]} "
        f"to match the model's {want}-channel input"
    )


def convert_channels(x: np.ndarray, want: int) -> np.ndarray:
    """Convert float images (N, H, W, C) between grayscale and RGB (luminance for RGB -> gray)."""
    have = x.shape[-1]
    channel_plan(have, want)
    if have == want:
        return x
    if want == 3:
        return np.repeat(x, 3, axis=-1)
    return (x @ LUMA[:, None]).astype(np.float32)


def stratified_split(
    y: np.ndarray, val_frac: float, test_frac: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split sample indices into train/val/test, class by class, in a seeded random order.

    Each class gives ``round(n * frac)`` samples to validation and test, but
    keeps at least one for training. The returned index arrays are shuffled
    so that any prefix is a random, class-mixed subset.

    Raises:
        DataError: If the fractions leave no training data.

    """
    if val_frac < 0 or test_frac < 0 or val_frac + test_frac >= 1:
        raise DataError(
            f"validation_split ({val_frac:g}) and test_split ({test_frac:g}) must be >= 0 "
            "and leave some data for training"
        )
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_test = min(round(len(idx) * test_frac), max(len(idx) - 1, 0))
        n_val = min(round(len(idx) * val_frac), max(len(idx) - 1 - n_test, 0))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test : n_test + n_val])
        parts[0].append(idx[n_test + n_val :])
    out = [rng.permutation(np.concatenate(p)) if p else np.zeros(0, np.int64) for p in parts]
    return out[0], out[1], out[2]


def cap_splits(
    idx: dict[str, np.ndarray], max_samples: int | None
) -> tuple[dict[str, np.ndarray], str | None]:
    """Cap the training split at ``max_samples``; shrink val and test in proportion.

    The index arrays must be in random order (prefixes are kept).
    """
    n_train = len(idx["train"])
    if max_samples is None or n_train <= max_samples:
        return idx, None
    if max_samples < 1:
        raise DataError(f"max_samples must be at least 1, got {max_samples}")
    factor = max_samples / n_train
    capped = {
        name: arr[: max_samples if name == "train" else math.ceil(len(arr) * factor)]
        for name, arr in idx.items()
    }
    note = (
        f"max_samples: training on {max_samples} of {n_train} samples "
        "(validation and test reduced in proportion)"
    )
    return capped, note


def channel_stats(x: np.ndarray) -> dict[str, list[float]]:
    """Per-channel mean and standard deviation of float images (N, H, W, C)."""
    if len(x) == 0:
        raise DataError("the training split is empty; cannot compute standardization statistics")
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    mean = flat.mean(axis=0)
    std = flat.std(axis=0)
    return stats_dict(mean, std)


def stats_dict(mean: np.ndarray, std: np.ndarray) -> dict[str, list[float]]:
    """Return ``{"mean": [...], "std": [...]}``; a zero std becomes 1 (no division by zero)."""
    std = np.where(std < 1e-8, 1.0, std)
    return {"mean": [float(m) for m in mean], "std": [float(s) for s in std]}
