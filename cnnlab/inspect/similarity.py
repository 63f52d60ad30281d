"""Similarity of two attribution maps: rank correlation, Pearson, global SSIM."""

from __future__ import annotations

import numpy as np

from cnnlab.inspect.errors import InspectError
from cnnlab.inspect.scaling import to_unit


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    if a.shape != b.shape:
        raise InspectError(f"Cannot compare maps of {a.size} and {b.size} values")
    return a, b


def ranks(values: np.ndarray) -> np.ndarray:
    """Return 1-based ranks of a 1-D array, ties sharing their average rank."""
    v = np.asarray(values, np.float64).ravel()
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    ends = np.r_[starts[1:], len(v)]
    avg = (starts + ends + 1) / 2.0  # mean of the 1-based ranks start+1..end
    out = np.empty(len(v), np.float64)
    out[order] = np.repeat(avg, ends - starts)
    return out


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Return the Pearson correlation of two maps (0 when either is constant)."""
    a, b = _pair(a, b)
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def spearman(a: np.ndarray, b: np.ndarray, absolute: bool = True) -> float:
    """Return the Spearman rank correlation of two maps (of absolute values by default)."""
    a, b = _pair(a, b)
    if absolute:
        a, b = np.abs(a), np.abs(b)
    return pearson(ranks(a), ranks(b))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Return a global SSIM of two maps after scaling each to 0..1 (1 = identical)."""
    a, b = _pair(a, b)
    a, b = to_unit(a).astype(np.float64), to_unit(b).astype(np.float64)
    c1, c2 = 0.01**2, 0.03**2
    ma, mb = a.mean(), b.mean()
    cov = ((a - ma) * (b - mb)).mean()
    num = (2 * ma * mb + c1) * (2 * cov + c2)
    return float(num / ((ma**2 + mb**2 + c1) * (a.var() + b.var() + c2)))
