"""Independent arithmetic for the matrix's checks: losses, penalties, accuracies, layer wiring.

Everything here is numpy over what a run saved (``model.keras``, the data
split), so a check compares the lab's logged numbers with a computation that
does not go through the lab's recipe code.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def predict(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's outputs in inference mode, float64."""
    return np.asarray(model.predict(x, verbose=0, batch_size=64), dtype=np.float64)


def cross_entropy(p: np.ndarray, y: np.ndarray, smoothing: float = 0.0) -> float:
    """Mean categorical cross-entropy of probabilities ``p`` for class indices ``y``."""
    k = p.shape[-1]
    target = np.eye(k)[y.reshape(-1)] * (1 - smoothing) + smoothing / k
    return float(np.mean(-np.sum(target * np.log(np.clip(p, 1e-7, 1.0)), axis=-1)))


def squared_hinge(scores: np.ndarray, y: np.ndarray) -> float:
    """Mean squared hinge of class scores against one-hot labels in +-1."""
    target = 2.0 * np.eye(scores.shape[-1])[y.reshape(-1)] - 1.0
    return float(np.mean(np.mean(np.maximum(1.0 - target * scores, 0.0) ** 2, axis=-1)))


def top_k_accuracy(p: np.ndarray, y: np.ndarray, k: int) -> float:
    """Fraction of samples whose class is among the k highest outputs."""
    top = np.argsort(-p, axis=-1)[:, :k]
    return float(np.mean([label in row for label, row in zip(y.reshape(-1), top, strict=True)]))


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples whose arg-max is the class."""
    return float(np.mean(np.argmax(p, axis=-1) == y.reshape(-1)))


def _penalty(regularizer: Any, w: np.ndarray) -> float:
    if regularizer is None:
        return 0.0
    cfg = regularizer.get_config()
    w = np.asarray(w, dtype=np.float64)
    return float(cfg.get("l1", 0.0) * np.sum(np.abs(w)) + cfg.get("l2", 0.0) * np.sum(w * w))


def weight_penalty(model: Any) -> float:
    """The L1/L2 weight penalties the saved model's layers declare, on their weights."""
    total = 0.0
    for layer in model.layers:
        for attr in ("kernel", "depthwise_kernel", "pointwise_kernel", "bias"):
            reg = getattr(layer, f"{attr}_regularizer", None)
            var = getattr(layer, attr, None)
            if reg is not None and var is not None:
                total += _penalty(reg, var.numpy())
    return total


def regularized_layers(model: Any, attr: str) -> dict[str, dict]:
    """Layer name -> the config of its ``attr`` (e.g. ``kernel_regularizer``), where set."""
    out = {}
    for layer in model.layers:
        value = getattr(layer, attr, None)
        if value is not None:
            out[layer.name] = {"class": type(value).__name__, **value.get_config()}
    return out


def inbound(model: Any, name: str) -> list[str]:
    """Names of the layers feeding layer ``name`` (from the saved functional config)."""
    for cfg in model.get_config()["layers"]:
        if cfg["name"] != name:
            continue
        found: list[str] = []
        _collect_history(cfg["inbound_nodes"], found)
        return found
    raise KeyError(name)


def _collect_history(obj: Any, found: list[str]) -> None:
    if isinstance(obj, dict):
        history = obj.get("config", {}).get("keras_history") if "config" in obj else None
        if isinstance(history, (list, tuple)) and history:
            found.append(history[0])
            return
        for value in obj.values():
            _collect_history(value, found)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _collect_history(value, found)


def close(a: float, b: float, rel: float = 2e-5, abs_: float = 2e-6) -> bool:
    """Float comparison for logged float32 numbers."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def kernel_norms(kernel: np.ndarray) -> np.ndarray:
    """Norm of each unit's incoming weights (all axes but the last, Keras's MaxNorm default)."""
    k = np.asarray(kernel, dtype=np.float64)
    return np.sqrt(np.sum(k * k, axis=tuple(range(k.ndim - 1))))
