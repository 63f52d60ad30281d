"""Which split each sample falls into, chosen exactly as :func:`cnnlab.data.load_data` does.

The loader splits class by class with the experiment's seed
(:func:`~cnnlab.data.arrays.stratified_split`), keeps a source's own test set
(npz, keras) and caps the training split at ``data.max_samples``
(:func:`~cnnlab.data.arrays.cap_splits`), so the same seed gives the same
split. Here the same calls are made on the labels alone, without loading or
resizing any image. A sample the cap leaves out is in no split (``""``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnlab.data.arrays import SPLITS, cap_splits, stratified_split

UNUSED = ""


def folder_assignment(labels: np.ndarray, num_classes: int, data: Any, seed: int
                      ) -> np.ndarray:
    """Return the split of each usable image of a folder (labels in the folder's class order).

    As the loader does, classes without images are left out before the split
    (the remaining labels keep their order).
    """
    labels = np.asarray(labels, np.int64)
    present = np.flatnonzero(np.bincount(labels, minlength=num_classes))
    relabel = np.full(num_classes, -1)
    relabel[present] = np.arange(len(present))
    parts = stratified_split(relabel[labels].astype(np.int32), float(data.validation_split),
                             float(data.test_split), seed)
    idx = dict(zip(SPLITS, parts, strict=True))
    return _assign(len(labels), idx, data.max_samples, {name: 0 for name in SPLITS})


def array_assignment(train_labels: np.ndarray, test_count: int | None, data: Any, seed: int
                     ) -> np.ndarray:
    """Return the split of each sample of an array source: its training pool, then its test set.

    Args:
        train_labels: Labels of the source's training pool (``x``/``x_train``).
        test_count: Size of the source's own test set, or None (shapes: no test set).
        data: The spec's data section (``validation_split``, ``test_split``, ``max_samples``).
        seed: The experiment's seed.

    Returns:
        Split names for ``len(train_labels) + (test_count or 0)`` samples, pool order.

    """
    y = np.asarray(train_labels)
    val = float(data.validation_split)
    if test_count is None:
        parts = stratified_split(y, val, float(data.test_split), seed)
        idx = dict(zip(SPLITS, parts, strict=True))
        return _assign(len(y), idx, data.max_samples, {name: 0 for name in SPLITS})
    train, val_idx, _ = stratified_split(y, val, 0.0, seed)
    test = np.random.default_rng(seed).permutation(test_count)
    idx = {"train": train, "val": val_idx, "test": test}
    offsets = {"train": 0, "val": 0, "test": len(y)}
    return _assign(len(y) + test_count, idx, data.max_samples, offsets)


def _assign(count: int, idx: dict[str, np.ndarray], max_samples, offsets: dict[str, int]
            ) -> np.ndarray:
    """Name each sample's split (cap applied as the loader does); ``offsets`` place the pools."""
    idx, _ = cap_splits(idx, max_samples)
    out = np.full(count, UNUSED, dtype=object)
    for name in SPLITS:
        out[np.asarray(idx[name], np.int64) + offsets[name]] = name
    return out
